/* store sum: the checksum of a stored sample, and reading a sample row. */
#include "store/internal.h"

#include <string.h>

#include "store/sha256.h"

static void sum_i64(sha256_ctx *c, int64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)v >> (8 * i));
    sha256_update(c, b, 8);
}

static void sum_f64(sha256_ctx *c, double v)
{
    int64_t bits;
    memcpy(&bits, &v, sizeof bits);
    sum_i64(c, bits);
}

/* A NULL string and "" differ: a presence byte, then length and bytes. */
static void sum_str(sha256_ctx *c, const char *p, size_t n)
{
    uint8_t present = p != NULL;
    sha256_update(c, &present, 1);
    if (p) {
        sum_i64(c, (int64_t)n);
        sha256_update(c, p, n);
    }
}

void store_sum(const uint8_t key[32], int idx, const store_sample *sm, uint8_t sum[STORE_SUM_LEN])
{
    sha256_ctx c;
    uint8_t d[32];
    sha256_init(&c);
    sha256_update(&c, "slmmux sample 1\n", 16);
    sha256_update(&c, key, 32);
    sum_i64(&c, idx);
    sum_str(&c, sm->has_text ? (sm->text ? sm->text : "") : NULL, sm->has_text ? sm->text_len : 0);
    sum_str(&c, sm->finish_reason, sm->finish_reason ? strlen(sm->finish_reason) : 0);
    sum_i64(&c, sm->prompt_tokens >= 0 ? sm->prompt_tokens : -1);
    sum_i64(&c, sm->completion_tokens >= 0 ? sm->completion_tokens : -1);
    sum_f64(&c, sm->latency_ms >= 0 ? sm->latency_ms : -1);
    sum_str(&c, sm->served_model, sm->served_model ? strlen(sm->served_model) : 0);
    sum_f64(&c, sm->created);
    sha256_final(&c, d);
    memcpy(sum, d, STORE_SUM_LEN);
}

void store_read_sample(sqlite3_stmt *st, int first, store_sample *sm)
{
    sm->has_text = sqlite3_column_type(st, first) != SQLITE_NULL;
    sm->text = sm->has_text ? sqlite3_column_blob(st, first) : NULL;
    sm->text_len = (size_t)sqlite3_column_bytes(st, first);
    if (sm->has_text && !sm->text)
        sm->text = "";   /* SQLite returns NULL for a zero-length blob */
    sm->finish_reason = (const char *)sqlite3_column_text(st, first + 1);
    sm->prompt_tokens = sqlite3_column_type(st, first + 2) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(st, first + 2);
    sm->completion_tokens = sqlite3_column_type(st, first + 3) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(st, first + 3);
    sm->latency_ms = sqlite3_column_type(st, first + 4) == SQLITE_NULL ? -1 : sqlite3_column_double(st, first + 4);
    sm->served_model = (const char *)sqlite3_column_text(st, first + 5);
    sm->created = sqlite3_column_double(st, first + 6);
}

int store_sum_ok(const store_t *s, sqlite3_stmt *st, int col, const uint8_t key[32], int idx,
                 const store_sample *sm)
{
    if (s->version < 2)
        return 1;
    uint8_t want[STORE_SUM_LEN];
    store_sum(key, idx, sm, want);
    return sqlite3_column_bytes(st, col) == STORE_SUM_LEN &&
           memcmp(sqlite3_column_blob(st, col), want, STORE_SUM_LEN) == 0;
}
