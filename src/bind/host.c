/* host: the state of the one host of this process, the module table
 * "slmmux.core", running the recipe as the first task, shutdown, and the
 * sample store mux.chat writes through (use_store, commit, the commit
 * timer). */
#include "bind/host.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bind/bind.h"
#include "sandbox/sandbox.h"
#include "store/store.h"

/* Samples reach the disk at most this long after they arrive: a killed run
 * loses no more than that, and one commit covers many samples. */
#define HOST_COMMIT_EVERY_MS 100.0

static host_t *host_the;        /* one host per process */

host_t *host_get(void) { return host_the; }

/* ---- the store, as mux.chat uses it -------------------------------------- */

static void host_on_commit_timer(loop_t *loop, void *ud)
{
    (void)loop;
    host_t *h = ud;
    h->commit_timer = 0;
    if (h->store && store_pending(h->store)) {
        if (store_commit(h->store) != 0)
            fprintf(stderr, "slmmux: store commit failed: %s\n", store_errmsg(h->store));
    }
}

void host_store_touched(host_t *h)
{
    if (h->store && !h->commit_timer)
        h->commit_timer = loop_timer_add(h->loop, HOST_COMMIT_EVERY_MS, host_on_commit_timer, h);
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
        store_opts o = {0};
        lua_getfield(L, 2, "readonly");
        o.readonly = lua_toboolean(L, -1);
        lua_pop(L, 1);
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

/* core.commit(): commit the batch now (before a results line is written). */
static int host_l_commit(lua_State *L)
{
    host_t *h = host_get();
    if (h->store && store_pending(h->store) && store_commit(h->store) != 0) {
        luaL_pushfail(L);
        lua_pushfstring(L, "store commit failed: %s", store_errmsg(h->store));
        return 2;
    }
    lua_pushboolean(L, 1);
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
                                     {"isatty", host_l_isatty}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    lua_pushliteral(L, SLMMUX_VERSION);
    lua_setfield(L, -2, "version");
    void (*const registers[])(lua_State *) = {check_register, task_register, endpoint_register, chat_register,
        exec_register, lextract_register, lmath_register, lvote_register, lstore_register,
        about_register};
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
    check_set_library(home);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, host_open_core);
    lua_setfield(L, -2, "slmmux.core");
    lua_pop(L, 1);
    return 0;
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
            return -1;
        }
        loop_run_once(h->loop, h->ready_head != NULL);
    }
    if (h->store && store_pending(h->store) && store_commit(h->store) != 0)
        fprintf(stderr, "slmmux: store commit failed: %s\n", store_errmsg(h->store));
    if (h->live_tasks > 0)
        fprintf(stderr, "slmmux: %d task%s still waiting when the recipe ended (not awaited)\n",
                h->live_tasks, h->live_tasks == 1 ? "" : "s");
    if (task_state(main) < 0) {
        task_push_error(L, main);
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
    llm_free(h->llm);
    char err[512];
    if (h->store && store_close(h->store, err, sizeof err) != 0)
        fprintf(stderr, "slmmux: closing the store: %s\n", err);
    loop_free(h->loop);
    free(h);
    host_the = NULL;
}
