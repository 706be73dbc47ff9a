/* bind: what the binding files of "slmmux.core" share — the host state, the
 * task scheduler's primitives and the argument checks. Not a public API:
 * only the files of src/bind include it (main.c includes bind/host.h).
 *
 * Yielding bindings (chat, sleep, wait, exec) follow one rule: check that
 * the caller is a task that may yield BEFORE any side effect, start the
 * work, park the task with task_park, and build the results inside the
 * continuation, which runs in the resumed task under its own protection. */
#ifndef SLMMUX_BIND_H
#define SLMMUX_BIND_H
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>

#include "base/loop.h"
#include "net/llm.h"

typedef struct store store_t;
typedef struct task task_t;

/* ---- host.c: the one host of this process ---------------------------- */

typedef struct host {
    lua_State *L;               /* main thread */
    loop_t *loop;
    llm_t *llm;
    store_t *store;             /* the store mux.chat uses; NULL with --no-store */
    int offline;                /* never touch the network */
    uint64_t commit_timer;
    task_t *ready_head, *ready_tail;
    int live_tasks;
    struct chat_call *chats;    /* parked chat calls, freed at shutdown */
} host_t;

host_t *host_get(void);

/* Samples were put into the store: make sure a commit is due within 100 ms. */
void host_store_touched(host_t *h);

/* ---- task.c: the scheduler --------------------------------------------- */

/* The task running on L, or NULL for the main thread or a recipe's own
 * coroutine (whose extra space is copied from the main thread: NULL). */
task_t *task_of(lua_State *L);

/* The guard every yielding binding calls first: raises a clear error unless
 * L is a task that can yield here. Returns the task. */
task_t *task_check(lua_State *L, const char *fname);

/* Park task t (running on L): returns lua_yieldk's value; k builds the
 * results when the scheduler resumes the task. */
int task_park(lua_State *L, task_t *t, lua_KContext ctx, lua_KFunction k);

/* Put a parked task on the ready list; the scheduler resumes it next turn.
 * Safe to call from any loop callback (it runs no Lua). */
void task_ready(host_t *h, task_t *t);

/* A task for the function at fidx with the nargs values after it (copied);
 * pushes its handle. */
task_t *task_spawn(lua_State *L, host_t *h, int fidx, int nargs);
/* Resume the tasks ready now (one that re-readies itself waits a turn). */
void task_run_ready(host_t *h);
/* 0 while running, 1 done, -1 failed. */
int task_state(const task_t *t);
/* Pushes a finished task's error (failed) or its results table. */
void task_push_outcome(lua_State *L, const task_t *t);

/* ---- check.c: argument checks ---------------------------------------- */

/* Raise luaL_argerror(idx, "unknown option 'x'") when the options table at
 * idx has a key not in the NULL-terminated list names. */
void check_options(lua_State *L, int idx, const char *const names[]);

/* Raise "<what>: unknown field 'x' (known: ...)" when the table at idx has
 * a key not in the NULL-terminated list known (misuse, named). */
void check_fields(lua_State *L, int idx, const char *what, const char *const known[]);

/* ---- the bindings: each sets its field(s) on the table on top of the stack */

void task_register(lua_State *L);       /* spawn, wait, sleep, now */
void endpoint_register(lua_State *L);   /* endpoint, set_concurrency, set_debug, set_offline, stats */
void chat_register(lua_State *L);       /* chat */
void exec_register(lua_State *L);       /* exec, isolation */
void lextract_register(lua_State *L);   /* extract */
void lmath_register(lua_State *L);      /* math */
void lvote_register(lua_State *L);      /* vote */
void lstore_register(lua_State *L);     /* store */

/* Cancel and free every parked chat call (shutdown). */
void chat_cancel_all(host_t *h);

#endif
