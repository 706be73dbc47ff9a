/* llm: chat-completion requests on top of http.c — endpoints, admission
 * (concurrency, requests/s, tokens/min), the retry rules — with replies
 * read into choices or a typed error by the wire format of openai.h.
 *
 * The request body is built by the caller (canonical JSON); llm only adds
 * headers, sends, classifies and retries. Keys are read from the environment
 * variable an endpoint names, at send time, and never printed. */
#ifndef SLMMUX_LLM_H
#define SLMMUX_LLM_H
#include <stddef.h>

#include "base/loop.h"

typedef struct llm llm_t;
typedef struct llm_req llm_req;

typedef struct llm_endpoint_cfg {
    const char *name;
    const char *base_url;       /* e.g. https://api.together.xyz/v1 */
    const char *key_env;        /* name of the variable holding the key, or NULL */
    int max_concurrency;        /* requests in flight to this endpoint */
    double rps;                 /* requests per second, 0 = unlimited */
    double tpm;                 /* tokens per minute (estimated), 0 = unlimited */
    int supports_n;             /* send n > 1 in one request */
    long connect_timeout_ms, total_timeout_ms, stall_timeout_s;
    int max_retries;
} llm_endpoint_cfg;

typedef struct llm_choice {
    char *text;                 /* NULL when the reply's content was null */
    size_t len;
    char *finish_reason;        /* NULL when absent */
    char *extra;                /* JSON object of the rest (openai.h), or NULL */
    size_t extra_len;
} llm_choice;

typedef struct llm_result {
    int ok;
    /* ok: choices in index order */
    llm_choice *choices;
    int nchoices;
    long prompt_tokens, completion_tokens;
    char *model;                /* model the server says it used, or NULL */
    /* !ok: kind is "http", "quota", "transport", "timeout", "protocol" or
     * "cancelled"; message is fit to show (provider text, keys redacted) */
    const char *kind;
    long status;
    char *message;
    int attempts;
    double latency_ms;          /* of the final attempt */
} llm_result;

/* Called once with the final outcome, from the loop (never from inside a
 * curl callback), or from inside llm_submit itself when the transfer could
 * not even start (out of memory): a caller links its state before it
 * submits. The callee owns r and frees it with llm_result_free. */
typedef void (*llm_done_fn)(llm_result *r, void *ud);

typedef struct llm_stats {
    long requests, retries, errors, in_flight, queued, rate_limited;
    long prompt_tokens, completion_tokens;
} llm_stats;

/* A client on loop with no endpoints; NULL when out of memory. */
llm_t *llm_new(loop_t *loop);
void llm_free(llm_t *llm);              /* cancels everything without calling back */
/* Requests in flight over all endpoints at once (default 256; < 1 means 1). */
void llm_set_global_limit(llm_t *llm, int max_in_flight);
/* Trace transfers and retries to stderr (credentials redacted). */
void llm_set_debug(llm_t *llm, int on);

/* Returns the endpoint id (>= 0), or -1 with err filled. Re-adding a name
 * replaces its settings. */
int llm_endpoint_add(llm_t *llm, const llm_endpoint_cfg *cfg, char *err, size_t errlen);
/* The id of the endpoint called name, or -1. */
int llm_endpoint_find(const llm_t *llm, const char *name);
/* An endpoint's base URL without trailing '/' (part of a sample's identity). */
const char *llm_endpoint_base_url(const llm_t *llm, int id);
/* 1 while requests to it may ask for n > 1 choices. */
int llm_endpoint_supports_n(const llm_t *llm, int id);
/* A server ignored n: later requests to it ask one sample at a time. */
void llm_endpoint_disable_n(llm_t *llm, int id);

/* Queue a request. body is the JSON to POST (copied); n is the number of
 * choices it asks for; est_tokens charges the tokens/min budget. NULL (and
 * done is never called) for an unknown endpoint or when out of memory. */
llm_req *llm_submit(llm_t *llm, int endpoint, const char *body, size_t body_len, int n,
                    double est_tokens, llm_done_fn done, void *ud);
void llm_cancel(llm_t *llm, llm_req *req);   /* no callback */

/* Counters since llm_new, with in_flight and queued as they are now. */
void llm_get_stats(const llm_t *llm, llm_stats *st);
void llm_result_free(llm_result *r);    /* NULL is fine */

#endif
