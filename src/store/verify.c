/* store verify: every check the store can make of itself (store.h). */
#include "store/internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/sha256.h"

typedef struct verify_ctx {
    store_t *s;
    store_report *r;
    store_problem_fn fn;
    void *ud;
} verify_ctx;

static void verify_say(verify_ctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void verify_say(verify_ctx *v, const char *fmt, ...)
{
    char line[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (v->fn)
        v->fn(v->ud, line);
}

/* Runs sql and calls row(v, st) for each row; returns a SQLite code. */
static int verify_rows(verify_ctx *v, const char *sql, void (*row)(verify_ctx *, sqlite3_stmt *))
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(v->s->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        row(v, st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void verify_integrity_row(verify_ctx *v, sqlite3_stmt *st)
{
    const char *msg = (const char *)sqlite3_column_text(st, 0);
    if (msg && strcmp(msg, "ok") == 0)
        return;
    v->r->integrity_errors++;
    verify_say(v, "database: %s", msg ? msg : "(no message)");
}

static void verify_prompt_row(verify_ctx *v, sqlite3_stmt *st)
{
    v->r->prompts++;
    char hex[65] = "(not a 32-byte key)";
    int keyed = sqlite3_column_bytes(st, 0) == 32;
    if (keyed)
        sha256_hex(sqlite3_column_blob(st, 0), hex);
    if (sqlite3_column_type(st, 1) == SQLITE_NULL && keyed)
        return;
    uint8_t d[32];
    sha256(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), d);
    if (!keyed || memcmp(d, sqlite3_column_blob(st, 0), 32) != 0) {
        v->r->damaged_prompts++;
        verify_say(v, "prompt %s: its request text does not hash to its key", hex);
    }
}

static void verify_sample_row(verify_ctx *v, sqlite3_stmt *st)
{
    v->r->samples++;
    int idx = sqlite3_column_int(st, 1);
    if (sqlite3_column_bytes(st, 0) != 32) {
        v->r->damaged_samples++;
        verify_say(v, "sample %d of a prompt without a 32-byte key", idx);
        return;
    }
    const uint8_t *key = sqlite3_column_blob(st, 0);
    store_sample sm;
    store_read_sample(st, 2, &sm);
    if (store_sum_ok(v->s, st, 9, key, idx, &sm))
        return;
    char hex[65];
    sha256_hex(key, hex);
    v->r->damaged_samples++;
    verify_say(v, "sample %d of prompt %s: checksum mismatch (damaged; a run requests it again)", idx, hex);
}

static void verify_orphan_row(verify_ctx *v, sqlite3_stmt *st)
{
    v->r->orphans++;
    verify_say(v, "sample %d of prompt row %lld: that prompt row is missing", sqlite3_column_int(st, 1),
               (long long)sqlite3_column_int64(st, 0));
}

int store_verify(store_t *s, store_report *out, store_problem_fn fn, void *ud)
{
    memset(out, 0, sizeof *out);
    out->checksums = s->version >= 2;
    verify_ctx v = {s, out, fn, ud};
    const char *sum = s->version >= 2 ? "s.sum" : "NULL";
    char samples_sql[512];
    snprintf(samples_sql, sizeof samples_sql,
             "SELECT p.key, s.idx, s.text, s.finish_reason, s.prompt_tokens, s.completion_tokens,"
             " s.latency_ms, s.served_model, s.created, %s FROM samples s JOIN prompts p ON s.prompt = p.id",
             sum);
    int rc;
    if ((rc = verify_rows(&v, "PRAGMA integrity_check", verify_integrity_row)) != SQLITE_OK ||
        (rc = verify_rows(&v, "SELECT key, request FROM prompts", verify_prompt_row)) != SQLITE_OK ||
        (rc = verify_rows(&v, samples_sql, verify_sample_row)) != SQLITE_OK ||
        (rc = verify_rows(&v, "SELECT prompt, idx FROM samples WHERE prompt NOT IN (SELECT id FROM prompts)",
                          verify_orphan_row)) != SQLITE_OK) {
        /* a file too damaged to read through is damage, not a tool failure */
        if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB) {
            out->integrity_errors++;
            verify_say(&v, "database: %s", sqlite3_errmsg(s->db));
            return 1;
        }
        return store_fail(s, rc, "verifying");
    }
    return out->integrity_errors || out->damaged_samples || out->damaged_prompts || out->orphans ? 1 : 0;
}
