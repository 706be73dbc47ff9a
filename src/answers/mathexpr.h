/* mathexpr: a parser and evaluator for the LaTeX-ish scalar expressions of
 * MATH answers ("3\sqrt{13}", "\frac{11+9a}{20}", "x^5-x^4+1", "\cot x").
 *
 * Numbers: "12", "0.5", ".5", and repeating decimals "0.\overline{3}",
 * "0.1\overline{6}" (exact: 1/3, 1/6). There is no "6.72e-5" notation: e is
 * Euler's number, so write "6.72\times10^{-5}".
 *
 * Grammar, loosest binding first: + and -; * \cdot \times / \div and
 * implicit multiplication (left to right, so "1/2x" is x/2; never between a
 * digit and a digit or '.' that only spaces separate: "1 2" is a syntax
 * error, neither 12 nor 2); unary - and +;
 * ^ (right associative; "x^10" reads the whole digit run, as plain text
 * does; a negative real to a rational power p/q with q odd is real, as
 * \sqrt[q]{} is: (-8)^{1/3} = -2); postfix ! (factorial). Primaries:
 * numbers ("12", "0.5", ".5"),
 * mixed numbers ("15\frac{39}{40}" is 15+39/40: an integer literal directly
 * followed by a \frac of two integer literals, numerator < denominator),
 * single-letter variables (with subscripts: "x_1", "a_{n}") and Greek
 * letters, e (Euler), i (imaginary unit), \pi, \infty (never evaluates),
 * (..) [..] {..} groups, |..|, \lfloor..\rfloor, \lceil..\rceil,
 * \frac{a}{b}, \sqrt{x}, \sqrt[n]{x}, \binom{n}{k}, \sin \cos \tan \sec
 * \csc \cot \arcsin \arccos \arctan \sinh \cosh \tanh \ln \exp, \log (base
 * 10, as in competition math) and \log_b. A function takes a parenthesised
 * argument, or else the implicit product that follows ("\sin 2x" is
 * sin(2x)); "\sin^2 x" is (sin x)^2 and "\sin^{-1}" is arcsin. Letter runs
 * "sin", "pi", "ln"... work without the backslash; any other run of three or
 * more letters is a word, not a product, so "east" and "seat" never compare
 * as equal products: parsing fails with MATHEXPR_EWORD.
 *
 * Bounds, so hostile input cannot make it hang: MATHEXPR_MAX_NODES nodes,
 * MATHEXPR_MAX_DEPTH nesting, MATHEXPR_MAX_VARS distinct variables, and the
 * limits of mathnum.h (exponent, factorial, integer power). */
#ifndef SLMMUX_MATHEXPR_H
#define SLMMUX_MATHEXPR_H
#include <stddef.h>
#include <stdint.h>

#include "answers/mathnum.h"

#define MATHEXPR_MAX_NODES 2048
#define MATHEXPR_MAX_DEPTH 64
#define MATHEXPR_MAX_VARS 16

enum { MATHEXPR_ESYNTAX = 1, MATHEXPR_EWORD = 2, MATHEXPR_ELIMIT = 3, MATHEXPR_ENOMEM = 4 };

typedef struct mathexpr mathexpr;

/* Parses s[0..len) as one whole expression (s is copied, not kept). NULL
 * on failure with *err (may be NULL) set to one of the MATHEXPR_E* codes. */
mathexpr *mathexpr_parse(const char *s, size_t len, int *err);
void mathexpr_free(mathexpr *x);   /* NULL is fine */

/* The distinct variables, in order of first appearance; a name is its
 * source text ("x", "a_{n}", "\theta") and is not NUL-terminated. */
int mathexpr_nvars(const mathexpr *x);
const char *mathexpr_var(const mathexpr *x, int i, size_t *len);

/* The value with vals[i] bound to variable i (vals may be NULL when there
 * are no variables). */
mathnum mathexpr_eval(const mathexpr *x, const mathnum *vals);

/* 1 and the reduced fraction num/den (den > 0) when the expression is a
 * rational constant computable in 64-bit integers (literals, + - * /,
 * integer powers, small factorials and binomials, |.|, floor, ceil); else 0.
 * Used so that rationals compare exactly, without any tolerance. */
int mathexpr_exact(const mathexpr *x, int64_t *num, int64_t *den);

/* 1 when the expression mentions \infty (numeric comparison is then
 * impossible and callers compare text). */
int mathexpr_has_inf(const mathexpr *x);

#endif
