/* http: libcurl's multi_socket API on our epoll loop (curl's multi-event
 * example shape). curl tells us which sockets to watch and when to call it
 * back; we never poll every handle. Completions are collected with
 * curl_multi_info_read and reported after curl has returned. */
#include "net/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct http {
    loop_t *loop;
    CURLM *multi;
    uint64_t timer;             /* curl's single timeout, 0 when unset */
    int in_flight;
    http_xfer *xfers;           /* live transfers, so http_free can end them */
    CURL **idle;                /* reset easy handles for reuse: creating one */
    int nidle, idle_cap;        /* per request was the largest malloc cost */
    http_redact_fn redact;
    void *redact_ud;
};

struct http_xfer {
    http_t *h;
    CURL *easy;
    int special;                /* set options the next use does not reset (CA file, tracing) */
    buf_t reply;
    size_t max_body;
    double retry_after_ms;
    int should_retry;
    int too_large;
    double started_ms;
    char errbuf[CURL_ERROR_SIZE];
    http_done_fn done;
    void *ud;
    http_xfer *prev, *next;
};

static void check_done(http_t *h);

static void on_socket_event(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    http_t *h = ud;
    int flags = (events & LOOP_READ ? CURL_CSELECT_IN : 0) | (events & LOOP_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(h->multi, fd, flags, &running);
    check_done(h);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    http_t *h = userp;
    if (what == CURL_POLL_REMOVE) {
        loop_fd_unwatch(h->loop, fd);
        return 0;
    }
    unsigned ev = (what & CURL_POLL_IN ? LOOP_READ : 0) | (what & CURL_POLL_OUT ? LOOP_WRITE : 0);
    return loop_fd_watch(h->loop, fd, ev, on_socket_event, h) < 0 ? -1 : 0;
}

static void on_timeout(loop_t *loop, void *ud)
{
    (void)loop;
    http_t *h = ud;
    h->timer = 0;       /* fired; curl may set a new one from inside the call */
    int running;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    http_t *h = userp;
    if (h->timer) {
        loop_timer_cancel(h->loop, h->timer);
        h->timer = 0;
    }
    if (timeout_ms >= 0) {
        h->timer = loop_timer_add(h->loop, (double)timeout_ms, on_timeout, h);
        if (!h->timer)
            return -1;
    }
    return 0;
}

http_t *http_new(loop_t *loop)
{
    http_t *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->loop = loop;
    h->multi = curl_multi_init();
    if (!h->multi) {
        free(h);
        return NULL;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* Concurrency is limited by llm.c before a transfer starts; curl's own
     * queue would count queue time against CURLOPT_TIMEOUT. */
    curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 4096L);
    /* HTTP/2: as many streams on a connection as the server allows (curl's
     * own default is 100); the server's SETTINGS still bound it */
    curl_multi_setopt(h->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
    return h;
}

void http_set_redactor(http_t *h, http_redact_fn fn, void *ud)
{
    h->redact = fn;
    h->redact_ud = ud;
}

/* Every option http_post sets it sets on every use, so a handle goes back
 * to the pool as it is; only one with options that would outlive their use
 * (special) is reset. */
static void easy_release(http_t *h, CURL *e, int special)
{
    if (h->nidle == h->idle_cap) {
        int cap = h->idle_cap ? h->idle_cap * 2 : 64;
        CURL **p = cap <= 8192 ? realloc(h->idle, (size_t)cap * sizeof *p) : NULL;
        if (!p) {
            curl_easy_cleanup(e);
            return;
        }
        h->idle = p;
        h->idle_cap = cap;
    }
    if (special)
        curl_easy_reset(e);
    h->idle[h->nidle++] = e;
}

static CURL *easy_get(http_t *h)
{
    return h->nidle ? h->idle[--h->nidle] : curl_easy_init();
}

static void xfer_free(http_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        x->h->xfers = x->next;
    if (x->next)
        x->next->prev = x->prev;
    easy_release(x->h, x->easy, x->special);
    buf_free(&x->reply);
    free(x);
}

void http_cancel(http_t *h, http_xfer *x)
{
    curl_multi_remove_handle(h->multi, x->easy);
    h->in_flight--;
    xfer_free(x);
}

void http_free(http_t *h)
{
    if (!h)
        return;
    /* remove -> easy_cleanup -> multi_cleanup, in that order */
    while (h->xfers)
        http_cancel(h, h->xfers);
    while (h->nidle)
        curl_easy_cleanup(h->idle[--h->nidle]);
    free(h->idle);
    if (h->timer)
        loop_timer_cancel(h->loop, h->timer);
    curl_multi_cleanup(h->multi);
    free(h);
}

int http_in_flight(const http_t *h) { return h->in_flight; }

static size_t write_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    http_xfer *x = ud;
    size_t n = size * nmemb;
    if (x->reply.len + n > x->max_body) {
        x->too_large = 1;
        return 0;       /* makes curl abort with CURLE_WRITE_ERROR */
    }
    return buf_append(&x->reply, data, n) < 0 ? 0 : n;
}

static int header_is(const char *line, size_t len, const char *name, const char **value, size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* Retry-After is delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
static double parse_retry_after(const char *v, size_t n)
{
    char tmp[64];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    double secs = strtod(tmp, &end);
    if (end != tmp && *end == '\0')
        return secs >= 0 ? secs * 1000.0 : -1;
    time_t when = curl_getdate(tmp, NULL);
    if (when < 0)
        return -1;
    double delta = difftime(when, time(NULL));
    return delta > 0 ? delta * 1000.0 : 0;
}

static size_t header_cb(char *line, size_t size, size_t nmemb, void *ud)
{
    http_xfer *x = ud;
    size_t n = size * nmemb;
    const char *v;
    size_t vlen;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        /* a new response (e.g. after 100 Continue): forget earlier headers */
        x->retry_after_ms = -1;
        x->should_retry = -1;
    } else if (header_is(line, n, "retry-after-ms", &v, &vlen)) {
        char tmp[32];
        if (vlen < sizeof tmp) {
            memcpy(tmp, v, vlen);
            tmp[vlen] = '\0';
            char *end;
            double ms = strtod(tmp, &end);
            if (end != tmp && ms >= 0)
                x->retry_after_ms = ms;     /* the more precise header wins */
        }
    } else if (header_is(line, n, "retry-after", &v, &vlen)) {
        if (x->retry_after_ms < 0)
            x->retry_after_ms = parse_retry_after(v, vlen);
    } else if (header_is(line, n, "x-should-retry", &v, &vlen)) {
        x->should_retry = vlen == 4 && strncasecmp(v, "true", 4) == 0 ? 1
                        : vlen == 5 && strncasecmp(v, "false", 5) == 0 ? 0 : -1;
    }
    return n;
}

static int header_name_is_secret(const char *name, size_t len)
{
    static const char *const words[] = {"authorization", "key", "token", "cookie", "secret"};
    for (size_t w = 0; w < sizeof words / sizeof *words; w++) {
        size_t wl = strlen(words[w]);
        for (size_t i = 0; i + wl <= len; i++)
            if (strncasecmp(name + i, words[w], wl) == 0)
                return 1;
    }
    return 0;
}

static void debug_line(http_t *h, const char *tag, const char *p, size_t n)
{
    if (!h->redact) {
        fprintf(stderr, "slmmux: http %s %.*s\n", tag, (int)n, p);
        return;
    }
    char *shown = h->redact(p, n, h->redact_ud);
    fprintf(stderr, "slmmux: http %s %s\n", tag, shown);
    free(shown);
}

/* Verbose tracing that can never leak a credential: header lines naming
 * authorization or an API key are replaced before they are printed, and
 * every other line goes through the redactor, which knows the secrets by
 * value (a server may echo a key in any header). */
static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)easy;
    http_xfer *x = ud;
    const char *tag = type == CURLINFO_TEXT ? "*" : type == CURLINFO_HEADER_IN ? "<"
                    : type == CURLINFO_HEADER_OUT ? ">" : NULL;
    if (!tag)
        return 0;       /* bodies are not traced: prompts can be large */
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n) {
            const char *colon = memchr(p, ':', n);
            size_t name_len = colon ? (size_t)(colon - p) : 0;
            if (colon && header_name_is_secret(p, name_len))
                fprintf(stderr, "slmmux: http %s %.*s: [redacted]\n", tag, (int)name_len, p);
            else
                debug_line(x->h, tag, p, n);
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

http_xfer *http_post(http_t *h, const char *url, const struct curl_slist *headers,
                     const char *body, size_t body_len, const http_opts *o,
                     http_done_fn done, void *ud)
{
    http_xfer *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->h = h;
    x->easy = easy_get(h);
    if (!x->easy)
        goto fail;
    x->special = o->ca_file || o->debug;
    x->max_body = o->max_body ? o->max_body : (size_t)64 << 20;
    x->retry_after_ms = -1;
    x->should_retry = -1;
    x->done = done;
    x->ud = ud;
    x->started_ms = loop_now_ms();

    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);   /* never resend a key elsewhere */
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");  /* gzip when the server offers */
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* over TLS (where HTTP/2 is offered), wait for a connection being set
     * up to multiplex over it rather than open one per request; over plain
     * http:// there is no HTTP/2 to wait for, and waiting would serialise */
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, strncasecmp(url, "https:", 6) == 0 ? 1L : 0L);
    if (o->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, o->total_timeout_ms > 0 ? o->total_timeout_ms : 0L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->stall_timeout_s > 0 ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->stall_timeout_s > 0 ? o->stall_timeout_s : 0L);
    if (o->debug) {
        curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, debug_cb);
        curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
        curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    }
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        goto fail;
    h->in_flight++;
    x->next = h->xfers;
    if (h->xfers)
        h->xfers->prev = x;
    h->xfers = x;
    return x;
fail:
    if (x->easy)
        easy_release(h, x->easy, 1);
    free(x);
    return NULL;
}

static void check_done(http_t *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode code = msg->data.result;   /* msg is invalid after remove_handle */
        http_xfer *x;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(h->multi, e);
        h->in_flight--;

        http_result r = {0};
        r.code = code;
        if (x->too_large) {
            snprintf(x->errbuf, sizeof x->errbuf, "reply larger than %zu bytes", x->max_body);
            r.code = CURLE_FILESIZE_EXCEEDED;
        }
        r.error = x->errbuf[0] ? x->errbuf : curl_easy_strerror(r.code);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
        r.body = x->reply.data ? x->reply.data : "";
        r.body_len = x->reply.len;
        r.retry_after_ms = x->retry_after_ms;
        r.should_retry = x->should_retry;
        r.elapsed_ms = loop_now_ms() - x->started_ms;
        x->done(&r, x->ud);
        xfer_free(x);
    }
}
