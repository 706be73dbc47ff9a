/* test_extract: each extraction rule on replies shaped like real model
 * output (Qwen, Llama, Mistral, Gemma), and the traps around each rule. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/oom.h"
#include "answers/extract.h"

/* Checks one extraction against want (NULL = nothing found) and that the
 * reported length matches the string. */
#define EXPECT(call, want) do { \
    size_t n_ = (size_t)-1; \
    char *got_ = call; \
    CHECK_STR(got_, want); \
    if (got_) CHECK_MSG(n_ == strlen(got_), "outlen %zu for \"%s\"", n_, got_); \
    free(got_); \
} while (0)

#define BOXED(s, last, want) EXPECT(extract_boxed(s, strlen(s), last, &n_), want)
#define MATH(s, want) EXPECT(extract_math(s, strlen(s), &n_), want)
#define NUMBER(s, want) EXPECT(extract_number(s, strlen(s), &n_), want)
#define CODE(s, ep, want) EXPECT(extract_code(s, strlen(s), ep, &n_), want)
#define CHOICE(s, want) CHECK_MSG(extract_choice(s, strlen(s), NULL) == (want), "got '%c' for: %s", \
                                  extract_choice(s, strlen(s), NULL) ? extract_choice(s, strlen(s), NULL) : '0', s)

static void test_boxed_takes_last_box_by_default(void)
{
    const char *qwen =
        "To solve $x^2 - 5x + 6 = 0$, factor: $(x-2)(x-3) = 0$, so $x = 2$ or $x = 3$.\n\n"
        "The larger root is $\\boxed{2}$... wait, the larger root is 3.\n\n"
        "Therefore, the final answer is $\\boxed{3}$.";
    BOXED(qwen, 1, "3");
    BOXED(qwen, 0, "2");
}

static void test_boxed_nested_braces(void)
{
    BOXED("So $P = \\boxed{\\frac{1}{2}}$.", 1, "\\frac{1}{2}");
    BOXED("\\[\\boxed{\\left(\\frac{3}{\\sqrt{2}}, \\frac{\\pi}{4}\\right)}\\]", 1,
          "\\left(\\frac{3}{\\sqrt{2}}, \\frac{\\pi}{4}\\right)");
    BOXED("The matrix is $\\boxed{\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}}$", 1,
          "\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}");
}

static void test_boxed_escaped_braces_are_text(void)
{
    BOXED("The set is $\\boxed{\\{1, 2, 3\\}}$.", 1, "\\{1, 2, 3\\}");
    /* an escaped closing brace must not end the box early */
    BOXED("$\\boxed{x \\in \\{0\\} \\cup [1, 2]}$", 1, "x \\in \\{0\\} \\cup [1, 2]");
    /* a piecewise answer opens \{ without closing it: counting it as a
     * brace would leave the box unbalanced */
    BOXED("$f(x) = \\boxed{\\left\\{ \\begin{array}{ll} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{array} \\right.}$", 1,
          "\\left\\{ \\begin{array}{ll} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{array} \\right.");
}

static void test_boxed_unbalanced_gives_null(void)
{
    /* a reply cut off by max_tokens inside its box */
    BOXED("Thus the answer is $\\boxed{\\frac{1}{2", 1, NULL);
    BOXED("first $\\boxed{4}$ then cut: \\boxed{\\sqrt{3", 1, NULL);
    BOXED("\\boxed{", 1, NULL);
}

static void test_boxed_fbox_and_space_forms(void)
{
    BOXED("Answer: \\fbox{42}", 1, "42");
    BOXED("so the answer is $\\boxed 5$.", 1, "5");
    BOXED("so the answer is \\boxed 5.", 1, "5");
    BOXED("\\boxed {7}", 1, "7");
    BOXED("$\\boxed{ 12 }$", 1, "12");
}

static void test_boxed_skips_empty_and_other_commands(void)
{
    BOXED("I will put the answer in \\boxed{}. Computing... $\\boxed{9}$", 0, "9");
    BOXED("$\\boxed{9}$ and the template \\boxed{ }", 1, "9");
    BOXED("\\boxedanswer{3} is not a box", 1, NULL);
    BOXED("no box here, just 42", 1, NULL);
    BOXED("", 1, NULL);
    BOXED("trailing backslash \\", 1, NULL);
}

static void test_boxed_text_with_nul_bytes(void)
{
    const char t[] = "junk\0more \\boxed{7} end";
    size_t n = 0;
    char *g = extract_boxed(t, sizeof t - 1, 1, &n);
    CHECK_STR(g, "7");
    CHECK(n == 1);
    free(g);
}

static void test_math_boxes_one_per_solution(void)
{
    MATH("The solutions are $x = \\boxed{2}$ or $x = \\boxed{-3}$.", "2, -3");
    MATH("$\\boxed{1}, \\boxed{2}, \\boxed{3}$", "1, 2, 3");
    MATH("\\[\\boxed{x=1} \\text{ and } \\boxed{x=2}\\]", "x=1, x=2");
    MATH("$x_1 = \\boxed{4}$; $x_2 = \\boxed{5}$", "4, 5");
    MATH("\\boxed{5} \\quad \\boxed{5}", "5");                /* the same text once */
    MATH("\\boxed{(1,2)} \\\\ \\boxed{(3,4)}", "(1,2), (3,4)");
    /* prose between two boxes: the earlier one is an intermediate result */
    MATH("First $\\boxed{4}$. Then we double it to get $\\boxed{8}$.", "8");
    MATH("So $a = \\boxed{2}$ so that $b = \\boxed{3}$", "3");
    MATH("\\boxed{2}, so \\boxed{3}", "3");
    MATH("$\\boxed{2} + \\boxed{3}$", "3");                  /* a formula is no joiner */
    MATH("\\boxed{2} and \\boxed{3", NULL);                   /* cut off: unknown */
    MATH("no box and no answer here", NULL);
    MATH("", NULL);
    {
        /* at most EXTRACT_MAX_BOXES boxes are joined */
        char t[1024] = "", want[256] = "";
        for (int k = 0; k <= EXTRACT_MAX_BOXES; k++) {
            snprintf(t + strlen(t), sizeof t - strlen(t), "%s\\boxed{%d}", k ? ", " : "", k);
            if (k > 0)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", k > 1 ? ", " : "", k);
        }
        MATH(t, want);
    }
}

static void test_math_prose_answers(void)
{
    MATH("So the answer is $\\frac{1}{2}$.", "\\frac{1}{2}");
    MATH("Final Answer: The final answer is $5$. I hope it is correct.", "5");
    MATH("**Final Answer:** x = 3", "x = 3");
    MATH("The answer is 12 apples.\nI hope this answer is helpful.", "12 apples");
    MATH("The answer is $$\\frac{3}{4}$$", "\\frac{3}{4}");
    MATH("Answer: \\(x^2+1\\)", "x^2+1");
    MATH("the answer is Evelyn.", "Evelyn");
    MATH("The final answer is 2, 3, and 4.", "2, 3, and 4");
    MATH("the answer is 5, which is odd", "5");
    MATH("The answer is -\\frac{7}{2}", "-\\frac{7}{2}");
    /* a box, when there is one, is the answer: prose after it is a check */
    MATH("The answer is $\\boxed{7}$.", "7");
    MATH("So $\\boxed{44}$.\n\nWe may check our answer: $17\\cdot 44 = 748$.", "44");
    MATH("We find $\\boxed{5}$. Checking, the answer is $5$ again.", "5");
    MATH("\\boxed{5}\n\nThe answer is above.", "5");
    /* a label heads its line (or follows "final"); a verb may follow "answer" anywhere */
    MATH("We may check our answer: $17\\cdot 44 = 748$.", NULL);
    MATH("Our answer is $44$.", "44");
    MATH("### Answer: 12", "12");
    /* prose that is no answer, and never an intermediate number */
    MATH("Thus the answer is not obvious.", NULL);
    MATH("To find the answer: we add 2 and 3, getting 5.", NULL);
    MATH("We get 5 and 7, so 12 in total.", NULL);
    MATH("The answer is that both work.", NULL);
    MATH("The answer is $5", NULL);                      /* the formula never closes */
    MATH("The answer choices are 3 and 4", NULL);
}

static void test_number_bare_fraction(void)
{
    NUMBER("So she ate \\frac{3}{4} of the pie", "0.75");
    NUMBER("So she ate $\\dfrac{3}{4}$ of the pie", "0.75");
    NUMBER("each gets \\frac34", "0.75");
    NUMBER("a loss of -\\frac{1}{2}", "-0.5");
    NUMBER("\\frac{10}{4} cups", "2.5");
    NUMBER("\\frac{1}{3} of them", "1/3");
    NUMBER("\\boxed{\\frac34}", "0.75");
    NUMBER("The answer is \\frac34.", "0.75");
    NUMBER("the ratio \\frac{a}{4}", "4");              /* no integer fraction */
    NUMBER("x_{\\frac{1}{2}} = 7", "7");
}

static void test_number_hash_format_first(void)
{
    NUMBER("Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
           "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72", "72");
    NUMBER("She makes 9 * 2 = $18 every day.\n#### $18.00\nQ: next question 5", "18");
    NUMBER("#### 1,450,000", "1450000");
    NUMBER("The total is -3 degrees.\n#### -3", "-3");
}

static void test_number_boxed(void)
{
    /* Llama 3 style */
    NUMBER("## Step 1: Eggs left\n16 - 3 - 4 = 9.\n## Step 2: Money\n9 * 2 = 18.\n\n"
           "The final answer is: $\\boxed{18}$", "18");
    /* Qwen style, a unit after the box */
    NUMBER("Janet makes \\(\\boxed{18}\\) dollars every day at the farmers' market. (Step 3 done.)", "18");
    NUMBER("\\boxed{\\$1,000.00}", "1000");
    NUMBER("\\boxed{18 \\text{ dollars}}", "18");
    NUMBER("So $x = \\boxed{x = 5}$ and we check with 7.", "5");
    NUMBER("\\boxed{\\frac{1}{2}} of the pie", "0.5");
}

static void test_number_answer_is(void)
{
    NUMBER("First, 3 + 4 = 7 apples. Then 7 * 2 = 14.\nThe answer is 14.", "14");
    NUMBER("So the final answer is $1,234.50, which I double-check with 2 steps.", "1234.5");
    NUMBER("**Answer:** 25 minutes (that is 1 hour minus 35).", "25");
    NUMBER("The answer is 5 apples and 3 oranges.", "5");
    NUMBER("The answer is 18. I hope this answer helps with step 3!", "18");
    NUMBER("Final Answer: -5\n\nNote: 2 checks done.", "-5");
    NUMBER("ANSWER: 7 is right, not 9", "7");
}

static void test_number_few_shot_a_colon(void)
{
    NUMBER("Q: Tom has 3 apples and buys 4 more.\nA: 7\n", "7");
}

static void test_number_last_number_fallback(void)
{
    NUMBER("She spends 15 + 20 = 35 dollars, so she has 100 - 35 = 65 dollars left.", "65");
    NUMBER("Total: $1,000.00.", "1000");
    NUMBER("It costs 18.", "18");
    NUMBER("The temperature drops to -5", "-5");
    NUMBER("The difference is 5-3", "3");          /* not a negative three */
    NUMBER("She ate 1/2 of it", "0.5");
    NUMBER("each gets 1/3", "1/3");
    NUMBER("ratio 6/3", "2");
    NUMBER("about 3. ", "3");
    NUMBER("a tip of .25", "0.25");
    NUMBER("0.250 kg", "0.25");
    NUMBER("code 007", "7");
    NUMBER("change is -0.00", "0");
    NUMBER("version 1,23", "23");                  /* not a thousands group */
    NUMBER("codes 12,3456", "3456");               /* nor is a group of four */
    NUMBER("It rose by −12 points", "-12");        /* U+2212 minus */
    NUMBER("no number at all, just words.", NULL);
    NUMBER("", NULL);
}

static void test_number_anchor_without_number_falls_through(void)
{
    /* "answer" with no number after it must not stop the search */
    NUMBER("Let me find the answer. 6 * 7 = 42", "42");
    /* a numbered list after "Answer:" is not the answer */
    NUMBER("To get the answer:\n1. Add 2 and 3.\n2. The sum is 5", "5");
}

static void test_choice_format_line(void)
{
    CHOICE("The energy difference must exceed the uncertainty ~ 10^-7 eV.\n##Answer: D##", 'D');
    CHOICE("##Answer: (b)##", 'B');
    /* the format line wins over a later heuristic hit */
    CHOICE("##Answer: C##\n\nB", 'C');
}

static void test_choice_explicit_forms(void)
{
    CHOICE("Answer: (B)", 'B');
    CHOICE("Step 1... Step 2...\n\n**Answer:** C", 'C');
    CHOICE("**Final Answer: D**", 'D');
    CHOICE("Therefore, the final answer is $\\boxed{A}$.", 'A');
    CHOICE("the answer is \\(\\boxed{\\text{(B)}}\\)", 'B');
    CHOICE("Thus the correct option is C.", 'C');
    CHOICE("So the answer is (d).", 'D');
    CHOICE("The correct answer is option B because the lifetime is shorter.", 'B');
    CHOICE("The answer is A because only A exceeds the linewidth.", 'A');
    CHOICE("\\boxed{C) 11}", 'C');
}

static void test_choice_explicit_beats_heuristic(void)
{
    /* a lone letter line after the explicit answer does not override it */
    CHOICE("The answer is (C).\n\nB\n", 'C');
    CHOICE("(A) is correct? No.\nAnswer: D", 'D');
}

static void test_choice_last_explicit_wins(void)
{
    CHOICE("At first the answer is B. Re-checking the units, the answer is C.", 'C');
}

static void test_choice_heuristics(void)
{
    CHOICE("After comparing the options:\n\n**B**\n", 'B');
    CHOICE("(C)\n", 'C');
    CHOICE("Option D.\n", 'D');
    CHOICE("Therefore (B) is the correct choice.", 'B');
    CHOICE("Comparing all four, C is the best answer here.", 'C');
    CHOICE("I'll go with (A).", 'A');
    CHOICE("b\n", 'B');
}

static void test_choice_prose_is_not_an_answer(void)
{
    CHOICE("Answer: A reaction of the aldehyde gives product 1.", 0);
    CHOICE("A reaction with PCC oxidises the alcohol.", 0);
    CHOICE("the answer is a bit more subtle than that.", 0);
    CHOICE("I think the answer is not obvious.", 0);
    CHOICE("The resolution requires $\\Delta E$ to exceed hbar/tau.", 0);
    CHOICE("so \\Delta E is the correct quantity to compare", 0);
    {
        /* with E a valid choice, the letter after \Delta is still mathematics */
        const char *m = "so \\Delta E is the correct quantity to compare";
        CHECK(extract_choice(m, strlen(m), "ABCDE") == 0);
        const char *im = "we need $f(B) is the best$ bound";
        CHECK(extract_choice(im, strlen(im), "ABCD") == 0);
    }
    CHOICE("since $B$ is correct in the formula", 0);
    CHOICE("Answer choices are listed above.", 0);
    CHOICE("no letters here", 0);
    CHOICE("", 0);
}

static void test_choice_in_prose(void)
{
    CHOICE("The lifetime gives 10^-4 eV, which is B.", 'B');
    CHOICE("This matches the second spectrum, which corresponds to option (C).", 'C');
    CHOICE("Therefore option B", 'B');
    CHOICE("Therefore, option B.", 'B');
    CHOICE("Answer \xe2\x80\x93 B", 'B');             /* en dash */
    CHOICE("Answer \xe2\x80\x94 C", 'C');             /* em dash */
    CHOICE("Answer - D", 'D');
    CHOICE("Answer \xe2\x88\x92 A", 'A');             /* minus sign */
    CHOICE("Of the four values, the closest is C.", 'C');
    CHOICE("Hence (C) fits both constraints.", 'C');
    CHOICE("Both A and B are wrong, so D.", 'D');
    CHOICE("Option B can be ruled out, so C.", 'C');
    CHOICE("I rule out A. Therefore C.", 'C');
}

static void test_choice_never_a_rejected_or_math_letter(void)
{
    CHOICE("Therefore option B is wrong.", 0);
    CHOICE("Hence (C) is not correct.", 0);
    CHOICE("which is not B", 0);
    CHOICE("Thus, not B", 0);
    CHOICE("so A is clearly incorrect", 0);
    CHOICE("so $B$ must hold", 0);
    CHOICE("We get x, which is $B$ in the formula", 0);
    CHOICE("so \\Delta E is large", 0);
    CHOICE("the answer - a bit more work is needed", 0);
    CHOICE("Thus A reaction occurs", 0);
    CHOICE("which is A good sign", 0);
    CHOICE("the closest is a matter of taste", 0);
}

static void test_choice_respects_letters(void)
{
    /* E is outside ABCD: ignored, the earlier valid answer stands */
    CHOICE("The answer is B.\n##Answer: E##\nThe answer is E.", 'B');
    const char *t = "The answer is (F).";
    CHECK(extract_choice(t, strlen(t), "ABCDEFGHIJ") == 'F');
    CHECK(extract_choice(t, strlen(t), "ABCD") == 0);
    CHECK(extract_choice(t, strlen(t), "") == 0);
}

static void test_code_block_defining_entry_point(void)
{
    const char *r =
        "Here is the implementation:\n\n"
        "```python\nfrom typing import List\n\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n\n"
        "Example usage:\n\n```python\nprint(add(1, 2))  # 3\n```\n";
    CODE(r, "add", "from typing import List\n\ndef add(a: int, b: int) -> int:\n    return a + b");
}

static void test_code_prefers_last_defining_block(void)
{
    const char *r =
        "```python\ndef f(x):\n    return x\n```\nOops, that ignores negatives. Fixed:\n"
        "```py\ndef f(x):\n    return abs(x)\n```\n";
    CODE(r, "f", "def f(x):\n    return abs(x)");
}

static void test_code_name_must_match_exactly(void)
{
    /* "def f_helper(" and "def ff(" do not define f; the longest block wins */
    const char *r = "```python\ndef ff(x):\n    return 1\n```\n```python\ndef f_helper(x):\n    return 2 + x\n```\n";
    CODE(r, "f", "def f_helper(x):\n    return 2 + x");
}

static void test_code_longest_python_block_without_def(void)
{
    const char *r = "```bash\npip install numpy numpy numpy numpy\n```\n"
                    "```\n    return sorted(set(l))\n```\n```python\nx = 1\n```";
    CODE(r, "unique", "    return sorted(set(l))");
}

static void test_code_unclosed_block_runs_to_end(void)
{
    const char *r = "Sure!\n```python\ndef g():\n    return 42\n";
    CODE(r, "g", "def g():\n    return 42");
}

static void test_code_raw_text_and_empty(void)
{
    CODE("    return a * b\n", "mul", "    return a * b");
    CODE("", "mul", NULL);
    CODE("```python\n```\n", "mul", NULL);
    CODE("  \n\n", "mul", NULL);
    /* only the line break before the fence goes; indentation stays */
    CODE("```python\n    return 1\n\n```", "f", "    return 1\n");
    CODE("```python\r\nx = 1\r\n```\r\n", "f", "x = 1");
}

static void test_code_nested_and_async_defs(void)
{
    const char *r = "```Python3\nclass S:\n    async def run(self):\n        pass\n```\n```python\nprint(1)\nprint(2)\nprint(3)\n```";
    CODE(r, "run", "class S:\n    async def run(self):\n        pass");
    /* a fenced block inside a longer fence (````) stays inside */
    const char *q = "````python\ndef h():\n    s = '''\n```\n'''\n    return s\n````\n";
    CODE(q, "h", "def h():\n    s = '''\n```\n'''\n    return s");
}

/* Replies cut at every byte (max_tokens can stop anywhere) and random
 * bytes: no extractor may read past the end (ASan, `make asan`) or return
 * "" or a length that disagrees with the string. */
static void check_all_extractors(const char *t, size_t len, int *bad)
{
    char *r[5];
    size_t n[5] = {0, 0, 0, 0, 0};
    r[0] = extract_boxed(t, len, 1, &n[0]);
    r[1] = extract_boxed(t, len, 0, &n[1]);
    r[2] = extract_number(t, len, &n[2]);
    r[3] = extract_code(t, len, "f", &n[3]);
    r[4] = extract_math(t, len, &n[4]);
    for (int i = 0; i < 5; i++) {
        if (r[i] && (n[i] == 0 || r[i][n[i]] != '\0'))
            (*bad)++;
        free(r[i]);
    }
    int c = extract_choice(t, len, "ABCD");
    if (c && !strchr("ABCD", c))
        (*bad)++;
}

/* s = n copies of unit, NUL-terminated (s has room for n * strlen(unit) + 1) */
static char *repeated(const char *unit, size_t n)
{
    size_t ul = strlen(unit);
    char *s = xmalloc(n * ul + 1);
    for (size_t k = 0; k < n; k++)
        memcpy(s + k * ul, unit, ul);
    s[n * ul] = 0;
    return s;
}

/* hostile replies for each new rule: the work stays linear in the reply
 * (a few passes over 1 MB each) */
static void test_new_rules_on_hostile_replies(void)
{
    char *t = repeated("\\boxed{1} and ", 70000);
    MATH(t, "1");                                        /* 70000 joined boxes, one text */
    free(t);
    t = repeated("\\boxed{1} so ", 70000);
    MATH(t, "1");
    free(t);
    t = repeated("the answer is ", 70000);
    MATH(t, NULL);
    free(t);
    t = repeated("Final Answer: ", 70000);
    MATH(t, NULL);
    free(t);
    t = repeated("\\frac{1}{", 100000);
    NUMBER(t, "1");
    free(t);
    t = repeated("\\frac{12}{34}", 70000);
    NUMBER(t, "6/17");
    free(t);
    const char *units[] = {"which is ", "so ", "Therefore option ", "the closest is ", "Answer \xe2\x80\x93 ",
                           "B is wrong, ", "not B "};
    for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
        t = repeated(units[k], 1000000 / strlen(units[k]));
        CHECK_MSG(extract_choice(t, strlen(t), "ABCD") == 0 || k == 5, "unit %zu", k);
        free(t);
    }
}

static void test_truncated_and_random_replies_are_safe(void)
{
    const char *replies[] = {
        "Let $x = \\frac{1}{2}$. Then\n\\[\\boxed{\\left\\{ 1, 2 \\right\\}}\\]\n#### 1,234.50 and -7/8",
        "**Answer:** (B)\n##Answer: C##\n\\boxed{\\text{(D)}} so (A) is correct\nB\n",
        "```python\ndef f(x):\n    return x\n```\n````\n```py\ndef f(y):",
        "The answer is \\boxed 5. A: 3\n−12 .5 6/4 \\dfrac{3}{8} $1,000.00",
        "$x = \\boxed{2}$ or $x_1 = \\boxed{-3}$; Final Answer: The final answer is $\\frac34$. so D \\frac12",
        "Answer \xe2\x80\x93 B, which is not C; the closest is (D) so A is wrong\nTherefore option B",
    };
    int bad = 0;
    for (size_t k = 0; k < sizeof replies / sizeof *replies; k++) {
        size_t len = strlen(replies[k]);
        for (size_t cut = 0; cut <= len; cut++) {
            /* a private copy of exactly cut bytes, so ASan sees any overread */
            char *t = xmalloc(cut ? cut : 1);
            memcpy(t, replies[k], cut);
            check_all_extractors(t, cut, &bad);
            free(t);
        }
    }
    uint64_t x = 88172645463325252ULL;
    const char alphabet[] = "\\{}$#*()[]-.,/0123456789 \n`ABCDabcdanswer:boxed";
    for (int round = 0; round < 3000; round++) {
        size_t len = (size_t)(round % 97);
        char *t = xmalloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            t[i] = (x >> 8) % 4 == 0 ? (char)(x >> 16) : alphabet[(x >> 16) % (sizeof alphabet - 1)];
        }
        check_all_extractors(t, len, &bad);
        free(t);
    }
    CHECK_MSG(bad == 0, "%d bad results", bad);
}

int main(void)
{
    test_boxed_takes_last_box_by_default();
    test_boxed_nested_braces();
    test_boxed_escaped_braces_are_text();
    test_boxed_unbalanced_gives_null();
    test_boxed_fbox_and_space_forms();
    test_boxed_skips_empty_and_other_commands();
    test_boxed_text_with_nul_bytes();
    test_math_boxes_one_per_solution();
    test_math_prose_answers();
    test_number_bare_fraction();
    test_number_hash_format_first();
    test_number_boxed();
    test_number_answer_is();
    test_number_few_shot_a_colon();
    test_number_last_number_fallback();
    test_number_anchor_without_number_falls_through();
    test_choice_format_line();
    test_choice_explicit_forms();
    test_choice_explicit_beats_heuristic();
    test_choice_last_explicit_wins();
    test_choice_heuristics();
    test_choice_prose_is_not_an_answer();
    test_choice_in_prose();
    test_choice_never_a_rejected_or_math_letter();
    test_choice_respects_letters();
    test_code_block_defining_entry_point();
    test_code_prefers_last_defining_block();
    test_code_name_must_match_exactly();
    test_code_longest_python_block_without_def();
    test_code_unclosed_block_runs_to_end();
    test_code_raw_text_and_empty();
    test_code_nested_and_async_defs();
    test_new_rules_on_hostile_replies();
    test_truncated_and_random_replies_are_safe();
    extract_cleanup();
    return check_report();
}
