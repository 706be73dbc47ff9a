/* host: the state of the one host of this process, the module table
 * "slmmux.core", running the recipe as the first task, shutdown (also on
 * SIGINT/SIGTERM), and the sample store mux.chat writes through
 * (use_store, commit, the commit timer). */
#include "bind/host.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/signals.h"
#include "bind/bind.h"
#include "sandbox/sandbox.h"
#include "store/store.h"

/* Samples reach the disk at most this long after they arrive: a killed run
 * loses no more than that, and one commit covers many samples. A store
 * locked by another process is retried as often; after another failure
 * (disk full, I/O) less often, since each try costs a rollback. */
#define HOST_COMMIT_EVERY_MS 100.0
#define HOST_COMMIT_RETRY_FAILED_MS 1000.0
/* At the end of a run, how long to keep trying a store another process
 * keeps locked before the samples received are given up; on a second
 * signal, which must stop at once, shorter. */
#define HOST_FINAL_COMMIT_MS 30000
#define HOST_STOP_COMMIT_MS 2000

static host_t *host_the;        /* one host per process */

host_t *host_get(void) { return host_the; }

/* ---- the store, as mux.chat uses it -------------------------------------- */

/* Commits the batch; a failure other than a lock is remembered in
 * h->store_error: the run stops buying samples it cannot keep (the end of
 * the run says how many were lost). Returns 0, 1 for busy, -1 for failed. */
static int host_commit(host_t *h)
{
    if (!h->store || !store_pending(h->store))
        return 0;
    if (store_commit(h->store) == 0) {
        h->store_error[0] = '\0';
        return 0;
    }
    if (store_busy(h->store))
        return 1;
    snprintf(h->store_error, sizeof h->store_error, "%s", store_errmsg(h->store));
    return -1;
}

static void host_on_commit_timer(loop_t *loop, void *ud)
{
    (void)loop;
    host_t *h = ud;
    h->commit_timer = 0;
    int rc = host_commit(h);
    if (rc != 0)
        h->commit_timer = loop_timer_add(h->loop, rc > 0 ? HOST_COMMIT_EVERY_MS : HOST_COMMIT_RETRY_FAILED_MS,
                                         host_on_commit_timer, h);
}

void host_store_touched(host_t *h)
{
    if (h->store && !h->commit_timer)
        h->commit_timer = loop_timer_add(h->loop, HOST_COMMIT_EVERY_MS, host_on_commit_timer, h);
}

/* The last commit, when the loop has ended: a lock held elsewhere is
 * waited for (HOST_FINAL_COMMIT_MS), nothing else runs any more. */
static int host_final_commit(host_t *h, int max_ms)
{
    int rc;
    for (int waited = 0; (rc = host_commit(h)) > 0 && waited < max_ms; waited += 50) {
        if (waited == 0 && max_ms > HOST_STOP_COMMIT_MS)
            fprintf(stderr, "slmmux: the store is locked by another process: waiting up to %d s to commit "
                    "%d samples\n", max_ms / 1000, store_pending(h->store));
        usleep(50 * 1000);
        /* a signal meanwhile: the loop's signal watch (a second one stops) */
        loop_run_once(h->loop, 1);
    }
    if (rc > 0)
        snprintf(h->store_error, sizeof h->store_error, "%s", store_errmsg(h->store));
    return rc;
}

/* core.use_store(path | false [, {readonly=}]): the store mux.chat uses. */
static int host_l_use_store(lua_State *L)
{
    if (!check_opt_table(L, 2, "mux.use_store", "opts"))
        lua_newtable(L);
    lua_settop(L, 2);
    host_t *h = host_get();
    char err[512];
    if (h->store) {
        if (store_close(h->store, err, sizeof err) != 0)
            fprintf(stderr, "slmmux: closing the store: %s\n", err);
        h->store = NULL;
    }
    if (lua_toboolean(L, 1)) {
        const char *path = check_string(L, 1, "mux.use_store", "path", NULL);
        store_opts o = {0, 0, 0};
        lua_getfield(L, 2, "readonly");
        o.readonly = lua_toboolean(L, -1);
        lua_pop(L, 1);
        o.nowait = !o.readonly;     /* a lock held elsewhere must not stall the loop */
        h->store = store_open(path, &o, err, sizeof err);
        if (!h->store) {
            luaL_pushfail(L);
            lua_pushstring(L, err);
            return 2;
        }
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* core.commit() -> true | nil, message, busy: commit the batch now (before
 * a results line is written); busy: another process holds the lock, the
 * samples wait in memory, try again soon. */
static int host_l_commit(lua_State *L)
{
    host_t *h = host_get();
    int rc = host_commit(h);
    if (rc != 0) {
        if (!h->commit_timer)   /* keep retrying meanwhile */
            host_store_touched(h);
        luaL_pushfail(L);
        lua_pushfstring(L, "store commit failed: %s", store_errmsg(h->store));
        lua_pushboolean(L, rc > 0);
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- signals ------------------------------------------------------------ */

/* After the first signal the recipe gets this long to stop by itself (the
 * runner waits 10 s for problems in flight, then writes its summary);
 * then the host stops as on a second signal. */
#define HOST_STOP_AFTER_MS 30000.0

static const char *host_signal_name(int signo)
{
    return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" : "a signal";
}

/* Stop now: commit what was received, end the sandbox runs (which removes
 * their directories), exit with 128 + the first signal's number. */
_Noreturn static void host_stop_now(host_t *h, const char *why)
{
    int code = 128 + h->interrupted;
    if (host_final_commit(h, HOST_STOP_COMMIT_MS) != 0)
        fprintf(stderr, "slmmux: store commit failed: %s; %d samples are lost\n", h->store_error,
                store_pending(h->store));
    sandbox_abort_all();
    if (!h->store_error[0])
        fprintf(stderr, "slmmux: stopped (%s); every sample received is in the store: run the same "
                "command to finish\n", why);
    fflush(NULL);
    _exit(code);
}

static void host_on_stop_timer(loop_t *loop, void *ud)
{
    (void)loop;
    host_stop_now(ud, "the recipe did not stop within 30 s");
}

static void host_on_signal(int signo, void *ud)
{
    host_t *h = ud;
    if (h->interrupted) {
        char why[64];
        snprintf(why, sizeof why, "a second %s", host_signal_name(signo));
        host_stop_now(h, why);
    }
    h->interrupted = signo;
    fprintf(stderr, "\nslmmux: %s: stopping: no new requests; waiting briefly for those in flight "
            "(%s again stops at once)\n", host_signal_name(signo), host_signal_name(signo));
    loop_timer_add(h->loop, HOST_STOP_AFTER_MS, host_on_stop_timer, h);
}

int host_interrupted(void) { return host_the ? host_the->interrupted : 0; }

/* core.interrupted() -> "SIGINT" | "SIGTERM" | false */
static int host_l_interrupted(lua_State *L)
{
    host_t *h = host_get();
    if (h->interrupted)
        lua_pushstring(L, host_signal_name(h->interrupted));
    else
        lua_pushboolean(L, 0);
    return 1;
}

static int host_l_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)check_integer(L, 1, "mux.isatty", "fd", 0, INT_MAX)));
    return 1;
}

/* ---- module, run, close -------------------------------------------------- */

static int host_open_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"use_store", host_l_use_store}, {"commit", host_l_commit},
                                     {"isatty", host_l_isatty}, {"interrupted", host_l_interrupted},
                                     {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_pushliteral(L, SLMMUX_VERSION);
    lua_setfield(L, -2, "version");
    void (*const registers[])(lua_State *) = {check_register, task_register, endpoint_register, chat_register,
        exec_register, lextract_register, lmath_register, lvote_register, lstore_register,
        about_register, batch_register, hash_register};
    for (size_t i = 0; i < sizeof registers / sizeof *registers; i++)
        registers[i](L);
    return 1;
}

int host_open(lua_State *L, const char *home)
{
    host_t *h = calloc(1, sizeof *h);
    if (!h || !(h->loop = loop_new()) || !(h->llm = llm_new(h->loop))) {
        if (h)
            loop_free(h->loop);
        free(h);
        lua_pushliteral(L, "cannot start the event loop or HTTP client");
        return -1;
    }
    h->L = L;
    host_the = h;
    if (signals_watch(h->loop, host_on_signal, h) != 0)
        fprintf(stderr, "slmmux: cannot watch SIGINT/SIGTERM (%s): a signal kills the run at once\n",
                strerror(errno));
    check_set_library(home);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, host_open_core);
    lua_setfield(L, -2, "slmmux.core");
    lua_pop(L, 1);
    return 0;
}

/* Replaces the error value on top of the stack by its kind (errors.kind:
 * "usage", "config", "interrupted") or nil. errors.lua was loaded if the
 * value is one of its errors; if it was not, the value is of no kind. */
static void host_push_kind(lua_State *L)
{
    int value = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "slmmux.errors") == LUA_TTABLE && lua_getfield(L, -1, "kind") == LUA_TFUNCTION) {
        lua_pushvalue(L, value);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK || lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            lua_pushnil(L);
        }
    } else {
        lua_pushnil(L);
    }
    lua_replace(L, value);
    lua_settop(L, value);
}

int host_run_main(lua_State *L, int nargs)
{
    host_t *h = host_the;
    int fidx = lua_gettop(L) - nargs;
    task_t *main = task_spawn(L, h, fidx, nargs);
    lua_replace(L, fidx);       /* keep the handle, drop function and args */
    lua_settop(L, fidx);
    while (!task_state(main)) {
        task_run_ready(h);
        if (task_state(main))
            break;
        if (!h->ready_head && !loop_pending(h->loop)) {
            lua_pushliteral(L, "deadlock: every task is waiting and nothing is in flight "
                               "(a task waits for itself or for a task that waits for it)");
            lua_pushliteral(L, "");
            lua_pushnil(L);
            return -1;
        }
        loop_run_once(h->loop, h->ready_head != NULL);
    }
    if (host_final_commit(h, HOST_FINAL_COMMIT_MS) != 0) {
        /* said in any case: the count is what was lost, whatever else failed */
        fprintf(stderr, "slmmux: %d samples received could not be committed and are lost: %s\n",
                store_pending(h->store), h->store_error);
        if (task_state(main) >= 0) {
            lua_pushfstring(L, "store commit failed: %s", h->store_error);
            lua_pushliteral(L, "");
            lua_pushnil(L);
            return -1;
        }
    }
    if (h->live_tasks > 0)
        fprintf(stderr, "slmmux: %d task%s still waiting when the recipe ended (not awaited)\n",
                h->live_tasks, h->live_tasks == 1 ? "" : "s");
    if (task_state(main) < 0) {
        task_push_error(L, main);
        task_push_error_value(L, main);
        host_push_kind(L);
        return -1;
    }
    return 0;
}

void host_close(lua_State *L)
{
    (void)L;
    host_t *h = host_the;
    if (!h)
        return;
    call_cancel_all(h);
    sandbox_abort_all();
    signals_unwatch(h->loop);
    llm_free(h->llm);
    batch_close(h);
    char err[700];
    /* after a failed final commit the loss is said already */
    if (h->store && store_close(h->store, err, sizeof err) != 0 && !h->store_error[0])
        fprintf(stderr, "slmmux: closing the store: %s\n", err);
    loop_free(h->loop);
    free(h);
    host_the = NULL;
}
