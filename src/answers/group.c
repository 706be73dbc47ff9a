/* group: equal answers into groups, the bindings' mux.vote.count, which
 * every vote of lua/slmmux/vote.lua starts from. Grouping compares each answer with the
 * representative of every group so far: O(n * groups) calls of eq, which
 * is what a non-transitive eq (numeric tolerance) needs to give results
 * that depend only on the order of the answers; n is a handful of samples. */
#include "answers/group.h"

#include <stdlib.h>
#include <string.h>

static int group_same(const vote_answer *a, const vote_answer *b, vote_eq_fn eq, void *ud)
{
    if (eq)
        return eq(a->s, a->len, b->s, b->len, ud) != 0;
    return a->len == b->len && (a->len == 0 || memcmp(a->s, b->s, a->len) == 0);
}

/* The groups in first-appearance order. */
static int group_answers(const vote_answer *answers, int n, vote_eq_fn eq, void *ud, vote_group *groups)
{
    int g = 0;
    for (int i = 0; i < n; i++) {
        int at = -1;
        if (answers[i].s) {
            for (int j = 0; j < g && at < 0; j++)
                if (group_same(&answers[groups[j].first], &answers[i], eq, ud))
                    at = j;
            if (at < 0) {
                at = g++;
                groups[at].first = i;
                groups[at].count = 0;
            }
            groups[at].count++;
        }
    }
    return g;
}

static int group_by_count_then_first(const void *pa, const void *pb)
{
    const vote_group *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

int vote_count(const vote_answer *answers, int n, vote_eq_fn eq, void *ud, vote_group *groups)
{
    if (n < 0)
        return -1;
    int g = group_answers(answers, n, eq, ud, groups);
    qsort(groups, (size_t)g, sizeof *groups, group_by_count_then_first);
    return g;
}
