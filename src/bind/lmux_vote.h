/* lmux_vote: the Lua face of vote.c, the table mux.vote.
 *
 * Answers are Lua arrays of strings in which false (or nil, with an explicit
 * n) marks a sample with no answer; such entries never group, not even
 * with each other. Their length is opts.n, else #answers (use false, not
 * nil, for failures when relying on #). Options common to all:
 *   equiv = "exact" (default: byte equality) | "math" (math_equiv with the
 *           default options) | function(a, b) -> truthy. A function may
 *           not yield; its errors propagate.
 *
 *   count(answers [, opts])  -> {{answer=, count=, first=}, ...}
 *       groups by count descending, then first appearance; first is the
 *       1-based index of the group's first member (its representative).
 *   mux(per_model [, opts])  -> {answer=, model=, index=, confidence=, reason=,
 *                                per_model = {{model=, answer=, count=, k=, confidence=}, ...}}
 *       per_model = {{model = name, answers = {...} [, n = k]}, ...}.
 *       SLM-MUX Algorithm 1: see vote.h. k counts failed samples.
 *       opts.accuracy = {acc1, acc2, ...} (by position) or {[name] = acc};
 *       missing accuracies are unknown (they lose accuracy tie-breaks).
 *       reason is "confidence", "tie_accuracy", "tie_order" or "no_answer";
 *       with "no_answer", answer, model and index are nil, confidence 0.
 *   majority(answers [, opts])            -> answer, count   (nil, 0 if none)
 *   weighted(answers, weights [, opts])   -> answer, weight  (nil, 0 if none)
 *       weights[i] (numbers) weigh answers[i]; ties go to first appearance.
 *   weighted(per_model [, opts])          -> answer, weight, model
 *       each model's answers weigh that model's confidence (top count / k).
 *   search{correct =, wrong =, lambda = 1.0, max_size = #correct}
 *       -> {[size] = {models = {i, ...}, score=, union=, contradiction=}}
 *       correct[m][q] / wrong[m][q]: booleans, model m right / consistently
 *       wrong on question q (wrong may be omitted: never). At most 32
 *       models; every row must have the same length. See vote_search.
 * Misuse raises an error naming the argument; unknown options raise. */
#ifndef SLMMUX_LMUX_VOTE_H
#define SLMMUX_LMUX_VOTE_H
#include <lua.h>

/* Sets field "vote" on the table at the top of L's stack. */
void lmux_open_vote(lua_State *L);

#endif
