/* extract: the Lua face of extract.c, the table mux.extract.
 *
 *   boxed(text [, {which = "last"|"first"}])   -> string | nil
 *   math(text)                                 -> string | nil
 *       math_normalize of extract_math: the final answer of a MATH reply
 *       (the last box with the boxes joined to it, or an answer stated in
 *       prose after it), ready to compare
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
static int lextract_push(lua_State *L, void **box, size_t n, const char *fname)
{
    if (!*box) {
        if (errno == ENOMEM)
            return check_error(L, fname, "not enough memory");
        lua_pushnil(L);
        return 1;
    }
    lua_pushlstring(L, *box, n);
    free(*box);
    *box = NULL;
    return 1;
}

static int lextract_boxed(lua_State *L)
{
    static const char *const fname = "mux.extract.boxed";
    static const char *const opts[] = {"which", NULL};
    size_t len, n = 0;
    const char *text = check_string(L, 1, fname, "text", &len);
    int last = 1;
    if (check_opt_table(L, 2, fname, "opts")) {
        check_fields(L, 2, fname, "opts", opts);
        lua_getfield(L, 2, "which");
        const char *w = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (w && strcmp(w, "first") == 0)
            last = 0;
        else if (!lua_isnil(L, -1) && !(w && strcmp(w, "last") == 0))
            check_error(L, fname, "opts.which must be \"last\" or \"first\"");
        lua_pop(L, 1);
    }
    void **box = call_box(L);
    errno = 0;
    *box = extract_boxed(text, len, last, &n);
    return lextract_push(L, box, n, fname);
}

static int lextract_math(lua_State *L)
{
    static const char *const fname = "mux.extract.math";
    size_t len, n = 0, m = 0;
    const char *text = check_string(L, 1, fname, "text", &len);
    void **box = call_box(L);
    errno = 0;
    char *boxed = *box = extract_math(text, len, &n);
    if (!boxed)
        return lextract_push(L, box, 0, fname);
    errno = 0;
    *box = math_normalize(boxed, n, &m);
    free(boxed);
    if (*box && m == 0) {           /* never "" */
        free(*box);
        *box = NULL;
    }
    return lextract_push(L, box, m, fname);
}

static int lextract_number(lua_State *L)
{
    static const char *const fname = "mux.extract.number";
    size_t len, n = 0;
    const char *text = check_string(L, 1, fname, "text", &len);
    void **box = call_box(L);
    errno = 0;
    *box = extract_number(text, len, &n);
    return lextract_push(L, box, n, fname);
}

static int lextract_choice(lua_State *L)
{
    static const char *const fname = "mux.extract.choice";
    size_t len, ll;
    const char *text = check_string(L, 1, fname, "text", &len);
    const char *letters = check_opt_string(L, 2, fname, "letters", "ABCD", &ll);
    if (ll == 0 || strspn(letters, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != ll)
        check_error(L, fname, "letters must be upper case A-Z, e.g. \"ABCD\"");
    int c = extract_choice(text, len, letters);
    if (!c) {
        lua_pushnil(L);
        return 1;
    }
    char s = (char)c;
    lua_pushlstring(L, &s, 1);
    return 1;
}

static int lextract_code(lua_State *L)
{
    static const char *const fname = "mux.extract.code";
    size_t len, n = 0;
    const char *text = check_string(L, 1, fname, "text", &len);
    const char *ep = check_opt_string(L, 2, fname, "entry_point", NULL, NULL);
    void **box = call_box(L);
    errno = 0;
    *box = extract_code(text, len, ep, &n);
    return lextract_push(L, box, n, fname);
}

void lextract_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"boxed", lextract_boxed}, {"math", lextract_math},
        {"number", lextract_number}, {"choice", lextract_choice}, {"code", lextract_code},
        {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "extract");
}
