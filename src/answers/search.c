/* search: the model subset search (vote_search). Subsets are visited
 * depth-first so the ORs of the members' bitsets are kept per depth and
 * each subset costs one pass over W words (OR, popcount) instead of one per
 * member. It lives apart from the votes because it works on a whole run's
 * results (bitsets over the questions), not on one question's answers. */
#include "answers/search.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct search {
    int n, words, max_size;
    const uint64_t *correct, *wrong;
    double lambda;
    uint64_t *orc, *orw;        /* (max_size + 1) * words each: the ORs at each depth */
    double *best_num;           /* best u - lambda * c per size */
    vote_search_result *best;
} search_t;

static void search_dfs(search_t *s, int start, int depth, uint32_t mask)
{
    const int W = s->words;
    const uint64_t *pc = s->orc + (size_t)depth * W, *pw = s->orw + (size_t)depth * W;
    uint64_t *nc = s->orc + (size_t)(depth + 1) * W, *nw = s->orw + (size_t)(depth + 1) * W;
    for (int m = start; m < s->n; m++) {
        const uint64_t *cm = s->correct + (size_t)m * W, *wm = s->wrong + (size_t)m * W;
        int u = 0, c = 0;
        for (int i = 0; i < W; i++) {
            uint64_t x = pc[i] | cm[i], y = pw[i] | wm[i];
            nc[i] = x;
            nw[i] = y;
            u += __builtin_popcountll(x);
            c += __builtin_popcountll(x & y);
        }
        /* u - lambda * c: exact for the integer-ish lambdas people use, so
         * equal scores compare equal and the first subset keeps the tie */
        double num = (double)u - s->lambda * (double)c;
        vote_search_result *b = &s->best[depth];
        if (b->models == 0 || num > s->best_num[depth]) {
            s->best_num[depth] = num;
            b->models = mask | (UINT32_C(1) << m);
            b->n_union = u;
            b->n_contradiction = c;
        }
        if (depth + 1 < s->max_size)
            search_dfs(s, m + 1, depth + 1, mask | (UINT32_C(1) << m));
    }
}

int vote_search(int n_models, int n_questions, const uint64_t *correct, const uint64_t *wrong_consistent,
                double lambda, int max_size, vote_search_result *best_per_size)
{
    if (n_models < 1 || n_models > VOTE_SEARCH_MAX_MODELS || n_questions < 1 || max_size < 1 || isnan(lambda))
        return -1;
    if (max_size > n_models)
        max_size = n_models;
    search_t s = {n_models, vote_search_words(n_questions), max_size, correct, wrong_consistent, lambda,
                  NULL, NULL, NULL, best_per_size};
    size_t cells = (size_t)(max_size + 1) * (size_t)s.words;
    s.orc = calloc(cells, sizeof *s.orc);
    s.orw = calloc(cells, sizeof *s.orw);
    s.best_num = calloc((size_t)max_size, sizeof *s.best_num);
    if (!s.orc || !s.orw || !s.best_num) {
        free(s.orc);
        free(s.orw);
        free(s.best_num);
        return -1;
    }
    memset(best_per_size, 0, sizeof *best_per_size * (size_t)max_size);
    search_dfs(&s, 0, 0, 0);
    for (int k = 0; k < max_size; k++) {
        vote_search_result *b = &best_per_size[k];
        b->size = k + 1;
        b->union_acc = (double)b->n_union / n_questions;
        b->contradiction = (double)b->n_contradiction / n_questions;
        b->score = s.best_num[k] / n_questions;
    }
    free(s.orc);
    free(s.orw);
    free(s.best_num);
    return max_size;
}
