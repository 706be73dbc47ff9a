/* exec: what the program is started with, prepared in the parent so that
 * the forked child only makes system calls: argv and envp as owned string
 * vectors, the fixed environment, and the executable's path. */
#include "sandbox/internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void exec_args_add(exec_args *s, const char *str)
{
    if (s->oom)
        return;
    if (s->n + 2 > s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        char **p = realloc(s->v, (size_t)cap * sizeof *p);
        if (!p) {
            s->oom = 1;
            return;
        }
        s->v = p;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str))) {
        s->oom = 1;
        return;
    }
    s->v[++s->n] = NULL;
}

/* a formatted string; one longer than a path counts as a failure */
void exec_args_addf(exec_args *s, const char *fmt, ...)
{
    char tmp[PATH_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        s->oom = 1;
    else
        exec_args_add(s, tmp);
}

void exec_args_free(exec_args *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (exec_args){0};
}

/* Nothing of the host's: no key, no PATH of the user's, no proxy settings.
 * Bytecode writes are off because the program's directory is read-only
 * under bwrap. */
void exec_env(exec_args *e, const char *home)
{
    exec_args_add(e, "PATH=/usr/bin:/bin");
    exec_args_addf(e, "HOME=%s", home);
    exec_args_addf(e, "TMPDIR=%s", home);
    exec_args_add(e, "LANG=C.UTF-8");
    exec_args_add(e, "PYTHONDONTWRITEBYTECODE=1");
}

/* argv[0] looked up in /usr/bin and /bin only: the host's PATH may point at
 * a user's pyenv shim or virtualenv, which the sandbox cannot see. */
int exec_resolve(const char *name, char *out, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK);
    }
    static const char *const dirs[] = {"/usr/bin", "/bin"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, n, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}
