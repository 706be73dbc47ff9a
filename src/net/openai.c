/* openai: reading and writing the OpenAI chat-completions format (what each
 * function does is in openai.h). Error objects come in three shapes that
 * real servers send: OpenAI's {"error": {"message", "type", "code"}},
 * vLLM's {"object": "error", "message", "type", "code"} and a plain
 * {"error": "text"}; the code may be a number or a string. They are read in
 * one place so that a 2xx body holding an error and a 4xx/5xx reply are
 * classified alike. */
#include "net/openai.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/oom.h"
#include "net/json.h"
#include "net/redact.h"

/* The bytes of a message being built are few next to the reply they come
 * from: failing to hold them is out of memory for good. */
static void openai_put(buf_t *b, const char *s, size_t n)
{
    if (buf_append(b, s, n) < 0)
        oom_abort(b->len + n);
}

static void openai_puts(buf_t *b, const char *s) { openai_put(b, s, strlen(s)); }

/* the built string; "" when nothing was put (buf_steal would calloc it) */
static char *openai_steal(buf_t *b)
{
    return b->data ? buf_steal(b) : xstrdup("");
}

static struct curl_slist *openai_header(struct curl_slist *list, const char *line)
{
    struct curl_slist *n = curl_slist_append(list, line);
    if (!n)
        oom_abort(strlen(line));
    return n;
}

struct curl_slist *openai_headers(const char *key)
{
    struct curl_slist *hdr = NULL;
    hdr = openai_header(hdr, "Content-Type: application/json");
    hdr = openai_header(hdr, "Accept: application/json");
    hdr = openai_header(hdr, "User-Agent: slmmux/" SLMMUX_VERSION);
    hdr = openai_header(hdr, "Expect:");    /* no 100-continue round trip */
    char auth[1024];
    if (key && *key && strlen(key) < sizeof auth - 32) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", key);
        hdr = openai_header(hdr, auth);
        memset(auth, 0, sizeof auth);       /* curl has its own copy */
    }
    return hdr;
}

char *openai_redact(const char *msg, size_t len, const char *key)
{
    const char *secrets[1] = {key};
    return redact_text(msg, len, secrets, 1);
}

int openai_rejects_n(long status, const char *message)
{
    static const char *const words[] = {"only one completion choice", "n must be 1",
        "'n' must be 1", "n > 1 is not supported", "n>1 is not supported", "n is not supported",
        "multiple choices are not supported", "unsupported parameter: 'n'", "unsupported param: n"};
    if (!message || !(status == 400 || status == 422 || status == 500 || status == 501))
        return 0;
    char low[512];
    size_t n = strlen(message);
    if (n >= sizeof low)
        n = sizeof low - 1;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)message[i]);
    low[n] = '\0';
    for (size_t w = 0; w < sizeof words / sizeof *words; w++)
        if (strstr(low, words[w]))
            return 1;
    return 0;
}

/* ---- replies ----------------------------------------------------------- */

static char *openai_dup_str(const json_value *v)
{
    size_t n;
    const char *s = json_str(v, &n);
    return s ? xmemdup(s, n) : NULL;
}

static long openai_long(const json_value *v)
{
    return v && v->type == JSON_NUMBER ? (long)v->number : 0;
}

/* root holds an error object (any of the three shapes): 1 with r filled
 * and *retryable set from its type and code, else 0. */
static int openai_error_object(const json_value *root, llm_result *r, int *retryable)
{
    const json_value *err = json_get(root, "error");
    const json_value *obj = json_get(root, "object");
    size_t n;
    const char *o = json_str(obj, &n);
    const json_value *src = NULL;
    if (err && err->type == JSON_OBJECT)
        src = err;
    else if (o && n == 5 && memcmp(o, "error", 5) == 0)
        src = root;
    if (!src && !(err && err->type == JSON_STRING))
        return 0;
    buf_t msg = BUF_INIT;
    const json_value *m = src ? json_get(src, "message") : err;
    const char *text = json_str(m, &n);
    if (text)
        openai_put(&msg, text, n);
    else
        openai_puts(&msg, "the server returned an error without a message");
    const char *type = src ? json_str(json_get(src, "type"), &n) : NULL;
    const json_value *code = src ? json_get(src, "code") : NULL;
    const char *code_s = json_str(code, &n);
    long code_n = code && code->type == JSON_NUMBER ? (long)code->number : 0;
    int quota = (type && strstr(type, "insufficient_quota")) ||
                (code_s && strstr(code_s, "insufficient_quota"));
    /* the code, when it is a word: insufficient_quota, rate_limit_exceeded,
     * model_not_found say more than a bare "error" (a numeric code repeats
     * the status) */
    if (type || code_s) {
        openai_puts(&msg, " (");
        if (type) {
            openai_puts(&msg, "type ");
            openai_puts(&msg, type);
        }
        if (code_s && !(type && strcmp(type, code_s) == 0)) {
            openai_puts(&msg, type ? ", code " : "code ");
            openai_puts(&msg, code_s);
        }
        openai_puts(&msg, ")");
    }
    r->ok = 0;
    r->kind = quota ? "quota" : "http";
    if (code_n >= 400 && code_n < 600)
        r->status = code_n;
    r->message = openai_steal(&msg);
    *retryable = !quota && (code_n == 408 || code_n == 409 || code_n == 429 || code_n >= 500 ||
                            (type && (strstr(type, "server") || strstr(type, "overloaded") ||
                                      strstr(type, "rate_limit"))));
    return 1;
}

static int openai_protocol_error(llm_result *r, int *retryable, const char *what)
{
    r->ok = 0;
    r->kind = "protocol";
    r->message = xstrdup(what);
    *retryable = 1;     /* a truncated or garbled reply is usually transient */
    return 0;
}

/* choices into r: 1, or 0 when a choice has no message object */
static int openai_choices(const json_value *choices, llm_result *r)
{
    r->choices = xcalloc(choices->len, sizeof *r->choices);
    r->nchoices = (int)choices->len;
    size_t i = 0;
    for (const json_value *c = choices->child; c; c = c->next, i++) {
        /* place by "index" when it is a valid slot, else in order */
        const json_value *idx = json_get(c, "index");
        size_t slot = idx && idx->type == JSON_NUMBER && idx->number >= 0 &&
                      idx->number < (double)choices->len ? (size_t)idx->number : i;
        llm_choice *ch = &r->choices[slot];
        if (ch->text || ch->finish_reason)
            ch = &r->choices[i];      /* duplicate index: keep both */
        const json_value *message = json_get(c, "message");
        const json_value *content = json_get(message, "content");
        if (!message || message->type != JSON_OBJECT)
            return 0;
        if (content && content->type == JSON_STRING) {
            ch->text = openai_dup_str(content);
            ch->len = content->len;
        }
        ch->finish_reason = openai_dup_str(json_get(c, "finish_reason"));
    }
    return 1;
}

int openai_parse_reply(const char *body, size_t len, llm_result *r, int *retryable)
{
    char err[160];
    *retryable = 0;
    json_doc *doc = json_parse(body, len, err, sizeof err);
    if (!doc) {
        char what[256];
        snprintf(what, sizeof what, "malformed JSON in reply: %s", err);
        return openai_protocol_error(r, retryable, what);
    }
    const json_value *root = json_root(doc);
    const json_value *choices = json_get(root, "choices");
    int ok = 0;
    if (root->type != JSON_OBJECT) {
        openai_protocol_error(r, retryable, "reply is not a JSON object");
    } else if (openai_error_object(root, r, retryable)) {
        /* an error inside a 2xx body */
    } else if (!choices || choices->type != JSON_ARRAY || choices->len == 0) {
        openai_protocol_error(r, retryable, "reply has no choices");
    } else if (!openai_choices(choices, r)) {
        openai_protocol_error(r, retryable, "reply has a choice without a message object");
    } else {
        const json_value *usage = json_get(root, "usage");
        r->prompt_tokens = openai_long(json_get(usage, "prompt_tokens"));
        r->completion_tokens = openai_long(json_get(usage, "completion_tokens"));
        r->model = openai_dup_str(json_get(root, "model"));
        r->ok = ok = 1;
    }
    json_free(doc);
    return ok;
}

void openai_parse_error(long status, const char *body, size_t len, llm_result *r, int *retryable)
{
    char err[64];
    json_doc *doc = json_parse(body, len, err, sizeof err);
    int found = doc && json_root(doc)->type == JSON_OBJECT && openai_error_object(json_root(doc), r, retryable);
    json_free(doc);
    if (!found) {
        r->ok = 0;
        r->kind = "http";
        char head[64];
        snprintf(head, sizeof head, "HTTP %ld", status);
        buf_t m = BUF_INIT;
        openai_puts(&m, head);
        if (len) {
            /* as printf's %.300s: a body with a NUL shows what precedes it */
            openai_puts(&m, ": ");
            openai_put(&m, body, strnlen(body, len > 300 ? 300 : len));
        }
        r->message = openai_steal(&m);
    }
    r->status = status;
    int quota = status == 402 || strcmp(r->kind, "quota") == 0;
    if (quota)
        r->kind = "quota";
    *retryable = !quota && (status == 408 || status == 409 || status == 429 || status >= 500);
}
