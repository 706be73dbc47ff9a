/* mathnorm: the canonical form of a MATH answer, as a pipeline of small
 * passes (listed in mathnorm.h), each reading one buffer and writing the
 * next. Separate passes cost a copy each, but each rule can then assume the
 * earlier ones ran (by pass 5, \dfrac is \frac and the spaces are gone),
 * which keeps every rule a few lines long. The LaTeX tokens are those of
 * latex.h, shared with the parser and the structure reader. */
#include "answers/mathnorm.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "answers/latex.h"
#include "base/buf.h"

#define ISDIG(c) ((c) >= '0' && (c) <= '9')
#define ISALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))

typedef int (*pass_fn)(const char *s, size_t n, buf_t *o, int flags);

static int starts(const char *s, size_t n, size_t i, const char *lit)
{
    size_t L = strlen(lit);
    return i + L <= n && memcmp(s + i, lit, L) == 0;
}

/* s is one whole {group} */
static int whole_group(const char *s, size_t n)
{
    return n >= 2 && s[0] == '{' && latex_group_end(s, n, 0) == n;
}

/* ---- 1. thousands separators ---- */

/* One separator then a group of exactly three digits at s[i]; returns the
 * index after the group or 0. *plain = 1 for a bare comma. */
static size_t thousands_group(const char *s, size_t n, size_t i, int *plain)
{
    size_t k = i;
    *plain = 0;
    if (starts(s, n, k, "{,}"))
        k += 3;
    else if (starts(s, n, k, "\\,"))
        k += 2;     /* a thin space, the SI separator: pass 2 would make it a space */
    else if (starts(s, n, k, ",\\!")) {
        k += 3;
        k = latex_skip_spaces(s, n, k);
    } else if (k < n && s[k] == ',') {
        k++;
        *plain = 1;
    } else
        return 0;
    for (int d = 0; d < 3; d++, k++)
        if (k >= n || !ISDIG(s[k]))
            return 0;
    if (k < n && ISDIG(s[k]))
        return 0;
    return k;
}

/* The end of a thousands-separated number starting at s[i], or 0. */
static size_t thousands_run(const char *s, size_t n, size_t i, int depth)
{
    size_t k = i;
    if (!ISDIG(s[k]) || s[k] == '0')
        return 0;
    while (k < n && ISDIG(s[k]) && k - i < 4)
        k++;
    if (k - i > 3)
        return 0;
    int groups = 0, any_plain = 0, plain;
    size_t next;
    while ((next = thousands_group(s, n, k, &plain))) {
        if (plain && depth > 0)
            break;
        any_plain |= plain;
        groups++;
        k = next;
    }
    if (!groups)
        return 0;
    /* "1,000,5" is a list, not a number followed by junk */
    if (any_plain && k + 1 < n && s[k] == ',' && ISDIG(s[k + 1]))
        return 0;
    return k;
}

static int pass_thousands(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    int depth = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '(' || c == '[' || c == '{')
            depth++;
        else if ((c == ')' || c == ']' || c == '}') && depth > 0)
            depth--;
        size_t end;
        int boundary = i == 0 || !(ISDIG(s[i - 1]) || s[i - 1] == '.' || s[i - 1] == ',' ||
                                   s[i - 1] == '_' || s[i - 1] == '^' || ISALPHA(s[i - 1]));
        if (ISDIG(c) && boundary && (end = thousands_run(s, n, i, depth))) {
            for (; i < end; i++)
                if (ISDIG(s[i]) && buf_putc(o, s[i]) < 0)
                    return -1;
            continue;
        }
        if (buf_putc(o, c) < 0)
            return -1;
        i++;
    }
    return 0;
}

/* ---- 2. commands and symbols ---- */

static const struct { const char *utf8, *latex; } unicode[] = {
    {"\xe2\x88\x92", "-"}, {"\xe2\x80\x93", "-"}, {"\xc3\x97", "\\times "},
    {"\xc2\xb7", "\\cdot "}, {"\xc3\xb7", "\\div "}, {"\xcf\x80", "\\pi "},
    {"\xe2\x88\x9a", "\\sqrt"}, {"\xe2\x89\xa4", "\\le "}, {"\xe2\x89\xa5", "\\ge "},
    {"\xe2\x89\xa0", "\\ne "}, {"\xc2\xb0", ""}, {"\xe2\x88\x9e", "\\infty "},
    {"\xe2\x88\xaa", "\\cup "}, {"\xc2\xb1", "\\pm "}, {"\xe2\x88\x85", "\\emptyset "},
    {"\xe2\x88\x88", "\\in "}, {"\xc2\xa0", " "}, {"\xe2\x80\x89", " "},
    {"\xe2\x80\xaf", " "}, {"\xe2\x80\x8a", " "}, {"\xe2\x80\x88", " "},
};

static const struct { const char *from, *to; } renames[] = {
    {"dfrac", "\\frac"}, {"tfrac", "\\frac"}, {"cfrac", "\\frac"},
    {"dbinom", "\\binom"}, {"tbinom", "\\binom"},
    {"leq", "\\le"}, {"leqslant", "\\le"}, {"geq", "\\ge"}, {"geqslant", "\\ge"},
    {"neq", "\\ne"}, {"lt", "<"}, {"gt", ">"}, {"ast", "\\cdot "},
    {"infin", "\\infty"}, {"infinity", "\\infty"}, {"varnothing", "\\emptyset"},
    {"lvert", "|"}, {"rvert", "|"}, {"vert", "|"}, {"lbrace", "\\{"}, {"rbrace", "\\}"},
    {"mathbf", "\\text"}, {"mathrm", "\\text"}, {"textbf", "\\text"}, {"textit", "\\text"},
    {"mathit", "\\text"}, {"textrm", "\\text"}, {"mbox", "\\text"}, {"hbox", "\\text"},
    {"textnormal", "\\text"}, {"operatorname", "\\text"}, {"boldsymbol", "\\text"},
    {"mathsf", "\\text"}, {"textup", "\\text"}, {"texttt", "\\text"}, {"textsf", "\\text"},
    {"quad", " "}, {"qquad", " "}, {"circ", ""}, {"degree", ""}, {"degrees", ""},
};

static const char *const dropped[] = {
    "left", "right", "bigl", "bigr", "Bigl", "Bigr", "big", "Big", "bigg", "Bigg",
    "biggl", "biggr", "displaystyle", "textstyle", "scriptstyle", "limits", "boxed", "fbox", NULL};

static const char *const matrices[] = {"pmatrix", "bmatrix", "Bmatrix", "matrix", "smallmatrix", NULL};

/* "^\circ", "^{\circ}", "^{ \circ }" at s[i] == '^': index after it, or 0 */
static size_t degree_at(const char *s, size_t n, size_t i)
{
    size_t k = latex_skip_spaces(s, n, i + 1);
    int brace = k < n && s[k] == '{';
    if (brace)
        k++;
    k = latex_skip_spaces(s, n, k);
    if (!latex_cmd_is(s, n, k, "circ"))
        return 0;
    k += 5;
    k = latex_skip_spaces(s, n, k);
    if (brace) {
        if (k >= n || s[k] != '}')
            return 0;
        k++;
    }
    return k;
}

static int pass_commands(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k;
            for (k = 0; k < sizeof unicode / sizeof *unicode; k++)
                if (starts(s, n, i, unicode[k].utf8))
                    break;
            if (k < sizeof unicode / sizeof *unicode) {
                if (buf_puts(o, unicode[k].latex) < 0)
                    return -1;
                i += strlen(unicode[k].utf8);
                continue;
            }
        }
        if (c == '$') {
            i++;
            continue;
        }
        if (c == '\t' || c == '\n' || c == '\r' || c == '~') {
            if (buf_putc(o, ' ') < 0)
                return -1;
            i++;
            continue;
        }
        if (c == '*') {
            if (buf_puts(o, "\\cdot ") < 0)
                return -1;
            i++;
            continue;
        }
        /* ASCII relations, read before the spaces go: "5! = 120" is no "!=" */
        if ((c == '<' || c == '>' || c == '!') && i + 1 < n && s[i + 1] == '=') {
            if (buf_puts(o, c == '<' ? "\\le " : c == '>' ? "\\ge " : "\\ne ") < 0)
                return -1;
            i += 2;
            continue;
        }
        size_t deg;
        if (c == '^' && (deg = degree_at(s, n, i))) {
            i = deg;
            continue;
        }
        if (c != '\\' || i + 1 >= n) {
            if (buf_putc(o, (char)c) < 0)
                return -1;
            i++;
            continue;
        }
        size_t L = latex_cmd_len(s, n, i);
        const char *name = s + i + 1;
        if (L == 0) {
            char d = s[i + 1];
            i += 2;
            if (d == '%') {
                if (buf_putc(o, '%') < 0)
                    return -1;
            } else if (d == '!' || d == ',' || d == ';' || d == ':' || d == ' ') {
                if (buf_putc(o, ' ') < 0)
                    return -1;
            } else if (d == '$' || d == '(' || d == ')' || d == '[' || d == ']') {
                /* currency sign and math delimiters carry no value */
            } else if (buf_putc(o, '\\') < 0 || buf_putc(o, d) < 0)
                return -1;
            continue;
        }
        i += 1 + L;
        if (latex_name_in(name, L, dropped)) {
            if ((latex_name_is(name, L, "left") || latex_name_is(name, L, "right")) && i < n && s[i] == '.')
                i++;
            continue;
        }
        if ((latex_name_is(name, L, "begin") || latex_name_is(name, L, "end")) && i < n && s[i] == '{') {
            size_t e = latex_group_end(s, n, i);
            e = e ? e : n;      /* unclosed: the rest of the input */
            int array = e - i >= 2 && latex_name_is(s + i + 1, e - i - 2, "array");
            if (array || (e - i >= 2 && latex_name_in(s + i + 1, e - i - 2, matrices))) {
                if (buf_puts(o, latex_name_is(name, L, "begin") ? "\\begin{pmatrix}" : "\\end{pmatrix}") < 0)
                    return -1;
                i = e;
                /* an array's column spec ({cc}, {c|c}) holds no cell */
                if (array && latex_name_is(name, L, "begin") && i < n && s[i] == '{') {
                    size_t spec = latex_group_end(s, n, i);
                    i = spec ? spec : i;
                }
                continue;
            }
        }
        size_t k;
        for (k = 0; k < sizeof renames / sizeof *renames; k++)
            if (latex_name_is(name, L, renames[k].from))
                break;
        if (k < sizeof renames / sizeof *renames) {
            if (buf_puts(o, renames[k].to) < 0)
                return -1;
        } else if (buf_append(o, name - 1, L + 1) < 0)
            return -1;
    }
    return 0;
}

/* ---- 3. \text{...} and units ---- */

static int unit_like(const char *s, size_t n)
{
    size_t i = 0;
    i = latex_skip_spaces(s, n, i);
    if (i >= n || !ISALPHA(s[i]))
        return 0;
    for (; i < n; i++)
        if (!(ISALPHA(s[i]) || s[i] == ' ' || s[i] == '.' || s[i] == '-' || s[i] == '/' ||
              s[i] == '^' || ISDIG(s[i])))
            return 0;
    return 1;
}

/* after an optional ^2 / ^{2}: index where the element ends (end of input,
 * ',', ')', ']', '&', "\\", "\}"), or 0 when something else follows */
static size_t unit_tail(const char *s, size_t n, size_t i)
{
    i = latex_skip_spaces(s, n, i);
    if (i < n && s[i] == '^') {
        size_t k = i + 1;
        if (k < n && ISDIG(s[k]))
            i = k + 1;
        else if (k + 2 < n && s[k] == '{' && ISDIG(s[k + 1]) && s[k + 2] == '}')
            i = k + 3;
    }
    size_t k = latex_skip_spaces(s, n, i);
    if (k >= n || s[k] == ',' || s[k] == ')' || s[k] == ']' || s[k] == '&' ||
        starts(s, n, k, "\\\\") || starts(s, n, k, "\\}"))
        return i ? i : 1;
    return 0;
}

static int ends_value(const buf_t *o)
{
    size_t k = o->len;
    while (k > 0 && o->data[k - 1] == ' ')
        k--;
    if (k == 0)
        return 0;
    char c = o->data[k - 1];
    return ISDIG(c) || ISALPHA(c) || c == '}' || c == ')' || c == ']' || c == '!' || c == '%';
}

static int connector(const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    return latex_name_is(s, n, "and") || latex_name_is(s, n, "or") || latex_name_is(s, n, ",") ||
           latex_name_is(s, n, "and/or");
}

/* A list separator in place of "and", "or" or ';': ", ", one comma however
 * many of them meet ("2, and 3"), none before the first element. The space
 * goes to pass 4, which keeps it where "32, 349" needs it. */
static int put_list_sep(buf_t *o)
{
    while (o->len && o->data[o->len - 1] == ' ')
        o->len--;
    if (!o->len)
        return 0;
    return o->data[o->len - 1] == ',' ? buf_putc(o, ' ') : buf_puts(o, ", ");
}

/* Letters of a bare "and" or "or" word at s[i] ("band" and "\or" are not
 * one), or 0. */
static size_t list_word(const char *s, size_t n, size_t i)
{
    size_t L = starts(s, n, i, "and") ? 3 : starts(s, n, i, "or") ? 2 : 0;
    if (!L || (i > 0 && (ISALPHA(s[i - 1]) || s[i - 1] == '\\')) || (i + L < n && ISALPHA(s[i + L])))
        return 0;
    return L;
}

static int pass_text(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    for (size_t i = 0; i < n;) {
        size_t w = s[i] == ';' ? 1 : list_word(s, n, i);
        if (w) {
            if (put_list_sep(o) < 0)
                return -1;
            i += w;
            continue;
        }
        if (!latex_cmd_is(s, n, i, "text")) {
            if (buf_putc(o, s[i++]) < 0)
                return -1;
            continue;
        }
        size_t k = latex_skip_spaces(s, n, i + 5);
        if (k >= n || s[k] != '{') {   /* \text without a group: drop the word */
            i = k;
            continue;
        }
        size_t e = latex_group_end(s, n, k);
        e = e ? e : n;
        const char *in = s + k + 1;
        size_t inl = e - k - 1 - (e <= n && e > k + 1 && s[e - 1] == '}');
        size_t tail;
        if (connector(in, inl)) {
            if (put_list_sep(o) < 0)
                return -1;
        } else if (ends_value(o) && unit_like(in, inl) && (tail = unit_tail(s, n, e))) {
            e = tail > e ? tail : e;
        } else if (buf_append(o, in, inl) < 0)
            return -1;
        i = e;
    }
    return 0;
}

static const char *const not_units[] = {
    "pi", "sin", "cos", "tan", "cot", "sec", "csc", "ln", "log", "exp", "and", "or", "in",
    "sqrt", "mod", "pmod", "infty", "arcsin", "arccos", "arctan", NULL};

/* "12 cm^2", "6 square units": trailing words after a number */
static void drop_plain_units(buf_t *o)
{
    size_t n = o->len, k = n;
    const char *s = o->data;
    while (k > 0 && s[k - 1] == ' ')
        k--;
    if (k >= 2 && s[k - 2] == '^' && ISDIG(s[k - 1]))
        k -= 2;
    for (;;) {
        size_t we = k;
        while (k > 0 && ISALPHA(s[k - 1]))
            k--;
        if (we - k < 2 || latex_name_in(s + k, we - k, not_units) || (k > 0 && s[k - 1] == '\\'))
            return;
        size_t sp = k;
        while (k > 0 && s[k - 1] == ' ')
            k--;
        if (sp == k || k == 0)
            return;
        if (!ISALPHA(s[k - 1]))
            break;
    }
    if (!(ISDIG(s[k - 1]) || s[k - 1] == '}' || s[k - 1] == ')'))
        return;
    o->len = k;
    o->data[k] = 0;
}

static int pass_text_units(const char *s, size_t n, buf_t *o, int flags)
{
    if (pass_text(s, n, o, flags) < 0)
        return -1;
    if (o->len)
        drop_plain_units(o);
    return 0;
}

/* ---- 4. spaces ---- */

static int list_comma_space(const char *s, size_t n, size_t i, const buf_t *o, int depth)
{
    /* o ends with "d," and s[i..] is " ddd" + non-digit: keep the space, or
     * the list "32, 349" would read as 32349 when normalized again */
    if (depth || o->len < 2 || o->data[o->len - 1] != ',' || !ISDIG(o->data[o->len - 2]))
        return 0;
    i = latex_skip_spaces(s, n, i);
    int d = 0;
    while (i + d < n && ISDIG(s[i + d]))
        d++;
    return d == 3;
}

static int ends_cmd(const buf_t *o)
{
    size_t k = o->len;
    while (k > 0 && ISALPHA(o->data[k - 1]))
        k--;
    return k < o->len && k > 0 && o->data[k - 1] == '\\' && (k < 2 || o->data[k - 2] != '\\');
}

static int pass_spaces(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    int depth = 0;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {   /* "\\" and "\{" are not brackets */
            if (buf_append(o, s + i, 2) < 0)
                return -1;
            i += 2;
            continue;
        }
        if (c != ' ') {
            if (c == '(' || c == '[' || c == '{')
                depth++;
            else if ((c == ')' || c == ']' || c == '}') && depth > 0)
                depth--;
            if (buf_putc(o, c) < 0)
                return -1;
            i++;
            continue;
        }
        size_t k = latex_skip_spaces(s, n, i);
        /* "1 2" is not 12, nor is "x^2 3" x^{23}: a space between digits
         * never joins them (and "7 3/4" stays a mixed number for pass 6) */
        if (o->len && k < n &&
            ((ends_cmd(o) && ISALPHA(s[k])) || list_comma_space(s, n, i, o, depth) ||
             (ISDIG(o->data[o->len - 1]) && (ISDIG(s[k]) || s[k] == '.')) ||
             (strchr("!<>", o->data[o->len - 1]) && s[k] == '=')))   /* "5! = 120" must not become "5!=" */
            if (buf_putc(o, ' ') < 0)
                return -1;
        i = k;
    }
    return 0;
}

/* ---- 5. macro arguments ---- */

static int canon(const char *s, size_t n, buf_t *o, int depth);

/* the LaTeX argument at s[*i]: its span (without braces for a group) */
static int read_arg(const char *s, size_t n, size_t *i, size_t *a, size_t *b, int *braced)
{
    size_t k = latex_skip_spaces(s, n, *i);
    if (k >= n)
        return 0;
    *braced = 0;
    if (s[k] == '{') {
        size_t e = latex_group_end(s, n, k);
        if (!e)
            return 0;   /* never closes: not an argument */
        *a = k + 1;
        *b = e - 1;
        *braced = 1;
        *i = e;
    } else if (s[k] == '}' || s[k] == ')' || s[k] == ']' || s[k] == ',') {
        return 0;
    } else {
        *a = k;     /* one token: a character or a whole command */
        *b = *i = k + latex_token_len(s, n, k);
    }
    return 1;
}

static int braced_arg(const char *s, size_t n, size_t *i, buf_t *o, int depth)
{
    size_t a, b;
    int br;
    if (!read_arg(s, n, i, &a, &b, &br))
        return 0;
    if (buf_putc(o, '{') < 0 || canon(s + a, b - a, o, depth + 1) < 0 || buf_putc(o, '}') < 0)
        return -1;
    return 0;
}

/* Arguments of the command at s[i] (\frac and \binom 2, \sqrt 1 and an
 * optional [index]): the index after them, or i + the command when it takes
 * none or they are missing. */
static size_t with_args(const char *s, size_t n, size_t i)
{
    size_t L = latex_cmd_len(s, n, i), k = i + 1 + L, a, b;
    const char *name = s + i + 1;
    int br, nargs = latex_name_is(name, L, "frac") || latex_name_is(name, L, "binom") ? 2 :
                    latex_name_is(name, L, "sqrt") ? 1 : 0;
    if (nargs == 1 && k < n && s[k] == '[') {
        while (k < n && s[k] != ']')
            k++;
        k += k < n;
    }
    for (int j = 0; j < nargs; j++)
        if (!read_arg(s, n, &k, &a, &b, &br))
            return i + 1 + L;
    return k;
}

/* ^ and _ arguments: no braces around one character, braces otherwise */
static int script_arg(const char *s, size_t n, size_t *i, buf_t *o, int depth, int sup)
{
    size_t k = *i, a, b;
    int br;
    if (sup && k < n && (ISDIG(s[k]) || (s[k] == '-' && k + 1 < n && ISDIG(s[k + 1])))) {
        a = k++;
        while (k < n && ISDIG(s[k]))
            k++;
        b = k;
        *i = k;
    } else if (k < n && (s[k] == '(' || s[k] == '[')) {
        return 0;   /* x^(2) stays: the expression parser reads it */
    } else if (!read_arg(s, n, i, &a, &b, &br))
        return 0;
    else if (!br && s[a] == '\\')
        b = *i = with_args(s, n, a);   /* "x^\frac13" is x^{\frac13}, as in TeX */
    buf_t t = BUF_INIT;
    if (canon(s + a, b - a, &t, depth + 1) < 0)
        return buf_free(&t), -1;
    int one = t.len == 1;
    int r = (one ? 0 : buf_putc(o, '{')) < 0 || buf_append(o, t.data, t.len) < 0 ||
            (one ? 0 : buf_putc(o, '}')) < 0;
    buf_free(&t);
    return r ? -1 : 0;
}

static int canon(const char *s, size_t n, buf_t *o, int depth)
{
    if (depth > 50)
        return buf_append(o, s, n);
    for (size_t i = 0; i < n;) {
        char c = s[i];
        if (c == '^' || c == '_') {
            if (buf_putc(o, c) < 0)
                return -1;
            i++;
            if (script_arg(s, n, &i, o, depth, c == '^') < 0)
                return -1;
            continue;
        }
        /* a space pass 4 kept ("\\sqrt2 3", "x^\\le y") now follows the
         * braces added around an argument, where pass 4 drops it */
        if (c == ' ' && o->len && o->data[o->len - 1] == '}') {
            i++;
            continue;
        }
        if (c != '\\' || i + 1 >= n) {
            if (buf_putc(o, c) < 0)
                return -1;
            i++;
            continue;
        }
        size_t L = latex_cmd_len(s, n, i);
        if (L == 0) {
            if (buf_append(o, s + i, 2) < 0)
                return -1;
            i += 2;
            continue;
        }
        const char *name = s + i + 1;
        if (buf_append(o, s + i, L + 1) < 0)
            return -1;
        i += 1 + L;
        int nargs = latex_name_is(name, L, "frac") || latex_name_is(name, L, "binom") ? 2 :
                    latex_name_is(name, L, "sqrt") ? 1 : 0;
        if (nargs == 1 && i < n && s[i] == '[') {
            size_t e = i + 1;
            int d = 1;
            for (; e < n && d; e++)
                d += s[e] == '[' ? 1 : s[e] == ']' ? -1 : 0;
            if (buf_putc(o, '[') < 0 || canon(s + i + 1, e - i - 1 - !d, o, depth + 1) < 0 ||
                buf_putc(o, ']') < 0)
                return -1;
            i = e;
        }
        for (int k = 0; k < nargs; k++)
            if (braced_arg(s, n, &i, o, depth) < 0)
                return -1;
    }
    return 0;
}

static int pass_args(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    return canon(s, n, o, 0);
}

/* ---- 6. numbers ---- */

static int frac_left(char c) { return strchr(",([{}=&+-<> \\", c) != NULL; }
static int frac_right(char c) { return strchr(",)]}&=+-<>", c) != NULL; }

/* The end of "a/b" of two integer literals at s[i] (i > 0), or 0. */
static size_t int_slash(const char *s, size_t n, size_t i, size_t *slash)
{
    size_t k = i;
    while (k < n && ISDIG(s[k]))
        k++;
    if (k == i || k + 1 >= n || s[k] != '/' || !ISDIG(s[k + 1]) || !frac_left(s[i - 1]))
        return 0;
    *slash = k++;
    while (k < n && ISDIG(s[k]))
        k++;
    return k == n || frac_right(s[k]) || starts(s, n, k, "\\\\") ? k : 0;
}

/* digits a < digits b, leading zeros aside */
static int digits_less(const char *a, size_t al, const char *b, size_t bl)
{
    while (al > 1 && *a == '0')
        a++, al--;
    while (bl > 1 && *b == '0')
        b++, bl--;
    return al != bl ? al < bl : memcmp(a, b, al) < 0;
}

static int put_frac(buf_t *o, const char *num, size_t nl, const char *den, size_t dl)
{
    return buf_puts(o, "\\frac{") < 0 || buf_append(o, num, nl) < 0 || buf_puts(o, "}{") < 0 ||
           buf_append(o, den, dl) < 0 || buf_putc(o, '}') < 0 ? -1 : 0;
}

static int pass_numbers(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    while (whole_group(s, n)) {
        s++;
        n -= 2;
    }
    if (n && s[0] == '+')
        s++, n--;
    if (n && s[n - 1] == '.' && (n < 2 || s[n - 2] != '\\'))
        n--;
    for (size_t i = 0; i < n;) {
        char c = s[i];
        int fresh = i == 0 || !(ISDIG(s[i - 1]) || ISALPHA(s[i - 1]) || s[i - 1] == '.' ||
                                s[i - 1] == '\\' || s[i - 1] == '_' || s[i - 1] == '^') ||
                    (i >= 2 && s[i - 1] == '\\' && s[i - 2] == '\\');
        if (fresh && c == '.' && i + 1 < n && ISDIG(s[i + 1])) {
            if (buf_putc(o, '0') < 0)
                return -1;
        }
        if (!fresh || !(ISDIG(c) || (c == '.' && i + 1 < n && ISDIG(s[i + 1])))) {
            if (buf_putc(o, c) < 0)
                return -1;
            i++;
            continue;
        }
        size_t k = i;
        while (k < n && ISDIG(s[k]))
            k++;
        size_t ie = k, fe = k;
        if (k + 1 < n && s[k] == '.' && ISDIG(s[k + 1])) {
            k++;
            while (k < n && ISDIG(s[k]))
                k++;
            fe = k;
        }
        /* a/b of two integer literals */
        size_t m = ie + 1;
        while (fe == ie && m < n && ISDIG(s[m]))
            m++;
        /* (not after "digit space": "2 5/3" is no mixed number, and as
         * "2 \frac{5}{3}" it would become one when normalized again) */
        if (fe == ie && ie < n && s[ie] == '/' && m > ie + 1 && (i == 0 || frac_left(s[i - 1])) &&
            !(i >= 2 && s[i - 1] == ' ' && ISDIG(s[i - 2])) &&
            (m == n || frac_right(s[m]) || starts(s, n, m, "\\\\"))) {
            while (o->len && o->data[o->len - 1] == ' ')
                o->len--;   /* pass 4 would drop it before the \frac: drop it now, once */
            if (put_frac(o, s + i, ie - i, s + ie + 1, m - ie - 1) < 0)
                return -1;
            i = m;
            continue;
        }
        /* "7 3/4": the mixed number 7\frac{3}{4} (what mathexpr reads as
         * 7 + 3/4), when the fraction is proper */
        size_t sl, me;
        if (fe == ie && ie + 1 < n && s[ie] == ' ' && (me = int_slash(s, n, ie + 1, &sl)) &&
            digits_less(s + ie + 1, sl - ie - 1, s + sl + 1, me - sl - 1)) {
            if (buf_append(o, s + i, ie - i) < 0 || put_frac(o, s + ie + 1, sl - ie - 1, s + sl + 1, me - sl - 1) < 0)
                return -1;
            i = me;
            continue;
        }
        if (buf_append(o, s + i, ie - i) < 0)
            return -1;
        if (fe > ie) {
            size_t last = fe;
            while (last > ie + 1 && s[last - 1] == '0')
                last--;
            /* "18.00" -> "18"; ".5" got its 0 above */
            if (last > ie + 1 && buf_append(o, s + ie, last - ie) < 0)
                return -1;
        }
        i = fe;
    }
    return 0;
}

/* ---- 7. prefixes ---- */

/* length of a variable at s[0]: "x", "x_1", "a_{n}", "\theta"; 0 if none */
static size_t variable(const char *s, size_t n)
{
    size_t k;
    if (n && ISALPHA(s[0]) && (n == 1 || !ISALPHA(s[1])))
        k = 1;
    else if (n > 1 && s[0] == '\\' && (k = 1 + latex_cmd_len(s, n, 0)) > 1) {
        static const char *const notvar[] = {"frac", "sqrt", "pi", "infty", "text", "emptyset", "binom", NULL};
        if (latex_name_in(s + 1, k - 1, notvar))
            return 0;
    } else
        return 0;
    if (k + 1 < n && s[k] == '_' && s[k + 1] == '{') {
        size_t e = latex_group_end(s, n, k + 1);
        k = e ? e : n;
    } else if (k + 1 < n && s[k] == '_') {
        k += 2;
    }
    return k;
}

/* Entries of the tuple s[0..n) = "(...)", one pair of parentheses around
 * it all; 0 when it is none. */
static int tuple_size(const char *s, size_t n)
{
    if (n < 2 || s[0] != '(' || s[n - 1] != ')')
        return 0;
    int depth = 0, entries = 1;
    for (size_t k = 0; k < n; k++) {
        depth += s[k] == '(' || s[k] == '[' || s[k] == '{';
        depth -= s[k] == ')' || s[k] == ']' || s[k] == '}';
        if (depth == 0 && k < n - 1)
            return 0;
        entries += depth == 1 && s[k] == ',';
    }
    return entries;
}

/* "(p,q) = (3,2)": s[0..lhs) is a tuple of variables only, and the right
 * side s[lhs+1..n) a tuple of as many entries */
static int assigned_tuple(const char *s, size_t lhs, size_t n)
{
    int size = tuple_size(s, lhs);
    if (size < 2 || tuple_size(s + lhs + 1, n - lhs - 1) != size)
        return 0;
    for (size_t k = 1; k < lhs - 1;) {
        size_t v = variable(s + k, lhs - 1 - k);
        if (!v || (k + v < lhs - 1 && s[k + v] != ','))
            return 0;
        k += v + 1;
    }
    return 1;
}

static int pass_prefix(const char *s, size_t n, buf_t *o, int flags)
{
    size_t v = variable(s, n);
    if (v && latex_cmd_is(s, n, v, "in")) {
        s += v + 3;
        n -= v + 3;
        while (n && *s == ' ')
            s++, n--;
    }
    if (flags & MATHNORM_DISPLAY) {
        const char *eq = memchr(s, '=', n);
        if (eq && !memchr(eq + 1, '=', n - (size_t)(eq + 1 - s)) && eq > s) {
            size_t lhs = (size_t)(eq - s), k = variable(s, lhs);
            /* f(x) = ..., (p,q) = ... */
            if (k && k < lhs && s[k] == '(' && s[lhs - 1] == ')' && variable(s + k + 1, lhs - k - 2) == lhs - k - 2)
                k = lhs;
            if (assigned_tuple(s, lhs, n))
                k = lhs;
            /* "x<=..." came as "\le"; a bare "<=" or ">=" is no assignment */
            if (k == lhs) {
                n -= lhs + 1;
                s = eq + 1;
            }
        }
    }
    for (size_t i = 0; i < n; i++)
        if (!((flags & MATHNORM_DISPLAY) && s[i] == '%') && buf_putc(o, s[i]) < 0)
            return -1;
    return 0;
}

/* ---- driver ---- */

/* s is "(M)" or "[M]" of one whole matrix M: its \begin ends at n - 1 */
static int bracketed_matrix(const char *s, size_t n)
{
    static const char b[] = "\\begin{pmatrix}", e[] = "\\end{pmatrix}";
    if (n < sizeof b + sizeof e || !((s[0] == '(' && s[n - 1] == ')') || (s[0] == '[' && s[n - 1] == ']')) ||
        !starts(s, n, 1, b))
        return 0;
    int depth = 0;
    for (size_t i = 1; i < n - 1; i++) {
        if (latex_cmd_is(s, n, i, "begin"))
            depth++;
        else if (latex_cmd_is(s, n, i, "end") && --depth == 0)
            return i + sizeof e - 1 == n - 1 && starts(s, n, i, e);
    }
    return 0;
}

static int pass_trim_braces(const char *s, size_t n, buf_t *o, int flags)
{
    (void)flags;
    while (n && s[0] == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    /* "\left(\begin{array}..\end{array}\right)": the parentheses are the matrix's */
    while (whole_group(s, n) || bracketed_matrix(s, n)) {
        s++;
        n -= 2;
    }
    return buf_append(o, s, n);
}

char *mathnorm_run(const char *s, size_t len, int flags, size_t *outlen)
{
    static const pass_fn passes[] = {pass_thousands, pass_commands, pass_text_units, pass_spaces,
                                     pass_args, pass_numbers, pass_prefix, pass_trim_braces};
    buf_t a = BUF_INIT, b = BUF_INIT;
    if (len > MATHNORM_MAX_INPUT) {
        while (len && isspace((unsigned char)*s))
            s++, len--;
        while (len && isspace((unsigned char)s[len - 1]))
            len--;
        if (buf_append(&a, s, len) < 0 || buf_reserve(&a, 0) < 0)
            return NULL;
    } else {
        if (buf_append(&a, s, len) < 0 || buf_reserve(&a, 0) < 0)
            return NULL;
        for (size_t p = 0; p < sizeof passes / sizeof *passes; p++) {
            buf_reset(&b);
            if (buf_reserve(&b, 0) < 0 || passes[p](a.data, a.len, &b, flags) < 0) {
                buf_free(&a);
                buf_free(&b);
                return NULL;
            }
            buf_t t = a;
            a = b;
            b = t;
        }
    }
    buf_free(&b);
    if (outlen)
        *outlen = a.len;
    return buf_steal(&a);
}
