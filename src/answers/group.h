/* group: answers into groups of equal answers, the counting every vote
 * starts from. Pure C; callers pass the arrays, sized as documented.
 *
 * Answers are byte strings with lengths (model output may hold NUL). An
 * answer with s == NULL is "no answer" (a failed extraction or request):
 * it never joins a group, not even with another NULL. */
#ifndef SLMMUX_GROUP_H
#define SLMMUX_GROUP_H
#include <stddef.h>

typedef struct vote_answer {
    const char *s;              /* NULL: no answer */
    size_t len;
} vote_answer;

/* Equality of two answers (non-zero: same). NULL means byte equality.
 * With a non-transitive relation (numeric tolerance), an answer joins the
 * first group, in order of first appearance, whose representative it
 * equals: the result depends only on the order of the answers. */
typedef int (*vote_eq_fn)(const char *a, size_t alen, const char *b, size_t blen, void *ud);

typedef struct vote_group {
    int first;                  /* index of the first member: the representative */
    int count;                  /* members */
} vote_group;

/* Groups answers[0..n) into groups[] (room for n groups), sorted by count
 * descending, then first appearance ascending. Returns the group count
 * (0 when every answer is NULL), or -1 when n < 0. O(n * groups) calls of eq. */
int vote_count(const vote_answer *answers, int n, vote_eq_fn eq, void *ud, vote_group *groups);

#endif
