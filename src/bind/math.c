/* math: the Lua face of mathequiv.c, the table mux.math.
 *
 *   normalize(s)                -> string
 *       math_normalize: the canonical form of a MATH answer (mathnorm.h).
 *   equiv(ref, cand [, opts])   -> boolean
 *       math_equiv (mathequiv.h documents the rules and defaults).
 *       opts = {ordered_lists = bool, require_reduced = bool,
 *               rel_tol = number in [0, 1), points = integer 1..32,
 *               seed = integer 0..2^32-1}; omitted fields keep defaults.
 *
 * Strings are taken with their lengths (NUL bytes allowed); numbers are
 * accepted where a string is expected, as Lua does. A wrong type, an
 * option out of range or an unknown option name raises an error naming the
 * argument (and the option). */
#include "bind/bind.h"

#include "answers/mathequiv.h"

#include <lauxlib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int lmath_normalize(lua_State *L)
{
    size_t len, n;
    const char *s = check_string(L, 1, "mux.math.normalize", "s", &len);
    void **box = call_box(L);
    *box = math_normalize(s, len, &n);
    if (!*box)
        return check_error(L, "mux.math.normalize", "not enough memory");
    lua_pushlstring(L, *box, n);
    free(*box);
    *box = NULL;
    return 1;
}

#define LMATH_EQUIV "mux.math.equiv"

static void lmath_read_opts(lua_State *L, int arg, math_opts *o)
{
    static const char *const known[] = {"ordered_lists", "require_reduced", "rel_tol", "points",
                                        "seed", NULL};
    math_opts_default(o);
    if (!check_opt_table(L, arg, LMATH_EQUIV, "opts"))
        return;
    check_fields(L, arg, LMATH_EQUIV, "opts", known);
    if (lua_getfield(L, arg, "ordered_lists") != LUA_TNIL)
        o->ordered_lists = check_boolean(L, -1, LMATH_EQUIV, "opts.ordered_lists");
    if (lua_getfield(L, arg, "require_reduced") != LUA_TNIL)
        o->require_reduced = check_boolean(L, -1, LMATH_EQUIV, "opts.require_reduced");
    if (lua_getfield(L, arg, "rel_tol") != LUA_TNIL) {
        double t = check_number(L, -1, LMATH_EQUIV, "opts.rel_tol");
        if (!(t >= 0 && t < 1))
            check_error(L, LMATH_EQUIV, "opts.rel_tol must be a number in [0, 1)");
        o->rel_tol = t;
    }
    if (lua_getfield(L, arg, "points") != LUA_TNIL)
        o->points = (int)check_integer(L, -1, LMATH_EQUIV, "opts.points", 1, MATH_MAX_POINTS);
    if (lua_getfield(L, arg, "seed") != LUA_TNIL)
        o->seed = (unsigned)check_integer(L, -1, LMATH_EQUIV, "opts.seed", 0, 4294967295LL);
    lua_pop(L, 5);
}

static int lmath_equiv(lua_State *L)
{
    size_t rlen, clen;
    const char *ref = check_string(L, 1, LMATH_EQUIV, "ref", &rlen);
    const char *cand = check_string(L, 2, LMATH_EQUIV, "cand", &clen);
    math_opts o;
    lmath_read_opts(L, 3, &o);
    lua_pushboolean(L, math_equiv(ref, rlen, cand, clen, &o));
    return 1;
}

void lmath_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"normalize", lmath_normalize}, {"equiv", lmath_equiv}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "math");
}
