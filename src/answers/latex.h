/* latex: the one scanner of LaTeX tokens that the answer code shares
 * (mathnorm's rewriting passes, mathexpr's parser, mathequiv's structure
 * reader, extract's \boxed reader), so that all of them agree on what a
 * command is and where a brace group ends.
 *
 * Tokens: a command "\name" is a backslash and a run of ASCII letters (the
 * letters only: not the process locale's isalpha, so a byte >= 0x80 never
 * extends a name); a control symbol "\x" is a backslash and any other byte;
 * anything else is one byte. Every function reads s[0..n), needs no NUL
 * terminator and never reads outside it.
 *
 * The small ones are inline: mathequiv and mathnorm call them once per byte
 * of every answer they compare, and a call per byte costs measurably there. */
#ifndef SLMMUX_LATEX_H
#define SLMMUX_LATEX_H
#include <stddef.h>
#include <string.h>

static inline int latex_is_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Letters of the command at s[i] ("\frac" -> 4); 0 when s[i] is not a
 * backslash or a control symbol or the end of input follows it. */
static inline size_t latex_cmd_len(const char *s, size_t n, size_t i)
{
    if (i >= n || s[i] != '\\')
        return 0;
    size_t k = i + 1;
    while (k < n && latex_is_letter(s[k]))
        k++;
    return k - i - 1;
}

/* Bytes of the token at s[i] (i < n): 1 + letters for a command, 2 for a
 * control symbol ("\{", "\\", "\,"), else 1 (also for a final lone '\'). */
static inline size_t latex_token_len(const char *s, size_t n, size_t i)
{
    if (s[i] != '\\' || i + 1 >= n)
        return 1;
    size_t L = latex_cmd_len(s, n, i);
    return L ? 1 + L : 2;
}

/* s[0..len) is exactly the NUL-terminated name. */
static inline int latex_name_is(const char *s, size_t len, const char *name)
{
    return strlen(name) == len && memcmp(s, name, len) == 0;
}

/* The command at s[i] is \name, whole ("\in" is not "\infty"); name is
 * letters only. Compared first and measured after, so that a command that
 * is not name costs a byte or two, not a walk over its letters. */
static inline int latex_cmd_is(const char *s, size_t n, size_t i, const char *name)
{
    size_t L = strlen(name);
    return i < n && s[i] == '\\' && n - i - 1 >= L && memcmp(s + i + 1, name, L) == 0 &&
           (n - i - 1 == L || !latex_is_letter(s[i + 1 + L]));
}

/* The index of the first byte at or after i that is not a space (' ' only:
 * the normalizer has turned tabs and line breaks into spaces by then). */
static inline size_t latex_skip_spaces(const char *s, size_t n, size_t i)
{
    while (i < n && s[i] == ' ')
        i++;
    return i;
}

/* s[0..len) is one of the names of a NULL-terminated list. */
int latex_name_in(const char *s, size_t len, const char *const *names);

/* The index just after the '}' that closes the group opened by s[i] == '{',
 * counting nested groups and taking control symbols (\{ \} \\) as text; 0
 * when the group never closes. */
size_t latex_group_end(const char *s, size_t n, size_t i);

#endif
