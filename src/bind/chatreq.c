/* chatreq: mux.chat's request, checked and written as canonical JSON, and
 * the reply's extra JSON read back into Lua (see chatreq.h). */
#include "bind/chatreq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bind/bind.h"
#include "net/json.h"

#define CHAT_FNAME "mux.chat"
#define MAX_SAMPLES 1024
#define MAX_DEPTH 32

typedef enum { F_NUMBER, F_INTEGER, F_BOOLEAN, F_STOP, F_ANY } field_kind;

typedef struct chat_field {
    const char *name;
    field_kind kind;
    int identity;           /* can change the reply's text: part of the sample's identity */
} chat_field;

/* The OpenAI chat-completions fields besides model, messages, n and seed.
 * The first four in the order earlier versions wrote them, so that the
 * stores they keyed stay valid; the rest sorted. The transport fields name
 * who asks, who pays and how the provider keeps the reply: the same
 * request with another user id is the same sample. stream is refused:
 * replies are read whole. */
static const chat_field chat_fields[] = {
    {"temperature", F_NUMBER, 1}, {"top_p", F_NUMBER, 1}, {"max_tokens", F_INTEGER, 1},
    {"stop", F_STOP, 1},
    {"audio", F_ANY, 1}, {"frequency_penalty", F_NUMBER, 1}, {"function_call", F_ANY, 1},
    {"functions", F_ANY, 1}, {"logit_bias", F_ANY, 1}, {"logprobs", F_BOOLEAN, 1},
    {"max_completion_tokens", F_INTEGER, 1}, {"modalities", F_ANY, 1},
    {"parallel_tool_calls", F_BOOLEAN, 1}, {"prediction", F_ANY, 1},
    {"presence_penalty", F_NUMBER, 1}, {"reasoning_effort", F_ANY, 1},
    {"response_format", F_ANY, 1}, {"tool_choice", F_ANY, 1}, {"tools", F_ANY, 1},
    {"top_logprobs", F_INTEGER, 1}, {"verbosity", F_ANY, 1}, {"web_search_options", F_ANY, 1},
    {"metadata", F_ANY, 0}, {"prompt_cache_key", F_ANY, 0}, {"safety_identifier", F_ANY, 0},
    {"service_tier", F_ANY, 0}, {"store", F_BOOLEAN, 0}, {"user", F_ANY, 0},
};
#define NFIELDS (sizeof chat_fields / sizeof *chat_fields)

/* req's own fields (never sent: endpoint, place, extra) and the fields above */
static const char *const chat_req_fields[] = {"model", "messages", "n", "seed", "endpoint", "place",
    "extra", "stream", "stream_options", "temperature", "top_p", "max_tokens", "stop", "audio",
    "frequency_penalty", "function_call", "functions", "logit_bias", "logprobs",
    "max_completion_tokens", "modalities", "parallel_tool_calls", "prediction", "presence_penalty",
    "reasoning_effort", "response_format", "tool_choice", "tools", "top_logprobs", "verbosity",
    "web_search_options", "metadata", "prompt_cache_key", "safety_identifier", "service_tier",
    "store", "user", NULL};

/* ---- writing ----------------------------------------------------------- */

/* Every write is checked: a short write would change the sample's
 * identity. The buffers belong to the call's userdata, so the raise frees
 * them. */
static void chatreq_ok(lua_State *L, int rc)
{
    if (rc < 0)
        check_error(L, CHAT_FNAME, "not enough memory");
}

static void chatreq_key(lua_State *L, buf_t *b, const char *k, size_t n)
{
    chatreq_ok(L, buf_putc(b, ','));
    chatreq_ok(L, json_write_string(b, k, n));
    chatreq_ok(L, buf_putc(b, ':'));
}

static void chatreq_string(lua_State *L, buf_t *b, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    chatreq_ok(L, json_write_string(b, s, n));
}

static void chatreq_number(lua_State *L, buf_t *b, int idx, const char *what)
{
    if (lua_isinteger(L, idx)) {
        lua_Integer v = lua_tointeger(L, idx);
        chatreq_ok(L, v > -(1LL << 53) && v < (1LL << 53) ? json_write_number(b, (double)v)
                                                           : buf_printf(b, "%lld", (long long)v));
        return;
    }
    lua_Number v = lua_tonumber(L, idx);
    if (isnan(v) || isinf(v))
        check_error(L, CHAT_FNAME, "%s must be a finite number", what);
    chatreq_ok(L, json_write_number(b, v));
}

typedef struct key_ref {
    const char *s;
    size_t n;
} key_ref;

static int chatreq_key_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* The string keys of the table at idx, sorted, in a userdata pushed on the
 * stack (the strings stay alive as the table's keys); n their count, 0 and
 * nothing pushed when the table is a non-empty sequence 1..#t. Raises for a
 * key that is neither. */
static key_ref *chatreq_sorted_keys(lua_State *L, int idx, const char *what, size_t *n)
{
    size_t total = 0;
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    int array = 1;
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        total++;
        if (!lua_isinteger(L, -2) || lua_tointeger(L, -2) < 1 || lua_tointeger(L, -2) > len)
            array = 0;
    }
    *n = 0;
    if (array && total > 0)
        return NULL;
    key_ref *keys = lua_newuserdatauv(L, (total ? total : 1) * sizeof *keys, 0);
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            check_error(L, CHAT_FNAME, "%s must be an array or have string keys (a key is %s)", what,
                        luaL_typename(L, -2));
        keys[*n].s = lua_tolstring(L, -2, &keys[*n].n);
        (*n)++;
    }
    qsort(keys, *n, sizeof *keys, chatreq_key_cmp);
    return keys;
}

static void chatreq_value(lua_State *L, buf_t *b, int idx, const char *what, int depth);

static void chatreq_table(lua_State *L, buf_t *b, int idx, const char *what, int depth)
{
    if (depth > MAX_DEPTH)
        check_error(L, CHAT_FNAME, "%s is nested more than %d deep (or holds itself)", what, MAX_DEPTH);
    luaL_checkstack(L, 8, "mux.chat: a request nested too deep");
    size_t n;
    key_ref *keys = chatreq_sorted_keys(L, idx, what, &n);
    if (!keys) {
        chatreq_ok(L, buf_putc(b, '['));
        lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= len; i++) {
            if (i > 1)
                chatreq_ok(L, buf_putc(b, ','));
            lua_rawgeti(L, idx, i);
            chatreq_value(L, b, lua_gettop(L), what, depth + 1);
            lua_pop(L, 1);
        }
        chatreq_ok(L, buf_putc(b, ']'));
        return;
    }
    chatreq_ok(L, buf_putc(b, '{'));
    for (size_t i = 0; i < n; i++) {
        if (i)
            chatreq_ok(L, buf_putc(b, ','));
        chatreq_ok(L, json_write_string(b, keys[i].s, keys[i].n));
        chatreq_ok(L, buf_putc(b, ':'));
        lua_pushlstring(L, keys[i].s, keys[i].n);
        lua_rawget(L, idx);
        chatreq_value(L, b, lua_gettop(L), what, depth + 1);
        lua_pop(L, 1);
    }
    chatreq_ok(L, buf_putc(b, '}'));
    lua_pop(L, 1);      /* the keys */
}

/* Any Lua value a JSON request can hold, at idx (absolute). */
static void chatreq_value(lua_State *L, buf_t *b, int idx, const char *what, int depth)
{
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN: chatreq_ok(L, buf_puts(b, lua_toboolean(L, idx) ? "true" : "false")); break;
    case LUA_TNUMBER: chatreq_number(L, b, idx, what); break;
    case LUA_TSTRING: chatreq_string(L, b, idx); break;
    case LUA_TTABLE: chatreq_table(L, b, idx, what, depth); break;
    default:
        check_error(L, CHAT_FNAME, "%s holds %s, which JSON cannot send", what, luaL_typename(L, idx));
    }
}

/* ---- the fields -------------------------------------------------------- */

static void chatreq_message_field(lua_State *L, buf_t *b, int m, lua_Integer i, const char *field,
                                  int optional)
{
    int type = lua_getfield(L, m, field);
    if (type == LUA_TNIL && optional) {
        lua_pop(L, 1);
        return;
    }
    int parts = type == LUA_TTABLE && strcmp(field, "content") == 0;
    if (type != LUA_TSTRING && !parts)
        check_error(L, CHAT_FNAME, "req.messages[%I].%s must be a string%s (got %s)", i, field,
                    strcmp(field, "content") == 0 ? " or an array of content parts" : "",
                    luaL_typename(L, -1));
    if (strcmp(field, "role") != 0)
        chatreq_ok(L, buf_putc(b, ','));
    chatreq_ok(L, json_write_string(b, field, strlen(field)));
    chatreq_ok(L, buf_putc(b, ':'));
    if (parts)
        chatreq_value(L, b, lua_gettop(L), "req.messages[i].content", 1);
    else
        chatreq_string(L, b, -1);
    lua_pop(L, 1);
}

static void chatreq_messages(lua_State *L, int idx, buf_t *b)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        check_type_error(L, idx, CHAT_FNAME, "req.messages", "an array of {role=, content=}");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n < 1)
        check_error(L, CHAT_FNAME, "req.messages must not be empty");
    chatreq_ok(L, buf_putc(b, '['));
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, i) != LUA_TTABLE)
            check_error(L, CHAT_FNAME, "req.messages[%I] must be a table {role=, content=} (got %s)", i,
                        luaL_typename(L, -1));
        int m = lua_gettop(L);
        if (i > 1)
            chatreq_ok(L, buf_putc(b, ','));
        chatreq_ok(L, buf_putc(b, '{'));
        chatreq_message_field(L, b, m, i, "role", 0);
        chatreq_message_field(L, b, m, i, "content", 0);
        chatreq_message_field(L, b, m, i, "name", 1);
        chatreq_ok(L, buf_putc(b, '}'));
        lua_settop(L, m - 1);
    }
    chatreq_ok(L, buf_putc(b, ']'));
}

static void chatreq_stop(lua_State *L, buf_t *b, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING) {
        chatreq_string(L, b, idx);
        return;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
        check_type_error(L, idx, CHAT_FNAME, "req.stop", "a string or an array of strings");
    chatreq_ok(L, buf_putc(b, '['));
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, i) != LUA_TSTRING)
            check_error(L, CHAT_FNAME, "req.stop[%I] must be a string (got %s)", i, luaL_typename(L, -1));
        if (i > 1)
            chatreq_ok(L, buf_putc(b, ','));
        chatreq_string(L, b, -1);
        lua_pop(L, 1);
    }
    chatreq_ok(L, buf_putc(b, ']'));
}

/* The field f's value at idx (not nil) into b, checked by its kind. */
static void chatreq_field(lua_State *L, buf_t *b, const chat_field *f, int idx, const char *what)
{
    int type = lua_type(L, idx);
    switch (f->kind) {
    case F_NUMBER:
    case F_INTEGER:
        if (type != LUA_TNUMBER || (f->kind == F_INTEGER && !lua_isinteger(L, idx)))
            check_error(L, CHAT_FNAME, "%s must be %s (got %s)", what,
                        f->kind == F_INTEGER ? "an integer" : "a number",
                        type == LUA_TNUMBER ? "a float" : luaL_typename(L, idx));
        /* as earlier versions wrote it, for the identity */
        chatreq_ok(L, json_write_number(b, lua_tonumber(L, idx)));
        break;
    case F_BOOLEAN:
        if (type != LUA_TBOOLEAN)
            check_type_error(L, idx, CHAT_FNAME, what, "a boolean");
        chatreq_ok(L, buf_puts(b, lua_toboolean(L, idx) ? "true" : "false"));
        break;
    case F_STOP:
        chatreq_stop(L, b, idx);
        break;
    case F_ANY:
        chatreq_value(L, b, idx, what, 1);
        break;
    }
}

/* req.extra: provider-specific fields merged into the body (vLLM's top_k,
 * ...), sorted after the OpenAI ones; all part of the identity, since a
 * field the project does not know may change the reply. */
static void chatreq_extra(lua_State *L, int req, chat_req *r)
{
    if (lua_getfield(L, req, "extra") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int extra = lua_gettop(L);
    if (lua_type(L, extra) != LUA_TTABLE)
        check_type_error(L, extra, CHAT_FNAME, "req.extra", "a table of fields to merge into the request");
    size_t n;
    key_ref *keys = chatreq_sorted_keys(L, extra, "req.extra", &n);
    if (!keys)
        check_error(L, CHAT_FNAME, "req.extra must be a table of named fields, not an array");
    for (size_t i = 0; i < n; i++) {
        lua_pushlstring(L, keys[i].s, keys[i].n);
        for (int j = 0; chat_req_fields[j]; j++)
            if (strcmp(chat_req_fields[j], lua_tostring(L, -1)) == 0)
                check_error(L, CHAT_FNAME, "req.extra.%s: set it as req.%s", lua_tostring(L, -1),
                            lua_tostring(L, -1));
        lua_rawget(L, extra);
        chatreq_key(L, &r->prefix, keys[i].s, keys[i].n);
        chatreq_value(L, &r->prefix, lua_gettop(L), "req.extra", 1);
        lua_pop(L, 1);
    }
    lua_settop(L, extra - 1);
}

void chatreq_build(lua_State *L, int req, chat_req *r)
{
    req = lua_absindex(L, req);
    check_fields(L, req, CHAT_FNAME, "req", chat_req_fields);
    lua_getfield(L, req, "stream");
    lua_getfield(L, req, "stream_options");
    if (!lua_isnil(L, -1) || !lua_isnil(L, -2))
        check_error(L, CHAT_FNAME, "req.stream is not supported: replies are read whole");
    lua_pop(L, 2);
    buf_t *b = &r->prefix;
    chatreq_ok(L, buf_puts(b, "{\"model\":"));
    if (lua_getfield(L, req, "model") != LUA_TSTRING)
        check_type_error(L, -1, CHAT_FNAME, "req.model", "a string");
    chatreq_string(L, b, -1);
    lua_pop(L, 1);
    chatreq_ok(L, buf_puts(b, ",\"messages\":"));
    lua_getfield(L, req, "messages");
    chatreq_messages(L, lua_gettop(L), b);
    lua_pop(L, 1);
    lua_Integer max_tokens = 0;
    for (size_t i = 0; i < NFIELDS; i++) {
        const chat_field *f = &chat_fields[i];
        if (lua_getfield(L, req, f->name) != LUA_TNIL) {
            const char *what = lua_pushfstring(L, "req.%s", f->name);
            buf_t *to = f->identity ? &r->prefix : &r->transport;
            chatreq_key(L, to, f->name, strlen(f->name));
            chatreq_field(L, to, f, lua_gettop(L) - 1, what);
            if (f->kind == F_INTEGER && strstr(f->name, "max_") == f->name)
                max_tokens = lua_tointeger(L, -2);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    chatreq_extra(L, req, r);
    if (lua_getfield(L, req, "seed") != LUA_TNIL) {
        if (!lua_isinteger(L, -1))
            check_type_error(L, -1, CHAT_FNAME, "req.seed", "an integer");
        r->has_seed = 1;
        r->seed = lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    r->k = 1;
    if (lua_getfield(L, req, "n") != LUA_TNIL)
        r->k = (int)check_integer(L, -1, CHAT_FNAME, "req.n", 1, MAX_SAMPLES);
    lua_pop(L, 1);
    if (lua_getfield(L, req, "place") != LUA_TNIL) {
        size_t n;
        const char *place = check_string(L, -1, CHAT_FNAME, "req.place", &n);
        if (n == 0)
            check_error(L, CHAT_FNAME, "req.place must not be empty (leave it out for no place)");
        chatreq_ok(L, buf_append(&r->place, place, n));
    }
    lua_pop(L, 1);
    r->est_tokens_per_sample = (double)r->prefix.len / 4.0 + (max_tokens > 0 ? (double)max_tokens : 512.0);
}

void chatreq_free(chat_req *r)
{
    buf_free(&r->prefix);
    buf_free(&r->transport);
    buf_free(&r->place);
}

/* ---- reading the reply's extra ----------------------------------------- */

static void chatreq_push_value(lua_State *L, const json_value *v)
{
    luaL_checkstack(L, 4, "mux.chat: a reply nested too deep");
    switch (v->type) {
    case JSON_NULL:
    case JSON_BOOL: lua_pushboolean(L, v->type == JSON_BOOL && v->boolean); break;
    case JSON_STRING: lua_pushlstring(L, v->str, v->len); break;
    case JSON_NUMBER:
        if (v->number == floor(v->number) && fabs(v->number) <= 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)v->number);
        else
            lua_pushnumber(L, v->number);
        break;
    case JSON_ARRAY: {
        lua_createtable(L, (int)v->len, 0);
        lua_Integer i = 1;
        for (const json_value *c = v->child; c; c = c->next) {
            chatreq_push_value(L, c);
            lua_rawseti(L, -2, i++);
        }
        break;
    }
    case JSON_OBJECT:
        lua_createtable(L, 0, (int)v->len);
        for (const json_value *c = v->child; c; c = c->next) {
            if (c->type == JSON_NULL)
                continue;
            lua_pushlstring(L, c->key, c->key_len);
            chatreq_push_value(L, c);
            lua_rawset(L, -3);
        }
        break;
    }
}

/* The parsed document lives in a userdata whose __gc frees it, so that
 * running out of Lua memory while the tables are built leaks nothing. */
static int chatreq_doc_gc(lua_State *L)
{
    json_doc **doc = lua_touserdata(L, 1);
    json_free(*doc);
    *doc = NULL;
    return 0;
}

void chatreq_push_json(lua_State *L, const char *json, size_t len)
{
    json_doc **doc = lua_newuserdatauv(L, sizeof *doc, 0);
    *doc = NULL;
    if (luaL_newmetatable(L, "slmmux.json_doc")) {
        lua_pushcfunction(L, chatreq_doc_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    *doc = json_parse(json, len, NULL, 0);
    if (!*doc) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return;
    }
    chatreq_push_value(L, json_root(*doc));
    json_free(*doc);
    *doc = NULL;
    lua_remove(L, -2);
}
