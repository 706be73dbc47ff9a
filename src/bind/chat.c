/* chat: mux.chat — one prompt, k samples, through the store.
 *
 * A sample's identity is (endpoint base URL, the canonical request without
 * n, sample index): its SHA-256 keys the store. Stored samples are reused;
 * only missing indices are requested, in contiguous runs with n when the
 * endpoint supports it. With a seed s, sample i is requested with seed s+i,
 * so a resumed or extended run asks for exactly what an uninterrupted run
 * would have asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/oom.h"

#include "base/buf.h"
#include "net/json.h"
#include "bind/bind.h"
#include "store/sha256.h"
#include "store/store.h"

#define MAX_SAMPLES 1024
#define MAX_N_PER_REQUEST 128

typedef struct slot {
    char *text;                 /* NULL: null content */
    size_t len;
    char *finish_reason;
    char *model;
    long prompt_tokens, completion_tokens;
    double latency_ms;
    int filled, cached;
} slot;

typedef struct chat_part chat_part;

typedef struct chat_call {
    call_t call;                /* first: a chat call is a call (bind.h) */
    int ep, k, pending;
    int from_store;
    int damaged_first;          /* 1 + the first damaged sample's index, or 0 */
    uint8_t key[32];
    buf_t canon;                /* base URL \n canonical request (the stored text) */
    buf_t prefix;               /* request JSON up to, not including, seed/n and '}' */
    int has_seed;
    lua_Integer seed;
    double est_tokens_per_sample;
    slot *slots;
    chat_part *parts;           /* live requests */
    const char *err_kind;
    char *err_msg;
    long err_status;
    int attempts;
    double latency_ms;
} chat_call;

struct chat_part {
    chat_call *c;
    int first, count;
    llm_req *req;
    chat_part *next;
};

/* ---- building the canonical request ------------------------------------ */

#define CHAT_FNAME "mux.chat"

/* Every write to the request is checked: a short write would change the
 * sample's identity. The buffers belong to the call's userdata, so the
 * raise frees them. */
static void chat_ok(lua_State *L, int rc)
{
    if (rc < 0)
        check_error(L, CHAT_FNAME, "not enough memory");
}

static void chat_put_key(lua_State *L, buf_t *b, const char *k, int *first)
{
    if (!*first)
        chat_ok(L, buf_putc(b, ','));
    *first = 0;
    chat_ok(L, json_write_string(b, k, strlen(k)));
    chat_ok(L, buf_putc(b, ':'));
}

static void chat_put_string(lua_State *L, buf_t *b, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    chat_ok(L, json_write_string(b, s, n));
}

/* messages[i].<field> (a string; optional: may be nil) into b */
static void chat_put_message_field(lua_State *L, buf_t *b, int m, lua_Integer i, const char *field,
                                   int optional, int *first)
{
    int type = lua_getfield(L, m, field);
    if (type == LUA_TNIL && optional)
        return;
    if (type != LUA_TSTRING)
        check_error(L, CHAT_FNAME, "req.messages[%I].%s must be a string (got %s)", i, field,
                    luaL_typename(L, -1));
    chat_put_key(L, b, field, first);
    chat_put_string(L, b, -1);
}

static void chat_put_messages(lua_State *L, int idx, buf_t *b)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        check_type_error(L, idx, CHAT_FNAME, "req.messages", "an array of {role=, content=}");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n < 1)
        check_error(L, CHAT_FNAME, "req.messages must not be empty");
    chat_ok(L, buf_putc(b, '['));
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, i) != LUA_TTABLE)
            check_error(L, CHAT_FNAME, "req.messages[%I] must be a table {role=, content=} (got %s)", i,
                        luaL_typename(L, -1));
        int m = lua_gettop(L);
        if (i > 1)
            chat_ok(L, buf_putc(b, ','));
        int first = 1;
        chat_ok(L, buf_putc(b, '{'));
        chat_put_message_field(L, b, m, i, "role", 0, &first);
        chat_put_message_field(L, b, m, i, "content", 0, &first);
        chat_put_message_field(L, b, m, i, "name", 1, &first);
        chat_ok(L, buf_putc(b, '}'));
        lua_settop(L, m - 1);
    }
    chat_ok(L, buf_putc(b, ']'));
}

static void chat_put_number(lua_State *L, buf_t *b, const char *name, int integer, int *first)
{
    int type = lua_getfield(L, 1, name);
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER || (integer && !lua_isinteger(L, -1)))
            check_error(L, CHAT_FNAME, "req.%s must be %s (got %s)", name,
                        integer ? "an integer" : "a number",
                        type == LUA_TNUMBER ? "a float" : luaL_typename(L, -1));
        chat_put_key(L, b, name, first);
        chat_ok(L, json_write_number(b, lua_tonumber(L, -1)));
    }
    lua_pop(L, 1);
}

static void chat_put_stop(lua_State *L, buf_t *b, int *first)
{
    int type = lua_getfield(L, 1, "stop");
    if (type == LUA_TSTRING) {
        chat_put_key(L, b, "stop", first);
        chat_put_string(L, b, -1);
    } else if (type == LUA_TTABLE) {
        chat_put_key(L, b, "stop", first);
        chat_ok(L, buf_putc(b, '['));
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
                check_error(L, CHAT_FNAME, "req.stop[%I] must be a string (got %s)", i,
                            luaL_typename(L, -1));
            if (i > 1)
                chat_ok(L, buf_putc(b, ','));
            chat_put_string(L, b, -1);
            lua_pop(L, 1);
        }
        chat_ok(L, buf_putc(b, ']'));
    } else if (type != LUA_TNIL) {
        check_type_error(L, -1, CHAT_FNAME, "req.stop", "a string or an array of strings");
    }
    lua_pop(L, 1);
}

static const char *const chat_req_fields[] = {"model", "messages", "temperature", "top_p",
    "max_tokens", "n", "seed", "stop", "endpoint", NULL};

/* Validates req (index 1) and builds c's request prefix, k, seed and the
 * token estimate. Raises on misuse. */
static void chat_build_request(lua_State *L, chat_call *c)
{
    check_fields(L, 1, CHAT_FNAME, "req", chat_req_fields);
    buf_t *b = &c->prefix;
    int first = 1;
    chat_ok(L, buf_putc(b, '{'));
    if (lua_getfield(L, 1, "model") != LUA_TSTRING)
        check_type_error(L, -1, CHAT_FNAME, "req.model", "a string");
    chat_put_key(L, b, "model", &first);
    chat_put_string(L, b, -1);
    lua_pop(L, 1);
    lua_getfield(L, 1, "messages");
    chat_put_key(L, b, "messages", &first);
    chat_put_messages(L, lua_gettop(L), b);
    lua_pop(L, 1);
    chat_put_number(L, b, "temperature", 0, &first);
    chat_put_number(L, b, "top_p", 0, &first);
    chat_put_number(L, b, "max_tokens", 1, &first);
    lua_Integer max_tokens = 0;
    if (lua_getfield(L, 1, "max_tokens") == LUA_TNUMBER)
        max_tokens = lua_tointeger(L, -1);
    lua_pop(L, 1);
    chat_put_stop(L, b, &first);
    if (lua_getfield(L, 1, "seed") != LUA_TNIL) {
        if (!lua_isinteger(L, -1))
            check_type_error(L, -1, CHAT_FNAME, "req.seed", "an integer");
        c->has_seed = 1;
        c->seed = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    c->k = 1;
    if (lua_getfield(L, 1, "n") != LUA_TNIL)
        c->k = (int)check_integer(L, -1, CHAT_FNAME, "req.n", 1, MAX_SAMPLES);
    lua_pop(L, 1);
    c->est_tokens_per_sample = (double)c->prefix.len / 4.0 + (max_tokens > 0 ? (double)max_tokens : 512.0);
}

/* The endpoint: argument 2 (a name, or false when none is configured),
 * else req.endpoint. Returns -1 for false; raises for a bad name. */
static int chat_endpoint(lua_State *L, host_t *h)
{
    int arg = lua_isnoneornil(L, 2) ? 0 : 2;
    if (!arg)
        lua_getfield(L, 1, "endpoint");
    else if (lua_type(L, 2) == LUA_TBOOLEAN && !lua_toboolean(L, 2))
        return -1;
    else
        lua_pushvalue(L, 2);
    if (lua_type(L, -1) != LUA_TSTRING)
        check_type_error(L, -1, CHAT_FNAME, "req.endpoint", "the name of a configured endpoint");
    int ep = llm_endpoint_find(h->llm, lua_tostring(L, -1));
    if (ep < 0)
        check_error(L, CHAT_FNAME, "unknown endpoint '%s' (req.endpoint)", lua_tostring(L, -1));
    lua_pop(L, 1);
    return ep;
}

/* The identity: base URL, then the request as sent minus n, seed as given. */
static void chat_build_identity(lua_State *L, host_t *h, chat_call *c)
{
    chat_ok(L, buf_printf(&c->canon, "%s\n", llm_endpoint_base_url(h->llm, c->ep)));
    chat_ok(L, buf_append(&c->canon, c->prefix.data, c->prefix.len));
    if (c->has_seed)
        chat_ok(L, buf_printf(&c->canon, ",\"seed\":%lld", (long long)c->seed));
    chat_ok(L, buf_putc(&c->canon, '}'));
    sha256(c->canon.data, c->canon.len, c->key);
}

/* ---- lifetime ---------------------------------------------------------------- */

static void chat_cancel(call_t *base)
{
    chat_call *c = (chat_call *)base;
    for (chat_part *p = c->parts; p; p = p->next)
        if (p->req) {
            llm_cancel(c->call.h->llm, p->req);
            p->req = NULL;
        }
}

static void chat_release(call_t *base)
{
    chat_call *c = (chat_call *)base;
    while (c->parts) {
        chat_part *p = c->parts;
        c->parts = p->next;
        free(p);
    }
    for (int i = 0; c->slots && i < c->k; i++) {
        free(c->slots[i].text);
        free(c->slots[i].finish_reason);
        free(c->slots[i].model);
    }
    free(c->slots);
    free(c->err_msg);
    buf_free(&c->canon);
    buf_free(&c->prefix);
}

static const call_class chat_class = {"slmmux.chat_call", chat_cancel, chat_release};

/* ---- requests ------------------------------------------------------------------ */

static void submit_part(chat_call *c, int first, int count);

static void record_error(chat_call *c, const llm_result *r)
{
    if (c->err_msg)
        return;     /* the first failure explains the call */
    c->err_kind = r->kind;
    c->err_status = r->status;
    c->err_msg = xstrdup(r->message ? r->message : r->kind);
}

static void store_new_samples(chat_call *c)
{
    host_t *h = c->call.h;
    if (!h->store)
        return;
    int wrote = 0;
    for (int i = 0; i < c->k; i++) {
        slot *s = &c->slots[i];
        if (!s->filled || s->cached)
            continue;
        store_sample sm = {
            .text = s->text, .text_len = s->len, .has_text = s->text != NULL,
            .finish_reason = s->finish_reason, .prompt_tokens = s->prompt_tokens,
            .completion_tokens = s->completion_tokens, .latency_ms = s->latency_ms,
            .served_model = s->model, .created = 0,
        };
        if (store_put(h->store, c->key, c->canon.data, c->canon.len, i, &sm) < 0) {
            if (!c->err_msg) {
                c->err_kind = "store";
                char m[600];
                snprintf(m, sizeof m, "could not store a sample: %s", store_errmsg(h->store));
                c->err_msg = xstrdup(m);
            }
            return;
        }
        wrote = 1;
    }
    if (wrote)
        host_store_touched(h);
}

static void on_part_done(llm_result *r, void *ud)
{
    chat_part *p = ud;
    chat_call *c = p->c;
    p->req = NULL;
    if (r->attempts > c->attempts)
        c->attempts = r->attempts;
    if (r->latency_ms > c->latency_ms)
        c->latency_ms = r->latency_ms;
    if (!r->ok) {
        record_error(c, r);
    } else {
        int m = r->nchoices < p->count ? r->nchoices : p->count;
        for (int i = 0; i < m; i++) {
            slot *s = &c->slots[p->first + i];
            llm_choice *ch = &r->choices[i];
            s->text = ch->text;
            s->len = ch->len;
            s->finish_reason = ch->finish_reason;
            ch->text = ch->finish_reason = NULL;
            s->model = r->model ? xstrdup(r->model) : NULL;
            /* the prompt is billed once per request: share it among its samples */
            s->prompt_tokens = r->prompt_tokens / m + (i < r->prompt_tokens % m);
            s->completion_tokens = r->completion_tokens / m + (i < r->completion_tokens % m);
            s->latency_ms = r->latency_ms;
            s->filled = 1;
        }
        if (m < p->count) {
            /* the server ignored n (llama.cpp, Ollama): ask one at a time */
            llm_endpoint_disable_n(c->call.h->llm, c->ep);
            for (int i = p->first + m; i < p->first + p->count; i++)
                submit_part(c, i, 1);
        }
    }
    llm_result_free(r);
    /* unlink p */
    for (chat_part **pp = &c->parts; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    free(p);
    if (--c->pending == 0) {
        store_new_samples(c);
        task_ready(c->call.h, c->call.t);
    }
}

static void submit_part(chat_call *c, int first, int count)
{
    /* a request body can be large: a failure fails this call, not the run */
    buf_t body = BUF_INIT;
    if (buf_append(&body, c->prefix.data, c->prefix.len) < 0 ||
        (c->has_seed && buf_printf(&body, ",\"seed\":%lld", (long long)(c->seed + first)) < 0) ||
        (count > 1 && buf_printf(&body, ",\"n\":%d", count) < 0) || buf_putc(&body, '}') < 0) {
        llm_result r = {.kind = "transport", .message = "out of memory building the request"};
        record_error(c, &r);
        buf_free(&body);
        return;
    }
    chat_part *p = xcalloc(1, sizeof *p);
    c->pending++;
    p->c = c;
    p->first = first;
    p->count = count;
    p->next = c->parts;
    c->parts = p;
    /* llm may call back at once (it could not start): p must be linked first */
    llm_req *req = llm_submit(c->call.h->llm, c->ep, body.data, body.len, count,
                              c->est_tokens_per_sample * count, on_part_done, p);
    buf_free(&body);
    for (chat_part *q = c->parts; q; q = q->next)
        if (q == p) {
            p->req = req;
            break;
        }
}

/* ---- results ------------------------------------------------------------------- */

static int push_error(lua_State *L, const char *kind, long status, const char *msg, int attempts)
{
    luaL_pushfail(L);
    lua_pushstring(L, msg);
    lua_createtable(L, 0, 4);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    if (status) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    lua_pushinteger(L, attempts);
    lua_setfield(L, -2, "attempts");
    lua_pushstring(L, msg);
    lua_setfield(L, -2, "message");
    return 3;
}

static int push_response(lua_State *L, chat_call *c)
{
    lua_createtable(L, 0, 7);
    lua_createtable(L, c->k, 0);
    long pt = 0, ct = 0;
    const char *model = NULL;
    for (int i = 0; i < c->k; i++) {
        slot *s = &c->slots[i];
        lua_createtable(L, 0, 3);
        if (s->text) {
            lua_pushlstring(L, s->text, s->len);
            lua_setfield(L, -2, "text");
        }
        if (s->finish_reason) {
            lua_pushstring(L, s->finish_reason);
            lua_setfield(L, -2, "finish_reason");
        }
        lua_pushboolean(L, s->cached);
        lua_setfield(L, -2, "cached");
        lua_rawseti(L, -2, i + 1);
        pt += s->prompt_tokens;
        ct += s->completion_tokens;
        if (!model && s->model)
            model = s->model;
    }
    lua_setfield(L, -2, "choices");
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, pt);
    lua_setfield(L, -2, "prompt_tokens");
    lua_pushinteger(L, ct);
    lua_setfield(L, -2, "completion_tokens");
    lua_setfield(L, -2, "usage");
    if (model) {
        lua_pushstring(L, model);
        lua_setfield(L, -2, "model");
    }
    lua_pushnumber(L, c->latency_ms);
    lua_setfield(L, -2, "latency_ms");
    lua_pushinteger(L, c->attempts);
    lua_setfield(L, -2, "attempts");
    lua_pushinteger(L, c->from_store);
    lua_setfield(L, -2, "cached");
    return 1;
}

static int chat_results(lua_State *L, chat_call *c)
{
    int n = c->err_msg ? push_error(L, c->err_kind, c->err_status, c->err_msg, c->attempts)
                       : push_response(L, c);
    call_end(&c->call);
    return n;
}

static int chat_k(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    return chat_results(L, (chat_call *)ctx);
}

/* A damaged sample (its checksum does not match) is never replayed: it is
 * reported by key and index and requested again, or, offline, the call
 * fails naming it. */
static void report_damaged(chat_call *c, int idx)
{
    char hex[65];
    sha256_hex(c->key, hex);
    fprintf(stderr, "slmmux: store: sample %d of prompt %s is damaged (checksum mismatch)%s\n", idx, hex,
            c->call.h->offline ? "" : "; requesting it again");
    if (!c->damaged_first)
        c->damaged_first = idx + 1;
}

/* Fill slots from the store; returns how many samples are missing. */
static int lookup_stored(lua_State *L, chat_call *c)
{
    (void)L;
    store_sample *got = xcalloc((size_t)c->k, sizeof *got);
    unsigned char *have = xcalloc((size_t)c->k, 1);
    int found = store_lookup(c->call.h->store, c->key, c->k, got, have);
    if (found < 0) {
        free(got);
        free(have);
        return -1;
    }
    for (int i = 0; i < c->k; i++) {
        if (have[i] == STORE_DAMAGED)
            report_damaged(c, i);
        if (have[i] != 1)
            continue;
        slot *s = &c->slots[i];
        if (got[i].has_text) {
            s->text = xmemdup(got[i].text, got[i].text_len);
            s->len = got[i].text_len;
        }
        s->finish_reason = got[i].finish_reason ? xstrdup(got[i].finish_reason) : NULL;
        s->model = got[i].served_model ? xstrdup(got[i].served_model) : NULL;
        s->prompt_tokens = got[i].prompt_tokens;
        s->completion_tokens = got[i].completion_tokens;
        s->latency_ms = got[i].latency_ms;
        s->filled = s->cached = 1;
        c->from_store++;
    }
    free(got);
    free(have);
    return c->k - c->from_store;
}

/* After SIGINT/SIGTERM or a failed commit no sample is bought: stored
 * ones only. */
static int refuse_request(lua_State *L, chat_call *c)
{
    host_t *h = c->call.h;
    call_end(&c->call);
    if (h->interrupted)
        return push_error(L, "interrupted", 0, "interrupted: no new requests after a signal", 0);
    char msg[700];
    snprintf(msg, sizeof msg, "no new requests: the store cannot keep them (%s)", h->store_error);
    return push_error(L, "store", 0, msg, 0);
}

/* --batch-out: the missing samples become batch request lines (batch.c),
 * in the runs of indices a live call would request, and the prompt's
 * request text goes into the store for import-batch to tie the answers
 * to. The call fails with kind "batch": deferred, not an answer. */
static int defer_to_batch(lua_State *L, chat_call *c)
{
    host_t *h = c->call.h;
    if (!h->store) {
        call_end(&c->call);
        return push_error(L, "batch", 0, "--batch-out needs the sample store (not --no-store)", 0);
    }
    lua_getfield(L, 1, "model");
    const char *model = lua_tostring(L, -1);
    int max_n = llm_endpoint_supports_n(h->llm, c->ep) ? MAX_N_PER_REQUEST : 1;
    int wrote = 0, rc = 0;
    buf_t body = BUF_INIT;
    for (int i = 0; i < c->k && rc == 0;) {
        if (c->slots[i].filled || batch_seen_sample(h->batch, c->key, i)) {
            i++;
            continue;
        }
        int j = i;
        while (j < c->k && !c->slots[j].filled && !batch_seen_sample(h->batch, c->key, j) && j - i < max_n)
            j++;
        buf_reset(&body);
        if (buf_append(&body, c->prefix.data, c->prefix.len) < 0 ||
            (c->has_seed && buf_printf(&body, ",\"seed\":%lld", (long long)(c->seed + i)) < 0) ||
            (j - i > 1 && buf_printf(&body, ",\"n\":%d", j - i) < 0) || buf_putc(&body, '}') < 0)
            oom_abort(body.len);
        rc = batch_write(h, model, c->key, i, j - i, body.data, body.len);
        wrote += rc == 0;
        i = j;
    }
    buf_free(&body);
    if (wrote && store_put_request(h->store, c->key, c->canon.data, c->canon.len) == 0)
        host_store_touched(h);
    call_end(&c->call);
    if (rc < 0)
        return push_error(L, "batch", 0, batch_error(h->batch), 0);
    return push_error(L, "batch", 0, "deferred to the batch file (--batch-out)", 0);
}

/* core.chat(req [, endpoint [, why]]) -> resp | nil, message, info.
 * endpoint overrides req.endpoint; false says none is configured, and the
 * call, once req is checked, returns why as a "config" error. */
static int l_chat(lua_State *L)
{
    check_table(L, 1, CHAT_FNAME, "req");
    lua_settop(L, 3);
    task_t *t = task_check(L, CHAT_FNAME);      /* before any side effect */
    host_t *h = host_get();
    chat_call *c = call_new(L, &chat_class, sizeof *c, t);
    chat_build_request(L, c);   /* raises on misuse: the collector frees c */
    c->ep = chat_endpoint(L, h);
    if (c->ep < 0) {
        const char *why = lua_isstring(L, 3) ? lua_tostring(L, 3) : "no endpoint configured";
        call_end(&c->call);
        return push_error(L, "config", 0, why, 0);
    }
    chat_build_identity(L, h, c);
    c->slots = xcalloc((size_t)c->k, sizeof *c->slots);

    int missing = c->k;
    if (h->store && (missing = lookup_stored(L, c)) < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "store lookup failed: %s", store_errmsg(h->store));
        call_end(&c->call);
        return push_error(L, "store", 0, msg, 0);
    }
    if (missing == 0)
        return chat_results(L, c);
    if (h->interrupted || h->store_error[0])
        return refuse_request(L, c);
    if (h->batch)
        return defer_to_batch(L, c);
    if (h->offline) {
        int first = 0;
        while (c->slots[first].filled)
            first++;
        char hex[65];
        sha256_hex(c->key, hex);
        char msg[400];
        if (c->damaged_first)
            snprintf(msg, sizeof msg, "offline: sample %d of prompt %s is damaged in the store "
                     "(checksum mismatch) and cannot be requested again offline", c->damaged_first - 1, hex);
        else
            snprintf(msg, sizeof msg, "offline: %d of %d samples missing from the store (first: sample %d "
                     "of prompt %.16s…)", missing, c->k, first, hex);
        call_end(&c->call);
        return push_error(L, "offline", 0, msg, 0);
    }
    /* contiguous runs of missing indices, each one request when n works */
    int max_n = llm_endpoint_supports_n(h->llm, c->ep) ? MAX_N_PER_REQUEST : 1;
    c->pending = 1;             /* hold: completions during submission cannot finish c */
    for (int i = 0; i < c->k;) {
        if (c->slots[i].filled) {
            i++;
            continue;
        }
        int j = i;
        while (j < c->k && !c->slots[j].filled && j - i < max_n)
            j++;
        submit_part(c, i, j - i);
        i = j;
    }
    if (--c->pending == 0) {    /* everything failed at once */
        store_new_samples(c);
        return chat_results(L, c);
    }
    return call_park(L, &c->call, chat_k);
}

void chat_register(lua_State *L)
{
    call_register(L, &chat_class);
    lua_pushcfunction(L, l_chat);
    lua_setfield(L, -2, "chat");
}
