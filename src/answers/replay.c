/* replay: see replay.h. Counting uses one array of C counters, reset
 * through the list of classes touched, so a decision costs O(k * models)
 * whatever the number of classes. */
#include "answers/replay.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: a well-mixed 64-bit hash, the generator of every draw */
static uint64_t replay_mix(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

void replay_subset(const replay_panel *pn, uint64_t seed, int t, int m, int p, int k, int *idx)
{
    int S = pn->samples;
    if (k >= S) {
        for (int s = 0; s < S; s++)
            idx[s] = s;
        return;
    }
    uint64_t state = replay_mix(replay_mix(replay_mix(seed ^ (uint64_t)t) ^ (uint64_t)m) ^ (uint64_t)p);
    /* selection sampling (Knuth's algorithm S): each index is taken with
     * probability needed / left, which yields a uniform k-subset in order */
    int need = k, got = 0;
    for (int s = 0; s < S && need > 0; s++) {
        state = replay_mix(state);
        uint64_t left = (uint64_t)(S - s);
        if (((state >> 32) * left) >> 32 < (uint64_t)need) {
            idx[got++] = s;
            need--;
        }
    }
}

typedef struct tally {
    uint16_t *count;            /* [C] */
    uint16_t *touched;          /* classes with a non-zero count */
    int n_touched;
} tally;

static void tally_add(tally *t, uint16_t c)
{
    if (t->count[c]++ == 0)
        t->touched[t->n_touched++] = c;
}

static void tally_clear(tally *t)
{
    for (int i = 0; i < t->n_touched; i++)
        t->count[t->touched[i]] = 0;
    t->n_touched = 0;
}

/* The top class of the answers in seq (0 entries never count): the largest
 * count, ties to the first appearance; *count gets its count (0: none). */
static uint16_t tally_top(tally *t, const uint16_t *seq, int n, int *count)
{
    int best = 0;
    for (int i = 0; i < n; i++)
        if (seq[i])
            tally_add(t, seq[i]);
    for (int i = 0; i < t->n_touched; i++)
        if (t->count[t->touched[i]] > best)
            best = t->count[t->touched[i]];
    uint16_t top = 0;
    for (int i = 0; i < n && best; i++)
        if (seq[i] && t->count[seq[i]] == best) {
            top = seq[i];
            break;
        }
    tally_clear(t);
    *count = best;
    return top;
}

/* a's accuracy beats b's: a known one beats an unknown one (vote.lua's
 * compare_accuracy); equal or both unknown is no. */
static int acc_beats(double a, double b)
{
    int ka = a >= 0, kb = b >= 0;      /* false for NaN too */
    if (ka != kb)
        return ka;
    return ka && a > b;
}

typedef struct replay_work {
    tally t;
    int *idx;
    uint16_t *seq;              /* n_models * k answers of one problem */
} replay_work;

/* The class one rule decides for problem p in trial tr (0: no answer). */
static uint16_t replay_decide(const replay_panel *pn, const replay_opts *o, replay_work *w, int tr, int p)
{
    int k = o->k, S = pn->samples;
    for (int j = 0; j < o->n_models; j++) {
        int m = o->models[j];
        const uint16_t *row = pn->cls + ((size_t)m * pn->problems + p) * S;
        replay_subset(pn, o->seed, tr, m, p, k, w->idx);
        for (int i = 0; i < k; i++)
            w->seq[j * k + i] = row[w->idx[i]];
    }
    int count;
    if (o->rule == REPLAY_MAJORITY)
        return tally_top(&w->t, w->seq, o->n_models * k, &count);
    if (o->rule == REPLAY_SC)
        return tally_top(&w->t, w->seq, k, &count);
    /* MUX: every model asked k samples, so counts compare as fractions */
    int best = -1, best_count = 0;
    uint16_t best_class = 0;
    for (int j = 0; j < o->n_models; j++) {
        uint16_t c = tally_top(&w->t, w->seq + j * k, k, &count);
        if (!count)
            continue;
        int m = o->models[j];
        int wins = best < 0 || count > best_count;
        if (!wins && count == best_count && o->accuracy)
            wins = acc_beats(o->accuracy[m], o->accuracy[o->models[best]]);
        if (wins) {
            best = j;
            best_count = count;
            best_class = c;
        }
    }
    return best_class;
}

int replay_run(const replay_panel *pn, const replay_opts *o, int *per_trial, int *per_problem)
{
    if (!pn || !o || o->k < 1 || o->k > pn->samples || o->trials < 1 || o->n_models < 1 ||
        (o->rule == REPLAY_SC && o->n_models != 1) || pn->classes < 1 || pn->classes > 65536)
        return -1;
    for (int j = 0; j < o->n_models; j++)
        if (o->models[j] < 0 || o->models[j] >= pn->models)
            return -1;
    replay_work w;
    w.t.count = calloc((size_t)pn->classes, sizeof *w.t.count);
    w.t.touched = malloc(sizeof *w.t.touched * (size_t)pn->classes);
    w.t.n_touched = 0;
    w.idx = malloc(sizeof *w.idx * (size_t)pn->samples);
    w.seq = malloc(sizeof *w.seq * (size_t)o->n_models * (size_t)o->k);
    if (!w.t.count || !w.t.touched || !w.idx || !w.seq) {
        free(w.t.count);
        free(w.t.touched);
        free(w.idx);
        free(w.seq);
        return -1;
    }
    if (per_problem)
        memset(per_problem, 0, sizeof *per_problem * (size_t)pn->problems);
    for (int tr = 0; tr < o->trials; tr++) {
        int right = 0;
        for (int p = 0; p < pn->problems; p++) {
            uint16_t c = replay_decide(pn, o, &w, tr, p);
            int ok = c && pn->right[(size_t)p * pn->classes + c];
            right += ok;
            if (per_problem)
                per_problem[p] += ok;
        }
        per_trial[tr] = right;
    }
    free(w.t.count);
    free(w.t.touched);
    free(w.idx);
    free(w.seq);
    return 0;
}
