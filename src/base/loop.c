/* loop: epoll for fds, a binary min-heap for timers. Level-triggered epoll
 * keeps the curl integration simple (curl tells us which events it wants;
 * we re-arm nothing by hand). */
#include "base/loop.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct fd_watch {
    loop_fd_cb cb;
    void *ud;
    unsigned events;        /* 0 = not watched */
} fd_watch;

typedef struct timer {
    double due_ms;
    uint64_t id;            /* also the tie-breaker: equal deadlines fire in order added */
    loop_timer_cb cb;
    void *ud;
} timer;

struct loop {
    int epfd;
    fd_watch *fds;          /* indexed by fd */
    int nfds_cap;
    int nwatched;
    int nbackground;        /* of those, LOOP_BACKGROUND */
    timer *heap;
    size_t ntimers, heap_cap;
    uint64_t next_id;
};

double loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

loop_t *loop_new(void)
{
    loop_t *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        free(l);
        return NULL;
    }
    l->next_id = 1;
    return l;
}

void loop_free(loop_t *l)
{
    if (!l)
        return;
    close(l->epfd);
    free(l->fds);
    free(l->heap);
    free(l);
}

static int fds_grow(loop_t *l, int fd)
{
    if (fd < l->nfds_cap)
        return 0;
    int cap = l->nfds_cap ? l->nfds_cap : 256;
    while (cap <= fd)
        cap *= 2;
    fd_watch *p = realloc(l->fds, (size_t)cap * sizeof *p);
    if (!p)
        return -1;
    memset(p + l->nfds_cap, 0, (size_t)(cap - l->nfds_cap) * sizeof *p);
    l->fds = p;
    l->nfds_cap = cap;
    return 0;
}

int loop_fd_watch(loop_t *l, int fd, unsigned events, loop_fd_cb cb, void *ud)
{
    if (fd < 0 || fds_grow(l, fd) < 0) {
        errno = fd < 0 ? EBADF : ENOMEM;
        return -1;
    }
    struct epoll_event ev = {0};
    ev.events = (events & LOOP_READ ? EPOLLIN : 0) | (events & LOOP_WRITE ? EPOLLOUT : 0);
    ev.data.fd = fd;
    int op = l->fds[fd].events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
        return -1;
    if (!l->fds[fd].events)
        l->nwatched++;
    else if (l->fds[fd].events & LOOP_BACKGROUND)
        l->nbackground--;
    if (events & LOOP_BACKGROUND)
        l->nbackground++;
    /* events == 0 still counts as watched (registered with epoll, no interest) */
    l->fds[fd] = (fd_watch){cb, ud, events | 0x100u};
    return 0;
}

void loop_fd_unwatch(loop_t *l, int fd)
{
    if (fd < 0 || fd >= l->nfds_cap || !l->fds[fd].events)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    if (l->fds[fd].events & LOOP_BACKGROUND)
        l->nbackground--;
    l->fds[fd].events = 0;
    l->fds[fd].cb = NULL;
    l->nwatched--;
}

static int timer_before(const timer *a, const timer *b)
{
    return a->due_ms < b->due_ms || (a->due_ms == b->due_ms && a->id < b->id);
}

static void heap_up(timer *h, size_t i)
{
    timer t = h[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_before(&t, &h[parent]))
            break;
        h[i] = h[parent];
        i = parent;
    }
    h[i] = t;
}

static void heap_down(timer *h, size_t n, size_t i)
{
    timer t = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && timer_before(&h[c + 1], &h[c]))
            c++;
        if (!timer_before(&h[c], &t))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = t;
}

uint64_t loop_timer_add(loop_t *l, double delay_ms, loop_timer_cb cb, void *ud)
{
    if (l->ntimers == l->heap_cap) {
        size_t cap = l->heap_cap ? l->heap_cap * 2 : 64;
        timer *p = realloc(l->heap, cap * sizeof *p);
        if (!p)
            return 0;
        l->heap = p;
        l->heap_cap = cap;
    }
    if (!(delay_ms > 0))        /* also catches NaN */
        delay_ms = 0;
    timer t = {loop_now_ms() + delay_ms, l->next_id++, cb, ud};
    l->heap[l->ntimers] = t;
    heap_up(l->heap, l->ntimers++);
    return t.id;
}

/* Linear: cancellations are rare (a task killed while asleep), additions and
 * expiries are the hot path and stay O(log n). */
void loop_timer_cancel(loop_t *l, uint64_t id)
{
    for (size_t i = 0; i < l->ntimers; i++) {
        if (l->heap[i].id != id)
            continue;
        l->heap[i] = l->heap[--l->ntimers];
        if (i < l->ntimers) {
            heap_down(l->heap, l->ntimers, i);
            heap_up(l->heap, i);
        }
        return;
    }
}

int loop_pending(const loop_t *l)
{
    return l->nwatched - l->nbackground + (int)l->ntimers;
}

static int run_due_timers(loop_t *l)
{
    int ran = 0;
    double now = loop_now_ms();
    /* Only timers due now: one added by a callback with delay 0 waits for the
     * next turn, so a task that sleeps(0) in a loop cannot starve the fds. */
    uint64_t last_id = l->next_id;
    while (l->ntimers && l->heap[0].due_ms <= now && l->heap[0].id < last_id) {
        timer t = l->heap[0];
        l->heap[0] = l->heap[--l->ntimers];
        if (l->ntimers)
            heap_down(l->heap, l->ntimers, 0);
        t.cb(l, t.ud);
        ran++;
    }
    return ran;
}

int loop_run_once(loop_t *l, int nonblocking)
{
    int timeout = -1;
    if (nonblocking) {
        timeout = 0;
    } else if (l->ntimers) {
        double wait = l->heap[0].due_ms - loop_now_ms();
        timeout = wait <= 0 ? 0 : (int)ceil(wait);
    }
    struct epoll_event evs[256];
    int n = epoll_wait(l->epfd, evs, 256, timeout);
    if (n < 0 && errno != EINTR)
        return -1;
    int ran = 0;
    for (int i = 0; i < n; i++) {
        int fd = evs[i].data.fd;
        /* an earlier callback in this batch may have unwatched this fd */
        if (fd >= l->nfds_cap || !l->fds[fd].events || !l->fds[fd].cb)
            continue;
        unsigned ev = 0;
        if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
            ev |= LOOP_READ;
        if (evs[i].events & (EPOLLOUT | EPOLLERR))
            ev |= LOOP_WRITE;
        l->fds[fd].cb(l, fd, ev, l->fds[fd].ud);
        ran++;
    }
    return ran + run_due_timers(l);
}
