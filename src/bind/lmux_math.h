/* lmux_math: the Lua face of mathequiv.c, the table mux.math.
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
#ifndef SLMMUX_LMUX_MATH_H
#define SLMMUX_LMUX_MATH_H
#include <lua.h>

/* Sets field "math" on the table at the top of L's stack. */
void lmux_open_math(lua_State *L);

#endif
