/* lmux: host state, the task scheduler and the small core functions.
 *
 * A task is a full userdata holding a coroutine. While the task is alive,
 * the registry anchors both (refs co_ref and self_ref), so the loop may keep
 * raw pointers to them; the thread's extra space points back at the task so
 * bindings can tell a task from a recipe's own coroutine. When the task
 * ends, its results move into a table (results_ref), the anchors go, and
 * the userdata lives on only as long as Lua holds the handle. */
#include "bind/lmux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind/lmux_host.h"
#include "sandbox/sandbox.h"
#include "store/store.h"

#define TASK_MT "slmmux.task"
#define COMMIT_EVERY_MS 100.0

struct lmux_task {
    lmux_host *h;
    lua_State *co;
    int co_ref, self_ref, results_ref;
    int started, done, failed, nargs;
    int parked;                 /* yielded by a binding, waiting for an event */
    lmux_task *next_ready;
    int queued;
    lmux_task **waiters;        /* tasks parked in mux.wait on this one */
    int nwaiters, waiters_cap;
};

static lmux_host *g_host;       /* for lmux_close/run: one host per process */

lmux_host *lmux_host_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

lmux_host *lmux_host_global(void) { return g_host; }

void lmux_check_options(lua_State *L, int idx, const char *const names[])
{
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        int known = 0;
        for (int i = 0; names[i] && !known && lua_type(L, -2) == LUA_TSTRING; i++)
            known = strcmp(lua_tostring(L, -2), names[i]) == 0;
        if (!known) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : luaL_typename(L, -2);
            luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", k));
        }
    }
}

void lmux_check_fields(lua_State *L, int idx, const char *what, const char *const known[])
{
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        int ok = 0;
        for (int i = 0; known[i] && !ok && lua_type(L, -2) == LUA_TSTRING; i++)
            ok = strcmp(known[i], lua_tostring(L, -2)) == 0;
        if (ok)
            continue;
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; known[i]; i++) {
            luaL_addstring(&b, i ? ", " : "");
            luaL_addstring(&b, known[i]);
        }
        luaL_pushresult(&b);
        luaL_error(L, "%s: unknown field '%s' (known: %s)", what,
                   lua_type(L, -3) == LUA_TSTRING ? lua_tostring(L, -3) : luaL_typename(L, -3),
                   lua_tostring(L, -1));
    }
}

lmux_task *lmux_task_of(lua_State *L)
{
    return *(lmux_task **)lua_getextraspace(L);
}

lmux_task *lmux_check_task(lua_State *L, const char *fname)
{
    lmux_task *t = lmux_task_of(L);
    if (!t)
        luaL_error(L, "%s must be called from a task (the recipe's main chunk, mux.spawn or "
                      "mux.map), not from a coroutine of the recipe's own", fname);
    if (!lua_isyieldable(L))
        luaL_error(L, "%s cannot wait here: a C function (e.g. table.sort's comparator, "
                      "string.gsub's callback or require) is in the way", fname);
    return t;
}

void lmux_task_ready(lmux_host *h, lmux_task *t)
{
    if (t->queued)
        return;
    t->queued = 1;
    t->next_ready = NULL;
    if (h->ready_tail)
        h->ready_tail->next_ready = t;
    else
        h->ready_head = t;
    h->ready_tail = t;
}

/* ---- tasks ------------------------------------------------------------- */

/* Creates a task for the function at stack index fidx with the nargs values
 * after it, all moved off L. Pushes the task handle on L. */
static lmux_task *task_new(lua_State *L, lmux_host *h, int fidx, int nargs)
{
    lmux_task *t = lua_newuserdatauv(L, sizeof *t, 0);
    memset(t, 0, sizeof *t);
    t->h = h;
    t->co_ref = t->self_ref = t->results_ref = LUA_NOREF;
    luaL_setmetatable(L, TASK_MT);
    lua_pushvalue(L, -1);
    t->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->co = lua_newthread(L);
    t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *(lmux_task **)lua_getextraspace(t->co) = t;
    /* function and args: copy to the new thread, then drop from L */
    for (int i = 0; i <= nargs; i++)
        lua_pushvalue(L, fidx + i);
    lua_xmove(L, t->co, nargs + 1);
    t->nargs = nargs;
    h->live_tasks++;
    lmux_task_ready(h, t);
    return t;
}

/* Drop the anchors of a finished task; keep the handle's results. */
static void task_release(lmux_host *h, lmux_task *t)
{
    lua_State *L = h->L;
    *(lmux_task **)lua_getextraspace(t->co) = NULL;
    lua_resetthread(t->co);
    luaL_unref(L, LUA_REGISTRYINDEX, t->co_ref);
    t->co_ref = LUA_NOREF;
    t->co = NULL;
    free(t->waiters);
    t->waiters = NULL;
    t->nwaiters = 0;
    h->live_tasks--;
    luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);   /* may let the GC take t */
    t->self_ref = LUA_NOREF;
}

static void task_finish(lmux_host *h, lmux_task *t, int status, int nres)
{
    lua_State *L = h->L;
    t->done = 1;
    if (status == LUA_OK) {
        lua_createtable(L, nres, 1);
        lua_xmove(t->co, L, nres);
        /* stack: results-table v1..vn */
        for (int i = nres; i >= 1; i--)
            lua_rawseti(L, -1 - i, i);
        lua_pushinteger(L, nres);
        lua_setfield(L, -2, "n");
    } else {
        t->failed = 1;
        const char *msg = lua_tostring(t->co, -1);
        if (!msg)
            msg = luaL_typename(t->co, -1);
        luaL_traceback(L, t->co, msg, 0);
    }
    t->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i < t->nwaiters; i++)
        lmux_task_ready(h, t->waiters[i]);
    task_release(h, t);
}

static void task_resume(lmux_host *h, lmux_task *t)
{
    int nres;
    int nargs = 0;
    if (!t->started) {
        t->started = 1;
        nargs = t->nargs;
    }
    int status = lua_resume(t->co, h->L, nargs, &nres);
    if (status == LUA_YIELD) {
        /* a plain coroutine.yield() in a task just lets the others run */
        lua_pop(t->co, nres);
        if (!t->parked)
            lmux_task_ready(h, t);
        return;
    }
    task_finish(h, t, status, nres);
}

int lmux_park(lua_State *L, lmux_task *t, lua_KContext ctx, lua_KFunction k)
{
    t->parked = 1;
    return lua_yieldk(L, 0, ctx, k);
}

static void run_ready(lmux_host *h)
{
    /* only the tasks ready now: one that re-readies itself waits a turn */
    lmux_task *tail = h->ready_tail;
    while (h->ready_head) {
        lmux_task *t = h->ready_head;
        h->ready_head = t->next_ready;
        if (!h->ready_head)
            h->ready_tail = NULL;
        t->queued = 0;
        t->parked = 0;
        if (!t->done)
            task_resume(h, t);
        if (t == tail)
            break;
    }
}

/* ---- Lua functions: tasks ------------------------------------------------ */

static int l_spawn(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    task_new(L, lmux_host_of(L), 1, lua_gettop(L) - 1);
    return 1;
}

static lmux_task *check_task_handle(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, TASK_MT);
}

static int push_results(lua_State *L, lmux_task *t)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
    if (t->failed)
        return lua_error(L);    /* re-raise, traceback of the failed task included */
    lua_getfield(L, -1, "n");
    int n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, n, "too many results");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    return n;
}

static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    return push_results(L, (lmux_task *)ctx);
}

static int l_wait(lua_State *L)
{
    lmux_task *target = check_task_handle(L, 1);
    if (target->done)
        return push_results(L, target);
    lmux_task *self = lmux_check_task(L, "mux.wait");
    if (self == target)
        return luaL_error(L, "mux.wait: a task cannot wait for itself");
    if (target->nwaiters == target->waiters_cap) {
        int cap = target->waiters_cap ? target->waiters_cap * 2 : 4;
        lmux_task **w = realloc(target->waiters, (size_t)cap * sizeof *w);
        if (!w)
            return luaL_error(L, "out of memory");
        target->waiters = w;
        target->waiters_cap = cap;
    }
    target->waiters[target->nwaiters++] = self;
    return lmux_park(L, self, (lua_KContext)target, wait_k);
}

static int task_gc(lua_State *L)
{
    lmux_task *t = lua_touserdata(L, 1);
    if (t->results_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->results_ref);
        t->results_ref = LUA_NOREF;
    }
    return 0;
}

static int task_tostring(lua_State *L)
{
    lmux_task *t = lua_touserdata(L, 1);
    lua_pushfstring(L, "task (%s): %p", t->done ? (t->failed ? "failed" : "done") : "running",
                    (void *)t);
    return 1;
}

/* ---- Lua functions: time ------------------------------------------------- */

static void on_sleep_done(loop_t *loop, void *ud)
{
    (void)loop;
    lmux_task *t = ud;
    lmux_task_ready(t->h, t);
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    (void)ctx;
    return 0;
}

static int l_sleep(lua_State *L)
{
    lua_Number s = luaL_checknumber(L, 1);
    luaL_argcheck(L, s >= 0 && s == s, 1, "seconds must be a number >= 0");
    lmux_task *t = lmux_check_task(L, "mux.sleep");
    lmux_host *h = lmux_host_of(L);
    if (!loop_timer_add(h->loop, s * 1000.0, on_sleep_done, t))
        return luaL_error(L, "out of memory");
    return lmux_park(L, t, 0, sleep_k);
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, loop_now_ms() / 1000.0);
    return 1;
}

/* ---- Lua functions: misc --------------------------------------------------- */

static int l_isatty(lua_State *L)
{
    lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int l_stats(lua_State *L)
{
    lmux_host *h = lmux_host_of(L);
    llm_stats st;
    llm_get_stats(h->llm, &st);
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, st.requests);          lua_setfield(L, -2, "requests");
    lua_pushinteger(L, st.retries);           lua_setfield(L, -2, "retries");
    lua_pushinteger(L, st.errors);            lua_setfield(L, -2, "errors");
    lua_pushinteger(L, st.in_flight);         lua_setfield(L, -2, "in_flight");
    lua_pushinteger(L, st.queued);            lua_setfield(L, -2, "queued");
    lua_pushinteger(L, st.rate_limited);      lua_setfield(L, -2, "rate_limited");
    lua_pushinteger(L, st.prompt_tokens);     lua_setfield(L, -2, "prompt_tokens");
    lua_pushinteger(L, st.completion_tokens); lua_setfield(L, -2, "completion_tokens");
    lua_pushinteger(L, h->live_tasks);        lua_setfield(L, -2, "tasks");
    return 1;
}

static int opt_int_field(lua_State *L, int idx, const char *name, lua_Integer dflt)
{
    int type = lua_getfield(L, idx, name);
    lua_Integer v = dflt;
    if (type != LUA_TNIL) {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum)
            luaL_error(L, "endpoint field '%s' must be an integer", name);
    }
    lua_pop(L, 1);
    return (int)v;
}

static double opt_num_field(lua_State *L, int idx, const char *name, double dflt)
{
    int type = lua_getfield(L, idx, name);
    double v = dflt;
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER)
            luaL_error(L, "endpoint field '%s' must be a number", name);
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* core.endpoint(name, {base_url=, key_env=, max_concurrency=, rps=, tpm=,
 * supports_n=, connect_timeout=, timeout=, stall_timeout=, max_retries=}) */
static int l_endpoint(lua_State *L)
{
    static const char *const known[] = {"name", "base_url", "key_env", "max_concurrency", "rps",
        "tpm", "supports_n", "connect_timeout", "timeout", "stall_timeout", "max_retries", NULL};
    lmux_host *h = lmux_host_of(L);
    llm_endpoint_cfg c = {0};
    c.name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lmux_check_fields(L, 2, "mux.endpoint", known);
    lua_getfield(L, 2, "base_url");
    c.base_url = lua_tostring(L, -1);
    lua_getfield(L, 2, "key_env");
    c.key_env = lua_tostring(L, -1);
    c.max_concurrency = opt_int_field(L, 2, "max_concurrency", 64);
    c.rps = opt_num_field(L, 2, "rps", 0);
    c.tpm = opt_num_field(L, 2, "tpm", 0);
    lua_getfield(L, 2, "supports_n");
    c.supports_n = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    c.connect_timeout_ms = (long)(opt_num_field(L, 2, "connect_timeout", 10) * 1000);
    c.total_timeout_ms = (long)(opt_num_field(L, 2, "timeout", 600) * 1000);
    c.stall_timeout_s = (long)opt_num_field(L, 2, "stall_timeout", 120);
    c.max_retries = opt_int_field(L, 2, "max_retries", 8);
    char err[256];
    int id = llm_endpoint_add(h->llm, &c, err, sizeof err);
    if (id < 0)
        return luaL_error(L, "%s", err);
    lua_pop(L, 2);
    lua_pushinteger(L, id);
    return 1;
}

static int l_set_limit(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1, 1, "concurrency must be >= 1");
    llm_set_global_limit(lmux_host_of(L)->llm, (int)n);
    return 0;
}

static int l_set_debug(lua_State *L)
{
    llm_set_debug(lmux_host_of(L)->llm, lua_toboolean(L, 1));
    return 0;
}

static int l_set_offline(lua_State *L)
{
    lmux_host_of(L)->offline = lua_toboolean(L, 1);
    return 0;
}

/* ---- the store, as the host uses it ------------------------------------- */

static void on_commit_timer(loop_t *loop, void *ud)
{
    (void)loop;
    lmux_host *h = ud;
    h->commit_timer = 0;
    if (h->store && store_pending(h->store)) {
        if (store_commit(h->store) != 0)
            fprintf(stderr, "slmmux: store commit failed: %s\n", store_errmsg(h->store));
    }
}

void lmux_store_touched(lmux_host *h)
{
    if (h->store && !h->commit_timer)
        h->commit_timer = loop_timer_add(h->loop, COMMIT_EVERY_MS, on_commit_timer, h);
}

/* core.use_store(path | false [, {readonly=}]): the store mux.chat uses. */
static int l_use_store(lua_State *L)
{
    if (lua_isnoneornil(L, 2))
        lua_newtable(L);
    lua_settop(L, 2);
    lmux_host *h = lmux_host_of(L);
    char err[512];
    if (h->store) {
        if (store_close(h->store, err, sizeof err) != 0)
            fprintf(stderr, "slmmux: closing the store: %s\n", err);
        h->store = NULL;
    }
    if (lua_toboolean(L, 1)) {
        const char *path = luaL_checkstring(L, 1);
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
static int l_commit(lua_State *L)
{
    lmux_host *h = lmux_host_of(L);
    if (h->store && store_pending(h->store) && store_commit(h->store) != 0) {
        luaL_pushfail(L);
        lua_pushfstring(L, "store commit failed: %s", store_errmsg(h->store));
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* ---- module ---------------------------------------------------------------- */

static int open_core(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"spawn", l_spawn}, {"wait", l_wait}, {"sleep", l_sleep}, {"now", l_now},
        {"isatty", l_isatty}, {"stats", l_stats}, {"endpoint", l_endpoint},
        {"set_concurrency", l_set_limit}, {"set_debug", l_set_debug},
        {"set_offline", l_set_offline}, {"use_store", l_use_store}, {"commit", l_commit},
        {NULL, NULL}};
    lmux_host *h = lua_touserdata(L, lua_upvalueindex(1));
    lua_newtable(L);
    lua_pushlightuserdata(L, h);
    luaL_setfuncs(L, funcs, 1);
    lua_pushliteral(L, SLMMUX_VERSION);
    lua_setfield(L, -2, "version");
    void (*const openers[])(lua_State *) = {lmux_open_chat, lmux_open_extract, lmux_open_math,
                                            lmux_open_vote, lmux_open_store, lmux_open_exec};
    for (size_t i = 0; i < sizeof openers / sizeof *openers; i++)
        openers[i](L);
    return 1;
}

int lmux_open(lua_State *L)
{
    lmux_host *h = calloc(1, sizeof *h);
    if (!h || !(h->loop = loop_new()) || !(h->llm = llm_new(h->loop))) {
        lua_pushliteral(L, "cannot start the event loop or HTTP client");
        return -1;
    }
    h->L = L;
    g_host = h;
    luaL_newmetatable(L, TASK_MT);
    lua_pushcfunction(L, task_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, task_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushlightuserdata(L, h);
    lua_pushcclosure(L, open_core, 1);
    lua_setfield(L, -2, "slmmux.core");
    lua_pop(L, 1);
    return 0;
}

int lmux_run_main(lua_State *L, int nargs)
{
    lmux_host *h = g_host;
    int fidx = lua_gettop(L) - nargs;
    lmux_task *main = task_new(L, h, fidx, nargs);
    lua_replace(L, fidx);       /* keep the handle, drop function and args */
    lua_settop(L, fidx);
    while (!main->done) {
        run_ready(h);
        if (main->done)
            break;
        if (!h->ready_head && !loop_pending(h->loop)) {
            lua_pushliteral(L, "deadlock: every task is waiting and nothing is in flight "
                               "(a task waits for itself or for a task that waits for it)");
            return -1;
        }
        loop_run_once(h->loop, h->ready_head != NULL);
    }
    if (h->store && store_pending(h->store) && store_commit(h->store) != 0)
        fprintf(stderr, "slmmux: store commit failed: %s\n", store_errmsg(h->store));
    if (h->live_tasks > 0)
        fprintf(stderr, "slmmux: %d task%s still waiting when the recipe ended (not awaited)\n",
                h->live_tasks, h->live_tasks == 1 ? "" : "s");
    if (main->failed) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, main->results_ref);
        return -1;
    }
    return 0;
}

void lmux_close(lua_State *L)
{
    (void)L;
    lmux_host *h = g_host;
    if (!h)
        return;
    lmux_chat_cancel_all(h);
    sandbox_abort_all();
    llm_free(h->llm);
    char err[512];
    if (h->store && store_close(h->store, err, sizeof err) != 0)
        fprintf(stderr, "slmmux: closing the store: %s\n", err);
    loop_free(h->loop);
    free(h);
    g_host = NULL;
}
