/* vote: SLM-MUX Algorithm 1 (vote_mux_select, vote_mux) and the majority
 * baselines (vote_majority, vote_weighted, vote_weighted_models), built on
 * the grouping of group.c. Selection compares confidences as exact
 * fractions; weighted sums need a relative tolerance (see vote.h). */
#include "answers/vote.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- SLM-MUX -------------------------------------------------------------- */

const char *vote_reason_name(vote_reason r)
{
    switch (r) {
    case VOTE_CONFIDENCE: return "confidence";
    case VOTE_TIE_ACCURACY: return "tie_accuracy";
    case VOTE_TIE_ORDER: return "tie_order";
    case VOTE_NO_ANSWER: return "no_answer";
    }
    return "?";
}

static int known(double acc) { return !isnan(acc) && acc >= 0; }

/* Compares a's accuracy with b's: 1 better, 0 same, -1 worse. */
static int acc_cmp(double a, double b)
{
    if (!known(a) || !known(b))
        return known(a) - known(b);
    return (a > b) - (a < b);
}

void vote_mux_select(const vote_top *tops, int n, vote_mux_result *out)
{
    out->model = -1;
    out->answer = -1;
    out->confidence = 0;
    out->reason = VOTE_NO_ANSWER;
    int best = -1, tied = 0;
    for (int i = 0; i < n; i++) {
        if (tops[i].count <= 0 || tops[i].k <= 0)
            continue;
        if (best < 0) {
            best = i;
            tied = 1;
            continue;
        }
        /* count_i / k_i against count_b / k_b, exactly */
        long long l = (long long)tops[i].count * tops[best].k, r = (long long)tops[best].count * tops[i].k;
        if (l > r) {
            best = i;
            tied = 1;
        } else if (l == r) {
            tied++;
        }
    }
    if (best < 0)
        return;
    out->confidence = (double)tops[best].count / tops[best].k;
    if (tied == 1) {
        out->model = best;
        out->reason = VOTE_CONFIDENCE;
        return;
    }
    /* Among the models tied on confidence: the best accuracy, and whether
     * another tied model shares it. */
    int win = -1, shared = 0;
    for (int i = best; i < n; i++) {
        if (tops[i].count <= 0 || tops[i].k <= 0 ||
            (long long)tops[i].count * tops[best].k != (long long)tops[best].count * tops[i].k)
            continue;
        if (win < 0) {
            win = i;
            continue;
        }
        int c = acc_cmp(tops[i].accuracy, tops[win].accuracy);
        if (c > 0) {
            win = i;
            shared = 0;
        } else if (c == 0) {
            shared = 1;
        }
    }
    out->model = win;
    out->reason = shared ? VOTE_TIE_ORDER : VOTE_TIE_ACCURACY;
}

int vote_mux(const vote_model *models, int n, vote_eq_fn eq, void *ud, vote_pick *picks, vote_mux_result *out)
{
    if (n < 0)
        return -1;
    int kmax = 0;
    for (int i = 0; i < n; i++) {
        if (models[i].k < 0)
            return -1;
        if (models[i].k > kmax)
            kmax = models[i].k;
    }
    vote_top *tops = malloc(sizeof *tops * (size_t)(n ? n : 1));
    vote_group *groups = malloc(sizeof *groups * (size_t)(kmax ? kmax : 1));
    int *rep = malloc(sizeof *rep * (size_t)(n ? n : 1));
    if (!tops || !groups || !rep) {
        free(tops);
        free(groups);
        free(rep);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        int g = vote_count(models[i].answers, models[i].k, eq, ud, groups);
        tops[i].count = g > 0 ? groups[0].count : 0;
        tops[i].k = models[i].k;
        tops[i].accuracy = models[i].accuracy;
        rep[i] = g > 0 ? groups[0].first : -1;
        if (picks) {
            picks[i].count = tops[i].count;
            picks[i].k = tops[i].k;
            picks[i].answer = rep[i];
            picks[i].confidence = tops[i].k > 0 ? (double)tops[i].count / tops[i].k : 0;
        }
    }
    vote_mux_select(tops, n, out);
    if (out->model >= 0)
        out->answer = rep[out->model];
    free(tops);
    free(groups);
    free(rep);
    return 0;
}

/* ---- majority votes --------------------------------------------------------- */

int vote_majority(const vote_answer *answers, int n, vote_eq_fn eq, void *ud, vote_group *winner)
{
    if (n <= 0)
        return -1;
    vote_group *groups = malloc(sizeof *groups * (size_t)n);
    if (!groups)
        return -1;
    int g = vote_count(answers, n, eq, ud, groups);
    int r = -1;
    if (g > 0) {
        r = groups[0].first;
        if (winner)
            *winner = groups[0];
    }
    free(groups);
    return r;
}

int vote_weighted(const vote_answer *answers, const double *weights, int n, vote_eq_fn eq, void *ud,
                  vote_group *winner)
{
    if (n <= 0)
        return -1;
    vote_group *groups = malloc(sizeof *groups * (size_t)n);
    int *member = malloc(sizeof *member * (size_t)n);
    if (!groups || !member) {
        free(groups);
        free(member);
        return -1;
    }
    int g = vote_group_answers(answers, n, eq, ud, groups, member);
    for (int j = 0; j < g; j++)
        groups[j].weight = 0;
    for (int i = 0; i < n; i++)
        if (member[i] >= 0 && !isnan(weights[i]))
            groups[member[i]].weight += weights[i];
    /* groups are in first-appearance order: a later group must beat the
     * best clearly to win */
    int best = -1;
    for (int j = 0; j < g; j++) {
        if (best < 0) {
            best = j;
            continue;
        }
        double w = groups[j].weight, b = groups[best].weight;
        double tol = 1e-9 * fmax(fabs(w), fabs(b));
        if (w - b > tol)
            best = j;
    }
    int r = -1;
    if (best >= 0) {
        r = groups[best].first;
        if (winner)
            *winner = groups[best];
    }
    free(groups);
    free(member);
    return r;
}

int vote_weighted_models(const vote_model *models, int n, vote_eq_fn eq, void *ud, int *answer,
                         vote_group *winner)
{
    if (answer)
        *answer = -1;
    if (n <= 0)
        return -1;
    int total = 0, kmax = 0;
    for (int i = 0; i < n; i++) {
        if (models[i].k < 0)
            return -1;
        total += models[i].k;
        if (models[i].k > kmax)
            kmax = models[i].k;
    }
    if (total == 0)
        return -1;
    vote_answer *flat = malloc(sizeof *flat * (size_t)total);
    double *w = malloc(sizeof *w * (size_t)total);
    vote_group *groups = malloc(sizeof *groups * (size_t)(kmax ? kmax : 1));
    int r = -1;
    if (flat && w && groups) {
        int at = 0;
        for (int i = 0; i < n; i++) {
            int g = vote_count(models[i].answers, models[i].k, eq, ud, groups);
            double conf = g > 0 ? (double)groups[0].count / models[i].k : 0;
            for (int j = 0; j < models[i].k; j++) {
                flat[at] = models[i].answers[j];
                w[at++] = conf;
            }
        }
        int idx = vote_weighted(flat, w, total, eq, ud, winner);
        for (int i = 0; idx >= 0 && i < n; i++) {
            if (idx < models[i].k) {
                r = i;
                if (answer)
                    *answer = idx;
                break;
            }
            idx -= models[i].k;
        }
    }
    free(flat);
    free(w);
    free(groups);
    return r;
}
