/* bind: what the binding files of "slmmux.core" share — the host state, the
 * task scheduler's primitives and the argument checks. Not a public API:
 * only the files of src/bind include it (main.c includes bind/host.h).
 *
 * Yielding bindings (chat, sleep, wait, exec) follow one rule: check that
 * the caller is a task that may yield BEFORE any side effect, start the
 * work, park the task — with call_park (call.c) when the binding holds
 * state or work in flight, with task_park for mux.wait, which holds
 * neither — and build the results inside the continuation, which runs in
 * the resumed task under its own protection. */
#ifndef SLMMUX_BIND_H
#define SLMMUX_BIND_H
#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>

#include "base/loop.h"
#include "net/llm.h"

typedef struct store store_t;
typedef struct task task_t;
typedef struct call call_t;
typedef struct batch batch_t;

/* ---- host.c: the one host of this process ---------------------------- */

typedef struct host {
    lua_State *L;               /* main thread */
    loop_t *loop;
    llm_t *llm;
    store_t *store;             /* the store mux.chat uses; NULL with --no-store */
    int offline;                /* never touch the network */
    int interrupted;            /* the first SIGINT/SIGTERM received, or 0 */
    char store_error[600];      /* why the last commit failed (not a lock), or "" */
    batch_t *batch;             /* --batch-out: missing samples become batch lines */
    uint64_t commit_timer;
    task_t *ready_head, *ready_tail;
    int live_tasks;
    call_t *parked;             /* calls waiting for an event: cancelled at shutdown */
} host_t;

host_t *host_get(void);

/* Samples were put into the store: make sure a commit is due within 100 ms. */
void host_store_touched(host_t *h);

/* ---- batch.c: --batch-out ----------------------------------------------- */

/* 1 when sample idx of key is already in a batch file of this run. */
int batch_seen_sample(const batch_t *b, const uint8_t key[32], int idx);
/* Writes the request line for samples first..first+count-1 of key (body:
 * the request JSON as it would be sent). 0, or -1: batch_error says why. */
int batch_write(host_t *h, const char *model, const uint8_t key[32], int first, int count,
                const char *body, size_t body_len);
const char *batch_error(const batch_t *b);
/* Flushes and closes the files (at shutdown). */
void batch_close(host_t *h);

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
/* Pushes a failed task's message (a string) and its traceback. */
void task_push_error(lua_State *L, const task_t *t);
/* Pushes a failed task's error value as raised (e.g. a table of errors.lua). */
void task_push_error_value(lua_State *L, const task_t *t);

/* ---- call.c: one lifetime scheme for what a binding holds --------------
 *
 * C memory a binding holds while it may still raise lives in a userdata
 * whose __gc frees it, so an error (a misuse, out of memory) leaks nothing.
 * A yielding binding's state is such a userdata, a call: made with
 * call_new before anything can raise, parked with call_park (which puts it
 * on the host's list, so shutdown can stop its work), ended with call_end
 * in the continuation once the results are pushed. The userdata stays on
 * the parked task's stack, which keeps it alive while it waits. */

typedef struct call_class {
    const char *name;               /* the metatable's name */
    /* Stop the work in flight (a transfer, a queued run, a timer) so that
     * no callback touches the call again. Runs only on a parked call. */
    void (*cancel)(call_t *c);
    /* Free what the call owns; runs once, never on a parked call. */
    void (*release)(call_t *c);
} call_class;

struct call {                       /* the first member of every call */
    const call_class *cls;
    host_t *h;
    task_t *t;
    call_t *prev, *next;            /* on h->parked while parked */
    int parked, released;
};

/* The metatable of cls's userdata (at registration). */
void call_register(lua_State *L, const call_class *cls);
/* Pushes a zeroed userdata of size bytes (a struct starting with call_t)
 * for task t and returns it. */
void *call_new(lua_State *L, const call_class *cls, size_t size, task_t *t);
/* Parks c's task until task_ready; k gets c as its context. */
int call_park(lua_State *L, call_t *c, lua_KFunction k);
/* Takes c off the host's list (cancelling its work) and releases it. Safe
 * to call again; __gc calls it too. */
void call_end(call_t *c);
/* Shutdown: cancel every parked call (their memory goes with lua_close). */
void call_cancel_all(host_t *h);

/* A scratch pointer for C memory a binding gets from a C function (e.g. an
 * extracted answer) and must free after pushing it: pushes a userdata
 * whose __gc frees *box, so a raise in between leaks nothing. */
void **call_box(lua_State *L);

/* ---- check.c: the one argument checker ------------------------------
 *
 * A misuse raises "<file>:<line>: <fname>: <message>": fname is the public
 * Lua name (mux.chat, mux.vote.count, store:lookup), what names the
 * argument or field (text, req.n, opts), and the position is the innermost
 * Lua frame outside the library's own files (<home>/lua/slmmux/), so an
 * error through init.lua's wrapper points at the recipe's line. With no
 * such frame in the running coroutine there is no position. */

/* The library home whose lua/slmmux/ frames positions skip (at open). */
void check_set_library(const char *home);
/* Pushes "<file>:<line>: " of the recipe's frame, or "". */
void check_where(lua_State *L);
/* Raises "<where><fname>: <fmt...>" (lua_pushfstring's formats). */
int check_error(lua_State *L, const char *fname, const char *fmt, ...);
/* Raises "<what> must be <expected> (got <type of idx>)". */
int check_type_error(lua_State *L, int idx, const char *fname, const char *what, const char *expected);

void check_table(lua_State *L, int idx, const char *fname, const char *what);
/* 0 when idx is none or nil, 1 when a table; raises otherwise. */
int check_opt_table(lua_State *L, int idx, const char *fname, const char *what);
void check_function(lua_State *L, int idx, const char *fname, const char *what);
/* A string (a number is converted, as Lua does). */
const char *check_string(lua_State *L, int idx, const char *fname, const char *what, size_t *len);
const char *check_opt_string(lua_State *L, int idx, const char *fname, const char *what,
                             const char *dflt, size_t *len);
/* An integer from lo to hi (a float with an exact integer value counts). */
lua_Integer check_integer(lua_State *L, int idx, const char *fname, const char *what,
                          lua_Integer lo, lua_Integer hi);
/* Field `field` of the table at idx as check_integer, dflt when nil; errors
 * name it "<table_name>.<field>". */
lua_Integer check_integer_field(lua_State *L, int idx, const char *field, const char *fname,
                                const char *table_name, lua_Integer dflt, lua_Integer lo, lua_Integer hi);
/* A number that is not NaN. */
lua_Number check_number(lua_State *L, int idx, const char *fname, const char *what);
int check_boolean(lua_State *L, int idx, const char *fname, const char *what);
/* The userdata of metatable tname at idx; expected says what it is in
 * words ("a task (from mux.spawn)"). */
void *check_udata(lua_State *L, int idx, const char *tname, const char *fname, const char *what,
                  const char *expected);
/* Raises "unknown field <what>.<key> (known: ...)" when the table at idx has
 * a key not in the NULL-terminated list known. */
void check_fields(lua_State *L, int idx, const char *fname, const char *what,
                  const char *const known[]);

/* ---- the bindings: each sets its field(s) on the table on top of the stack */

void check_register(lua_State *L);      /* misuse */
void task_register(lua_State *L);       /* spawn, wait, sleep, now */
void endpoint_register(lua_State *L);   /* endpoint, set_concurrency, set_debug, set_offline, stats */
void chat_register(lua_State *L);       /* chat */
void exec_register(lua_State *L);       /* exec, isolation */
void lextract_register(lua_State *L);   /* extract */
void lmath_register(lua_State *L);      /* math */
void lvote_register(lua_State *L);      /* vote */
void lstore_register(lua_State *L);     /* store */
void about_register(lua_State *L);      /* about, file_sha256 */
void batch_register(lua_State *L);      /* batch_out, batch_stats */
void hash_register(lua_State *L);       /* hash64 */

#endif
