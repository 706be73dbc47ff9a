/* exec: mux.exec — run a program in the sandbox as a loop event.
 *
 * Runs beyond the host's limit (twice the cores: each run is CPU-bound)
 * wait in a FIFO, so a recipe may start hundreds and the machine still
 * serves the HTTP side of the run. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/oom.h"
#include "bind/bind.h"
#include "sandbox/sandbox.h"

#define EXEC_FNAME "mux.exec"

typedef struct exec_call {
    call_t call;                /* first: an exec call is a call (bind.h) */
    sandbox_spec spec;
    char **argv;
    int argc;
    sandbox_file *files;
    char *stdin_data;
    /* result, copied out of the sandbox's callback */
    sandbox_status status;
    int exit_code, signal, truncated;
    sandbox_limit limit;
    size_t mem_peak;
    long oom_kills;
    char *out, *err;
    size_t out_len, err_len;
    double wall_ms, cpu_ms;
    char errmsg[256];
    int queued;                 /* in the waiting queue */
    struct exec_call *next;     /* waiting queue */
} exec_call;

static exec_call *queue_head, *queue_tail;
static int running;

static int max_running(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(2 * n) : 2;
}

/* Shutdown: a queued run leaves the queue; runs in flight are killed by
 * sandbox_abort_all, which calls no callback. */
static void exec_cancel(call_t *base)
{
    exec_call *c = (exec_call *)base;
    if (!c->queued)
        return;
    exec_call **pp = &queue_head;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    queue_tail = NULL;
    for (exec_call *q = queue_head; q; q = q->next)
        queue_tail = q;
    c->queued = 0;
}

static void exec_release(call_t *base)
{
    exec_call *c = (exec_call *)base;
    for (int i = 0; c->argv && i < c->argc; i++)
        free(c->argv[i]);
    free(c->argv);
    for (int i = 0; i < c->spec.nfiles; i++) {
        free((char *)c->files[i].name);
        free((char *)c->files[i].data);
    }
    free(c->files);
    free(c->stdin_data);
    free(c->out);
    free(c->err);
}

static const call_class exec_class = {"slmmux.exec_call", exec_cancel, exec_release};

static void start_next(loop_t *loop);

static void on_done(sandbox_result *r, void *ud)
{
    exec_call *c = ud;
    c->status = r->status;
    c->exit_code = r->exit_code;
    c->signal = r->signal;
    c->truncated = r->truncated;
    c->limit = r->limit;
    c->mem_peak = r->mem_peak;
    c->oom_kills = r->oom_kills;
    c->wall_ms = r->wall_ms;
    c->cpu_ms = r->cpu_ms;
    memcpy(c->errmsg, r->errmsg, sizeof c->errmsg);
    /* bounded by out_cap; an empty stdout instead would be a wrong answer */
    c->out = xmemdup(r->out, r->out_len);
    c->out_len = r->out_len;
    c->err = xmemdup(r->err, r->err_len);
    c->err_len = r->err_len;
    running--;
    task_ready(c->call.h, c->call.t);
    start_next(c->call.h->loop);
}

static void start_next(loop_t *loop)
{
    while (queue_head && running < max_running()) {
        exec_call *c = queue_head;
        queue_head = c->next;
        if (!queue_head)
            queue_tail = NULL;
        c->queued = 0;
        if (sandbox_run(loop, &c->spec, on_done, c, c->errmsg, sizeof c->errmsg) == 0) {
            running++;
        } else {
            c->status = SANDBOX_ERROR;
            c->oom_kills = -1;
            task_ready(c->call.h, c->call.t);
        }
    }
}

static const char *status_name(sandbox_status s)
{
    switch (s) {
    case SANDBOX_EXITED: return "exited";
    case SANDBOX_SIGNALED: return "signaled";
    case SANDBOX_TIMEOUT: return "timeout";
    default: return "error";
    }
}

static const char *limit_name(sandbox_limit l)
{
    switch (l) {
    case SANDBOX_LIMIT_WALL: return "wall";
    case SANDBOX_LIMIT_CPU: return "cpu";
    case SANDBOX_LIMIT_MEMORY: return "memory";
    case SANDBOX_LIMIT_OUTPUT: return "output";
    default: return NULL;
    }
}

static int exec_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    exec_call *c = (exec_call *)ctx;
    lua_createtable(L, 0, 13);
    lua_pushstring(L, status_name(c->status));
    lua_setfield(L, -2, "status");
    if (c->status == SANDBOX_EXITED) {
        lua_pushinteger(L, c->exit_code);
        lua_setfield(L, -2, "code");
    }
    if (c->signal) {
        lua_pushinteger(L, c->signal);
        lua_setfield(L, -2, "signal");
    }
    lua_pushlstring(L, c->out ? c->out : "", c->out_len);
    lua_setfield(L, -2, "stdout");
    lua_pushlstring(L, c->err ? c->err : "", c->err_len);
    lua_setfield(L, -2, "stderr");
    lua_pushboolean(L, c->truncated != 0);
    lua_setfield(L, -2, "truncated");
    lua_pushnumber(L, c->wall_ms);
    lua_setfield(L, -2, "wall_ms");
    lua_pushnumber(L, c->cpu_ms);
    lua_setfield(L, -2, "cpu_ms");
    if (limit_name(c->limit)) {
        lua_pushstring(L, limit_name(c->limit));
        lua_setfield(L, -2, "limit");
    }
    if (c->oom_kills >= 0) {    /* a memory cgroup measured the run */
        lua_pushinteger(L, (lua_Integer)c->mem_peak);
        lua_setfield(L, -2, "mem_peak");
        lua_pushinteger(L, c->oom_kills);
        lua_setfield(L, -2, "oom_kills");
    }
    if (c->errmsg[0]) {
        lua_pushstring(L, c->errmsg);
        lua_setfield(L, -2, "message");
    }
    call_end(&c->call);
    return 1;
}

static double opt_number(lua_State *L, const char *name, double dflt)
{
    int type = lua_getfield(L, 1, name);
    double v = dflt;
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0))
            check_error(L, EXEC_FNAME, "spec.%s must be a positive number (got %s)", name,
                        type == LUA_TNUMBER ? lua_pushfstring(L, "%f", lua_tonumber(L, -1))
                                            : luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static char *dup_lua_string(lua_State *L, int idx, size_t *len)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *p = xmemdup(s, n);
    if (len)
        *len = n;
    return p;
}

static const char *const spec_fields[] = {"argv", "stdin", "files", "cpu", "wall", "mem_mb",
    "fsize_mb", "disk_mb", "out_cap", "nofile", "nproc", NULL};

/* Copies everything the run needs out of the Lua table into c (the task's
 * stack may change while the run is queued). Raises on misuse. */
static void read_spec(lua_State *L, exec_call *c)
{
    check_fields(L, 1, EXEC_FNAME, "spec", spec_fields);
    if (lua_getfield(L, 1, "argv") != LUA_TTABLE)
        check_type_error(L, -1, EXEC_FNAME, "spec.argv", "an array of strings");
    size_t argc = lua_rawlen(L, -1);
    if (argc < 1 || argc > 65536)
        check_error(L, EXEC_FNAME, "spec.argv must hold 1 to 65536 strings");
    c->argc = (int)argc;
    c->argv = xcalloc((size_t)c->argc + 1, sizeof *c->argv);
    for (int i = 0; i < c->argc; i++) {
        if (lua_rawgeti(L, -1, i + 1) != LUA_TSTRING)
            check_error(L, EXEC_FNAME, "spec.argv[%d] must be a string (got %s)", i + 1,
                        luaL_typename(L, -1));
        c->argv[i] = dup_lua_string(L, -1, NULL);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    c->spec.argv = (const char *const *)c->argv;
    int type = lua_getfield(L, 1, "stdin");
    if (type == LUA_TSTRING) {
        c->stdin_data = dup_lua_string(L, -1, &c->spec.stdin_len);
        c->spec.stdin_data = c->stdin_data;
    } else if (type != LUA_TNIL) {
        check_type_error(L, -1, EXEC_FNAME, "spec.stdin", "a string");
    }
    lua_pop(L, 1);
    type = lua_getfield(L, 1, "files");
    if (type == LUA_TTABLE) {
        int n = 0;
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
            n++;
        c->files = xcalloc((size_t)n + 1, sizeof *c->files);
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                check_error(L, EXEC_FNAME, "spec.files must map names to strings (got %s = %s)",
                            luaL_typename(L, -2), luaL_typename(L, -1));
            sandbox_file *f = &c->files[c->spec.nfiles++];
            f->name = dup_lua_string(L, -2, NULL);
            f->data = dup_lua_string(L, -1, &f->len);
        }
        c->spec.files = c->files;
    } else if (type != LUA_TNIL) {
        check_type_error(L, -1, EXEC_FNAME, "spec.files", "a table {name = content}");
    }
    lua_pop(L, 1);
    c->spec.cpu_s = opt_number(L, "cpu", 0);
    c->spec.wall_s = opt_number(L, "wall", 0);
    c->spec.mem_bytes = (size_t)(opt_number(L, "mem_mb", 0) * 1048576.0);
    c->spec.fsize_bytes = (size_t)(opt_number(L, "fsize_mb", 0) * 1048576.0);
    c->spec.disk_bytes = (size_t)(opt_number(L, "disk_mb", 0) * 1048576.0);
    c->spec.out_cap = (size_t)opt_number(L, "out_cap", 0);
    c->spec.nofile = (int)opt_number(L, "nofile", 0);
    c->spec.nproc = (int)opt_number(L, "nproc", 0);
}

/* core.exec(spec) -> {status, code, signal, stdout, stderr, truncated, wall_ms, cpu_ms,
 *                     limit ("wall"|"cpu"|"memory"|"output": the one that ended the run),
 *                     mem_peak, oom_kills (bytes, count: when a memory cgroup measured it)} */
static int l_exec(lua_State *L)
{
    check_table(L, 1, EXEC_FNAME, "spec");
    lua_settop(L, 1);
    task_t *t = task_check(L, EXEC_FNAME);
    exec_call *c = call_new(L, &exec_class, sizeof *c, t);
    read_spec(L, c);            /* raises on misuse: the collector frees c */
    c->queued = 1;
    if (queue_tail)
        queue_tail->next = c;
    else
        queue_head = c;
    queue_tail = c;
    start_next(c->call.h->loop);
    return call_park(L, &c->call, exec_k);
}

static int l_isolation(lua_State *L)
{
    lua_pushstring(L, sandbox_isolation());
    return 1;
}

void exec_register(lua_State *L)
{
    call_register(L, &exec_class);
    lua_pushcfunction(L, l_exec);
    lua_setfield(L, -2, "exec");
    lua_pushcfunction(L, l_isolation);
    lua_setfield(L, -2, "isolation");
}
