/* extract: pulls the final answer out of a model's reply.
 *
 * Every function reads text[0..len) (NUL bytes allowed, no terminator
 * needed), and returns either a malloc'd, NUL-terminated string whose length
 * goes to *outlen (outlen may be NULL), or NULL when the reply holds no answer
 * of that kind. Never "": an empty answer is no answer. The caller frees.
 * NULL is also returned when memory runs out (errno is then ENOMEM).
 *
 * The patterns (PCRE2) are compiled once, on first use, into static state
 * shared by all calls. That is safe because the host runs one thread (the
 * event loop of base/loop.h); a multi-threaded caller must make its first
 * call before starting threads. */
#ifndef SLMMUX_EXTRACT_H
#define SLMMUX_EXTRACT_H
#include <stddef.h>

/* The argument of \boxed{...} or \fbox{...}, braces nested to any depth
 * ("\boxed{\frac{1}{2}}" gives "\frac{1}{2}"), escaped braces \{ \} taken as
 * text, surrounding spaces trimmed. "\boxed 5" (a space, no brace) gives the
 * token up to the next space or '$', without a trailing '.' or ','.
 * which_last = 1 takes the last box (the usual MATH convention, Hendrycks et
 * al.); 0 takes the first (as the SLM-MUX reference code does).
 * An empty box ("\boxed{}", often an echo of the prompt's instructions) is
 * skipped and the search goes on. A box whose braces never close (a reply cut
 * off by max_tokens) gives NULL: its answer is unknown, and an earlier box is
 * usually an intermediate result. */
char *extract_boxed(const char *text, size_t len, int which_last, size_t *outlen);

#define EXTRACT_MAX_BOXES 16     /* boxes joined into one answer */
#define EXTRACT_MAX_ANCHORS 16   /* prose anchors tried, from the last */
#define EXTRACT_MAX_FORMULA 4096 /* bytes of a prose answer's $..$ (the normalizer reads no more) */

/* The final answer of a MATH reply, as its text (math_normalize it to
 * compare):
 *   1. the last \boxed{} (as extract_boxed) together with the boxes right
 *      before it that only blanks, $, commas, semicolons, "and", "or",
 *      spacing commands or an assignment "x =" separate from it (one box per
 *      solution: "$x = \boxed{2}$ or $x = \boxed{-3}$" gives "2, -3"), at
 *      most EXTRACT_MAX_BOXES, in text order, repeated texts once. A box
 *      followed by prose and another box is an intermediate result;
 *   2. with no box at all, an answer stated in prose: the last "answer" (any
 *      case) followed by a verb (is, was, would be, ...), or the label
 *      "Answer:" / "Final Answer:" (heading its line, or after "final"):
 *      "The final answer is $\frac{1}{2}$", "Final Answer: 5", "**Answer:**
 *      x = 3". The answer is the formula in $..$, $$..$$, \(..\) or \[..\]
 *      that follows, or else the rest of the line or sentence when it looks
 *      like mathematics: it starts with a digit, a sign, a bracket, '|' or a
 *      command, or is one letter not followed by another, or is one
 *      capitalized word and nothing more. "The answer is not obvious" gives
 *      nothing, and no other number of the text is ever taken (no
 *      last-number rule: it would take intermediate results). The last
 *      EXTRACT_MAX_ANCHORS anchors are tried.
 * NULL when neither is there, or when the last box never closes (a reply
 * cut off inside its answer). */
char *extract_math(const char *text, size_t len, size_t *outlen);

/* A GSM8K-style numeric answer, in canonical form. Rules, first hit wins:
 *   1. "#### N" (the dataset's own format; the first one, as lm-eval does);
 *   2. the last \boxed{...} that holds a number (models told to box answers);
 *   3. the last "answer is N" / "Answer: N" / "final answer: $N" (any case);
 *   4. the last line starting "A: N" (few-shot Q:/A: format);
 *   5. the last number in the text.
 * In rules 1-4 the number must follow the anchor, with only decoration ($,
 * \$, **, :, =, \(, \boxed{, \text{, spaces...) between.
 * Numbers: "1,234.50" -> "1234.5", "$1,000.00" -> "1000", "-5" / "−5" -> "-5",
 * "18." at a sentence end -> "18", ".5" -> "0.5", "007" -> "7", "-0" -> "0";
 * a fraction "3/4", "\frac{3}{4}" or "\frac34" -> its decimal when that
 * terminates ("0.75"), else the reduced fraction ("1/3"); in rule 5 too, so
 * a bare "\frac{3}{4}" is 0.75, never its last number 4. Units, % and words after the
 * number are ignored. A '-' counts as a sign only when it does not follow a
 * letter or digit ("5-3" has no negative number). */
char *extract_number(const char *text, size_t len, size_t *outlen);

/* A multiple-choice letter (GPQA), returned in upper case, or 0. letters
 * lists the valid choices in upper case ("ABCD" when NULL); a letter outside
 * it is ignored. Three tiers; the first tier with a valid hit decides, and
 * within a tier the last hit in the text wins:
 *   1. the prompt's format "##Answer: X##";
 *   2. an explicit answer: "Answer: (X)", "**Answer:** X", "Answer – X" (any
 *      dash: - – — −), "The final answer is X", "the correct option is X",
 *      "\boxed{X}", "\boxed{\text{(X)}}";
 *   3. heuristics: a line holding only the letter ("**B**", "(C)", "D."),
 *      "(X) is correct", "X is the correct answer", "I choose X", "..., which
 *      is X", a conclusion "Therefore option X", "Hence (X)", "..., so X",
 *      and "the closest is X" (also nearest, best match, most likely).
 * Lower-case letters count when they cannot be a word: "(b)", "**b**", "b."
 * at the end of a line, but not "the answer is a bit". A capital 'A' or 'I'
 * followed by a word ("Answer: A reaction...") is prose, not an answer,
 * unless the word is a connective ("A because", "A is"). A letter inside
 * inline math or after a LaTeX command ("\Delta E") is never taken by the
 * heuristics, and a rejected option never by tiers 2 and 3: "B is wrong",
 * "(C) is not correct", "A can be ruled out", "not B", "eliminate D"
 * ("both A and B are wrong, so D" is D). */
int extract_choice(const char *text, size_t len, const char *letters);

/* The Python code of a reply (HumanEval). A fenced block opens with a line
 * starting ``` (``` python, ```py, ```Python3 or bare ```) and closes with a
 * line of ``` or at the end of the text (a cut-off reply). Choice:
 *   1. the last block, of any language tag, that defines
 *      `def entry_point(` (the last, because a model that revises its code
 *      writes the fixed version after the first);
 *   2. else the longest python or untagged block;
 *   3. else the whole text (a model that answered with bare code).
 * The block's lines are returned as they are, indentation kept, without
 * the fence lines and without the line break that ends the last line (it
 * belongs to the closing fence: a block holding "x\n" gives "x"; one
 * holding "x\n\n" gives "x\n"). Rule 3 drops a final line break too.
 * entry_point may be NULL (then rule 1 never applies). NULL only when the
 * chosen text is empty or blank. */
char *extract_code(const char *text, size_t len, const char *entry_point, size_t *outlen);

/* Frees the compiled patterns (they are rebuilt on next use). Optional:
 * for leak checkers and embedders that unload the library. */
void extract_cleanup(void);

#endif
