/* test_math500: the equivalence checker on the real MATH-500 answers.
 *  1. every problem's `answer` is equivalent to the last \boxed{} of its
 *     `solution` (extract_boxed), to the first one (number_theory/459
 *     boxes "15\frac{39}{40}" first), to itself and to its own
 *     normalized form, and to the final answer extract_math reads from the
 *     solution (which joins "\boxed{15\frac{39}{40}},$ or $\boxed{\frac{639}{40}}"
 *     of that problem into one answer, and must join no other two);
 *  2. no two problems whose answers differ after normalization are judged
 *     equivalent, except the pairs listed in same_math below (the same
 *     answer written two ways in the dataset).
 * Run from the repository root; an optional argument names the file. */
#include "check.h"
#include "base/oom.h"
#include "answers/extract.h"
#include "net/json.h"
#include "answers/mathequiv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Pairs of different answers that are the same mathematics; each needs a
 * reason. (answer A, answer B, why) */
static const struct { const char *a, *b, *why; } same_math[] = {
    {"1,-2", "-2,1", "intermediate_algebra/1388 and /1102 both say \"Enter all such integers, "
                     "separated by commas\": the same solution set {1, -2} (lists are unordered)"},
    {NULL, NULL, NULL},
};

static int listed(const char *a, const char *b)
{
    for (size_t k = 0; same_math[k].a; k++)
        if ((strcmp(same_math[k].a, a) == 0 && strcmp(same_math[k].b, b) == 0) ||
            (strcmp(same_math[k].a, b) == 0 && strcmp(same_math[k].b, a) == 0))
            return 1;
    return 0;
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct item {
    const char *id, *answer;
    size_t alen;
    char *norm;
} item;

int main(int argc, char **argv)
{
    const char *paths[] = {argc > 1 ? argv[1] : NULL, "data/math_500.json"};
    char *text = NULL, err[128];
    size_t len = 0;
    for (size_t k = 0; k < 2 && !text; k++)
        if (paths[k] && (text = slurp(paths[k], &len)))
            printf("dataset: %s\n", paths[k]);
    CHECK_MSG(text != NULL, "math_500.json not found (run from the repository root)");
    if (!text)
        return check_report();
    json_doc *doc = json_parse(text, len, err, sizeof err);
    CHECK_MSG(doc != NULL, "json: %s", err);
    if (!doc)
        return check_report();
    const json_value *root = json_root(doc);
    size_t n = root->type == JSON_ARRAY ? root->len : 0;
    CHECK_MSG(n == 500, "%zu problems", n);
    item *items = xcalloc(n ? n : 1, sizeof *items);

    /* 1. answer vs the solution's last box */
    double t0 = now_s();
    int ok = 0, bad = 0, final_ok = 0;
    size_t i = 0;
    for (const json_value *p = root->child; p && i < n; p = p->next, i++) {
        size_t slen;
        const char *sol = json_str(json_get(p, "solution"), &slen);
        items[i].id = json_str(json_get(p, "unique_id"), NULL);
        items[i].answer = json_str(json_get(p, "answer"), &items[i].alen);
        if (!sol || !items[i].answer || !items[i].id) {
            CHECK_MSG(0, "problem %zu lacks a field", i);
            continue;
        }
        items[i].norm = math_normalize(items[i].answer, items[i].alen, NULL);
        size_t blen, flen;
        char *box = extract_boxed(sol, slen, 1, &blen), *first = extract_boxed(sol, slen, 0, &flen);
        const char *a = items[i].answer, *nm = items[i].norm;
        size_t al = items[i].alen;
        int same = box && first && math_equiv(a, al, box, blen, NULL) && math_equiv(box, blen, a, al, NULL) &&
                   math_equiv(a, al, first, flen, NULL) && math_equiv(first, flen, a, al, NULL) &&
                   math_equiv(a, al, a, al, NULL) && nm && math_equiv(a, al, nm, strlen(nm), NULL);
        if (same)
            ok++;
        else {
            bad++;
            printf("FAIL %s: answer %s, last box %s, first box %s, normalized %s\n", items[i].id, a,
                   box ? box : "(none)", first ? first : "(none)", nm ? nm : "(none)");
        }
        size_t mlen;
        char *final = extract_math(sol, slen, &mlen);
        if (final && math_equiv(a, al, final, mlen, NULL) && math_equiv(final, mlen, a, al, NULL))
            final_ok++;
        else
            printf("FAIL %s: answer %s, extract_math %s\n", items[i].id, a, final ? final : "(none)");
        free(final);
        free(box);
        free(first);
    }
    printf("answer == last box: %d/%zu, == extract_math(solution): %d/%zu (%.3f s)\n", ok, n, final_ok, n,
           now_s() - t0);
    CHECK(bad == 0 && ok == 500);
    CHECK(final_ok == 500);

    /* 2. distinct answers must stay distinct */
    t0 = now_s();
    long pairs = 0, found = 0, allowed = 0;
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++) {
            if (!items[a].norm || !items[b].norm || strcmp(items[a].norm, items[b].norm) == 0)
                continue;
            pairs++;
            if (!math_equiv(items[a].answer, items[a].alen, items[b].answer, items[b].alen, NULL))
                continue;
            if (listed(items[a].answer, items[b].answer)) {
                allowed++;
                continue;
            }
            found++;
            printf("EQUIV %s [%s] ~ %s [%s]\n", items[a].id, items[a].answer, items[b].id, items[b].answer);
        }
    double dt = now_s() - t0;
    printf("distinct pairs: %ld, judged equivalent: %ld (+%ld listed as the same math), %.3f s, %.1f us/pair\n",
           pairs, found, allowed, dt, pairs ? dt * 1e6 / (double)pairs : 0.0);
    CHECK(found == 0);
    CHECK(pairs > 100000);

    for (i = 0; i < n; i++)
        free(items[i].norm);
    free(items);
    json_free(doc);
    free(text);
    return check_report();
}
