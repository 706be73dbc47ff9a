/* extract: final answers out of model replies (boxed, numbers, option
 * letters, code blocks). The scanners that run on every reply (boxed and
 * number) are hand-written around memchr/memrchr/memmem: a reply is mostly
 * prose with the answer at its end, so scanning from the end touches little
 * of it. The option-letter rules are patterns, and there PCRE2 (JIT) helps. */
#include "answers/extract.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "answers/latex.h"
#include "base/buf.h"

/* ---- shared helpers ------------------------------------------------------ */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_alnum(char c) { return is_alpha(c) || is_digit(c); }

static char *dup_out(const char *s, size_t n, size_t *outlen)
{
    if (n == 0)
        return NULL;
    char *r = malloc(n + 1);
    if (!r)
        return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    if (outlen)
        *outlen = n;
    return r;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_space(**s))
        (*s)++;
    while (*e > *s && is_space((*e)[-1]))
        (*e)--;
}

/* ---- boxed --------------------------------------------------------------- */

/* The argument of the box command whose name ends at p. Returns 1 with
 * the trimmed argument in [*as, *ae) and the end of the whole box in *be,
 * 0 when the box is empty or is followed by neither a group nor a space,
 * -1 when its braces never close. */
static int box_arg(const char *p, const char *e, const char **as, const char **ae, const char **be)
{
    const char *q = p;
    while (q < e && (*q == ' ' || *q == '\t'))
        q++;
    if (q < e && *q == '{') {
        /* \{ \} \\ inside are text, not grouping */
        size_t end = latex_group_end(q, (size_t)(e - q), 0);
        if (!end)
            return -1;
        const char *s = q + 1, *t = q + end - 1;
        trim(&s, &t);
        *as = s;
        *ae = t;
        *be = q + end;
        return s < t;
    }
    if (q == p)
        return 0;                       /* "\boxed" then neither space nor brace */
    const char *s = q;                  /* "\boxed 5": one token */
    while (q < e && !is_space(*q) && *q != '$')
        q++;
    *be = q;
    while (q > s && (q[-1] == '.' || q[-1] == ','))
        q--;
    *as = s;
    *ae = q;
    return s < q;
}

/* Letters of the box command at t[b] (\boxed or \fbox, whole: not
 * \boxedsomething), or 0. */
static size_t box_name(const char *t, size_t len, size_t b)
{
    return latex_cmd_is(t, len, b, "boxed") ? 5 : latex_cmd_is(t, len, b, "fbox") ? 4 : 0;
}

/* Walks boxes from the end. *cursor starts at len and moves left, to the
 * backslash of each box. Returns 1 with the next box argument (non-empty)
 * and the box's end in *be, 0 when no box is left, -1 at an unbalanced box. */
static int box_prev(const char *t, size_t len, size_t *cursor, const char **as, const char **ae, const char **be)
{
    const char *e = t + len;
    while (*cursor > 0) {
        const char *b = memrchr(t, '\\', *cursor);
        if (!b)
            break;
        *cursor = (size_t)(b - t);
        size_t nl = box_name(t, len, *cursor);
        if (!nl)
            continue;
        int r = box_arg(b + 1 + nl, e, as, ae, be);
        if (r != 0)
            return r;
    }
    *cursor = 0;
    return 0;
}

static int box_first(const char *t, size_t len, const char **as, const char **ae, const char **be)
{
    const char *e = t + len, *p = t;
    while (p < e) {
        const char *b = memchr(p, '\\', (size_t)(e - p));
        if (!b)
            break;
        p = b + 1;
        size_t nl = box_name(t, len, (size_t)(b - t));
        if (!nl)
            continue;
        int r = box_arg(p + nl, e, as, ae, be);
        if (r != 0)
            return r;
    }
    return 0;
}

char *extract_boxed(const char *text, size_t len, int which_last, size_t *outlen)
{
    const char *as, *ae, *be;
    size_t cur = len;
    int r = which_last ? box_prev(text, len, &cur, &as, &ae, &be) : box_first(text, len, &as, &ae, &be);
    if (r <= 0)
        return NULL;
    return dup_out(as, (size_t)(ae - as), outlen);
}

/* ---- numbers ------------------------------------------------------------- */

/* A number as written: integer digits (may hold thousands commas), decimal
 * digits, and for a fraction the denominator digits. */
typedef struct num {
    int neg;
    const char *ip, *ie;    /* integer part, commas included */
    const char *fp, *fe;    /* decimals after '.', may be empty */
    const char *dp, *de;    /* denominator of a/b or \frac{a}{b}; dp NULL if none */
} num_t;

/* Scans digits with thousands groups (",ddd" only when exactly three digits
 * follow), then ".ddd" when a digit follows the point (so "18." at a
 * sentence end stays 18), then "/ddd". p is at a digit. Returns the end. */
static const char *num_scan(const char *p, const char *e, num_t *n)
{
    n->ip = p;
    while (p < e && is_digit(*p))
        p++;
    while (e - p >= 4 && *p == ',' && is_digit(p[1]) && is_digit(p[2]) && is_digit(p[3]) &&
           (e - p == 4 || !is_digit(p[4])))
        p += 4;
    n->ie = p;
    n->fp = n->fe = p;
    n->dp = n->de = NULL;
    if (e - p >= 2 && *p == '.' && is_digit(p[1])) {
        n->fp = ++p;
        while (p < e && is_digit(*p))
            p++;
        n->fe = p;
    } else if (e - p >= 2 && *p == '/' && is_digit(p[1])) {
        n->dp = ++p;
        while (p < e && is_digit(*p))
            p++;
        n->de = p;
    }
    return p;
}

/* Digits of [s, e) without commas and leading zeros into out (at most cap
 * digits kept; returns the count, or cap + 1 when longer). */
static size_t digits_of(const char *s, const char *e, char *out, size_t cap)
{
    size_t n = 0;
    for (; s < e; s++) {
        if (*s == ',' || (n == 0 && *s == '0'))
            continue;
        if (n == cap)
            return cap + 1;
        out[n++] = *s;
    }
    return n;
}

static int u64_of(const char *s, const char *e, uint64_t *v)
{
    char d[20];
    size_t n = digits_of(s, e, d, 18);
    if (n > 18)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x * 10 + (uint64_t)(d[i] - '0');
    *v = x;
    return 0;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Appends the digits of [s, e) with commas and leading zeros removed ("0"
 * when nothing is left). */
static int put_int(buf_t *b, const char *s, const char *e)
{
    while (s < e && (*s == '0' || *s == ','))
        s++;
    if (s == e)
        return buf_putc(b, '0');
    for (; s < e; s++)
        if (*s != ',' && buf_putc(b, *s) < 0)
            return -1;
    return 0;
}

/* A fraction p/q as a terminating decimal when q (reduced) is 2^a 5^b and
 * the result fits, else "p/q" reduced; unreduced when the digits are too
 * many for 64 bits. */
static int put_fraction(buf_t *b, const num_t *n)
{
    uint64_t p, q;
    if (u64_of(n->ip, n->ie, &p) < 0 || u64_of(n->dp, n->de, &q) < 0 || q == 0) {
        if (put_int(b, n->ip, n->ie) < 0 || buf_putc(b, '/') < 0)
            return -1;
        return put_int(b, n->dp, n->de);
    }
    uint64_t g = gcd_u64(p, q);
    if (g > 1) {
        p /= g;
        q /= g;
    }
    if (p == 0)
        return buf_putc(b, '0');
    if (q == 1)
        return buf_printf(b, "%llu", (unsigned long long)p);
    uint64_t r = q;
    int twos = 0, fives = 0;
    while (r % 2 == 0) { r /= 2; twos++; }
    while (r % 5 == 0) { r /= 5; fives++; }
    int m = twos > fives ? twos : fives;
    if (r == 1 && m <= 18) {
        uint64_t scale = 1;
        for (int i = 0; i < m; i++)
            scale *= 10;
        uint64_t mul = scale / q;               /* exact: q divides 10^m */
        if (p <= UINT64_MAX / mul) {
            uint64_t v = p * mul;
            char frac[24];
            snprintf(frac, sizeof frac, "%0*llu", m, (unsigned long long)(v % scale));
            size_t fl = strlen(frac);
            while (fl > 0 && frac[fl - 1] == '0')
                fl--;
            frac[fl] = '\0';
            return buf_printf(b, "%llu.%s", (unsigned long long)(v / scale), frac);
        }
    }
    return buf_printf(b, "%llu/%llu", (unsigned long long)p, (unsigned long long)q);
}

static char *num_format(const num_t *n, size_t *outlen)
{
    buf_t b = BUF_INIT;
    int rc = n->neg ? buf_putc(&b, '-') : 0;
    if (rc == 0) {
        if (n->dp)
            rc = put_fraction(&b, n);
        else {
            rc = put_int(&b, n->ip, n->ie);
            const char *fe = n->fe;
            while (fe > n->fp && fe[-1] == '0')
                fe--;
            if (rc == 0 && fe > n->fp)
                rc = buf_putc(&b, '.') < 0 || buf_append(&b, n->fp, (size_t)(fe - n->fp)) < 0 ? -1 : 0;
        }
    }
    if (rc < 0) {
        buf_free(&b);
        errno = ENOMEM;
        return NULL;
    }
    /* "-0", "-0/1" and friends are zero: drop the sign. */
    if (b.len >= 2 && b.data[0] == '-' && strspn(b.data + 1, "0.") == b.len - 1) {
        memmove(b.data, b.data + 1, b.len);
        b.len--;
    }
    if (outlen)
        *outlen = b.len;
    return buf_steal(&b);
}

/* U+2212 MINUS SIGN, which models trained on LaTeX-rendered text emit. */
static int is_minus(const char *p, const char *e, size_t *w)
{
    if (p < e && *p == '-') {
        *w = 1;
        return 1;
    }
    if (e - p >= 3 && (unsigned char)p[0] == 0xE2 && (unsigned char)p[1] == 0x88 && (unsigned char)p[2] == 0x92) {
        *w = 3;
        return 1;
    }
    return 0;
}

static int word_at(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - p) >= n && memcmp(p, w, n) == 0 && (e - p == (ptrdiff_t)n || !is_alpha(p[n]));
}

/* Skips what may sit between an answer's anchor and its number: spaces,
 * markdown emphasis, '$', ':', '=', opening brackets, and the LaTeX wrappers
 * models put around answers. Stops at anything else. */
static const char *skip_decor(const char *p, const char *e)
{
    static const char *const cmds[] = {"boxed", "text", "textbf", "mathbf", "mathrm", "displaystyle",
                                       "left", "approx", "fbox", NULL};
    while (p < e) {
        char c = *p;
        if (is_space(c) || c == '*' || c == '$' || c == ':' || c == '=' || c == '{' || c == '(' ||
            c == '[' || c == '"' || c == '\'' || c == '`' || c == '_' || c == '~') {
            p++;
            continue;
        }
        if (c != '\\' || e - p < 2)
            break;
        char d = p[1];
        if (d == '$' || d == '(' || d == '[' || d == ',' || d == ' ' || d == ';' || d == '!' || d == '{') {
            p += 2;
            continue;
        }
        int skipped = 0;
        for (int i = 0; cmds[i]; i++)
            if (word_at(p + 1, e, cmds[i])) {
                p += 1 + strlen(cmds[i]);
                skipped = 1;
                break;
            }
        if (!skipped)
            break;
    }
    return p;
}

/* "\frac{a}{b}" (also \dfrac, \tfrac) with integer a and b at p, or
 * "\frac34" (two digits, TeX's one-token arguments). */
static const char *frac_at(const char *p, const char *e, num_t *n)
{
    static const char *const names[] = {"\\frac", "\\dfrac", "\\tfrac", NULL};
    for (int i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);
        if ((size_t)(e - p) < k + 1 || memcmp(p, names[i], k) != 0)
            continue;
        if (e - p >= (ptrdiff_t)k + 2 && is_digit(p[k]) && is_digit(p[k + 1]) &&
            (e - p == (ptrdiff_t)k + 2 || !is_digit(p[k + 2]))) {
            n->ip = p + k;
            n->ie = n->fp = n->fe = n->dp = p + k + 1;
            n->de = p + k + 2;
            return n->de;
        }
        if (p[k] != '{')
            return NULL;
        const char *q = p + k + 1, *a = q;
        while (q < e && is_digit(*q))
            q++;
        if (q == a || e - q < 2 || q[0] != '}' || q[1] != '{')
            return NULL;
        const char *ae = q;
        q += 2;
        const char *d = q;
        while (q < e && is_digit(*q))
            q++;
        if (q == d || q == e || *q != '}')
            return NULL;
        n->ip = a;
        n->ie = ae;
        n->fp = n->fe = ae;
        n->dp = d;
        n->de = q;
        return q + 1;
    }
    return NULL;
}

/* The number right after an anchor (decoration allowed in between), or
 * NULL. A number that starts a line and is followed by ". " or ") " is a
 * list item, not an answer. */
static char *num_after(const char *lo, const char *p, const char *e, size_t *outlen)
{
    num_t n;
    p = skip_decor(p, e);
    size_t w;
    n.neg = is_minus(p, e, &w);
    if (n.neg) {
        p += w;
        if (p < e && *p == '$')
            p++;
        else if (e - p >= 2 && p[0] == '\\' && p[1] == '$')
            p += 2;
    }
    const char *start = p, *end;
    if (p < e && *p == '\\') {
        if (!(end = frac_at(p, e, &n)))
            return NULL;
    } else if (p < e && is_digit(*p)) {
        end = num_scan(p, e, &n);
    } else if (e - p >= 2 && *p == '.' && is_digit(p[1])) {
        end = num_scan(p + 1, e, &n);
        n.fp = n.ip;                   /* ".5": all digits are decimals */
        n.fe = n.ie;
        n.ip = n.ie = p;
        if (n.dp)
            return NULL;
    } else {
        return NULL;
    }
    if (!n.neg && e - end >= 2 && (*end == '.' || *end == ')') && end[1] == ' ') {
        const char *ls = start;
        while (ls > lo && (ls[-1] == ' ' || ls[-1] == '\t'))
            ls--;
        if (ls > lo && ls[-1] == '\n')
            return NULL;
    }
    return num_format(&n, outlen);
}

/* The \frac (\dfrac, \tfrac) whose denominator ends at d (at its last
 * digit, or at that digit's closing brace), or NULL: "\frac{3}{4}" is 3/4,
 * never its last number 4. The search looks back over one group of digits
 * and one of the command's name, so it costs O(digits). */
static const char *frac_ending_at(const char *t, const char *d, const char *e, num_t *n)
{
    const char *q = d;
    while (q > t && is_digit(q[-1]))
        q--;
    if (q > t && q[-1] == '{') {   /* "{den}": the numerator's group before */
        q--;
        if (q == t || q[-1] != '}')
            return NULL;
        q--;
        while (q > t && is_digit(q[-1]))
            q--;
        if (q == t || q[-1] != '{')
            return NULL;
        q--;
    } else if (d - q >= 2) {
        q = d - 2;                 /* "\frac34" */
    }
    static const char *const names[] = {"\\frac", "\\dfrac", "\\tfrac", NULL};
    for (int i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);
        const char *c = q - k, *end;
        if (q - t >= (ptrdiff_t)k && memcmp(c, names[i], k) == 0 && (end = frac_at(c, e, n)) &&
            (end == d || end == d + 1))
            return c;
    }
    return NULL;
}

/* The last number of [t, t+len). */
static char *num_last(const char *t, size_t len, size_t *outlen)
{
    const char *e = t + len, *d = e;
    while (d > t && !is_digit(d[-1]))
        d--;
    if (d == t)
        return NULL;
    num_t fr;
    const char *fs = frac_ending_at(t, d, e, &fr);
    if (fs) {
        fr.neg = fs > t && fs[-1] == '-' && (fs - 1 == t || !is_alnum(fs[-2]));
        return num_format(&fr, outlen);
    }
    /* The run of digits and inner separators that holds the last digit. */
    const char *s = d - 1;
    while (s > t && (is_digit(s[-1]) || ((s[-1] == ',' || s[-1] == '.' || s[-1] == '/') && s - 1 > t &&
                                         is_digit(s[-2]))))
        s--;
    num_t n = {0}, last = {0};
    const char *p = s, *ts = s;
    while (p < d) {
        if (!is_digit(*p)) {
            p++;
            continue;
        }
        ts = p;
        p = num_scan(p, d, &n);
        last = n;
    }
    n = last;
    const char *before = ts;
    if (!n.dp && ts > t && ts[-1] == '.' && (ts - 1 == t || !is_digit(ts[-2]))) {
        n.fp = n.ip;                    /* ".5": all digits are decimals */
        n.fe = n.ie;
        n.ip = n.ie = ts;
        before = ts - 1;
    }
    n.neg = 0;
    if (before - t >= 1 && before[-1] == '-')
        n.neg = before - t == 1 || !is_alnum(before[-2]);
    else if (before - t >= 3 && (unsigned char)before[-3] == 0xE2 && (unsigned char)before[-2] == 0x88 &&
             (unsigned char)before[-1] == 0x92)
        n.neg = before - t == 3 || !is_alnum(before[-4]);
    return num_format(&n, outlen);
}

static int lower_eq(const char *p, const char *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((p[i] | 0x20) != w[i])
            return 0;
    return 1;
}

/* Rule 3: the last "answer" (any case) followed by a number. */
static char *num_answer_is(const char *t, size_t len, size_t *outlen)
{
    static const char *const verbs[] = {"is", "was", "would be", "will be", "should be", "must be", NULL};
    const char *e = t + len;
    for (size_t i = len >= 6 ? len - 6 + 1 : 0; i-- > 0;) {
        const char *p = t + i;
        if ((*p | 0x20) != 'a' || !lower_eq(p, "answer", 6))
            continue;
        if ((p > t && is_alpha(p[-1])) || (p + 6 < e && is_alpha(p[6])))
            continue;
        const char *q = p + 6;
        while (q < e && (*q == ' ' || *q == '*' || *q == ':'))
            q++;
        for (int i = 0; verbs[i]; i++)
            if (word_at(q, e, verbs[i])) {
                q += strlen(verbs[i]);
                break;
            }
        char *r = num_after(t, q, e, outlen);
        if (r || errno == ENOMEM)
            return r;
    }
    return NULL;
}

/* Rule 4: the last line "A: N" (the few-shot Q:/A: format). */
static char *num_a_colon(const char *t, size_t len, size_t *outlen)
{
    const char *e = t + len;
    size_t cur = len;
    while (cur > 0) {
        const char *a = memrchr(t, 'A', cur);
        if (!a)
            break;
        cur = (size_t)(a - t);
        if (a + 1 >= e || a[1] != ':')
            continue;
        const char *ls = a;
        while (ls > t && (ls[-1] == ' ' || ls[-1] == '\t' || ls[-1] == '*'))
            ls--;
        if (ls > t && ls[-1] != '\n')
            continue;
        char *r = num_after(t, a + 2, e, outlen);
        if (r || errno == ENOMEM)
            return r;
    }
    return NULL;
}

char *extract_number(const char *text, size_t len, size_t *outlen)
{
    const char *e = text + len;
    errno = 0;
    const char *h = memmem(text, len, "####", 4);
    if (h) {
        const char *p = h + 4;
        while (p < e && *p == '#')
            p++;
        char *r = num_after(text, p, e, outlen);
        if (r || errno == ENOMEM)
            return r;
    }
    size_t cur = len;
    const char *as, *ae, *be;
    while (box_prev(text, len, &cur, &as, &ae, &be) > 0) {
        char *r = num_after(as, as, ae, outlen);
        if (!r && errno != ENOMEM)
            r = num_last(as, (size_t)(ae - as), outlen);
        if (r || errno == ENOMEM)
            return r;
    }
    char *r = num_answer_is(text, len, outlen);
    if (r || errno == ENOMEM)
        return r;
    r = num_a_colon(text, len, outlen);
    if (r || errno == ENOMEM)
        return r;
    return num_last(text, len, outlen);
}

/* ---- MATH answers -------------------------------------------------------- */

/* What may stand between two boxes of one answer, "$x = \boxed{2}$ or $x =
 * \boxed{-3}$", "\boxed{1}, \boxed{2}": blanks, $ and the math delimiters,
 * ',' ';' '&' '~', "\\", the spacing commands, "and"/"or" (bare or in
 * \text{}) and an assignment "x =", "x_1 =". Anything else (a word, a full
 * stop, a formula) means the earlier box is an intermediate result. */
static int box_joiner(const char *p, const char *e)
{
    static const char *const cmds[] = {"quad", "qquad", "text", "mbox", "textrm", "textnormal", NULL};
    if (e - p > 96)
        return 0;
    while (p < e) {
        char c = *p;
        if (is_space(c) || c == '$' || c == ',' || c == ';' || c == '&' || c == '~' || c == '{' || c == '}') {
            p++;
            continue;
        }
        if (c == '\\' && e - p >= 2 && strchr("()[],;:! \\", p[1])) {
            p += 2;
            continue;
        }
        if (c == '\\') {
            size_t L = latex_cmd_len(p, (size_t)(e - p), 0);
            int ok = 0;
            for (int i = 0; cmds[i] && !ok; i++)
                ok = latex_name_is(p + 1, L, cmds[i]);
            if (!ok)
                return 0;
            p += 1 + L;
            continue;
        }
        if (word_at(p, e, "and") || word_at(p, e, "or")) {
            p += p[0] == 'a' ? 3 : 2;
            continue;
        }
        if (!is_alpha(c) || (p + 1 < e && is_alpha(p[1])))
            return 0;
        const char *q = p + 1;          /* "x =", "x_1 =", "x_{2} =" */
        if (q < e && *q == '_') {
            q++;
            if (q < e && *q == '{') {
                while (q < e && *q != '}')
                    q++;
                q += q < e;
            } else if (q < e && is_alnum(*q))
                q++;
        }
        while (q < e && is_space(*q))
            q++;
        if (q >= e || *q != '=')
            return 0;
        p = q + 1;
    }
    return 1;
}

/* The last box and the boxes joined to it (box_joiner), at most
 * EXTRACT_MAX_BOXES, as "a, b, c" in text order, the same text once.
 * Returns 1 with the result in *out (malloc'd), 0 when there is no box, -1
 * at an unbalanced box or out of memory. */
static int boxes_final(const char *t, size_t len, char **out, size_t *outlen)
{
    const char *as[EXTRACT_MAX_BOXES], *ae[EXTRACT_MAX_BOXES], *be;
    size_t cur = len;
    int r = box_prev(t, len, &cur, &as[0], &ae[0], &be);
    if (r <= 0)
        return r;
    int n = 1;
    for (int seen = 1; seen < EXTRACT_MAX_BOXES; seen++) {
        size_t c2 = cur;
        const char *s, *f;
        if (box_prev(t, len, &c2, &s, &f, &be) <= 0 || !box_joiner(be, t + cur))
            break;
        int dup = 0;
        for (int k = 0; k < n && !dup; k++)
            dup = ae[k] - as[k] == f - s && memcmp(as[k], s, (size_t)(f - s)) == 0;
        if (!dup) {
            as[n] = s;
            ae[n++] = f;
        }
        cur = c2;
    }
    buf_t b = BUF_INIT;
    for (int k = n; k-- > 0;)
        if ((k < n - 1 && buf_puts(&b, ", ") < 0) || buf_append(&b, as[k], (size_t)(ae[k] - as[k])) < 0) {
            buf_free(&b);
            errno = ENOMEM;
            return -1;
        }
    *outlen = b.len;
    *out = buf_steal(&b);
    return 1;
}

/* The answer after a prose anchor at p (just past its ':', '=' or verb):
 * [*s, *e) and 1, or 0 when what follows is not an answer. Wrapped in $..$,
 * $$..$$, \(..\) or \[..\] it is that formula. Bare, it runs to the end of
 * the line or sentence (or a ", " before a lower-case word) and must look
 * like mathematics: it starts with a digit, a sign, a bracket, '|' or a
 * command, or is one letter not followed by another ("x = 5", "C"), or is
 * one capitalized word and nothing else (a name, "Evelyn"). So "the answer
 * is not obvious" and "the answer is that..." give nothing. */
static int prose_answer(const char *p, const char *e, const char **s, const char **f)
{
    static const struct { const char *open, *close; } wraps[] = {   /* the longest opening first */
        {"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}};
    while (p < e && (*p == ' ' || *p == '\t' || *p == '*' || *p == '_'))
        p++;
    for (size_t k = 0; k < sizeof wraps / sizeof *wraps; k++) {
        size_t ol = strlen(wraps[k].open);
        if ((size_t)(e - p) < ol || memcmp(p, wraps[k].open, ol) != 0)
            continue;
        const char *in = p + ol, *lim = e - in > EXTRACT_MAX_FORMULA ? in + EXTRACT_MAX_FORMULA : e;
        const char *close = memmem(in, (size_t)(lim - in), wraps[k].close, strlen(wraps[k].close));
        if (!close)
            return 0;
        *s = in;
        *f = close;
        trim(s, f);
        return *s < *f;
    }
    const char *q = p, *lim = e - p > 257 ? p + 257 : e;   /* longer is prose: refused below */
    while (q < lim && *q != '\n' && !(*q == '.' && (q + 1 == e || is_space(q[1]))) &&
           !(*q == ',' && q + 2 < e && q[1] == ' ' && q[2] >= 'a' && q[2] <= 'z' && !word_at(q + 2, e, "and") &&
             !word_at(q + 2, e, "or")))
        q++;
    const char *a = p, *b = q;
    trim(&a, &b);
    while (b > a && (b[-1] == '*' || b[-1] == ',' || b[-1] == ':'))
        b--;
    trim(&a, &b);
    if (a == b || b - a > 256)
        return 0;
    const char *w = a;
    while (w < b && is_alpha(*w))
        w++;
    if (w == a) {
        if (!is_digit(*a) && !strchr("-+.([{\\|", *a))
            return 0;
    } else if (w - a >= 2 && !(w == b && *a >= 'A' && *a <= 'Z')) {
        return 0;
    }
    *s = a;
    *f = b;
    return 1;
}

/* "answer" at p heads its line (after markdown) or follows "final": a
 * label "Answer:", not a phrase "we may check our answer: ..." */
static int answer_label(const char *t, const char *p)
{
    const char *q = p;
    while (q > t && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '*' || q[-1] == '#' || q[-1] == '_'))
        q--;
    if (q == t || q[-1] == '\n')
        return 1;
    return q - t >= 5 && lower_eq(q - 5, "final", 5) && (q - 5 == t || !is_alpha(q[-6]));
}

/* The last prose anchor that gives an answer: "answer" (any case, a whole
 * word) then a verb (is, was, would be...), or a label "Answer:" /
 * "Final Answer:" (also with '='): "The final answer is $5$", "**Answer:**
 * 5". Only the last EXTRACT_MAX_ANCHORS anchors are tried, each reading at
 * most EXTRACT_MAX_FORMULA bytes: the work per call stays linear. */
static int prose_final(const char *t, size_t len, const char **s, const char **f)
{
    static const char *const verbs[] = {"is", "was", "would be", "will be", "should be", "must be", NULL};
    const char *e = t + len;
    int tried = 0;
    for (size_t i = len >= 6 ? len - 6 + 1 : 0; i-- > 0 && tried < EXTRACT_MAX_ANCHORS;) {
        const char *p = t + i;
        if ((*p | 0x20) != 'a' || !lower_eq(p, "answer", 6) || (p > t && is_alpha(p[-1])) ||
            (p + 6 < e && is_alpha(p[6])))
            continue;
        const char *q = p + 6;
        while (q < e && (*q == ' ' || *q == '*' || *q == '_'))
            q++;
        int anchored = q < e && (*q == ':' || *q == '=') && answer_label(t, p);
        q += anchored;
        for (int k = 0; verbs[k] && !anchored; k++)
            if (word_at(q, e, verbs[k])) {
                q += strlen(verbs[k]);
                anchored = 1;
            }
        tried += anchored;
        if (anchored && prose_answer(q, e, s, f))
            return 1;
    }
    return 0;
}

char *extract_math(const char *text, size_t len, size_t *outlen)
{
    char *boxes = NULL;
    size_t blen = 0;
    const char *s, *f;
    errno = 0;
    int r = boxes_final(text, len, &boxes, &blen);
    if (r > 0 && outlen)
        *outlen = blen;
    if (r != 0)
        return boxes;
    /* no box: the reply may still state its answer. After a box, prose
     * like "we may check our answer: 17 \cdot 44 = 748" is no answer. */
    return prose_final(text, len, &s, &f) ? dup_out(s, (size_t)(f - s), outlen) : NULL;
}

/* ---- option letters ------------------------------------------------------ */

/* Compiled once, on first use (see extract.h for why static state is safe
 * here). Letters are captured in any case; the C checks below decide. */
enum { RE_FORMAT, RE_EXPLICIT, RE_BOXED, RE_LONE, RE_CORRECT, RE_CHOOSE, RE_WHICH, RE_CONCLUDE, RE_CLOSEST,
       RE_COUNT };

#define VERB "(?:\\s+(?:is|was|would\\s+be|will\\s+be|should\\s+be|must\\s+be))?"
/* the dashes of "Answer – B": en and em dash, figure dash, minus sign (UTF-8) */
#define DASH "\\xe2\\x80[\\x90-\\x95]|\\xe2\\x88\\x92"
static const char *const re_src[RE_COUNT] = {
    /* ##Answer: X## — the format the SLM-MUX GPQA prompt asks for */
    [RE_FORMAT] = "##\\s*answer\\s*:?\\s*\\**\\s*\\(?\\s*([a-z])\\s*\\)?\\s*\\**\\s*##",
    /* "answer: X", "final answer is (X)", "correct option is X", ... then
     * decoration: spaces, markdown, $, brackets, \boxed{, \text{, "option" */
    [RE_EXPLICIT] = "(?:\\b(?:(?:final|correct|right|best)\\s+)?answer\\b" VERB
                    "|\\b(?:correct|right|best)\\s+(?:option|choice)\\b" VERB
                    "|\\bthe\\s+(?:option|choice)\\s+is)"
                    "(?:[\\s*_:=$\"'(\\[{-]|" DASH "|\\\\[(\\[]|\\\\boxed\\s*\\{|\\\\text(?:bf|rm)?\\s*\\{"
                    "|\\\\math(?:rm|bf)\\s*\\{|\\boption\\b|\\bchoice\\b)*"
                    "([a-z])",
    /* \boxed{X}, \boxed{(X)}, \boxed{\text{X}}, \boxed{X) 10^-4 eV} */
    [RE_BOXED] = "\\\\(?:boxed|fbox)\\s*\\{\\s*(?:\\\\(?:text(?:bf|rm)?|math(?:rm|bf))\\s*\\{)?\\s*\\(?\\s*"
                 "([a-z])\\s*(?:[).:][^{}]*)?\\}",
    /* a line holding only the letter: "B", "**(C)**", "Option D." */
    [RE_LONE] = "^[ \\t>#*_]*(?:(?:option|choice)\\s+)?[*_]*[(\\[]?([a-z])[)\\]]?[ \\t*_.:]*\\r?$",
    /* "(B) is correct", "Option C is the best answer", "D is the right choice" */
    [RE_CORRECT] = "(?:\\b(?:option|choice)\\s+)?\\(?\\b([a-z])\\b\\)?\\s+(?:is|seems|appears\\s+to\\s+be)\\s+"
                   "(?:the\\s+)?(?:correct|right|best|most\\s+(?:likely|plausible|accurate))\\b",
    /* "I choose B", "I'll go with (C)" */
    [RE_CHOOSE] = "\\b(?:choose|select|pick|go\\s+with)\\s+(?:option\\s+|choice\\s+|answer\\s+)?\\(?([a-z])\\b",
    /* "... 10^-4 eV, which is B", "which corresponds to option (C)" */
    [RE_WHICH] = "\\bwhich\\s+(?:is|corresponds\\s+to|matches)\\s+(?:(?:option|choice|answer)\\s+)?\\(?([a-z])\\b",
    /* "Therefore option B", "Hence (C) ...", "both A and B are wrong, so D" */
    [RE_CONCLUDE] = "\\b(?:therefore|thus|hence|so|consequently)\\b[\\s,:]*"
                    "(?:(?:the\\s+)?(?:answer|option|choice)\\s+(?:is\\s+)?|option\\s+|choice\\s+)?\\(?([a-z])\\b",
    /* "the closest is C", "the best match would be (A)" */
    [RE_CLOSEST] = "\\b(?:closest|nearest|best\\s+(?:match|fit)|most\\s+(?:likely|plausible|reasonable|consistent))"
                   "\\s+(?:(?:one|option|choice|answer|match|value)\\s+)?(?:is|would\\s+be)\\s+"
                   "(?:(?:option|choice)\\s+)?\\(?([a-z])\\b",
};
#undef VERB
#undef DASH

static pcre2_code *re_code[RE_COUNT];
static pcre2_match_data *re_md;

static int re_init(void)
{
    if (re_md)
        return 0;
    for (int i = 0; i < RE_COUNT; i++) {
        int err;
        PCRE2_SIZE off;
        uint32_t opts = PCRE2_CASELESS | (i == RE_LONE ? PCRE2_MULTILINE : 0);
        re_code[i] = pcre2_compile((PCRE2_SPTR)re_src[i], PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
        if (!re_code[i]) {
            /* A constant pattern that fails to compile is a bug: say so loudly. */
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fprintf(stderr, "extract: pattern %d: %s at %zu\n", i, (char *)msg, (size_t)off);
            abort();
        }
        pcre2_jit_compile(re_code[i], PCRE2_JIT_COMPLETE);   /* falls back to the interpreter if JIT is off */
    }
    re_md = pcre2_match_data_create(4, NULL);
    if (!re_md) {
        extract_cleanup();
        return -1;
    }
    return 0;
}

void extract_cleanup(void)
{
    for (int i = 0; i < RE_COUNT; i++) {
        pcre2_code_free(re_code[i]);
        re_code[i] = NULL;
    }
    pcre2_match_data_free(re_md);
    re_md = NULL;
}

static int is_connective(const char *p, const char *e)
{
    static const char *const words[] = {"because", "since", "as", "is", "was", "and", "or", "which", "would",
                                        "seems", "appears", "fits", "matches", "best", "correctly", NULL};
    for (int i = 0; words[i]; i++)
        if (word_at(p, e, words[i]))
            return 1;
    return 0;
}

/* Whether the letter at pos can be an answer rather than part of a word or
 * of a sentence: see extract.h for the rules. */
static int letter_ok(const char *t, size_t len, size_t pos)
{
    const char *e = t + len;
    char c = t[pos];
    char pv = pos > 0 ? t[pos - 1] : ' ';
    char nx = pos + 1 < len ? t[pos + 1] : '\n';
    if (is_alnum(nx) || is_alnum(pv))
        return 0;
    int wrapped = pv == '(' || pv == '*' || pv == '{' || pv == '[' || nx == ')' || nx == '*' || nx == '}' ||
                  nx == ']';
    if (wrapped)
        return 1;
    if (nx == ' ' || nx == '\t') {
        const char *w = t + pos + 1;
        while (w < e && (*w == ' ' || *w == '\t'))
            w++;
        if (w < e && *w >= 'a' && *w <= 'z') {
            /* "the answer is a bit", "Answer: A reaction": prose */
            if (c >= 'a' && c <= 'z')
                return 0;
            if ((c == 'A' || c == 'I') && !is_connective(w, e))
                return 0;
        }
        return c >= 'A' && c <= 'Z';
    }
    if (c >= 'a' && c <= 'z')
        return nx == '.' || nx == ',' || nx == ';' || nx == '!' || nx == '\n' || nx == '\r' || nx == '$';
    return 1;
}

/* The heuristics must not take a letter that is mathematics: inside $...$
 * or \(...\) on its line, or right after a LaTeX command ("\Delta E"). */
static int letter_in_math(const char *t, size_t pos)
{
    const char *p = t + pos, *ls = p;
    while (ls > t && ls[-1] != '\n')
        ls--;
    int dollars = 0, paren = 0;
    for (const char *q = ls; q < p; q++) {
        if (*q == '\\' && q + 1 < p) {
            if (q[1] == '(')
                paren = 1;
            else if (q[1] == ')')
                paren = 0;
            q++;
            continue;
        }
        if (*q == '$')
            dollars ^= 1;
    }
    if (dollars || paren)
        return 1;
    const char *q = p;
    while (q > ls && (q[-1] == ' ' || q[-1] == '{' || q[-1] == '('))
        q--;
    const char *w = q;
    while (w > ls && is_alpha(w[-1]))
        w--;
    return w < q && w > ls && w[-1] == '\\';
}

/* word w (lower case) at p, any case, whole */
static int word_ci(const char *p, const char *e, const char *w)
{
    size_t n = strlen(w);
    return (size_t)(e - p) >= n && lower_eq(p, w, n) && (e - p == (ptrdiff_t)n || !is_alpha(p[n]));
}

static const char *skip_blank(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The option at pos is named to be rejected: "B is wrong", "(C) is not
 * correct", "A can be ruled out", "C isn't", "not B", "eliminate D",
 * "rather than C". Such a letter is no answer, whatever pattern found it. */
static int letter_rejected(const char *t, size_t len, size_t pos)
{
    static const char *const verbs[] = {"is", "are", "was", "seems", "looks", NULL};
    static const char *const adverbs[] = {"also", "clearly", "definitely", "obviously", "therefore", NULL};
    static const char *const verdicts[] = {"not", "wrong", "incorrect", "false", "invalid", "eliminated",
                                           "excluded", "ruled", "impossible", "unlikely", "inconsistent", NULL};
    static const char *const before[] = {"not", "eliminate", "eliminates", "exclude", "excludes", "out", "except",
                                         "nor", "neither", "than", NULL};
    const char *e = t + len, *p = t + pos + 1;
    while (p < e && (*p == ')' || *p == ']' || *p == '*'))
        p++;
    p = skip_blank(p, e);
    if (word_ci(p, e, "isn") || word_ci(p, e, "cannot") || word_ci(p, e, "can't") ||
        (word_ci(p, e, "can") && word_ci(skip_blank(p + 3, e), e, "be")))
        return 1;
    for (int v = 0; verbs[v]; v++)
        if (word_ci(p, e, verbs[v])) {
            const char *q = skip_blank(p + strlen(verbs[v]), e);
            for (int a = 0; adverbs[a]; a++)
                if (word_ci(q, e, adverbs[a]))
                    q = skip_blank(q + strlen(adverbs[a]), e);
            for (int k = 0; verdicts[k]; k++)
                if (word_ci(q, e, verdicts[k]))
                    return 1;
        }
    const char *b = t + pos;        /* the word before: "not (B)", "option" skipped */
    while (b > t && (b[-1] == '(' || b[-1] == '[' || b[-1] == ' ' || b[-1] == '*'))
        b--;
    const char *w = b;
    while (w > t && is_alpha(w[-1]))
        w--;
    if ((b - w == 6 && lower_eq(w, "option", 6)) || (b - w == 6 && lower_eq(w, "choice", 6))) {
        while (w > t && w[-1] == ' ')
            w--;
        b = w;
        while (w > t && is_alpha(w[-1]))
            w--;
    }
    for (int k = 0; before[k]; k++)
        if ((size_t)(b - w) == strlen(before[k]) && lower_eq(w, before[k], (size_t)(b - w)))
            return 1;
    return 0;
}

/* Scans one pattern; returns the offset of the last acceptable letter, or
 * -1. heuristic adds the math check. */
static long re_last(int which, const char *t, size_t len, const char *letters, int heuristic)
{
    long best = -1;
    PCRE2_SIZE start = 0;
    while (start <= len) {
        int rc = pcre2_match(re_code[which], (PCRE2_SPTR)t, len, start, 0, re_md, NULL);
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(re_md);
        size_t pos = ov[2];
        char up = (char)toupper((unsigned char)t[pos]);
        int ok = strchr(letters, up) != NULL;
        if (ok && which != RE_BOXED && which != RE_FORMAT && which != RE_LONE)
            ok = letter_ok(t, len, pos);
        if (ok && which == RE_CORRECT && t[pos] >= 'a' && t[pos] <= 'z')
            ok = pos > 0 && t[pos - 1] == '(';     /* "a is correct" is prose; "(a) is correct" is not */
        if (ok && which != RE_FORMAT && which != RE_BOXED && which != RE_LONE)
            ok = !letter_rejected(t, len, pos);
        if (ok && heuristic)
            ok = !letter_in_math(t, pos);
        if (ok)
            best = (long)pos;
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
    return best;
}

int extract_choice(const char *text, size_t len, const char *letters)
{
    if (!letters)
        letters = "ABCD";
    if (!*letters || re_init() < 0)
        return 0;
    static const int tiers[3][7] = {{RE_FORMAT, -1}, {RE_EXPLICIT, RE_BOXED, -1},
                                    {RE_LONE, RE_CORRECT, RE_CHOOSE, RE_WHICH, RE_CONCLUDE, RE_CLOSEST, -1}};
    for (int t = 0; t < 3; t++) {
        long best = -1;
        for (int i = 0; tiers[t][i] >= 0; i++) {
            long at = re_last(tiers[t][i], text, len, letters, t == 2);
            if (at > best)
                best = at;
        }
        if (best >= 0)
            return toupper((unsigned char)text[best]);
    }
    return 0;
}

/* ---- code blocks --------------------------------------------------------- */

typedef struct block {
    const char *s, *e;
    int python;
} block_t;

static int lang_is_python(const char *p, const char *e)
{
    static const char *const names[] = {"python3", "python", "py3", "py", NULL};
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    if (p == e || is_space(*p))
        return 1;                               /* bare ``` */
    for (int i = 0; names[i]; i++) {
        size_t n = strlen(names[i]);
        if ((size_t)(e - p) >= n && lower_eq(p, names[i], n) && (e - p == (ptrdiff_t)n || !is_alnum(p[n])))
            return 1;
    }
    return 0;
}

/* Whether [s, e) has a line "def name(" (any indentation, maybe async). */
static int defines(const char *s, const char *e, const char *name)
{
    size_t nl = strlen(name);
    const char *p = s;
    while (p < e) {
        const char *d = memmem(p, (size_t)(e - p), "def", 3);
        if (!d)
            return 0;
        p = d + 3;
        const char *ls = d;
        while (ls > s && (ls[-1] == ' ' || ls[-1] == '\t'))
            ls--;
        if (ls - s >= 6 && memcmp(ls - 6, "async ", 6) == 0) {
            ls -= 6;
            while (ls > s && (ls[-1] == ' ' || ls[-1] == '\t'))
                ls--;
        }
        if (ls > s && ls[-1] != '\n')
            continue;
        const char *q = p;
        if (q >= e || (*q != ' ' && *q != '\t'))
            continue;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(e - q) < nl || memcmp(q, name, nl) != 0)
            continue;
        q += nl;
        while (q < e && (*q == ' ' || *q == '\t'))
            q++;
        if (q < e && *q == '(')
            return 1;
    }
    return 0;
}

/* Backticks opening a fence on the line [ls, le) (after indentation), or 0. */
static size_t fence_ticks(const char *ls, const char *le, const char **after)
{
    while (ls < le && (*ls == ' ' || *ls == '\t'))
        ls++;
    const char *p = ls;
    while (p < le && *p == '`')
        p++;
    if (p - ls < 3)
        return 0;
    *after = p;
    return (size_t)(p - ls);
}

char *extract_code(const char *text, size_t len, const char *entry_point, size_t *outlen)
{
    const char *e = text + len, *p = text;
    const char *def_s = NULL, *def_e = NULL, *py_s = NULL, *py_e = NULL;
    while (p < e) {
        const char *le = memchr(p, '\n', (size_t)(e - p));
        le = le ? le : e;
        const char *info;
        size_t ticks = fence_ticks(p, le, &info);
        if (!ticks) {
            p = le < e ? le + 1 : e;
            continue;
        }
        block_t b = {le < e ? le + 1 : e, e, lang_is_python(info, le)};
        const char *q = b.s;
        while (q < e) {                         /* find the closing fence */
            const char *qe = memchr(q, '\n', (size_t)(e - q));
            qe = qe ? qe : e;
            const char *rest;
            size_t n = fence_ticks(q, qe, &rest);
            if (n >= ticks) {
                while (rest < qe && is_space(*rest))
                    rest++;
                if (rest == qe) {
                    b.e = q;
                    q = qe < e ? qe + 1 : e;
                    goto closed;
                }
            }
            q = qe < e ? qe + 1 : e;
        }
        q = e;                                  /* cut off: the block runs to the end */
    closed:
        if (entry_point && *entry_point && defines(b.s, b.e, entry_point)) {
            def_s = b.s;
            def_e = b.e;
        }
        if (b.python && (!py_s || b.e - b.s > py_e - py_s)) {
            py_s = b.s;
            py_e = b.e;
        }
        p = q;
    }
    const char *s, *t;
    if (def_s) {
        s = def_s;
        t = def_e;
    } else if (py_s) {
        s = py_s;
        t = py_e;
    } else {
        s = text;
        t = e;
    }
    /* The line break before the closing fence belongs to the fence. */
    if (t > s && t[-1] == '\n')
        t--;
    if (t > s && t[-1] == '\r')
        t--;
    const char *ts = s, *te = t;
    trim(&ts, &te);
    if (ts == te)
        return NULL;
    return dup_out(s, (size_t)(t - s), outlen);
}
