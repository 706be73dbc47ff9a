/* test_openai: the OpenAI wire format without a network — reply bodies into
 * choices, the error shapes providers send (OpenAI, vLLM, plain text, an
 * error inside a 2xx), status classification, redaction and the headers. */
#include "check.h"
#include "base/oom.h"
#include "net/openai.h"

#include <stdlib.h>
#include <string.h>

static llm_result *reply(const char *body, int *ok, int *retry)
{
    llm_result *r = xcalloc(1, sizeof *r);
    *ok = openai_parse_reply(body, strlen(body), r, retry);
    return r;
}

static llm_result *error_reply(long status, const char *body, int *retry)
{
    llm_result *r = xcalloc(1, sizeof *r);
    openai_parse_error(status, body, strlen(body), r, retry);
    return r;
}

static void test_choices(void)
{
    int ok, retry;
    llm_result *r = reply("{\"model\":\"m7\",\"choices\":["
                          "{\"index\":1,\"message\":{\"content\":\"second\"},\"finish_reason\":\"length\"},"
                          "{\"index\":0,\"message\":{\"content\":\"fir\\u0000st\"},\"finish_reason\":\"stop\"}],"
                          "\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34}}", &ok, &retry);
    CHECK(ok == 1 && r->ok == 1 && r->nchoices == 2);
    CHECK(r->choices[0].len == 6 && memcmp(r->choices[0].text, "fir\0st", 6) == 0);  /* placed by index, NUL kept */
    CHECK_STR(r->choices[1].text, "second");
    CHECK_STR(r->choices[0].finish_reason, "stop");
    CHECK_STR(r->choices[1].finish_reason, "length");
    CHECK(r->prompt_tokens == 12 && r->completion_tokens == 34);
    CHECK_STR(r->model, "m7");
    llm_result_free(r);

    /* a duplicated index keeps both; a null content is a choice without text */
    r = reply("{\"choices\":[{\"index\":0,\"message\":{\"content\":\"a\"}},"
              "{\"index\":0,\"message\":{\"content\":null}}]}", &ok, &retry);
    CHECK(ok == 1 && r->nchoices == 2);
    CHECK_STR(r->choices[0].text, "a");
    CHECK(r->choices[1].text == NULL && r->choices[1].finish_reason == NULL);
    CHECK(r->model == NULL && r->prompt_tokens == 0);
    llm_result_free(r);
}

static void test_malformed(void)
{
    static const struct { const char *body, *message; } bad[] = {
        {"{\"choices\":[{\"index\":0,\"message\":{\"content\":\"cut", "malformed JSON in reply: "},
        {"[1,2]", "reply is not a JSON object"},
        {"{\"choices\":[]}", "reply has no choices"},
        {"{\"id\":\"x\"}", "reply has no choices"},
        {"{\"choices\":[{\"index\":0,\"text\":\"legacy\"}]}", "reply has a choice without a message object"},
        /* a content neither string nor null would be stored as an empty sample for good */
        {"{\"choices\":[{\"index\":0,\"message\":{\"content\":42}}]}",
         "reply's choice 0 has content of type a number (expected a string or null)"},
        {"{\"choices\":[{\"message\":{\"content\":\"ok\"}},{\"message\":{\"content\":[{\"type\":\"text\"}]}}]}",
         "reply's choice 1 has content of type an array"},
        {"{\"choices\":[{\"message\":{\"content\":{\"text\":\"x\"}}}]}", "reply's choice 0 has content of type an object"},
        {"{\"choices\":[{\"message\":{\"content\":true}}]}", "reply's choice 0 has content of type a boolean"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int ok, retry;
        llm_result *r = reply(bad[i].body, &ok, &retry);
        CHECK_MSG(ok == 0 && r->ok == 0 && retry == 1, "%s", bad[i].body);   /* garbled: try again */
        CHECK_STR(r->kind, "protocol");
        CHECK_MSG(r->message && strncmp(r->message, bad[i].message, strlen(bad[i].message)) == 0,
                  "%s gave %s", bad[i].body, r->message);
        llm_result_free(r);
    }
}

/* Everything a choice holds beyond text and finish reason comes through in
 * extra: per-token logprobs, reasoning_content (also as "reasoning"), the
 * reply's system_fingerprint, and usage details shared out like tokens. */
static void test_extra(void)
{
    int ok, retry;
    llm_result *r = reply("{\"system_fingerprint\":\"fp_44\",\"choices\":["
                          "{\"index\":0,\"message\":{\"content\":\"4\",\"reasoning_content\":\"2+2\"},"
                          "\"logprobs\":{\"content\":[{\"token\":\"4\",\"logprob\":-0.25,\"bytes\":[52],"
                          "\"top_logprobs\":[{\"token\":\"4\",\"logprob\":-0.25}]}]}},"
                          "{\"index\":1,\"message\":{\"content\":\"5\",\"reasoning\":\"hm\"},\"logprobs\":null}],"
                          "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":7,"
                          "\"completion_tokens_details\":{\"reasoning_tokens\":5,\"note\":\"x\"},"
                          "\"prompt_tokens_details\":{\"cached_tokens\":3}}}", &ok, &retry);
    CHECK(ok == 1 && r->nchoices == 2);
    CHECK_STR(r->choices[0].extra,
              "{\"logprobs\":{\"content\":[{\"token\":\"4\",\"logprob\":-0.25,\"bytes\":[52],"
              "\"top_logprobs\":[{\"token\":\"4\",\"logprob\":-0.25}]}]},\"reasoning_content\":\"2+2\","
              "\"system_fingerprint\":\"fp_44\",\"usage\":{\"completion_tokens_details\":{\"reasoning_tokens\":3},"
              "\"prompt_tokens_details\":{\"cached_tokens\":2}}}");
    CHECK_STR(r->choices[1].extra,
              "{\"reasoning_content\":\"hm\",\"system_fingerprint\":\"fp_44\",\"usage\":"
              "{\"completion_tokens_details\":{\"reasoning_tokens\":2},\"prompt_tokens_details\":{\"cached_tokens\":1}}}");
    CHECK(r->choices[0].extra_len == strlen(r->choices[0].extra));
    llm_result_free(r);

    /* a plain reply has no extra */
    r = reply("{\"choices\":[{\"message\":{\"content\":\"a\"}}],\"usage\":{\"prompt_tokens\":1}}", &ok, &retry);
    CHECK(ok == 1 && r->choices[0].extra == NULL && r->choices[0].extra_len == 0);
    llm_result_free(r);
}

static void test_error_in_2xx(void)
{
    int ok, retry;
    /* vLLM's shape, a server error: retryable, status from the code */
    llm_result *r = reply("{\"object\":\"error\",\"message\":\"engine died\",\"type\":\"InternalServerError\","
                          "\"code\":500}", &ok, &retry);
    CHECK(ok == 0 && retry == 1 && r->status == 500);
    CHECK_STR(r->kind, "http");
    CHECK_STR(r->message, "engine died (type InternalServerError)");
    llm_result_free(r);
    /* OpenAI's shape, quota: never retried */
    r = reply("{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\","
              "\"code\":\"insufficient_quota\"}}", &ok, &retry);
    CHECK(ok == 0 && retry == 0);
    CHECK_STR(r->kind, "quota");
    llm_result_free(r);
    /* a plain string; a bad request is final */
    r = reply("{\"error\":\"model not loaded\"}", &ok, &retry);
    CHECK(ok == 0 && retry == 0);
    CHECK_STR(r->message, "model not loaded");
    llm_result_free(r);
    r = reply("{\"error\":{\"type\":\"rate_limit_exceeded\"}}", &ok, &retry);
    CHECK(ok == 0 && retry == 1);
    CHECK_STR(r->message, "the server returned an error without a message (type rate_limit_exceeded)");
    llm_result_free(r);
}

static void test_status(void)
{
    int retry;
    llm_result *r = error_reply(503, "<html>busy</html>", &retry);
    CHECK(r->ok == 0 && r->status == 503 && retry == 1);
    CHECK_STR(r->kind, "http");
    CHECK_STR(r->message, "HTTP 503: <html>busy</html>");
    llm_result_free(r);

    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    r = error_reply(400, big, &retry);
    CHECK(retry == 0 && strlen(r->message) == strlen("HTTP 400: ") + 300);
    llm_result_free(r);

    r = error_reply(404, "", &retry);
    CHECK_STR(r->message, "HTTP 404");
    llm_result_free(r);

    /* the status decides retrying, over the error object's own code */
    r = error_reply(400, "{\"error\":{\"message\":\"bad\",\"code\":500}}", &retry);
    CHECK(retry == 0 && r->status == 400);
    CHECK_STR(r->message, "bad");
    llm_result_free(r);
    static const long again[] = {408, 409, 429, 500, 502};
    for (size_t i = 0; i < sizeof again / sizeof *again; i++) {
        r = error_reply(again[i], "{}", &retry);
        CHECK_MSG(retry == 1, "status %ld", again[i]);
        llm_result_free(r);
    }
    r = error_reply(402, "{\"error\":{\"message\":\"pay\"}}", &retry);
    CHECK(retry == 0);
    CHECK_STR(r->kind, "quota");
    llm_result_free(r);
    r = error_reply(429, "{\"error\":{\"message\":\"no credit\",\"type\":\"insufficient_quota\"}}", &retry);
    CHECK(retry == 0);
    CHECK_STR(r->kind, "quota");
    llm_result_free(r);
}

static char *redact(const char *msg, const char *key)
{
    static char *last;
    free(last);
    return last = openai_redact(msg, strlen(msg), key);
}

static void test_redact(void)
{
    CHECK_STR(redact("key abcd1234 was wrong: abcd1234", "abcd1234"), "key [redacted] was wrong: [redacted]");
    CHECK_STR(redact("a key abc shown", "abc"), "a key abc shown");           /* too short to be a key */
    CHECK_STR(redact("use sk-proj-XyZ,then", NULL), "use sk-[redacted],then");
    CHECK_STR(redact("\"sk-1\" and task-42", NULL), "\"sk-[redacted]\" and task-42");
    CHECK_STR(redact("Header was Bearer tok.en end", NULL), "Header was Bearer [redacted] end");
    CHECK_STR(redact("", "abcd"), "");
}

static int has_header(const struct curl_slist *h, const char *line)
{
    for (; h; h = h->next)
        if (strcmp(h->data, line) == 0)
            return 1;
    return 0;
}

static void test_headers(void)
{
    struct curl_slist *h = openai_headers("sk-secret-1");
    CHECK(has_header(h, "Content-Type: application/json") && has_header(h, "Accept: application/json"));
    CHECK(has_header(h, "Expect:"));
    CHECK(has_header(h, "Authorization: Bearer sk-secret-1"));
    curl_slist_free_all(h);
    h = openai_headers("");
    int auth = 0;
    for (const struct curl_slist *p = h; p; p = p->next)
        auth |= strncmp(p->data, "Authorization:", 14) == 0;
    CHECK(!auth && has_header(h, "User-Agent: slmmux/" SLMMUX_VERSION));
    curl_slist_free_all(h);
}

int main(void)
{
    test_choices();
    test_malformed();
    test_extra();
    test_error_in_2xx();
    test_status();
    test_redact();
    test_headers();
    return check_report();
}
