/* endpoint: the HTTP side as recipes configure it — endpoints, the global
 * request limit, debug tracing, offline mode — and its counters. */
#include <limits.h>
#include <stdio.h>

#include "bind/bind.h"

#define ENDPOINT_FNAME "mux.endpoint"

/* fields.<name> of the table at idx, pushed; returns its stack index */
static int endpoint_field(lua_State *L, int idx, const char *name, char *what, size_t whatlen)
{
    snprintf(what, whatlen, "fields.%s", name);
    lua_getfield(L, idx, name);
    return lua_gettop(L);
}

static int endpoint_opt_int(lua_State *L, int idx, const char *name, lua_Integer dflt)
{
    char what[64];
    int v = endpoint_field(L, idx, name, what, sizeof what);
    lua_Integer n = lua_isnil(L, v) ? dflt : check_integer(L, v, ENDPOINT_FNAME, what, 0, INT_MAX);
    lua_pop(L, 1);
    return (int)n;
}

static double endpoint_opt_num(lua_State *L, int idx, const char *name, double dflt)
{
    char what[64];
    int v = endpoint_field(L, idx, name, what, sizeof what);
    double x = lua_isnil(L, v) ? dflt : check_number(L, v, ENDPOINT_FNAME, what);
    lua_pop(L, 1);
    return x;
}

/* Leaves the string on the stack: it must live until llm has copied it. */
static const char *endpoint_opt_str(lua_State *L, int idx, const char *name)
{
    char what[64];
    int v = endpoint_field(L, idx, name, what, sizeof what);
    return lua_isnil(L, v) ? NULL : check_string(L, v, ENDPOINT_FNAME, what, NULL);
}

/* core.endpoint(name, {base_url=, key_env=, max_concurrency=, rps=, tpm=,
 * supports_n=, connect_timeout=, timeout=, stall_timeout=, retry_budget=,
 * max_retries=, ca_file=}) -> id; lua/slmmux/config.lua documents them. */
static int endpoint_l_endpoint(lua_State *L)
{
    static const char *const known[] = {"name", "base_url", "key_env", "max_concurrency", "rps",
        "tpm", "supports_n", "connect_timeout", "timeout", "stall_timeout", "retry_budget",
        "max_retries", "ca_file", NULL};
    host_t *h = host_get();
    llm_endpoint_cfg c = {0};
    c.name = check_string(L, 1, ENDPOINT_FNAME, "name", NULL);
    check_table(L, 2, ENDPOINT_FNAME, "fields");
    lua_settop(L, 2);
    check_fields(L, 2, ENDPOINT_FNAME, "fields", known);
    c.base_url = endpoint_opt_str(L, 2, "base_url");
    c.key_env = endpoint_opt_str(L, 2, "key_env");
    c.max_concurrency = endpoint_opt_int(L, 2, "max_concurrency", 0);
    c.rps = endpoint_opt_num(L, 2, "rps", 0);
    c.tpm = endpoint_opt_num(L, 2, "tpm", 0);
    lua_getfield(L, 2, "supports_n");
    c.supports_n = lua_isnil(L, -1) ? 1 : lua_toboolean(L, -1);
    lua_pop(L, 1);
    c.connect_timeout_ms = (long)(endpoint_opt_num(L, 2, "connect_timeout", 10) * 1000);
    c.total_timeout_ms = (long)(endpoint_opt_num(L, 2, "timeout", 600) * 1000);
    c.stall_timeout_s = (long)endpoint_opt_num(L, 2, "stall_timeout", 120);
    c.retry_budget_ms = endpoint_opt_num(L, 2, "retry_budget", LLM_RETRY_BUDGET_MS / 1000) * 1000;
    c.max_retries = endpoint_opt_int(L, 2, "max_retries", -1);
    c.ca_file = endpoint_opt_str(L, 2, "ca_file");
    char err[256];
    int id = llm_endpoint_add(h->llm, &c, err, sizeof err);
    if (id < 0)
        return check_error(L, ENDPOINT_FNAME, "%s", err);
    lua_pushinteger(L, id);
    return 1;
}

/* core.endpoint_info(name) -> {base_url=, limit=, start=, adaptive=, local=}
 * or nil: what a run prints at its start. base_url is the identity (no
 * credentials). */
static int endpoint_l_info(lua_State *L)
{
    host_t *h = host_get();
    int id = llm_endpoint_find(h->llm, check_string(L, 1, "mux.endpoint_info", "name", NULL));
    if (id < 0) {
        lua_pushnil(L);
        return 1;
    }
    llm_limits lim;
    llm_endpoint_limits(h->llm, id, &lim);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, llm_endpoint_base_url(h->llm, id));
    lua_setfield(L, -2, "base_url");
    lua_pushinteger(L, lim.limit);
    lua_setfield(L, -2, "limit");
    lua_pushinteger(L, lim.start);
    lua_setfield(L, -2, "start");
    lua_pushboolean(L, lim.adaptive);
    lua_setfield(L, -2, "adaptive");
    lua_pushboolean(L, lim.local);
    lua_setfield(L, -2, "local");
    return 1;
}

static int endpoint_l_set_limit(lua_State *L)
{
    lua_Integer n = check_integer(L, 1, "mux.set_concurrency", "n", 1, INT_MAX);
    llm_set_global_limit(host_get()->llm, (int)n);
    return 0;
}

static int endpoint_l_set_debug(lua_State *L)
{
    llm_set_debug(host_get()->llm, lua_toboolean(L, 1));
    return 0;
}

static int endpoint_l_set_offline(lua_State *L)
{
    host_get()->offline = lua_toboolean(L, 1);
    return 0;
}

static int endpoint_l_stats(lua_State *L)
{
    host_t *h = host_get();
    llm_stats st;
    llm_get_stats(h->llm, &st);
    lua_createtable(L, 0, 11);
    lua_pushinteger(L, st.requests);          lua_setfield(L, -2, "requests");
    lua_pushinteger(L, st.retries);           lua_setfield(L, -2, "retries");
    lua_pushinteger(L, st.errors);            lua_setfield(L, -2, "errors");
    lua_pushinteger(L, st.in_flight);         lua_setfield(L, -2, "in_flight");
    lua_pushinteger(L, st.queued);            lua_setfield(L, -2, "queued");
    lua_pushinteger(L, st.rate_limited);      lua_setfield(L, -2, "rate_limited");
    lua_pushinteger(L, st.rate_limit_waiting); lua_setfield(L, -2, "rate_limit_waiting");
    lua_pushinteger(L, st.backoff);           lua_setfield(L, -2, "backoff");
    lua_pushinteger(L, st.prompt_tokens);     lua_setfield(L, -2, "prompt_tokens");
    lua_pushinteger(L, st.completion_tokens); lua_setfield(L, -2, "completion_tokens");
    lua_pushinteger(L, h->live_tasks);        lua_setfield(L, -2, "tasks");
    return 1;
}

void endpoint_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"endpoint", endpoint_l_endpoint}, {"endpoint_info", endpoint_l_info},
        {"set_concurrency", endpoint_l_set_limit}, {"set_debug", endpoint_l_set_debug},
        {"set_offline", endpoint_l_set_offline}, {"stats", endpoint_l_stats}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
