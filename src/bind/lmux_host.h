/* lmux_host: what the binding files share — the host state and the task
 * primitives of lmux.c. Not a public API: only src/bind/lmux*.c include it. */
#ifndef SLMMUX_LMUX_HOST_H
#define SLMMUX_LMUX_HOST_H
#include <lauxlib.h>
#include <lua.h>

#include "net/llm.h"
#include "base/loop.h"

typedef struct store store_t;
typedef struct lmux_task lmux_task;

typedef struct lmux_host {
    lua_State *L;               /* main thread */
    loop_t *loop;
    llm_t *llm;
    store_t *store;             /* NULL with --no-store */
    int offline;                /* never touch the network */
    uint64_t commit_timer;
    lmux_task *ready_head, *ready_tail;
    int live_tasks;
    struct chat_call *chats;    /* parked chat calls, freed at shutdown */
} lmux_host;

/* The host, from the module's upvalue 1 (every core function has it). */
lmux_host *lmux_host_of(lua_State *L);

/* The task running on L, or NULL for the main thread or a recipe's own
 * coroutine (whose extra space is copied from the main thread: NULL). */
lmux_task *lmux_task_of(lua_State *L);

/* The guard every yielding binding calls first: raises a clear error unless
 * L is a task that can yield here. Returns the task. */
lmux_task *lmux_check_task(lua_State *L, const char *fname);

/* Raise luaL_argerror(idx, "unknown option 'x'") when the options table at
 * idx has a key not in the NULL-terminated list names. */
void lmux_check_options(lua_State *L, int idx, const char *const names[]);

/* Raise "<what>: unknown field 'x' (known: ...)" when the table at idx has
 * a key not in the NULL-terminated list known (misuse, named). */
void lmux_check_fields(lua_State *L, int idx, const char *what, const char *const known[]);

/* The one host of this process (bindings pass it as their upvalue 1). */
lmux_host *lmux_host_global(void);

/* Park task t (running on L): returns lua_yieldk's value; k builds the
 * results when the scheduler resumes the task. */
int lmux_park(lua_State *L, lmux_task *t, lua_KContext ctx, lua_KFunction k);

/* Samples were put into the store: make sure a commit is due within 100 ms. */
void lmux_store_touched(lmux_host *h);

/* Put a parked task on the ready list; the scheduler resumes it next turn.
 * Safe to call from any loop callback (it runs no Lua). */
void lmux_task_ready(lmux_host *h, lmux_task *t);

/* Cancel and free every parked chat call (shutdown). */
void lmux_chat_cancel_all(lmux_host *h);

/* Bindings of the other files: each sets its field(s) on the table on top
 * of the stack; the host is upvalue 1 where they need it. */
void lmux_open_chat(lua_State *L);
void lmux_open_extract(lua_State *L);
void lmux_open_math(lua_State *L);
void lmux_open_vote(lua_State *L);
void lmux_open_store(lua_State *L);
void lmux_open_exec(lua_State *L);

#endif
