/* check: the one argument checker of the bindings (see bind.h) and
 * core.misuse, which gives the Lua wrappers of init.lua the same shape.
 *
 * Lua's own luaL_argerror names the function from debug information, which
 * for a field of a module table is '?', and positions the error at the
 * caller, which for a wrapped binding is the wrapper: hence names passed
 * explicitly and positions found by skipping the library's frames. */
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bind/bind.h"

static char check_library[PATH_MAX + 32];  /* "@<home>/lua/slmmux/", a chunkname prefix */
static size_t check_library_len;

void check_set_library(const char *home)
{
    /* require finds the library through package.path "<home>/lua/?.lua",
     * so its chunknames start with exactly this */
    int n = snprintf(check_library, sizeof check_library, "@%s/lua/slmmux/", home);
    check_library_len = n > 0 && (size_t)n < sizeof check_library ? (size_t)n : 0;
}

void check_where(lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline <= 0)
            continue;           /* a C function: pcall, a binding */
        if (check_library_len && strncmp(ar.source, check_library, check_library_len) == 0)
            continue;
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
        return;
    }
    lua_pushliteral(L, "");
}

int check_error(lua_State *L, const char *fname, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    check_where(L);
    lua_pushstring(L, fname);
    lua_pushliteral(L, ": ");
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 4);
    return lua_error(L);
}

int check_type_error(lua_State *L, int idx, const char *fname, const char *what, const char *expected)
{
    /* a missing argument is nil to a Lua reader, not "no value" */
    const char *got = lua_isnone(L, idx) ? "nil" : luaL_typename(L, idx);
    return check_error(L, fname, "%s must be %s (got %s)", what, expected, got);
}

void check_table(lua_State *L, int idx, const char *fname, const char *what)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        check_type_error(L, idx, fname, what, "a table");
}

int check_opt_table(lua_State *L, int idx, const char *fname, const char *what)
{
    if (lua_isnoneornil(L, idx))
        return 0;
    check_table(L, idx, fname, what);
    return 1;
}

void check_function(lua_State *L, int idx, const char *fname, const char *what)
{
    if (lua_type(L, idx) != LUA_TFUNCTION)
        check_type_error(L, idx, fname, what, "a function");
}

const char *check_string(lua_State *L, int idx, const char *fname, const char *what, size_t *len)
{
    const char *s = lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER
                        ? lua_tolstring(L, idx, len) : NULL;
    if (!s)
        check_type_error(L, idx, fname, what, "a string");
    return s;
}

const char *check_opt_string(lua_State *L, int idx, const char *fname, const char *what,
                             const char *dflt, size_t *len)
{
    if (lua_isnoneornil(L, idx)) {
        if (len)
            *len = dflt ? strlen(dflt) : 0;
        return dflt;
    }
    return check_string(L, idx, fname, what, len);
}

lua_Integer check_integer(lua_State *L, int idx, const char *fname, const char *what,
                          lua_Integer lo, lua_Integer hi)
{
    int isint = 0;
    lua_Integer v = lua_type(L, idx) == LUA_TNUMBER ? lua_tointegerx(L, idx, &isint) : 0;
    if (!isint || v < lo || v > hi) {
        if (lua_type(L, idx) != LUA_TNUMBER)
            check_type_error(L, idx, fname, what, "an integer");
        check_error(L, fname, "%s must be an integer from %I to %I", what, lo, hi);
    }
    return v;
}

lua_Integer check_integer_field(lua_State *L, int idx, const char *field, const char *fname,
                                const char *table_name, lua_Integer dflt, lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = dflt;
    if (lua_getfield(L, idx, field) != LUA_TNIL) {
        char what[64];
        snprintf(what, sizeof what, "%s.%s", table_name, field);
        v = check_integer(L, -1, fname, what, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

lua_Number check_number(lua_State *L, int idx, const char *fname, const char *what)
{
    if (lua_type(L, idx) != LUA_TNUMBER)
        check_type_error(L, idx, fname, what, "a number");
    lua_Number v = lua_tonumber(L, idx);
    if (isnan(v))
        check_error(L, fname, "%s must be a number, not NaN", what);
    return v;
}

int check_boolean(lua_State *L, int idx, const char *fname, const char *what)
{
    if (lua_type(L, idx) != LUA_TBOOLEAN)
        check_type_error(L, idx, fname, what, "a boolean");
    return lua_toboolean(L, idx);
}

void *check_udata(lua_State *L, int idx, const char *tname, const char *fname, const char *what,
                  const char *expected)
{
    void *p = luaL_testudata(L, idx, tname);
    if (!p)
        check_type_error(L, idx, fname, what, expected);
    return p;
}

void check_fields(lua_State *L, int idx, const char *fname, const char *what,
                  const char *const known[])
{
    idx = lua_absindex(L, idx);
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        int ok = 0;
        for (int i = 0; known[i] && !ok && lua_type(L, -2) == LUA_TSTRING; i++)
            ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
        if (ok)
            continue;
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; known[i]; i++) {
            luaL_addstring(&b, i ? ", " : "");
            luaL_addstring(&b, known[i]);
        }
        luaL_pushresult(&b);
        if (lua_type(L, -3) == LUA_TSTRING)
            check_error(L, fname, "unknown field %s.%s (known: %s)", what, lua_tostring(L, -3),
                        lua_tostring(L, -1));
        check_error(L, fname, "unknown field %s[%s] (known: %s)", what,
                    lua_isinteger(L, -3) ? lua_pushfstring(L, "%I", lua_tointeger(L, -3))
                                         : luaL_typename(L, -3),
                    lua_tostring(L, -1));
    }
}

/* core.misuse(message): raises message at the recipe's line, the way
 * check_error does (non-string error values pass through unchanged). */
static int check_l_misuse(lua_State *L)
{
    lua_settop(L, 1);
    if (lua_type(L, 1) == LUA_TSTRING) {
        check_where(L);
        lua_insert(L, 1);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

void check_register(lua_State *L)
{
    lua_pushcfunction(L, check_l_misuse);
    lua_setfield(L, -2, "misuse");
}
