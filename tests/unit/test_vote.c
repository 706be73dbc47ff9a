/* test_vote: grouping (vote_count) and the subset search against a
 * brute-force reference, the C half of mux.vote. The decision rules are
 * Lua's: tests/unit/test_vote_lua.lua. */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/oom.h"
#include "answers/group.h"
#include "answers/search.h"

#define MAXA 16

/* Answers from C strings (NULL = failed sample). */
typedef struct tanswers {
    vote_answer a[MAXA];
    int k;
} tanswers;

static tanswers mk(int k, const char *const *s)
{
    tanswers t;
    for (int i = 0; i < k; i++) {
        t.a[i].s = s[i];
        t.a[i].len = s[i] ? strlen(s[i]) : 0;
    }
    t.k = k;
    return t;
}

#define ANSWERS(...) mk((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                        (const char *[]){__VA_ARGS__})

static int caseless(const char *a, size_t al, const char *b, size_t bl, void *ud)
{
    ++*(int *)ud;
    if (al != bl)
        return 0;
    for (size_t i = 0; i < al; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

static void test_count_orders_by_count_then_first(void)
{
    tanswers t = ANSWERS("b", NULL, "a", "a", "c", "b", NULL, "d", "d", "d");
    vote_group g[10];
    int n = vote_count(t.a, t.k, NULL, NULL, g);
    CHECK(n == 4);
    CHECK(g[0].first == 7 && g[0].count == 3);     /* d */
    CHECK(g[1].first == 0 && g[1].count == 2);     /* b before a: first appearance */
    CHECK(g[2].first == 2 && g[2].count == 2);     /* a */
    CHECK(g[3].first == 4 && g[3].count == 1);     /* c */
}

static void test_count_nulls_never_group(void)
{
    tanswers t = ANSWERS(NULL, NULL, NULL);
    vote_group g[3];
    CHECK(vote_count(t.a, 3, NULL, NULL, g) == 0);
    CHECK(vote_count(t.a, 0, NULL, NULL, g) == 0);
    CHECK(vote_count(t.a, -1, NULL, NULL, g) == -1);
    /* the empty string is an answer (extractors never produce it, but the
     * vote must not confuse it with NULL) */
    tanswers e = ANSWERS("", NULL, "");
    CHECK(vote_count(e.a, 3, NULL, NULL, g) == 1 && g[0].count == 2);
    /* byte equality sees past NUL */
    vote_answer z[2] = {{"a\0b", 3}, {"a\0c", 3}};
    CHECK(vote_count(z, 2, NULL, NULL, g) == 2);
}

static void test_count_uses_the_equality_callback(void)
{
    tanswers t = ANSWERS("y", "x", "X", NULL, "Y", "x");
    vote_group g[6];
    int calls = 0;
    CHECK(vote_count(t.a, t.k, caseless, &calls, g) == 2 && calls > 0);
    CHECK(g[0].first == 1 && g[0].count == 3);     /* x X x: 3, before y Y: 2 */
    CHECK(g[1].first == 0 && g[1].count == 2);
    CHECK(vote_count(t.a, t.k, NULL, NULL, g) == 4);   /* bytes: "x" != "X" */
}

/* |a - b| <= 1 on one-digit answers: not transitive. */
static int within_one(const char *a, size_t al, const char *b, size_t bl, void *ud)
{
    (void)ud;
    return al == 1 && bl == 1 && abs(a[0] - b[0]) <= 1;
}

static void test_count_non_transitive_joins_the_first_group(void)
{
    /* 2 is within one of 1 and of 3, which are not: 2 joins 1's group (the
     * first whose representative it equals) and 3 starts its own */
    tanswers t = ANSWERS("1", "3", "2", "2");
    vote_group g[4];
    CHECK(vote_count(t.a, t.k, within_one, NULL, g) == 2);
    CHECK(g[0].first == 0 && g[0].count == 3);
    CHECK(g[1].first == 1 && g[1].count == 1);
}

/* ---- subset search ------------------------------------------------------------ */

static void set_bit(uint64_t *w, int m, int words, int q) { w[(size_t)m * words + q / 64] |= UINT64_C(1) << (q % 64); }

static vote_search_opts opts_of(double lambda, int max_size)
{
    vote_search_opts o = {lambda, 1, max_size, 1, VOTE_NORM_SOLVED};
    return o;
}

static void test_search_hand_computed(void)
{
    /* Q = 4. m0 solves {0,1}, confidently wrong on {2}; m1 solves {2},
     * confidently wrong on {0}; m2 solves {3}. The contradiction rate is
     * per question the subset solves (the reference's).
     * lambda = 1: size 1: m0 (2/4, no contradiction for one model); size 2:
     * {0,2} union 3/4, no contradiction (while {0,1} has union 3/4 but
     * contradicts on 0 and 2: 2/3); size 3: union 4/4, contradiction 2/4,
     * score 1/2. */
    uint64_t c[3] = {0}, w[3] = {0};
    set_bit(c, 0, 1, 0); set_bit(c, 0, 1, 1); set_bit(w, 0, 1, 2);
    set_bit(c, 1, 1, 2); set_bit(w, 1, 1, 0);
    set_bit(c, 2, 1, 3);
    vote_search_result r[3];
    vote_search_opts o = opts_of(1.0, 3);
    CHECK(vote_search(3, 4, c, w, &o, r) == 3);
    CHECK(r[0].models == 0x1 && r[0].size == 1 && r[0].score == 0.5 && r[0].union_acc == 0.5);
    CHECK(r[1].models == 0x5 && r[1].union_acc == 0.75 && r[1].contradiction == 0 && r[1].score == 0.75);
    CHECK(r[2].models == 0x7 && r[2].union_acc == 1.0 && r[2].contradiction == 0.5 && r[2].score == 0.5);
    CHECK(r[2].n_union == 4 && r[2].n_contradiction == 2);
    /* lambda = 0: {0,1} and {0,2} tie at 3/4; the lexicographically first wins */
    o = opts_of(0.0, 2);
    CHECK(vote_search(3, 4, c, w, &o, r) == 2);
    CHECK(r[1].models == 0x3 && r[1].score == 0.75);
    /* max_size beyond the models is clamped */
    o = opts_of(1.0, 10);
    CHECK(vote_search(3, 4, c, w, &o, r) == 3);
    /* top 3 of size 2, best first: {0,2} 0.75; {1,2} union 2/4, no
     * contradiction, 0.5; {0,1} 3/4 - 2/3 = 1/12 */
    vote_search_result t[3];
    o = opts_of(1.0, 2);
    o.min_size = 2;
    o.top = 3;
    CHECK(vote_search(3, 4, c, w, &o, t) == 1);
    CHECK(t[0].models == 0x5 && t[1].models == 0x6 && t[2].models == 0x3);
    CHECK(t[2].contradiction == 2.0 / 3 && t[2].score == 0.75 - 2.0 / 3);
    /* the same over all questions: {0,1} scores 3/4 - 2/4 */
    o.normalize = VOTE_NORM_ALL;
    CHECK(vote_search(3, 4, c, w, &o, t) == 1);
    CHECK(t[2].models == 0x3 && t[2].contradiction == 0.5 && t[2].score == 0.25);
}

/* The normalisation decides the winner. Q = 20, lambda = 0.5. m0 solves
 * q0-4, m1 q5-9 and is confidently wrong on q0-3; m4 solves q0-6. {0,1}
 * solves 10 with 4 contradictions, {0,4} solves 7 with none.
 *   per solved question (the reference): {0,1} 0.5 - 0.5 * 4/10 = 0.3,
 *     {0,4} 0.35 (also {2,4}, {3,4}: same union, later): {0,4} wins;
 *   per question: {0,1} 0.5 - 0.5 * 4/20 = 0.4 (also {1,4}, later),
 *     {0,4} 0.35: {0,1} wins. */
static void test_search_normalisation(void)
{
    enum { Q = 20 };
    uint64_t c[6] = {0}, w[6] = {0};
    for (int q = 0; q < 10; q++)
        set_bit(c, q < 5 ? 0 : 1, 1, q);
    for (int q = 0; q < 4; q++)
        set_bit(w, 1, 1, q);
    for (int q = 0; q < 6; q++)
        set_bit(c, 2 + q % 2, 1, q);
    for (int q = 0; q < 7; q++)
        set_bit(c, 4, 1, q);
    set_bit(w, 5, 1, 0);
    vote_search_result r[1];
    vote_search_opts o = {0.5, 2, 2, 1, VOTE_NORM_SOLVED};
    CHECK(vote_search(6, Q, c, w, &o, r) == 1);
    CHECK(r[0].models == 0x11 && r[0].n_union == 7 && r[0].n_contradiction == 0);
    CHECK(r[0].score == 7.0 / 20);
    o.normalize = VOTE_NORM_ALL;
    CHECK(vote_search(6, Q, c, w, &o, r) == 1);
    CHECK(r[0].models == 0x3 && r[0].n_union == 10 && r[0].n_contradiction == 4);
    CHECK(r[0].score == 10.0 / 20 - 0.5 * (4.0 / 20));
}

static void test_search_rejects_bad_arguments(void)
{
    uint64_t c[33] = {0}, w[33] = {0};
    vote_search_result r[33];
    vote_search_opts o = opts_of(1.0, 2);
    CHECK(vote_search(33, 10, c, w, &o, r) == -1);
    CHECK(vote_search(0, 10, c, w, &o, r) == -1);
    CHECK(vote_search(2, 0, c, w, &o, r) == -1);
    o = opts_of(1.0, 0);
    CHECK(vote_search(2, 10, c, w, &o, r) == -1);
    o = opts_of(NAN, 1);
    CHECK(vote_search(2, 10, c, w, &o, r) == -1);
    o = opts_of(1.0, 1);
    o.top = 0;
    CHECK(vote_search(2, 10, c, w, &o, r) == -1);
    o.top = 1;
    o.normalize = 7;
    CHECK(vote_search(2, 10, c, w, &o, r) == -1);
    o = opts_of(1.0, 1);
    CHECK(vote_search(32, 10, c, w, &o, r) == 1);
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
        if (size == 1)
            c = 0;
        double ua = (double)u / q, num = ua - lambda * (u ? (double)c / u : 0.0);
        int s = size - 1;
        int better = !best_mask[s] || num > best_num[s] ||
                     (num == best_num[s] && (u > bu[s] || (u == bu[s] && lex_less(mask, best_mask[s]))));
        if (better) {
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
        vote_search_opts o = opts_of(lambdas[t], n);
        CHECK(vote_search(n, q, cb, wb, &o, r) == n);
        int agree = 0;
        for (int s = 0; s < n; s++) {
            agree += r[s].models == bm[s] && r[s].n_union == bu[s] && r[s].n_contradiction == bcn[s] &&
                     r[s].size == s + 1 && r[s].score == bn[s];
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
    test_count_orders_by_count_then_first();
    test_count_nulls_never_group();
    test_count_uses_the_equality_callback();
    test_count_non_transitive_joins_the_first_group();
    test_search_hand_computed();
    test_search_normalisation();
    test_search_rejects_bad_arguments();
    test_search_matches_brute_force();
    return check_report();
}
