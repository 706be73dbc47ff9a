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
    int n, q, words;
    vote_search_opts o;
    const uint64_t *solved, *wrong;
    uint64_t *ors, *orw;        /* (max_size + 1) * words each: the ORs at each depth */
    vote_search_result *out;
} search_t;

/* a ranks before b: score, then union, then the subset seen first (equal
 * scores and unions keep the earlier, so strict comparisons only). */
static int search_better(const vote_search_result *a, const vote_search_result *b)
{
    if (!b->models)
        return 1;
    if (a->score != b->score)
        return a->score > b->score;
    return a->union_acc > b->union_acc;
}

static void search_keep(search_t *s, const vote_search_result *r)
{
    vote_search_result *row = s->out + (size_t)(r->size - s->o.min_size) * s->o.top;
    int at = s->o.top;
    while (at > 0 && search_better(r, &row[at - 1]))
        at--;
    if (at == s->o.top)
        return;
    memmove(row + at + 1, row + at, sizeof *row * (size_t)(s->o.top - at - 1));
    row[at] = *r;
}

static void search_score(search_t *s, vote_search_result *r, int u, int c, int size)
{
    r->size = size;
    r->n_union = u;
    r->n_contradiction = size > 1 ? c : 0;
    /* the reference's expressions, operation for operation */
    r->union_acc = (double)u / s->q;
    if (s->o.normalize == VOTE_NORM_ALL)
        r->contradiction = (double)r->n_contradiction / s->q;
    else
        r->contradiction = u ? (double)r->n_contradiction / u : 0.0;
    r->score = r->union_acc - s->o.lambda * r->contradiction;
}

static void search_dfs(search_t *s, int start, int depth, uint32_t mask)
{
    const int W = s->words;
    const uint64_t *ps = s->ors + (size_t)depth * W, *pw = s->orw + (size_t)depth * W;
    uint64_t *ns = s->ors + (size_t)(depth + 1) * W, *nw = s->orw + (size_t)(depth + 1) * W;
    for (int m = start; m < s->n; m++) {
        const uint64_t *sm = s->solved + (size_t)m * W, *wm = s->wrong + (size_t)m * W;
        int u = 0, c = 0;
        for (int i = 0; i < W; i++) {
            uint64_t x = ps[i] | sm[i], y = pw[i] | wm[i];
            ns[i] = x;
            nw[i] = y;
            u += __builtin_popcountll(x);
            c += __builtin_popcountll(x & y);
        }
        uint32_t sub = mask | (UINT32_C(1) << m);
        if (depth + 1 >= s->o.min_size) {
            vote_search_result r;
            r.models = sub;
            search_score(s, &r, u, c, depth + 1);
            search_keep(s, &r);
        }
        if (depth + 1 < s->o.max_size)
            search_dfs(s, m + 1, depth + 1, sub);
    }
}

int vote_search(int n_models, int n_questions, const uint64_t *solved, const uint64_t *wrong,
                const vote_search_opts *opts, vote_search_result *out)
{
    if (n_models < 1 || n_models > VOTE_SEARCH_MAX_MODELS || n_questions < 1 || !opts)
        return -1;
    vote_search_opts o = *opts;
    if (o.min_size < 1 || o.max_size < o.min_size || o.top < 1 || o.top > VOTE_SEARCH_MAX_TOP ||
        isnan(o.lambda) || (o.normalize != VOTE_NORM_SOLVED && o.normalize != VOTE_NORM_ALL))
        return -1;
    if (o.max_size > n_models)
        o.max_size = n_models;
    if (o.min_size > o.max_size)
        return 0;
    search_t s = {n_models, n_questions, vote_search_words(n_questions), o, solved, wrong, NULL, NULL, out};
    size_t cells = (size_t)(o.max_size + 1) * (size_t)s.words;
    s.ors = calloc(cells, sizeof *s.ors);
    s.orw = calloc(cells, sizeof *s.orw);
    if (!s.ors || !s.orw) {
        free(s.ors);
        free(s.orw);
        return -1;
    }
    int sizes = o.max_size - o.min_size + 1;
    memset(out, 0, sizeof *out * (size_t)sizes * (size_t)o.top);
    search_dfs(&s, 0, 0, 0);
    free(s.ors);
    free(s.orw);
    return sizes;
}
