/* store: the Lua face of the sample store (store.h) and of SHA-256.
 *
 * lstore_register(L) sets field `store` of the table on top of the stack to:
 *   store.open(path [, {readonly = bool, busy_timeout_ms = int}])
 *       -> store object, or nil, message (not a valid store, locked, newer
 *          schema, unwritable path). Closed by :close(), a to-be-closed
 *          variable (`local st <close> = ...`) or the garbage collector;
 *          closing commits pending samples.
 *   store.hash(text) -> 64-char lowercase hex SHA-256 of text (a prompt key)
 * Methods (key: 64 hex digits or a raw 32-byte digest; sample index >= 0):
 *   st:lookup(key, k) -> array of k entries, entry i+1 for sample i: a table
 *       {text=, finish_reason=, prompt_tokens=, completion_tokens=,
 *        latency_ms=, model=, created=} or false when not stored; text is
 *       absent for null content, other unknown fields are absent too;
 *       second result: the indices of damaged samples (checksum mismatch,
 *       entries false), or nil
 *   st:put(key, request_text_or_nil, idx, sample) -> true if stored, false if
 *       that sample was already stored (it never changes); sample has the
 *       fields above, all optional; other fields are ignored
 *   st:request(key) -> true when the prompt of key is stored with its
 *       request text (run --batch-out stores it before any sample)
 *   st:commit() -> true, or nil, message, busy (true: another process
 *       holds the lock, the batch is kept for a later try)
 *   st:pending() -> samples put but not committed
 *   st:stats() -> {prompts=, samples=, bytes=}
 *   st:each(fn) -> number of samples visited; calls fn(key_hex, request, idx,
 *       sample) for every committed sample, by key then index (sample is
 *       false when damaged); fn returning false stops; fn must not write
 *       to this store
 *   st:verify() -> ok, report: ok is true when whole; report = {prompts=,
 *       samples=, damaged_samples=, damaged_prompts=, orphans=,
 *       integrity_errors=, checksums=bool, problems={line...}}
 *   st:close() -> true
 * Misuse (wrong types, bad key, negative index, a closed store) raises an
 * error naming the argument; SQLite failures return nil, message. Strings
 * cross with explicit lengths: texts may hold NUL bytes and invalid UTF-8. */
#include "bind/bind.h"

#include "store/sha256.h"
#include "store/store.h"

#include <lauxlib.h>
#include <string.h>

#define LSTORE_MT "slmmux.store"
#define LSTORE_MAX_K 1000000   /* a sanity bound for lookup's k: beyond it is a bug, not a run */

typedef struct lstore {
    store_t *s;     /* NULL once closed */
} lstore;

/* The open store a method is called on (fname: e.g. "store:lookup"). */
static store_t *lstore_check(lua_State *L, const char *fname)
{
    lstore *u = check_udata(L, 1, LSTORE_MT, fname, "self", "a store (from mux.store.open)");
    if (!u->s)
        check_error(L, fname, "the store is closed");
    return u->s;
}

static void lstore_key(lua_State *L, int arg, const char *fname, uint8_t key[32])
{
    size_t len;
    const char *k = check_string(L, arg, fname, "key", &len);
    if (len == 32)
        memcpy(key, k, 32);
    else if (sha256_unhex(k, len, key) < 0)
        check_error(L, fname, "key must be 64 hex digits or a 32-byte digest");
}

static int lstore_fail(lua_State *L, store_t *s)
{
    luaL_pushfail(L);
    lua_pushstring(L, store_errmsg(s));
    return 2;
}

static int lstore_open(lua_State *L)
{
    static const char *const fname = "mux.store.open";
    static const char *const known[] = {"readonly", "busy_timeout_ms", NULL};
    const char *path = check_string(L, 1, fname, "path", NULL);
    store_opts o = {0, 0, 0};
    if (check_opt_table(L, 2, fname, "opts")) {
        check_fields(L, 2, fname, "opts", known);
        if (lua_getfield(L, 2, "readonly") != LUA_TNIL)
            o.readonly = check_boolean(L, -1, fname, "opts.readonly");
        if (lua_getfield(L, 2, "busy_timeout_ms") != LUA_TNIL)
            o.busy_timeout_ms = (int)check_integer(L, -1, fname, "opts.busy_timeout_ms", 1, 3600000);
        lua_pop(L, 2);
    }
    /* The userdata exists before the store so that a memory error cannot leak it. */
    lstore *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->s = NULL;
    luaL_setmetatable(L, LSTORE_MT);
    char err[600];
    u->s = store_open(path, &o, err, sizeof err);
    if (!u->s) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    return 1;
}

static void lstore_setstr(lua_State *L, const char *field, const char *s)
{
    if (s) {
        lua_pushstring(L, s);
        lua_setfield(L, -2, field);
    }
}

/* Pushes a sample as the table lookup, each and put agree on. */
static void lstore_push_sample(lua_State *L, const store_sample *sm)
{
    lua_createtable(L, 0, 7);
    if (sm->has_text) {
        lua_pushlstring(L, sm->text, sm->text_len);
        lua_setfield(L, -2, "text");
    }
    lstore_setstr(L, "finish_reason", sm->finish_reason);
    lstore_setstr(L, "model", sm->served_model);
    if (sm->prompt_tokens >= 0) {
        lua_pushinteger(L, sm->prompt_tokens);
        lua_setfield(L, -2, "prompt_tokens");
    }
    if (sm->completion_tokens >= 0) {
        lua_pushinteger(L, sm->completion_tokens);
        lua_setfield(L, -2, "completion_tokens");
    }
    if (sm->latency_ms >= 0) {
        lua_pushnumber(L, sm->latency_ms);
        lua_setfield(L, -2, "latency_ms");
    }
    lua_pushnumber(L, sm->created);
    lua_setfield(L, -2, "created");
}

static int lstore_lookup(lua_State *L)
{
    store_t *s = lstore_check(L, "store:lookup");
    uint8_t key[32];
    lstore_key(L, 2, "store:lookup", key);
    lua_Integer k = check_integer(L, 3, "store:lookup", "k", 0, LSTORE_MAX_K);
    /* Scratch as a userdata: the collector frees it even if a push below raises. */
    store_sample *out = lua_newuserdatauv(L, (size_t)k * (sizeof *out + 1) + 1, 0);
    unsigned char *have = (unsigned char *)(out + k);
    if (store_lookup(s, key, (int)k, out, have) < 0)
        return lstore_fail(L, s);
    lua_createtable(L, (int)k, 0);
    int damaged = 0;
    for (lua_Integer i = 0; i < k; i++) {
        if (have[i] == 1)
            lstore_push_sample(L, &out[i]);
        else
            lua_pushboolean(L, 0);
        lua_rawseti(L, -2, i + 1);
        damaged += have[i] == STORE_DAMAGED;
    }
    if (!damaged)
        return 1;
    lua_createtable(L, damaged, 0);
    for (lua_Integer i = 0, n = 0; i < k; i++)
        if (have[i] == STORE_DAMAGED) {
            lua_pushinteger(L, i);
            lua_rawseti(L, -2, ++n);
        }
    return 2;
}

/* Reads sample.field at the top of the stack; raises naming it if mistyped. */
static const char *lstore_field_str(lua_State *L, int arg, const char *field, size_t *len)
{
    int t = lua_getfield(L, arg, field);
    if (t == LUA_TNIL)
        return NULL;
    if (t != LUA_TSTRING)
        check_error(L, "store:put", "sample.%s must be a string (got %s)", field, luaL_typename(L, -1));
    return lua_tolstring(L, -1, len);
}

static lua_Integer lstore_field_int(lua_State *L, int arg, const char *field)
{
    int t = lua_getfield(L, arg, field), isint = 0;
    lua_Integer v = t == LUA_TNUMBER ? lua_tointegerx(L, -1, &isint) : -1;
    if (t != LUA_TNIL && !(isint && v >= 0))
        check_error(L, "store:put", "sample.%s must be a non-negative integer", field);
    lua_pop(L, 1);
    return v;
}

static double lstore_field_num(lua_State *L, int arg, const char *field, double missing)
{
    int t = lua_getfield(L, arg, field);
    if (t != LUA_TNIL && t != LUA_TNUMBER)
        check_error(L, "store:put", "sample.%s must be a number (got %s)", field, luaL_typename(L, -1));
    double v = t == LUA_TNUMBER ? lua_tonumber(L, -1) : missing;
    lua_pop(L, 1);
    return v;
}

static int lstore_put(lua_State *L)
{
    static const char *const fname = "store:put";
    store_t *s = lstore_check(L, fname);
    uint8_t key[32];
    lstore_key(L, 2, fname, key);
    size_t request_len = 0;
    const char *request = check_opt_string(L, 3, fname, "request", NULL, &request_len);
    lua_Integer idx = check_integer(L, 4, fname, "idx", 0, 0x7fffffff);
    check_table(L, 5, fname, "sample");
    store_sample sm;
    memset(&sm, 0, sizeof sm);
    /* The strings stay on the stack, hence valid, until store_put has copied them. */
    sm.text = lstore_field_str(L, 5, "text", &sm.text_len);
    sm.has_text = sm.text != NULL;
    sm.finish_reason = lstore_field_str(L, 5, "finish_reason", NULL);
    sm.served_model = lstore_field_str(L, 5, "model", NULL);
    sm.prompt_tokens = (long)lstore_field_int(L, 5, "prompt_tokens");
    sm.completion_tokens = (long)lstore_field_int(L, 5, "completion_tokens");
    sm.latency_ms = lstore_field_num(L, 5, "latency_ms", -1);
    sm.created = lstore_field_num(L, 5, "created", 0);
    int rc = store_put(s, key, request, request_len, (int)idx, &sm);
    if (rc < 0)
        return lstore_fail(L, s);
    lua_pushboolean(L, rc);
    return 1;
}

static int lstore_request(lua_State *L)
{
    store_t *s = lstore_check(L, "store:request");
    uint8_t key[32];
    lstore_key(L, 2, "store:request", key);
    int rc = store_has_request(s, key);
    if (rc < 0)
        return lstore_fail(L, s);
    lua_pushboolean(L, rc);
    return 1;
}

static int lstore_commit(lua_State *L)
{
    store_t *s = lstore_check(L, "store:commit");
    if (store_commit(s) < 0) {
        lstore_fail(L, s);
        lua_pushboolean(L, store_busy(s));
        return 3;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int lstore_pending(lua_State *L)
{
    lua_pushinteger(L, store_pending(lstore_check(L, "store:pending")));
    return 1;
}

static int lstore_stats(lua_State *L)
{
    store_t *s = lstore_check(L, "store:stats");
    long prompts, samples, bytes;
    if (store_stats(s, &prompts, &samples, &bytes) < 0)
        return lstore_fail(L, s);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, prompts);
    lua_setfield(L, -2, "prompts");
    lua_pushinteger(L, samples);
    lua_setfield(L, -2, "samples");
    lua_pushinteger(L, bytes);
    lua_setfield(L, -2, "bytes");
    return 1;
}

/* One row of :each, handed to lstore_each_row through a protected call so
 * that neither fn's errors nor memory errors jump over store_each. */
typedef struct lstore_row {
    const uint8_t *key;
    const char *request;
    size_t request_len;
    int idx;
    const store_sample *sm;
} lstore_row;

typedef struct lstore_each_ctx {
    lua_State *L;
    int fn;         /* stack index of the callback */
    int failed;     /* the error object is on top of the stack */
    lua_Integer visited;
} lstore_each_ctx;

static int lstore_each_row(lua_State *L)
{
    const lstore_row *r = lua_touserdata(L, 2);
    char hex[65];
    sha256_hex(r->key, hex);
    lua_pushvalue(L, 1);
    lua_pushlstring(L, hex, 64);
    if (r->request)
        lua_pushlstring(L, r->request, r->request_len);
    else
        lua_pushnil(L);
    lua_pushinteger(L, r->idx);
    if (r->sm)
        lstore_push_sample(L, r->sm);
    else
        lua_pushboolean(L, 0);
    lua_call(L, 4, 1);
    return 1;
}

static int lstore_each_cb(void *ud, const uint8_t key[32], const char *request, size_t request_len, int idx,
                          const store_sample *sm)
{
    lstore_each_ctx *c = ud;
    lua_State *L = c->L;
    lstore_row r = {key, request, request_len, idx, sm};
    lua_pushcfunction(L, lstore_each_row);
    lua_pushvalue(L, c->fn);
    lua_pushlightuserdata(L, &r);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        c->failed = 1;
        return 1;
    }
    c->visited++;
    int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

static int lstore_each(lua_State *L)
{
    store_t *s = lstore_check(L, "store:each");
    check_function(L, 2, "store:each", "fn");
    luaL_checkstack(L, 8, NULL);   /* the callback pushes without checking */
    lstore_each_ctx c = {L, 2, 0, 0};
    int rc = store_each(s, lstore_each_cb, &c);
    if (c.failed)
        return lua_error(L);
    if (rc < 0)
        return lstore_fail(L, s);
    lua_pushinteger(L, c.visited);
    return 1;
}

static void lstore_problem(void *ud, const char *line)
{
    lua_State *L = ud;
    lua_pushstring(L, line);
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

static int lstore_verify(lua_State *L)
{
    store_t *s = lstore_check(L, "store:verify");
    store_report r;
    lua_createtable(L, 0, 8);
    lua_newtable(L);    /* problems, filled by lstore_problem */
    int rc = store_verify(s, &r, lstore_problem, L);
    if (rc < 0)
        return lstore_fail(L, s);
    lua_setfield(L, -2, "problems");
    const struct { const char *name; long v; } counts[] = {{"prompts", r.prompts}, {"samples", r.samples},
        {"damaged_samples", r.damaged_samples}, {"damaged_prompts", r.damaged_prompts},
        {"orphans", r.orphans}, {"integrity_errors", r.integrity_errors}};
    for (size_t i = 0; i < sizeof counts / sizeof *counts; i++) {
        lua_pushinteger(L, counts[i].v);
        lua_setfield(L, -2, counts[i].name);
    }
    lua_pushboolean(L, r.checksums);
    lua_setfield(L, -2, "checksums");
    lua_pushboolean(L, rc == 0);
    lua_insert(L, -2);
    return 2;
}

static int lstore_close(lua_State *L)
{
    lstore *u = check_udata(L, 1, LSTORE_MT, "store:close", "self", "a store (from mux.store.open)");
    char err[700];
    int rc = store_close(u->s, err, sizeof err);
    u->s = NULL;
    if (rc < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* A to-be-closed store that cannot commit raises: the samples are lost and
 * nobody would see a returned message. */
static int lstore_tbc_close(lua_State *L)
{
    lstore *u = luaL_checkudata(L, 1, LSTORE_MT);
    char err[700];
    int rc = store_close(u->s, err, sizeof err);
    u->s = NULL;
    if (rc < 0)
        return check_error(L, "store:close", "%s", err);
    return 0;
}

static int lstore_gc(lua_State *L)
{
    lstore *u = luaL_checkudata(L, 1, LSTORE_MT);
    store_close(u->s, NULL, 0);
    u->s = NULL;
    return 0;
}

static int lstore_hash(lua_State *L)
{
    size_t len;
    const char *text = check_string(L, 1, "mux.store.hash", "text", &len);
    uint8_t d[32];
    char hex[65];
    sha256(text, len, d);
    sha256_hex(d, hex);
    lua_pushlstring(L, hex, 64);
    return 1;
}

static const luaL_Reg lstore_methods[] = {
    {"lookup", lstore_lookup},
    {"put", lstore_put},
    {"request", lstore_request},
    {"commit", lstore_commit},
    {"pending", lstore_pending},
    {"stats", lstore_stats},
    {"each", lstore_each},
    {"verify", lstore_verify},
    {"close", lstore_close},
    {NULL, NULL},
};

static const luaL_Reg lstore_meta[] = {
    {"__gc", lstore_gc},
    {"__close", lstore_tbc_close},
    {NULL, NULL},
};

static const luaL_Reg lstore_funcs[] = {
    {"open", lstore_open},
    {"hash", lstore_hash},
    {NULL, NULL},
};

void lstore_register(lua_State *L)
{
    if (luaL_newmetatable(L, LSTORE_MT)) {
        luaL_setfuncs(L, lstore_meta, 0);
        luaL_newlib(L, lstore_methods);
        lua_setfield(L, -2, "__index");
    }
    lua_pop(L, 1);
    luaL_newlib(L, lstore_funcs);
    lua_setfield(L, -2, "store");
}
