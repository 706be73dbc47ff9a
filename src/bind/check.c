/* check: the argument checks every binding uses. */
#include <string.h>

#include "bind/bind.h"

void check_options(lua_State *L, int idx, const char *const names[])
{
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        int known = 0;
        for (int i = 0; names[i] && !known && lua_type(L, -2) == LUA_TSTRING; i++)
            known = strcmp(lua_tostring(L, -2), names[i]) == 0;
        if (!known) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
            luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", k));
        }
    }
}

void check_fields(lua_State *L, int idx, const char *what, const char *const known[])
{
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
        luaL_error(L, "%s: unknown field '%s' (known: %s)", what,
                   lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : luaL_typename(L, -3),
                   lua_tostring(L, -1));
    }
}
