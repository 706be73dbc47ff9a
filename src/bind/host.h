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
 * -1 with three values pushed: the error message (one line, as raised),
 * the traceback ("stack traceback:\n..."; may be empty) and the error's
 * kind from lua/slmmux/errors.lua ("usage", "config", "interrupted") or nil
 * for a runtime failure.
 *
 * The first SIGINT or SIGTERM makes mux.interrupted() true and new
 * requests fail; the recipe has 30 s to stop. A second signal (or those
 * 30 s) commits the store, ends the sandbox runs and exits the process
 * with 128 + the first signal's number. */
int host_run_main(lua_State *L, int nargs);

/* The number of the first SIGINT/SIGTERM received, or 0. */
int host_interrupted(void);

/* Releases everything (transfers, sandbox runs, the store). Safe after a
 * failed run; call it before lua_close. */
void host_close(lua_State *L);

#endif
