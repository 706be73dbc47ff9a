/* replay: votes over stored samples, offline. A panel holds, per model and
 * problem, the answer class of each of S stored samples; a replay draws k
 * of them per model (a Monte-Carlo trial: a random k-subset, in sample
 * order, as a run asking k samples would have seen them) and applies a
 * decision rule. It is the mechanism behind the scaling study and the
 * offline SLM-MUX accuracy of a subset: millions of decisions a second,
 * where vote.lua takes microseconds for one. The rules are the same as
 * lua/slmmux/vote.lua's (tests/unit/test_replay.lua holds them to it). */
#ifndef SLMMUX_REPLAY_H
#define SLMMUX_REPLAY_H
#include <stdint.h>

typedef struct replay_panel {
    int models, problems, samples;      /* S stored samples per (model, problem) */
    int classes;                        /* C: class ids are 1..C-1; 0 is "no answer" */
    const uint16_t *cls;                /* [(m * problems + p) * S + s] */
    const uint8_t *right;               /* [p * C + c]: class c of problem p is right */
} replay_panel;

enum {
    REPLAY_MUX,         /* SLM-MUX, Algorithm 1: the most consistent model's top answer;
                         * ties to the higher accuracy, then the earlier model */
    REPLAY_MAJORITY,    /* Agent Forest: majority of every sample, ties to first appearance */
    REPLAY_SC           /* self-consistency of models[0]: majority of its samples */
};

typedef struct replay_opts {
    int rule;
    const int *models;                  /* panel model indices, in the rule's order */
    int n_models;
    const double *accuracy;             /* per panel model, for MUX ties; < 0 or NaN: unknown */
    int k;                              /* samples per model, 1..S */
    int trials;                         /* >= 1 */
    uint64_t seed;
} replay_opts;

/* The k-subset of trial t for (model m, problem p): k sorted indices into
 * 0..S-1 written to idx. A function of (seed, t, m, p) alone, so every rule
 * and every set of models sees the same samples of a model in a trial;
 * k = S is every sample in order. */
void replay_subset(const replay_panel *pn, uint64_t seed, int t, int m, int p, int k, int *idx);

/* Runs opts.trials trials over every problem. per_trial[t] gets the
 * problems decided right in trial t and per_problem[p] (may be NULL) the
 * trials in which problem p was decided right. Returns 0, or -1 on bad
 * arguments (a model index out of range, k outside 1..S, trials < 1, SC
 * with other than one model) or when memory runs out. */
int replay_run(const replay_panel *pn, const replay_opts *opts, int *per_trial, int *per_problem);

#endif
