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

/* v as JSON text (the reader accepted it, so its depth is bounded) */
static void openai_write_value(buf_t *b, const json_value *v)
{
    int rc = 0;
    switch (v->type) {
    case JSON_NULL: openai_puts(b, "null"); return;
    case JSON_BOOL: openai_puts(b, v->boolean ? "true" : "false"); return;
    case JSON_NUMBER: rc = json_write_number(b, v->number); break;
    case JSON_STRING: rc = json_write_string(b, v->str, v->len); break;
    case JSON_ARRAY:
    case JSON_OBJECT:
        openai_puts(b, v->type == JSON_ARRAY ? "[" : "{");
        for (const json_value *c = v->child; c; c = c->next) {
            if (c != v->child)
                openai_puts(b, ",");
            if (v->type == JSON_OBJECT) {
                if (json_write_string(b, c->key, c->key_len) < 0)
                    oom_abort(c->key_len);
                openai_puts(b, ":");
            }
            openai_write_value(b, c);
        }
        openai_puts(b, v->type == JSON_ARRAY ? "]" : "}");
        return;
    }
    if (rc < 0)
        oom_abort(v->len + 32);
}

static void openai_extra_key(buf_t *b, const char *key)
{
    openai_puts(b, b->len ? ",\"" : "{\"");
    openai_puts(b, key);
    openai_puts(b, "\":");
}

/* The usage details (completion_tokens_details, prompt_tokens_details)
 * that fall to choice i of m: each count shared out as the tokens are
 * (chat.c), so that the choices' shares add up to the reply's. */
static void openai_usage_share(buf_t *b, const json_value *usage, size_t i, size_t m)
{
    static const char *const details[] = {"completion_tokens_details", "prompt_tokens_details"};
    int opened = 0;
    for (size_t d = 0; d < sizeof details / sizeof *details; d++) {
        const json_value *obj = json_get(usage, details[d]);
        if (!obj || obj->type != JSON_OBJECT)
            continue;
        if (!opened) {
            openai_extra_key(b, "usage");
            openai_puts(b, "{");
        } else {
            openai_puts(b, ",");
        }
        opened = 1;
        openai_puts(b, "\"");
        openai_puts(b, details[d]);
        openai_puts(b, "\":{");
        int first = 1;
        for (const json_value *c = obj->child; c; c = c->next) {
            if (c->type != JSON_NUMBER || c->number < 0 || c->number > 9e15)
                continue;
            long long n = (long long)c->number;
            double share = c->number == (double)n ? (double)(n / (long long)m + ((long long)i < n % (long long)m))
                                                  : c->number / (double)m;
            if (!first)
                openai_puts(b, ",");
            first = 0;
            if (json_write_string(b, c->key, c->key_len) < 0 || buf_putc(b, ':') < 0 ||
                json_write_number(b, share) < 0)
                oom_abort(c->key_len + 32);
        }
        openai_puts(b, "}");
    }
    if (opened)
        openai_puts(b, "}");
}

/* What a choice says beyond its text and finish reason, as one JSON object
 * (NULL when nothing): its logprobs, reasoning_content (or "reasoning", as
 * some servers name it), refusal, and the reply's system_fingerprint and
 * usage details, which belong to every choice of the reply. */
static void openai_choice_extra(const json_value *root, const json_value *c, const json_value *message,
                                size_t i, size_t m, llm_choice *ch)
{
    buf_t b = BUF_INIT;
    const json_value *logprobs = json_get(c, "logprobs");
    if (logprobs && logprobs->type != JSON_NULL) {
        openai_extra_key(&b, "logprobs");
        openai_write_value(&b, logprobs);
    }
    const json_value *reasoning = json_get(message, "reasoning_content");
    if (!reasoning || reasoning->type != JSON_STRING)
        reasoning = json_get(message, "reasoning");
    if (reasoning && reasoning->type == JSON_STRING) {
        openai_extra_key(&b, "reasoning_content");
        openai_write_value(&b, reasoning);
    }
    const json_value *refusal = json_get(message, "refusal");
    if (refusal && refusal->type == JSON_STRING) {
        openai_extra_key(&b, "refusal");
        openai_write_value(&b, refusal);
    }
    const json_value *fp = json_get(root, "system_fingerprint");
    if (fp && fp->type == JSON_STRING) {
        openai_extra_key(&b, "system_fingerprint");
        openai_write_value(&b, fp);
    }
    openai_usage_share(&b, json_get(root, "usage"), i, m);
    if (b.len) {
        openai_puts(&b, "}");
        ch->extra_len = b.len;
        ch->extra = buf_steal(&b);
    }
}

static const char *openai_type_name(json_type t)
{
    static const char *const names[] = {"null", "a boolean", "a number", "a string", "an array", "an object"};
    return names[t];
}

/* choices into r: NULL, or what is wrong with them (into err) */
static const char *openai_choices(const json_value *root, const json_value *choices, llm_result *r,
                                  char *err, size_t errlen)
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
            return "reply has a choice without a message object";
        /* anything else would be stored as a sample without text, for good */
        if (content && content->type != JSON_STRING && content->type != JSON_NULL) {
            snprintf(err, errlen, "reply's choice %zu has content of type %s (expected a string or null)",
                     i, openai_type_name(content->type));
            return err;
        }
        if (content && content->type == JSON_STRING) {
            ch->text = openai_dup_str(content);
            ch->len = content->len;
        }
        ch->finish_reason = openai_dup_str(json_get(c, "finish_reason"));
        openai_choice_extra(root, c, message, i, choices->len, ch);
    }
    return NULL;
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
    const char *bad;
    char what[160];
    int ok = 0;
    if (root->type != JSON_OBJECT) {
        openai_protocol_error(r, retryable, "reply is not a JSON object");
    } else if (openai_error_object(root, r, retryable)) {
        /* an error inside a 2xx body */
    } else if (!choices || choices->type != JSON_ARRAY || choices->len == 0) {
        openai_protocol_error(r, retryable, "reply has no choices");
    } else if ((bad = openai_choices(root, choices, r, what, sizeof what))) {
        openai_protocol_error(r, retryable, bad);
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
