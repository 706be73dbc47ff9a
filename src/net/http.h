/* http: HTTP POST transfers on the event loop (one curl multi handle driven
 * by curl_multi_socket_action from loop fd and timer events). One attempt
 * per transfer: retry policy lives in llm.c, the wire format in openai.c. */
#ifndef SLMMUX_HTTP_H
#define SLMMUX_HTTP_H
#include <curl/curl.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/loop.h"

typedef struct http http_t;
typedef struct http_xfer http_xfer;

typedef struct http_opts {
    long connect_timeout_ms;
    long total_timeout_ms;
    long stall_timeout_s;       /* abort when no byte arrives for this long */
    size_t max_body;            /* abort replies larger than this */
    const char *ca_file;        /* PEM bundle to verify the server with, or NULL: the system's */
    int debug;                  /* trace to stderr, credentials redacted */
} http_opts;

typedef struct http_result {
    CURLcode code;              /* CURLE_OK when a full reply arrived */
    const char *error;          /* curl's message when code != CURLE_OK */
    long status;                /* HTTP status, 0 when none arrived */
    const char *body;           /* reply bytes (NUL-terminated), len below */
    size_t body_len;
    double retry_after_ms;      /* from retry-after-ms / Retry-After; < 0 if absent */
    int should_retry;           /* x-should-retry: 1 true, 0 false, -1 absent */
    double elapsed_ms;
} http_result;

/* Called once per transfer, outside any curl callback. The result and the
 * transfer are freed when it returns: copy what you need. */
typedef void (*http_done_fn)(const http_result *res, void *ud);

/* A transfer engine on loop; NULL when out of memory. */
http_t *http_new(loop_t *loop);
void http_free(http_t *h);          /* aborts transfers without calling back */

/* The function every trace line goes through before it is printed (by
 * value: secrets a header name does not announce). It returns a string the
 * caller frees. Without one, lines are filtered by header name only. */
typedef char *(*http_redact_fn)(const char *line, size_t len, void *ud);
void http_set_redactor(http_t *h, http_redact_fn fn, void *ud);

/* Start a POST. headers and body are not copied (a copy per request was a
 * measurable share of the client's CPU): they must stay valid until the
 * callback has run or the transfer is cancelled. Returns NULL if curl
 * refused (out of memory); the callback then never runs. */
http_xfer *http_post(http_t *h, const char *url, const struct curl_slist *headers,
                     const char *body, size_t body_len, const http_opts *opts,
                     http_done_fn done, void *ud);
/* Abort a transfer without calling back. */
void http_cancel(http_t *h, http_xfer *x);

/* Transfers started and not yet done or cancelled. */
int http_in_flight(const http_t *h);

#endif
