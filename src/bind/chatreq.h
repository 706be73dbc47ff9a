/* chatreq: the request of mux.chat, from the Lua table to the JSON sent
 * and the text its identity is hashed from (chat.c), and the reply's
 * extra JSON back into Lua values. Only chat.c and chatreq.c include it.
 *
 * The request JSON is canonical: model, messages, then the OpenAI fields
 * in the order of chatreq.c's table, then req.extra's keys sorted, with
 * tables' keys sorted at every depth, so the same request always gives the
 * same bytes. Fields that can change the reply's text are the identity
 * (prefix); fields that only say who pays or how the reply is kept
 * (transport) are sent but left out of it. */
#ifndef SLMMUX_CHATREQ_H
#define SLMMUX_CHATREQ_H
#include <lauxlib.h>
#include <lua.h>

#include "base/buf.h"

typedef struct chat_req {
    buf_t prefix;           /* '{' model, messages, fields ... without seed, n and '}' */
    buf_t transport;        /* ",\"user\":..." and the like, each with its leading comma */
    buf_t place;            /* req.place: where in a policy the call is (never sent) */
    int k;                  /* req.n, default 1 */
    int has_seed;
    lua_Integer seed;
    double est_tokens_per_sample;
} chat_req;

/* Checks req (the table at idx) and fills r (zeroed by the caller, whose
 * userdata owns its buffers). Raises "mux.chat: ..." on misuse. */
void chatreq_build(lua_State *L, int idx, chat_req *r);
void chatreq_free(chat_req *r);

/* Pushes the JSON text json[0..len) as a Lua value: objects and arrays as
 * tables (a null member left out, a null element false), integral numbers
 * up to 2^53 as integers. Pushes nil for text that does not parse. */
void chatreq_push_json(lua_State *L, const char *json, size_t len);

#endif
