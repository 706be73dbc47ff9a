/* loop: the single-threaded event loop (epoll + timers + deferred calls).
 *
 * Everything asynchronous in slmmux is an event of this loop: curl sockets,
 * sandbox pipes and pidfds, retry/backoff and sleep timers. Callbacks run on
 * the loop's thread; none may block. The loop knows nothing of Lua. */
#ifndef SLMMUX_LOOP_H
#define SLMMUX_LOOP_H
#include <stdint.h>

typedef struct loop loop_t;

/* LOOP_BACKGROUND: the fd alone does not count in loop_pending (a signal
 * pipe is always watched, yet nothing may wait for it forever). */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_BACKGROUND = 4 };

typedef void (*loop_fd_cb)(loop_t *loop, int fd, unsigned events, void *ud);
typedef void (*loop_timer_cb)(loop_t *loop, void *ud);

loop_t *loop_new(void);
void loop_free(loop_t *loop);

/* Watch fd for LOOP_READ and/or LOOP_WRITE (level-triggered). Calling again
 * for a watched fd changes its events and callback. 0 on success, -1 errno. */
int loop_fd_watch(loop_t *loop, int fd, unsigned events, loop_fd_cb cb, void *ud);
/* Stop watching fd (before closing it). Safe to call from inside its callback. */
void loop_fd_unwatch(loop_t *loop, int fd);

/* One-shot timer after delay_ms (0 = on the next turn). Returns an id > 0,
 * or 0 when out of memory. */
uint64_t loop_timer_add(loop_t *loop, double delay_ms, loop_timer_cb cb, void *ud);
/* Cancel a pending timer; unknown or already fired ids are ignored. */
void loop_timer_cancel(loop_t *loop, uint64_t id);

/* Monotonic milliseconds since an arbitrary origin. */
double loop_now_ms(void);

/* Run one turn: wait for events (at most until the next timer; not at all
 * if nonblocking) and dispatch them. Returns the number of callbacks run. */
int loop_run_once(loop_t *loop, int nonblocking);

/* Watched fds (but LOOP_BACKGROUND ones) + pending timers: 0 means nothing
 * but a background fd could ever wake the loop. */
int loop_pending(const loop_t *loop);

#endif
