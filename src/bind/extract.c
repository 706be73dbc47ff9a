/* extract: the Lua face of extract.c, the table mux.extract.
 *
 *   boxed(text [, {which = "last"|"first"}])   -> string | nil
 *   math(text)                                 -> string | nil
 *       math_normalize of the last box (MATH answers ready to compare)
 *   number(text)                               -> string | nil   (GSM8K)
 *   choice(text [, letters = "ABCD"])          -> "A".."Z" | nil (GPQA)
 *   code(text [, entry_point])                 -> string | nil   (HumanEval)
 *
 * Each returns a string or nil, never "". Rules: see extract.h. A wrong
 * argument type, an unknown option or a letters string that is not upper
 * case A-Z raises an error naming the argument. */
#include "bind/bind.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "answers/extract.h"
#include "answers/mathequiv.h"

/* Pushes *box (malloc'd by extract, freed here) or nil. NULL with ENOMEM
 * is an out-of-memory error, not "no answer". */
static int push_result(lua_State *L, void **box, size_t n)
{
    if (!*box) {
        if (errno == ENOMEM)
            return luaL_error(L, "not enough memory");
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, *box, n);
    free(*box);
    *box = NULL;
    return 1;
}

static int ex_boxed(lua_State *L)
{
    size_t len, n = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    int last = 1;
    if (!lua_isnoneornil(L, 2)) {
        static const char *const opts[] = {"which", NULL};
        static const char *const which[] = {"first", "last", NULL};
        luaL_checktype(L, 2, LUA_TTABLE);
        check_options(L, 2, opts);
        lua_getfield(L, 2, "which");
        if (!lua_isnil(L, -1)) {
            const char *w = lua_tostring(L, -1);
            int i = -1;
            for (int j = 0; w && lua_type(L, -1) == LUA_TSTRING && which[j]; j++)
                if (strcmp(w, which[j]) == 0)
                    i = j;
            if (i < 0)
                luaL_argerror(L, 2, "option 'which' must be \"last\" or \"first\"");
            last = i == 1;
        }
        lua_pop(L, 1);
    }
    void **box = call_box(L);
    errno = 0;
    *box = extract_boxed(text, len, last, &n);
    return push_result(L, box, n);
}

static int ex_math(lua_State *L)
{
    size_t len, n = 0, m = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    void **box = call_box(L);
    errno = 0;
    char *boxed = *box = extract_boxed(text, len, 1, &n);
    if (!boxed)
        return push_result(L, box, 0);
    errno = 0;
    *box = math_normalize(boxed, n, &m);
    free(boxed);
    if (*box && m == 0) {           /* never "" */
        free(*box);
        *box = NULL;
    }
    return push_result(L, box, m);
}

static int ex_number(lua_State *L)
{
    size_t len, n = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    void **box = call_box(L);
    errno = 0;
    *box = extract_number(text, len, &n);
    return push_result(L, box, n);
}

static int ex_choice(lua_State *L)
{
    size_t len, ll;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *letters = luaL_optlstring(L, 2, "ABCD", &ll);
    if (ll == 0 || strspn(letters, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ll)
        luaL_argerror(L, 2, "letters must be upper case A-Z, e.g. \"ABCD\"");
    int c = extract_choice(text, len, letters);
    if (!c) {
        lua_pushnil(L);
        return 1;
    }
    char s = (char)c;
    lua_pushlstring(L, &s, 1);
    return 1;
}

static int ex_code(lua_State *L)
{
    size_t len, n = 0;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *ep = luaL_optstring(L, 2, NULL);
    void **box = call_box(L);
    errno = 0;
    *box = extract_code(text, len, ep, &n);
    return push_result(L, box, n);
}

void lextract_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"boxed", ex_boxed}, {"math", ex_math}, {"number", ex_number},
                                     {"choice", ex_choice}, {"code", ex_code}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "extract");
}
