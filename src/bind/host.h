/* host: the C host as main.c sees it — the Lua module "slmmux.core", the
 * event loop and the HTTP client, with the recipe run as the first task.
 * Only src/bind/ and main.c include Lua headers; everything else in src/
 * knows nothing of Lua. */
#ifndef SLMMUX_HOST_H
#define SLMMUX_HOST_H
#include <lua.h>

/* Opens the host (event loop, HTTP client) and registers "slmmux.core" in
 * package.preload. home is the library's directory (holding lua/slmmux):
 * misuse errors point past its frames at the recipe's line. Returns 0, or
 * -1 with a message on L's stack. */
int host_open(lua_State *L, const char *home);

/* Runs the function on top of the stack, with the nargs arguments above
 * it, as the first task and drives the loop until it ends. Returns 0, or
 * -1 with two strings pushed: the error message (one line, as raised) and
 * the traceback ("stack traceback:\n..."; may be empty). */
int host_run_main(lua_State *L, int nargs);

/* Releases everything (transfers, sandbox runs, the store). Safe after a
 * failed run; call it before lua_close. */
void host_close(lua_State *L);

#endif
