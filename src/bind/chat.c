/* chat: mux.chat — one prompt, k samples, through the store.
 *
 * A sample's identity is (endpoint base URL, the canonical request without
 * n and without the transport fields (chatreq.h), the call's place, sample
 * index): its SHA-256 keys the store. The place (req.place, e.g.
 * "agent=2;round=1") says where in a policy the call is; it is never sent,
 * and a call without one is keyed exactly as before places existed, so
 * older stores stay valid. Two agents asking one model the same thing from
 * two places are two samples.
 *
 * Stored samples are reused; only missing indices are requested, in
 * contiguous runs with n when the endpoint supports it. With a seed s,
 * sample i is requested with seed s+i (s + o + i at a place, o a number
 * below 2^30 from the place's hash, so that two places of one prompt get
 * different seeds), so a resumed or extended run asks for exactly what an
 * uninterrupted run would have asked for.
 *
 * What a sample holds beyond its text (logprobs, reasoning_content,
 * system_fingerprint, usage details: openai.h) is stored beside it, as the
 * sample of the same index of a companion prompt whose request text is
 * "extras <hex key>": the store's schema and its export format stay as
 * they are, and export and import carry the extras along unchanged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/oom.h"

#include "base/buf.h"
#include "bind/bind.h"
#include "bind/chatreq.h"
#include "store/sha256.h"
#include "store/store.h"

#define MAX_N_PER_REQUEST 128
#define CHAT_FNAME "mux.chat"

typedef struct slot {
    char *text;                 /* NULL: null content */
    size_t len;
    char *finish_reason;
    char *model;
    char *extra;                /* JSON object (openai.h), or NULL */
    size_t extra_len;
    long prompt_tokens, completion_tokens;
    double latency_ms;
    int filled, cached;
} slot;

typedef struct chat_part chat_part;

typedef struct chat_call {
    call_t call;                /* first: a chat call is a call (bind.h) */
    chat_req req;               /* what the recipe asked (chatreq.h) */
    int ep, k, pending;
    int from_store;
    int damaged_first;          /* 1 + the first damaged sample's index, or 0 */
    uint8_t key[32];
    uint8_t extras_key[32];
    char extras_request[80];    /* "extras <64 hex>" */
    buf_t canon;                /* base URL \n canonical request [\n place] (the stored text) */
    lua_Integer seed_base;      /* seed of sample 0 as sent */
    char *model;                /* the rate-limit lane of its requests */
    slot *slots;
    chat_part *parts;           /* live requests */
    const char *err_kind;
    char *err_msg;
    long err_status;
    int attempts, requests;     /* most attempts of one request; requests sent, retries too */
    double latency_ms;
} chat_call;

struct chat_part {
    chat_call *c;
    int first, count;
    llm_req *req;
    chat_part *next;
};

static void chat_ok(lua_State *L, int rc)
{
    if (rc < 0)
        check_error(L, CHAT_FNAME, "not enough memory");
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

static void chat_hex(const uint8_t *d, int n, char *out)
{
    for (int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The identity: base URL, then the request as sent minus n and transport,
 * seed as given, then the place on a line of its own when there is one. */
static void chat_build_identity(lua_State *L, host_t *h, chat_call *c)
{
    chat_req *r = &c->req;
    chat_ok(L, buf_printf(&c->canon, "%s\n", llm_endpoint_base_url(h->llm, c->ep)));
    chat_ok(L, buf_append(&c->canon, r->prefix.data, r->prefix.len));
    if (r->has_seed)
        chat_ok(L, buf_printf(&c->canon, ",\"seed\":%lld", (long long)r->seed));
    chat_ok(L, buf_putc(&c->canon, '}'));
    c->seed_base = r->seed;
    if (r->place.len) {
        chat_ok(L, buf_puts(&c->canon, "\nplace "));
        chat_ok(L, buf_append(&c->canon, r->place.data, r->place.len));
        uint8_t d[32];
        sha256(r->place.data, r->place.len, d);
        c->seed_base += (lua_Integer)(((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 |
                                       d[3]) & 0x3fffffff);
    }
    sha256(c->canon.data, c->canon.len, c->key);
    memcpy(c->extras_request, "extras ", 7);
    chat_hex(c->key, 32, c->extras_request + 7);
    sha256(c->extras_request, strlen(c->extras_request), c->extras_key);
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
        free(c->slots[i].extra);
    }
    free(c->slots);
    free(c->model);
    free(c->err_msg);
    buf_free(&c->canon);
    chatreq_free(&c->req);
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

static int store_failed(chat_call *c)
{
    if (!c->err_msg) {
        c->err_kind = "store";
        char m[600];
        snprintf(m, sizeof m, "could not store a sample: %s", store_errmsg(c->call.h->store));
        c->err_msg = xstrdup(m);
    }
    return -1;
}

/* The extras first: a crash between the two puts of one batch loses both
 * (they commit together), and a sample is never found without its extras. */
static int store_one(chat_call *c, int i, const slot *s)
{
    store_t *st = c->call.h->store;
    if (s->extra) {
        store_sample ex = {.text = s->extra, .text_len = s->extra_len, .has_text = 1,
            .prompt_tokens = -1, .completion_tokens = -1, .latency_ms = -1};
        if (store_put(st, c->extras_key, c->extras_request, strlen(c->extras_request), i, &ex) < 0)
            return store_failed(c);
    }
    store_sample sm = {
        .text = s->text, .text_len = s->len, .has_text = s->text != NULL,
        .finish_reason = s->finish_reason, .prompt_tokens = s->prompt_tokens,
        .completion_tokens = s->completion_tokens, .latency_ms = s->latency_ms,
        .served_model = s->model, .created = 0,
    };
    if (store_put(st, c->key, c->canon.data, c->canon.len, i, &sm) < 0)
        return store_failed(c);
    return 0;
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
        if (store_one(c, i, s) < 0)
            return;
        wrote = 1;
    }
    if (wrote)
        host_store_touched(h);
}

static void take_choice(slot *s, llm_choice *ch, const llm_result *r, int i, int m)
{
    s->text = ch->text;
    s->len = ch->len;
    s->finish_reason = ch->finish_reason;
    s->extra = ch->extra;
    s->extra_len = ch->extra_len;
    ch->text = ch->finish_reason = ch->extra = NULL;
    s->model = r->model ? xstrdup(r->model) : NULL;
    /* the prompt is billed once per request: share it among its samples */
    s->prompt_tokens = r->prompt_tokens / m + (i < r->prompt_tokens % m);
    s->completion_tokens = r->completion_tokens / m + (i < r->completion_tokens % m);
    s->latency_ms = r->latency_ms;
    s->filled = 1;
}

static void on_part_done(llm_result *r, void *ud)
{
    chat_part *p = ud;
    chat_call *c = p->c;
    p->req = NULL;
    if (r->attempts > c->attempts)
        c->attempts = r->attempts;
    c->requests += r->attempts;
    if (r->latency_ms > c->latency_ms)
        c->latency_ms = r->latency_ms;
    if (!r->ok && r->n_unsupported) {
        /* the server refused n > 1 (llama.cpp, vLLM): ask one at a time */
        for (int i = p->first; i < p->first + p->count; i++)
            submit_part(c, i, 1);
    } else if (!r->ok) {
        record_error(c, r);
    } else {
        int m = r->nchoices < p->count ? r->nchoices : p->count;
        for (int i = 0; i < m; i++)
            take_choice(&c->slots[p->first + i], &r->choices[i], r, i, m);
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
    chat_req *q = &c->req;
    buf_t body = BUF_INIT;
    if (buf_append(&body, q->prefix.data, q->prefix.len) < 0 ||
        (q->transport.len && buf_append(&body, q->transport.data, q->transport.len) < 0) ||
        (q->has_seed && buf_printf(&body, ",\"seed\":%lld", (long long)(c->seed_base + first)) < 0) ||
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
    llm_req *req = llm_submit(c->call.h->llm, c->ep, c->model, body.data, body.len, count,
                              q->est_tokens_per_sample * count, on_part_done, p);
    buf_free(&body);
    for (chat_part *q2 = c->parts; q2; q2 = q2->next)
        if (q2 == p) {
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

static void set_integer(lua_State *L, const char *name, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, name);
}

/* usage (table at -1) += the counts of one sample's details (table at -2's
 * "usage" field, if any): {completion_tokens_details = {...}, ...} */
static void add_usage_details(lua_State *L, int extra, int usage)
{
    if (lua_getfield(L, extra, "usage") != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    int details = lua_gettop(L);
    for (lua_pushnil(L); lua_next(L, details); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TTABLE)
            continue;
        lua_pushvalue(L, -2);
        if (lua_rawget(L, usage) != LUA_TTABLE) {
            lua_pop(L, 1);
            lua_newtable(L);
            lua_pushvalue(L, -3);
            lua_pushvalue(L, -2);
            lua_rawset(L, usage);
        }
        int sum = lua_gettop(L), counts = sum - 1;
        for (lua_pushnil(L); lua_next(L, counts); lua_pop(L, 1)) {
            if (lua_type(L, -1) != LUA_TNUMBER)
                continue;
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            if (lua_rawget(L, sum) == LUA_TNIL) {
                lua_pop(L, 1);
                lua_pushinteger(L, 0);
            }
            lua_arith(L, LUA_OPADD);
            lua_rawset(L, sum);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* The extra of slot s into the choice table at -1 (logprobs as the
 * "content" list OpenAI and vLLM send, reasoning_content, refusal) and
 * into resp (system_fingerprint) and usage. */
static void push_extra(lua_State *L, const slot *s, int resp, int usage)
{
    chatreq_push_json(L, s->extra, s->extra_len);
    int extra = lua_gettop(L);
    if (lua_type(L, extra) == LUA_TTABLE) {
        if (lua_getfield(L, extra, "logprobs") == LUA_TTABLE) {
            if (lua_getfield(L, -1, "content") == LUA_TTABLE)
                lua_replace(L, -2);
            else
                lua_pop(L, 1);
            lua_setfield(L, extra - 1, "logprobs");
        } else {
            lua_pop(L, 1);
        }
        static const char *const copied[] = {"reasoning_content", "refusal"};
        for (int i = 0; i < 2; i++) {
            lua_getfield(L, extra, copied[i]);
            lua_setfield(L, extra - 1, copied[i]);
        }
        if (lua_getfield(L, extra, "system_fingerprint") == LUA_TSTRING &&
            lua_getfield(L, resp, "system_fingerprint") == LUA_TNIL) {
            lua_pop(L, 1);
            lua_setfield(L, resp, "system_fingerprint");
        } else {
            lua_settop(L, extra);
        }
        add_usage_details(L, extra, usage);
    }
    lua_settop(L, extra - 1);
}

static int push_response(lua_State *L, chat_call *c)
{
    lua_createtable(L, 0, 10);
    int resp = lua_gettop(L);
    lua_createtable(L, 0, 2);
    int usage = lua_gettop(L);
    lua_createtable(L, c->k, 0);
    long pt = 0, ct = 0;
    const char *model = NULL;
    for (int i = 0; i < c->k; i++) {
        slot *s = &c->slots[i];
        lua_createtable(L, 0, 6);
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
        set_integer(L, "prompt_tokens", s->prompt_tokens > 0 ? s->prompt_tokens : 0);
        set_integer(L, "completion_tokens", s->completion_tokens > 0 ? s->completion_tokens : 0);
        if (c->req.has_seed)
            set_integer(L, "seed", c->seed_base + i);
        if (s->extra)
            push_extra(L, s, resp, usage);
        lua_rawseti(L, -2, i + 1);
        pt += s->prompt_tokens > 0 ? s->prompt_tokens : 0;
        ct += s->completion_tokens > 0 ? s->completion_tokens : 0;
        if (!model && s->model)
            model = s->model;
    }
    lua_setfield(L, resp, "choices");
    set_integer(L, "prompt_tokens", pt);
    set_integer(L, "completion_tokens", ct);
    lua_setfield(L, resp, "usage");
    if (model) {
        lua_pushstring(L, model);
        lua_setfield(L, -2, "model");
    }
    lua_pushnumber(L, c->latency_ms);
    lua_setfield(L, -2, "latency_ms");
    set_integer(L, "attempts", c->attempts);
    set_integer(L, "requests", c->requests);
    set_integer(L, "cached", c->from_store);
    char hex[65];
    chat_hex(c->key, 32, hex);
    lua_pushstring(L, hex);
    lua_setfield(L, -2, "key");
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

/* The stored extras of the samples found (their strings point into the
 * store until its next lookup: copied at once). */
static int lookup_extras(chat_call *c)
{
    store_sample *got = xcalloc((size_t)c->k, sizeof *got);
    unsigned char *have = xcalloc((size_t)c->k, 1);
    int found = store_lookup(c->call.h->store, c->extras_key, c->k, got, have);
    for (int i = 0; found > 0 && i < c->k; i++) {
        slot *s = &c->slots[i];
        if (have[i] && s->cached && got[i].has_text) {
            s->extra = xmemdup(got[i].text, got[i].text_len);
            s->extra_len = got[i].text_len;
        }
    }
    free(got);
    free(have);
    return found < 0 ? -1 : 0;
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

/* Fill slots from the store; returns how many samples are missing, or -1. */
static int lookup_stored(chat_call *c)
{
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
    if (c->from_store && lookup_extras(c) < 0)
        return -1;
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
    const char *model = c->model;
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
        if (buf_append(&body, c->req.prefix.data, c->req.prefix.len) < 0 ||
            (c->req.transport.len && buf_append(&body, c->req.transport.data, c->req.transport.len) < 0) ||
            (c->req.has_seed && buf_printf(&body, ",\"seed\":%lld", (long long)(c->seed_base + i)) < 0) ||
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
    chatreq_build(L, 1, &c->req);   /* raises on misuse: the collector frees c */
    c->k = c->req.k;
    lua_getfield(L, 1, "model");    /* a string: chatreq_build checked it */
    c->model = xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    c->ep = chat_endpoint(L, h);
    if (c->ep < 0) {
        const char *why = lua_isstring(L, 3) ? lua_tostring(L, 3) : "no endpoint configured";
        call_end(&c->call);
        return push_error(L, "config", 0, why, 0);
    }
    chat_build_identity(L, h, c);
    c->slots = xcalloc((size_t)c->k, sizeof *c->slots);

    int missing = c->k;
    if (h->store && (missing = lookup_stored(c)) < 0) {
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
