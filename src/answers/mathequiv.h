/* mathequiv: is a candidate MATH answer the same as the reference answer?
 *
 * math_normalize gives the canonical string (mathnorm.h lists its rules):
 * equal strings mean equal answers, so it is the key for grouping votes.
 * math_equiv goes further, in this order:
 *   1. the two normalized strings are equal -> equivalent;
 *   2. with require_reduced, an unreduced integer fraction (\frac{2}{4},
 *      \frac{6}{1}) or an unsimplified radical (\sqrt{117}, \sqrt{4}) on
 *      one side only -> not equivalent;
 *   3. both answers are read as structures and compared:
 *      - a bare comma list "1,-2" is a list of answers, compared as a set
 *        unless ordered_lists: order and repeats do not count ("2, 2, 3" is
 *        "3, 2", "5, 5" is "5"); "and", "or" and ';' separate entries as
 *        ',' does ("2 or 3", "1; 2"); a set \{..\} is always a set and
 *        equals the same elements as a bare list ("\{5\}" is "5");
 *        \emptyset equals \{\};
 *      - "a \pm b" (and \mp, up to 3 per element) is the two answers a+b,
 *        a-b, so "\pm 2021" is not "2021";
 *      - (a,b), [a,b], (a,b], [a,b): tuples and intervals, ordered, and
 *        the bracket kinds must match ("[0,9)" is not "(0,9)");
 *      - unions "A \cup B" are unordered; unions and intersections ("\cap"
 *        binds tighter) of finite sets are the sets they make:
 *        "\{1,2\} \cup \{3\}" is \{1,2,3\}, "\{1,2,3\} \cap \{2,3,4\}" is
 *        \{2,3\};
 *      - matrices (\begin{pmatrix}, bmatrix, array..., also inside \left(
 *        \right)) compare cell by cell; a column or row vector equals the
 *        parenthesised tuple of its cells, and a matrix equals the tuple of
 *        its rows "((1,2),(3,4))" or "[[1,2],[3,4]]";
 *      - relations: "L = R" equals "L' = R'" when L-R and L'-R' are
 *        proportional by a nonzero constant at random points
 *        ("34x+45y-20z+100=0" is "-34x-45y+20z-100=0"); < and <= need a
 *        positive constant (> and >= are turned around first), so
 *        "x < 1" is not "x > -1"; chains "a<x<b" compare side by side;
 *        ASCII "<=", ">=", "!=" are \le, \ge, \ne; a one-variable
 *        inequality is the interval it describes: "-3 < x < 10" is
 *        (-3, 10), "x \ge 2" is [2, \infty), "x < 5" is (-\infty, 5);
 *        a single-variable assignment "x = v" (also "k = \frac13") equals
 *        plain v and any other "y = v'" with v' equal to v, and so does an
 *        assigned tuple: "(p,q) = (3,2)" is (3,2);
 *      - "204_5" (digits with a base subscript) equals only the same digits
 *        in the same base ("204_{5}", "0204_5"): not "204", which is the
 *        decimal 204, nor "54", its value written in another base the
 *        question did not ask for, nor "204_6";
 *      - words (a letter run of 3 or more that is no function, e.g.
 *        "Evelyn", "east", "ellipse") and anything else the expression
 *        parser cannot read ("\mathbb{R}") compare as text, ignoring case;
 *      - scalar expressions (mathexpr.h): a space between digits never
 *        joins them ("1 2" is neither 12 nor 2), "7 3/4" and "7\frac34"
 *        are the mixed number 31/4; decimal literals compare digit by
 *        digit at any length; a decimal of 6 or more significant digits
 *        equals a constant it rounds or cuts at its own last place
 *        (0.333333 and 0.3333333333 are 1/3, 0.666666 and 0.666667 are
 *        2/3, 1.41421 is \sqrt{2}, 0.333334 is not 1/3; the rule and its
 *        bounds are documented in mathequiv.c, "a decimal against the
 *        value it rounds"); otherwise two rational constants compare
 *        exactly (0.3333 is not 1/3, 0.\overline{3} is); other constants
 *        are evaluated (mathnum.h: wide exponent, error bound; 1/2004! is
 *        not 1/2006!, and no decimal rule applies to either) and compared
 *        with relative tolerance rel_tol; expressions with
 *        variables are evaluated at `points` pseudo-random positive reals
 *        in [0.5, 3) per variable name (seeded by `seed`; a point where a
 *        side is undefined or the error bound is too wide is skipped, and
 *        at least half of `points` must be usable). So (x+1)^2 equals
 *        x^2+2x+1, and identities true only for positive values (|x| = x,
 *        \sqrt{x^2} = x, \ln(x^2) = 2\ln x) are accepted. A value that
 *        cannot be computed (\infty, n! beyond 10000, 2^(2^50)) compares
 *        as text only ("+\infty" is "\infty"). A cancellation the error
 *        bound cannot resolve is "not equivalent": \sin\pi is not 0, and
 *        2^{100}+1-2^{100} is neither 0 nor 1. Integers beyond 64 bits
 *        that are not plain literals are compared with rel_tol, so
 *        2^{2000} and 2^{2000}+1 are (wrongly) equivalent.
 *
 * Policy defaults (math_opts_default):
 *   ordered_lists = 0   MATH asks for "all solutions, separated by commas";
 *                       their order is no part of the answer.
 *   require_reduced = 0 a grader of values, not of form: \frac{2}{4} is
 *                       \frac{1}{2}, \sqrt{117} is 3\sqrt{13}, 3245/5 is 649.
 *   rel_tol = 1e-9      relative only: tiny values never collapse to 0.
 *   points = 5          (clamped to 1..32), seed = 0x5eed.
 *   Percent: "X%" (or "X\%") equals both X and X/100, so "10\%" is "10"
 *   and "50\%" is "0.5"; without a % on either side 50 is never 0.5.
 *   Degrees: "90^\circ" is 90 (the sign is dropped, no conversion to pi/2).
 *   Units: a \text{unit} after a value is dropped (5.4\text{ cents} = 5.4).
 *   Symbols: e is Euler's number, i the imaginary unit, \log is base 10.
 *   "15\frac{39}{40}" is the mixed number 639/40, never 15*39/40.
 *   Equivalence is meant to be symmetric (the tests run both directions)
 *   but is not transitive across these rules (10% = 10 and 10% = 0.1, but
 *   10 != 0.1).
 *
 * Bounds: inputs longer than MATHNORM_MAX_INPUT (4096) bytes are compared
 * as trimmed bytes; at most MATH_MAX_ELEMENTS structure nodes per answer
 * and 64 entries per list, set or tuple (a longer one is not equivalent to
 * anything but itself byte for byte), so comparing two sets costs at most
 * 2 * 64 * 64 element comparisons; the decimal rule divides at most as
 * many digits as the input has; expression and number limits from
 * mathexpr.h and mathnum.h. Out of memory makes math_equiv answer 0. No
 * global state: thread-safe. */
#ifndef SLMMUX_MATHEQUIV_H
#define SLMMUX_MATHEQUIV_H
#include <stddef.h>

#define MATH_MAX_ELEMENTS 256
#define MATH_MAX_POINTS 32

typedef struct math_opts {
    int ordered_lists;      /* 1: "10, 4, -2" vs "4, 10, -2" differ; default 0 */
    int require_reduced;    /* 1: \frac{2}{4} is not \frac{1}{2}, \sqrt{117} not 3\sqrt{13}; default 0 */
    double rel_tol;         /* relative tolerance for inexact values; default 1e-9 */
    int points;             /* random evaluation points for expressions with variables; default 5 */
    unsigned seed;          /* seed of those points, so results are reproducible */
} math_opts;

void math_opts_default(math_opts *o);

/* The canonical (display) form of s[0..len): malloc'd, NUL-terminated,
 * length in *outlen (may be NULL). NULL only when out of memory. */
char *math_normalize(const char *s, size_t len, size_t *outlen);

/* 1 when cand is an equivalent answer to ref, else 0. o may be NULL for
 * the defaults; out-of-range rel_tol (< 0, >= 1, NaN) means the default,
 * points are clamped to 1..MATH_MAX_POINTS. */
int math_equiv(const char *ref, size_t rlen, const char *cand, size_t clen, const math_opts *o);

#endif
