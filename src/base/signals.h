/* signals: SIGINT and SIGTERM as events of the loop.
 *
 * The handler only writes the signal's number to a pipe; the loop reads it
 * and calls cb on its own thread, between events, where stopping work,
 * committing the store or exiting is safe. A handler (not a blocked mask
 * and signalfd) because children inherit a mask: a blocked SIGTERM would
 * outlive exec in every program started with io.popen or os.execute. */
#ifndef SLMMUX_SIGNALS_H
#define SLMMUX_SIGNALS_H
#include "base/loop.h"

typedef void (*signals_cb)(int signo, void *ud);

/* Installs the handlers and watches the pipe (LOOP_BACKGROUND: it keeps no
 * run alive). One watcher per process. 0, or -1 with errno. */
int signals_watch(loop_t *loop, signals_cb cb, void *ud);

/* Restores the default actions and closes the pipe. */
void signals_unwatch(loop_t *loop);

#endif
