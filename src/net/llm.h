/* llm: chat-completion requests on top of http.c — endpoints, admission
 * (requests in flight per endpoint and per (endpoint, model), requests/s,
 * tokens/min), the retry rules — with replies read into choices or a typed
 * error by the wire format of openai.h.
 *
 * The request body is built by the caller (canonical JSON); llm only adds
 * headers, sends, classifies and retries. Keys are read from the environment
 * variable an endpoint names, at send time, and never printed: every message
 * and trace is redacted by value (each endpoint's key, the userinfo of its
 * URL) and by shape (sk-..., Bearer ...). */
#ifndef SLMMUX_LLM_H
#define SLMMUX_LLM_H
#include <stddef.h>

#include "base/loop.h"

typedef struct llm llm_t;
typedef struct llm_req llm_req;

typedef struct llm_endpoint_cfg {
    const char *name;
    const char *base_url;       /* e.g. https://api.together.xyz/v1; userinfo allowed */
    const char *key_env;        /* name of the variable holding the key, or NULL */
    int max_concurrency;        /* requests in flight to this endpoint; 0 = by kind
                                 * (llm_endpoint_limits) */
    double rps;                 /* requests per second, 0 = unlimited */
    double tpm;                 /* tokens per minute (estimated), 0 = unlimited */
    int supports_n;             /* send n > 1 in one request */
    long connect_timeout_ms, total_timeout_ms, stall_timeout_s;
    int max_retries;            /* < 0: no count, only the time budget */
    double retry_budget_ms;     /* no retry starts later than this after submission;
                                 * 0 = LLM_RETRY_BUDGET_MS */
    const char *ca_file;        /* PEM bundle to trust instead of the system's, or NULL */
} llm_endpoint_cfg;

#define LLM_RETRY_BUDGET_MS 600000.0
/* Defaults by kind: a server on this machine or a private network (or any
 * plain http:// URL) gets LLM_LOCAL_LIMIT in flight from the start; a
 * provider starts at LLM_ADAPTIVE_START per model and grows by one per
 * success up to LLM_ADAPTIVE_LIMIT while it accepts them. */
#define LLM_LOCAL_LIMIT 256
#define LLM_ADAPTIVE_START 64
#define LLM_ADAPTIVE_LIMIT 1024

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
    int n_unsupported;          /* the server refused n > 1: ask again one at a time
                                 * (the endpoint has learnt it; not counted as an error) */
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
    long rate_limit_waiting;    /* now: held by a model's rate-limit gate or a Retry-After */
    long backoff;               /* now: waiting to retry after another failure */
    long prompt_tokens, completion_tokens;
} llm_stats;

/* An endpoint's admission as it stands: the most requests in flight, what
 * each model starts at, and whether that grows while the server accepts. */
typedef struct llm_limits {
    int limit, start, adaptive, local;
} llm_limits;

/* A client on loop with no endpoints; NULL when out of memory. */
llm_t *llm_new(loop_t *loop);
void llm_free(llm_t *llm);              /* cancels everything without calling back */
/* Requests in flight over all endpoints at once, and the limit of every
 * endpoint without a max_concurrency of its own (--concurrency). 0, the
 * default, sets none: each endpoint's limit applies alone. */
void llm_set_global_limit(llm_t *llm, int max_in_flight);
/* Trace transfers and retries to stderr (credentials redacted). */
void llm_set_debug(llm_t *llm, int on);

/* Returns the endpoint id (>= 0), or -1 with err filled. Re-adding a name
 * replaces its settings. */
int llm_endpoint_add(llm_t *llm, const llm_endpoint_cfg *cfg, char *err, size_t errlen);
/* The id of the endpoint called name, or -1. */
int llm_endpoint_find(const llm_t *llm, const char *name);
/* An endpoint's base URL as part of a sample's identity: no userinfo, scheme
 * and host in lower case, no default port, no trailing '/' (so shards of one
 * endpoint spelt differently merge; an already-normal URL is unchanged). */
const char *llm_endpoint_base_url(const llm_t *llm, int id);
void llm_endpoint_limits(const llm_t *llm, int id, llm_limits *out);
/* 1 while requests to it may ask for n > 1 choices. */
int llm_endpoint_supports_n(const llm_t *llm, int id);
/* A server ignored n: later requests to it ask one sample at a time. */
void llm_endpoint_disable_n(llm_t *llm, int id);

/* Queue a request. model names its rate-limit lane (providers limit each
 * model apart; NULL is a lane of its own); body is the JSON to POST
 * (copied); n is the number of choices it asks for; est_tokens charges the
 * tokens/min budget. NULL (and done is never called) for an unknown
 * endpoint or when out of memory. */
llm_req *llm_submit(llm_t *llm, int endpoint, const char *model, const char *body, size_t body_len,
                    int n, double est_tokens, llm_done_fn done, void *ud);
void llm_cancel(llm_t *llm, llm_req *req);   /* no callback */

/* msg[0..len) with every secret llm knows (keys in the variables the
 * endpoints name, their URLs' userinfo) and key-shaped words removed;
 * NUL-terminated, the caller frees. */
char *llm_redact(const llm_t *llm, const char *msg, size_t len);

/* Counters since llm_new, with in_flight, queued, rate_limit_waiting and
 * backoff as they are now. */
void llm_get_stats(const llm_t *llm, llm_stats *st);
void llm_result_free(llm_result *r);    /* NULL is fine */

#endif
