/* llm: when requests go out and how often they are tried: endpoints, the
 * queue per endpoint, admission (concurrency with AIMD on 429, requests/s
 * and tokens/min token buckets, a global in-flight cap) and retries with
 * backoff. What the bytes mean is openai.c's.
 *
 * Retry rules follow the official OpenAI clients (retry connection errors,
 * 408, 409, 429, 5xx; obey x-should-retry; honour retry-after-ms and
 * Retry-After), with a larger budget because batch runs prefer waiting to
 * losing a sample. Quota exhaustion (402, 429 insufficient_quota) is final:
 * waiting does not refill a balance. */
#include "net/llm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/oom.h"
#include "net/http.h"
#include "net/openai.h"

#define MAX_ENDPOINTS 64
#define BACKOFF_BASE_MS 500.0
#define BACKOFF_CAP_MS 60000.0
#define RETRY_AFTER_CAP_MS 120000.0   /* longer asks are treated as absent */

typedef struct endpoint {
    llm_t *llm;                 /* back-pointers for the wake timer */
    int id;
    char *name, *base_url, *url, *key_env;
    llm_endpoint_cfg cfg;
    int in_flight;
    double limit;               /* AIMD concurrency: halves on 429, +1 per success */
    double paused_until_ms;     /* a 429 pauses the whole endpoint */
    double rps_tokens, tpm_tokens, refilled_ms;
    llm_req *head, *tail;       /* waiting to be sent */
    uint64_t wake_timer;
} endpoint;

enum req_state { REQ_QUEUED, REQ_SENDING, REQ_BACKOFF };

struct llm_req {
    llm_t *llm;
    int ep;
    char *body;
    size_t body_len;
    int n;
    double est_tokens;
    int attempts;
    enum req_state state;
    http_xfer *xfer;
    uint64_t timer;
    llm_done_fn done;
    void *ud;
    llm_req *next;              /* queue link */
    llm_req *all_prev, *all_next;
};

struct llm {
    loop_t *loop;
    http_t *http;
    endpoint eps[MAX_ENDPOINTS];
    int neps;
    int global_limit, in_flight;
    int debug;
    llm_stats st;
    uint64_t rng;
    llm_req *all;               /* every live request, for llm_free */
};

static void pump(llm_t *llm, int ep);

llm_t *llm_new(loop_t *loop)
{
    llm_t *llm = calloc(1, sizeof *llm);
    if (!llm)
        return NULL;
    llm->loop = loop;
    llm->http = http_new(loop);
    if (!llm->http) {
        free(llm);
        return NULL;
    }
    llm->global_limit = 256;
    llm->rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ull ^ (uint64_t)getpid();
    return llm;
}

static void req_unlink(llm_t *llm, llm_req *r)
{
    if (r->all_prev)
        r->all_prev->all_next = r->all_next;
    else
        llm->all = r->all_next;
    if (r->all_next)
        r->all_next->all_prev = r->all_prev;
}

static void queue_remove(endpoint *e, llm_req *r)
{
    llm_req **pp = &e->head, *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = r->next;
    if (e->tail == r)
        e->tail = prev;
    r->next = NULL;
}

void llm_cancel(llm_t *llm, llm_req *r)
{
    endpoint *e = &llm->eps[r->ep];
    if (r->state == REQ_SENDING) {
        http_cancel(llm->http, r->xfer);
        e->in_flight--;
        llm->in_flight--;
    } else if (r->state == REQ_BACKOFF) {
        loop_timer_cancel(llm->loop, r->timer);
    } else {
        queue_remove(e, r);
    }
    req_unlink(llm, r);
    free(r->body);
    free(r);
}

void llm_free(llm_t *llm)
{
    if (!llm)
        return;
    while (llm->all)
        llm_cancel(llm, llm->all);
    for (int i = 0; i < llm->neps; i++) {
        endpoint *e = &llm->eps[i];
        if (e->wake_timer)
            loop_timer_cancel(llm->loop, e->wake_timer);
        free(e->name);
        free(e->base_url);
        free(e->url);
        free(e->key_env);
    }
    http_free(llm->http);
    free(llm);
}

void llm_set_global_limit(llm_t *llm, int max_in_flight)
{
    llm->global_limit = max_in_flight > 0 ? max_in_flight : 1;
}

void llm_set_debug(llm_t *llm, int on) { llm->debug = on; }

int llm_endpoint_find(const llm_t *llm, const char *name)
{
    for (int i = 0; i < llm->neps; i++)
        if (strcmp(llm->eps[i].name, name) == 0)
            return i;
    return -1;
}

const char *llm_endpoint_base_url(const llm_t *llm, int id) { return llm->eps[id].base_url; }
int llm_endpoint_supports_n(const llm_t *llm, int id) { return llm->eps[id].cfg.supports_n; }
void llm_endpoint_disable_n(llm_t *llm, int id) { llm->eps[id].cfg.supports_n = 0; }

int llm_endpoint_add(llm_t *llm, const llm_endpoint_cfg *cfg, char *err, size_t errlen)
{
    if (!cfg->name || !cfg->base_url || strncmp(cfg->base_url, "http", 4) != 0) {
        snprintf(err, errlen, "endpoint '%s': base_url must be an http(s) URL",
                 cfg->name ? cfg->name : "?");
        return -1;
    }
    int id = llm_endpoint_find(llm, cfg->name);
    if (id < 0) {
        if (llm->neps == MAX_ENDPOINTS) {
            snprintf(err, errlen, "too many endpoints (at most %d)", MAX_ENDPOINTS);
            return -1;
        }
        id = llm->neps++;
        memset(&llm->eps[id], 0, sizeof llm->eps[id]);
        llm->eps[id].name = xstrdup(cfg->name);
        llm->eps[id].llm = llm;
        llm->eps[id].id = id;
    }
    endpoint *e = &llm->eps[id];
    free(e->base_url);
    free(e->url);
    free(e->key_env);
    size_t n = strlen(cfg->base_url);
    while (n && cfg->base_url[n - 1] == '/')
        n--;
    e->base_url = xmemdup(cfg->base_url, n);
    static const char path[] = "/chat/completions";
    e->url = xmalloc(n + sizeof path);
    memcpy(e->url, e->base_url, n);
    memcpy(e->url + n, path, sizeof path);
    e->key_env = cfg->key_env ? xstrdup(cfg->key_env) : NULL;
    e->cfg = *cfg;
    e->cfg.name = e->name;
    e->cfg.base_url = e->base_url;
    e->cfg.key_env = e->key_env;
    if (e->cfg.max_concurrency <= 0)
        e->cfg.max_concurrency = 64;
    if (e->cfg.max_retries < 0)
        e->cfg.max_retries = 0;
    e->limit = e->cfg.max_concurrency;
    e->rps_tokens = e->cfg.rps > 0 ? (e->cfg.rps < 1 ? 1 : e->cfg.rps) : 0;
    e->tpm_tokens = e->cfg.tpm;
    e->refilled_ms = loop_now_ms();
    return id;
}

void llm_get_stats(const llm_t *llm, llm_stats *st)
{
    *st = llm->st;
    st->in_flight = llm->in_flight;
    st->queued = 0;
    for (int i = 0; i < llm->neps; i++)
        for (llm_req *r = llm->eps[i].head; r; r = r->next)
            st->queued++;
}

void llm_result_free(llm_result *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nchoices; i++) {
        free(r->choices[i].text);
        free(r->choices[i].finish_reason);
        free(r->choices[i].extra);
    }
    free(r->choices);
    free(r->model);
    free(r->message);
    free(r);
}

/* ---- admission --------------------------------------------------------- */

static double rand_unit(llm_t *llm)
{
    llm->rng ^= llm->rng << 13;
    llm->rng ^= llm->rng >> 7;
    llm->rng ^= llm->rng << 17;
    return (double)(llm->rng >> 11) / 9007199254740992.0;
}

static void on_wake(loop_t *loop, void *ud);

/* Wake the endpoint's queue later (rate limit or pause), at most one timer. */
static void wake_at(llm_t *llm, int ep, double when_ms)
{
    endpoint *e = &llm->eps[ep];
    if (e->wake_timer)
        return;
    double delay = when_ms - loop_now_ms();
    /* without the timer the queue would wait for an unrelated event, maybe
     * forever: as lost as an allocation the loop cannot do without */
    if (!(e->wake_timer = loop_timer_add(llm->loop, delay > 1 ? delay : 1, on_wake, e)))
        oom_abort(sizeof(void *) * 4);
}

static void on_wake(loop_t *loop, void *ud)
{
    (void)loop;
    endpoint *e = ud;
    e->wake_timer = 0;
    pump(e->llm, e->id);
}

static void refill(endpoint *e, double now)
{
    double dt = (now - e->refilled_ms) / 1000.0;
    e->refilled_ms = now;
    if (e->cfg.rps > 0) {
        double burst = e->cfg.rps < 1 ? 1 : e->cfg.rps;
        e->rps_tokens = fmin(burst, e->rps_tokens + dt * e->cfg.rps);
    }
    if (e->cfg.tpm > 0)
        e->tpm_tokens = fmin(e->cfg.tpm, e->tpm_tokens + dt * e->cfg.tpm / 60.0);
}

static void finish(llm_t *llm, llm_req *r, llm_result *res)
{
    res->attempts = r->attempts;
    if (!res->ok)
        llm->st.errors++;
    req_unlink(llm, r);
    llm_done_fn done = r->done;
    void *ud = r->ud;
    free(r->body);
    free(r);
    done(res, ud);
}

static void on_http_done(const http_result *h, void *ud);

static void send_attempt(llm_t *llm, llm_req *r)
{
    endpoint *e = &llm->eps[r->ep];
    /* the key is read at send time, so a rotated key is used from then on */
    struct curl_slist *hdr = openai_headers(e->key_env ? getenv(e->key_env) : NULL);
    http_opts o = {
        .connect_timeout_ms = e->cfg.connect_timeout_ms,
        .total_timeout_ms = e->cfg.total_timeout_ms,
        .stall_timeout_s = e->cfg.stall_timeout_s,
        .max_body = (size_t)64 << 20,
        .debug = llm->debug,
    };
    r->attempts++;
    llm->st.requests++;
    r->state = REQ_SENDING;
    e->in_flight++;
    llm->in_flight++;
    r->xfer = http_post(llm->http, e->url, hdr, r->body, r->body_len, &o, on_http_done, r);
    curl_slist_free_all(hdr);   /* http_post copied it */
    if (!r->xfer) {
        e->in_flight--;
        llm->in_flight--;
        llm_result *res = xcalloc(1, sizeof *res);
        res->kind = "transport";
        res->message = xstrdup("could not start the transfer (out of memory)");
        finish(llm, r, res);
    }
}

static void pump(llm_t *llm, int ep)
{
    endpoint *e = &llm->eps[ep];
    double now = loop_now_ms();
    if (e->head && now < e->paused_until_ms) {
        wake_at(llm, ep, e->paused_until_ms);
        return;
    }
    refill(e, now);
    while (e->head && e->in_flight < (int)e->limit && llm->in_flight < llm->global_limit) {
        llm_req *r = e->head;
        if (e->cfg.rps > 0 && e->rps_tokens < 1) {
            wake_at(llm, ep, now + (1 - e->rps_tokens) * 1000.0 / e->cfg.rps);
            return;
        }
        /* a request larger than the whole budget may go when the bucket is full */
        if (e->cfg.tpm > 0 && e->tpm_tokens < fmin(r->est_tokens, e->cfg.tpm)) {
            double need = fmin(r->est_tokens, e->cfg.tpm) - e->tpm_tokens;
            wake_at(llm, ep, now + need * 60000.0 / e->cfg.tpm);
            return;
        }
        if (e->cfg.rps > 0)
            e->rps_tokens -= 1;
        if (e->cfg.tpm > 0)
            e->tpm_tokens -= r->est_tokens;
        e->head = r->next;
        if (!e->head)
            e->tail = NULL;
        r->next = NULL;
        send_attempt(llm, r);
    }
}

/* A freed global slot may unblock any endpoint. */
static void pump_all(llm_t *llm)
{
    for (int i = 0; i < llm->neps && llm->in_flight < llm->global_limit; i++)
        if (llm->eps[i].head)
            pump(llm, i);
}

static void enqueue(llm_t *llm, llm_req *r, int front)
{
    endpoint *e = &llm->eps[r->ep];
    r->state = REQ_QUEUED;
    if (front) {
        r->next = e->head;
        e->head = r;
        if (!e->tail)
            e->tail = r;
    } else {
        r->next = NULL;
        if (e->tail)
            e->tail->next = r;
        else
            e->head = r;
        e->tail = r;
    }
}

llm_req *llm_submit(llm_t *llm, int ep, const char *body, size_t body_len, int n,
                    double est_tokens, llm_done_fn done, void *ud)
{
    if (ep < 0 || ep >= llm->neps)
        return NULL;
    llm_req *r = calloc(1, sizeof *r);
    if (!r || !(r->body = malloc(body_len + 1))) {
        free(r);
        return NULL;
    }
    memcpy(r->body, body, body_len);
    r->body[body_len] = '\0';
    r->body_len = body_len;
    r->llm = llm;
    r->ep = ep;
    r->n = n;
    r->est_tokens = est_tokens;
    r->done = done;
    r->ud = ud;
    r->all_next = llm->all;
    if (llm->all)
        llm->all->all_prev = r;
    llm->all = r;
    enqueue(llm, r, 0);
    pump(llm, ep);
    return r;
}

/* ---- attempts and outcomes ----------------------------------------------- */

static void on_backoff_done(loop_t *loop, void *ud)
{
    (void)loop;
    llm_req *r = ud;
    r->timer = 0;
    enqueue(r->llm, r, 1);      /* it waited already: go before newcomers */
    pump(r->llm, r->ep);
}

static double backoff_ms(llm_t *llm, int attempts)
{
    double d = BACKOFF_BASE_MS * pow(2.0, attempts - 1);
    if (d > BACKOFF_CAP_MS)
        d = BACKOFF_CAP_MS;
    return d * (1.0 - 0.25 * rand_unit(llm));   /* jitter, as the OpenAI clients do */
}

static const char *transport_kind(CURLcode c)
{
    return c == CURLE_OPERATION_TIMEDOUT ? "timeout" : "transport";
}

/* Transport failures worth another try: the connection, not the request, failed. */
static int transport_retryable(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST: case CURLE_COULDNT_CONNECT: case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR: case CURLE_RECV_ERROR: case CURLE_GOT_NOTHING: case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2: case CURLE_HTTP2_STREAM: case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
        return 1;
    default:
        return 0;
    }
}

static void on_http_done(const http_result *h, void *ud)
{
    llm_req *r = ud;
    llm_t *llm = r->llm;
    endpoint *e = &llm->eps[r->ep];
    r->xfer = NULL;
    e->in_flight--;
    llm->in_flight--;

    llm_result *res = xcalloc(1, sizeof *res);
    int retryable = 0;
    res->status = h->status;
    res->latency_ms = h->elapsed_ms;
    if (h->code != CURLE_OK) {
        res->kind = transport_kind(h->code);
        char m[CURL_ERROR_SIZE + 64];
        snprintf(m, sizeof m, "%s (curl error %d)", h->error, (int)h->code);
        res->message = xstrdup(m);
        retryable = transport_retryable(h->code);
    } else if (h->status >= 200 && h->status < 300) {
        openai_parse_reply(h->body, h->body_len, res, &retryable);
        res->status = h->status;
    } else {
        openai_parse_error(h->status, h->body, h->body_len, res, &retryable);
        if (h->status == 429 && strcmp(res->kind, "quota") != 0) {
            llm->st.rate_limited++;
            double pause = h->retry_after_ms >= 0 && h->retry_after_ms <= RETRY_AFTER_CAP_MS
                         ? h->retry_after_ms : backoff_ms(llm, r->attempts);
            if (loop_now_ms() + pause > e->paused_until_ms)
                e->paused_until_ms = loop_now_ms() + pause;
            e->limit = e->limit / 2 < 1 ? 1 : e->limit / 2;
        }
    }
    if (h->code == CURLE_OK && h->should_retry >= 0)
        retryable = h->should_retry && !(res->kind && strcmp(res->kind, "quota") == 0);

    if (res->ok) {
        if (e->limit < e->cfg.max_concurrency)
            e->limit += 1;
        llm->st.prompt_tokens += res->prompt_tokens;
        llm->st.completion_tokens += res->completion_tokens;
    }
    const char *key = e->key_env ? getenv(e->key_env) : NULL;
    if (!res->ok && retryable && r->attempts <= e->cfg.max_retries) {
        double delay = h->retry_after_ms >= 0 && h->retry_after_ms <= RETRY_AFTER_CAP_MS
                     ? h->retry_after_ms : backoff_ms(llm, r->attempts);
        uint64_t timer = loop_timer_add(llm->loop, delay, on_backoff_done, r);
        if (timer) {
            if (llm->debug) {
                /* providers echo keys in their messages: this line too is output */
                const char *why = res->message ? res->message : res->kind;
                char *shown = openai_redact(why, strlen(why), key);
                fprintf(stderr, "slmmux: %s: attempt %d failed (%s); retrying in %.0f ms\n",
                        e->name, r->attempts, shown, delay);
                free(shown);
            }
            llm_result_free(res);
            llm->st.retries++;
            r->state = REQ_BACKOFF;
            r->timer = timer;
            pump_all(llm);
            return;
        }
        /* no timer (out of memory): this attempt's error is the outcome,
         * rather than a request that never ends */
    }
    if (!res->ok) {
        /* the provider's words, with any key-shaped text removed */
        buf_t m = BUF_INIT;
        if (buf_printf(&m, "%s: %s (after %d attempt%s)", e->name, res->message ? res->message : "error",
                       r->attempts, r->attempts == 1 ? "" : "s") < 0)
            oom_abort(m.len);
        free(res->message);
        res->message = openai_redact(m.data, m.len, key);
        buf_free(&m);
    }
    finish(llm, r, res);
    pump_all(llm);
}
