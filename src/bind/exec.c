/* exec: mux.exec — run a program in the sandbox as a loop event.
 *
 * Runs beyond the host's limit (twice the cores: each run is CPU-bound)
 * wait in a FIFO, so a recipe may start hundreds and the machine still
 * serves the HTTP side of the run. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bind/bind.h"
#include "sandbox/sandbox.h"

typedef struct exec_call {
    host_t *h;
    task_t *t;
    sandbox_spec spec;
    char **argv;
    int argc;
    sandbox_file *files;
    char *stdin_data;
    /* result, copied out of the sandbox's callback */
    sandbox_status status;
    int exit_code, signal, truncated;
    char *out, *err;
    size_t out_len, err_len;
    double wall_ms, cpu_ms;
    char errmsg[256];
    struct exec_call *next;     /* waiting queue */
} exec_call;

static exec_call *queue_head, *queue_tail;
static int running;

static int max_running(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)(2 * n) : 2;
}

static void call_free(exec_call *c)
{
    if (!c->argv && !c->files && !c->stdin_data && !c->out && !c->err)
        return;
    for (int i = 0; i < c->argc; i++)
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
    memset(c, 0, sizeof *c);
}

static int call_gc(lua_State *L)
{
    call_free(lua_touserdata(L, 1));
    return 0;
}

static void start_next(loop_t *loop);

static void on_done(sandbox_result *r, void *ud)
{
    exec_call *c = ud;
    c->status = r->status;
    c->exit_code = r->exit_code;
    c->signal = r->signal;
    c->truncated = r->truncated;
    c->wall_ms = r->wall_ms;
    c->cpu_ms = r->cpu_ms;
    memcpy(c->errmsg, r->errmsg, sizeof c->errmsg);
    c->out = malloc(r->out_len + 1);
    c->err = malloc(r->err_len + 1);
    if (c->out) {
        memcpy(c->out, r->out, r->out_len);
        c->out_len = r->out_len;
    }
    if (c->err) {
        memcpy(c->err, r->err, r->err_len);
        c->err_len = r->err_len;
    }
    running--;
    task_ready(c->h, c->t);
    start_next(c->h->loop);
}

static void start_next(loop_t *loop)
{
    while (queue_head && running < max_running()) {
        exec_call *c = queue_head;
        queue_head = c->next;
        if (!queue_head)
            queue_tail = NULL;
        if (sandbox_run(loop, &c->spec, on_done, c, c->errmsg, sizeof c->errmsg) == 0) {
            running++;
        } else {
            c->status = SANDBOX_ERROR;
            task_ready(c->h, c->t);
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

static int exec_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    exec_call *c = (exec_call *)ctx;
    lua_createtable(L, 0, 10);
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
    if (c->errmsg[0]) {
        lua_pushstring(L, c->errmsg);
        lua_setfield(L, -2, "message");
    }
    call_free(c);
    return 1;
}

static double opt_number(lua_State *L, const char *name, double dflt)
{
    int type = lua_getfield(L, 1, name);
    double v = dflt;
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER || lua_tonumber(L, -1) <= 0)
            luaL_error(L, "mux.exec: %s must be a positive number", name);
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

static char *dup_lua_string(lua_State *L, int idx, size_t *len)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    char *p = malloc(n + 1);
    if (!p)
        luaL_error(L, "out of memory");
    memcpy(p, s, n);
    p[n] = '\0';
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
    check_fields(L, 1, "mux.exec", spec_fields);
    if (lua_getfield(L, 1, "argv") != LUA_TTABLE)
        luaL_error(L, "mux.exec: argv must be an array of strings");
    c->argc = (int)luaL_len(L, -1);
    if (c->argc < 1)
        luaL_error(L, "mux.exec: argv must not be empty");
    c->argv = calloc((size_t)c->argc + 1, sizeof *c->argv);
    for (int i = 0; i < c->argc; i++) {
        if (lua_rawgeti(L, -1, i + 1) != LUA_TSTRING)
            luaL_error(L, "mux.exec: argv[%d] must be a string", i + 1);
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
        luaL_error(L, "mux.exec: stdin must be a string");
    }
    lua_pop(L, 1);
    type = lua_getfield(L, 1, "files");
    if (type == LUA_TTABLE) {
        int n = 0;
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
            n++;
        c->files = calloc((size_t)n + 1, sizeof *c->files);
        for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
            if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "mux.exec: files must map names to strings");
            sandbox_file *f = &c->files[c->spec.nfiles++];
            f->name = dup_lua_string(L, -2, NULL);
            f->data = dup_lua_string(L, -1, &f->len);
        }
        c->spec.files = c->files;
    } else if (type != LUA_TNIL) {
        luaL_error(L, "mux.exec: files must be a table {name = content}");
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

/* core.exec(spec) -> {status, code, signal, stdout, stderr, truncated, wall_ms, cpu_ms} */
static int l_exec(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    task_t *t = task_check(L, "mux.exec");
    /* c lives in a userdata on the task's stack: a misuse error below, or a
     * run abandoned at shutdown, leaves it to the GC, which frees its parts */
    exec_call *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    luaL_setmetatable(L, "slmmux.exec_call");
    c->h = host_get();
    c->t = t;
    read_spec(L, c);
    if (queue_tail)
        queue_tail->next = c;
    else
        queue_head = c;
    queue_tail = c;
    start_next(c->h->loop);
    return task_park(L, t, (lua_KContext)c, exec_k);
}

static int l_isolation(lua_State *L)
{
    lua_pushstring(L, sandbox_isolation());
    return 1;
}

void exec_register(lua_State *L)
{
    luaL_newmetatable(L, "slmmux.exec_call");
    lua_pushcfunction(L, call_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_pushcfunction(L, l_exec);
    lua_setfield(L, -2, "exec");
    lua_pushcfunction(L, l_isolation);
    lua_setfield(L, -2, "isolation");
}
