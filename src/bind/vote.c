/* vote: the C half of mux.vote, the mechanisms the votes of
 * lua/slmmux/vote.lua stand on (that module is mux.vote, these two its
 * fields count and search; the decision rules are policy, hence Lua).
 *
 * Answers are Lua arrays of strings in which false (or nil, with an explicit
 * n) marks a sample with no answer; such entries never group, not even
 * with each other. Their length is opts.n, else #answers (use false, not
 * nil, for failures when relying on #).
 *
 *   count(answers [, opts])  -> {{answer=, count=, first=}, ...}
 *       groups by count descending, then first appearance; first is the
 *       1-based index of the group's first member (its representative).
 *       opts.equiv = "exact" (default: byte equality) | "math" (math_equiv
 *       with the default options) | function(a, b) -> truthy. A function
 *       may not yield; its errors propagate. opts.n as above.
 *   top(answers [, opts])    -> answer, count, first of count's first group
 *       (nil, 0 when no answer): the per-model step of SLM-MUX, no tables.
 *   search{correct =, wrong =, lambda = 0.5, min_size = 1, max_size = #correct,
 *          top = 1, normalize = "solved"}
 *       -> {[size] = {models = {i, ...}, score=, union=, contradiction=,
 *                     solved=, contradictions=, ranked = {the top subsets,
 *                     best first, each of the same shape}}} for the sizes
 *       min_size..max_size. correct[m][q] / wrong[m][q]: booleans, model m
 *       solves / is confidently wrong on question q (wrong may be omitted:
 *       never). normalize "solved" divides the contradictions by the
 *       questions the subset solves (the reference's), "all" by every
 *       question. At most 32 models; every row must have the same length.
 *       See vote_search (search.h) for the objective and the ranking.
 * Misuse raises an error naming the argument; unknown options raise.
 *
 * Memory: every array handed to group.c is a Lua userdata, so an error
 * raised midway (a bad argument, or an error in a Lua equiv function) leaks
 * nothing. With an equiv function, answer strings are anchored in a
 * private table for the whole call, so that function that edits the caller's arrays cannot free a
 * string group.c is still comparing. An equiv function runs under
 * lua_pcall: its error is kept and raised once vote_count has returned, so
 * no longjmp crosses C frames that expect to return. */
#include "bind/bind.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "answers/mathequiv.h"
#include "answers/group.h"
#include "answers/search.h"
#include "bind/panel.h"

typedef struct eqctx {
    lua_State *L;
    int kind;                   /* EQ_EXACT, EQ_MATH, EQ_FUNC */
    int fidx;                   /* stack index of the function */
    int failed;                 /* the function raised: its error is at errslot */
    int errslot;
    const char *fname;          /* the public function, for errors */
} eqctx;

enum { EQ_EXACT, EQ_MATH, EQ_FUNC };

static int eq_math(const char *a, size_t al, const char *b, size_t bl, void *ud)
{
    (void)ud;
    return math_equiv(a, al, b, bl, NULL);     /* NULL: math_opts_default */
}

static int eq_func(const char *a, size_t al, const char *b, size_t bl, void *ud)
{
    eqctx *e = ud;
    lua_State *L = e->L;
    if (e->failed)
        return 0;
    if (!lua_checkstack(L, 3)) {
        e->failed = 2;
        return 0;
    }
    lua_pushvalue(L, e->fidx);
    lua_pushlstring(L, a, al);
    lua_pushlstring(L, b, bl);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        e->failed = 1;
        lua_replace(L, e->errslot);
        return 0;
    }
    int r = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return r;
}

static vote_eq_fn eq_of(const eqctx *e)
{
    return e->kind == EQ_MATH ? eq_math : e->kind == EQ_FUNC ? eq_func : NULL;
}

/* After vote_count: re-raise the equiv function's error, if any. */
static void eq_done(eqctx *e)
{
    if (e->failed == 2)
        check_error(e->L, e->fname, "opts.equiv: Lua stack overflow");
    if (e->failed) {
        lua_pushvalue(e->L, e->errslot);
        lua_error(e->L);
    }
}

/* The options table at arg (absent is fine), checked against names; sets
 * up the equivalence. Pushes two slots (the function or nil, the error
 * slot) whose indices e records. Returns 1 if the table is present. */
static int get_options(lua_State *L, int arg, const char *fname, const char *const *names, eqctx *e)
{
    e->L = L;
    e->kind = EQ_EXACT;
    e->failed = 0;
    e->fname = fname;
    int present = check_opt_table(L, arg, fname, "opts");
    if (present) {
        check_fields(L, arg, fname, "opts", names);
        lua_getfield(L, arg, "equiv");
    } else {
        lua_pushnil(L);
    }
    e->fidx = lua_gettop(L);
    int t = lua_type(L, -1);
    if (t == LUA_TFUNCTION) {
        e->kind = EQ_FUNC;
    } else if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "math") == 0)
            e->kind = EQ_MATH;
        else if (strcmp(s, "exact") != 0)
            check_error(L, fname, "opts.equiv must be \"exact\", \"math\" or a function (got \"%s\")", s);
    } else if (t != LUA_TNIL) {
        check_type_error(L, -1, fname, "opts.equiv", "\"exact\", \"math\" or a function");
    }
    lua_pushnil(L);
    e->errslot = lua_gettop(L);
    return present;
}

/* Reads the answers array at idx (length n, or #t when n < 0) into a new
 * userdata array, anchoring each string in the table at anchor (if not 0).
 * Pushes the userdata; returns the array. what names the argument in errors. */
static vote_answer *read_answers(lua_State *L, int idx, lua_Integer n, int anchor, const char *fname,
                                 const char *what, int *count)
{
    if (n < 0)
        n = (lua_Integer)lua_rawlen(L, idx);
    if (n > 1000000)
        check_error(L, fname, "%s has too many entries", what);
    vote_answer *a = lua_newuserdatauv(L, sizeof *a * (size_t)(n ? n : 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_rawgeti(L, idx, i);
        if (t == LUA_TSTRING) {
            a[i - 1].s = lua_tolstring(L, -1, &a[i - 1].len);
            if (anchor)
                lua_rawseti(L, anchor, i);
            else
                lua_pop(L, 1);      /* the caller's array holds it */
        } else if (t == LUA_TNIL || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) {
            a[i - 1].s = NULL;
            a[i - 1].len = 0;
            lua_pop(L, 1);
        } else {
            check_error(L, fname, "%s[%d] must be a string, false or nil (got %s)", what, (int)i,
                        luaL_typename(L, -1));
        }
    }
    *count = (int)n;
    return a;
}

/* opts.n at arg, or -1. */
static lua_Integer opt_n(lua_State *L, int arg, int present, const char *fname)
{
    if (!present)
        return -1;
    lua_getfield(L, arg, "n");
    lua_Integer n = -1;
    if (!lua_isnil(L, -1))
        n = check_integer(L, -1, fname, "opts.n", 0, 1000000);
    lua_pop(L, 1);
    return n;
}

static void push_answer(lua_State *L, const vote_answer *a)
{
    if (a->s)
        lua_pushlstring(L, a->s, a->len);
    else
        lua_pushnil(L);
}

/* ---- count and top ---------------------------------------------------------------- */

/* The groups of the answers at arg 1 (opts at arg 2), sorted as count
 * returns them; *answers points at the answers. Leaves its working slots
 * on the stack. */
static int groups_of(lua_State *L, const char *fname, vote_answer **answers, vote_group **groups)
{
    static const char *const names[] = {"equiv", "n", NULL};
    check_table(L, 1, fname, "answers");
    eqctx e;
    int present = get_options(L, 2, fname, names, &e);
    lua_Integer n = opt_n(L, 2, present, fname);
    /* Only a Lua equiv function can run code that edits the caller's array
     * while group.c compares its strings; then they are anchored here. */
    int anchor = 0;
    if (e.kind == EQ_FUNC) {
        lua_createtable(L, n > 0 ? (int)n : (int)lua_rawlen(L, 1), 0);
        anchor = lua_gettop(L);
    }
    int cnt;
    vote_answer *a = read_answers(L, 1, n, anchor, fname, "answers", &cnt);
    vote_group *g = lua_newuserdatauv(L, sizeof *g * (size_t)(cnt ? cnt : 1), 0);
    int ng = vote_count(a, cnt, eq_of(&e), &e, g);
    eq_done(&e);
    *answers = a;
    *groups = g;
    return ng;
}

static int v_count(lua_State *L)
{
    vote_answer *a;
    vote_group *g;
    int ng = groups_of(L, "mux.vote.count", &a, &g);
    lua_createtable(L, ng, 0);
    for (int i = 0; i < ng; i++) {
        lua_createtable(L, 0, 3);
        push_answer(L, &a[g[i].first]);
        lua_setfield(L, -2, "answer");
        lua_pushinteger(L, g[i].count);
        lua_setfield(L, -2, "count");
        lua_pushinteger(L, g[i].first + 1);
        lua_setfield(L, -2, "first");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* count(answers, opts)[1] as three values, without building the list:
 * the largest group's answer, count and first index, or nil, 0. vote.lua's
 * top() stands on it: an SLM-MUX decision asks it once per model. */
static int v_top(lua_State *L)
{
    vote_answer *a;
    vote_group *g;
    int ng = groups_of(L, "mux.vote.top", &a, &g);
    if (ng == 0) {
        lua_pushnil(L);
        lua_pushinteger(L, 0);
        return 2;
    }
    push_answer(L, &a[g[0].first]);
    lua_pushinteger(L, g[0].count);
    lua_pushinteger(L, g[0].first + 1);
    return 3;
}

#define VOTE_SEARCH "mux.vote.search"

/* ---- search ---------------------------------------------------------------------- */

/* Reads rows of booleans from field name of arg 1 into bits (n_models rows
 * of W words). Returns the row length. required: raise if absent. */
static int read_bits(lua_State *L, const char *name, uint64_t *bits, int n_models, int q, int words)
{
    lua_getfield(L, 1, name);
    int tbl = lua_gettop(L);
    for (int m = 0; m < n_models; m++) {
        if (lua_rawgeti(L, tbl, m + 1) != LUA_TTABLE)
            check_error(L, VOTE_SEARCH, "args.%s[%d] must be a table of booleans (got %s)", name, m + 1,
                        luaL_typename(L, -1));
        int row = lua_gettop(L);
        if ((int)lua_rawlen(L, row) != q)
            check_error(L, VOTE_SEARCH, "args.%s[%d] has %d entries, args.correct[1] has %d", name,
                        m + 1, (int)lua_rawlen(L, row), q);
        for (int j = 0; j < q; j++) {
            if (lua_rawgeti(L, row, j + 1) != LUA_TBOOLEAN)
                check_error(L, VOTE_SEARCH, "args.%s[%d][%d] must be a boolean (got %s)", name, m + 1,
                            j + 1, luaL_typename(L, -1));
            if (lua_toboolean(L, -1))
                bits[(size_t)m * words + j / 64] |= UINT64_C(1) << (j % 64);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return q;
}

/* One ranked subset as a Lua table. */
static void push_subset(lua_State *L, const vote_search_result *r, int n_models)
{
    lua_createtable(L, 0, 6);
    lua_createtable(L, r->size, 0);
    int k = 0;
    for (int m = 0; m < n_models; m++)
        if (r->models >> m & 1) {
            lua_pushinteger(L, m + 1);
            lua_rawseti(L, -2, ++k);
        }
    lua_setfield(L, -2, "models");
    lua_pushnumber(L, r->score);
    lua_setfield(L, -2, "score");
    lua_pushnumber(L, r->union_acc);
    lua_setfield(L, -2, "union");
    lua_pushnumber(L, r->contradiction);
    lua_setfield(L, -2, "contradiction");
    lua_pushinteger(L, r->n_union);
    lua_setfield(L, -2, "solved");
    lua_pushinteger(L, r->n_contradiction);
    lua_setfield(L, -2, "contradictions");
}

static int v_search(lua_State *L)
{
    static const char *const names[] = {"correct", "wrong", "lambda", "min_size", "max_size", "top",
                                        "normalize", NULL};
    check_table(L, 1, VOTE_SEARCH, "args");
    check_fields(L, 1, VOTE_SEARCH, "args", names);
    if (lua_getfield(L, 1, "correct") != LUA_TTABLE)
        check_type_error(L, -1, VOTE_SEARCH, "args.correct",
                         "a table (per model, a table of booleans per question)");
    int n_models = (int)lua_rawlen(L, -1);
    if (n_models < 1 || n_models > VOTE_SEARCH_MAX_MODELS)
        check_error(L, VOTE_SEARCH, "args.correct must list 1 to %d models (got %d)",
                    VOTE_SEARCH_MAX_MODELS, n_models);
    if (lua_rawgeti(L, -1, 1) != LUA_TTABLE)
        check_type_error(L, -1, VOTE_SEARCH, "args.correct[1]", "a table of booleans");
    int q = (int)lua_rawlen(L, -1);
    lua_pop(L, 2);
    if (q < 1)
        check_error(L, VOTE_SEARCH, "args.correct[1] must hold at least one question");
    int wt = lua_getfield(L, 1, "wrong");
    if (wt != LUA_TNIL && wt != LUA_TTABLE)
        check_type_error(L, -1, VOTE_SEARCH, "args.wrong", "a table like args.correct");
    if (wt == LUA_TTABLE && (int)lua_rawlen(L, -1) != n_models)
        check_error(L, VOTE_SEARCH, "args.wrong lists %d models, args.correct %d",
                    (int)lua_rawlen(L, -1), n_models);
    lua_pop(L, 1);
    vote_search_opts o = {0.5, 1, n_models, 1, VOTE_NORM_SOLVED};
    if (lua_getfield(L, 1, "lambda") != LUA_TNIL)
        o.lambda = check_number(L, -1, VOTE_SEARCH, "args.lambda");
    lua_pop(L, 1);
    if (o.lambda != o.lambda)
        check_error(L, VOTE_SEARCH, "args.lambda must be a number, not NaN");
    o.min_size = (int)check_integer_field(L, 1, "min_size", VOTE_SEARCH, "args", 1, 1, VOTE_SEARCH_MAX_MODELS);
    o.max_size = (int)check_integer_field(L, 1, "max_size", VOTE_SEARCH, "args", n_models, 1, INT_MAX);
    o.top = (int)check_integer_field(L, 1, "top", VOTE_SEARCH, "args", 1, 1, VOTE_SEARCH_MAX_TOP);
    if (lua_getfield(L, 1, "normalize") != LUA_TNIL) {
        const char *how = check_string(L, -1, VOTE_SEARCH, "args.normalize", NULL);
        if (strcmp(how, "all") == 0)
            o.normalize = VOTE_NORM_ALL;
        else if (strcmp(how, "solved") != 0)
            check_error(L, VOTE_SEARCH, "args.normalize must be \"solved\" or \"all\" (got \"%s\")", how);
    }
    lua_pop(L, 1);
    if (o.max_size > n_models)
        o.max_size = n_models;
    if (o.max_size < o.min_size)
        check_error(L, VOTE_SEARCH, "args.min_size (%d) exceeds the models (%d) or args.max_size",
                    o.min_size, n_models);
    int words = vote_search_words(q);
    size_t cells = (size_t)n_models * (size_t)words;
    uint64_t *c = lua_newuserdatauv(L, cells * sizeof *c, 0);
    uint64_t *w = lua_newuserdatauv(L, cells * sizeof *w, 0);
    memset(c, 0, cells * sizeof *c);
    memset(w, 0, cells * sizeof *w);
    read_bits(L, "correct", c, n_models, q, words);
    if (wt == LUA_TTABLE)
        read_bits(L, "wrong", w, n_models, q, words);
    int sizes = o.max_size - o.min_size + 1;
    vote_search_result *r = lua_newuserdatauv(L, sizeof *r * (size_t)sizes * (size_t)o.top, 0);
    if (vote_search(n_models, q, c, w, &o, r) < 0)
        return check_error(L, VOTE_SEARCH, "not enough memory");
    lua_createtable(L, o.max_size, 0);
    for (int s = 0; s < sizes; s++) {
        const vote_search_result *row = r + (size_t)s * o.top;
        push_subset(L, &row[0], n_models);
        lua_createtable(L, o.top, 0);
        for (int i = 0; i < o.top && row[i].models; i++) {
            push_subset(L, &row[i], n_models);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "ranked");
        lua_rawseti(L, -2, o.min_size + s);
    }
    return 1;
}

void lvote_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"count", v_count}, {"top", v_top}, {"search", v_search}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    lpanel_register(L);
    lua_setfield(L, -2, "vote");
}
