/* panel: mux.vote.panel, stored samples as answer classes for offline votes
 * (answers/replay.h).
 *
 *   mux.vote.panel{samples = S, classes = {[m] = {[p] = {c_1..c_S}}},
 *                  right = {[p] = {[c] = boolean}}} -> panel
 *       classes[m][p][s]: the answer class of sample s of model m on
 *       problem p, an integer 1..#right[p], 0 for no answer. Every model
 *       lists the same problems, every problem S samples.
 *   panel:replay{rule = "mux" | "majority" | "sc", models = {m...},
 *                k = S, trials = 1, seed = 0, accuracy = {[m] = a}}
 *       -> per_trial, per_problem: the problems decided right in each
 *       trial, and the trials in which each problem was decided right.
 *       models are panel indices (1-based) in the rule's order; "sc" takes
 *       one. accuracy (per panel model; absent or negative: unknown)
 *       breaks SLM-MUX ties.
 *   panel:subset(trial, model, problem, k [, seed]) -> {sample indices, 1-based}:
 *       the samples replay draws there (so a policy replayed in Lua sees
 *       the same ones).
 *   panel:shape() -> models, problems, samples
 * Misuse raises an error naming the argument. */
#include "bind/panel.h"

#include "bind/bind.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "answers/replay.h"
#include "base/oom.h"

#define PANEL_MT "slmmux.panel"
#define PANEL_MAX_SAMPLES 4096

typedef struct lpanel {
    replay_panel p;
    uint16_t *cls;
    uint8_t *right;
} lpanel;

static int panel_gc(lua_State *L)
{
    lpanel *u = luaL_checkudata(L, 1, PANEL_MT);
    free(u->cls);
    free(u->right);
    u->cls = NULL;
    u->right = NULL;
    return 0;
}

/* The array at field name of table idx, pushed; raises unless a table. */
static int field_table(lua_State *L, int idx, const char *name, const char *fname)
{
    char what[32];
    snprintf(what, sizeof what, "args.%s", name);
    if (lua_getfield(L, idx, name) != LUA_TTABLE)
        check_type_error(L, -1, fname, what, "a table");
    return lua_gettop(L);
}

/* right: how many classes, C = 1 + the longest row; then the flags. */
static void read_right(lua_State *L, int tbl, lpanel *u, const char *fname)
{
    int P = u->p.problems, C = 1;
    for (int p = 0; p < P; p++) {
        if (lua_rawgeti(L, tbl, p + 1) != LUA_TTABLE)
            check_error(L, fname, "args.right[%d] must be a table of booleans (got %s)", p + 1,
                        luaL_typename(L, -1));
        int n = (int)lua_rawlen(L, -1);
        if (n + 1 > C)
            C = n + 1;
        lua_pop(L, 1);
    }
    if (C > 65535)
        check_error(L, fname, "args.right: more than 65534 classes in a problem");
    u->p.classes = C;
    u->right = xcalloc((size_t)P * (size_t)C, 1);
    for (int p = 0; p < P; p++) {
        lua_rawgeti(L, tbl, p + 1);
        int n = (int)lua_rawlen(L, -1);
        for (int c = 1; c <= n; c++) {
            lua_rawgeti(L, -1, c);
            u->right[(size_t)p * C + c] = (uint8_t)lua_toboolean(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

static void read_classes(lua_State *L, int tbl, lpanel *u, const char *fname)
{
    int M = u->p.models, P = u->p.problems, S = u->p.samples;
    u->cls = xcalloc((size_t)M * (size_t)P * (size_t)S, sizeof *u->cls);
    for (int m = 0; m < M; m++) {
        if (lua_rawgeti(L, tbl, m + 1) != LUA_TTABLE || (int)lua_rawlen(L, -1) != P)
            check_error(L, fname, "args.classes[%d] must list the %d problems of args.right", m + 1, P);
        for (int p = 0; p < P; p++) {
            if (lua_rawgeti(L, -1, p + 1) != LUA_TTABLE || (int)lua_rawlen(L, -1) != S)
                check_error(L, fname, "args.classes[%d][%d] must list %d classes", m + 1, p + 1, S);
            for (int s = 0; s < S; s++) {
                lua_rawgeti(L, -1, s + 1);
                int isnum;
                lua_Integer c = lua_tointegerx(L, -1, &isnum);
                if (!isnum || c < 0 || c >= u->p.classes)
                    check_error(L, fname, "args.classes[%d][%d][%d] must be a class 0..%d", m + 1, p + 1,
                                s + 1, u->p.classes - 1);
                u->cls[((size_t)m * P + p) * S + s] = (uint16_t)c;
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

static int l_panel(lua_State *L)
{
    static const char *const fname = "mux.vote.panel";
    static const char *const names[] = {"samples", "classes", "right", NULL};
    check_table(L, 1, fname, "args");
    check_fields(L, 1, fname, "args", names);
    lua_getfield(L, 1, "samples");
    int S = (int)check_integer(L, -1, fname, "args.samples", 1, PANEL_MAX_SAMPLES);
    lua_pop(L, 1);
    int classes = field_table(L, 1, "classes", fname);
    int right = field_table(L, 1, "right", fname);
    int M = (int)lua_rawlen(L, classes), P = (int)lua_rawlen(L, right);
    if (M < 1 || P < 1)
        check_error(L, fname, "args.classes and args.right must each hold at least one entry");
    /* the userdata first: an error below leaves it to the collector */
    lpanel *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    luaL_setmetatable(L, PANEL_MT);
    u->p.models = M;
    u->p.problems = P;
    u->p.samples = S;
    read_right(L, right, u, fname);
    read_classes(L, classes, u, fname);
    u->p.cls = u->cls;
    u->p.right = u->right;
    return 1;
}

static lpanel *panel_check(lua_State *L, const char *fname)
{
    lpanel *u = check_udata(L, 1, PANEL_MT, fname, "self", "a panel (from mux.vote.panel)");
    if (!u->cls)
        check_error(L, fname, "the panel is freed");
    return u;
}

static int read_rule(lua_State *L, const char *fname)
{
    if (lua_getfield(L, 2, "rule") == LUA_TNIL) {
        lua_pop(L, 1);
        return REPLAY_MUX;
    }
    const char *r = check_string(L, -1, fname, "opts.rule", NULL);
    int rule = !strcmp(r, "mux") ? REPLAY_MUX : !strcmp(r, "majority") ? REPLAY_MAJORITY
             : !strcmp(r, "sc") ? REPLAY_SC : -1;
    if (rule < 0)
        check_error(L, fname, "opts.rule must be \"mux\", \"majority\" or \"sc\" (got \"%s\")", r);
    lua_pop(L, 1);
    return rule;
}

static int l_replay(lua_State *L)
{
    static const char *const fname = "panel:replay";
    static const char *const names[] = {"rule", "models", "k", "trials", "seed", "accuracy", NULL};
    lpanel *u = panel_check(L, fname);
    check_table(L, 2, fname, "opts");
    check_fields(L, 2, fname, "opts", names);
    replay_opts o;
    o.rule = read_rule(L, fname);
    o.k = (int)check_integer_field(L, 2, "k", fname, "opts", u->p.samples, 1, u->p.samples);
    o.trials = (int)check_integer_field(L, 2, "trials", fname, "opts", 1, 1, 100000000);
    o.seed = (uint64_t)check_integer_field(L, 2, "seed", fname, "opts", 0, LUA_MININTEGER, LUA_MAXINTEGER);
    int mt = field_table(L, 2, "models", fname);
    o.n_models = (int)lua_rawlen(L, mt);
    if (o.n_models < 1 || (o.rule == REPLAY_SC && o.n_models != 1))
        check_error(L, fname, o.rule == REPLAY_SC ? "opts.models must hold one model for rule \"sc\""
                                                  : "opts.models must hold at least one model");
    int *models = lua_newuserdatauv(L, sizeof *models * (size_t)o.n_models, 0);
    for (int j = 0; j < o.n_models; j++) {
        lua_rawgeti(L, mt, j + 1);
        char what[32];
        snprintf(what, sizeof what, "opts.models[%d]", j + 1);
        models[j] = (int)check_integer(L, -1, fname, what, 1, u->p.models) - 1;
        lua_pop(L, 1);
    }
    o.models = models;
    double *acc = NULL;
    if (lua_getfield(L, 2, "accuracy") == LUA_TTABLE) {
        int at = lua_gettop(L);
        acc = lua_newuserdatauv(L, sizeof *acc * (size_t)u->p.models, 0);
        for (int m = 0; m < u->p.models; m++) {
            lua_rawgeti(L, at, m + 1);
            acc[m] = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -1.0;
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        check_type_error(L, -1, fname, "opts.accuracy", "a table of numbers per model");
    }
    o.accuracy = acc;
    int *per_trial = lua_newuserdatauv(L, sizeof *per_trial * (size_t)o.trials, 0);
    int *per_problem = lua_newuserdatauv(L, sizeof *per_problem * (size_t)u->p.problems, 0);
    if (replay_run(&u->p, &o, per_trial, per_problem) < 0)
        return check_error(L, fname, "not enough memory");
    lua_createtable(L, o.trials, 0);
    for (int t = 0; t < o.trials; t++) {
        lua_pushinteger(L, per_trial[t]);
        lua_rawseti(L, -2, t + 1);
    }
    lua_createtable(L, u->p.problems, 0);
    for (int p = 0; p < u->p.problems; p++) {
        lua_pushinteger(L, per_problem[p]);
        lua_rawseti(L, -2, p + 1);
    }
    return 2;
}

static int l_subset(lua_State *L)
{
    static const char *const fname = "panel:subset";
    lpanel *u = panel_check(L, fname);
    int t = (int)check_integer(L, 2, fname, "trial", 1, 100000000);
    int m = (int)check_integer(L, 3, fname, "model", 1, u->p.models);
    int p = (int)check_integer(L, 4, fname, "problem", 1, u->p.problems);
    int k = (int)check_integer(L, 5, fname, "k", 1, u->p.samples);
    lua_Integer seed = 0;
    if (!lua_isnoneornil(L, 6))
        seed = check_integer(L, 6, fname, "seed", LUA_MININTEGER, LUA_MAXINTEGER);
    int *idx = lua_newuserdatauv(L, sizeof *idx * (size_t)u->p.samples, 0);
    replay_subset(&u->p, (uint64_t)seed, t - 1, m - 1, p - 1, k, idx);
    lua_createtable(L, k, 0);
    for (int i = 0; i < k; i++) {
        lua_pushinteger(L, idx[i] + 1);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_shape(lua_State *L)
{
    lpanel *u = panel_check(L, "panel:shape");
    lua_pushinteger(L, u->p.models);
    lua_pushinteger(L, u->p.problems);
    lua_pushinteger(L, u->p.samples);
    return 3;
}

void lpanel_register(lua_State *L)
{
    static const luaL_Reg methods[] = {{"replay", l_replay}, {"subset", l_subset}, {"shape", l_shape},
                                       {NULL, NULL}};
    if (luaL_newmetatable(L, PANEL_MT)) {
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, panel_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, l_panel);
    lua_setfield(L, -2, "panel");
}
