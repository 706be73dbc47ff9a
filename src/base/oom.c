#include "base/oom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void oom_abort(size_t n)
{
    /* stdio may itself need memory; a fixed message through fputs is the
     * best that can be done, and abort() leaves no core (RLIMIT_CORE). */
    char msg[64];
    snprintf(msg, sizeof msg, "slmmux: out of memory (%zu bytes)\n", n);
    fputs(msg, stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom_abort(n);
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom_abort(count * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom_abort(n);
    return q;
}

char *xmemdup(const void *p, size_t n)
{
    char *q = xmalloc(n + 1);
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s));
}
