/* store internals shared by store.c (open, write, read), sum.c (the
 * checksum of a sample) and verify.c (store verify). Not a public API. */
#ifndef SLMMUX_STORE_INTERNAL_H
#define SLMMUX_STORE_INTERNAL_H
#include "store/store.h"

#include "base/buf.h"

#include <sqlite3.h>

#define STORE_SUM_LEN 16    /* bytes of SHA-256 kept: corruption, not an adversary, is the threat */

/* A sample put but not committed: it lives here, strings owned, until a
 * commit succeeds, so a store locked by another process or a full disk
 * loses nothing while the process lives. */
typedef struct store_pend {
    uint8_t key[32];
    char *request;          /* NULL: none given, or an earlier pend of the batch has it */
    size_t request_len;
    int idx;                /* -1: the prompt row only (store_put_request) */
    store_sample sm;        /* text, finish_reason and served_model owned */
    uint8_t sum[STORE_SUM_LEN];
} store_pend;

struct store {
    sqlite3 *db;
    char *path;
    int readonly, busy_ms, nowait;
    int version;            /* schema version of the file: 1 has no checksums */
    int busy;               /* the last failure was another process's lock */
    int in_each;            /* store_each is running: writes would disturb it */
    sqlite3_stmt *begin, *commit, *rollback, *lookup, *find_prompt, *add_prompt, *fill_request;
    sqlite3_stmt *put_sample, *old_sum, *replace_sample, *has_sample, *each;
    sqlite3_stmt *count_prompts, *count_samples;
    store_pend *pend;
    int npend, pend_cap;
    buf_t arena;            /* strings handed out by store_lookup */
    size_t *offs;           /* their offsets in arena while it may move */
    size_t offs_cap;
    char err[512];
};

void store_fmt(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets s->err from a SQLite failure (naming the store and what it was
 * doing) and returns -1. */
int store_fail(store_t *s, int rc, const char *what);

/* The checksum of sample idx of prompt key as stored: every field, NULLs
 * (has_text 0, negative counts, NULL strings) told apart from values. */
void store_sum(const uint8_t key[32], int idx, const store_sample *sm, uint8_t sum[STORE_SUM_LEN]);
/* Reads the sample columns starting at first (text, finish_reason,
 * prompt_tokens, completion_tokens, latency_ms, served_model, created);
 * strings point into the statement until its next step. */
void store_read_sample(sqlite3_stmt *st, int first, store_sample *sm);
/* 1 when the checksum in column col matches the sample (a version 1 store
 * has none to check: 1), else 0. */
int store_sum_ok(const store_t *s, sqlite3_stmt *st, int col, const uint8_t key[32], int idx,
                 const store_sample *sm);

#endif
