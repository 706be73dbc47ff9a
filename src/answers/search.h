/* search: which subset of models to orchestrate, by exhaustive search over
 * per-question bitsets (the SLM-MUX paper's model selection search). Pure
 * C; the caller passes the bitsets and the result array. */
#ifndef SLMMUX_SEARCH_H
#define SLMMUX_SEARCH_H
#include <stdint.h>

#define VOTE_SEARCH_MAX_MODELS 32

typedef struct vote_search_result {
    uint32_t models;            /* bit m set: model m is in the subset */
    int size;
    int n_union, n_contradiction;
    double union_acc;           /* n_union / Q */
    double contradiction;       /* n_contradiction / Q */
    double score;               /* union_acc - lambda * contradiction */
} vote_search_result;

/* Words per model in the bitsets for q questions. */
static inline int vote_search_words(int n_questions) { return (n_questions + 63) / 64; }

/* Exhaustive search over every subset of 1..max_size of n_models models.
 * correct and wrong_consistent are per-model bitsets over the questions:
 * model m's bits are at [m * W, (m + 1) * W), W = vote_search_words(Q),
 * question j at bit j % 64 of word j / 64; bits past Q must be 0.
 *   correct_m:           model m answers the question correctly (e.g. its
 *                        SLM-MUX pick is right);
 *   wrong_consistent_m:  model m answers it wrong with high consistency
 *                        (e.g. all its samples agree on a wrong answer) -
 *                        the caller chooses the threshold.
 * For a subset S:
 *   union(S)         = |OR_{m in S} correct_m| / Q  (an oracle picking the
 *                      right model would score this);
 *   contradiction(S) = |(OR wrong_consistent_m) AND (OR correct_m)| / Q:
 *                      questions where one member is confidently wrong
 *                      while another is right, the case where the
 *                      confidence rule may pick the wrong model (SLM-MUX
 *                      paper, section on model selection search);
 *   score(S)         = union(S) - lambda * contradiction(S).
 * best_per_size[s - 1] gets the best subset of size s, for s = 1..max_size;
 * ties go to the lexicographically first subset (by sorted model indices).
 * Subsets are visited depth-first with the ORs kept per depth, so each costs
 * O(W). Returns the number of sizes filled (min(max_size, n_models)), or -1
 * when n_models is not 1..32, n_questions < 1, max_size < 1 or lambda is NaN. */
int vote_search(int n_models, int n_questions, const uint64_t *correct, const uint64_t *wrong_consistent,
                double lambda, int max_size, vote_search_result *best_per_size);

#endif
