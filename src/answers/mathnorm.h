/* mathnorm: rewrites a MATH answer into one canonical LaTeX-ish string, in
 * the spirit of Hendrycks et al.'s is_equiv normalizer (MATH, 2021), so that
 * notational variants of the same answer become the same bytes.
 *
 * The passes, in order (each a small function in mathnorm.c):
 *   1. thousands separators: "7,425,000", "10,\!080", "1{,}000", "1\,000"
 *      -> digits. ",\!", "{,}" and a thin space "\," before three digits
 *      always separate thousands; a bare "," does only
 *      outside brackets, with no space, in a run d{1,3}(,ddd)+ that starts
 *      with 1-9 and is not followed by ",digit". So "32, 349" and "(1,234)"
 *      stay lists/tuples and "58,500" is 58500.
 *   2. commands: drops $, \$, \!, \, \; \quad, \left/\right (and their '.'),
 *      \big.., \displaystyle, \boxed, ^\circ/^{\circ}/\circ/\degree/°;
 *      \dfrac/\tfrac/\cfrac -> \frac, \dbinom -> \binom, \leq -> \le,
 *      \geq -> \ge, \neq -> \ne, ASCII "<=" ">=" "!=" -> \le \ge \ne (before
 *      the spaces go, so "5! = 120" stays a factorial), \% -> %, * -> \cdot,
 *      bmatrix, array (its column spec dropped) etc -> pmatrix,
 *      \textbf/\mathrm/\mbox/... -> \text, a few Unicode symbols
 *      (− × · ÷ π √ ≤ ≥ ≠ ∞ ∪ ± ∅ ∈, non-breaking spaces) -> LaTeX.
 *   3. \text{...}: "and"/"or" become ","; so do bare words "and", "or"
 *      and ';' (list separators: one comma where several meet, "2, and 3"
 *      is "2, 3"); a unit after a value at the end
 *      of an element ("5.4\text{ cents}", "864\mbox{ inches}^2") is
 *      dropped; any other \text{X} becomes X ("\text{Evelyn}" -> "Evelyn").
 *      Plain trailing words after a number ("12 cm^2", "6 square units")
 *      are units too.
 *   4. spaces: removed, except one after a command name that a letter
 *      follows ("\pi r"), one after a list comma that would otherwise
 *      read as a thousands separator ("32, 349"), one between two digits
 *      ("1 2" is not 12) and one between '!' and '=' ("5! =120"), so
 *      normalizing twice changes nothing.
 *   5. macro arguments: \frac12 -> \frac{1}{2}, \frac{270}7 ->
 *      \frac{270}{7}, \sqrt2 -> \sqrt{2}, \sqrt[3]8 -> \sqrt[3]{8};
 *      ^{2} -> ^2, x^10 -> x^{10} (a digit run after ^ is one exponent, as
 *      in plain text), x^\frac13 -> x^{\frac{1}{3}} (a command takes its
 *      arguments along), _{5} -> _5 (a subscript is one LaTeX token).
 *   6. numbers: ".5" -> "0.5", "18.00" -> "18", "4.50" -> "4.5", "a/b" of
 *      two integer literals -> \frac{a}{b}, "7 3/4" (a proper fraction after
 *      an integer and a space) -> the mixed number 7\frac{3}{4}, a leading
 *      "+" and a trailing "." dropped, redundant outer braces removed.
 *   7. a leading "x \in" is dropped. With MATHNORM_DISPLAY also a leading
 *      single-variable assignment ("x =", "k=", "f(x)=", "(p,q)=" before a
 *      tuple as long, only when it is the only '=') and every "%"
 *      (Hendrycks: "10\%" reads as 10).
 *   8. surrounding spaces, braces, and the brackets around a whole matrix
 *      ("\left(\begin{array}..\end{array}\right)") are dropped.
 *
 * Input longer than MATHNORM_MAX_INPUT bytes is not rewritten: it comes back
 * with surrounding whitespace trimmed, so cost stays linear and bounded. */
#ifndef SLMMUX_MATHNORM_H
#define SLMMUX_MATHNORM_H
#include <stddef.h>

#define MATHNORM_MAX_INPUT 4096

enum { MATHNORM_DISPLAY = 1 };

/* s[0..len) rewritten; malloc'd, NUL-terminated, length in *outlen (may be
 * NULL). flags 0 keeps "%" and "x =" for mathequiv's structural reading.
 * NULL only when out of memory. */
char *mathnorm_run(const char *s, size_t len, int flags, size_t *outlen);

#endif
