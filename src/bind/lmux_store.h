/* lmux_store: the Lua face of the sample store (store.h) and of SHA-256.
 *
 * lmux_open_store(L) sets field `store` of the table on top of the stack to:
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
 *       absent for null content, other unknown fields are absent too
 *   st:put(key, request_text_or_nil, idx, sample) -> true if stored, false if
 *       that sample was already stored (it never changes); sample has the
 *       fields above, all optional; other fields are ignored
 *   st:commit() -> true;  st:pending() -> samples put but not committed
 *   st:stats() -> {prompts=, samples=, bytes=}
 *   st:each(fn) -> number of samples visited; calls fn(key_hex, request, idx,
 *       sample) for every stored sample, by key then index; fn returning
 *       false stops; fn must not write to this store
 *   st:close() -> true
 * Misuse (wrong types, bad key, negative index, a closed store) raises an
 * error naming the argument; SQLite failures return nil, message. Strings
 * cross with explicit lengths: texts may hold NUL bytes and invalid UTF-8. */
#ifndef SLMMUX_LMUX_STORE_H
#define SLMMUX_LMUX_STORE_H
#include <lua.h>

void lmux_open_store(lua_State *L);

#endif
