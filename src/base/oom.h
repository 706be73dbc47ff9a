/* oom: the one way slmmux fails on an allocation it cannot do without.
 *
 * Where a caller can report an allocation failure and carry on (a reply
 * too large to keep, a buffer that may grow large), it checks malloc's
 * result itself. Everywhere else — small, bounded allocations whose
 * failure leaves no sensible state to return to — it calls these: on
 * failure they print "slmmux: out of memory (N bytes)" to stderr and
 * abort(). Samples are committed to the store at least every 100 ms, so
 * an abort loses at most what arrived since the last commit. */
#ifndef SLMMUX_OOM_H
#define SLMMUX_OOM_H
#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* n bytes of p, followed by a NUL not counted in n (p may hold NULs). */
char *xmemdup(const void *p, size_t n);

/* Report and abort: for allocators that are not malloc (curl, SQLite). */
_Noreturn void oom_abort(size_t n);

#endif
