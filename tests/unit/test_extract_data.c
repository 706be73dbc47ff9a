/* test_extract_data: the extractors on the real benchmark files in data/.
 * Run from the repository root (or set SLMMUX_DATA to the data directory).
 * GPQA text is never printed (its authors ask that it not be posted in
 * plain text): failures name the record index only. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/oom.h"
#include "check.h"
#include "answers/extract.h"
#include "net/json.h"

/* The generated text must be whole: a buffer that cannot grow ends the run. */
#define PUT(call) do { if ((call) < 0) oom_abort(0); } while (0)

static const char *data_dir(void)
{
    const char *d = getenv("SLMMUX_DATA");
    return d && *d ? d : "data";
}

/* Whole file, through `gzip -dc` when the name ends in .gz (no zlib in the
 * host). Returns 0, or -1 with a message printed. */
static int slurp(const char *name, buf_t *out)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", data_dir(), name);
    size_t pl = strlen(path);
    int gz = pl > 3 && strcmp(path + pl - 3, ".gz") == 0;
    FILE *f;
    if (gz) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "gzip -dc '%s'", path);
        f = popen(cmd, "r");
    } else {
        f = fopen(path, "rb");
    }
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        PUT(buf_append(out, chunk, n));
    int bad = gz ? pclose(f) != 0 : (fclose(f), 0);
    if (bad || out->len == 0) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    return 0;
}

/* Calls fn on every record of a JSON array file or a JSON Lines file.
 * Returns the record count, or -1. */
typedef void (*record_fn)(const json_value *rec, int index, void *ud);

static int each_record(const char *name, int lines, record_fn fn, void *ud)
{
    buf_t b = BUF_INIT;
    if (slurp(name, &b) < 0)
        return -1;
    char err[128];
    int count = 0;
    if (!lines) {
        json_doc *doc = json_parse(b.data, b.len, err, sizeof err);
        if (!doc) {
            fprintf(stderr, "%s: %s\n", name, err);
            buf_free(&b);
            return -1;
        }
        for (const json_value *v = json_root(doc)->child; v; v = v->next)
            fn(v, count++, ud);
        json_free(doc);
    } else {
        const char *p = b.data, *e = b.data + b.len;
        while (p < e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            const char *le = nl ? nl : e;
            if (le > p) {
                json_doc *doc = json_parse(p, (size_t)(le - p), err, sizeof err);
                if (!doc) {
                    fprintf(stderr, "%s line %d: %s\n", name, count + 1, err);
                    buf_free(&b);
                    return -1;
                }
                fn(json_root(doc), count++, ud);
                json_free(doc);
            }
            p = le + 1;
        }
    }
    buf_free(&b);
    return count;
}

/* ---- GSM8K ---------------------------------------------------------------- */

typedef struct { int ok, fallback_agrees; } gsm_stats;

static void gsm_record(const json_value *rec, int i, void *ud)
{
    gsm_stats *st = ud;
    size_t len;
    const char *sol = json_str(json_get(rec, "answer"), &len);
    CHECK_MSG(sol != NULL, "record %d has no answer", i);
    if (!sol)
        return;
    const char *h = strstr(sol, "####");
    CHECK_MSG(h != NULL, "record %d has no ####", i);
    if (!h)
        return;
    /* The reference's own answer, canonicalised by hand: the dataset's
     * answers are integers written with optional commas and sign. */
    char want[64];
    size_t w = 0;
    for (const char *p = h + 4; *p && w < sizeof want - 1; p++)
        if (*p != ',' && !isspace((unsigned char)*p))
            want[w++] = *p;
    want[w] = '\0';
    size_t n;
    char *got = extract_number(sol, len, &n);
    if (got && strcmp(got, want) == 0)
        st->ok++;
    else
        CHECK_MSG(0, "record %d: got %s, want %s", i, got ? got : "(null)", want);
    free(got);
    /* How often would the last-number rule alone have found it? (a figure) */
    got = extract_number(sol, (size_t)(h - sol), &n);
    if (got && strcmp(got, want) == 0)
        st->fallback_agrees++;
    free(got);
}

static void test_gsm8k(void)
{
    const char *files[] = {"gsm8k_test.jsonl", "gsm8k_train.jsonl"};
    const int want[] = {1319, 7473};
    for (int f = 0; f < 2; f++) {
        gsm_stats st = {0, 0};
        int n = each_record(files[f], 1, gsm_record, &st);
        CHECK_MSG(n == want[f], "%s: %d records, want %d", files[f], n, want[f]);
        CHECK_MSG(st.ok == n, "%s: %d of %d #### answers extracted", files[f], st.ok, n);
        printf("%s: %d/%d #### answers extracted; last number before #### agrees on %d (%.1f%%)\n",
               files[f], st.ok, n, st.fallback_agrees, n > 0 ? 100.0 * st.fallback_agrees / n : 0);
    }
    gsm_stats st = {0, 0};
    int n = each_record("gsm8k_500.json", 0, gsm_record, &st);
    CHECK_MSG(n == 500 && st.ok == 500, "gsm8k_500.json: %d of %d", st.ok, n);
}

/* ---- MATH-500 --------------------------------------------------------------- */

typedef struct { int boxed, equal_last, equal_first; } math_stats;

static void math_record(const json_value *rec, int i, void *ud)
{
    math_stats *st = ud;
    size_t len, alen;
    const char *sol = json_str(json_get(rec, "solution"), &len);
    const char *ans = json_str(json_get(rec, "answer"), &alen);
    if (!sol || !ans) {
        CHECK_MSG(0, "MATH record %d lacks solution or answer", i);
        return;
    }
    size_t n;
    char *last = extract_boxed(sol, len, 1, &n);
    char *first = extract_boxed(sol, len, 0, &n);
    CHECK_MSG(last != NULL && first != NULL, "MATH record %d: no boxed answer", i);
    st->boxed += last != NULL;
    st->equal_last += last && strcmp(last, ans) == 0;
    st->equal_first += first && strcmp(first, ans) == 0;
    free(last);
    free(first);
}

static void test_math500(void)
{
    math_stats st = {0, 0, 0};
    int n = each_record("math_500.json", 0, math_record, &st);
    CHECK_MSG(n == 500, "math_500.json: %d records", n);
    CHECK_MSG(st.boxed == 500, "%d solutions with a boxed answer", st.boxed);
    /* The answer field is the last box of the solution, verbatim, in every
     * record (measured): a miss means the brace matching broke. */
    CHECK_MSG(st.equal_last == 500, "last box equals the answer field in only %d", st.equal_last);
    printf("math_500.json: %d/%d boxed; last box == answer field: %d, first box: %d\n", st.boxed, n,
           st.equal_last, st.equal_first);
}

/* ---- GPQA-Diamond ------------------------------------------------------------ */

typedef struct { int letters, format_ok, prose_ok, no_answer_hits; } gpqa_stats;

static void gpqa_record(const json_value *rec, int i, void *ud)
{
    gpqa_stats *st = ud;
    size_t alen, qlen;
    const char *a = json_str(json_get(rec, "answer"), &alen);
    const char *q = json_str(json_get(rec, "question"), &qlen);
    int letter = a && alen == 1 && a[0] >= 'A' && a[0] <= 'D' ? a[0] : 0;
    CHECK_MSG(letter != 0, "GPQA record %d: answer is not one of A-D", i);
    if (!letter || !q)
        return;
    st->letters++;
    buf_t r = BUF_INIT;
    PUT(buf_printf(&r, "Let me work through this carefully.\n\n##Answer: %c##", letter));
    st->format_ok += extract_choice(r.data, r.len, "ABCD") == letter;
    CHECK_MSG(extract_choice(r.data, r.len, "ABCD") == letter, "GPQA record %d: format line", i);

    /* The question and its choices echoed back, then an explicit answer:
     * the real text (units, LaTeX, "A 10^-8 eV" lines) must not win. */
    buf_reset(&r);
    PUT(buf_append(&r, q, qlen));
    PUT(buf_puts(&r, "\n\n"));
    for (const json_value *c = json_get(rec, "choices") ? json_get(rec, "choices")->child : NULL; c; c = c->next) {
        size_t cl;
        const char *cs = json_str(c, &cl);
        if (cs) {
            PUT(buf_append(&r, cs, cl));
            PUT(buf_putc(&r, '\n'));
        }
    }
    size_t echo = r.len;
    int none = extract_choice(r.data, echo, "ABCD");
    st->no_answer_hits += none != 0;
    PUT(buf_printf(&r, "\nWeighing each option against the data, the correct answer is (%c).", letter));
    int got = extract_choice(r.data, r.len, "ABCD");
    st->prose_ok += got == letter;
    CHECK_MSG(got == letter, "GPQA record %d: explicit answer after the echoed question", i);
    buf_free(&r);
}

static void test_gpqa(void)
{
    gpqa_stats st = {0, 0, 0, 0};
    int n = each_record("gpqa_diamond.json.gz", 0, gpqa_record, &st);
    CHECK_MSG(n == 198, "gpqa_diamond.json.gz: %d records", n);
    CHECK(st.letters == 198);
    /* An echo of question and choices alone has no answer; the measured
     * count of false hits is small, and must stay small. */
    CHECK_MSG(st.no_answer_hits <= 3, "%d echoed questions produce an answer", st.no_answer_hits);
    printf("gpqa_diamond.json.gz: %d records, letters A-D: %d; ##Answer## round trip: %d; "
           "explicit answer after echoed question: %d; false hits on echo alone: %d\n",
           n, st.letters, st.format_ok, st.prose_ok, st.no_answer_hits);
}

/* ---- HumanEval ---------------------------------------------------------------- */

typedef struct { int ok, ok_with_usage; } he_stats;

static void he_record(const json_value *rec, int i, void *ud)
{
    he_stats *st = ud;
    size_t pl, cl;
    const char *prompt = json_str(json_get(rec, "prompt"), &pl);
    const char *sol = json_str(json_get(rec, "canonical_solution"), &cl);
    const char *ep = json_str(json_get(rec, "entry_point"), NULL);
    if (!prompt || !sol || !ep) {
        CHECK_MSG(0, "HumanEval record %d incomplete", i);
        return;
    }
    buf_t code = BUF_INIT, r = BUF_INIT;
    PUT(buf_append(&code, prompt, pl));
    PUT(buf_append(&code, sol, cl));
    PUT(buf_printf(&r, "Here is the completed function `%s`:\n\n```python\n", ep));
    PUT(buf_append(&r, code.data, code.len));
    if (code.data[code.len - 1] != '\n')
        PUT(buf_putc(&r, '\n'));
    /* what extract_code returns: the code without the line break that
     * precedes the closing fence */
    if (code.data[code.len - 1] == '\n')
        code.len--;
    PUT(buf_puts(&r, "```\n\nThis implementation handles the edge cases in the docstring.\n"));
    size_t n;
    char *got = extract_code(r.data, r.len, ep, &n);
    int ok = got && n == code.len && memcmp(got, code.data, n) == 0;
    st->ok += ok;
    CHECK_MSG(ok, "HumanEval record %d (%s): code not extracted", i, ep);
    free(got);
    /* A usage block after the function, longer than the function itself. */
    PUT(buf_printf(&r, "\nExample:\n\n```python\nprint(%s(...))\n", ep));
    for (int k = 0; k < 40; k++)
        PUT(buf_puts(&r, "# a long explanation of the example output goes on here\n"));
    PUT(buf_puts(&r, "```\n"));
    got = extract_code(r.data, r.len, ep, &n);
    ok = got && n == code.len && memcmp(got, code.data, n) == 0;
    st->ok_with_usage += ok;
    CHECK_MSG(ok, "HumanEval record %d (%s): code not extracted beside a usage block", i, ep);
    free(got);
    buf_free(&code);
    buf_free(&r);
}

static void test_humaneval(void)
{
    he_stats st = {0, 0};
    int n = each_record("HumanEval.jsonl.gz", 1, he_record, &st);
    CHECK_MSG(n == 164, "HumanEval.jsonl.gz: %d records", n);
    printf("HumanEval.jsonl.gz: %d records; code extracted %d, beside a usage block %d\n", n, st.ok,
           st.ok_with_usage);
}

int main(void)
{
    test_gsm8k();
    test_math500();
    test_gpqa();
    test_humaneval();
    extract_cleanup();
    return check_report();
}
