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
    const char *s = luaL_checklstring(L, 1, &len);
    void **box = call_box(L);
    *box = math_normalize(s, len, &n);
    if (!*box)
        return luaL_error(L, "math.normalize: out of memory");
    lua_pushlstring(L, *box, n);
    free(*box);
    *box = NULL;
    return 1;
}

static int opt_bool(lua_State *L, int arg, const char *name)
{
    if (!lua_isboolean(L, -1))
        luaL_argerror(L, arg, lua_pushfstring(L, "math.equiv: option '%s' must be a boolean, got %s", name, luaL_typename(L, -1)));
    return lua_toboolean(L, -1);
}

static lua_Integer opt_int(lua_State *L, int arg, const char *name, lua_Integer lo, lua_Integer hi)
{
    int isint = 0;
    lua_Integer v = lua_type(L, -1) == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : 0;
    if (!isint || v < lo || v > hi)
        luaL_argerror(L, arg, lua_pushfstring(L, "math.equiv: option '%s' must be an integer from %I to %I", name, lo, hi));
    return v;
}

static void read_opts(lua_State *L, int arg, math_opts *o)
{
    math_opts_default(o);
    if (lua_isnoneornil(L, arg))
        return;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_argerror(L, arg, "math.equiv: option names must be strings");
        const char *name = lua_tostring(L, -2);
        if (strcmp(name, "ordered_lists") == 0)
            o->ordered_lists = opt_bool(L, arg, name);
        else if (strcmp(name, "require_reduced") == 0)
            o->require_reduced = opt_bool(L, arg, name);
        else if (strcmp(name, "rel_tol") == 0) {
            double t = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
            if (!(t >= 0 && t < 1))
                luaL_argerror(L, arg, "math.equiv: option 'rel_tol' must be a number in [0, 1)");
            o->rel_tol = t;
        } else if (strcmp(name, "points") == 0)
            o->points = (int)opt_int(L, arg, name, 1, MATH_MAX_POINTS);
        else if (strcmp(name, "seed") == 0)
            o->seed = (unsigned)opt_int(L, arg, name, 0, 4294967295LL);
        else
            luaL_argerror(L, arg, lua_pushfstring(L, "math.equiv: unknown option '%s'", name));
        lua_pop(L, 1);
    }
}

static int lmath_equiv(lua_State *L)
{
    size_t rlen, clen;
    const char *ref = luaL_checklstring(L, 1, &rlen);
    const char *cand = luaL_checklstring(L, 2, &clen);
    math_opts o;
    read_opts(L, 3, &o);
    lua_pushboolean(L, math_equiv(ref, rlen, cand, clen, &o));
    return 1;
}

void lmath_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"normalize", lmath_normalize}, {"equiv", lmath_equiv}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "math");
}
