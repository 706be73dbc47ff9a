/* bench_extract: throughput of the extractors on synthetic model replies,
 * and the time of an exhaustive vote_search. Figures only, no pass/fail on
 * time. Each figure is the median of 3 runs on one core.
 *
 * The replies imitate what models write for these benchmarks: paragraphs
 * of prose, inline and display LaTeX, arithmetic with numbers, and the
 * answer near the end (\boxed{...}, "#### N", "The answer is N",
 * "##Answer: X##", "The correct answer is (X)"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "answers/extract.h"
#include "base/oom.h"
#include "answers/search.h"

/* The generated text must be whole: a buffer that cannot grow ends the run. */
#define PUT(call) do { if ((call) < 0) oom_abort(0); } while (0)

static uint64_t rs = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}
static int pick(int n) { return (int)(rnd() % (uint64_t)n); }

static const char *const words[] = {
    "the", "we", "so", "first", "then", "total", "number", "each", "of", "and", "is", "to", "find", "value",
    "since", "therefore", "let", "consider", "equation", "solve", "compute", "which", "gives", "remaining",
    "apples", "dollars", "minutes", "side", "triangle", "probability", "sum", "product", "substitute",
    "simplify", "both", "sides", "step", "now", "check", "this", "means", "that", "for", "in", "a"};
static const char *const latex[] = {
    "$x^2 + 3x - 4 = 0$", "$\\frac{a}{b} = \\frac{3}{4}$", "\\[ \\sum_{k=1}^{n} k = \\frac{n(n+1)}{2} \\]",
    "$\\sqrt{2} \\cdot \\sqrt{8} = 4$", "$\\angle ABC = 90^\\circ$", "$P(A \\cap B) = \\frac{1}{6}$",
    "\\[ (x-2)(x+2) = x^2 - 4 \\]", "$\\Delta E \\geq \\frac{\\hbar}{2\\tau}$", "$f(x) = \\left( x + 1 \\right)^2$"};

static void sentence(buf_t *b)
{
    int n = 8 + pick(12);
    for (int i = 0; i < n; i++) {
        if (i)
            PUT(buf_putc(b, ' '));
        int r = pick(20);
        if (r == 0)
            PUT(buf_puts(b, latex[pick(9)]));
        else if (r < 3)
            PUT(buf_printf(b, "%d * %d = %d", 2 + pick(50), 2 + pick(9), pick(1000)));
        else if (r < 4)
            PUT(buf_printf(b, "$%d,%03d", 1 + pick(9), pick(1000)));
        else
            PUT(buf_puts(b, words[pick((int)(sizeof words / sizeof *words))]));
    }
    PUT(buf_puts(b, ". "));
}

static void prose(buf_t *b)
{
    int paras = 4 + pick(9);
    for (int p = 0; p < paras; p++) {
        int s = 2 + pick(4);
        for (int i = 0; i < s; i++)
            sentence(b);
        PUT(buf_puts(b, "\n\n"));
    }
}

typedef struct corpus {
    buf_t text;
    size_t *off;            /* reply i is text[off[i] .. off[i+1]) */
    int n, cap;
} corpus;

static void corpus_add(corpus *c, size_t start)
{
    if (c->n + 2 > c->cap) {
        c->cap = c->cap ? c->cap * 2 : 1024;
        c->off = xrealloc(c->off, sizeof *c->off * (size_t)c->cap);
    }
    c->off[c->n++] = start;
    c->off[c->n] = c->text.len;
}

/* kind 0: MATH replies (box at the end); 1: GSM8K replies (three
 * endings); 2: GPQA replies (option letters). */
static void build(corpus *c, int kind, size_t bytes)
{
    memset(c, 0, sizeof *c);
    while (c->text.len < bytes) {
        size_t start = c->text.len;
        prose(&c->text);
        int e = pick(3);
        if (kind == 0)
            PUT(buf_printf(&c->text, "Therefore, the final answer is $\\boxed{%s}$.",
                           e == 0 ? "\\frac{3}{4}" : e == 1 ? "(0,9) \\cup (9,36)" : "42"));
        else if (kind == 1)
            PUT(buf_printf(&c->text, e == 0 ? "#### %d" : e == 1 ? "The answer is \\boxed{%d}." : "So the answer is %d dollars.",
                           pick(5000)));
        else
            PUT(buf_printf(&c->text, e == 0 ? "##Answer: %c##" : e == 1 ? "The correct answer is (%c)." : "**Answer:** %c",
                           'A' + pick(4)));
        corpus_add(c, start);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double median3(double a, double b, double c)
{
    if (a > b) { double t = a; a = b; b = t; }
    if (b > c) { double t = b; b = c; c = t; }
    if (a > b) { double t = a; a = b; b = t; }
    return b;
}

typedef long (*pass_fn)(const corpus *c);

static long pass_boxed_last(const corpus *c)
{
    long found = 0;
    for (int i = 0; i < c->n; i++) {
        size_t n;
        char *r = extract_boxed(c->text.data + c->off[i], c->off[i + 1] - c->off[i], 1, &n);
        found += r != NULL;
        free(r);
    }
    return found;
}

static long pass_boxed_first(const corpus *c)
{
    long found = 0;
    for (int i = 0; i < c->n; i++) {
        size_t n;
        char *r = extract_boxed(c->text.data + c->off[i], c->off[i + 1] - c->off[i], 0, &n);
        found += r != NULL;
        free(r);
    }
    return found;
}

static long pass_number(const corpus *c)
{
    long found = 0;
    for (int i = 0; i < c->n; i++) {
        size_t n;
        char *r = extract_number(c->text.data + c->off[i], c->off[i + 1] - c->off[i], &n);
        found += r != NULL;
        free(r);
    }
    return found;
}

static long pass_math(const corpus *c)
{
    long found = 0;
    for (int i = 0; i < c->n; i++) {
        size_t n;
        char *r = extract_math(c->text.data + c->off[i], c->off[i + 1] - c->off[i], &n);
        found += r != NULL;
        free(r);
    }
    return found;
}

static long pass_choice(const corpus *c)
{
    long found = 0;
    for (int i = 0; i < c->n; i++)
        found += extract_choice(c->text.data + c->off[i], c->off[i + 1] - c->off[i], "ABCD") != 0;
    return found;
}

static void measure(const char *name, const corpus *c, pass_fn fn)
{
    double t[3];
    long found = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        found = fn(c);
        t[r] = now() - t0;
    }
    double med = median3(t[0], t[1], t[2]);
    printf("%-22s %8.1f MB/s  (%.1f MB, %d replies, %ld found, median of 3: %.3f s)\n", name,
           c->text.len / 1e6 / med, c->text.len / 1e6, c->n, found, med);
}

static void bench_search(void)
{
    enum { M = 20, Q = 500 };
    int w = vote_search_words(Q);
    uint64_t *cor = xcalloc((size_t)M * w, 8), *wr = xcalloc((size_t)M * w, 8);
    for (int m = 0; m < M; m++)
        for (int q = 0; q < Q; q++) {
            int x = pick(100);
            if (x < 40 + m)
                cor[(size_t)m * w + q / 64] |= UINT64_C(1) << (q % 64);
            else if (x % 3 == 0)
                wr[(size_t)m * w + q / 64] |= UINT64_C(1) << (q % 64);
        }
    vote_search_result res[M];
    double t[3];
    for (int r = 0; r < 3; r++) {
        double t0 = now();
        vote_search_opts o = {1.0, 1, M, 1, VOTE_NORM_SOLVED};
        vote_search(M, Q, cor, wr, &o, res);
        t[r] = now() - t0;
    }
    double med = median3(t[0], t[1], t[2]);
    printf("%-22s %8.3f s     (%d models x %d questions, all %ld subsets, %.1f ns/subset; best pair score %.3f)\n",
           "vote_search", med, M, Q, (1L << M) - 1, med * 1e9 / ((1L << M) - 1), res[1].score);
    free(cor);
    free(wr);
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? (size_t)atol(argv[1]) : 100;
    corpus math, gsm, gpqa;
    double t0 = now();
    build(&math, 0, mb * 1000000);
    build(&gsm, 1, mb * 1000000);
    build(&gpqa, 2, mb * 1000000);
    printf("generated 3 x %zu MB of synthetic replies in %.1f s (mean reply %.0f bytes)\n", mb, now() - t0,
           (double)math.text.len / math.n);
    measure("boxed (last)", &math, pass_boxed_last);
    measure("boxed (first)", &math, pass_boxed_first);
    measure("number (GSM8K mix)", &gsm, pass_number);
    measure("number (MATH replies)", &math, pass_number);
    measure("math (MATH replies)", &math, pass_math);
    measure("choice (GPQA mix)", &gpqa, pass_choice);
    /* worst cases: no box anywhere (the whole reply is scanned), no
     * anchor for the number (all rules tried, then the last number), no
     * box for extract_math (its prose anchors searched), and no letter for
     * the choice (every tier and heuristic tried) */
    measure("boxed (last), no box", &gpqa, pass_boxed_last);
    measure("number, no anchor", &gpqa, pass_number);
    measure("math, no box", &gpqa, pass_math);
    measure("choice, no letter", &math, pass_choice);
    bench_search();
    extract_cleanup();
    buf_free(&math.text);
    buf_free(&gsm.text);
    buf_free(&gpqa.text);
    free(math.off);
    free(gsm.off);
    free(gpqa.off);
    return 0;
}
