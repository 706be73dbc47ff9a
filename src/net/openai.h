/* openai: the OpenAI chat-completions wire format, apart from when and how
 * often requests are sent (llm.h). It knows the request headers, what a
 * reply body means (choices, or an error object in any of the shapes
 * providers use) and how to keep keys out of what is shown. No I/O, no
 * state: every function is a pure reading or writing of bytes.
 *
 * Allocation: messages and choices are copied with base/oom.h, so a result
 * is never half-filled for want of memory (the reply they come from is held
 * already, at most 64 MiB). */
#ifndef SLMMUX_OPENAI_H
#define SLMMUX_OPENAI_H
#include <curl/curl.h>
#include <stddef.h>

#include "net/llm.h"

/* The request headers: JSON both ways, our User-Agent, no 100-continue
 * round trip, and "Authorization: Bearer key" when key is non-empty. The
 * caller frees the list with curl_slist_free_all. */
struct curl_slist *openai_headers(const char *key);

/* A 2xx body into r. Returns 1 when it holds choices (r->ok = 1, choices in
 * index order, usage and model when present); 0 with r->kind and
 * r->message set when it is an error object ("http" or "quota") or is
 * malformed ("protocol"; also a content that is neither a string nor null,
 * which must not become a sample without text). *retryable says whether
 * trying again may help: a truncated or garbled reply usually is transient,
 * an exhausted quota never.
 *
 * Each choice's extra is a JSON object of what it holds beyond its text,
 * the keys present only when the reply has them: "logprobs" (the choice's
 * object as sent), "reasoning_content" (also read from "reasoning"),
 * "refusal", "system_fingerprint" and "usage" ({completion_tokens_details,
 * prompt_tokens_details}, each count shared out among the choices as
 * chat.c shares the tokens: the shares add up to the reply's). */
int openai_parse_reply(const char *body, size_t len, llm_result *r, int *retryable);

/* A non-2xx reply into r (r->ok = 0, r->status = status): the provider's
 * error object when the body holds one, else "HTTP <status>: <first 300
 * bytes>". kind is "quota" for 402 and for insufficient_quota (waiting does
 * not refill a balance), else "http"; *retryable follows the status as the
 * OpenAI clients do (408, 409, 429, 5xx), never for a quota. */
void openai_parse_error(long status, const char *body, size_t len, llm_result *r, int *retryable);

/* 1 when an error reply (status, message as openai_parse_error or
 * openai_parse_reply made it) says the server takes no n > 1: llama.cpp's
 * "Only one completion choice is allowed" (a 500, or a 400 in later
 * versions), vLLM's "n must be 1 when using greedy sampling", and the like.
 * Only a request that asked for n > 1 should be judged by it. */
int openai_rejects_n(long status, const char *message);

/* msg[0..len) with secrets removed: the given key (when at least 4 bytes)
 * and anything shaped like an API key ("sk-..." starting a word, the word
 * after "Bearer "). NUL-terminated, never NULL; the caller frees. */
char *openai_redact(const char *msg, size_t len, const char *key);

#endif
