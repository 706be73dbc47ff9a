/* latex: the out-of-line part of the LaTeX token scanner (latex.h holds the
 * per-byte helpers inline). A name list and a brace group are walked once
 * per command or group, not per byte, so a call is cheap here. */
#include "answers/latex.h"

int latex_name_in(const char *s, size_t len, const char *const *names)
{
    for (; *names; names++)
        if (latex_name_is(s, len, *names))
            return 1;
    return 0;
}

size_t latex_group_end(const char *s, size_t n, size_t i)
{
    int depth = 0;
    for (; i < n; i++) {
        if (s[i] == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (s[i] == '{')
            depth++;
        else if (s[i] == '}' && --depth == 0)
            return i + 1;
    }
    return 0;
}
