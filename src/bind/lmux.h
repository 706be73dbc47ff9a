/* lmux: the Lua module "slmmux.core" — the only place where the C host
 * meets Lua. lmux.c holds the host state and the task scheduler (each task
 * a coroutine resumed by the event loop); lmux_chat.c, lmux_extract.c,
 * lmux_math.c, lmux_vote.c, lmux_store.c and lmux_exec.c each bind one
 * mechanism into the module table.
 *
 * Yielding bindings (chat, sleep, wait, exec) follow one rule: check that
 * the caller is a task that may yield BEFORE any side effect, start the
 * work, park the task with lua_yieldk, and build the results inside the
 * continuation, which runs in the resumed task under its own protection. */
#ifndef SLMMUX_LMUX_H
#define SLMMUX_LMUX_H
#include <lua.h>

/* Opens the host (event loop, HTTP client) and registers "slmmux.core" in
 * package.preload. Returns 0, or -1 with a message on L's stack. */
int lmux_open(lua_State *L);

/* Run the function on top of the stack (with nargs arguments below it... no:
 * arguments above it) as the first task and drive the loop until it ends.
 * Returns 0 on success, or -1 with the error (traceback included) pushed. */
int lmux_run_main(lua_State *L, int nargs);

/* Release everything (transfers, store, tasks). Safe after a failed run. */
void lmux_close(lua_State *L);

#endif
