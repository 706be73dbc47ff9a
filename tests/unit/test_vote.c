/* test_vote: grouping, SLM-MUX Algorithm 1 with its tie rules, majority
 * votes, and the subset search against a brute-force reference. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/oom.h"
#include "answers/vote.h"

#define MAXA 16

/* A model built from C strings (NULL = failed sample). */
typedef struct tmodel {
    vote_answer a[MAXA];
} tmodel;

static vote_model mk(tmodel *t, double acc, int k, const char *const *s)
{
    for (int i = 0; i < k; i++) {
        t->a[i].s = s[i];
        t->a[i].len = s[i] ? strlen(s[i]) : 0;
    }
    vote_model m = {t->a, k, acc};
    return m;
}

#define MODEL(t, acc, ...) mk(&(t), acc, (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                              (const char *[]){__VA_ARGS__})

static vote_mux_result run_mux(vote_model *m, int n, vote_pick *picks)
{
    vote_mux_result r;
    CHECK(vote_mux(m, n, NULL, NULL, picks, &r) == 0);
    return r;
}

static void test_mux_single_model_takes_its_top_group(void)
{
    tmodel t0;
    vote_model m[1] = {MODEL(t0, 0.5, "A", "B", "B")};
    vote_pick p[1];
    vote_mux_result r = run_mux(m, 1, p);
    CHECK(r.model == 0 && r.answer == 1 && r.reason == VOTE_CONFIDENCE);
    CHECK(fabs(r.confidence - 2.0 / 3) < 1e-12);
    CHECK(p[0].count == 2 && p[0].k == 3 && p[0].answer == 1);
}

static void test_mux_highest_confidence_wins(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.9, "1", "2", "3"), MODEL(t1, 0.1, "5", "5", "5")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 1 && r.answer == 0 && r.reason == VOTE_CONFIDENCE && r.confidence == 1.0);
}

static void test_mux_confidence_tie_goes_to_accuracy(void)
{
    /* the worked example of the SLM-MUX project page: 2/3 vs 2/3 vs 1/3 */
    tmodel t0, t1, t2;
    vote_model m[3] = {MODEL(t0, 0.4, "A", "A", "B"), MODEL(t1, 0.6, "B", "C", "B"),
                       MODEL(t2, 0.9, "A", "B", "C")};
    vote_mux_result r = run_mux(m, 3, NULL);
    CHECK(r.model == 1 && r.answer == 0 && r.reason == VOTE_TIE_ACCURACY);
    CHECK_STR(vote_reason_name(r.reason), "tie_accuracy");
}

static void test_mux_accuracy_tie_goes_to_order(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.5, "X", "X", "Y"), MODEL(t1, 0.5, "Y", "Y", "X")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 0 && r.answer == 0 && r.reason == VOTE_TIE_ORDER);
    CHECK_STR(vote_reason_name(r.reason), "tie_order");
}

static void test_mux_unknown_accuracies_tie_by_order(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, NAN, "X", "Y"), MODEL(t1, -1, "Y", "X")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 0 && r.reason == VOTE_TIE_ORDER);
}

static void test_mux_known_accuracy_beats_unknown(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, NAN, "X", "X"), MODEL(t1, 0.05, "Y", "Y")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 1 && r.reason == VOTE_TIE_ACCURACY);
}

static void test_mux_best_accuracy_shared_by_later_models(void)
{
    /* three-way confidence tie; the best accuracy is shared by models 1
     * and 2, so the earlier of those two wins, by order */
    tmodel t0, t1, t2;
    vote_model m[3] = {MODEL(t0, 0.3, "a", "b"), MODEL(t1, 0.7, "c", "d"), MODEL(t2, 0.7, "e", "f")};
    vote_mux_result r = run_mux(m, 3, NULL);
    CHECK(r.model == 1 && r.reason == VOTE_TIE_ORDER);
}

static void test_mux_all_null_model_cannot_win(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.99, NULL, NULL, NULL), MODEL(t1, 0.01, "x", NULL, "y")};
    vote_pick p[2];
    vote_mux_result r = run_mux(m, 2, p);
    CHECK(r.model == 1 && r.answer == 0 && r.reason == VOTE_CONFIDENCE);
    CHECK(fabs(r.confidence - 1.0 / 3) < 1e-12);
    CHECK(p[0].count == 0 && p[0].answer == -1 && p[0].confidence == 0 && p[0].k == 3);
}

static void test_mux_all_null_everywhere_is_no_answer(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.5, NULL, NULL), MODEL(t1, 0.7, NULL)};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == -1 && r.answer == -1 && r.reason == VOTE_NO_ANSWER && r.confidence == 0);
    CHECK_STR(vote_reason_name(r.reason), "no_answer");
    CHECK(run_mux(m, 0, NULL).reason == VOTE_NO_ANSWER);
}

static void test_mux_failed_samples_count_in_k(void)
{
    /* "7" once out of 2 samples is 1/2, below 2/3; were failures dropped
     * from k, model 0 would be 1/1 and win */
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.9, "7", NULL), MODEL(t1, 0.1, "8", "8", "9")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 1 && r.reason == VOTE_CONFIDENCE);
}

static void test_mux_confidence_compared_as_fractions(void)
{
    /* 3/9 and 1/3 are the same confidence, even with different k */
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.2, "a", "b", "c"),
                       MODEL(t1, 0.8, "z", "z", "z", "y", "x", "w", "v", "u", "t")};
    vote_mux_result r = run_mux(m, 2, NULL);
    CHECK(r.model == 1 && r.reason == VOTE_TIE_ACCURACY && r.answer == 0);
}

static int caseless(const char *a, size_t al, const char *b, size_t bl, void *ud)
{
    int *calls = ud;
    (*calls)++;
    if (al != bl)
        return 0;
    for (size_t i = 0; i < al; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

static void test_mux_uses_the_equality_callback(void)
{
    tmodel t0, t1;
    vote_model m[2] = {MODEL(t0, 0.1, "y", "x", "X"), MODEL(t1, 0.9, "p", "q", "p")};
    int calls = 0;
    vote_mux_result r;
    CHECK(vote_mux(m, 2, caseless, &calls, NULL, &r) == 0);
    CHECK(calls > 0);
    CHECK(r.model == 1 && r.reason == VOTE_TIE_ACCURACY);   /* 2/3 each with the callback */
    m[1].accuracy = 0.05;
    CHECK(vote_mux(m, 2, caseless, &calls, NULL, &r) == 0);
    CHECK(r.model == 0 && r.answer == 1 && r.reason == VOTE_TIE_ACCURACY);
    CHECK(vote_mux(m, 2, NULL, NULL, NULL, &r) == 0);       /* bytes: "x" != "X" */
    CHECK(r.model == 1 && r.reason == VOTE_CONFIDENCE);
}

static void test_mux_select_already_grouped(void)
{
    vote_top tops[3] = {{2, 4, 0.5}, {1, 2, 0.6}, {0, 4, 0.9}};
    vote_mux_result r;
    vote_mux_select(tops, 3, &r);
    CHECK(r.model == 1 && r.reason == VOTE_TIE_ACCURACY && r.answer == -1 && r.confidence == 0.5);
    vote_top zero_k[2] = {{0, 0, 0.5}, {1, 3, NAN}};
    vote_mux_select(zero_k, 2, &r);
    CHECK(r.model == 1 && r.reason == VOTE_CONFIDENCE);
}

static void test_count_orders_by_count_then_first(void)
{
    tmodel t;
    vote_model m = MODEL(t, 0, "b", NULL, "a", "a", "c", "b", NULL, "d", "d", "d");
    vote_group g[10];
    int n = vote_count(m.answers, m.k, NULL, NULL, g);
    CHECK(n == 4);
    CHECK(g[0].first == 7 && g[0].count == 3);     /* d */
    CHECK(g[1].first == 0 && g[1].count == 2);     /* b before a: first appearance */
    CHECK(g[2].first == 2 && g[2].count == 2);     /* a */
    CHECK(g[3].first == 4 && g[3].count == 1);     /* c */
    CHECK(g[0].weight == 3);
}

static void test_count_nulls_never_group(void)
{
    tmodel t;
    vote_model m = MODEL(t, 0, NULL, NULL, NULL);
    vote_group g[3];
    CHECK(vote_count(m.answers, 3, NULL, NULL, g) == 0);
    CHECK(vote_count(m.answers, 0, NULL, NULL, g) == 0);
    CHECK(vote_count(m.answers, -1, NULL, NULL, g) == -1);
    /* the empty string is an answer (extractors never produce it, but the
     * vote must not confuse it with NULL) */
    tmodel u;
    vote_model e = MODEL(u, 0, "", NULL, "");
    CHECK(vote_count(e.answers, 3, NULL, NULL, g) == 1 && g[0].count == 2);
    /* byte equality sees past NUL */
    vote_answer z[2] = {{"a\0b", 3}, {"a\0c", 3}};
    CHECK(vote_count(z, 2, NULL, NULL, g) == 2);
}

static void test_majority_ties_go_to_first_appearance(void)
{
    tmodel t;
    vote_model m = MODEL(t, 0, NULL, "7", "8", "8", "7", "9");
    vote_group w;
    CHECK(vote_majority(m.answers, m.k, NULL, NULL, &w) == 1);
    CHECK(w.count == 2 && w.first == 1);
    vote_model m2 = MODEL(t, 0, "7", "8", "8");
    CHECK(vote_majority(m2.answers, m2.k, NULL, NULL, &w) == 1 && w.count == 2);
    vote_model m3 = MODEL(t, 0, NULL, NULL);
    CHECK(vote_majority(m3.answers, m3.k, NULL, NULL, &w) == -1);
}

static void test_weighted_majority(void)
{
    tmodel t;
    vote_model m = MODEL(t, 0, "a", "b", "b", "c");
    double w1[4] = {0.9, 0.4, 0.4, 0.1};
    vote_group g;
    CHECK(vote_weighted(m.answers, w1, 4, NULL, NULL, &g) == 0 && fabs(g.weight - 0.9) < 1e-12);
    double w2[4] = {0.5, 0.4, 0.4, 0.1};
    CHECK(vote_weighted(m.answers, w2, 4, NULL, NULL, &g) == 1 && g.count == 2);
    /* 1/3 + 1/3 + 1/3 against 1.0: a tie within rounding, first wins */
    vote_model m3 = MODEL(t, 0, "x", "y", "y", "y");
    double w3[4] = {1.0, 1.0 / 3, 1.0 / 3, 1.0 / 3};
    CHECK(vote_weighted(m3.answers, w3, 4, NULL, NULL, &g) == 0);
    double w4[4] = {1.0 / 3, 1.0 / 3, 1.0 / 3, 1.0 / 3 + 1e-6};
    CHECK(vote_weighted(m3.answers, w4, 4, NULL, NULL, &g) == 1);
}

static void test_weighted_by_model_confidence(void)
{
    /* model 0 is sure of "5" (3/3); models 1 and 2 say "6" at 2/3 each:
     * plain majority picks "6" (4 votes vs 3)... */
    tmodel t0, t1, t2;
    vote_model m[3] = {MODEL(t0, 0, "5", "5", "5"), MODEL(t1, 0, "6", "6", "1"), MODEL(t2, 0, "6", "6", "2")};
    vote_answer flat[9];
    for (int i = 0; i < 9; i++)
        flat[i] = m[i / 3].answers[i % 3];
    CHECK(vote_majority(flat, 9, NULL, NULL, NULL) == 3);
    /* ...weighted by confidence "5" has 3 * 1 = 3, "6" has 4 * 2/3 = 2.67 */
    int ans = -2;
    vote_group g;
    CHECK(vote_weighted_models(m, 3, NULL, NULL, &ans, &g) == 0 && ans == 0);
    CHECK(fabs(g.weight - 3.0) < 1e-12 && g.count == 3);
    m[2].k = 2;   /* "6","6" from model 2 is now 2/2: 6 gets 4/3 + 2 = 3.33 */
    CHECK(vote_weighted_models(m, 3, NULL, NULL, &ans, &g) == 1 && ans == 0);
}

/* ---- subset search ------------------------------------------------------------ */

static void set_bit(uint64_t *w, int m, int words, int q) { w[(size_t)m * words + q / 64] |= UINT64_C(1) << (q % 64); }

static void test_search_hand_computed(void)
{
    /* Q = 4. m0 right on {0,1}, confidently wrong on {2}; m1 right on {2},
     * confidently wrong on {0}; m2 right on {3}.
     * lambda = 1: size 1: m0 (2/4); size 2: {0,2} union 3/4, no
     * contradiction (while {0,1} has union 3/4 but contradicts on 0 and 2);
     * size 3: union 4/4, contradiction 2/4, score 1/2. */
    uint64_t c[3] = {0}, w[3] = {0};
    set_bit(c, 0, 1, 0); set_bit(c, 0, 1, 1); set_bit(w, 0, 1, 2);
    set_bit(c, 1, 1, 2); set_bit(w, 1, 1, 0);
    set_bit(c, 2, 1, 3);
    vote_search_result r[3];
    CHECK(vote_search(3, 4, c, w, 1.0, 3, r) == 3);
    CHECK(r[0].models == 0x1 && r[0].size == 1 && r[0].score == 0.5 && r[0].union_acc == 0.5);
    CHECK(r[1].models == 0x5 && r[1].union_acc == 0.75 && r[1].contradiction == 0 && r[1].score == 0.75);
    CHECK(r[2].models == 0x7 && r[2].union_acc == 1.0 && r[2].contradiction == 0.5 && r[2].score == 0.5);
    CHECK(r[2].n_union == 4 && r[2].n_contradiction == 2);
    /* lambda = 0: {0,1} and {0,2} tie at 3/4; the lexicographically first wins */
    CHECK(vote_search(3, 4, c, w, 0.0, 2, r) == 2);
    CHECK(r[1].models == 0x3 && r[1].score == 0.75);
    /* max_size beyond the models is clamped */
    CHECK(vote_search(3, 4, c, w, 1.0, 10, r) == 3);
}

static void test_search_rejects_bad_arguments(void)
{
    uint64_t c[33] = {0}, w[33] = {0};
    vote_search_result r[33];
    CHECK(vote_search(33, 10, c, w, 1.0, 2, r) == -1);
    CHECK(vote_search(0, 10, c, w, 1.0, 2, r) == -1);
    CHECK(vote_search(2, 0, c, w, 1.0, 2, r) == -1);
    CHECK(vote_search(2, 10, c, w, 1.0, 0, r) == -1);
    CHECK(vote_search(2, 10, c, w, NAN, 1, r) == -1);
    CHECK(vote_search(32, 10, c, w, 1.0, 1, r) == 1);
}

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Lexicographic order of two subsets of equal size, as sorted index lists:
 * the first differing element decides, and it is the lowest bit of a ^ b. */
static int lex_less(uint32_t a, uint32_t b)
{
    uint32_t d = a ^ b;
    return d && (a & d & -d);
}

/* The reference: every mask, question by question, no bit tricks. */
static void brute(int n, int q, const uint8_t *cor, const uint8_t *wr, double lambda, int max_size,
                  uint32_t *best_mask, double *best_num, int *bu, int *bc)
{
    for (int s = 0; s < max_size; s++)
        best_mask[s] = 0;
    for (uint32_t mask = 1; mask < (UINT32_C(1) << n); mask++) {
        int size = __builtin_popcount(mask);
        if (size > max_size)
            continue;
        int u = 0, c = 0;
        for (int j = 0; j < q; j++) {
            int anyc = 0, anyw = 0;
            for (int m = 0; m < n; m++)
                if (mask >> m & 1) {
                    anyc |= cor[m * q + j];
                    anyw |= wr[m * q + j];
                }
            u += anyc;
            c += anyc && anyw;
        }
        double num = (double)u - lambda * (double)c;
        int s = size - 1;
        if (!best_mask[s] || num > best_num[s] || (num == best_num[s] && lex_less(mask, best_mask[s]))) {
            best_mask[s] = mask;
            best_num[s] = num;
            bu[s] = u;
            bc[s] = c;
        }
    }
}

static void test_search_matches_brute_force(void)
{
    const uint64_t seeds[] = {1, 42, 0x9e3779b97f4a7c15ULL, 12345, 777};
    const double lambdas[] = {0.0, 0.5, 1.0, 2.0, 1.0};
    const int qs[] = {130, 7, 64, 200, 5};          /* small Q: many ties */
    for (int t = 0; t < 5; t++) {
        rng_state = seeds[t];
        int n = 10, q = qs[t], words = vote_search_words(q);
        uint8_t *cor = xcalloc((size_t)n * q, 1), *wr = xcalloc((size_t)n * q, 1);
        uint64_t *cb = xcalloc((size_t)n * words, 8), *wb = xcalloc((size_t)n * words, 8);
        for (int m = 0; m < n; m++)
            for (int j = 0; j < q; j++) {
                uint64_t x = rng() % 100;
                int right = x < 30 + 4 * (uint64_t)m;            /* models differ in skill */
                int conf_wrong = !right && (x % 3 == 0);
                cor[m * q + j] = (uint8_t)right;
                wr[m * q + j] = (uint8_t)conf_wrong;
                if (right)
                    set_bit(cb, m, words, j);
                if (conf_wrong)
                    set_bit(wb, m, words, j);
            }
        uint32_t bm[10];
        double bn[10];
        int bu[10], bcn[10];
        brute(n, q, cor, wr, lambdas[t], n, bm, bn, bu, bcn);
        vote_search_result r[10];
        CHECK(vote_search(n, q, cb, wb, lambdas[t], n, r) == n);
        int agree = 0;
        for (int s = 0; s < n; s++) {
            agree += r[s].models == bm[s] && r[s].n_union == bu[s] && r[s].n_contradiction == bcn[s] &&
                     r[s].size == s + 1 && fabs(r[s].score - bn[s] / q) < 1e-12;
            CHECK_MSG(r[s].models == bm[s], "seed %d size %d: got %#x, brute force %#x", t, s + 1,
                      (unsigned)r[s].models, (unsigned)bm[s]);
        }
        CHECK_MSG(agree == n, "seed %d: %d of %d sizes agree", t, agree, n);
        free(cor);
        free(wr);
        free(cb);
        free(wb);
    }
}

int main(void)
{
    test_mux_single_model_takes_its_top_group();
    test_mux_highest_confidence_wins();
    test_mux_confidence_tie_goes_to_accuracy();
    test_mux_accuracy_tie_goes_to_order();
    test_mux_unknown_accuracies_tie_by_order();
    test_mux_known_accuracy_beats_unknown();
    test_mux_best_accuracy_shared_by_later_models();
    test_mux_all_null_model_cannot_win();
    test_mux_all_null_everywhere_is_no_answer();
    test_mux_failed_samples_count_in_k();
    test_mux_confidence_compared_as_fractions();
    test_mux_uses_the_equality_callback();
    test_mux_select_already_grouped();
    test_count_orders_by_count_then_first();
    test_count_nulls_never_group();
    test_majority_ties_go_to_first_appearance();
    test_weighted_majority();
    test_weighted_by_model_confidence();
    test_search_hand_computed();
    test_search_rejects_bad_arguments();
    test_search_matches_brute_force();
    return check_report();
}
