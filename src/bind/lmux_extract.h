/* lmux_extract: the Lua face of extract.c, the table mux.extract.
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
#ifndef SLMMUX_LMUX_EXTRACT_H
#define SLMMUX_LMUX_EXTRACT_H
#include <lua.h>

/* Sets field "extract" on the table at the top of L's stack. */
void lmux_open_extract(lua_State *L);

#endif
