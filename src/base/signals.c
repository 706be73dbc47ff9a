/* signals: a self-pipe for SIGINT and SIGTERM. See signals.h. */
#include "base/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

static int signals_pipe[2] = {-1, -1};
static signals_cb signals_fn;
static void *signals_ud;
static const int signals_caught[] = {SIGINT, SIGTERM};

static void signals_handler(int signo)
{
    int saved = errno;
    unsigned char b = (unsigned char)signo;
    /* Non-blocking: a full pipe already holds a wake-up, and losing a
     * third signal in a row changes nothing. */
    ssize_t ignored = write(signals_pipe[1], &b, 1);
    (void)ignored;
    errno = saved;
}

static void signals_on_read(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    (void)events;
    (void)ud;
    unsigned char got[16];
    ssize_t n = read(fd, got, sizeof got);
    for (ssize_t i = 0; i < n; i++)
        signals_fn(got[i], signals_ud);
}

int signals_watch(loop_t *loop, signals_cb cb, void *ud)
{
    if (signals_pipe[0] >= 0) {
        errno = EBUSY;
        return -1;
    }
    if (pipe2(signals_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
        return -1;
    signals_fn = cb;
    signals_ud = ud;
    if (loop_fd_watch(loop, signals_pipe[0], LOOP_READ | LOOP_BACKGROUND, signals_on_read, NULL) < 0) {
        int saved = errno;
        close(signals_pipe[0]);
        close(signals_pipe[1]);
        signals_pipe[0] = signals_pipe[1] = -1;
        errno = saved;
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signals_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals_caught / sizeof *signals_caught; i++)
        sigaction(signals_caught[i], &sa, NULL);
    return 0;
}

void signals_unwatch(loop_t *loop)
{
    if (signals_pipe[0] < 0)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof signals_caught / sizeof *signals_caught; i++)
        sigaction(signals_caught[i], &sa, NULL);
    loop_fd_unwatch(loop, signals_pipe[0]);
    close(signals_pipe[0]);
    close(signals_pipe[1]);
    signals_pipe[0] = signals_pipe[1] = -1;
}
