/* search: which subset of models to orchestrate, by exhaustive search over
 * per-question bitsets (the SLM-MUX paper's model selection search, with
 * the objective of its cleaned reference release). Pure C; the caller
 * passes the bitsets and the result array. */
#ifndef SLMMUX_SEARCH_H
#define SLMMUX_SEARCH_H
#include <stdint.h>

#define VOTE_SEARCH_MAX_MODELS 32
#define VOTE_SEARCH_MAX_TOP 64

/* How the contradiction count becomes a rate. */
enum {
    VOTE_NORM_SOLVED = 0,       /* / questions the subset solves: the reference's */
    VOTE_NORM_ALL = 1           /* / all questions */
};

typedef struct vote_search_opts {
    double lambda;              /* weight of the contradiction rate (reference: 0.5) */
    int min_size, max_size;     /* subset sizes searched, 1 <= min <= max */
    int top;                    /* subsets kept per size, best first, 1..VOTE_SEARCH_MAX_TOP */
    int normalize;              /* VOTE_NORM_SOLVED or VOTE_NORM_ALL */
} vote_search_opts;

typedef struct vote_search_result {
    uint32_t models;            /* bit m set: model m is in the subset; 0: fewer subsets than top */
    int size;
    int n_union, n_contradiction;
    double union_acc;           /* n_union / Q */
    double contradiction;       /* the rate: n_contradiction / n_union (or / Q) */
    double score;               /* union_acc - lambda * contradiction */
} vote_search_result;

/* Words per model in the bitsets for q questions. */
static inline int vote_search_words(int n_questions) { return (n_questions + 63) / 64; }

/* Exhaustive search over every subset of min_size..max_size of n_models
 * models. solved and wrong are per-model bitsets over the questions: model
 * m's bits are at [m * W, (m + 1) * W), W = vote_search_words(Q), question
 * j at bit j % 64 of word j / 64; bits past Q must be 0.
 *   solved_m:  model m solves the question (the reference: at least
 *              robust_level of its k samples are right);
 *   wrong_m:   model m is confidently wrong on it (the reference: k > 1
 *              samples, all the same wrong answer).
 * For a subset S, as the reference computes it (in doubles, so equal
 * subsets of the reference compare equal here):
 *   n_union         = |OR_{m in S} solved_m|
 *   n_contradiction = |(OR solved_m) AND (OR wrong_m)| when |S| > 1, else 0:
 *                     solved questions where a member is confidently wrong,
 *                     the case where the confidence rule may pick wrong;
 *   union_acc       = n_union / Q
 *   contradiction   = n_contradiction / n_union (0 when n_union = 0), or
 *                     / Q with VOTE_NORM_ALL
 *   score           = union_acc - lambda * contradiction.
 * Ranking within a size: score, then union_acc, then the lexicographically
 * first subset (by sorted model indices: itertools.combinations' order).
 * Unlike the reference, whose best starts at score 0 with no subset (so a
 * size where every subset scores below 0 reports none), every size gets its
 * best subsets whatever their sign; callers flag a negative best.
 * out[(s - min_size) * top + r] gets the r-th best subset of size s (r from
 * 0), for s = min_size..min(max_size, n_models). Subsets are visited
 * depth-first with the ORs kept per depth, so each costs O(W). Returns the
 * number of sizes filled, or -1 when n_models is not 1..32, n_questions < 1,
 * the sizes or top are out of range, lambda is NaN or memory ran out. */
int vote_search(int n_models, int n_questions, const uint64_t *solved, const uint64_t *wrong,
                const vote_search_opts *opts, vote_search_result *out);

#endif
