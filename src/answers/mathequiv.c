/* mathequiv: MATH answer equivalence (the rules are listed in mathequiv.h).
 *
 * Two normalizations first (mathnorm.c): the display form decides the
 * common case, equal strings, with no parsing at all; the structural form
 * keeps "%" and "x =" so they can be read. Then each answer is read once
 * into a flat array of elements (lists, sets, tuples, unions, matrices,
 * relations, expressions) that point into the normalized text, and the two
 * trees are compared. The array is fixed-size and expressions are parsed and
 * evaluated lazily, on first comparison, because an unordered list compares
 * each element with every element of the other side. */
#include "answers/mathequiv.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answers/latex.h"
#include "answers/mathexpr.h"
#include "answers/mathnorm.h"

#define MAX_LIST 64   /* elements of one list, set or tuple */
#define MAX_PM 3      /* \pm per element: 2^3 variants at most */
#define MAX_OWNED 64  /* strings made while reading (\pm variants, L-R) */
#define ROUND_MIN_DIGITS 6   /* significant digits a decimal needs to stand for the value it rounds */

enum { EL_EXPR, EL_WORD, EL_BASED, EL_TUPLE, EL_SET, EL_UNION, EL_CAP, EL_MATRIX, EL_REL };
enum { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE, OP_NE };

typedef struct el {
    int kind;
    const char *s;          /* normalized text of the element */
    size_t len;
    char open, close;       /* EL_TUPLE brackets */
    int pct;                /* EL_EXPR written with a trailing % */
    int first, n;           /* children: els[first .. first+n) */
    int rows, cols;         /* EL_MATRIX */
    int ops[2], nops;       /* EL_REL: n == nops + 1 sides */
    int parsed, evaluated;
    mathexpr *x;            /* EL_EXPR, parsed on first use */
    mathnum value;          /* of a constant x, computed on first use: an
                               unordered list compares each element n times */
} el;

typedef struct answer {
    el els[MATH_MAX_ELEMENTS];
    int nel, top_first, top_n, failed;
    char *owned[MAX_OWNED];
    int nowned;
} answer;

typedef struct span {
    const char *s;
    size_t len;
} span;

/* ---- scanning at bracket depth 0 ---- */

/* Advances *i over one token (latex.h), updating the bracket depth: ( [ {
 * and \{ and \begin open, ) ] } and \} and \end close. */
static void step(const char *s, size_t n, size_t *i, int *depth)
{
    const char *t = s + *i;
    size_t len = latex_token_len(s, n, *i);
    *i += len;
    if (len == 1) {
        if (*t == '(' || *t == '[' || *t == '{')
            ++*depth;
        else if (*t == ')' || *t == ']' || *t == '}')
            --*depth;
    } else if ((len == 2 && t[1] == '{') || latex_name_is(t + 1, len - 1, "begin")) {
        ++*depth;
    } else if ((len == 2 && t[1] == '}') || latex_name_is(t + 1, len - 1, "end")) {
        --*depth;
    }
}

static span trim(const char *s, size_t n)
{
    while (n && *s == ' ')
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    return (span){s, n};
}

/* Splits s at depth-0 occurrences of sep (a char, or a command when it
 * starts with '\\'); returns the number of pieces, -1 beyond max. */
static int split(const char *s, size_t n, const char *sep, span *out, int max)
{
    int np = 0, depth = 0;
    size_t st = 0, i = 0, sl = strlen(sep);
    while (i < n) {
        int at = depth == 0 && i + sl <= n && memcmp(s + i, sep, sl) == 0 &&
                 (sep[0] != '\\' || sl == 2 || latex_cmd_len(s, n, i) == sl - 1);
        if (at) {
            if (np >= max)
                return -1;
            out[np++] = trim(s + st, i - st);
            i += sl;
            st = i;
            continue;
        }
        step(s, n, &i, &depth);
    }
    if (np >= max)
        return -1;
    out[np++] = trim(s + st, n - st);
    return np;
}

/* the index just after the bracket matching s[0], or 0 */
static size_t match_close(const char *s, size_t n)
{
    int depth = 0;
    size_t i = 0;
    do {
        step(s, n, &i, &depth);
    } while (i < n && depth > 0);
    return depth == 0 ? i : 0;
}

/* ---- reading an answer ---- */

static char *own(answer *A, size_t len)
{
    if (A->nowned >= MAX_OWNED)
        return NULL;
    char *p = malloc(len + 1);
    if (p)
        A->owned[A->nowned++] = p;
    return p;
}

static int new_els(answer *A, int n)
{
    if (A->nel + n > MATH_MAX_ELEMENTS) {
        A->failed = 1;
        return -1;
    }
    int first = A->nel;
    memset(&A->els[first], 0, (size_t)n * sizeof *A->els);
    A->nel += n;
    return first;
}

static void read_el(answer *A, int id, span sp);

/* read pieces into n consecutive new elements; sets *first */
static int read_pieces(answer *A, span *pieces, int n, int *first)
{
    int f = new_els(A, n);
    if (f < 0)
        return -1;
    *first = f;
    for (int k = 0; k < n; k++)
        read_el(A, f + k, pieces[k]);
    return 0;
}

/* depth-0 \pm / \mp positions in sp (at most MAX_PM + 1) */
static int find_pm(span sp, size_t *pos, int *minus_first)
{
    int np = 0, depth = 0;
    size_t i = 0;
    while (i < sp.len) {
        if (depth == 0 && (latex_cmd_is(sp.s, sp.len, i, "pm") || latex_cmd_is(sp.s, sp.len, i, "mp"))) {
            if (np > MAX_PM)
                return np;
            minus_first[np] = sp.s[i + 1] == 'm' && sp.s[i + 2] == 'p';
            pos[np++] = i;
        }
        step(sp.s, sp.len, &i, &depth);
    }
    return np;
}

/* A list "a, b \pm c": pieces at depth-0 commas, \pm expanded when allowed */
static int read_list(answer *A, span sp, int expand, int *first, int *n)
{
    span pieces[MAX_LIST], out[MAX_LIST];
    int np = split(sp.s, sp.len, ",", pieces, MAX_LIST), no = 0;
    if (np < 0) {
        A->failed = 1;
        return -1;
    }
    if (np == 1 && pieces[0].len == 0)
        np = 0;
    for (int k = 0; k < np; k++) {
        size_t pos[MAX_PM + 1];
        int mf[MAX_PM + 1];
        int npm = expand ? find_pm(pieces[k], pos, mf) : 0;
        if (npm == 0 || npm > MAX_PM) {
            if (no >= MAX_LIST)
                return A->failed = 1, -1;
            out[no++] = pieces[k];
            continue;
        }
        for (int mask = 0; mask < (1 << npm); mask++) {
            char *v = own(A, pieces[k].len);
            if (!v || no >= MAX_LIST)
                return A->failed = 1, -1;
            size_t w = 0, r = 0;
            for (int j = 0; j < npm; j++) {
                memcpy(v + w, pieces[k].s + r, pos[j] - r);
                w += pos[j] - r;
                v[w++] = ((mask >> j) & 1) ^ mf[j] ? '-' : '+';
                r = pos[j] + 3;
            }
            memcpy(v + w, pieces[k].s + r, pieces[k].len - r);
            w += pieces[k].len - r;
            v[w] = 0;
            out[no++] = trim(v, w);
        }
    }
    *n = no;
    return read_pieces(A, out, no, first);
}

static int rel_op(const char *s, size_t n, size_t i, size_t *len)
{
    if (s[i] == '=') return *len = 1, OP_EQ;
    if (s[i] == '<') return *len = 1, OP_LT;
    if (s[i] == '>') return *len = 1, OP_GT;
    if (latex_cmd_is(s, n, i, "le")) return *len = 3, OP_LE;
    if (latex_cmd_is(s, n, i, "ge")) return *len = 3, OP_GE;
    if (latex_cmd_is(s, n, i, "ne")) return *len = 3, OP_NE;
    return -1;
}

/* "a<x\le b": sides and operators at depth 0; 0 if there is no relation */
static int read_rel(answer *A, int id, span sp)
{
    span sides[3];
    int ops[2], nops = 0, depth = 0;
    size_t i = 0, st = 0, L;
    while (i < sp.len) {
        int op = depth == 0 ? rel_op(sp.s, sp.len, i, &L) : -1;
        if (op >= 0) {
            if (nops == 2)
                return A->els[id].kind = EL_WORD, 1;
            sides[nops] = trim(sp.s + st, i - st);
            ops[nops++] = op;
            i += L;
            st = i;
            continue;
        }
        step(sp.s, sp.len, &i, &depth);
    }
    if (!nops)
        return 0;
    sides[nops] = trim(sp.s + st, sp.len - st);
    el *e = &A->els[id];
    e->kind = EL_REL;
    e->nops = nops;
    memcpy(e->ops, ops, sizeof ops);
    int first;
    if (read_pieces(A, sides, nops + 1, &first) == 0) {
        A->els[id].first = first;
        A->els[id].n = nops + 1;
    }
    return 1;
}

static int read_matrix(answer *A, int id, span sp)
{
    const char *b = "\\begin{pmatrix}", *e = "\\end{pmatrix}";
    size_t bl = strlen(b), elen = strlen(e);
    if (sp.len < bl + elen || memcmp(sp.s, b, bl) || memcmp(sp.s + sp.len - elen, e, elen))
        return 0;
    span rows[MAX_LIST], cells[MAX_LIST * 4];
    int nr = split(sp.s + bl, sp.len - bl - elen, "\\\\", rows, MAX_LIST), nc = -1, total = 0;
    if (nr > 1 && rows[nr - 1].len == 0)
        nr--;   /* a trailing \\ */
    if (nr < 1)
        return A->els[id].kind = EL_WORD, 1;
    for (int r = 0; r < nr; r++) {
        span row[MAX_LIST];
        int k = split(rows[r].s, rows[r].len, "&", row, MAX_LIST);
        if (k < 0 || (nc >= 0 && k != nc) || total + k > MAX_LIST * 4)
            return A->els[id].kind = EL_WORD, 1;
        nc = k;
        memcpy(cells + total, row, (size_t)k * sizeof *row);
        total += k;
    }
    int first;
    if (read_pieces(A, cells, total, &first) < 0)
        return 1;
    el *m = &A->els[id];
    m->kind = EL_MATRIX;
    m->rows = nr;
    m->cols = nc;
    m->first = first;
    m->n = total;
    return 1;
}

static int all_digits(const char *s, size_t n)
{
    if (!n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

/* "204_5", "4210_{10}" */
static int based(span sp, size_t *us)
{
    const char *u = memchr(sp.s, '_', sp.len);
    if (!u)
        return 0;
    size_t d = (size_t)(u - sp.s), rest = sp.len - d - 1;
    const char *b = u + 1;
    if (rest >= 2 && b[0] == '{' && b[rest - 1] == '}')
        b++, rest -= 2;
    if (!all_digits(sp.s, d) || !all_digits(b, rest))
        return 0;
    *us = d;
    return 1;
}

static void read_el(answer *A, int id, span sp)
{
    el *e = &A->els[id];
    e->s = sp.s;
    e->len = sp.len;
    e->kind = EL_EXPR;
    size_t n = sp.len, us;
    const char *s = sp.s;
    if (A->failed)
        return;
    if (n == 0) {
        e->kind = EL_WORD;
        return;
    }
    if ((n == 9 && memcmp(s, "\\emptyset", 9) == 0) || (n == 4 && memcmp(s, "\\{\\}", 4) == 0)) {
        e->kind = EL_SET;
        return;
    }
    span parts[MAX_LIST];
    int np = split(s, n, "\\cup", parts, MAX_LIST), kind = EL_UNION;
    if (np == 1) {
        np = split(s, n, "\\cap", parts, MAX_LIST);   /* \cap binds tighter */
        kind = EL_CAP;
    }
    if (np > 1) {
        int first;
        e->kind = kind;
        if (read_pieces(A, parts, np, &first) == 0) {
            A->els[id].first = first;
            A->els[id].n = np;
        }
        return;
    }
    if (np < 0) {
        A->failed = 1;
        return;
    }
    if (read_rel(A, id, sp) || read_matrix(A, id, sp))
        return;
    if (n >= 4 && s[0] == '\\' && s[1] == '{' && s[n - 2] == '\\' && s[n - 1] == '}' && match_close(s, n) == n) {
        int first, k;
        e->kind = EL_SET;
        if (read_list(A, (span){s + 2, n - 4}, 1, &first, &k) == 0) {
            A->els[id].first = first;
            A->els[id].n = k;
        }
        return;
    }
    if ((s[0] == '(' || s[0] == '[') && (s[n - 1] == ')' || s[n - 1] == ']') && match_close(s, n) == n) {
        span items[MAX_LIST];
        int k = split(s + 1, n - 2, ",", items, MAX_LIST);
        if (k > 1) {
            int first;
            e->kind = EL_TUPLE;
            e->open = s[0];
            e->close = s[n - 1];
            if (read_pieces(A, items, k, &first) == 0) {
                A->els[id].first = first;
                A->els[id].n = k;
            }
            return;
        }
        if (k < 0)
            A->failed = 1;
    }
    if (s[n - 1] == '%') {
        e->pct = 1;
        e->len = trim(s, n - 1).len;
        return;
    }
    if (based(sp, &us))
        e->kind = EL_BASED;
}

static answer *read_answer(const char *s, size_t n)
{
    answer *A = calloc(1, sizeof *A);
    if (!A)
        return NULL;
    int first = 0, k = 0;
    if (read_list(A, (span){s, n}, 1, &first, &k) == 0) {
        A->top_first = first;
        A->top_n = k;
    }
    return A;
}

static void free_answer(answer *A)
{
    if (!A)
        return;
    for (int k = 0; k < A->nel; k++)
        mathexpr_free(A->els[k].x);
    for (int k = 0; k < A->nowned; k++)
        free(A->owned[k]);
    free(A);
}

static mathexpr *expr_of(el *e)
{
    if (!e->parsed) {
        e->parsed = 1;
        e->x = mathexpr_parse(e->s, e->len, NULL);
    }
    return e->x;
}

static mathnum const_value(el *e)
{
    if (!e->evaluated) {
        e->evaluated = 1;
        e->value = mathexpr_eval(e->x, NULL);
    }
    return e->value;
}

/* ---- comparing ---- */

typedef struct ctx {
    math_opts o;
} ctx;

static int cmp_el(ctx *c, answer *A, int ia, answer *B, int ib);

static uint64_t splitmix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The value of variable `name` at point k: the same for both answers. */
static mathnum point_value(const ctx *c, int k, const char *name, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
    uint64_t r = splitmix(h ^ splitmix((uint64_t)c->o.seed * 1000003u + (uint64_t)k));
    return mathnum_real(0.5 + 2.5 * (double)(r >> 11) * 0x1p-53, 1);
}

static void bind(const ctx *c, const mathexpr *x, int k, mathnum *vals)
{
    for (int v = 0; v < mathexpr_nvars(x); v++) {
        size_t len;
        const char *name = mathexpr_var(x, v, &len);
        vals[v] = point_value(c, k, name, len);
    }
}

static int text_eq(const char *a, size_t al, const char *b, size_t bl, int nocase)
{
    if (al != bl)
        return 0;
    if (!nocase)
        return memcmp(a, b, al) == 0;
    for (size_t i = 0; i < al; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

static mathnum scaled(mathnum v, int pct)
{
    return pct ? mathnum_div(v, mathnum_real(100, 1)) : v;
}

/* Evaluates f and g at the shared points; decide(fv, gv, state) returns 1
 * (point agrees), 0 (disagrees: stop) or -1 (unusable). 1 when at least half
 * the points were usable and all agreed. */
typedef int (*point_rule)(mathnum f, mathnum g, void *state, double tol);

static int at_points(ctx *c, const mathexpr *f, int fp, const mathexpr *g, int gp, point_rule rule, void *state)
{
    mathnum fv[MATHEXPR_MAX_VARS], gv[MATHEXPR_MAX_VARS];
    int good = 0, want = c->o.points;
    for (int k = 0; k < 3 * want && good < want; k++) {
        bind(c, f, k, fv);
        bind(c, g, k, gv);
        int r = rule(scaled(mathexpr_eval(f, fv), fp), scaled(mathexpr_eval(g, gv), gp), state, c->o.rel_tol);
        if (r == 0)
            return 0;
        good += r == 1;
    }
    return good > 0 && 2 * good >= want;
}

static int rule_equal(mathnum f, mathnum g, void *state, double tol)
{
    (void)state;
    return mathnum_close(f, g, tol);
}

/* "-0012.50" -> sign, "12.5" span; 0 unless a plain decimal literal */
static int decimal(const el *e, int *neg, const char **d, size_t *n)
{
    const char *s = e->s;
    size_t len = e->len, dots = 0;
    *neg = len && *s == '-';
    s += *neg;
    len -= (size_t)*neg;
    if (!len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isdigit((unsigned char)s[i]) && !(s[i] == '.' && ++dots == 1 && i + 1 < len))
            return 0;
    while (len > 1 && s[0] == '0' && s[1] != '.')
        s++, len--;
    if (dots)
        while (len > 1 && (s[len - 1] == '0' || s[len - 1] == '.'))
            if (s[--len] == '.')
                break;
    *d = s;
    *n = len;
    return 1;
}

/* ---- a decimal against the value it rounds ----
 *
 * The rule: a decimal literal with a point and at least ROUND_MIN_DIGITS
 * significant digits ("0.333333", "1.41421", "-0.0909091") stands for any
 * constant that it rounds or cuts at its own last place: v equals D with
 * d places when v rounded to d places, or v cut to d places toward zero,
 * is D. A rational v is divided out digit by digit (exact at any length);
 * another constant is evaluated, and its error bound must be under a
 * twentieth of the last place, else there is no decision (and the relative
 * tolerance below still applies). Only a decimal written out by the answer
 * takes part: \frac{1}{2004!} and \frac{1}{2006!} are no decimals and keep
 * comparing as values, and "0.000000" has no significant digit to claim a
 * value with. Shorter decimals keep the exact rule (0.3333 is not 1/3). */

/* Long division |num|/den to `places` decimals into out (integer part
 * first, no leading zeros): the digit count; *rem the remainder left. */
static size_t long_division(uint64_t num, uint64_t den, size_t places, char *out, uint64_t *rem)
{
    size_t k = (size_t)snprintf(out, 24, "%llu", (unsigned long long)(num / den));
    unsigned __int128 r = num % den;
    for (size_t j = 0; j < places; j++) {
        r *= 10;
        out[k++] = (char)('0' + (int)(r / den));
        r %= den;
    }
    *rem = (uint64_t)r;
    return k;
}

static int same_digits(const char *a, size_t al, const char *b, size_t bl)
{
    while (al > 1 && *a == '0')
        a++, al--;
    while (bl > 1 && *b == '0')
        b++, bl--;
    return al == bl && memcmp(a, b, al) == 0;
}

/* digits (the point dropped) of D = d[0..n), |D| <= |num|/den: D is the
 * fraction cut or rounded at D's places */
static int rounds_exactly(const char *digits, size_t nd, size_t places, int64_t num, int64_t den)
{
    uint64_t un = num < 0 ? (uint64_t)(-(num + 1)) + 1 : (uint64_t)num, rem;
    char *t = malloc(nd + places + 26);
    if (!t)
        return 0;
    size_t tl = long_division(un, (uint64_t)den, places, t + 1, &rem);
    int r = same_digits(digits, nd, t + 1, tl);
    if (!r && 2 * (unsigned __int128)rem >= (uint64_t)den) {   /* rounded up: T plus one last place */
        size_t k = tl + 1;
        t[0] = '0';
        while (k-- > 0 && t[k] == '9')
            t[k] = '0';
        t[k]++;
        r = same_digits(digits, nd, t, tl + 1);
    }
    free(t);
    return r;
}

/* v - D in units of D's last place, against the band of rounding (|x| <=
 * 1/2) or cutting toward zero (0 <= x < 1 for D > 0): [-1/2, 1) after the
 * sign of D. 1 or 0; -1 when the error bound is wider than 1/20 of a
 * place (or far from the band), so that nothing is decided. */
static int rounds_numerically(el *d, int neg, size_t places, el *v)
{
    mathnum ulp = mathnum_powi(mathnum_real(10, 1), -(int64_t)places);
    mathnum x = mathnum_div(mathnum_sub(const_value(v), const_value(d)), ulp);
    if (x.st || x.e > 64 || x.e < -1100 || x.err.e > 64)
        return -1;
    double re = ldexp(x.re, (int)x.e), im = ldexp(x.im, (int)x.e), err = ldexp(x.err.m, (int)x.err.e);
    if (err > 0.05)
        return -1;
    re = neg ? -re : re;
    return fabs(im) <= err && re - err >= -0.5 && re + err < 1;
}

/* The rule above, d the decimal side, v the other: 1 equal, 0 not, -1 the
 * rule does not apply (or cannot decide). */
static int rounds_to(el *d, mathexpr *xd, el *v, mathexpr *xv)
{
    int neg, vneg;
    const char *ds, *vs;
    size_t dl, vl;
    if (d->pct || v->pct || !decimal(d, &neg, &ds, &dl) || decimal(v, &vneg, &vs, &vl) ||
        mathexpr_nvars(xd) || mathexpr_nvars(xv) || mathexpr_has_inf(xv))
        return -1;
    const char *dot = memchr(ds, '.', dl);
    if (!dot)
        return -1;
    size_t places = dl - (size_t)(dot + 1 - ds), sig = 0, nd = 0;
    char *digits = malloc(dl);
    if (!digits)
        return -1;
    for (size_t k = 0; k < dl; k++)
        if (ds[k] != '.') {
            sig += sig || ds[k] != '0';
            digits[nd++] = ds[k];
        }
    int64_t num, den;
    int r = -1;
    if (sig >= ROUND_MIN_DIGITS) {
        if (mathexpr_exact(xv, &num, &den))
            r = (num < 0) == neg && rounds_exactly(digits, nd, places, num, den);
        else
            r = rounds_numerically(d, neg, places, v);
    }
    free(digits);
    return r;
}

static int cmp_expr(ctx *c, el *a, el *b)
{
    int na, nb;
    const char *da, *db;
    size_t la, lb;
    /* literals of any length compare digit by digit, past what 64-bit
     * rationals and doubles could tell apart */
    if (!a->pct && !b->pct && decimal(a, &na, &da, &la) && decimal(b, &nb, &db, &lb)) {
        int za = la == 1 && *da == '0', zb = lb == 1 && *db == '0';
        return text_eq(da, la, db, lb, 0) && (na == nb || (za && zb));
    }
    mathexpr *xa = expr_of(a), *xb = expr_of(b);
    if (!xa || !xb)
        return a->pct == b->pct && text_eq(a->s, a->len, b->s, b->len, 1);
    if (mathexpr_has_inf(xa) || mathexpr_has_inf(xb)) {
        /* \infty has no value: texts, where "+\infty" is "\infty" */
        const char *sa = a->s, *sb = b->s;
        size_t la = a->len, lb = b->len;
        if (la && *sa == '+')
            sa++, la--;
        if (lb && *sb == '+')
            sb++, lb--;
        return a->pct == b->pct && text_eq(sa, la, sb, lb, 0);
    }
    int rounded = rounds_to(a, xa, b, xb);
    if (rounded < 0)
        rounded = rounds_to(b, xb, a, xa);
    if (rounded >= 0)
        return rounded;
    int64_t an, ad, bn, bd;
    int exact = mathexpr_exact(xa, &an, &ad) && mathexpr_exact(xb, &bn, &bd);
    /* X% is X or X/100: try the scalings that a % on each side allows */
    for (int pa = 0; pa <= a->pct; pa++)
        for (int pb = 0; pb <= b->pct; pb++) {
            if (exact) {
                __int128 l = (__int128)an * bd * (pb ? 100 : 1), r = (__int128)bn * ad * (pa ? 100 : 1);
                if (l == r)
                    return 1;
                continue;
            }
            if (mathexpr_nvars(xa) + mathexpr_nvars(xb) == 0) {
                if (mathnum_close(scaled(const_value(a), pa), scaled(const_value(b), pb), c->o.rel_tol) == 1)
                    return 1;
                continue;
            }
            if (at_points(c, xa, pa, xb, pb, rule_equal, NULL))
                return 1;
        }
    return 0;
}

/* L-R of a relation side pair, as a new expression (caller frees) */
static mathexpr *difference(const el *l, const el *r)
{
    size_t n = l->len + r->len + 5;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    size_t w = 0;
    s[w++] = '(';
    memcpy(s + w, l->s, l->len);
    w += l->len;
    memcpy(s + w, ")-(", 3);
    w += 3;
    memcpy(s + w, r->s, r->len);
    w += r->len;
    s[w++] = ')';
    mathexpr *x = mathexpr_parse(s, w, NULL);
    free(s);
    return x;
}

typedef struct ratio_state {
    int have, positive;
    mathnum first;
} ratio_state;

static int rule_ratio(mathnum f, mathnum g, void *state, double tol)
{
    ratio_state *st = state;
    mathnum q = mathnum_div(f, g);
    if (q.st || mathnum_close(q, mathnum_real(0, 1), tol) != 0)
        return -1;   /* g ~ 0 or f ~ 0 here: this point says nothing */
    if (!st->have) {
        if (st->positive && !(q.im == 0 && q.re > 0))
            return 0;
        st->first = q;
        st->have = 1;
        return 1;
    }
    int r = mathnum_close(q, st->first, tol);
    return r;
}

/* e is one variable and nothing else: "x", "a_{n}", "\theta" */
static int is_variable(el *e)
{
    mathexpr *x = e->kind == EL_EXPR && !e->pct ? expr_of(e) : NULL;
    size_t len;
    return x && mathexpr_nvars(x) == 1 && mathexpr_var(x, 0, &len) && len == e->len;
}

/* "x = v", or "(p,q) = (3,2)": the asked variable (or tuple of them) on the
 * left, so the answer is the right side */
static int is_assignment(el *e, answer *A)
{
    if (e->kind != EL_REL || e->nops != 1 || e->ops[0] != OP_EQ)
        return 0;
    el *lhs = &A->els[e->first], *rhs = &A->els[e->first + 1];
    if (lhs->kind != EL_TUPLE)
        return is_variable(lhs);
    if (lhs->open != '(' || lhs->close != ')' || rhs->kind != EL_TUPLE || rhs->n != lhs->n)
        return 0;
    for (int k = 0; k < lhs->n; k++)
        if (!is_variable(&A->els[lhs->first + k]))
            return 0;
    return 1;
}

/* turn ">" chains around so that only =, <, <=, != remain */
static void orient(const el *e, int *ops, int *side)
{
    int flip = 1;
    for (int k = 0; k < e->nops; k++)
        if (e->ops[k] != OP_GT && e->ops[k] != OP_GE)
            flip = 0;
    for (int k = 0; k <= e->nops; k++)
        side[k] = e->first + (flip ? e->nops - k : k);
    for (int k = 0; k < e->nops; k++) {
        int op = e->ops[flip ? e->nops - 1 - k : k];
        ops[k] = !flip ? op : op == OP_GT ? OP_LT : OP_LE;
    }
}

static int cmp_rel(ctx *c, answer *A, el *a, answer *B, el *b)
{
    int oa[2], ob[2], sa[3], sb[3];
    orient(a, oa, sa);
    orient(b, ob, sb);
    if (a->nops == b->nops && memcmp(oa, ob, (size_t)a->nops * sizeof *oa) == 0) {
        el *la = &A->els[sa[0]], *ra = &A->els[sa[1]], *lb = &B->els[sb[0]], *rb = &B->els[sb[1]];
        if (a->nops == 1 && la->kind == EL_EXPR && ra->kind == EL_EXPR && lb->kind == EL_EXPR &&
            rb->kind == EL_EXPR && !la->pct && !ra->pct && !lb->pct && !rb->pct) {
            mathexpr *fa = difference(la, ra), *fb = difference(lb, rb);
            int r = 0;
            if (fa && fb && mathexpr_nvars(fa) + mathexpr_nvars(fb) > 0) {
                ratio_state st = {0, oa[0] == OP_LT || oa[0] == OP_LE, mathnum_real(0, 1)};
                r = at_points(c, fa, 0, fb, 0, rule_ratio, &st);
            }
            mathexpr_free(fa);
            mathexpr_free(fb);
            if (r)
                return 1;
        }
        int all = 1;
        for (int k = 0; k <= a->nops && all; k++)
            all = cmp_el(c, A, sa[k], B, sb[k]);
        if (all)
            return 1;
    }
    if (is_assignment(a, A) && is_assignment(b, B))
        return cmp_el(c, A, a->first + 1, B, b->first + 1);
    return 0;
}

/* n elements of A from fa against n of B from fb, in order */
static int cmp_seq(ctx *c, answer *A, int fa, answer *B, int fb, int n)
{
    for (int k = 0; k < n; k++)
        if (!cmp_el(c, A, fa + k, B, fb + k))
            return 0;
    return 1;
}

/* Elements ia[0..na) of A against ib[0..nb) of B as sets: each has an
 * equal on the other side, so order and duplicates ("2, 2, 3" is "3, 2")
 * do not count. At most 2 * na * nb comparisons. */
static int same_members(ctx *c, answer *A, const int *ia, int na, answer *B, const int *ib, int nb)
{
    unsigned char hit[MATH_MAX_ELEMENTS] = {0};
    for (int k = 0; k < na; k++) {
        int found = 0;
        for (int j = 0; j < nb && !found; j++)
            if (cmp_el(c, A, ia[k], B, ib[j]))
                hit[j] = 1, found = 1;
        if (!found)
            return 0;
    }
    for (int j = 0; j < nb; j++) {
        int found = hit[j];
        for (int k = 0; k < na && !found; k++)
            found = cmp_el(c, A, ia[k], B, ib[j]);
        if (!found)
            return 0;
    }
    return 1;
}

static int run_of(int first, int n, int *out)
{
    for (int k = 0; k < n; k++)
        out[k] = first + k;
    return n;
}

/* The members of a finite set: \{..\}, or a union or intersection of
 * finite sets ("\{1,2\} \cup \{3\}" is \{1,2,3\}). Returns their count
 * (ids in out, room for MATH_MAX_ELEMENTS), or -1 when e is no finite set.
 * The structure bounds the recursion: a part of a union or intersection
 * is read without \cup (resp. \cup and \cap) at its top. */
static int set_members(ctx *c, answer *A, int id, int *out)
{
    el *e = &A->els[id];
    if (e->kind == EL_SET)
        return run_of(e->first, e->n, out);
    if (e->kind != EL_UNION && e->kind != EL_CAP)
        return -1;
    int n = 0, part[MATH_MAX_ELEMENTS];
    for (int p = 0; p < e->n; p++) {
        int k = set_members(c, A, e->first + p, part);
        if (k < 0 || n + k > MATH_MAX_ELEMENTS)
            return -1;
        if (e->kind == EL_UNION || p == 0) {
            memcpy(out + n, part, (size_t)k * sizeof *part);
            n += k;
            continue;
        }
        int kept = 0;   /* an intersection keeps what every part holds */
        for (int m = 0; m < n; m++) {
            int in = 0;
            for (int j = 0; j < k && !in; j++)
                in = cmp_el(c, A, out[m], A, part[j]);
            if (in)
                out[kept++] = out[m];
        }
        n = kept;
    }
    return n;
}

static const char *skip_zeros(const char *s, size_t *n)
{
    while (*n > 1 && *s == '0')
        s++, --*n;
    return s;
}

/* both EL_BASED: the same digits in the same base */
static int cmp_based(el *a, el *b)
{
    size_t ua = 0, ub = 0;
    based((span){a->s, a->len}, &ua);
    based((span){b->s, b->len}, &ub);
    size_t na = ua, nb = ub;
    const char *da = skip_zeros(a->s, &na), *db = skip_zeros(b->s, &nb);
    if (!text_eq(da, na, db, nb, 0))
        return 0;
    size_t ba = a->len - ua - 1, bb = b->len - ub - 1;
    const char *pa = a->s + ua + 1, *pb = b->s + ub + 1;
    if (*pa == '{')
        pa++, ba -= 2;
    if (*pb == '{')
        pb++, bb -= 2;
    pa = skip_zeros(pa, &ba);
    pb = skip_zeros(pb, &bb);
    return text_eq(pa, ba, pb, bb, 0);
}

/* A matrix against a tuple: a row or column vector against its cells
 * "(0.2, -3.6)", or a matrix against its rows "((1,2),(3,4))", "[[1,2],[3,4]]" */
static int matrix_tuple(answer *A, el *m, answer *B, el *t, ctx *c)
{
    if ((m->rows == 1 || m->cols == 1) && m->n == t->n && t->open == '(' && t->close == ')')
        return cmp_seq(c, A, m->first, B, t->first, t->n);
    if (t->n != m->rows || !((t->open == '(' && t->close == ')') || (t->open == '[' && t->close == ']')))
        return 0;
    for (int r = 0; r < m->rows; r++) {
        el *row = &B->els[t->first + r];
        if (row->kind != EL_TUPLE || row->n != m->cols || row->open != t->open || row->close != t->close ||
            !cmp_seq(c, A, m->first + r * m->cols, B, row->first, m->cols))
            return 0;
    }
    return 1;
}

/* e is \infty with the given sign ("+\infty" and "\infty" are +) */
static int is_infinity(const el *e, int negative)
{
    const char *s = e->s;
    size_t n = e->len;
    if (n && (*s == '-' || *s == '+')) {
        if ((*s == '-') != negative)
            return 0;
        s++, n--;
    } else if (negative)
        return 0;
    return e->kind == EL_EXPR && !e->pct && latex_name_is(s, n, "\\infty");
}

/* A one-variable inequality against an interval: "-3 < x < 10" is
 * (-3, 10), "x \ge 2" is [2, \infty), "x < 5" is (-\infty, 5). */
static int rel_interval(ctx *c, answer *A, el *r, answer *B, el *t)
{
    int ops[2], side[3];
    if (t->n != 2 || (t->open != '(' && t->open != '[') || (t->close != ')' && t->close != ']'))
        return 0;
    orient(r, ops, side);
    for (int k = 0; k < r->nops; k++)
        if (ops[k] != OP_LT && ops[k] != OP_LE)
            return 0;
    el *lo = &B->els[t->first], *hi = &B->els[t->first + 1];
    int var = r->nops == 2 ? 1 : is_variable(&A->els[side[0]]) ? 0 : 1;
    if (!is_variable(&A->els[side[var]]))
        return 0;
    int lo_open = var == 0 || ops[0] == OP_LT, hi_open = var == r->nops || ops[var] == OP_LT;
    if (t->open != (lo_open ? '(' : '[') || t->close != (hi_open ? ')' : ']'))
        return 0;
    int lo_ok = var == 0 ? is_infinity(lo, 1) : cmp_el(c, A, side[0], B, t->first);
    return lo_ok && (var == r->nops ? is_infinity(hi, 0) : cmp_el(c, A, side[r->nops], B, t->first + 1));
}

/* Sets, unions and intersections: as finite sets when both are, else (of
 * intervals) part by part, unordered, and \cup against \cup only. Apart
 * from cmp_el, whose recursion should not carry these arrays. */
static int cmp_sets(ctx *c, answer *A, int ia, answer *B, int ib)
{
    el *a = &A->els[ia], *b = &B->els[ib];
    int ma[MATH_MAX_ELEMENTS], mb[MATH_MAX_ELEMENTS], na, nb;
    if ((na = set_members(c, A, ia, ma)) >= 0 && (nb = set_members(c, B, ib, mb)) >= 0)
        return same_members(c, A, ma, na, B, mb, nb);
    return a->kind == b->kind && a->kind != EL_SET &&
           same_members(c, A, ma, run_of(a->first, a->n, ma), B, mb, run_of(b->first, b->n, mb));
}

static int cmp_el(ctx *c, answer *A, int ia, answer *B, int ib)
{
    el *a = &A->els[ia], *b = &B->els[ib];
    if (a->pct == b->pct && text_eq(a->s, a->len, b->s, b->len, 0))
        return 1;
    if (a->kind == EL_REL && b->kind == EL_REL)
        return cmp_rel(c, A, a, B, b);
    if (a->kind == EL_REL)
        return (b->kind == EL_TUPLE && rel_interval(c, A, a, B, b)) ||
               (is_assignment(a, A) && cmp_el(c, A, a->first + 1, B, ib));
    if (b->kind == EL_REL)
        return (a->kind == EL_TUPLE && rel_interval(c, B, b, A, a)) ||
               (is_assignment(b, B) && cmp_el(c, A, ia, B, b->first + 1));
    if (a->kind == EL_BASED || b->kind == EL_BASED)
        return a->kind == b->kind && cmp_based(a, b);
    if (a->kind == EL_MATRIX && b->kind == EL_TUPLE)
        return matrix_tuple(A, a, B, b, c);
    if (b->kind == EL_MATRIX && a->kind == EL_TUPLE)
        return matrix_tuple(B, b, A, a, c);
    if ((a->kind == EL_SET || a->kind == EL_UNION || a->kind == EL_CAP) &&
        (b->kind == EL_SET || b->kind == EL_UNION || b->kind == EL_CAP))
        return cmp_sets(c, A, ia, B, ib);
    if (a->kind == EL_WORD || b->kind == EL_WORD)
        return a->pct == b->pct && text_eq(a->s, a->len, b->s, b->len, 1);
    if (a->kind != b->kind)
        return 0;
    switch (a->kind) {
    case EL_EXPR:
        return cmp_expr(c, a, b);
    case EL_TUPLE:
        return a->open == b->open && a->close == b->close && a->n == b->n &&
               cmp_seq(c, A, a->first, B, b->first, a->n);
    case EL_MATRIX:
        return a->rows == b->rows && a->cols == b->cols && cmp_seq(c, A, a->first, B, b->first, a->n);
    default:
        return 0;
    }
}

/* The top level: a list of solutions is a set of them ("1, 2, 2" is
 * "2, 1", "5, 5" is "5"), and a finite set \{..\} (or a union of them)
 * equals its bare list ("\{1, 2\}" is "1, 2", "\{5\}" is "5"). With
 * ordered_lists two bare lists compare in order, element by element. */
static int cmp_answers(ctx *c, answer *A, answer *B)
{
    int na = A->top_n, nb = B->top_n, ma[MATH_MAX_ELEMENTS], mb[MATH_MAX_ELEMENTS];
    int ka = na == 1 ? set_members(c, A, A->top_first, ma) : -1;
    int kb = nb == 1 ? set_members(c, B, B->top_first, mb) : -1;
    if (c->o.ordered_lists && ka < 0 && kb < 0 && (na > 1 || nb > 1))
        return na == nb && cmp_seq(c, A, A->top_first, B, B->top_first, na);
    if (ka < 0)
        ka = run_of(A->top_first, na, ma);
    if (kb < 0)
        kb = run_of(B->top_first, nb, mb);
    return same_members(c, A, ma, ka, B, mb, kb);
}

/* ---- require_reduced ---- */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* digits in {..} at s[i]: value (if at most 18 digits) and index after */
static int braced_uint(const char *s, size_t n, size_t i, uint64_t *v, size_t *end)
{
    if (i >= n || s[i] != '{')
        return 0;
    size_t k = i + 1;
    *v = 0;
    while (k < n && isdigit((unsigned char)s[k]) && k - i <= 18)
        *v = *v * 10 + (uint64_t)(s[k++] - '0');
    if (k == i + 1 || k >= n || s[k] != '}')
        return 0;
    *end = k + 1;
    return 1;
}

static int unreduced(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t a, b;
        size_t e1, e2;
        if (latex_cmd_is(s, n, i, "frac") && braced_uint(s, n, i + 5, &a, &e1) && braced_uint(s, n, e1, &b, &e2) &&
            b != 0 && (b == 1 || gcd64(a, b) > 1))
            return 1;
        if (latex_cmd_is(s, n, i, "sqrt") && braced_uint(s, n, i + 5, &a, &e1) && a <= 1000000000000ULL)
            for (uint64_t k = 2; k * k <= a; k++)
                if (a % (k * k) == 0)
                    return 1;
    }
    return 0;
}

/* ---- public ---- */

void math_opts_default(math_opts *o)
{
    o->ordered_lists = 0;
    o->require_reduced = 0;
    o->rel_tol = 1e-9;
    o->points = 5;
    o->seed = 0x5eed;
}

char *math_normalize(const char *s, size_t len, size_t *outlen)
{
    return mathnorm_run(s, len, MATHNORM_DISPLAY, outlen);
}

int math_equiv(const char *ref, size_t rlen, const char *cand, size_t clen, const math_opts *o)
{
    ctx c;
    math_opts_default(&c.o);
    if (o) {
        c.o = *o;
        if (!(c.o.rel_tol >= 0 && c.o.rel_tol < 1))
            c.o.rel_tol = 1e-9;
        if (c.o.points < 1)
            c.o.points = 1;
        if (c.o.points > MATH_MAX_POINTS)
            c.o.points = MATH_MAX_POINTS;
    }
    size_t na, nb;
    char *da = mathnorm_run(ref, rlen, MATHNORM_DISPLAY, &na), *db = mathnorm_run(cand, clen, MATHNORM_DISPLAY, &nb);
    int r = da && db && na == nb && memcmp(da, db, na) == 0, oom = !da || !db;
    free(da);
    free(db);
    if (r || oom || rlen > MATHNORM_MAX_INPUT || clen > MATHNORM_MAX_INPUT)
        return r;
    char *sa = mathnorm_run(ref, rlen, 0, &na), *sb = mathnorm_run(cand, clen, 0, &nb);
    answer *A = NULL, *B = NULL;
    if (!sa || !sb)
        goto done;
    if (c.o.require_reduced && unreduced(sa, na) != unreduced(sb, nb))
        goto done;
    A = read_answer(sa, na);
    B = read_answer(sb, nb);
    if (A && B && !A->failed && !B->failed)
        r = cmp_answers(&c, A, B);
done:
    free_answer(A);
    free_answer(B);
    free(sa);
    free(sb);
    return r;
}
