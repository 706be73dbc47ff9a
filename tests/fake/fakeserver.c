/* fakeserver: a loopback OpenAI-compatible chat-completions server for the
 * integration, fault and benchmark tests. See tests/fake/README.md for the
 * CLI, the endpoints and the script format.
 *
 * One thread, one epoll set, non-blocking sockets and a binary heap of
 * timers (latencies, drips). It must never be the bottleneck of a benchmark,
 * so the hot path avoids per-request syscalls beyond read/send: responses are
 * sent straight away and EPOLLOUT is armed only when a send would block.
 *
 * Replies are deterministic: choice i of a request is a template expanded
 * with a hash of (model, messages, seed + i), so the store tests can tell a
 * stored sample from a refetched one. A script makes chosen requests fail in
 * chosen ways (status codes, resets, drips, malformed bodies). */
#include "base/buf.h"
#include "net/json.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEADER_BYTES  (64 * 1024)
#define MAX_BODY_BYTES    (64 * 1024 * 1024)
#define OUT_HIGH_WATER    (1024 * 1024)   /* stop reading pipelined requests above this */
#define DEFAULT_TEMPLATE  "Let me think step by step. Sample {i} of {model}. The answer is \\boxed{{{h3}}}."
#define ECHO_BYTES        200
#define MAX_N             128
#define DRAIN_MS          5000

/* ---- time and timers ------------------------------------------------- */

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

/* A timer names its connection by fd and generation: the connection may be
 * gone (and the fd reused) by the time the timer fires. */
typedef struct { uint64_t when; int fd; uint32_t gen; } tmr_t;

typedef struct { tmr_t *v; size_t n, cap; } heap_t;

static int heap_push(heap_t *h, tmr_t t)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 1024;
        tmr_t *v = realloc(h->v, cap * sizeof *v);
        if (!v)
            return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (h->v[up].when <= t.when)
            break;
        h->v[i] = h->v[up];
        i = up;
    }
    h->v[i] = t;
    return 0;
}

static tmr_t heap_pop(heap_t *h)
{
    tmr_t top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t mw = last.when;
        if (l < h->n && h->v[l].when < mw) { m = l; mw = h->v[l].when; }
        if (r < h->n && h->v[r].when < mw) m = r;
        if (m == i)
            break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

/* ---- hashing and templates ------------------------------------------- */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= FNV_PRIME;
    }
    return h;
}

/* A field separator that no text byte sequence can imitate position-wise:
 * the length goes in as 8 bytes after the text. */
static uint64_t fnv_field(uint64_t h, const char *p, size_t n)
{
    uint64_t len = n;
    unsigned char le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (unsigned char)(len >> (8 * k));
    return fnv(fnv(h, p, n), le, 8);
}

static uint64_t fnv_int(uint64_t h, int64_t x)
{
    unsigned char le[8];
    for (int k = 0; k < 8; k++)
        le[k] = (unsigned char)((uint64_t)x >> (8 * k));
    return fnv(h, le, 8);
}

typedef struct {
    uint64_t h, r;                  /* r: a hash of a server-wide count, new at every choice */
    long long i;
    const char *model, *echo;
    size_t model_len, echo_len;
} tmpl_ctx;

/* {h} {h3} {h10} {r} {r3} {i} {model} {echo} are replaced; {{ and }} are literal
 * braces; any other {...} is copied as it is. Output is raw bytes. */
static int tmpl_expand(buf_t *o, const char *t, size_t n, const tmpl_ctx *x)
{
    size_t i = 0;
    while (i < n) {
        const char *brace = memchr(t + i, '{', n - i), *close = memchr(t + i, '}', n - i);
        const char *stop = brace && (!close || brace < close) ? brace : close;
        if (!stop)
            return buf_append(o, t + i, n - i);
        if (buf_append(o, t + i, (size_t)(stop - (t + i))) < 0)
            return -1;
        i = (size_t)(stop - t);
        if (i + 1 < n && t[i + 1] == t[i]) {        /* {{ or }} */
            buf_putc(o, t[i]);
            i += 2;
            continue;
        }
        if (t[i] == '}') {
            buf_putc(o, '}');
            i++;
            continue;
        }
        const char *end = memchr(t + i, '}', n - i);
        size_t name_len = end ? (size_t)(end - (t + i)) - 1 : 0;
        const char *name = t + i + 1;
        int r = 0;
#define IS(lit) (name_len == sizeof(lit) - 1 && memcmp(name, lit, name_len) == 0)
        if (!end) r = buf_append(o, t + i, n - i), i = n;
        else if (IS("h")) r = buf_printf(o, "%llu", (unsigned long long)(x->h % 1000000007ULL));
        else if (IS("h3")) r = buf_printf(o, "%llu", (unsigned long long)(x->h % 3));
        else if (IS("h10")) r = buf_printf(o, "%llu", (unsigned long long)(x->h % 10));
        else if (IS("r")) r = buf_printf(o, "%llu", (unsigned long long)(x->r % 1000000007ULL));
        else if (IS("r3")) r = buf_printf(o, "%llu", (unsigned long long)(x->r % 3));
        else if (IS("i")) r = buf_printf(o, "%lld", x->i);
        else if (IS("model")) r = buf_append(o, x->model, x->model_len);
        else if (IS("echo")) r = buf_append(o, x->echo, x->echo_len);
        else r = buf_append(o, t + i, name_len + 2);
#undef IS
        if (r < 0)
            return -1;
        if (end)
            i += name_len + 2;
    }
    return 0;
}

/* ---- the script ------------------------------------------------------ */

enum { OMIT_ID = 1, OMIT_OBJECT = 2, OMIT_CREATED = 4, OMIT_MODEL = 8, OMIT_CHOICES = 16, OMIT_USAGE = 32 };

typedef struct {
    int status;
    long latency_ms;                /* -1: the server's default */
    const json_value *headers;      /* object of extra headers, or NULL */
    const char *body;               /* verbatim body, or NULL */
    size_t body_len;
    const char *content;            /* template, or NULL for the default */
    size_t content_len;
    int content_null;
    const char *finish_reason;
    unsigned omit;
    long long big_body_bytes;       /* -1: none */
    int invalid_utf8, reset, empty_reply, hang;
    long drip_ms, drip_bytes;
    long truncate;                  /* -1: whole; else send this many bytes, then close */
} step_t;

static const step_t step_default = {200, -1, NULL, NULL, 0, NULL, 0, 0, NULL, 0, -1, 0, 0, 0, 0, 0, 8, -1};

typedef struct {
    const char *model;              /* NULL: any */
    const char *contains;           /* NULL: any */
    size_t model_len, contains_len;
    step_t *steps;
    size_t nsteps, pos;
    step_t then;
    /* "limit": requests over it get limit_status instead of a step */
    double limit_rps, limit_burst, tokens;
    uint64_t refilled_ms;
    long limit_concurrency, in_flight;
    int limit_status, limit_retry;  /* retry: 0 none, 1 Retry-After (s), 2 retry-after-ms */
    uint64_t limited;               /* requests it refused */
} rule_t;

typedef struct {
    json_doc *doc;                  /* the step strings point into it */
    rule_t *rules;
    size_t nrules;
} script_t;

static void script_free(script_t *s)
{
    for (size_t i = 0; i < s->nrules; i++)
        free(s->rules[i].steps);
    free(s->rules);
    json_free(s->doc);
    memset(s, 0, sizeof *s);
}

static int is_int(const json_value *v, double lo, double hi)
{
    return v && v->type == JSON_NUMBER && v->number >= lo && v->number <= hi && v->number == floor(v->number);
}

static int step_parse(const json_value *o, step_t *st, char *err, size_t errlen, const char *where)
{
    *st = step_default;
    if (!o || o->type != JSON_OBJECT) {
        snprintf(err, errlen, "%s: a step must be an object", where);
        return -1;
    }
    for (const json_value *f = o->child; f; f = f->next) {
        const char *k = f->key;
        int ok = 1;
        if (!strcmp(k, "status")) {
            if ((ok = is_int(f, 100, 599))) st->status = (int)f->number;
        } else if (!strcmp(k, "latency_ms")) {
            if ((ok = is_int(f, 0, 86400000))) st->latency_ms = (long)f->number;
        } else if (!strcmp(k, "headers")) {
            ok = f->type == JSON_OBJECT;
            for (const json_value *h = ok ? f->child : NULL; h; h = h->next)
                if ((h->type != JSON_STRING && h->type != JSON_NUMBER) ||
                    (h->type == JSON_STRING && strpbrk(h->str, "\r\n")) || strpbrk(h->key, "\r\n: "))
                    ok = 0;
            if (ok) st->headers = f;
        } else if (!strcmp(k, "body")) {
            if ((ok = f->type == JSON_STRING)) st->body = f->str, st->body_len = f->len;
        } else if (!strcmp(k, "content")) {
            if ((ok = f->type == JSON_STRING)) st->content = f->str, st->content_len = f->len;
        } else if (!strcmp(k, "finish_reason")) {
            if ((ok = f->type == JSON_STRING)) st->finish_reason = f->str;
        } else if (!strcmp(k, "omit")) {
            ok = f->type == JSON_ARRAY;
            static const char *const names[] = {"id", "object", "created", "model", "choices", "usage"};
            for (const json_value *e = ok ? f->child : NULL; e; e = e->next) {
                int known = 0;
                for (int i = 0; i < 6; i++)
                    if (e->type == JSON_STRING && !strcmp(e->str, names[i]))
                        st->omit |= 1u << i, known = 1;
                ok &= known;
            }
        } else if (!strcmp(k, "big_body_bytes")) {
            if ((ok = is_int(f, 0, 1 << 30))) st->big_body_bytes = (long long)f->number;
        } else if (!strcmp(k, "drip_ms")) {
            if ((ok = is_int(f, 1, 3600000))) st->drip_ms = (long)f->number;
        } else if (!strcmp(k, "drip_bytes")) {
            if ((ok = is_int(f, 1, 1 << 20))) st->drip_bytes = (long)f->number;
        } else if (!strcmp(k, "truncate")) {
            if ((ok = is_int(f, 0, 1 << 30))) st->truncate = (long)f->number;
        } else {
            int *flag = !strcmp(k, "content_null") ? &st->content_null
                      : !strcmp(k, "invalid_utf8") ? &st->invalid_utf8
                      : !strcmp(k, "reset") ? &st->reset
                      : !strcmp(k, "empty_reply") ? &st->empty_reply
                      : !strcmp(k, "hang") ? &st->hang : NULL;
            if (!flag) {
                snprintf(err, errlen, "%s: unknown step field '%s'", where, k);
                return -1;
            }
            if ((ok = f->type == JSON_BOOL)) *flag = f->boolean;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: bad value for step field '%s'", where, k);
            return -1;
        }
    }
    return 0;
}

/* A rule's "limit": {"rps": R [, "burst": B]} or {"concurrency": C}, with
 * "status" (default 429) and "retry_after": "s" (default), "ms" or "none". */
static int limit_parse(const json_value *o, rule_t *ru, char *err, size_t errlen, const char *where)
{
    ru->limit_status = 429;
    ru->limit_retry = 1;
    if (o->type != JSON_OBJECT) {
        snprintf(err, errlen, "%s: limit must be an object", where);
        return -1;
    }
    for (const json_value *f = o->child; f; f = f->next) {
        int ok;
        if (!strcmp(f->key, "rps")) {
            if ((ok = f->type == JSON_NUMBER && f->number > 0)) ru->limit_rps = f->number;
        } else if (!strcmp(f->key, "burst")) {
            if ((ok = f->type == JSON_NUMBER && f->number >= 1)) ru->limit_burst = f->number;
        } else if (!strcmp(f->key, "concurrency")) {
            if ((ok = is_int(f, 1, 1e9))) ru->limit_concurrency = (long)f->number;
        } else if (!strcmp(f->key, "status")) {
            if ((ok = is_int(f, 400, 599))) ru->limit_status = (int)f->number;
        } else if (!strcmp(f->key, "retry_after")) {
            ok = f->type == JSON_STRING && (!strcmp(f->str, "s") || !strcmp(f->str, "ms") || !strcmp(f->str, "none"));
            if (ok) ru->limit_retry = !strcmp(f->str, "s") ? 1 : !strcmp(f->str, "ms") ? 2 : 0;
        } else {
            snprintf(err, errlen, "%s: unknown limit field '%s'", where, f->key);
            return -1;
        }
        if (!ok) {
            snprintf(err, errlen, "%s: bad value for limit field '%s'", where, f->key);
            return -1;
        }
    }
    if ((ru->limit_rps > 0) == (ru->limit_concurrency > 0)) {
        snprintf(err, errlen, "%s: limit needs one of rps or concurrency", where);
        return -1;
    }
    if (!ru->limit_burst)
        ru->limit_burst = ru->limit_rps < 1 ? 1 : ru->limit_rps;
    ru->tokens = ru->limit_burst;
    return 0;
}

/* Parses a script document into s (replacing nothing on error). */
static int script_load(script_t *s, const char *text, size_t len, char *err, size_t errlen)
{
    char jerr[128];
    script_t n = {0};
    n.doc = json_parse(text, len, jerr, sizeof jerr);
    if (!n.doc) {
        snprintf(err, errlen, "script is not valid JSON: %s", jerr);
        return -1;
    }
    const json_value *rules = json_get(json_root(n.doc), "rules");
    if (!rules || rules->type != JSON_ARRAY) {
        snprintf(err, errlen, "script must be an object with a \"rules\" array");
        goto fail;
    }
    for (const json_value *k = json_root(n.doc)->child; k; k = k->next)
        if (strcmp(k->key, "rules") != 0) {
            snprintf(err, errlen, "unknown script field '%s'", k->key);
            goto fail;
        }
    n.rules = calloc(rules->len ? rules->len : 1, sizeof *n.rules);
    if (!n.rules) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (const json_value *r = rules->child; r; r = r->next) {
        rule_t *ru = &n.rules[n.nrules++];
        char where[64];
        snprintf(where, sizeof where, "rule %zu", n.nrules - 1);
        ru->then = step_default;
        if (r->type != JSON_OBJECT) {
            snprintf(err, errlen, "%s: a rule must be an object", where);
            goto fail;
        }
        for (const json_value *f = r->child; f; f = f->next) {
            if (!strcmp(f->key, "model") && f->type == JSON_STRING) {
                if (strcmp(f->str, "*") != 0)
                    ru->model = f->str, ru->model_len = f->len;
            } else if (!strcmp(f->key, "contains") && f->type == JSON_STRING) {
                ru->contains = f->str, ru->contains_len = f->len;
            } else if (!strcmp(f->key, "steps") && f->type == JSON_ARRAY) {
                ru->steps = calloc(f->len ? f->len : 1, sizeof *ru->steps);
                if (!ru->steps) {
                    snprintf(err, errlen, "out of memory");
                    goto fail;
                }
                for (const json_value *st = f->child; st; st = st->next) {
                    char w2[96];
                    snprintf(w2, sizeof w2, "%s step %zu", where, ru->nsteps);
                    if (step_parse(st, &ru->steps[ru->nsteps++], err, errlen, w2) < 0)
                        goto fail;
                }
            } else if (!strcmp(f->key, "limit")) {
                if (limit_parse(f, ru, err, errlen, where) < 0)
                    goto fail;
            } else if (!strcmp(f->key, "then")) {
                char w2[96];
                snprintf(w2, sizeof w2, "%s then", where);
                if (step_parse(f, &ru->then, err, errlen, w2) < 0)
                    goto fail;
            } else {
                snprintf(err, errlen, "%s: unknown or mistyped rule field '%s'", where, f->key);
                goto fail;
            }
        }
    }
    script_free(s);
    *s = n;
    return 0;
fail:
    script_free(&n);
    return -1;
}

/* ---- statistics and the request log ---------------------------------- */

typedef struct { char *name; size_t len; uint64_t n; } model_count;

typedef struct {
    uint64_t requests, chat_requests, choices, prompt_tokens, completion_tokens;
    model_count *models;
    size_t nmodels, cap;
    uint64_t by_status[600];
    uint64_t resets, empties, hangs;
} stats_t;

static void stats_model(stats_t *s, const char *m, size_t len)
{
    for (size_t i = 0; i < s->nmodels; i++)
        if (s->models[i].len == len && memcmp(s->models[i].name, m, len) == 0) {
            s->models[i].n++;
            return;
        }
    if (s->nmodels == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        model_count *v = realloc(s->models, cap * sizeof *v);
        if (!v)
            return;
        s->models = v;
        s->cap = cap;
    }
    char *name = malloc(len + 1);
    if (!name)
        return;
    memcpy(name, m, len);
    name[len] = '\0';
    s->models[s->nmodels++] = (model_count){name, len, 1};
}

static void stats_clear(stats_t *s)
{
    for (size_t i = 0; i < s->nmodels; i++)
        free(s->models[i].name);
    free(s->models);
    memset(s, 0, sizeof *s);
}

/* ---- connections ----------------------------------------------------- */

enum { ST_IDLE, ST_WAIT, ST_DRIP, ST_HANG, ST_CLOSING };
enum { ACT_SEND, ACT_RESET, ACT_EMPTY, ACT_DRIP, ACT_TRUNC };

typedef struct conn {
    int fd;
    uint32_t gen;
    uint32_t events;                /* what epoll watches now */
    int state, action, eof, cont_sent, close_after;
    buf_t in;
    size_t in_off, scan;            /* scan: bytes after in_off already searched for the header end */
    buf_t out;
    size_t out_off;
    buf_t pend;                     /* a delayed or dripped response */
    size_t pend_off;
    long drip_ms, drip_bytes, truncate;
    long limit_rule;                /* 1 + the rule whose in_flight counts this reply, or 0 */
    uint64_t limit_gen;
} conn_t;

typedef struct {
    int ep, lfd, log_fd;
    long latency_ms;
    const char *require_key;
    uint64_t max_requests, deadline, drain_deadline;
    int draining;
    conn_t **conns;                 /* by fd */
    size_t nconns_cap, open;
    uint32_t next_gen;
    heap_t timers;
    script_t script;
    stats_t stats;
    uint64_t completion_id, log_seq, choice_count;
    uint64_t total_requests;        /* for --max-requests; /_reset does not zero it */
    buf_t scratch, body, contents, line;
    int mimic;                      /* --mimic: MIMIC_* */
    uint64_t script_gen;            /* bumped when /_script replaces the rules */
} server_t;

enum { MIMIC_NONE, MIMIC_OPENAI, MIMIC_VLLM, MIMIC_LLAMACPP, MIMIC_LLAMACPP400, MIMIC_OLLAMA, MIMIC_TOGETHER };

static void limit_release(server_t *S, conn_t *c);
static void conn_truncate(conn_t *c);
static int simple_reply(server_t *S, conn_t *c, int status, const buf_t *body);

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig) { stop_signal = sig; }

static void conn_events(server_t *S, conn_t *c)
{
    uint32_t want = (c->eof ? 0 : EPOLLIN) | (c->out_off < c->out.len ? EPOLLOUT : 0);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)c->fd};
        epoll_ctl(S->ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->events = want;
    }
}

/* how: 0 = ordinary close, 1 = reset (RST, no FIN) */
static void conn_close(server_t *S, conn_t *c, int reset)
{
    limit_release(S, c);
    if (reset) {
        struct linger lg = {1, 0};
        setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    epoll_ctl(S->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    S->conns[c->fd] = NULL;
    S->open--;
    buf_free(&c->in);
    buf_free(&c->out);
    buf_free(&c->pend);
    free(c);
}

static int conn_timer(server_t *S, conn_t *c, long ms)
{
    tmr_t t = {now_ms() + (uint64_t)ms, c->fd, c->gen};
    return heap_push(&S->timers, t);
}

/* Sends what out holds. Returns 1 when all is sent, 0 when the socket is
 * full (EPOLLOUT armed), -1 when the connection died and was closed. */
static int conn_flush(server_t *S, conn_t *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(S, c, 0);
            return -1;
        }
        c->out_off += (size_t)n;
    }
    if (c->out_off == c->out.len) {
        if (c->out.cap > OUT_HIGH_WATER)
            buf_free(&c->out);
        else
            buf_reset(&c->out);
        c->out_off = 0;
    }
    conn_events(S, c);
    return c->out.len == 0;
}

/* ---- HTTP responses -------------------------------------------------- */

static const char *http_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

static void http_response(buf_t *o, int status, const json_value *headers, int close, const char *body,
                          size_t len)
{
    buf_printf(o, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n", status,
               http_reason(status), len);
    for (const json_value *h = headers ? headers->child : NULL; h; h = h->next) {
        if (h->type == JSON_STRING)
            buf_printf(o, "%s: %s\r\n", h->key, h->str);
        else
            buf_printf(o, "%s: %.0f\r\n", h->key, h->number);
    }
    if (close)
        buf_puts(o, "Connection: close\r\n");
    buf_puts(o, "\r\n");
    buf_append(o, body, len);
}

/* OpenAI's error envelope. */
static void error_body(buf_t *b, const char *message, const char *type, const char *code)
{
    buf_reset(b);
    buf_puts(b, "{\"error\":{\"message\":");
    json_write_string(b, message, strlen(message));
    buf_puts(b, ",\"type\":");
    json_write_string(b, type, strlen(type));
    buf_puts(b, ",\"param\":null,\"code\":");
    if (code)
        json_write_string(b, code, strlen(code));
    else
        buf_puts(b, "null");
    buf_puts(b, "}}");
}

static void default_error_body(buf_t *b, int status)
{
    char msg[96];
    snprintf(msg, sizeof msg, "fake server error %d", status);
    if (status == 429)
        error_body(b, "Rate limit reached (fake server)", "requests", "rate_limit_exceeded");
    else if (status == 401)
        error_body(b, "Incorrect API key provided", "invalid_request_error", "invalid_api_key");
    else if (status >= 500)
        error_body(b, msg, "server_error", NULL);
    else
        error_body(b, msg, "invalid_request_error", NULL);
}

/* ---- chat completions ------------------------------------------------ */

typedef struct {
    const char *model;
    size_t model_len;
    long long seed;
    int has_seed, n;
    int logprobs, top_logprobs;     /* logprobs asked for, and how many alternatives */
    const json_value *root;         /* the request, for the log's field names */
    uint64_t base;                  /* FNV state after model and messages */
    uint64_t msg_hash;              /* FNV of the messages alone, for the log */
    const char *echo;
    size_t echo_len;
    size_t prompt_bytes;
} chat_req;

static void content_of(const json_value *c, buf_t *tmp, const char **p, size_t *n)
{
    *p = "";
    *n = 0;
    if (c && c->type == JSON_STRING) {
        *p = c->str;
        *n = c->len;
    } else if (c && c->type == JSON_ARRAY) {   /* [{"type":"text","text":"..."}] */
        buf_reset(tmp);
        for (const json_value *part = c->child; part; part = part->next) {
            size_t l;
            const char *t = json_str(json_get(part, "text"), &l);
            if (t)
                buf_append(tmp, t, l);
        }
        *p = tmp->data ? tmp->data : "";
        *n = tmp->len;
    }
}

/* Reads the request fields; on a client error writes its message to err. */
static int chat_read(server_t *S, const json_value *root, chat_req *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->n = 1;
    if (!root || root->type != JSON_OBJECT) {
        snprintf(err, errlen, "The request body must be a JSON object.");
        return -1;
    }
    const json_value *model = json_get(root, "model"), *msgs = json_get(root, "messages");
    const json_value *n = json_get(root, "n"), *seed = json_get(root, "seed"), *mt = json_get(root, "max_tokens");
    if (!model || model->type != JSON_STRING) {
        snprintf(err, errlen, "you must provide a model parameter");
        return -1;
    }
    if (!msgs || msgs->type != JSON_ARRAY) {
        snprintf(err, errlen, "Missing required parameter: 'messages'.");
        return -1;
    }
    if (n && n->type != JSON_NULL) {
        if (!is_int(n, 1, MAX_N)) {
            snprintf(err, errlen, "Invalid 'n': must be an integer from 1 to %d.", MAX_N);
            return -1;
        }
        q->n = (int)n->number;
    }
    if (seed && seed->type != JSON_NULL) {
        if (!is_int(seed, -9.2e18, 9.2e18)) {
            snprintf(err, errlen, "Invalid 'seed': must be an integer.");
            return -1;
        }
        q->seed = (long long)seed->number;
        q->has_seed = 1;
    }
    if (mt && mt->type != JSON_NULL && !is_int(mt, 1, 1e9)) {
        snprintf(err, errlen, "Invalid 'max_tokens': must be a positive integer.");
        return -1;
    }
    const json_value *lp = json_get(root, "logprobs"), *top = json_get(root, "top_logprobs");
    if (lp && lp->type != JSON_NULL && lp->type != JSON_BOOL) {
        snprintf(err, errlen, "Invalid 'logprobs': must be a boolean.");
        return -1;
    }
    if (top && top->type != JSON_NULL && !is_int(top, 0, 20)) {
        snprintf(err, errlen, "Invalid 'top_logprobs': must be an integer from 0 to 20.");
        return -1;
    }
    q->logprobs = lp && lp->type == JSON_BOOL && lp->boolean;
    q->top_logprobs = top && top->type == JSON_NUMBER ? (int)top->number : 0;
    if (q->top_logprobs && !q->logprobs) {
        snprintf(err, errlen, "Invalid 'top_logprobs': requires 'logprobs' to be true.");
        return -1;
    }
    q->root = root;
    q->model = model->str;
    q->model_len = model->len;
    q->base = fnv_field(FNV_OFFSET, model->str, model->len);
    q->msg_hash = FNV_OFFSET;
    size_t echo_off = 0;
    buf_reset(&S->contents);
    for (const json_value *m = msgs->child; m; m = m->next) {
        if (m->type != JSON_OBJECT) {
            snprintf(err, errlen, "Invalid 'messages': each message must be an object.");
            return -1;
        }
        size_t rl = 0, cl;
        const char *role = json_str(json_get(m, "role"), &rl), *content;
        if (!role)
            role = "";
        content_of(json_get(m, "content"), &S->scratch, &content, &cl);
        q->base = fnv_field(fnv_field(q->base, role, rl), content, cl);
        q->msg_hash = fnv_field(fnv_field(q->msg_hash, role, rl), content, cl);
        q->prompt_bytes += cl;
        if (S->contents.len)
            buf_putc(&S->contents, '\n');
        size_t at = S->contents.len;
        buf_append(&S->contents, content, cl);
        if (rl == 4 && memcmp(role, "user", 4) == 0) {
            echo_off = at;   /* a pointer only once contents stops growing */
            q->echo_len = cl < ECHO_BYTES ? cl : ECHO_BYTES;
        }
    }
    q->echo = q->echo_len ? S->contents.data + echo_off : "";
    return 0;
}

/* The first rule that serves q, or NULL. */
static rule_t *chat_rule(server_t *S, const chat_req *q)
{
    for (size_t i = 0; i < S->script.nrules; i++) {
        rule_t *r = &S->script.rules[i];
        if (r->model && (r->model_len != q->model_len || memcmp(r->model, q->model, q->model_len) != 0))
            continue;
        if (r->contains && r->contains_len &&
            !memmem(S->contents.data ? S->contents.data : "", S->contents.len, r->contains, r->contains_len))
            continue;
        return r;
    }
    return NULL;
}

static const step_t *chat_step(server_t *S, const chat_req *q)
{
    rule_t *r = chat_rule(S, q);
    if (!r)
        return &step_default;
    return r->pos < r->nsteps ? &r->steps[r->pos++] : &r->then;
}

/* OpenAI's "logprobs":{"content":[...]} of a choice's content: tokens of
 * up to 4 bytes, each with a logprob in (-2, 0] from a hash of (h, its
 * position), and top alternatives below it, the token itself first. */
static void chat_logprobs(buf_t *b, const buf_t *content, uint64_t h, int top)
{
    buf_puts(b, ",\"logprobs\":{\"content\":[");
    for (size_t at = 0; at < content->len; at += 4) {
        size_t n = content->len - at < 4 ? content->len - at : 4;
        double lp = -(double)(fnv_int(h, (int64_t)at) % 2000) / 1000.0;
        const unsigned char *t = (const unsigned char *)content->data + at;
        buf_puts(b, at ? ",{\"token\":" : "{\"token\":");
        json_write_string(b, (const char *)t, n);
        buf_printf(b, ",\"logprob\":%.3f,\"bytes\":[", lp);
        for (size_t j = 0; j < n; j++)
            buf_printf(b, "%s%u", j ? "," : "", t[j]);
        buf_puts(b, "],\"top_logprobs\":[");
        for (int j = 0; j < top; j++) {
            buf_puts(b, j ? ",{\"token\":" : "{\"token\":");
            if (j == 0)
                json_write_string(b, (const char *)t, n);
            else
                buf_printf(b, "\"alt%d\"", j);
            buf_printf(b, ",\"logprob\":%.3f}", lp - j);
        }
        buf_puts(b, "]}");
    }
    buf_puts(b, "]}");
}

/* The normal reply, shaped like OpenAI's, into b. */
static void chat_reply(server_t *S, buf_t *b, const chat_req *q, const step_t *st)
{
    buf_t *content = &S->scratch;
    size_t completion = 0;
    int first = 1;
    buf_reset(b);
    buf_putc(b, '{');
#define FIELD(name) (buf_puts(b, first ? "\"" name "\":" : ",\"" name "\":"), first = 0)
    if (!(st->omit & OMIT_ID)) {
        FIELD("id");
        buf_printf(b, "\"chatcmpl-%llu\"", (unsigned long long)++S->completion_id);
    }
    if (!(st->omit & OMIT_OBJECT)) {
        FIELD("object");
        buf_puts(b, "\"chat.completion\"");
    }
    if (!(st->omit & OMIT_CREATED)) {
        FIELD("created");
        buf_printf(b, "%lld", (long long)time(NULL));
    }
    if (!(st->omit & OMIT_MODEL)) {
        FIELD("model");
        json_write_string(b, q->model, q->model_len);
    }
    for (int i = 0; i < q->n; i++) {
        buf_reset(content);
        if (st->big_body_bytes >= 0) {
            if (buf_reserve(content, (size_t)st->big_body_bytes) == 0) {
                memset(content->data, 'x', (size_t)st->big_body_bytes);
                content->len = (size_t)st->big_body_bytes;
                content->data[content->len] = '\0';
            }
        } else {
            tmpl_ctx x = {fnv_int(q->base, q->seed + i), fnv_int(q->base ^ FNV_PRIME, (int64_t)++S->choice_count),
                          q->seed + i, q->model, q->echo, q->model_len, q->echo_len};
            const char *t = st->content ? st->content : DEFAULT_TEMPLATE;
            tmpl_expand(content, t, st->content ? st->content_len : strlen(t), &x);
        }
        if (!st->content_null)
            completion += content->len ? (content->len + 3) / 4 : 0;
        if (st->omit & OMIT_CHOICES)
            continue;
        if (i == 0) {
            FIELD("choices");
            buf_putc(b, '[');
        }
        buf_printf(b, "%s{\"index\":%d,\"message\":{\"role\":\"assistant\",\"content\":", i ? "," : "", i);
        if (st->content_null) {
            buf_puts(b, "null");
        } else {
            json_write_string(b, content->data ? content->data : "", content->len);
            if (st->invalid_utf8) {
                /* raw, unrepaired: a lone 0xff 0xfe and a cut-off euro sign */
                b->len--;
                buf_append(b, " \xff\xfe x\xe2\x82\"", 8);
            }
        }
        buf_puts(b, "}");
        if (q->logprobs && !st->content_null)
            chat_logprobs(b, content, fnv_int(q->base, q->seed + i), q->top_logprobs);
        else if (q->logprobs)
            buf_puts(b, ",\"logprobs\":null");
        buf_puts(b, ",\"finish_reason\":");
        const char *fr = st->finish_reason ? st->finish_reason : "stop";
        json_write_string(b, fr, strlen(fr));
        buf_putc(b, '}');
    }
    if (!(st->omit & OMIT_CHOICES))
        buf_putc(b, ']');
    if (!(st->omit & OMIT_USAGE)) {
        size_t prompt = q->prompt_bytes / 4 ? q->prompt_bytes / 4 : 1;
        S->stats.prompt_tokens += prompt;
        S->stats.completion_tokens += completion;
        FIELD("usage");
        buf_printf(b, "{\"prompt_tokens\":%zu,\"completion_tokens\":%zu,\"total_tokens\":%zu}", prompt, completion,
                   prompt + completion);
    }
#undef FIELD
    buf_putc(b, '}');
}

static void chat_log(server_t *S, const chat_req *q, const step_t *st, int status)
{
    if (S->log_fd < 0)
        return;
    buf_t *l = &S->line;
    buf_reset(l);
    buf_printf(l, "{\"seq\":%llu,\"model\":", (unsigned long long)++S->log_seq);
    json_write_string(l, q->model, q->model_len);
    buf_printf(l, ",\"n\":%d,\"seed\":", q->n);
    if (q->has_seed)
        buf_printf(l, "%lld", q->seed);
    else
        buf_puts(l, "null");
    buf_printf(l, ",\"msg_hash\":\"%016llx\",\"status\":%d,\"fields\":[", (unsigned long long)q->msg_hash,
               status);
    for (const json_value *f = q->root->child; f; f = f->next) {
        if (f != q->root->child)
            buf_putc(l, ',');
        json_write_string(l, f->key, f->key_len);
    }
    buf_putc(l, ']');
    if (st && (st->reset || st->empty_reply || st->hang))
        buf_printf(l, ",\"fault\":\"%s\"", st->reset ? "reset" : st->empty_reply ? "empty_reply" : "hang");
    buf_puts(l, "}\n");
    /* one write per line, O_APPEND: lines stay whole even if the file is shared */
    if (write(S->log_fd, l->data, l->len) < 0)
        perror("fakeserver: log");
}

/* Queues (now or after the latency) what the step says; returns -1 if c closed. */
static int conn_respond(server_t *S, conn_t *c, const step_t *st, int status, const buf_t *body, long latency)
{
    if (st->hang) {
        c->state = ST_HANG;
        return 0;
    }
    c->action = st->reset ? ACT_RESET : st->empty_reply ? ACT_EMPTY : st->drip_ms ? ACT_DRIP
              : st->truncate >= 0 ? ACT_TRUNC : ACT_SEND;
    if (c->action == ACT_SEND && latency <= 0) {
        http_response(&c->out, status, st->headers, c->close_after, body->data, body->len);
        if (c->close_after)
            c->state = ST_CLOSING;
        return 0;
    }
    if (c->action == ACT_SEND || c->action == ACT_DRIP || c->action == ACT_TRUNC) {
        buf_reset(&c->pend);
        c->pend_off = 0;
        http_response(&c->pend, status, st->headers, c->close_after, body->data, body->len);
        c->drip_ms = st->drip_ms;
        c->drip_bytes = st->drip_bytes;
        c->truncate = st->truncate;
    }
    c->state = ST_WAIT;
    if (latency <= 0 && c->action == ACT_TRUNC) {
        conn_truncate(c);   /* the caller's conn_drive sends it and closes */
        return 0;
    }
    if (latency <= 0 && c->action != ACT_DRIP) {
        /* a reset or empty reply without latency happens now */
        conn_close(S, c, c->action == ACT_RESET);
        return -1;
    }
    if (conn_timer(S, c, latency > 0 ? latency : 0) < 0) {
        conn_close(S, c, 0);
        return -1;
    }
    return 0;
}

/* ---- imitations of real servers (--mimic) and rate limits (rule "limit") ----
 * Each wording below is the server's own, as its source or documentation
 * shows it, so the client's recognition is tested against what it will meet. */

static const char *const mimic_names[] = {"", "openai", "vllm", "llamacpp", "llamacpp400", "ollama", "together"};

static int mimic_v1_only(const server_t *S)
{
    return S->mimic && S->mimic != MIMIC_LLAMACPP && S->mimic != MIMIC_LLAMACPP400;
}

/* An error body in the server's shape (message NULL: a generic one for status). */
static void mimic_error_body(server_t *S, buf_t *b, int status, const char *message)
{
    char msg[160];
    if (!message) {
        snprintf(msg, sizeof msg, "fake %s error %d", S->mimic ? mimic_names[S->mimic] : "server", status);
        message = msg;
    }
    buf_reset(b);
    switch (S->mimic) {
    case MIMIC_VLLM:     /* {"object":"error","message","type","param","code"} */
        buf_puts(b, "{\"object\":\"error\",\"message\":");
        json_write_string(b, message, strlen(message));
        buf_printf(b, ",\"type\":\"%s\",\"param\":null,\"code\":%d}",
                   status == 400 ? "BadRequestError" : status == 404 ? "NotFoundError" : "InternalServerError", status);
        return;
    case MIMIC_LLAMACPP: case MIMIC_LLAMACPP400:     /* {"error":{"code","message","type"}} */
        buf_printf(b, "{\"error\":{\"code\":%d,\"message\":", status);
        json_write_string(b, message, strlen(message));
        buf_printf(b, ",\"type\":\"%s\"}}", status >= 500 ? "server_error"
                   : status == 503 ? "unavailable_error" : "invalid_request_error");
        return;
    case MIMIC_OLLAMA:   /* {"error":"text"} */
        buf_puts(b, "{\"error\":");
        json_write_string(b, message, strlen(message));
        buf_putc(b, '}');
        return;
    default:
        if (message == msg)
            default_error_body(b, status);
        else
            error_body(b, message, status >= 500 ? "server_error" : "invalid_request_error", NULL);
    }
}

/* A path other than the chat path: each server's own 404. */
static int mimic_not_found(server_t *S, conn_t *c, const char *method, size_t ml, const char *path, size_t pl)
{
    buf_reset(&S->body);
    if (S->mimic == MIMIC_VLLM)                 /* FastAPI */
        buf_puts(&S->body, "{\"detail\":\"Not Found\"}");
    else if (S->mimic == MIMIC_OLLAMA)          /* Go's net/http, as text */
        buf_puts(&S->body, "404 page not found");
    else if (S->mimic == MIMIC_LLAMACPP || S->mimic == MIMIC_LLAMACPP400)
        buf_puts(&S->body, "{\"error\":{\"code\":404,\"message\":\"File Not Found\",\"type\":\"not_found_error\"}}");
    else {
        char m[300];
        snprintf(m, sizeof m, "Invalid URL (%.*s %.*s)", (int)ml, method, (int)pl, path);
        error_body(&S->body, m, "invalid_request_error", NULL);
    }
    return simple_reply(S, c, 404, &S->body);
}

/* The number q asks for in "temperature" (vLLM's default 1 when absent). */
static double mimic_temperature(const json_value *root)
{
    const json_value *t = json_get(root, "temperature");
    return t && t->type == JSON_NUMBER ? t->number : 1.0;
}

/* Refuse what the imitated server refuses, or change what it ignores;
 * 1 when a response was queued (-1: c closed), 0 to go on. */
static int mimic_refuse(server_t *S, conn_t *c, const json_value *root, const chat_req *q)
{
    const char *refusal = NULL;
    int status = 400;
    if ((S->mimic == MIMIC_LLAMACPP || S->mimic == MIMIC_LLAMACPP400) && q->n != 1) {
        /* a std::runtime_error, so a 500, in the versions that say it this way */
        refusal = S->mimic == MIMIC_LLAMACPP ? "Only one completion choice is allowed"
                                             : "Illegal param: only one completion choice is allowed";
        status = S->mimic == MIMIC_LLAMACPP ? 500 : 400;
    } else if (S->mimic == MIMIC_VLLM && q->n > 1 && mimic_temperature(root) < 1e-5) {
        refusal = "n must be 1 when using greedy sampling, got 3.";
    }
    if (!refusal)
        return 0;
    char m[96];
    if (S->mimic == MIMIC_VLLM) {
        snprintf(m, sizeof m, "n must be 1 when using greedy sampling, got %d.", q->n);
        refusal = m;
    }
    S->stats.by_status[status]++;
    chat_log(S, q, NULL, status);
    mimic_error_body(S, &S->body, status, refusal);
    return conn_respond(S, c, &step_default, status, &S->body, 0) < 0 ? -1 : 1;
}

/* What the imitated server ignores, once the request is logged as asked. */
static void mimic_ignore(const server_t *S, chat_req *q)
{
    if (S->mimic == MIMIC_OLLAMA)
        q->n = 1;       /* Ollama's OpenAI layer answers one choice, whatever n says */
}

/* A rule's limit: over it, q gets the limit's status (1; -1 if c closed)
 * with a Retry-After for the next free token, in the server's shape. */
static int limit_refuse(server_t *S, conn_t *c, const chat_req *q)
{
    rule_t *r = chat_rule(S, q);
    if (!r || !r->limit_status)
        return 0;
    double wait_ms = 0;
    if (r->limit_rps > 0) {
        uint64_t now = now_ms();
        if (r->refilled_ms)
            r->tokens = fmin(r->limit_burst, r->tokens + (double)(now - r->refilled_ms) * r->limit_rps / 1000.0);
        r->refilled_ms = now;
        if (r->tokens >= 1) {
            r->tokens -= 1;
            return 0;
        }
        wait_ms = (1 - r->tokens) * 1000.0 / r->limit_rps;
    } else if (r->in_flight < r->limit_concurrency) {
        return 0;
    } else {
        wait_ms = 1000;
    }
    r->limited++;
    int status = r->limit_status;
    S->stats.by_status[status]++;
    chat_log(S, q, NULL, status);
    char m[300];
    if (S->mimic == MIMIC_OLLAMA && status == 503)
        snprintf(m, sizeof m, "server busy, please try again.  maximum pending requests exceeded");
    else if (status == 503)
        snprintf(m, sizeof m, "The server is overloaded or not ready yet.");
    else
        snprintf(m, sizeof m, "Rate limit reached for %.*s (fake %s): limit %g requests per second. "
                 "Please try again in %.0fms.", (int)q->model_len, q->model,
                 S->mimic ? mimic_names[S->mimic] : "server", r->limit_rps ? r->limit_rps : (double)r->limit_concurrency, wait_ms);
    buf_reset(&S->body);
    if (S->mimic == MIMIC_NONE || S->mimic == MIMIC_OPENAI || S->mimic == MIMIC_TOGETHER) {
        buf_puts(&S->body, "{\"error\":{\"message\":");
        json_write_string(&S->body, m, strlen(m));
        buf_puts(&S->body, status == 429 ? ",\"type\":\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}"
                                         : ",\"type\":\"server_error\",\"param\":null,\"code\":null}}");
    } else {
        mimic_error_body(S, &S->body, status, m);
    }
    char header[64];
    if (r->limit_retry == 1)
        snprintf(header, sizeof header, "{\"retry-after\":\"%.0f\"}", ceil(wait_ms / 1000.0));
    else if (r->limit_retry == 2)
        snprintf(header, sizeof header, "{\"retry-after-ms\":\"%.0f\"}", ceil(wait_ms));
    else
        snprintf(header, sizeof header, "{}");
    char jerr[64];
    json_doc *hd = json_parse(header, strlen(header), jerr, sizeof jerr);
    step_t st = step_default;
    st.headers = hd ? json_root(hd) : NULL;
    int rc = conn_respond(S, c, &st, status, &S->body, 0);
    json_free(hd);
    return rc < 0 ? -1 : 1;
}

/* A reply of a concurrency-limited rule counts against it until it is sent. */
static void limit_hold(server_t *S, conn_t *c, rule_t *r)
{
    if (!r || !r->limit_concurrency)
        return;
    r->in_flight++;
    c->limit_rule = (long)(r - S->script.rules) + 1;
    c->limit_gen = S->script_gen;
}

static void limit_release(server_t *S, conn_t *c)
{
    if (!c->limit_rule)
        return;
    if (c->limit_gen == S->script_gen && (size_t)c->limit_rule <= S->script.nrules)
        S->script.rules[c->limit_rule - 1].in_flight--;
    c->limit_rule = 0;
}

static int chat_handle(server_t *S, conn_t *c, const char *auth, size_t auth_len, const char *body, size_t len)
{
    S->stats.chat_requests++;
    if (S->require_key) {
        size_t kl = strlen(S->require_key);
        if (auth_len != 7 + kl || strncasecmp(auth, "Bearer ", 7) != 0 || memcmp(auth + 7, S->require_key, kl) != 0) {
            S->stats.by_status[401]++;
            buf_reset(&S->body);
            buf_puts(&S->body, "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":"
                               "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
            return conn_respond(S, c, &step_default, 401, &S->body, 0);
        }
    }
    char err[256], jerr[128];
    chat_req q;
    json_doc *doc = json_parse(body, len, jerr, sizeof jerr);
    if (!doc)
        snprintf(err, sizeof err, "We could not parse the JSON body of your request (%s).", jerr);
    if (!doc || chat_read(S, json_root(doc), &q, err, sizeof err) < 0) {
        json_free(doc);
        S->stats.by_status[400]++;
        error_body(&S->body, err, "invalid_request_error", NULL);
        return conn_respond(S, c, &step_default, 400, &S->body, 0);
    }
    int refused = mimic_refuse(S, c, json_root(doc), &q);
    if (!refused)
        refused = limit_refuse(S, c, &q);
    if (refused) {
        json_free(doc);
        return refused < 0 ? -1 : 0;
    }
    const step_t *st = chat_step(S, &q);
    stats_model(&S->stats, q.model, q.model_len);
    if (st->reset) S->stats.resets++;
    else if (st->empty_reply) S->stats.empties++;
    else if (st->hang) S->stats.hangs++;
    else S->stats.by_status[st->status]++;
    chat_log(S, &q, st, st->status);
    mimic_ignore(S, &q);
    if (st->body) {
        buf_reset(&S->body);
        buf_append(&S->body, st->body, st->body_len);
    } else if (st->status == 200) {
        chat_reply(S, &S->body, &q, st);
        S->stats.choices += (uint64_t)q.n;
    } else {
        mimic_error_body(S, &S->body, st->status, NULL);
    }
    rule_t *held = chat_rule(S, &q);      /* q points into doc */
    json_free(doc);
    int rc = conn_respond(S, c, st, st->status, &S->body, st->latency_ms >= 0 ? st->latency_ms : S->latency_ms);
    if (rc == 0 && (c->state == ST_WAIT || c->state == ST_HANG))
        limit_hold(S, c, held);
    return rc;
}

static void stats_json(server_t *S, buf_t *b)
{
    stats_t *s = &S->stats;
    buf_reset(b);
    buf_printf(b, "{\"requests\":%llu,\"chat_requests\":%llu,\"choices\":%llu,\"prompt_tokens\":%llu,"
               "\"completion_tokens\":%llu,\"by_model\":{",
               (unsigned long long)s->requests, (unsigned long long)s->chat_requests,
               (unsigned long long)s->choices, (unsigned long long)s->prompt_tokens,
               (unsigned long long)s->completion_tokens);
    for (size_t i = 0; i < s->nmodels; i++) {
        if (i)
            buf_putc(b, ',');
        json_write_string(b, s->models[i].name, s->models[i].len);
        buf_printf(b, ":%llu", (unsigned long long)s->models[i].n);
    }
    buf_puts(b, "},\"by_status\":{");
    int first = 1;
    for (int i = 0; i < 600; i++)
        if (s->by_status[i]) {
            buf_printf(b, "%s\"%d\":%llu", first ? "" : ",", i, (unsigned long long)s->by_status[i]);
            first = 0;
        }
    const char *names[] = {"reset", "empty_reply", "hang"};
    uint64_t counts[] = {s->resets, s->empties, s->hangs};
    for (int i = 0; i < 3; i++)
        if (counts[i]) {
            buf_printf(b, "%s\"%s\":%llu", first ? "" : ",", names[i], (unsigned long long)counts[i]);
            first = 0;
        }
    buf_printf(b, "},\"open_connections\":%zu}", S->open);
}

/* ---- HTTP requests --------------------------------------------------- */

static int simple_reply(server_t *S, conn_t *c, int status, const buf_t *body)
{
    return conn_respond(S, c, &step_default, status, body, 0);
}

static int simple_error(server_t *S, conn_t *c, int status, const char *msg, int close)
{
    error_body(&S->body, msg, "invalid_request_error", NULL);
    if (close)
        c->close_after = 1;
    return simple_reply(S, c, status, &S->body);
}

static int route(server_t *S, conn_t *c, const char *method, size_t ml, const char *path, size_t pl,
                 const char *auth, size_t al, const char *body, size_t bl)
{
    const char *q = memchr(path, '?', pl);
    if (q)
        pl = (size_t)(q - path);
#define PATH(lit) (pl == sizeof(lit) - 1 && memcmp(path, lit, pl) == 0)
#define METHOD(lit) (ml == sizeof(lit) - 1 && memcmp(method, lit, ml) == 0)
    if (PATH("/v1/chat/completions") || (PATH("/chat/completions") && !mimic_v1_only(S))) {
        if (!METHOD("POST"))
            return simple_error(S, c, 405, "Use POST for chat completions.", 0);
        return chat_handle(S, c, auth, al, body, bl);
    }
    if (PATH("/_stats")) {
        stats_json(S, &S->body);
        return simple_reply(S, c, 200, &S->body);
    }
    if (PATH("/_reset") && METHOD("POST")) {
        stats_clear(&S->stats);
        for (size_t i = 0; i < S->script.nrules; i++)
            S->script.rules[i].pos = 0;
        buf_reset(&S->body);
        buf_puts(&S->body, "{\"ok\":true}");
        return simple_reply(S, c, 200, &S->body);
    }
    if (PATH("/_script") && METHOD("POST")) {
        char err[256];
        if (script_load(&S->script, body, bl, err, sizeof err) < 0)
            return simple_error(S, c, 400, err, 0);
        S->script_gen++;
        buf_reset(&S->body);
        buf_printf(&S->body, "{\"ok\":true,\"rules\":%zu}", S->script.nrules);
        return simple_reply(S, c, 200, &S->body);
    }
#undef PATH
#undef METHOD
    if (S->mimic)
        return mimic_not_found(S, c, method, ml, path, pl);
    return simple_error(S, c, 404, "Unknown endpoint (fake server).", 0);
}

static int hdr_is(const char *name, size_t nl, const char *lit)
{
    return nl == strlen(lit) && strncasecmp(name, lit, nl) == 0;
}

/* Handles the next complete request in c->in. Returns 1 if one was handled,
 * 0 if more bytes are needed, -1 if the connection was closed. */
static int conn_next_request(server_t *S, conn_t *c)
{
    if (c->in_off == c->in.len) {
        buf_reset(&c->in);
        c->in_off = c->scan = 0;
        return 0;
    }
    if (c->in_off > 65536) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    const char *p = c->in.data + c->in_off;
    size_t avail = c->in.len - c->in_off;
    /* RFC 9112 2.2: ignore empty lines before a request line */
    size_t lead = 0;
    while (lead < avail && (p[lead] == '\r' || p[lead] == '\n'))
        lead++;
    if (lead) {
        c->in_off += lead;
        c->scan = 0;
        return avail == lead ? 0 : conn_next_request(S, c);
    }
    size_t from = c->scan > 3 ? c->scan - 3 : 0;
    const char *hend = memmem(p + from, avail - from, "\r\n\r\n", 4);
    if (!hend) {
        c->scan = avail;
        if (avail > MAX_HEADER_BYTES) {
            c->in_off = c->in.len;
            return simple_error(S, c, 431, "Request headers too large.", 1) < 0 ? -1 : 1;
        }
        return 0;
    }
    c->scan = (size_t)(hend - p);
    size_t hlen = (size_t)(hend - p) + 4;

    /* request line */
    const char *le = memmem(p, hlen, "\r\n", 2);
    const char *sp1 = memchr(p, ' ', (size_t)(le - p));
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || le - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        c->in_off = c->in.len;
        return simple_error(S, c, 400, "Malformed request line.", 1) < 0 ? -1 : 1;
    }
    int http10 = sp2[8] == '0';
    int keep_alive = !http10, chunked = 0, expect = 0, bad_len = 0;
    long long clen = -1;
    const char *auth = "";
    size_t auth_len = 0;
    for (const char *l = le + 2; l < hend;) {
        const char *e = memmem(l, (size_t)(hend + 2 - l), "\r\n", 2);
        const char *colon = memchr(l, ':', (size_t)(e - l));
        if (colon) {
            size_t nl = (size_t)(colon - l);
            const char *v = colon + 1, *ve = e;
            while (v < ve && (*v == ' ' || *v == '\t')) v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            size_t vl = (size_t)(ve - v);
            if (hdr_is(l, nl, "content-length")) {
                long long x = 0;
                if (vl == 0 || vl > 12)
                    bad_len = 1;
                for (size_t i = 0; i < vl; i++) {
                    if (v[i] < '0' || v[i] > '9') bad_len = 1;
                    x = x * 10 + (v[i] - '0');
                }
                if (clen >= 0 && clen != x)
                    bad_len = 1;
                clen = x;
            } else if (hdr_is(l, nl, "transfer-encoding")) {
                chunked = 1;   /* any coding makes the length unknowable to us */
            } else if (hdr_is(l, nl, "expect")) {
                expect = vl == 12 && strncasecmp(v, "100-continue", 12) == 0;
            } else if (hdr_is(l, nl, "connection")) {
                if (vl == 5 && strncasecmp(v, "close", 5) == 0) keep_alive = 0;
                else if (vl == 10 && strncasecmp(v, "keep-alive", 10) == 0) keep_alive = 1;
            } else if (hdr_is(l, nl, "authorization")) {
                auth = v;
                auth_len = vl;
            }
        }
        l = e + 2;
    }
    if (chunked || bad_len) {
        c->in_off = c->in.len;   /* the body's end is unknown: no more requests on this connection */
        return simple_error(S, c, chunked ? 411 : 400,
                            chunked ? "Chunked request bodies are not supported; send Content-Length."
                                    : "Invalid Content-Length.", 1) < 0 ? -1 : 1;
    }
    if (clen > MAX_BODY_BYTES) {
        c->in_off = c->in.len;
        return simple_error(S, c, 413, "Request body too large.", 1) < 0 ? -1 : 1;
    }
    size_t blen = clen > 0 ? (size_t)clen : 0;
    if (avail < hlen + blen) {
        if (expect && !c->cont_sent) {
            buf_puts(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
            c->cont_sent = 1;
        }
        return 0;
    }
    if (S->total_requests >= S->max_requests)
        return 0;   /* draining: leave it unanswered */
    S->stats.requests++;
    if (++S->total_requests >= S->max_requests && !S->draining) {
        S->draining = 1;
        S->drain_deadline = now_ms() + DRAIN_MS;
    }
    c->close_after = !keep_alive;
    c->cont_sent = 0;
    c->in_off += hlen + blen;
    c->scan = 0;
    int r = route(S, c, p, (size_t)(sp1 - p), sp1 + 1, (size_t)(sp2 - sp1 - 1), auth, auth_len, p + hlen, blen);
    return r < 0 ? -1 : 1;
}

/* Handles what can be handled and sends what can be sent. Returns -1 if c
 * was closed. */
static int conn_drive(server_t *S, conn_t *c)
{
    for (;;) {
        int handled = 0;
        while (c->state == ST_IDLE && c->out.len - c->out_off < OUT_HIGH_WATER) {
            int r = conn_next_request(S, c);
            if (r < 0)
                return -1;
            if (r == 0)
                break;
            handled = 1;
        }
        int f = conn_flush(S, c);
        if (f <= 0)
            return f;
        /* everything is sent */
        if (c->state == ST_CLOSING || (c->eof && c->state == ST_HANG) ||
            (c->eof && c->state == ST_IDLE && !handled)) {
            conn_close(S, c, 0);
            return -1;
        }
        if (!handled)
            return 0;
        /* out may have stopped the loop at the high-water mark: go round */
    }
}

/* The first c->truncate bytes of the pending response, then a clean close:
 * a reply cut short (curl error 18; behind nginx over HTTP/2, a stream reset). */
static void conn_truncate(conn_t *c)
{
    size_t n = (size_t)c->truncate < c->pend.len ? (size_t)c->truncate : c->pend.len;
    buf_append(&c->out, c->pend.data, n);
    buf_free(&c->pend);
    c->state = ST_CLOSING;
}

static void conn_on_timer(server_t *S, conn_t *c)
{
    if (c->state == ST_WAIT)
        limit_release(S, c);
    if (c->state == ST_WAIT && c->action == ACT_TRUNC) {
        conn_truncate(c);
        conn_drive(S, c);
        return;
    }
    if (c->state == ST_WAIT) {
        if (c->action == ACT_RESET || c->action == ACT_EMPTY) {
            conn_close(S, c, c->action == ACT_RESET);
            return;
        }
        if (c->action == ACT_SEND) {
            buf_append(&c->out, c->pend.data, c->pend.len);
            buf_free(&c->pend);
            c->state = c->close_after ? ST_CLOSING : ST_IDLE;
            conn_drive(S, c);
            return;
        }
        c->state = ST_DRIP;
    }
    if (c->state == ST_DRIP) {
        size_t left = c->pend.len - c->pend_off, n = (size_t)c->drip_bytes < left ? (size_t)c->drip_bytes : left;
        buf_append(&c->out, c->pend.data + c->pend_off, n);
        c->pend_off += n;
        if (c->pend_off == c->pend.len) {
            buf_free(&c->pend);
            c->state = c->close_after ? ST_CLOSING : ST_IDLE;
            conn_drive(S, c);
            return;
        }
        if (conn_flush(S, c) < 0)
            return;
        if (conn_timer(S, c, c->drip_ms) < 0)
            conn_close(S, c, 0);
    }
}

static void conn_on_readable(server_t *S, conn_t *c)
{
    static char rb[65536];
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(c->fd, rb, sizeof rb);
        if (n > 0) {
            if (c->in.len - c->in_off + (size_t)n > MAX_BODY_BYTES + MAX_HEADER_BYTES ||
                buf_append(&c->in, rb, (size_t)n) < 0) {
                conn_close(S, c, 1);
                return;
            }
            if ((size_t)n < sizeof rb)
                break;
            continue;
        }
        if (n == 0) {
            c->eof = 1;
            break;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            break;
        conn_close(S, c, 0);
        return;
    }
    if (c->eof && c->state == ST_HANG) {   /* the client gave up */
        conn_close(S, c, 0);
        return;
    }
    conn_drive(S, c);
}

static void server_accept(server_t *S)
{
    for (;;) {
        int fd = accept4(S->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE)
                fprintf(stderr, "fakeserver: accept: %s\n", strerror(errno));
            return;
        }
        if ((size_t)fd >= S->nconns_cap) {
            size_t cap = S->nconns_cap ? S->nconns_cap : 1024;
            while (cap <= (size_t)fd)
                cap *= 2;
            conn_t **v = realloc(S->conns, cap * sizeof *v);
            if (!v) {
                close(fd);
                continue;
            }
            memset(v + S->nconns_cap, 0, (cap - S->nconns_cap) * sizeof *v);
            S->conns = v;
            S->nconns_cap = cap;
        }
        conn_t *c = calloc(1, sizeof *c);
        if (!c) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->gen = ++S->next_gen;
        c->events = EPOLLIN;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)c->gen << 32 | (uint32_t)fd};
        if (epoll_ctl(S->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            free(c);
            continue;
        }
        S->conns[fd] = c;
        S->open++;
    }
}

static conn_t *server_conn(server_t *S, int fd, uint32_t gen)
{
    if (fd < 0 || (size_t)fd >= S->nconns_cap || !S->conns[fd] || S->conns[fd]->gen != gen)
        return NULL;
    return S->conns[fd];
}

/* While draining after --max-requests: is any answer still owed? */
static int server_busy(server_t *S)
{
    for (size_t i = 0; i < S->nconns_cap; i++) {
        conn_t *c = S->conns[i];
        if (c && (c->state == ST_WAIT || c->state == ST_DRIP || c->out_off < c->out.len))
            return 1;
    }
    return 0;
}

static void server_run(server_t *S)
{
    struct epoll_event evs[512];
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, &orig);   /* delivered only inside epoll_pwait: no lost wakeup */
    while (!stop_signal) {
        uint64_t now = now_ms();
        if (now >= S->deadline)
            break;
        while (S->timers.n && S->timers.v[0].when <= now) {
            tmr_t t = heap_pop(&S->timers);
            conn_t *c = server_conn(S, t.fd, t.gen);
            if (c)
                conn_on_timer(S, c);
        }
        if (S->draining && (now >= S->drain_deadline || !server_busy(S)))
            break;
        uint64_t until = S->deadline;
        if (S->timers.n && S->timers.v[0].when < until)
            until = S->timers.v[0].when;
        if (S->draining && S->drain_deadline < until)
            until = S->drain_deadline;
        int timeout = until > now ? (int)(until - now < 60000 ? until - now : 60000) : 0;
        int n = epoll_pwait(S->ep, evs, 512, timeout, &orig);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("fakeserver: epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++) {
            if (evs[i].data.u64 == UINT64_MAX) {
                server_accept(S);
                continue;
            }
            conn_t *c = server_conn(S, (int)(uint32_t)evs[i].data.u64, (uint32_t)(evs[i].data.u64 >> 32));
            if (!c)
                continue;
            if (evs[i].events & EPOLLOUT) {
                if (conn_drive(S, c) < 0)
                    continue;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_on_readable(S, c);
        }
    }
}

static void server_free(server_t *S)
{
    for (size_t i = 0; i < S->nconns_cap; i++)
        if (S->conns[i])
            conn_close(S, S->conns[i], 0);
    free(S->conns);
    free(S->timers.v);
    script_free(&S->script);
    stats_clear(&S->stats);
    buf_free(&S->scratch);
    buf_free(&S->body);
    buf_free(&S->contents);
    buf_free(&S->line);
    if (S->lfd >= 0)
        close(S->lfd);
    if (S->ep >= 0)
        close(S->ep);
    if (S->log_fd >= 0)
        close(S->log_fd);
}

/* ---- main ------------------------------------------------------------ */

static int read_file(const char *path, buf_t *b)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    char tmp[65536];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0)
        buf_append(b, tmp, (size_t)n);
    close(fd);
    return n < 0 ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: fakeserver [--port N] [--latency-ms MS] [--script FILE] [--log FILE]\n"
                    "                  [--max-seconds S] [--max-requests N] [--require-key KEY]\n"
                    "                  [--mimic openai|vllm|llamacpp|llamacpp400|ollama|together]\n");
    exit(2);
}

static long long num_arg(const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno || end == s || *end || x < lo || x > hi)
        usage();
    return x;
}

static int mimic_arg(const char *name)
{
    for (int m = MIMIC_OPENAI; m <= MIMIC_TOGETHER; m++)
        if (!strcmp(name, mimic_names[m]))
            return m;
    usage();
    return 0;
}

int main(int argc, char **argv)
{
    server_t S = {.ep = -1, .lfd = -1, .log_fd = -1};
    long port = 0, max_seconds = 600;
    const char *script_path = NULL, *log_path = NULL;
    S.max_requests = 2000000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc)
            usage();
        if (!strcmp(a, "--port")) port = (long)num_arg(argv[++i], 0, 65535);
        else if (!strcmp(a, "--latency-ms")) S.latency_ms = (long)num_arg(argv[++i], 0, 86400000);
        else if (!strcmp(a, "--script")) script_path = argv[++i];
        else if (!strcmp(a, "--log")) log_path = argv[++i];
        else if (!strcmp(a, "--max-seconds")) max_seconds = (long)num_arg(argv[++i], 1, 86400 * 7);
        else if (!strcmp(a, "--max-requests")) S.max_requests = (uint64_t)num_arg(argv[++i], 1, 1LL << 50);
        else if (!strcmp(a, "--require-key")) S.require_key = argv[++i];
        else if (!strcmp(a, "--mimic")) S.mimic = mimic_arg(argv[++i]);
        else usage();
    }
    if (script_path) {
        buf_t text = BUF_INIT;
        char err[256];
        if (read_file(script_path, &text) < 0) {
            fprintf(stderr, "fakeserver: %s: %s\n", script_path, strerror(errno));
            return 2;
        }
        int r = script_load(&S.script, text.data ? text.data : "", text.len, err, sizeof err);
        buf_free(&text);
        if (r < 0) {
            fprintf(stderr, "fakeserver: %s: %s\n", script_path, err);
            return 2;
        }
    }
    if (log_path && (S.log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
        fprintf(stderr, "fakeserver: %s: %s\n", log_path, strerror(errno));
        return 2;
    }

    /* thousands of concurrent connections in the benchmarks */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof addr;
    if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(S.lfd, 4096) < 0 ||
        getsockname(S.lfd, (struct sockaddr *)&addr, &alen) < 0) {
        fprintf(stderr, "fakeserver: listen on 127.0.0.1:%ld: %s\n", port, strerror(errno));
        server_free(&S);
        return 1;
    }
    S.ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (S.ep < 0 || epoll_ctl(S.ep, EPOLL_CTL_ADD, S.lfd, &ev) < 0) {
        perror("fakeserver: epoll");
        server_free(&S);
        return 1;
    }
    S.deadline = now_ms() + (uint64_t)max_seconds * 1000;
    printf("PORT %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    server_run(&S);
    server_free(&S);
    return 0;
}
