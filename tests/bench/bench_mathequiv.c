/* bench_mathequiv: one run of the MATH equivalence benchmark
 * (tests/bench/bench_mathequiv.sh runs it three times and takes medians).
 * On the 500 MATH-500 answers it times:
 *   normalize  math_normalize of every answer, repeated;
 *   same       math_equiv(answer, last \boxed{} of its solution): the
 *              grading case, equal strings after normalization;
 *   distinct   math_equiv over every pair of problems with different
 *              normalized answers (~124k pairs): the full structural and
 *              numeric path, nearly always "not equivalent";
 *   variants   math_equiv(answer, a rewritten form) that needs the full
 *              path to say "equivalent" (e.g. 0.25 vs \frac14).
 * Prints one line of key=value figures (per second, CPU time).
 * Usage: bench_mathequiv [math_500.json] */
#include "answers/extract.h"
#include "base/oom.h"
#include "net/json.h"
#include "answers/mathequiv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = xmalloc(sz > 0 ? (size_t)sz : 1);
    *n = s ? fread(s, 1, (size_t)sz, f) : 0;
    fclose(f);
    return s;
}

/* equivalent rewrites that defeat the normalized-string fast path */
static const char *const variants[][2] = {
    {"\\frac{1}{4}", "0.25"}, {"\\frac{639}{40}", "15\\frac{39}{40}"}, {"3\\sqrt{13}", "\\sqrt{117}"},
    {"x^2+2x+1", "(x+1)^2"}, {"10, 4, -2", "-2, 4, 10"}, {"(0,9) \\cup (9,36)", "(9,36)\\cup(0,9)"},
    {"5x - 7y + 11z + 4 = 0", "-10x+14y-22z-8=0"}, {"\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}", "(0.2,-3.6)"},
    {"3 \\pm 2 \\sqrt{2}", "3-2\\sqrt2, 3+2\\sqrt2"}, {"\\frac{\\sqrt{3}}{3}", "\\frac{1}{\\sqrt3}"},
};

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "data/math_500.json";
    size_t len;
    char *text = slurp(path, &len), err[128];
    json_doc *doc = text ? json_parse(text, len, err, sizeof err) : NULL;
    if (!doc) {
        fprintf(stderr, "bench_mathequiv: cannot read %s\n", path);
        return 1;
    }
    const json_value *root = json_root(doc);
    size_t n = root->len;
    const char **ans = xcalloc(n, sizeof *ans);
    size_t *alen = xcalloc(n, sizeof *alen), *blen = xcalloc(n, sizeof *blen);
    char **box = xcalloc(n, sizeof *box), **norm = xcalloc(n, sizeof *norm);
    size_t i = 0, bytes = 0;
    for (const json_value *p = root->child; p && i < n; p = p->next, i++) {
        size_t sl;
        const char *sol = json_str(json_get(p, "solution"), &sl);
        ans[i] = json_str(json_get(p, "answer"), &alen[i]);
        box[i] = extract_boxed(sol, sl, 1, &blen[i]);
        norm[i] = math_normalize(ans[i], alen[i], NULL);
        bytes += alen[i];
    }

    /* normalize */
    long reps = 0;
    double t0 = cpu_s(), t;
    do {
        for (i = 0; i < n; i++)
            free(math_normalize(ans[i], alen[i], NULL));
        reps++;
    } while ((t = cpu_s() - t0) < 1.0);
    double norm_ps = (double)reps * (double)n / t;

    /* same: answer vs its own box */
    long calls = 0, yes = 0;
    t0 = cpu_s();
    do {
        for (i = 0; i < n; i++)
            yes += box[i] && math_equiv(ans[i], alen[i], box[i], blen[i], NULL);
        calls += (long)n;
    } while ((t = cpu_s() - t0) < 1.0);
    double same_ps = (double)calls / t;
    int same_ok = yes == calls;

    /* distinct pairs */
    long pairs = 0, found = 0;
    t0 = cpu_s();
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            if (strcmp(norm[a], norm[b]) == 0)
                continue;
            pairs++;
            found += math_equiv(ans[a], alen[a], ans[b], alen[b], NULL);
        }
    t = cpu_s() - t0;
    double distinct_ps = (double)pairs / t;

    /* variants */
    size_t nv = sizeof variants / sizeof *variants;
    long vcalls = 0, vyes = 0;
    t0 = cpu_s();
    do {
        for (size_t k = 0; k < nv; k++)
            vyes += math_equiv(variants[k][0], strlen(variants[k][0]), variants[k][1], strlen(variants[k][1]), NULL);
        vcalls += (long)nv;
    } while ((t = cpu_s() - t0) < 1.0);
    double var_ps = (double)vcalls / t;

    printf("normalize_per_s=%.0f same_per_s=%.0f distinct_per_s=%.0f variants_per_s=%.0f "
           "pairs=%ld distinct_equiv=%ld same_ok=%d variants_ok=%d answer_bytes=%zu\n",
           norm_ps, same_ps, distinct_ps, var_ps, pairs, found, same_ok, vyes == vcalls, bytes);
    for (i = 0; i < n; i++) {
        free(box[i]);
        free(norm[i]);
    }
    free(ans);
    free(alen);
    free(blen);
    free(box);
    free(norm);
    json_free(doc);
    free(text);
    return 0;
}
