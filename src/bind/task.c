/* task: the scheduler — each task a coroutine the event loop resumes — and
 * the bindings that act on tasks and time (spawn, wait, sleep, now).
 *
 * A task is a full userdata holding a coroutine. While the task is alive,
 * the registry anchors both (refs co_ref and self_ref), so the loop may keep
 * raw pointers to them; the thread's extra space points back at the task so
 * bindings can tell a task from a recipe's own coroutine. When the task
 * ends, its results move into a table (results_ref), the anchors go, and
 * the userdata lives on only as long as Lua holds the handle.
 *
 * A failed task's table holds the error value as raised ([1]: mux.wait
 * re-raises it unchanged, so the message stays one line) and, apart, its
 * traceback (for -v). A task that fails with the error it got from
 * mux.wait carries the waited task's traceback after its own. */
#include <stdlib.h>
#include <string.h>

#include "base/oom.h"
#include "bind/bind.h"

#define TASK_MT "slmmux.task"

struct task {
    host_t *h;
    lua_State *co;
    int co_ref, self_ref, results_ref;
    int reraised_ref;           /* outcome of the failed task mux.wait last re-raised */
    int started, done, failed, nargs;
    int parked;                 /* yielded by a binding, waiting for an event */
    task_t *next_ready;
    int queued;
    task_t **waiters;           /* tasks parked in mux.wait on this one */
    int nwaiters, waiters_cap;
};

task_t *task_of(lua_State *L)
{
    return *(task_t **)lua_getextraspace(L);
}

task_t *task_check(lua_State *L, const char *fname)
{
    task_t *t = task_of(L);
    if (!t)
        check_error(L, fname, "must be called from a task (the recipe's main chunk, mux.spawn "
                              "or mux.map), not from a coroutine of the recipe's own");
    if (!lua_isyieldable(L))
        check_error(L, fname, "cannot wait here: a C function (e.g. table.sort's comparator, "
                              "string.gsub's callback or require) is in the way");
    return t;
}

void task_ready(host_t *h, task_t *t)
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

task_t *task_spawn(lua_State *L, host_t *h, int fidx, int nargs)
{
    task_t *t = lua_newuserdatauv(L, sizeof *t, 0);
    memset(t, 0, sizeof *t);
    t->h = h;
    t->co_ref = t->self_ref = t->results_ref = t->reraised_ref = LUA_NOREF;
    luaL_setmetatable(L, TASK_MT);
    lua_pushvalue(L, -1);
    t->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    t->co = lua_newthread(L);
    t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    *(task_t **)lua_getextraspace(t->co) = t;
    /* function and args: copy to the new thread */
    for (int i = 0; i <= nargs; i++)
        lua_pushvalue(L, fidx + i);
    lua_xmove(L, t->co, nargs + 1);
    t->nargs = nargs;
    h->live_tasks++;
    task_ready(h, t);
    return t;
}

/* Drop the anchors of a finished task; keep the handle's results. */
static void task_release(host_t *h, task_t *t)
{
    lua_State *L = h->L;
    *(task_t **)lua_getextraspace(t->co) = NULL;
    lua_resetthread(t->co);
    luaL_unref(L, LUA_REGISTRYINDEX, t->co_ref);
    t->co_ref = LUA_NOREF;
    luaL_unref(L, LUA_REGISTRYINDEX, t->reraised_ref);
    t->reraised_ref = LUA_NOREF;
    t->co = NULL;
    free(t->waiters);
    t->waiters = NULL;
    t->nwaiters = 0;
    h->live_tasks--;
    luaL_unref(L, LUA_REGISTRYINDEX, t->self_ref);   /* may let the GC take t */
    t->self_ref = LUA_NOREF;
}

static void task_finish(host_t *h, task_t *t, int status, int nres)
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
        lua_createtable(L, 1, 1);
        lua_pushvalue(t->co, -1);
        lua_xmove(t->co, L, 1);
        lua_rawseti(L, -2, 1);
        luaL_traceback(L, t->co, NULL, 0);
        if (t->reraised_ref != LUA_NOREF) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, t->reraised_ref);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -4, 1);
            if (lua_rawequal(L, -1, -2)) {
                lua_pop(L, 2);
                lua_pushliteral(L, "\nraised in the task it waited for:\n");
                lua_getfield(L, -2, "traceback");
                lua_remove(L, -3);
                lua_concat(L, 3);
            } else {
                lua_pop(L, 3);
            }
        }
        lua_setfield(L, -2, "traceback");
    }
    t->results_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    for (int i = 0; i < t->nwaiters; i++)
        task_ready(h, t->waiters[i]);
    task_release(h, t);
}

static void task_resume(host_t *h, task_t *t)
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
            task_ready(h, t);
        return;
    }
    task_finish(h, t, status, nres);
}

int task_park(lua_State *L, task_t *t, lua_KContext ctx, lua_KFunction k)
{
    t->parked = 1;
    return lua_yieldk(L, 0, ctx, k);
}

void task_run_ready(host_t *h)
{
    task_t *tail = h->ready_tail;
    while (h->ready_head) {
        task_t *t = h->ready_head;
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

int task_state(const task_t *t)
{
    return t->failed ? -1 : t->done;
}

void task_push_error(lua_State *L, const task_t *t)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
    int outcome = lua_gettop(L);
    lua_rawgeti(L, outcome, 1);
    int type = lua_type(L, -1);
    if (type == LUA_TSTRING || type == LUA_TNUMBER) {
        lua_pushstring(L, lua_tostring(L, -1));
    } else if (luaL_callmeta(L, -1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        /* the message __tostring gave */
    } else {
        lua_settop(L, outcome + 1);
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, -1));
    }
    lua_replace(L, outcome);
    lua_settop(L, outcome);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
    lua_getfield(L, -1, "traceback");
    lua_remove(L, -2);
}

void task_push_error_value(lua_State *L, const task_t *t)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
}

/* ---- Lua functions: tasks ------------------------------------------------ */

static int task_l_spawn(lua_State *L)
{
    check_function(L, 1, "mux.spawn", "fn");
    task_spawn(L, host_get(), 1, lua_gettop(L) - 1);
    return 1;
}

static int task_push_results(lua_State *L, task_t *t)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->results_ref);
    if (t->failed) {
        task_t *self = task_of(L);
        if (self) {
            luaL_unref(L, LUA_REGISTRYINDEX, self->reraised_ref);
            lua_pushvalue(L, -1);
            self->reraised_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        }
        lua_rawgeti(L, -1, 1);
        return lua_error(L);    /* re-raise the value as it was raised */
    }
    lua_getfield(L, -1, "n");
    int n = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, n, "too many results");
    for (int i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    return n;
}

static int task_wait_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    return task_push_results(L, (task_t *)ctx);
}

static int task_l_wait(lua_State *L)
{
    task_t *target = check_udata(L, 1, TASK_MT, "mux.wait", "task", "a task (from mux.spawn)");
    if (target->done)
        return task_push_results(L, target);
    task_t *self = task_check(L, "mux.wait");
    if (self == target)
        return check_error(L, "mux.wait", "a task cannot wait for itself");
    if (target->nwaiters == target->waiters_cap) {
        int cap = target->waiters_cap ? target->waiters_cap * 2 : 4;
        target->waiters = xrealloc(target->waiters, (size_t)cap * sizeof *target->waiters);
        target->waiters_cap = cap;
    }
    target->waiters[target->nwaiters++] = self;
    return task_park(L, self, (lua_KContext)target, task_wait_k);
}

static int task_gc(lua_State *L)
{
    task_t *t = lua_touserdata(L, 1);
    free(t->waiters);           /* still running at lua_close */
    t->waiters = NULL;
    if (t->results_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, t->results_ref);
        t->results_ref = LUA_NOREF;
    }
    return 0;
}

static int task_tostring(lua_State *L)
{
    task_t *t = lua_touserdata(L, 1);
    lua_pushfstring(L, "task (%s): %p", t->done ? (t->failed ? "failed" : "done") : "running",
                    (void *)t);
    return 1;
}

/* ---- Lua functions: time ------------------------------------------------- */

typedef struct sleep_call {
    call_t call;
    uint64_t timer;
} sleep_call;

static void task_sleep_cancel(call_t *base)
{
    sleep_call *c = (sleep_call *)base;
    loop_timer_cancel(c->call.h->loop, c->timer);
}

static void task_sleep_release(call_t *base) { (void)base; }

static const call_class task_sleep_class = {"slmmux.sleep_call", task_sleep_cancel,
                                            task_sleep_release};

static void task_on_sleep_done(loop_t *loop, void *ud)
{
    (void)loop;
    sleep_call *c = ud;
    c->timer = 0;
    task_ready(c->call.h, c->call.t);
}

static int task_sleep_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)L;
    (void)status;
    call_end((call_t *)ctx);
    return 0;
}

static int task_l_sleep(lua_State *L)
{
    lua_Number s = check_number(L, 1, "mux.sleep", "seconds");
    if (s < 0)
        check_error(L, "mux.sleep", "seconds must be >= 0");
    task_t *t = task_check(L, "mux.sleep");
    sleep_call *c = call_new(L, &task_sleep_class, sizeof *c, t);
    c->timer = loop_timer_add(c->call.h->loop, s * 1000.0, task_on_sleep_done, c);
    if (!c->timer)
        return check_error(L, "mux.sleep", "not enough memory");
    return call_park(L, &c->call, task_sleep_k);
}

static int task_l_now(lua_State *L)
{
    lua_pushnumber(L, loop_now_ms() / 1000.0);
    return 1;
}

void task_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"spawn", task_l_spawn}, {"wait", task_l_wait},
        {"sleep", task_l_sleep}, {"now", task_l_now}, {NULL, NULL}};
    if (luaL_newmetatable(L, TASK_MT)) {
        lua_pushcfunction(L, task_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, task_tostring);
        lua_setfield(L, -2, "__tostring");
    }
    lua_pop(L, 1);
    call_register(L, &task_sleep_class);
    luaL_setfuncs(L, funcs, 0);
}
