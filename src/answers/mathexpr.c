/* mathexpr: the scalar expression parser and evaluator (grammar in
 * mathexpr.h). A recursive-descent parser over the LaTeX tokens of latex.h
 * builds a node array sized from the input length (every node consumes
 * input), so parsing needs one allocation and hostile input stays bounded.
 * Evaluation is a walk over mathnum values; a second walk in 128-bit
 * rationals answers "is this an exact rational?" without any tolerance. */
#include "answers/mathexpr.h"
#include "answers/latex.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    N_NUM, N_VAR, N_PI, N_E, N_I, N_INF, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_POW, N_FACT,
    N_FN, N_LOG, N_EXP, N_SQRT, N_ROOT, N_ABS, N_FLOOR, N_CEIL, N_BINOM
};

typedef struct node {
    uint8_t op, fn, exact;
    int32_t a, b;          /* children, -1 when unused (N_LOG: b = -1 is base 10, fn = 1 is ln) */
    int64_t num, den;      /* N_NUM when exact */
    mathnum val;           /* N_NUM */
} node;

struct mathexpr {
    node *nodes;
    char *src;             /* private copy: variable names point into it */
    int n, cap, root;
    int nvars;
    struct { const char *s; size_t len; } vars[MATHEXPR_MAX_VARS];
    int has_inf;
};

typedef struct parser {
    const char *s;
    size_t n, i;
    int depth, abs_depth, err;
    mathexpr *x;
} parser;

/* ---- building ---- */

static int fail(parser *p, int err)
{
    if (!p->err)
        p->err = err;
    return -1;
}

static int add(parser *p, int op, int a, int b)
{
    if (p->err || (op >= N_NEG && a < 0))
        return fail(p, MATHEXPR_ESYNTAX);
    if (p->x->n >= p->x->cap)
        return fail(p, MATHEXPR_ELIMIT);
    node *nd = &p->x->nodes[p->x->n];
    memset(nd, 0, sizeof *nd);
    nd->op = (uint8_t)op;
    nd->a = a;
    nd->b = b;
    return p->x->n++;
}

/* ---- lexing ---- */

static void ws(parser *p)
{
    while (p->i < p->n && isspace((unsigned char)p->s[p->i]))
        p->i++;
}

static int peek(parser *p)
{
    ws(p);
    return p->i < p->n ? (unsigned char)p->s[p->i] : -1;
}

static int eat_cmd(parser *p, const char *name)
{
    ws(p);
    if (!latex_cmd_is(p->s, p->n, p->i, name))
        return 0;
    p->i += 1 + strlen(name);
    return 1;
}

static int eat(parser *p, int c)
{
    if (peek(p) != c)
        return 0;
    p->i++;
    return 1;
}

static const struct { const char *name; int fn; } funcs[] = {
    {"arcsin", MATHNUM_ASIN}, {"arccos", MATHNUM_ACOS}, {"arctan", MATHNUM_ATAN},
    {"sinh", MATHNUM_SINH}, {"cosh", MATHNUM_COSH}, {"tanh", MATHNUM_TANH},
    {"sin", MATHNUM_SIN}, {"cos", MATHNUM_COS}, {"tan", MATHNUM_TAN},
    {"sec", MATHNUM_SEC}, {"csc", MATHNUM_CSC}, {"cot", MATHNUM_COT},
    {"ln", -1}, {"log", -2}, {"exp", -3},
};
#define NFUNCS (sizeof funcs / sizeof *funcs)

static const char *const greek[] = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
    "Lambda", "Xi", "Sigma", "Phi", "Psi", "Omega", NULL};

static int func_at(const char *s, size_t len)
{
    for (size_t k = 0; k < NFUNCS; k++)
        if (latex_name_is(s, len, funcs[k].name))
            return (int)k;
    return -1;
}

static int is_greek(const char *s, size_t len) { return latex_name_in(s, len, greek); }

/* A command that can begin an operand (so it may follow without an
 * operator: "2\pi", "3\sqrt{2}"). */
static int primary_cmd(parser *p, size_t i)
{
    size_t L = latex_cmd_len(p->s, p->n, i);
    const char *c = p->s + i + 1;
    if (!L)
        return 0;
    static const char *const starts[] = {"frac", "sqrt", "binom", "pi", "infty", "lfloor", "lceil", NULL};
    return latex_name_in(c, L, starts) || func_at(c, L) >= 0 || is_greek(c, L);
}

static int starts_primary(parser *p)
{
    int c = peek(p);
    if (c < 0)
        return 0;
    if (isdigit(c) || c == '.' || isalpha(c) || c == '(' || c == '[' || c == '{')
        return 1;
    if (c == '|')
        return p->abs_depth == 0;
    return c == '\\' && primary_cmd(p, p->i);
}

/* does a function name (with or without backslash) start here? */
static int starts_func(parser *p)
{
    ws(p);
    size_t L = latex_cmd_len(p->s, p->n, p->i);
    if (L)
        return func_at(p->s + p->i + 1, L) >= 0;
    for (size_t k = 0; k < NFUNCS; k++) {
        size_t fl = strlen(funcs[k].name);
        if (p->i + fl <= p->n && memcmp(p->s + p->i, funcs[k].name, fl) == 0)
            return 1;
    }
    return 0;
}

/* ---- grammar ---- */

static int expr(parser *p);
static int unary(parser *p);
static int powfactor(parser *p);
static int primary(parser *p);

static int enter(parser *p)
{
    if (++p->depth > MATHEXPR_MAX_DEPTH)
        return fail(p, MATHEXPR_ELIMIT);
    return 0;
}

static int number(parser *p)
{
    size_t st = p->i, k = st;
    int dot = 0, digits = 0, fracd = 0, sig = 0;
    int64_t num = 0;
    int exact = 1;
    while (k < p->n && (isdigit((unsigned char)p->s[k]) || (p->s[k] == '.' && !dot))) {
        if (p->s[k] == '.') {
            /* "3." followed by a non-digit is an integer and a full stop */
            if (k + 1 >= p->n || !isdigit((unsigned char)p->s[k + 1]))
                break;
            dot = 1;
        } else {
            digits++;
            if (dot)
                fracd++;
            if (sig || p->s[k] != '0')
                sig++;
            if (sig > 18)
                exact = 0;
            else
                num = num * 10 + (p->s[k] - '0');
        }
        k++;
    }
    if (!digits)
        return fail(p, MATHEXPR_ESYNTAX);
    p->i = k;
    int id = add(p, N_NUM, -1, -1);
    if (id < 0)
        return id;
    node *nd = &p->x->nodes[id];
    char tmp[64];
    double v;
    if (k - st < sizeof tmp) {
        memcpy(tmp, p->s + st, k - st);
        tmp[k - st] = 0;
        v = strtod(tmp, NULL);
        nd->val = mathnum_real(v, !dot && v < 0x1p53);
    } else {
        /* a huge literal: 17 significant digits times a power of ten */
        size_t j = st, w = 0;
        int64_t intd = 0;
        while (j < k && p->s[j] != '.') {
            if (w < 17 && (w || p->s[j] != '0'))
                tmp[w++] = p->s[j];
            if (w || p->s[j] != '0')
                intd++;
            j++;
        }
        tmp[w] = 0;
        v = w ? strtod(tmp, NULL) : 0;
        nd->val = mathnum_mul(mathnum_real(v, 0), mathnum_powi(mathnum_real(10, 1), intd - (int64_t)w));
    }
    if (exact && fracd <= 18) {
        int64_t den = 1;
        for (int q = 0; q < fracd; q++)
            den *= 10;
        nd->num = num;
        nd->den = den;
        nd->exact = 1;
    }
    return id;
}

/* "\frac{39}{40}" or "\frac39" of two digit-only literals starting at i:
 * returns the index after it, and the two spans; 0 if it is not one. */
static size_t int_frac_at(parser *p, size_t i, size_t sp[4])
{
    if (!latex_cmd_is(p->s, p->n, i, "frac"))
        return 0;
    i += 5;
    for (int k = 0; k < 2; k++) {
        i = latex_skip_spaces(p->s, p->n, i);
        if (i < p->n && p->s[i] == '{') {
            size_t a = ++i;
            while (i < p->n && isdigit((unsigned char)p->s[i]))
                i++;
            if (i == a || i >= p->n || p->s[i] != '}')
                return 0;
            sp[2 * k] = a;
            sp[2 * k + 1] = i++;
        } else if (i < p->n && isdigit((unsigned char)p->s[i])) {
            sp[2 * k] = i;
            sp[2 * k + 1] = ++i;
        } else
            return 0;
    }
    return i;
}

static int digits_less(const char *a, size_t al, const char *b, size_t bl)
{
    while (al > 1 && *a == '0')
        a++, al--;
    while (bl > 1 && *b == '0')
        b++, bl--;
    if (al != bl)
        return al < bl;
    return memcmp(a, b, al) < 0;
}

static int sub_number(parser *p, size_t a, size_t b)
{
    parser q = *p;
    q.i = a;
    q.n = b;
    int id = number(&q);
    p->err = q.err;
    return id;
}

/* "0.\overline{3}", "0.1\overline{6}": the literal at st..p->i continues
 * with a repeating block; rewrites node id into the exact fraction */
static void repeating(parser *p, size_t st, int id)
{
    size_t k = p->i, r0, r1;
    int dot = 0;
    for (size_t j = st; j < k; j++)
        dot |= p->s[j] == '.';
    if (!dot && k < p->n && p->s[k] == '.')
        k++;
    else if (!dot)
        return;
    if (!latex_cmd_is(p->s, p->n, k, "overline"))
        return;
    k += 9;
    if (k < p->n && p->s[k] == '{') {
        r0 = ++k;
        while (k < p->n && isdigit((unsigned char)p->s[k]))
            k++;
        r1 = k;
        if (k >= p->n || p->s[k] != '}')
            return;
        k++;
    } else if (k < p->n && isdigit((unsigned char)p->s[k])) {
        r0 = k;
        r1 = ++k;
    } else
        return;
    /* digits before: A with f after the point; block R of r digits:
     * value = (A * (10^r - 1) + R) / (10^f * (10^r - 1)) */
    int64_t A = 0, R = 0, tf = 1, tr = 1;
    int f = 0, digits = 0, seen = 0;
    for (size_t j = st; j < p->i; j++) {
        if (p->s[j] == '.') {
            seen = 1;
            continue;
        }
        A = A * 10 + (p->s[j] - '0');
        digits++;
        if (seen)
            f++, tf *= 10;
    }
    for (size_t j = r0; j < r1; j++)
        R = R * 10 + (p->s[j] - '0'), tr *= 10, digits++;
    if (r1 == r0 || digits > 17)
        return;
    node *nd = &p->x->nodes[id];
    nd->num = A * (tr - 1) + R;
    nd->den = tf * (tr - 1);
    nd->exact = 1;
    nd->val = mathnum_div(mathnum_real((double)nd->num, 1), mathnum_real((double)nd->den, 1));
    p->i = k;
}

static int literal(parser *p)
{
    size_t st = p->i;
    int id = number(p);
    if (id < 0)
        return id;
    repeating(p, st, id);
    size_t sp[4], end;
    int intlit = 1;
    for (size_t k = st; k < p->i; k++)
        if (p->s[k] == '.')
            intlit = 0;
    /* mixed number: 15\frac{39}{40} */
    if (intlit && (end = int_frac_at(p, p->i, sp)) &&
        digits_less(p->s + sp[0], sp[1] - sp[0], p->s + sp[2], sp[3] - sp[2])) {
        int a = sub_number(p, sp[0], sp[1]), b = sub_number(p, sp[2], sp[3]);
        p->i = end;
        return add(p, N_ADD, id, add(p, N_DIV, a, b));
    }
    return id;
}

static int add_var(parser *p, const char *s, size_t len)
{
    mathexpr *x = p->x;
    for (int k = 0; k < x->nvars; k++)
        if (x->vars[k].len == len && memcmp(x->vars[k].s, s, len) == 0)
            return add(p, N_VAR, k, -1);
    if (x->nvars >= MATHEXPR_MAX_VARS)
        return fail(p, MATHEXPR_ELIMIT);
    x->vars[x->nvars].s = s;
    x->vars[x->nvars].len = len;
    return add(p, N_VAR, x->nvars++, -1);
}

/* "_1", "_{n+1}" after a variable: extends its name. The group is matched
 * without taking \{ \} as text, unlike latex_group_end: with it "a_{\{}"
 * would become a variable instead of a parse error: a change of which
 * answers compare equal, not to be made in passing. */
static void subscript(parser *p)
{
    if (p->i >= p->n || p->s[p->i] != '_')
        return;
    size_t k = p->i + 1;
    if (k < p->n && p->s[k] == '{') {
        int d = 0;
        for (; k < p->n; k++) {
            if (p->s[k] == '{')
                d++;
            else if (p->s[k] == '}' && --d == 0)
                break;
        }
        if (k < p->n)
            p->i = k + 1;
    } else if (k < p->n && isalnum((unsigned char)p->s[k]))
        p->i = k + 1;
}

/* a LaTeX macro argument: {group}, one character, or one command */
static int arg(parser *p)
{
    int c = peek(p);
    if (c == '{') {
        p->i++;
        int id = expr(p);
        if (!eat(p, '}'))
            return fail(p, MATHEXPR_ESYNTAX);
        return id;
    }
    if (c >= 0 && isdigit(c)) {
        parser q = *p;
        q.n = p->i + 1;
        int id = number(&q);
        p->err = q.err;
        p->i = q.i;
        return id;
    }
    if (c >= 0 && isalpha(c)) {
        size_t st = p->i++;
        if (p->s[st] == 'e')
            return add(p, N_E, -1, -1);
        if (p->s[st] == 'i')
            return add(p, N_I, -1, -1);
        return add_var(p, p->s + st, 1);
    }
    if (c == '\\')
        return primary(p);
    return fail(p, MATHEXPR_ESYNTAX);
}

/* the exponent after ^: plain-text friendly ("x^10", "x^-1", "x^{2n}") */
static int powarg(parser *p)
{
    if (enter(p) < 0)
        return -1;
    int neg = 0, id;
    while (peek(p) == '-' || peek(p) == '+') {
        if (p->s[p->i] == '-')
            neg = !neg;
        p->i++;
    }
    int c = peek(p);
    if (c >= 0 && (isdigit(c) || c == '.'))
        id = number(p);
    else if (c == '(' || c == '[')
        id = primary(p);
    else
        id = arg(p);
    if (neg)
        id = add(p, N_NEG, id, -1);
    if (peek(p) == '^') {
        p->i++;
        id = add(p, N_POW, id, powarg(p));
    }
    p->depth--;
    return id;
}

/* A digit, spaces, then a digit or '.' around the position (which the
 * lexer may already have moved past the spaces): "1 2" is no product, and
 * no 12 either. */
static int spaced_digits(parser *p)
{
    size_t k = p->i, j;
    while (k < p->n && isspace((unsigned char)p->s[k]))
        k++;
    for (j = k; j > 0 && isspace((unsigned char)p->s[j - 1]); j--)
        ;
    return j < k && j > 0 && k < p->n && isdigit((unsigned char)p->s[j - 1]) &&
           (isdigit((unsigned char)p->s[k]) || p->s[k] == '.');
}

static int func(parser *p, int k)
{
    int fn = funcs[k].fn, pw = -1, base = -1, inverse = 0;
    if (peek(p) == '_' && fn == -2) {
        p->i++;
        base = arg(p);
    }
    if (peek(p) == '^') {
        p->i++;
        size_t st = p->i;
        pw = powarg(p);
        /* \sin^{-1} x is arcsin x */
        const char *t = p->s + st;
        size_t tl = p->i - st;
        if (fn >= MATHNUM_SIN && fn <= MATHNUM_TAN &&
            ((tl == 4 && memcmp(t, "{-1}", 4) == 0) || (tl == 2 && memcmp(t, "-1", 2) == 0))) {
            inverse = 1;
            pw = -1;
        }
    }
    if (peek(p) == '_' && fn == -2 && base < 0) {
        p->i++;
        base = arg(p);
    }
    int a;
    if (peek(p) == '(') {
        a = primary(p);
    } else {
        /* "\sin 2x": the implicit product up to an operator or a function */
        a = powfactor(p);
        while (!p->err && !spaced_digits(p) && starts_primary(p) && !starts_func(p))
            a = add(p, N_MUL, a, powfactor(p));
    }
    int id;
    if (fn == -1) {
        id = add(p, N_LOG, a, -1);
        if (id >= 0)
            p->x->nodes[id].fn = 1;
    } else if (fn == -2)
        id = add(p, N_LOG, a, base);
    else if (fn == -3)
        id = add(p, N_EXP, a, -1);
    else {
        id = add(p, N_FN, a, -1);
        if (id >= 0)
            p->x->nodes[id].fn = (uint8_t)(inverse ? fn + (MATHNUM_ASIN - MATHNUM_SIN) : fn);
    }
    if (pw >= 0)
        id = add(p, N_POW, id, pw);
    return id;
}

static int group(parser *p, int close_cmd_floor)
{
    int id = expr(p);
    if (close_cmd_floor == 1 ? !eat_cmd(p, "rfloor") : !eat_cmd(p, "rceil"))
        return fail(p, MATHEXPR_ESYNTAX);
    return id;
}

static int command(parser *p)
{
    size_t L = latex_cmd_len(p->s, p->n, p->i);
    const char *c = p->s + p->i + 1;
    if (!L)
        return fail(p, MATHEXPR_ESYNTAX);
    p->i += 1 + L;
    int k = func_at(c, L);
    if (k >= 0)
        return func(p, k);
    if (is_greek(c, L)) {
        subscript(p);
        return add_var(p, c - 1, (size_t)(p->s + p->i - (c - 1)));
    }
#define IS(name) latex_name_is(c, L, name)
    if (IS("pi"))
        return add(p, N_PI, -1, -1);
    if (IS("infty")) {
        p->x->has_inf = 1;
        return add(p, N_INF, -1, -1);
    }
    if (IS("frac")) {
        int a = arg(p);
        return add(p, N_DIV, a, arg(p));
    }
    if (IS("binom")) {
        int a = arg(p);
        return add(p, N_BINOM, a, arg(p));
    }
    if (IS("sqrt")) {
        int idx = -1;
        if (peek(p) == '[') {
            p->i++;
            idx = expr(p);
            if (!eat(p, ']'))
                return fail(p, MATHEXPR_ESYNTAX);
        }
        int a = arg(p);
        return idx < 0 ? add(p, N_SQRT, a, -1) : add(p, N_ROOT, a, idx);
    }
    if (IS("lfloor"))
        return add(p, N_FLOOR, group(p, 1), -1);
    if (IS("lceil"))
        return add(p, N_CEIL, group(p, 2), -1);
#undef IS
    return fail(p, MATHEXPR_ESYNTAX);
}

static int letters(parser *p)
{
    size_t st = p->i, k = st;
    while (k < p->n && isalpha((unsigned char)p->s[k]))
        k++;
    size_t run = k - st;
    if (run >= 2) {
        /* longest known name at the start of the run */
        int best = -1;
        size_t bl = 0;
        for (size_t f = 0; f < NFUNCS; f++) {
            size_t fl = strlen(funcs[f].name);
            if (fl <= run && fl > bl && memcmp(p->s + st, funcs[f].name, fl) == 0) {
                best = (int)f;
                bl = fl;
            }
        }
        if (best >= 0) {
            p->i = st + bl;
            return func(p, best);
        }
        if (memcmp(p->s + st, "pi", 2) == 0 && run == 2) {
            p->i = st + 2;
            return add(p, N_PI, -1, -1);
        }
        if (run >= 3)
            return fail(p, MATHEXPR_EWORD);
    }
    p->i = st + 1;
    subscript(p);
    if (p->i == st + 1 && p->s[st] == 'e')
        return add(p, N_E, -1, -1);
    if (p->i == st + 1 && p->s[st] == 'i')
        return add(p, N_I, -1, -1);
    return add_var(p, p->s + st, p->i - st);
}

static int primary(parser *p)
{
    if (enter(p) < 0)
        return -1;
    int c = peek(p), id;
    if (c < 0)
        id = fail(p, MATHEXPR_ESYNTAX);
    else if (isdigit(c) || c == '.')
        id = literal(p);
    else if (isalpha(c))
        id = letters(p);
    else if (c == '(' || c == '[' || c == '{') {
        p->i++;
        int save = p->abs_depth;
        p->abs_depth = 0;
        id = expr(p);
        p->abs_depth = save;
        if (!eat(p, c == '(' ? ')' : c == '[' ? ']' : '}'))
            id = fail(p, MATHEXPR_ESYNTAX);
    } else if (c == '|') {
        p->i++;
        p->abs_depth++;
        id = expr(p);
        p->abs_depth--;
        if (!eat(p, '|'))
            id = fail(p, MATHEXPR_ESYNTAX);
        id = add(p, N_ABS, id, -1);
    } else if (c == '\\')
        id = command(p);
    else
        id = fail(p, MATHEXPR_ESYNTAX);
    p->depth--;
    return id;
}

static int powfactor(parser *p)
{
    int id = primary(p);
    while (p->i < p->n && p->s[p->i] == '!') {
        if (p->i + 1 < p->n && p->s[p->i + 1] == '!')   /* double factorial: not read */
            return fail(p, MATHEXPR_ESYNTAX);
        p->i++;
        id = add(p, N_FACT, id, -1);
    }
    if (peek(p) == '^') {
        p->i++;
        id = add(p, N_POW, id, powarg(p));
    }
    return id;
}

static int unary(parser *p)
{
    if (enter(p) < 0)
        return -1;
    int id;
    if (eat(p, '-'))
        id = add(p, N_NEG, unary(p), -1);
    else if (eat(p, '+'))
        id = unary(p);
    else
        id = powfactor(p);
    p->depth--;
    return id;
}

static int mulop(parser *p)
{
    int c = peek(p);
    if (c == '*')
        return p->i++, N_MUL;
    if (c == '/')
        return p->i++, N_DIV;
    if (eat_cmd(p, "cdot") || eat_cmd(p, "times") || eat_cmd(p, "ast"))
        return N_MUL;
    if (eat_cmd(p, "div"))
        return N_DIV;
    return -1;
}

static int term(parser *p)
{
    int id = unary(p);
    while (!p->err) {
        if (spaced_digits(p))
            return fail(p, MATHEXPR_ESYNTAX);
        int op = mulop(p);
        if (op >= 0)
            id = add(p, op, id, unary(p));
        else if (starts_primary(p))
            id = add(p, N_MUL, id, powfactor(p));
        else
            break;
    }
    return id;
}

static int expr(parser *p)
{
    if (enter(p) < 0)
        return -1;
    int id = term(p);
    while (!p->err) {
        int c = peek(p);
        if (c == '+' || c == '-') {
            p->i++;
            id = add(p, c == '+' ? N_ADD : N_SUB, id, term(p));
        } else
            break;
    }
    p->depth--;
    return id;
}

mathexpr *mathexpr_parse(const char *s, size_t len, int *err)
{
    int e = 0;
    mathexpr *x = calloc(1, sizeof *x);
    /* every node consumes input, so a few per byte is plenty */
    size_t cap = len * 3 + 8 < MATHEXPR_MAX_NODES ? len * 3 + 8 : MATHEXPR_MAX_NODES;
    if (x) {
        x->nodes = malloc(cap * sizeof *x->nodes);
        x->cap = (int)cap;
        if ((x->src = malloc(len + 1))) {
            memcpy(x->src, s, len);
            x->src[len] = 0;
        }
    }
    if (!x || !x->nodes || !x->src) {
        mathexpr_free(x);
        if (err)
            *err = MATHEXPR_ENOMEM;
        return NULL;
    }
    parser p = {x->src, len, 0, 0, 0, 0, x};
    x->root = expr(&p);
    if (!p.err && peek(&p) >= 0)
        p.err = MATHEXPR_ESYNTAX;
    if (!p.err && x->root < 0)
        p.err = MATHEXPR_ESYNTAX;
    e = p.err;
    if (e) {
        mathexpr_free(x);
        x = NULL;
    }
    if (err)
        *err = e;
    return x;
}

void mathexpr_free(mathexpr *x)
{
    if (!x)
        return;
    free(x->nodes);
    free(x->src);
    free(x);
}

int mathexpr_nvars(const mathexpr *x) { return x->nvars; }
int mathexpr_has_inf(const mathexpr *x) { return x->has_inf; }

const char *mathexpr_var(const mathexpr *x, int i, size_t *len)
{
    if (i < 0 || i >= x->nvars)
        return NULL;
    if (len)
        *len = x->vars[i].len;
    return x->vars[i].s;
}

/* ---- evaluation ---- */

static mathnum binom(mathnum n, mathnum k)
{
    int64_t nn, kk;
    if (!mathnum_is_int(n, &nn) || !mathnum_is_int(k, &kk) || nn < 0)
        return mathnum_bad(MATHNUM_DOMAIN);
    if (kk < 0 || kk > nn)
        return mathnum_real(0, 1);
    if (kk > nn - kk)
        kk = nn - kk;
    if (kk > MATHNUM_FACT_MAX)
        return mathnum_bad(MATHNUM_RANGE);
    mathnum r = mathnum_real(1, 1);
    for (int64_t j = 1; j <= kk && !r.st; j++)
        r = mathnum_div(mathnum_mul(r, mathnum_real((double)(nn - kk + j), 1)), mathnum_real((double)j, 1));
    return r;
}

typedef struct { __int128 n, d; } rat;
static int exact(const mathexpr *x, int id, rat *out, int depth);

/* (-8)^{1/3} is -2, as \sqrt[3]{-8} is: a negative real to a rational
 * power p/q with q odd (reduced) takes the real branch, as competition
 * answers mean it, not the principal complex one (1 + i\sqrt{3}). */
static mathnum power(const mathexpr *x, int exp_id, mathnum a, mathnum b)
{
    rat r;
    if (a.im != 0 || a.re >= 0 || !exact(x, exp_id, &r, 0) || r.d == 1 || r.d % 2 == 0)
        return mathnum_pow(a, b);
    mathnum m = mathnum_pow(mathnum_abs(a), b);
    return r.n % 2 ? mathnum_neg(m) : m;
}

static mathnum eval(const mathexpr *x, int id, const mathnum *vals)
{
    const node *nd = &x->nodes[id];
    mathnum a, b;
    switch (nd->op) {
    case N_NUM: return nd->val;
    case N_VAR: return vals ? vals[nd->a] : mathnum_bad(MATHNUM_DOMAIN);
    case N_PI: return mathnum_real(M_PI, 0);
    case N_E: return mathnum_real(M_E, 0);
    case N_I: return mathnum_cplx(0, 1);
    case N_INF: return mathnum_bad(MATHNUM_RANGE);
    default: break;
    }
    a = eval(x, nd->a, vals);
    if (a.st)
        return a;
    switch (nd->op) {
    case N_NEG: return mathnum_neg(a);
    case N_FACT: return mathnum_fact(a);
    case N_FN: return mathnum_func(nd->fn, a);
    case N_EXP: return mathnum_exp(a);
    case N_SQRT: return mathnum_sqrt(a);
    case N_ABS: return mathnum_abs(a);
    case N_FLOOR: return mathnum_floor(a, 0);
    case N_CEIL: return mathnum_floor(a, 1);
    case N_LOG:
        if (nd->fn == 1)
            return mathnum_log(a);
        b = nd->b < 0 ? mathnum_real(10, 1) : eval(x, nd->b, vals);
        return mathnum_div(mathnum_log(a), mathnum_log(b));
    default: break;
    }
    b = eval(x, nd->b, vals);
    switch (nd->op) {
    case N_ADD: return mathnum_add(a, b);
    case N_SUB: return mathnum_sub(a, b);
    case N_MUL: return mathnum_mul(a, b);
    case N_DIV: return mathnum_div(a, b);
    case N_POW: return power(x, nd->b, a, b);
    case N_ROOT: return mathnum_root(a, b);
    case N_BINOM: return binom(a, b);
    default: return mathnum_bad(MATHNUM_DOMAIN);
    }
}

mathnum mathexpr_eval(const mathexpr *x, const mathnum *vals) { return eval(x, x->root, vals); }

/* ---- exact rationals ---- */

static __int128 gcd128(__int128 a, __int128 b)
{
    if (a < 0)
        a = -a;
    if (b < 0)
        b = -b;
    while (b) {
        __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* reduce; 0 when it no longer fits in 64 bits */
static int rnorm(rat *r)
{
    if (r->d == 0)
        return 0;
    if (r->d < 0) {
        r->n = -r->n;
        r->d = -r->d;
    }
    __int128 g = gcd128(r->n, r->d);
    if (g > 1) {
        r->n /= g;
        r->d /= g;
    }
    const __int128 lim = (__int128)INT64_MAX;
    return r->n <= lim && r->n >= -lim && r->d <= lim;
}

static int exact(const mathexpr *x, int id, rat *out, int depth)
{
    const node *nd = &x->nodes[id];
    rat a, b;
    if (depth > MATHEXPR_MAX_NODES)
        return 0;
    if (nd->op == N_NUM) {
        if (!nd->exact)
            return 0;
        out->n = nd->num;
        out->d = nd->den;
        return rnorm(out);
    }
    switch (nd->op) {
    case N_NEG: case N_ADD: case N_SUB: case N_MUL: case N_DIV: case N_POW:
    case N_FACT: case N_ABS: case N_FLOOR: case N_CEIL: case N_BINOM:
        break;
    default:
        return 0;
    }
    if (!exact(x, nd->a, &a, depth + 1))
        return 0;
    if (nd->op == N_NEG) {
        out->n = -a.n;
        out->d = a.d;
        return 1;
    }
    if (nd->op == N_ABS) {
        out->n = a.n < 0 ? -a.n : a.n;
        out->d = a.d;
        return 1;
    }
    if (nd->op == N_FLOOR || nd->op == N_CEIL) {
        __int128 q = a.n / a.d, r = a.n % a.d;
        if (r != 0 && (a.n < 0) == (nd->op == N_FLOOR))
            q += nd->op == N_FLOOR ? -1 : 1;
        out->n = q;
        out->d = 1;
        return 1;
    }
    if (nd->op == N_FACT) {
        if (a.d != 1 || a.n < 0 || a.n > 20)
            return 0;
        out->n = 1;
        out->d = 1;
        for (int k = 2; k <= (int)a.n; k++)
            out->n *= k;
        return 1;
    }
    if (!exact(x, nd->b, &b, depth + 1))
        return 0;
    switch (nd->op) {
    case N_ADD: out->n = a.n * b.d + b.n * a.d; out->d = a.d * b.d; break;
    case N_SUB: out->n = a.n * b.d - b.n * a.d; out->d = a.d * b.d; break;
    case N_MUL: out->n = a.n * b.n; out->d = a.d * b.d; break;
    case N_DIV:
        if (b.n == 0)
            return 0;
        out->n = a.n * b.d;
        out->d = a.d * b.n;
        break;
    case N_POW: {
        if (b.d != 1 || b.n > 64 || b.n < -64 || (b.n < 0 && a.n == 0))
            return 0;
        rat r = {1, 1}, base = b.n < 0 ? (rat){a.d, a.n} : a;
        for (int k = 0; k < (b.n < 0 ? -b.n : b.n); k++) {
            r.n *= base.n;
            r.d *= base.d;
            if (!rnorm(&r))
                return 0;
        }
        *out = r;
        break;
    }
    case N_BINOM: {
        if (a.d != 1 || b.d != 1 || a.n < 0 || a.n > 60)
            return 0;
        __int128 n = a.n, k = b.n, r = 1;
        if (k < 0 || k > n) {
            r = 0;
        } else {
            if (k > n - k)
                k = n - k;
            for (__int128 j = 1; j <= k; j++)
                r = r * (n - k + j) / j;
        }
        out->n = r;
        out->d = 1;
        break;
    }
    default:
        return 0;
    }
    return rnorm(out);
}

int mathexpr_exact(const mathexpr *x, int64_t *num, int64_t *den)
{
    rat r;
    if (!exact(x, x->root, &r, 0))
        return 0;
    *num = (int64_t)r.n;
    *den = (int64_t)r.d;
    return 1;
}
