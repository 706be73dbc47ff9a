/* llm: when requests go out and how often they are tried: endpoints, a lane
 * per (endpoint, model) with its queue, admission (requests in flight per
 * endpoint and per lane, requests/s and tokens/min token buckets, an
 * optional global cap) and retries with backoff. What the bytes mean is
 * openai.c's.
 *
 * Rate limits are per model at the providers (OpenAI, Together), so each
 * model's lane adapts on its own: a 429 (or a 503, an overloaded server)
 * halves that lane's in-flight limit at most once per window — a burst of
 * 429s is one signal, not one per reply — down to a floor, and each
 * success while the limit binds grows it by one back to the endpoint's
 * limit. A Retry-After delays the request it came with and holds that
 * model's new requests briefly; other models go on.
 *
 * Retry rules follow the official OpenAI clients (retry connection errors,
 * 408, 409, 429, 5xx; obey x-should-retry; honour retry-after-ms and
 * Retry-After), but a request gives up only when its time budget is spent,
 * not after a count: a batch run prefers waiting to losing a sample. Quota
 * exhaustion (402, 429 insufficient_quota) is final: waiting does not refill
 * a balance. */
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
#include "net/redact.h"
#include "net/url.h"

#define MAX_ENDPOINTS 64
#define BACKOFF_BASE_MS 500.0
#define BACKOFF_CAP_MS 30000.0
#define RETRY_AFTER_CAP_MS 120000.0   /* longer asks are treated as absent */
#define SHRINK_WINDOW_MS 1000.0       /* at least; a lane's smoothed latency if longer */
#define GATE_CAP_MS 2000.0            /* a Retry-After holds its model at most this long */
#define GATE_NO_HINT_MS 250.0         /* a 429 without Retry-After holds it this long */
#define LANE_FLOOR 1

typedef struct lane {
    char *model;                /* NULL: requests without a model */
    llm_req *head, *tail;       /* waiting to be sent */
    int queued, in_flight;
    double limit;               /* adaptive: see the header */
    double gate_until_ms;       /* no new request of this model before then */
    double shrunk_ms;           /* the last decrease, for the window */
    double srtt_ms;             /* smoothed latency of its successes */
} lane;

typedef struct endpoint {
    llm_t *llm;                 /* back-pointers for the wake timer */
    int id;
    char *name, *url, *key_env, *ca_file;
    url_parts parts;            /* identity, userinfo, kind */
    llm_endpoint_cfg cfg;
    int limit, start;           /* in flight at most; each lane starts at start */
    int in_flight;
    int succeeded;              /* a 2xx has come back: a 404 is no longer a URL mistake */
    int n_works;                /* a reply had several choices: n is not in doubt */
    lane *lanes;
    int nlanes, lanes_cap, next_lane;
    double rps_tokens, tpm_tokens, refilled_ms;
    uint64_t wake_timer;
    double wake_due_ms;
    struct curl_slist *hdr;     /* the request headers, for the key hdr_key: built */
    char *hdr_key;              /* once, not per request (a share of the CPU) */
} endpoint;

/* Header lists replaced after a key rotation: transfers may still use them. */
typedef struct retired_hdr {
    struct curl_slist *list;
    struct retired_hdr *next;
} retired_hdr;

enum req_state { REQ_QUEUED, REQ_SENDING, REQ_BACKOFF };

struct llm_req {
    llm_t *llm;
    int ep, lane;
    char *body;
    size_t body_len;
    int n;
    double est_tokens;
    int attempts;
    int rate_wait;              /* in REQ_BACKOFF because of a 429 */
    double submitted_ms;
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
    int global_limit, in_flight;  /* global_limit 0: none */
    int debug;
    llm_stats st;
    long backoff_n, rate_wait_n;
    retired_hdr *retired;
    uint64_t rng;
    llm_req *all;               /* every live request, for llm_free */
};

static void pump(llm_t *llm, int ep);
static char *llm_http_redact(const char *msg, size_t len, void *ud);

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
    http_set_redactor(llm->http, llm_http_redact, llm);
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

static void queue_remove(lane *ln, llm_req *r)
{
    llm_req **pp = &ln->head, *prev = NULL;
    while (*pp && *pp != r) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = r->next;
    if (ln->tail == r)
        ln->tail = prev;
    r->next = NULL;
    ln->queued--;
}

static void backoff_leave(llm_t *llm, llm_req *r)
{
    if (r->rate_wait)
        llm->rate_wait_n--;
    else
        llm->backoff_n--;
    r->rate_wait = 0;
}

void llm_cancel(llm_t *llm, llm_req *r)
{
    endpoint *e = &llm->eps[r->ep];
    lane *ln = &e->lanes[r->lane];
    if (r->state == REQ_SENDING) {
        http_cancel(llm->http, r->xfer);
        e->in_flight--;
        ln->in_flight--;
        llm->in_flight--;
    } else if (r->state == REQ_BACKOFF) {
        loop_timer_cancel(llm->loop, r->timer);
        backoff_leave(llm, r);
    } else {
        queue_remove(ln, r);
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
        for (int j = 0; j < e->nlanes; j++)
            free(e->lanes[j].model);
        free(e->lanes);
        free(e->name);
        free(e->url);
        free(e->key_env);
        free(e->ca_file);
        url_parts_free(&e->parts);
        curl_slist_free_all(e->hdr);
        if (e->hdr_key)
            memset(e->hdr_key, 0, strlen(e->hdr_key));
        free(e->hdr_key);
    }
    http_free(llm->http);
    while (llm->retired) {
        retired_hdr *r = llm->retired;
        llm->retired = r->next;
        curl_slist_free_all(r->list);
        free(r);
    }
    free(llm);
}

/* The limits of e from its settings, the global limit and its kind; every
 * lane starts again from them. */
static void endpoint_apply_limits(llm_t *llm, endpoint *e)
{
    if (e->cfg.max_concurrency > 0)
        e->limit = e->start = e->cfg.max_concurrency;
    else if (llm->global_limit > 0)
        e->limit = e->start = llm->global_limit;
    else if (e->parts.local)
        e->limit = e->start = LLM_LOCAL_LIMIT;
    else {
        e->limit = LLM_ADAPTIVE_LIMIT;
        e->start = LLM_ADAPTIVE_START;
    }
    for (int j = 0; j < e->nlanes; j++)
        e->lanes[j].limit = e->start;
}

void llm_set_global_limit(llm_t *llm, int max_in_flight)
{
    llm->global_limit = max_in_flight > 0 ? max_in_flight : 0;
    for (int i = 0; i < llm->neps; i++)
        endpoint_apply_limits(llm, &llm->eps[i]);
}

void llm_set_debug(llm_t *llm, int on) { llm->debug = on; }

int llm_endpoint_find(const llm_t *llm, const char *name)
{
    for (int i = 0; i < llm->neps; i++)
        if (strcmp(llm->eps[i].name, name) == 0)
            return i;
    return -1;
}

const char *llm_endpoint_base_url(const llm_t *llm, int id) { return llm->eps[id].parts.identity; }
int llm_endpoint_supports_n(const llm_t *llm, int id) { return llm->eps[id].cfg.supports_n; }
void llm_endpoint_disable_n(llm_t *llm, int id) { llm->eps[id].cfg.supports_n = 0; }

void llm_endpoint_limits(const llm_t *llm, int id, llm_limits *out)
{
    const endpoint *e = &llm->eps[id];
    out->limit = e->limit;
    out->start = e->start;
    out->adaptive = e->start < e->limit;
    out->local = e->parts.local;
}

int llm_endpoint_add(llm_t *llm, const llm_endpoint_cfg *cfg, char *err, size_t errlen)
{
    char why[160];
    url_parts parts;
    if (!cfg->name || !cfg->base_url || url_parse(cfg->base_url, &parts, why, sizeof why) < 0) {
        snprintf(err, errlen, "endpoint '%s': %s", cfg->name ? cfg->name : "?",
                 cfg->base_url ? why : "base_url must be an http:// or https:// URL");
        return -1;
    }
    /* a key variable that is not set would send no key: 401s on every
     * problem, after the run has started, instead of one line now */
    if (cfg->key_env && !getenv(cfg->key_env)) {
        snprintf(err, errlen, "endpoint '%s': key_env names %s, which is not set in the environment",
                 cfg->name, cfg->key_env);
        url_parts_free(&parts);
        return -1;
    }
    int id = llm_endpoint_find(llm, cfg->name);
    if (id < 0) {
        if (llm->neps == MAX_ENDPOINTS) {
            snprintf(err, errlen, "too many endpoints (at most %d)", MAX_ENDPOINTS);
            url_parts_free(&parts);
            return -1;
        }
        id = llm->neps++;
        memset(&llm->eps[id], 0, sizeof llm->eps[id]);
        llm->eps[id].name = xstrdup(cfg->name);
        llm->eps[id].llm = llm;
        llm->eps[id].id = id;
    }
    endpoint *e = &llm->eps[id];
    free(e->url);
    free(e->key_env);
    free(e->ca_file);
    url_parts_free(&e->parts);
    e->parts = parts;
    /* curl gets the URL as written, userinfo and all */
    size_t n = strlen(cfg->base_url);
    while (n && cfg->base_url[n - 1] == '/')
        n--;
    static const char path[] = "/chat/completions";
    e->url = xmalloc(n + sizeof path);
    memcpy(e->url, cfg->base_url, n);
    memcpy(e->url + n, path, sizeof path);
    e->key_env = cfg->key_env ? xstrdup(cfg->key_env) : NULL;
    e->ca_file = cfg->ca_file ? xstrdup(cfg->ca_file) : NULL;
    e->cfg = *cfg;
    e->cfg.name = e->name;
    e->cfg.base_url = e->parts.identity;
    e->cfg.key_env = e->key_env;
    e->cfg.ca_file = e->ca_file;
    if (e->cfg.retry_budget_ms <= 0)
        e->cfg.retry_budget_ms = LLM_RETRY_BUDGET_MS;
    endpoint_apply_limits(llm, e);
    e->rps_tokens = e->cfg.rps > 0 ? (e->cfg.rps < 1 ? 1 : e->cfg.rps) : 0;
    e->tpm_tokens = e->cfg.tpm;
    e->refilled_ms = loop_now_ms();
    return id;
}

/* The lane of model on e, made on first use. */
static int lane_of(endpoint *e, const char *model)
{
    for (int j = 0; j < e->nlanes; j++) {
        const char *m = e->lanes[j].model;
        if (m == model || (m && model && strcmp(m, model) == 0))
            return j;
    }
    if (e->nlanes == e->lanes_cap) {
        int cap = e->lanes_cap ? e->lanes_cap * 2 : 4;
        lane *v = realloc(e->lanes, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        e->lanes = v;
        e->lanes_cap = cap;
    }
    lane *ln = &e->lanes[e->nlanes];
    memset(ln, 0, sizeof *ln);
    ln->model = model ? strdup(model) : NULL;
    if (model && !ln->model)
        return -1;
    ln->limit = e->start;
    return e->nlanes++;
}

void llm_get_stats(const llm_t *llm, llm_stats *st)
{
    *st = llm->st;
    st->in_flight = llm->in_flight;
    st->backoff = llm->backoff_n;
    st->rate_limit_waiting = llm->rate_wait_n;
    st->queued = 0;
    double now = loop_now_ms();
    for (int i = 0; i < llm->neps; i++)
        for (int j = 0; j < llm->eps[i].nlanes; j++) {
            const lane *ln = &llm->eps[i].lanes[j];
            if (now < ln->gate_until_ms)
                st->rate_limit_waiting += ln->queued;
            else
                st->queued += ln->queued;
        }
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

/* ---- secrets ------------------------------------------------------------ */

char *llm_redact(const llm_t *llm, const char *msg, size_t len)
{
    const char *secrets[3 * MAX_ENDPOINTS];
    size_t n = 0;
    for (int i = 0; i < llm->neps; i++) {
        const endpoint *e = &llm->eps[i];
        secrets[n++] = e->key_env ? getenv(e->key_env) : NULL;
        secrets[n++] = e->parts.user;
        secrets[n++] = e->parts.password;
    }
    return redact_text(msg, len, secrets, n);
}

static char *llm_http_redact(const char *msg, size_t len, void *ud)
{
    return llm_redact(ud, msg, len);
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

/* Wake the endpoint's queues at when_ms (a rate bucket or a gate): one
 * timer, moved earlier when an earlier wake is asked for. */
static void wake_at(llm_t *llm, int ep, double when_ms)
{
    endpoint *e = &llm->eps[ep];
    if (e->wake_timer) {
        if (e->wake_due_ms <= when_ms)
            return;
        loop_timer_cancel(llm->loop, e->wake_timer);
    }
    double delay = when_ms - loop_now_ms();
    /* without the timer the queue would wait for an unrelated event, maybe
     * forever: as lost as an allocation the loop cannot do without */
    if (!(e->wake_timer = loop_timer_add(llm->loop, delay > 1 ? delay : 1, on_wake, e)))
        oom_abort(sizeof(void *) * 4);
    e->wake_due_ms = when_ms;
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
    if (!res->ok && !res->n_unsupported)
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
    const char *key = e->key_env ? getenv(e->key_env) : NULL;
    if (e->key_env && !key) {
        llm_result *res = xcalloc(1, sizeof *res);
        res->kind = "config";
        char m[300];
        snprintf(m, sizeof m, "%s: key_env names %.200s, which is no longer set in the environment",
                 e->name, e->key_env);
        res->message = xstrdup(m);
        finish(llm, r, res);
        return;
    }
    if (!e->hdr || strcmp(e->hdr_key ? e->hdr_key : "", key ? key : "") != 0) {
        if (e->hdr) {
            retired_hdr *old = xcalloc(1, sizeof *old);
            old->list = e->hdr;
            old->next = llm->retired;
            llm->retired = old;
        }
        e->hdr = openai_headers(key);
        if (e->hdr_key)
            memset(e->hdr_key, 0, strlen(e->hdr_key));
        free(e->hdr_key);
        e->hdr_key = key ? xstrdup(key) : NULL;
    }
    http_opts o = {
        .connect_timeout_ms = e->cfg.connect_timeout_ms,
        .total_timeout_ms = e->cfg.total_timeout_ms,
        .stall_timeout_s = e->cfg.stall_timeout_s,
        .max_body = (size_t)64 << 20,
        .ca_file = e->ca_file,
        .debug = llm->debug,
    };
    lane *ln = &e->lanes[r->lane];
    r->attempts++;
    llm->st.requests++;
    r->state = REQ_SENDING;
    e->in_flight++;
    ln->in_flight++;
    llm->in_flight++;
    r->xfer = http_post(llm->http, e->url, e->hdr, r->body, r->body_len, &o, on_http_done, r);
    if (!r->xfer) {
        e->in_flight--;
        ln->in_flight--;
        llm->in_flight--;
        llm_result *res = xcalloc(1, sizeof *res);
        res->kind = "transport";
        res->message = xstrdup("could not start the transfer (out of memory)");
        finish(llm, r, res);
    }
}

/* The next lane that may send now, round robin so that no model waits
 * behind another's queue; -1 when none. *gate_ms is set to the earliest
 * gate that holds a lane with work (0 when none). */
static int next_lane(endpoint *e, double now, double *gate_ms)
{
    *gate_ms = 0;
    for (int k = 0; k < e->nlanes; k++) {
        int j = (e->next_lane + k) % e->nlanes;
        lane *ln = &e->lanes[j];
        if (!ln->head)
            continue;
        if (now < ln->gate_until_ms) {
            if (!*gate_ms || ln->gate_until_ms < *gate_ms)
                *gate_ms = ln->gate_until_ms;
            continue;
        }
        if (ln->in_flight < (int)ln->limit) {
            e->next_lane = (j + 1) % e->nlanes;
            return j;
        }
    }
    return -1;
}

static void pump(llm_t *llm, int ep)
{
    endpoint *e = &llm->eps[ep];
    double now = loop_now_ms(), gate_ms = 0;
    refill(e, now);
    while (e->in_flight < e->limit && (!llm->global_limit || llm->in_flight < llm->global_limit)) {
        int j = next_lane(e, now, &gate_ms);
        if (j < 0)
            break;
        lane *ln = &e->lanes[j];
        llm_req *r = ln->head;
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
        ln->head = r->next;
        if (!ln->head)
            ln->tail = NULL;
        ln->queued--;
        r->next = NULL;
        send_attempt(llm, r);
    }
    if (gate_ms)
        wake_at(llm, ep, gate_ms);
}

/* A freed global slot may unblock any endpoint. */
static void pump_all(llm_t *llm, int ep)
{
    pump(llm, ep);
    if (!llm->global_limit)
        return;
    for (int i = 0; i < llm->neps && llm->in_flight < llm->global_limit; i++)
        if (i != ep)
            pump(llm, i);
}

static void enqueue(llm_t *llm, llm_req *r, int front)
{
    lane *ln = &llm->eps[r->ep].lanes[r->lane];
    r->state = REQ_QUEUED;
    ln->queued++;
    if (front) {
        r->next = ln->head;
        ln->head = r;
        if (!ln->tail)
            ln->tail = r;
    } else {
        r->next = NULL;
        if (ln->tail)
            ln->tail->next = r;
        else
            ln->head = r;
        ln->tail = r;
    }
}

llm_req *llm_submit(llm_t *llm, int ep, const char *model, const char *body, size_t body_len,
                    int n, double est_tokens, llm_done_fn done, void *ud)
{
    if (ep < 0 || ep >= llm->neps)
        return NULL;
    int j = lane_of(&llm->eps[ep], model);
    llm_req *r = j < 0 ? NULL : calloc(1, sizeof *r);
    if (!r || !(r->body = malloc(body_len + 1))) {
        free(r);
        return NULL;
    }
    memcpy(r->body, body, body_len);
    r->body[body_len] = '\0';
    r->body_len = body_len;
    r->llm = llm;
    r->ep = ep;
    r->lane = j;
    r->n = n;
    r->est_tokens = est_tokens;
    r->submitted_ms = loop_now_ms();
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
    backoff_leave(r->llm, r);
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

/* A 429 or a 503 says "fewer at once": the lane halves its limit (from
 * what it really had in flight) once per window, and a 429 holds the
 * model's new requests for a moment. */
static void lane_slow_down(lane *ln, long status, double retry_after_ms, double now)
{
    double window = ln->srtt_ms > SHRINK_WINDOW_MS ? ln->srtt_ms : SHRINK_WINDOW_MS;
    if (now - ln->shrunk_ms >= window) {
        double used = ln->in_flight + 1 < ln->limit ? ln->in_flight + 1 : ln->limit;
        ln->limit = used / 2 < LANE_FLOOR ? LANE_FLOOR : floor(used / 2);
        ln->shrunk_ms = now;
    }
    if (status == 429) {
        double hold = retry_after_ms >= 0 ? fmin(retry_after_ms, GATE_CAP_MS) : GATE_NO_HINT_MS;
        if (now + hold > ln->gate_until_ms)
            ln->gate_until_ms = now + hold;
    }
}

static void lane_success(endpoint *e, lane *ln, double latency_ms)
{
    ln->srtt_ms = ln->srtt_ms ? 0.875 * ln->srtt_ms + 0.125 * latency_ms : latency_ms;
    /* grow only a limit that was binding: an unused one means nothing */
    if (ln->limit < e->limit && ln->in_flight + 1 >= (int)ln->limit)
        ln->limit += 1;
}

/* The outcome's message, as shown: the endpoint's name, the provider's
 * words, how long it was tried, a hint for a URL that misses /v1; redacted. */
static void final_message(llm_t *llm, endpoint *e, llm_req *r, llm_result *res, double now)
{
    buf_t m = BUF_INIT;
    int rc = buf_printf(&m, "%s: %s (after %d attempt%s", e->name, res->message ? res->message : "error",
                        r->attempts, r->attempts == 1 ? "" : "s");
    double secs = (now - r->submitted_ms) / 1000.0;
    if (rc >= 0 && r->attempts > 1)
        rc = buf_printf(&m, " over %.0f s", secs);
    if (rc >= 0)
        rc = buf_printf(&m, ")");
    if (rc >= 0 && res->status == 404 && !e->succeeded && !e->parts.path_ends_v1)
        rc = buf_printf(&m, "; the base URL %s does not end in /v1, where OpenAI-compatible servers "
                        "answer: try base_url = \"%s/v1\"", e->parts.identity, e->parts.identity);
    if (rc < 0)
        oom_abort(m.len);
    free(res->message);
    res->message = llm_redact(llm, m.data, m.len);
    buf_free(&m);
}

static void on_http_done(const http_result *h, void *ud)
{
    llm_req *r = ud;
    llm_t *llm = r->llm;
    endpoint *e = &llm->eps[r->ep];
    lane *ln = &e->lanes[r->lane];
    double now = loop_now_ms();
    r->xfer = NULL;
    e->in_flight--;
    ln->in_flight--;
    llm->in_flight--;

    llm_result *res = xcalloc(1, sizeof *res);
    int retryable = 0, rate_limited = 0;
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
        int quota = strcmp(res->kind, "quota") == 0;
        if ((h->status == 429 || h->status == 503) && !quota) {
            rate_limited = h->status == 429;
            llm->st.rate_limited += rate_limited;
            lane_slow_down(ln, h->status, h->retry_after_ms, now);
        }
    }
    if (h->code == CURLE_OK && h->should_retry >= 0)
        retryable = h->should_retry && !(res->kind && strcmp(res->kind, "quota") == 0);
    /* a server that refuses n > 1 (llama.cpp, vLLM with greedy sampling):
     * the caller asks again one sample at a time, and so does every later
     * request to this endpoint */
    if (!res->ok && r->n > 1 && !e->n_works && openai_rejects_n(res->status, res->message)) {
        e->cfg.supports_n = 0;
        res->n_unsupported = 1;
        retryable = 0;
    }

    if (res->ok) {
        e->succeeded = 1;
        e->n_works |= res->nchoices > 1;
        lane_success(e, ln, h->elapsed_ms);
        llm->st.prompt_tokens += res->prompt_tokens;
        llm->st.completion_tokens += res->completion_tokens;
    }
    double delay = h->retry_after_ms >= 0 && h->retry_after_ms <= RETRY_AFTER_CAP_MS
                 ? h->retry_after_ms : backoff_ms(llm, r->attempts);
    int within = now + delay <= r->submitted_ms + e->cfg.retry_budget_ms &&
                 (e->cfg.max_retries < 0 || r->attempts <= e->cfg.max_retries);
    if (!res->ok && retryable && within) {
        uint64_t timer = loop_timer_add(llm->loop, delay, on_backoff_done, r);
        if (timer) {
            if (llm->debug) {
                /* providers echo keys in their messages: this line too is output */
                const char *why = res->message ? res->message : res->kind;
                char *shown = llm_redact(llm, why, strlen(why));
                fprintf(stderr, "slmmux: %s: attempt %d failed (%s); retrying in %.0f ms\n",
                        e->name, r->attempts, shown, delay);
                free(shown);
            }
            llm_result_free(res);
            llm->st.retries++;
            r->state = REQ_BACKOFF;
            r->rate_wait = rate_limited;
            if (rate_limited)
                llm->rate_wait_n++;
            else
                llm->backoff_n++;
            r->timer = timer;
            pump_all(llm, r->ep);
            return;
        }
        /* no timer (out of memory): this attempt's error is the outcome,
         * rather than a request that never ends */
    }
    if (!res->ok)
        final_message(llm, e, r, res, now);
    int ep = r->ep;
    finish(llm, r, res);
    pump_all(llm, ep);
}
