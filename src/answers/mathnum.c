/* mathnum: arithmetic on wide-exponent complex numbers with a running
 * error bound (why, in mathnum.h). Each operation works on the doubles of
 * the mantissas, renormalizes into [0.5, 1) with frexp, and adds its own
 * rounding plus the first-order propagation of its inputs' errors. */
#include "answers/mathnum.h"

#include <complex.h>
#include <float.h>
#include <math.h>

#define EPS DBL_EPSILON
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10

/* ---- magnitudes ---- */

static mathxr xr_norm(double m, int64_t e)
{
    if (m == 0)
        return (mathxr){0, 0};
    if (!isfinite(m))
        return (mathxr){INFINITY, 0};
    int k;
    m = frexp(fabs(m), &k);
    return (mathxr){m, e + k};
}

static mathxr xr_from(double x) { return xr_norm(x, 0); }
static int xr_inf(mathxr a) { return isinf(a.m); }
static mathxr xr_scale(mathxr a, double f) { return xr_norm(a.m * f, a.e); }

/* ldexp that flushes to 0 for shifts far below the double range instead of
 * overflowing the int argument. */
static double shift(double x, int64_t d)
{
    if (d < -2200)
        return 0;
    if (d > 2200)
        return x == 0 ? 0 : copysign(INFINITY, x);
    return ldexp(x, (int)d);
}

static mathxr xr_add(mathxr a, mathxr b)
{
    if (a.m == 0)
        return b;
    if (b.m == 0)
        return a;
    if (xr_inf(a) || xr_inf(b))
        return (mathxr){INFINITY, 0};
    int64_t E = a.e > b.e ? a.e : b.e;
    /* round up a little: this is a bound */
    return xr_norm((shift(a.m, a.e - E) + shift(b.m, b.e - E)) * (1 + 2 * EPS), E);
}

static mathxr xr_mul(mathxr a, mathxr b)
{
    if (a.m == 0 || b.m == 0)
        return (mathxr){0, 0};
    if (xr_inf(a) || xr_inf(b))
        return (mathxr){INFINITY, 0};
    return xr_norm(a.m * b.m * (1 + 2 * EPS), a.e + b.e);
}

static mathxr xr_div(mathxr a, mathxr b)
{
    if (a.m == 0)
        return a;
    if (b.m == 0 || xr_inf(a))
        return (mathxr){INFINITY, 0};
    if (xr_inf(b))
        return (mathxr){0, 0};
    return xr_norm(a.m / b.m * (1 + 2 * EPS), a.e - b.e);
}

static int xr_le(mathxr a, mathxr b)
{
    if (a.m == 0)
        return 1;
    if (xr_inf(a))
        return 0;
    if (xr_inf(b))
        return 1;
    if (b.m == 0)
        return 0;
    return a.e != b.e ? a.e < b.e : a.m <= b.m;
}

/* a - b for a >= b, else 0 */
static mathxr xr_sub(mathxr a, mathxr b)
{
    if (xr_le(a, b))
        return (mathxr){0, 0};
    if (b.m == 0)
        return a;
    return xr_norm((a.m - shift(b.m, b.e - a.e)) * (1 - 2 * EPS), a.e);
}

static mathxr xr_sqrt(mathxr a)
{
    if (a.m == 0 || xr_inf(a))
        return a;
    double m = a.m;
    int64_t e = a.e;
    if (e & 1) {
        m *= 2;
        e -= 1;
    }
    return xr_norm(sqrt(m) * (1 + 2 * EPS), e / 2);
}

static mathxr xr_min(mathxr a, mathxr b) { return xr_le(a, b) ? a : b; }

static double xr_double(mathxr a)
{
    if (xr_inf(a))
        return INFINITY;
    return shift(a.m, a.e);
}

/* ---- numbers ---- */

mathnum mathnum_bad(int st)
{
    mathnum r = {0, 0, 0, {0, 0}, st};
    return r;
}

static mathnum mk(double re, double im, int64_t e, mathxr err)
{
    if (!isfinite(re) || !isfinite(im) || xr_inf(err))
        return mathnum_bad(MATHNUM_DOMAIN);
    /* -0 + 0 is +0: a negated real must keep its branch-cut side */
    re += 0.0;
    im += 0.0;
    mathnum r = {re, im, 0, err, MATHNUM_OK};
    double m = fmax(fabs(re), fabs(im));
    if (m != 0) {
        int k;
        frexp(m, &k);
        r.re = ldexp(re, -k);
        r.im = ldexp(im, -k);
        r.e = e + k;
        if (r.e > MATHNUM_EMAX || r.e < -MATHNUM_EMAX)
            return mathnum_bad(MATHNUM_RANGE);
    }
    return r;
}

static mathxr absx(mathnum a) { return xr_norm(hypot(a.re, a.im), a.e); }
static int is_zero(mathnum a) { return a.re == 0 && a.im == 0; }
static int exact_real(mathnum a) { return a.err.m == 0 && a.im == 0; }
static int worst(mathnum a, mathnum b) { return a.st > b.st ? a.st : b.st; }
static mathxr rnd(mathnum r, double k) { return xr_scale(absx(r), k * EPS); }

mathnum mathnum_real(double x, int exact)
{
    mathnum r = mk(x, 0, 0, (mathxr){0, 0});
    if (!exact && r.st == MATHNUM_OK)
        r.err = rnd(r, 0.5);
    return r;
}

mathnum mathnum_cplx(double re, double im) { return mk(re, im, 0, (mathxr){0, 0}); }

mathnum mathnum_neg(mathnum a)
{
    if (a.st)
        return a;
    a.re = -a.re + 0.0;
    a.im = -a.im + 0.0;
    return a;
}

mathnum mathnum_add(mathnum a, mathnum b)
{
    if (a.st || b.st)
        return mathnum_bad(worst(a, b));
    if (is_zero(a) || is_zero(b)) {
        mathnum r = is_zero(a) ? b : a;
        r.err = xr_add(a.err, b.err);
        return r;
    }
    int64_t E = a.e > b.e ? a.e : b.e;
    double ar = shift(a.re, a.e - E), ai = shift(a.im, a.e - E);
    double br = shift(b.re, b.e - E), bi = shift(b.im, b.e - E);
    double re = ar + br, im = ai + bi;
    mathnum r = mk(re, im, E, xr_add(a.err, b.err));
    if (r.st)
        return r;
    /* two exact reals whose sum rounds to nothing stay exact (Knuth's TwoSum
     * test); only for small shifts, where shift() lost no bits */
    int exact = exact_real(a) && exact_real(b) && a.e - E > -60 && b.e - E > -60 &&
                re - ar == br && re - br == ar;
    if (!exact)
        r.err = xr_add(r.err, rnd(r, 1));
    return r;
}

mathnum mathnum_sub(mathnum a, mathnum b) { return mathnum_add(a, mathnum_neg(b)); }

mathnum mathnum_mul(mathnum a, mathnum b)
{
    if (a.st || b.st)
        return mathnum_bad(worst(a, b));
    double re = a.re * b.re - a.im * b.im, im = a.re * b.im + a.im * b.re;
    mathxr err = xr_add(xr_add(xr_mul(absx(a), b.err), xr_mul(absx(b), a.err)), xr_mul(a.err, b.err));
    mathnum r = mk(re, im, a.e + b.e, err);
    if (r.st)
        return r;
    int exact = exact_real(a) && exact_real(b) && fma(a.re, b.re, -re) == 0;
    if (!exact)
        r.err = xr_add(r.err, rnd(r, 2));
    return r;
}

mathnum mathnum_div(mathnum a, mathnum b)
{
    if (a.st || b.st)
        return mathnum_bad(worst(a, b));
    mathxr mb = absx(b);
    if (is_zero(b) || xr_le(mb, b.err))
        return mathnum_bad(MATHNUM_DOMAIN);
    double d = b.re * b.re + b.im * b.im;
    double re = (a.re * b.re + a.im * b.im) / d, im = (a.im * b.re - a.re * b.im) / d;
    if (b.im == 0) {
        re = a.re / b.re;
        im = a.im / b.re;
    }
    mathnum c = mk(re, im, a.e - b.e, (mathxr){0, 0});
    if (c.st)
        return c;
    mathxr num = xr_add(a.err, xr_mul(absx(c), b.err));
    c.err = xr_div(num, xr_sub(mb, b.err));
    int exact = exact_real(a) && exact_real(b) && fma(re, b.re, -a.re) == 0;
    if (!exact)
        c.err = xr_add(c.err, rnd(c, 2));
    if (xr_inf(c.err))
        return mathnum_bad(MATHNUM_DOMAIN);
    return c;
}

mathnum mathnum_powi(mathnum a, int64_t n)
{
    if (a.st)
        return a;
    if (n == 0)
        return mathnum_real(1, 1);
    if (n > MATHNUM_POW_MAX || n < -MATHNUM_POW_MAX)
        return mathnum_bad(MATHNUM_RANGE);
    uint64_t k = n < 0 ? (uint64_t)(-n) : (uint64_t)n;
    mathnum r = mathnum_real(1, 1), base = a;
    while (k) {
        if (k & 1)
            r = mathnum_mul(r, base);
        k >>= 1;
        if (k)
            base = mathnum_mul(base, base);
        if (r.st || base.st)
            return r.st ? r : base;
    }
    return n < 0 ? mathnum_div(mathnum_real(1, 1), r) : r;
}

mathnum mathnum_exp(mathnum a)
{
    if (a.st)
        return a;
    if (is_zero(a) && a.err.m == 0)
        return mathnum_real(1, 1);
    if (a.e > 44)
        return mathnum_bad(MATHNUM_RANGE);
    double X = shift(a.re, a.e), Y = shift(a.im, a.e);
    double k = floor(X / LN2_HI);
    double r = fma(-k, LN2_LO, fma(-k, LN2_HI, X));
    double m = exp(r);
    mathnum out = mk(m * cos(Y), m * sin(Y), (int64_t)k, (mathxr){0, 0});
    if (out.st)
        return out;
    out.err = xr_mul(absx(out), xr_add(a.err, xr_from(EPS * (2 + fabs(X) + fabs(Y)))));
    return out;
}

mathnum mathnum_log(mathnum a)
{
    if (a.st)
        return a;
    mathxr ma = absx(a);
    if (is_zero(a) || xr_le(ma, a.err))
        return mathnum_bad(MATHNUM_DOMAIN);
    if (exact_real(a) && a.re == 0.5 && a.e == 1)
        return mathnum_real(0, 1);   /* log 1 */
    double L = log(hypot(a.re, a.im)) + (double)a.e * M_LN2, A = atan2(a.im, a.re);
    mathnum r = mk(L, A, 0, (mathxr){0, 0});
    if (r.st)
        return r;
    r.err = xr_add(xr_div(a.err, ma), xr_from(EPS * (2 + fabs(L) + fabs(A))));
    return r;
}

mathnum mathnum_sqrt(mathnum a)
{
    if (a.st)
        return a;
    double re = a.re, im = a.im;
    int64_t e = a.e;
    if (e & 1) {
        re *= 2;
        im *= 2;
        e -= 1;
    }
    double complex s = csqrt(re + im * I);
    mathnum r = mk(creal(s), cimag(s), e / 2, (mathxr){0, 0});
    if (r.st)
        return r;
    int exact = exact_real(a) && re >= 0 && fma(creal(s), creal(s), -re) == 0;
    if (!exact) {
        mathxr ms = absx(r);
        mathxr lin = ms.m == 0 ? (mathxr){INFINITY, 0} : xr_div(a.err, xr_scale(ms, 2));
        r.err = xr_add(xr_min(lin, xr_sqrt(a.err)), rnd(r, 1));
    }
    return r;
}

mathnum mathnum_pow(mathnum a, mathnum b)
{
    if (a.st || b.st)
        return mathnum_bad(worst(a, b));
    int64_t n;
    if (b.err.m == 0 && mathnum_is_int(b, &n))
        return mathnum_powi(a, n);
    if (is_zero(a) && a.err.m == 0) {
        if (b.re > 0)
            return a;
        return mathnum_bad(MATHNUM_DOMAIN);
    }
    if (b.err.m == 0 && b.im == 0 && b.re == 0.5 && b.e == 0)
        return mathnum_sqrt(a);
    return mathnum_exp(mathnum_mul(b, mathnum_log(a)));
}

mathnum mathnum_root(mathnum a, mathnum n)
{
    int64_t k;
    if (a.st || n.st)
        return mathnum_bad(worst(a, n));
    if (!mathnum_is_int(n, &k) || k < 1)
        return mathnum_pow(a, mathnum_div(mathnum_real(1, 1), n));
    if (k == 1)
        return a;
    if (k == 2)
        return mathnum_sqrt(a);
    mathnum inv = mathnum_div(mathnum_real(1, 1), mathnum_real((double)k, 1));
    /* \sqrt[3]{-8} is -2 in every textbook, not the principal 1+1.73i */
    if (a.im == 0 && a.re < 0 && (k & 1))
        return mathnum_neg(mathnum_pow(mathnum_neg(a), inv));
    return mathnum_pow(a, inv);
}

mathnum mathnum_func(int which, mathnum a)
{
    if (a.st)
        return a;
    if (a.e > 50)
        return mathnum_bad(MATHNUM_RANGE);
    double complex z = shift(a.re, a.e) + shift(a.im, a.e) * I, f, d;
    switch (which) {
    case MATHNUM_SIN: f = csin(z); d = ccos(z); break;
    case MATHNUM_COS: f = ccos(z); d = csin(z); break;
    case MATHNUM_TAN: f = ctan(z); d = 1 + f * f; break;
    case MATHNUM_SEC: f = 1 / ccos(z); d = f * ctan(z); break;
    case MATHNUM_CSC: f = 1 / csin(z); d = f / ctan(z); break;
    case MATHNUM_COT: f = 1 / ctan(z); d = 1 + f * f; break;
    case MATHNUM_ASIN: f = casin(z); d = 1 / csqrt(1 - z * z); break;
    case MATHNUM_ACOS: f = cacos(z); d = 1 / csqrt(1 - z * z); break;
    case MATHNUM_ATAN: f = catan(z); d = 1 / (1 + z * z); break;
    case MATHNUM_SINH: f = csinh(z); d = ccosh(z); break;
    case MATHNUM_COSH: f = ccosh(z); d = csinh(z); break;
    case MATHNUM_TANH: f = ctanh(z); d = 1 - f * f; break;
    default: return mathnum_bad(MATHNUM_DOMAIN);
    }
    double dd = cabs(d);
    if (!isfinite(creal(f)) || !isfinite(cimag(f)) || !isfinite(dd))
        return mathnum_bad(MATHNUM_DOMAIN);
    mathnum r = mk(creal(f), cimag(f), 0, (mathxr){0, 0});
    if (r.st)
        return r;
    mathxr in = xr_add(a.err, xr_from(EPS * cabs(z)));
    r.err = xr_add(xr_mul(xr_from(dd), in), rnd(r, 2));
    return r;
}

mathnum mathnum_abs(mathnum a)
{
    if (a.st)
        return a;
    mathnum r = mk(hypot(a.re, a.im), 0, a.e, a.err);
    if (a.im != 0 && r.st == MATHNUM_OK)
        r.err = xr_add(r.err, rnd(r, 1));
    return r;
}

mathnum mathnum_floor(mathnum a, int up)
{
    if (a.st)
        return a;
    if (a.im != 0)
        return mathnum_bad(MATHNUM_DOMAIN);
    double err = xr_double(a.err);
    if (a.e > 60)
        return err < 0.5 ? a : mathnum_bad(MATHNUM_RANGE);
    double x = shift(a.re, a.e);
    double lo = up ? ceil(x - err) : floor(x - err), hi = up ? ceil(x + err) : floor(x + err);
    if (lo != hi)
        return mathnum_bad(MATHNUM_DOMAIN);
    return mathnum_real(lo, 1);
}

mathnum mathnum_fact(mathnum a)
{
    int64_t n;
    if (a.st)
        return a;
    if (!mathnum_is_int(a, &n) || n < 0)
        return mathnum_bad(a.e > 62 && a.im == 0 && a.re > 0 ? MATHNUM_RANGE : MATHNUM_DOMAIN);
    if (n > MATHNUM_FACT_MAX)
        return mathnum_bad(MATHNUM_RANGE);
    double m = 1;
    int64_t e = 0;
    for (int64_t i = 2; i <= n; i++) {
        m *= (double)i;
        if (m > 0x1p900) {
            int k;
            m = frexp(m, &k);
            e += k;
        }
    }
    mathnum r = mk(m, 0, e, (mathxr){0, 0});
    if (r.st == MATHNUM_OK && n > 18)   /* 18! < 2^53: exact below */
        r.err = rnd(r, (double)n);
    return r;
}

int mathnum_is_int(mathnum a, int64_t *n)
{
    if (a.st || a.e > 62)
        return 0;
    double err = xr_double(a.err);
    if (err >= 0.25 || fabs(shift(a.im, a.e)) > err)
        return 0;
    double x = shift(a.re, a.e), r = nearbyint(x);
    if (fabs(x - r) > err)
        return 0;
    *n = (int64_t)r;
    return 1;
}

double mathnum_absd(mathnum a)
{
    if (a.st)
        return NAN;
    return shift(hypot(a.re, a.im), a.e);
}

int mathnum_close(mathnum a, mathnum b, double rel_tol)
{
    if (a.st || b.st)
        return -1;
    mathxr ma = absx(a), mb = absx(b);
    mathxr scale = xr_scale(xr_le(ma, mb) ? mb : ma, rel_tol);
    mathnum d = mathnum_sub(a, b);
    if (d.st)
        return -1;
    mathxr md = absx(d);
    mathxr err4 = xr_scale(d.err, 4);
    /* clearly apart, whatever the rounding did */
    if (!xr_le(md, xr_add(scale, err4)))
        return 0;
    if (xr_le(md, scale) && xr_le(err4, scale))
        return 1;
    return -1;
}
