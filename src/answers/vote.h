/* vote: SLM-MUX selection and majority votes over grouped answers. Pure C:
 * callers pass the arrays, sized as documented; the functions that group
 * for themselves allocate their scratch and say so by returning -1 when out
 * of memory. Grouping (vote_count) is in answers/group.h and the model
 * subset search (vote_search) in answers/search.h; both are included here,
 * so this header is the whole voting API. */
#ifndef SLMMUX_VOTE_H
#define SLMMUX_VOTE_H
#include <stddef.h>

#include "answers/group.h"
#include "answers/search.h"

/* ---- SLM-MUX, Algorithm 1 (Wang et al. 2025, "SLM-MUX: Orchestrating
 * Small Language Models for Reasoning") ---------------------------------- */

/* One model's part in a question: its k samples and its validation
 * accuracy. k counts every sample asked for, failed ones (NULL) included:
 * a model that answered "7" once and failed twice is 1/3 confident, not 1/1,
 * because a failure is evidence of unreliability, not a missing vote. */
typedef struct vote_model {
    const vote_answer *answers; /* k entries */
    int k;
    double accuracy;            /* validation accuracy; NaN or < 0: unknown */
} vote_model;

/* The "already grouped" form: a model's top group, for callers that count
 * answers themselves. count == 0 means the model has no answer. */
typedef struct vote_top {
    int count;                  /* size of the model's top group */
    int k;                      /* samples, failures included */
    double accuracy;            /* NaN or < 0: unknown */
} vote_top;

typedef enum vote_reason {
    VOTE_CONFIDENCE,            /* one model had the highest confidence */
    VOTE_TIE_ACCURACY,          /* tie on confidence, broken by validation accuracy */
    VOTE_TIE_ORDER,             /* tie on both, broken by model order (first wins) */
    VOTE_NO_ANSWER              /* no model has any answer */
} vote_reason;

/* "confidence", "tie_accuracy", "tie_order", "no_answer". */
const char *vote_reason_name(vote_reason r);

typedef struct vote_pick {
    int count, k;               /* the model's top group size and sample count */
    int answer;                 /* index into the model's answers of its top group's representative; -1 if none */
    double confidence;          /* count / k (0 when k == 0) */
} vote_pick;

typedef struct vote_mux_result {
    int model;                  /* winning model, -1 when no model has an answer */
    int answer;                 /* index into the winner's answers, -1 when none */
    double confidence;
    vote_reason reason;
} vote_mux_result;

/* Algorithm 1 on tops[0..n): the highest confidence count/k wins (compared
 * exactly, as fractions: 2/6 ties 1/3); ties go to the higher validation
 * accuracy (a known accuracy beats an unknown one), then to the earlier
 * model. A model with count 0 never wins; when all have 0 the result is
 * model -1, VOTE_NO_ANSWER. out->answer is left -1 (tops carry no answers). */
void vote_mux_select(const vote_top *tops, int n, vote_mux_result *out);

/* Algorithm 1 from raw answers: groups each model's answers with eq, takes
 * its top group (ties: first appearance), then vote_mux_select. picks
 * (may be NULL) receives n entries, one per model. Returns 0, or -1 when
 * out of memory or an argument is invalid (n < 0, k < 0). */
int vote_mux(const vote_model *models, int n, vote_eq_fn eq, void *ud, vote_pick *picks, vote_mux_result *out);

/* ---- majority votes ------------------------------------------------------ */

/* Plain majority over answers[0..n) (Agent Forest: every sample of every
 * model, flattened). Ties go to the first appearance. Returns the winning
 * representative's index with *winner filled, or -1 when no answer is
 * non-NULL (or out of memory). winner may be NULL. */
int vote_majority(const vote_answer *answers, int n, vote_eq_fn eq, void *ud, vote_group *winner);

/* Weighted majority: answer i brings weights[i]. The group with the largest
 * weight sum wins; sums within a relative 1e-9 count as tied (floating sums
 * of fractions such as 1/3 + 2/3 need it), ties go to the first appearance.
 * winner->weight is the sum. Returns the representative's index or -1. */
int vote_weighted(const vote_answer *answers, const double *weights, int n, vote_eq_fn eq, void *ud,
                  vote_group *winner);

/* Confidence-weighted majority over models: each model's answers weigh
 * that model's confidence (its top group count / k), then vote_weighted
 * over all answers in model order. Returns the winning model's index with
 * *answer the index into that model's answers, or -1. */
int vote_weighted_models(const vote_model *models, int n, vote_eq_fn eq, void *ud, int *answer,
                         vote_group *winner);

#endif
