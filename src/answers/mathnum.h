/* mathnum: complex numbers with a wide binary exponent and a running error
 * bound, for comparing evaluated MATH answers.
 *
 * Why not plain doubles: answers such as \frac{1}{2004!} or 2^{5000} leave
 * the double range, and an overflowed inf (or an underflowed 0) would make
 * distinct answers compare equal. A mathnum is (re + i*im) * 2^e with a
 * 64-bit e, so magnitudes up to 2^(2^40) stay distinct.
 *
 * Why an error bound: x^2+2x+1 and (x+1)^2 never agree to the last bit, but
 * 2^{100}+1-2^{100} is not 0 either, although doubles compute 0. Every
 * operation adds its rounding and the propagated input error (first order)
 * to err; mathnum_close refuses to decide when err is not small against the
 * values (cancellation), instead of calling the numbers equal.
 *
 * Status: MATHNUM_DOMAIN marks an undefined result (division by zero, log 0,
 * tan at a pole, factorial of a non-integer); MATHNUM_RANGE a value we will
 * not compute (exponent beyond MATHNUM_EMAX, factorial beyond
 * MATHNUM_FACT_MAX, trig of a huge argument, infinity). Both propagate. */
#ifndef SLMMUX_MATHNUM_H
#define SLMMUX_MATHNUM_H
#include <stdint.h>

enum { MATHNUM_OK = 0, MATHNUM_DOMAIN = 1, MATHNUM_RANGE = 2 };

#define MATHNUM_EMAX ((int64_t)1 << 40)   /* |binary exponent| limit */
#define MATHNUM_FACT_MAX 10000            /* largest n for n! (n multiplications) */
#define MATHNUM_POW_MAX ((int64_t)1 << 31) /* largest |n| for exact integer powers */

/* A nonnegative magnitude m * 2^e, m in [0.5,1) or m == 0. */
typedef struct mathxr {
    double m;
    int64_t e;
} mathxr;

/* (re + i*im) * 2^e; max(|re|,|im|) in [0.5,1) unless both are 0 (then e=0).
 * err bounds the absolute error of the value. */
typedef struct mathnum {
    double re, im;
    int64_t e;
    mathxr err;
    int st;
} mathnum;

enum { MATHNUM_SIN, MATHNUM_COS, MATHNUM_TAN, MATHNUM_SEC, MATHNUM_CSC, MATHNUM_COT,
       MATHNUM_ASIN, MATHNUM_ACOS, MATHNUM_ATAN, MATHNUM_SINH, MATHNUM_COSH, MATHNUM_TANH };

/* x; exact = 1 when x is known to be exactly the intended value (integers
 * below 2^53), else half an ulp of error is recorded. */
mathnum mathnum_real(double x, int exact);
mathnum mathnum_cplx(double re, double im);   /* exact */
mathnum mathnum_bad(int st);

mathnum mathnum_add(mathnum a, mathnum b);
mathnum mathnum_sub(mathnum a, mathnum b);
mathnum mathnum_mul(mathnum a, mathnum b);
mathnum mathnum_div(mathnum a, mathnum b);
mathnum mathnum_neg(mathnum a);
mathnum mathnum_powi(mathnum a, int64_t n);   /* exact-integer power by squaring */
mathnum mathnum_pow(mathnum a, mathnum b);    /* principal branch; integer b uses powi */
mathnum mathnum_root(mathnum a, mathnum n);   /* n-th root; real odd root of a negative real is real */
mathnum mathnum_sqrt(mathnum a);
mathnum mathnum_exp(mathnum a);
mathnum mathnum_log(mathnum a);               /* natural, principal branch */
mathnum mathnum_func(int which, mathnum a);   /* MATHNUM_SIN ... */
mathnum mathnum_abs(mathnum a);
mathnum mathnum_floor(mathnum a, int ceil);   /* real only; DOMAIN if err straddles an integer */
mathnum mathnum_fact(mathnum a);              /* n! for an integer 0 <= n <= MATHNUM_FACT_MAX */

/* 1 when a is a real integer (within its error) that fits in |n| < 2^62. */
int mathnum_is_int(mathnum a, int64_t *n);
/* |a| as a double, or inf when it does not fit. */
double mathnum_absd(mathnum a);

/* 1: a and b agree within rel_tol * max(|a|,|b|) plus their error bounds;
 * 0: they differ; -1: undecidable (a bad status, or an error bound above
 * rel_tol of the values, i.e. cancellation ate the digits). A value is never
 * equal to a different value by underflow: there is no absolute tolerance. */
int mathnum_close(mathnum a, mathnum b, double rel_tol);

#endif
