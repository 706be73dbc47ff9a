/* store: the durable sample store on SQLite. See store.h for the contract. */
#include "store/internal.h"

#include "base/oom.h"
#include "store/sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* "slmx": PRAGMA application_id tells our stores from other SQLite files. */
#define STORE_APP_ID 0x736c6d78
/* 2 added samples.sum, a checksum verified on every read; a version 1
 * store is migrated when opened for writing, read unverified otherwise. */
#define STORE_VERSION 2
#define STORE_BUSY_MS 5000

/* Layout, measured with tests/bench/bench_store.sh (100,000 samples of 1 KB,
 * 4 per prompt, batches of 100): the suggested samples table WITHOUT ROWID,
 * clustered on (key, idx), cost 60 us CPU and 4.9 MB per 1,000 samples: a
 * clustered index page keeps at most ~1000 bytes of a row on a 4 KB page, so
 * each sample spilled into its own nearly empty overflow page, and random
 * hash keys scattered rows over the file. A rowid table with UNIQUE(key, idx)
 * cost 22 us and 1.6 MB: still two random index pages per new prompt per
 * batch. Here the only hash-keyed b-tree is prompts.key, touched once per
 * prompt; prompts and samples get increasing ids, so their rows and the
 * (prompt, idx) index are appended, not scattered: 15 us and 1.57 MB with
 * 4 KB pages (16 KB pages below: 12-13 us, 1.28 MB). Write volume (WAL plus
 * checkpoint) is what costs CPU, so fewer touched pages is the lever. */
static const char store_schema[] =
    "CREATE TABLE prompts("
    " id INTEGER PRIMARY KEY,"
    " key BLOB NOT NULL UNIQUE,"      /* SHA-256 of the request, 32 bytes */
    " request TEXT);"                 /* the canonical request text */
    "CREATE TABLE samples("
    " prompt INTEGER NOT NULL REFERENCES prompts(id),"
    " idx INTEGER NOT NULL,"          /* sample index 0..k-1 */
    " text BLOB,"                     /* NULL = the model returned null content */
    " finish_reason TEXT,"
    " prompt_tokens INTEGER,"
    " completion_tokens INTEGER,"
    " latency_ms REAL,"
    " served_model TEXT,"
    " created REAL,"                  /* Unix time, seconds */
    " sum BLOB,"                      /* store_sum of the row (sum.c) */
    " UNIQUE(prompt, idx));";

static const char sql_lookup[] =
    "SELECT s.idx, s.text, s.finish_reason, s.prompt_tokens, s.completion_tokens, s.latency_ms,"
    " s.served_model, s.created, s.sum FROM prompts p JOIN samples s ON s.prompt = p.id"
    " WHERE p.key = ?1 AND s.idx >= 0 AND s.idx < ?2";
static const char sql_has_sample[] =
    "SELECT s.text, s.finish_reason, s.prompt_tokens, s.completion_tokens, s.latency_ms,"
    " s.served_model, s.created, s.sum FROM prompts p JOIN samples s ON s.prompt = p.id"
    " WHERE p.key = ?1 AND s.idx = ?2";
static const char sql_find_prompt[] = "SELECT id, request IS NULL FROM prompts WHERE key = ?1";
static const char sql_add_prompt[] = "INSERT INTO prompts(key, request) VALUES (?1, ?2)";
static const char sql_fill_request[] = "UPDATE prompts SET request = ?2 WHERE id = ?1";
static const char sql_put_sample[] =
    "INSERT OR IGNORE INTO samples(prompt, idx, text, finish_reason, prompt_tokens, completion_tokens,"
    " latency_ms, served_model, created, sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/* A sample already there is replaced only when damaged: first writer wins. */
static const char sql_old_sum[] =
    "SELECT text, finish_reason, prompt_tokens, completion_tokens, latency_ms, served_model, created,"
    " sum FROM samples WHERE prompt = ?1 AND idx = ?2";
static const char sql_replace_sample[] =
    "UPDATE samples SET text = ?3, finish_reason = ?4, prompt_tokens = ?5, completion_tokens = ?6,"
    " latency_ms = ?7, served_model = ?8, created = ?9, sum = ?10 WHERE prompt = ?1 AND idx = ?2";
static const char sql_each[] =
    "SELECT p.key, p.request, s.idx, s.text, s.finish_reason, s.prompt_tokens, s.completion_tokens,"
    " s.latency_ms, s.served_model, s.created, s.sum"
    " FROM prompts p JOIN samples s ON s.prompt = p.id ORDER BY p.key, s.idx";

void store_fmt(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Turns a SQLite failure into a message a user can act on. */
static void store_explain(char *err, size_t errlen, const char *path, sqlite3 *db, int rc, int busy_ms,
                          const char *what)
{
    const char *detail = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int sys = db ? sqlite3_system_errno(db) : 0;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        if (busy_ms > 0)
            store_fmt(err, errlen, "store %s: locked by another writer for more than %d ms while %s; "
                      "try again when it has finished", path, busy_ms, what);
        else
            store_fmt(err, errlen, "store %s: locked by another writer while %s", path, what);
        break;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        store_fmt(err, errlen, "store %s: not a valid slmmux store (%s)", path, detail);
        break;
    case SQLITE_CANTOPEN:
        store_fmt(err, errlen, "store %s: cannot open (%s%s%s)", path, detail, sys ? ": " : "",
                  sys ? strerror(sys) : "");
        break;
    case SQLITE_READONLY:
        store_fmt(err, errlen, "store %s: cannot write while %s (%s)", path, what, detail);
        break;
    case SQLITE_FULL:
        store_fmt(err, errlen, "store %s: disk full while %s", path, what);
        break;
    case SQLITE_IOERR:
        store_fmt(err, errlen, "store %s: I/O error while %s (%s%s%s)", path, what, detail, sys ? ": " : "",
                  sys ? strerror(sys) : "");
        break;
    default:
        store_fmt(err, errlen, "store %s: %s while %s", path, detail, what);
    }
}

int store_fail(store_t *s, int rc, const char *what)
{
    store_explain(s->err, sizeof s->err, s->path, s->db, rc, s->nowait ? 0 : s->busy_ms, what);
    s->busy = (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
    return -1;
}

/* mkdir -p of the directory part of path. */
static int store_mkdirs(const char *path, char *err, size_t errlen)
{
    char *dir = strdup(path);
    if (!dir) {
        store_fmt(err, errlen, "store %s: out of memory", path);
        return -1;
    }
    int rc = 0;
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
            store_fmt(err, errlen, "store %s: cannot create directory %s: %s", path, dir, strerror(errno));
            rc = -1;
            break;
        }
        *p = '/';
    }
    free(dir);
    return rc;
}

/* Runs a statement returning one integer. */
static int store_int(sqlite3 *db, const char *sql, long *out)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = (long)sqlite3_column_int64(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

/* 0: a store (s->version set); 1: an empty database; -1: refused (err set). */
static int store_check_schema(store_t *s, char *err, size_t errlen)
{
    long app, version, objects;
    int rc;
    if ((rc = store_int(s->db, "PRAGMA application_id", &app)) != SQLITE_OK ||
        (rc = store_int(s->db, "PRAGMA user_version", &version)) != SQLITE_OK ||
        (rc = store_int(s->db, "SELECT count(*) FROM sqlite_master", &objects)) != SQLITE_OK) {
        store_explain(err, errlen, s->path, s->db, rc, s->busy_ms, "reading the schema");
        return -1;
    }
    if (app == 0 && version == 0 && objects == 0)
        return 1;
    if (app != STORE_APP_ID) {
        store_fmt(err, errlen, "store %s: not a valid slmmux store (a SQLite database of another application)",
                  s->path);
        return -1;
    }
    if (version > STORE_VERSION) {
        store_fmt(err, errlen, "store %s: schema version %ld is newer than this slmmux supports (%d); "
                  "use a newer slmmux", s->path, version, STORE_VERSION);
        return -1;
    }
    if (version < 1) {
        store_fmt(err, errlen, "store %s: not a valid slmmux store (schema version %ld)", s->path, version);
        return -1;
    }
    s->version = (int)version;
    return 0;
}

/* Version 1 to 2: the checksum column, filled for every sample already
 * there. Their content is trusted as it is: a v1 store never had a check. */
static int store_migrate_v1(store_t *s)
{
    static const char sql_rows[] =
        "SELECT s.rowid, p.key, s.idx, s.text, s.finish_reason, s.prompt_tokens, s.completion_tokens,"
        " s.latency_ms, s.served_model, s.created FROM prompts p JOIN samples s ON s.prompt = p.id";
    sqlite3_stmt *rows = NULL, *set = NULL;
    int rc = sqlite3_exec(s->db, "ALTER TABLE samples ADD COLUMN sum BLOB", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, sql_rows, -1, &rows, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(s->db, "UPDATE samples SET sum = ?2 WHERE rowid = ?1", -1, &set, NULL);
    /* sums first, writes after: no update under a running scan */
    sqlite3_int64 *ids = NULL;
    uint8_t (*sums)[STORE_SUM_LEN] = NULL;
    size_t n = 0, cap = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step(rows)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            ids = xrealloc(ids, cap * sizeof *ids);
            sums = xrealloc(sums, cap * sizeof *sums);
        }
        store_sample sm;
        store_read_sample(rows, 3, &sm);
        ids[n] = sqlite3_column_int64(rows, 0);
        if (sqlite3_column_bytes(rows, 1) == 32)
            store_sum(sqlite3_column_blob(rows, 1), sqlite3_column_int(rows, 2), &sm, sums[n]);
        else
            memset(sums[n], 0, STORE_SUM_LEN);   /* not a key we wrote: verify reports it */
        n++;
        rc = SQLITE_OK;
    }
    if (rc == SQLITE_DONE)
        rc = SQLITE_OK;
    for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
        sqlite3_bind_int64(set, 1, ids[i]);
        sqlite3_bind_blob(set, 2, sums[i], STORE_SUM_LEN, SQLITE_STATIC);
        rc = sqlite3_step(set) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->db);
        sqlite3_reset(set);
    }
    if (rc == SQLITE_OK) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", STORE_VERSION);
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    }
    free(ids);
    free(sums);
    sqlite3_finalize(rows);
    sqlite3_finalize(set);
    return rc;
}

/* Creates the schema in an empty file, or migrates an older one, under the
 * write lock: another process may be doing the same, so decide again there. */
static int store_upgrade(store_t *s, char *err, size_t errlen)
{
    char sql[sizeof store_schema + 128];
    snprintf(sql, sizeof sql, "%sPRAGMA application_id = %d; PRAGMA user_version = %d;", store_schema,
             STORE_APP_ID, STORE_VERSION);
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        store_explain(err, errlen, s->path, s->db, rc, s->busy_ms, "creating the schema");
        return -1;
    }
    int state = store_check_schema(s, err, errlen);
    const char *what = state == 1 ? "creating the schema" : "adding checksums (schema version 2)";
    if (state == 1)
        rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    else if (state == 0 && s->version < STORE_VERSION)
        rc = store_migrate_v1(s);
    if (rc != SQLITE_OK)
        store_explain(err, errlen, s->path, s->db, rc, s->busy_ms, what);
    if (state < 0 || rc != SQLITE_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    if ((rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        store_explain(err, errlen, s->path, s->db, rc, s->busy_ms, what);
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    s->version = STORE_VERSION;
    return 0;
}

static int store_prepare(store_t *s, char *err, size_t errlen)
{
    /* a version 1 store (read-only) has no sum column: NULL in its place */
    int v1 = s->version < 2;
    struct { sqlite3_stmt **st; const char *sql; } all[] = {
        {&s->begin, "BEGIN IMMEDIATE"},
        {&s->commit, "COMMIT"},
        {&s->rollback, "ROLLBACK"},
        {&s->lookup, sql_lookup},
        {&s->has_sample, sql_has_sample},
        {&s->find_prompt, sql_find_prompt},
        {&s->add_prompt, sql_add_prompt},
        {&s->fill_request, sql_fill_request},
        {&s->put_sample, v1 ? NULL : sql_put_sample},
        {&s->old_sum, v1 ? NULL : sql_old_sum},
        {&s->replace_sample, v1 ? NULL : sql_replace_sample},
        {&s->each, sql_each},
        {&s->count_prompts, "SELECT count(*) FROM prompts"},
        {&s->count_samples, "SELECT count(*) FROM samples"},
    };
    buf_t sql = BUF_INIT;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (!all[i].sql)
            continue;
        buf_reset(&sql);
        if (buf_puts(&sql, all[i].sql) < 0) {
            buf_free(&sql);
            store_fmt(err, errlen, "store %s: out of memory", s->path);
            return -1;
        }
        if (v1 && sql.data)
            for (char *p; (p = strstr(sql.data, "s.sum")); )
                memcpy(p, " NULL", 5);
        int rc = sqlite3_prepare_v3(s->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, all[i].st, NULL);
        if (rc != SQLITE_OK) {
            store_fmt(err, errlen, "store %s: not a valid slmmux store (%s)", s->path, sqlite3_errmsg(s->db));
            buf_free(&sql);
            return -1;
        }
    }
    buf_free(&sql);
    return 0;
}

static void store_pend_free(store_pend *p)
{
    free(p->request);
    free((char *)p->sm.text);
    free((char *)p->sm.finish_reason);
    free((char *)p->sm.served_model);
}

static void store_drop_pending(store_t *s)
{
    for (int i = 0; i < s->npend; i++)
        store_pend_free(&s->pend[i]);
    s->npend = 0;
}

static void store_free(store_t *s)
{
    sqlite3_stmt *all[] = {s->begin, s->commit, s->rollback, s->lookup, s->has_sample, s->find_prompt,
                           s->add_prompt, s->fill_request, s->put_sample, s->old_sum, s->replace_sample,
                           s->each, s->count_prompts, s->count_samples};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        sqlite3_finalize(all[i]);
    /* close_v2 so that a statement we forgot cannot keep the file open. */
    sqlite3_close_v2(s->db);
    store_drop_pending(s);
    free(s->pend);
    buf_free(&s->arena);
    free(s->offs);
    free(s->path);
    free(s);
}

/* A read-only store in a directory we cannot write (an archive, another
 * user's files): SQLite cannot create the -shm file WAL needs. With no WAL
 * content to miss (the last writer checkpointed and removed it), the file
 * can be read as immutable. */
static int store_open_immutable(store_t *s)
{
    char wal[4096];
    struct stat st;
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", s->path) >= sizeof wal ||
        (stat(wal, &st) == 0 && st.st_size > 0))
        return SQLITE_CANTOPEN;
    char *uri = sqlite3_mprintf("file:%s?immutable=1", s->path);
    if (!uri)
        oom_abort(strlen(s->path) + 32);
    sqlite3_close_v2(s->db);
    s->db = NULL;
    int rc = sqlite3_open_v2(uri, &s->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL);
    sqlite3_free(uri);
    return rc;
}

store_t *store_open(const char *path, const store_opts *opts, char *err, size_t errlen)
{
    static const store_opts defaults = {0, 0, 0};
    if (!opts)
        opts = &defaults;
    if (!path || !*path) {
        store_fmt(err, errlen, "store: empty path");
        return NULL;
    }
    store_t *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        store_fmt(err, errlen, "store %s: out of memory", path);
        return NULL;
    }
    s->readonly = opts->readonly != 0;
    s->nowait = opts->nowait != 0;
    s->busy_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : STORE_BUSY_MS;

    if (!s->readonly && store_mkdirs(path, err, errlen) < 0) {
        store_free(s);
        return NULL;
    }
    /* One connection per store, used from one thread: no SQLite mutexes. */
    int flags = (s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &s->db, flags, NULL);
    if (rc != SQLITE_OK) {
        store_explain(err, errlen, path, s->db, rc, s->busy_ms, "opening");
        store_free(s);
        return NULL;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, s->busy_ms);

    if (!s->readonly) {
        /* WAL: readers never block the writer and a commit is one append +
         * fsync; FULL: that fsync happens at every commit, so a committed
         * sample survives power loss, not only a crash of the process. */
        /* 16 KB pages (for a new file; an existing one keeps its own) pack
         * 1-4 KB samples with little slack and mean fewer, larger WAL frames:
         * 13 us and 1.28 MB per 1,000 samples against 15 us and 1.57 MB with
         * 4 KB pages in bench_store.sh, and better for k = 1 and 3 KB texts. */
        /* Switching a fresh file to WAL while another process does the same
         * can return BUSY at once, without the busy handler (SQLite avoids a
         * deadlock): retry until the busy timeout has really passed. */
        long ignored;
        for (int waited_ms = 0;; waited_ms += 10) {
            if ((rc = sqlite3_exec(s->db, "PRAGMA page_size = 16384", NULL, NULL, NULL)) == SQLITE_OK &&
                (rc = store_int(s->db, "PRAGMA journal_mode = WAL", &ignored)) == SQLITE_OK &&
                (rc = sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL, NULL)) == SQLITE_OK)
                break;
            if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= s->busy_ms)
                break;
            sqlite3_sleep(10);
        }
        if (rc != SQLITE_OK) {
            store_explain(err, errlen, path, s->db, rc, s->busy_ms, "opening");
            store_free(s);
            return NULL;
        }
    }
    int state = store_check_schema(s, err, errlen);
    int why = sqlite3_errcode(s->db) & 0xff;
    if (state < 0 && s->readonly && (why == SQLITE_CANTOPEN || why == SQLITE_READONLY) &&
        store_open_immutable(s) == SQLITE_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        state = store_check_schema(s, err, errlen);
    }
    if (state == 1 && s->readonly) {
        store_fmt(err, errlen, "store %s: not a valid slmmux store (empty database)", path);
        state = -1;
    } else if (state == 1 || (state == 0 && !s->readonly && s->version < STORE_VERSION)) {
        state = store_upgrade(s, err, errlen);
    }
    if (state < 0 || store_prepare(s, err, errlen) < 0) {
        store_free(s);
        return NULL;
    }
    return s;
}

static int store_bind_text(sqlite3_stmt *st, int col, const char *str)
{
    return str ? sqlite3_bind_text(st, col, str, -1, SQLITE_STATIC) : sqlite3_bind_null(st, col);
}

/* Finds or adds the prompt row of key; stores request if the row has none. */
static int store_prompt_id(store_t *s, const uint8_t key[32], const char *request, size_t request_len,
                           sqlite3_int64 *id)
{
    sqlite3_stmt *st = s->find_prompt;
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW, no_request = found && sqlite3_column_int(st, 1);
    if (found)
        *id = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, rc, "looking up a prompt");
    if (found && !(no_request && request))
        return 0;
    st = found ? s->fill_request : s->add_prompt;
    if (found)
        sqlite3_bind_int64(st, 1, *id);
    else
        sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    if (request)
        sqlite3_bind_text64(st, 2, request, request_len, SQLITE_STATIC, SQLITE_UTF8);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, "storing a request");
    if (!found)
        *id = sqlite3_last_insert_rowid(s->db);
    return 0;
}

/* Binds a sample to ?1..?10 of put_sample or replace_sample. */
static void store_bind_sample(sqlite3_stmt *st, sqlite3_int64 prompt, const store_pend *p)
{
    const store_sample *sm = &p->sm;
    sqlite3_bind_int64(st, 1, prompt);
    sqlite3_bind_int(st, 2, p->idx);
    if (sm->has_text)   /* a zero-length blob needs a non-NULL pointer, NULL would bind SQL NULL */
        sqlite3_bind_blob64(st, 3, sm->text ? sm->text : "", sm->text_len, SQLITE_STATIC);
    store_bind_text(st, 4, sm->finish_reason);
    if (sm->prompt_tokens >= 0)
        sqlite3_bind_int64(st, 5, sm->prompt_tokens);
    if (sm->completion_tokens >= 0)
        sqlite3_bind_int64(st, 6, sm->completion_tokens);
    if (sm->latency_ms >= 0)
        sqlite3_bind_double(st, 7, sm->latency_ms);
    store_bind_text(st, 8, sm->served_model);
    sqlite3_bind_double(st, 9, sm->created);
    sqlite3_bind_blob(st, 10, p->sum, STORE_SUM_LEN, SQLITE_STATIC);
}

static int store_step_sample(store_t *s, sqlite3_stmt *st, sqlite3_int64 prompt, const store_pend *p)
{
    store_bind_sample(st, prompt, p);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : store_fail(s, rc, "storing a sample");
}

/* Writes one pending sample inside the commit's transaction. A sample
 * already there stays (first writer wins) unless its checksum says it is
 * damaged: then this one, just received again, replaces it. */
static int store_write_pend(store_t *s, const store_pend *p, sqlite3_int64 prompt)
{
    if (store_step_sample(s, s->put_sample, prompt, p) < 0)
        return -1;
    if (sqlite3_changes(s->db) > 0)
        return 0;
    sqlite3_stmt *st = s->old_sum;
    sqlite3_bind_int64(st, 1, prompt);
    sqlite3_bind_int(st, 2, p->idx);
    int rc = sqlite3_step(st), damaged = 0;
    if (rc == SQLITE_ROW) {
        store_sample old;
        store_read_sample(st, 0, &old);
        damaged = !store_sum_ok(s, st, 7, p->key, p->idx, &old);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, rc, "checking a stored sample");
    return damaged ? store_step_sample(s, s->replace_sample, prompt, p) : 0;
}

int store_commit(store_t *s)
{
    s->busy = 0;
    if (s->npend == 0)
        return 0;
    if (s->in_each) {
        store_fmt(s->err, sizeof s->err, "store %s: cannot commit while iterating", s->path);
        return -1;
    }
    /* IMMEDIATE takes the write lock now; a deferred transaction could
     * fail to upgrade later. With nowait a lock held elsewhere fails at
     * once: the host's loop must not stall, it retries from a timer. */
    if (s->nowait)
        sqlite3_busy_timeout(s->db, 0);
    int rc = sqlite3_step(s->begin);
    sqlite3_reset(s->begin);
    if (s->nowait)
        sqlite3_busy_timeout(s->db, s->busy_ms);
    if (rc != SQLITE_DONE) {
        store_fail(s, rc, "starting a write");
        goto failed;
    }
    sqlite3_int64 prompt = 0;
    for (int i = 0; i < s->npend; i++) {
        store_pend *p = &s->pend[i];
        /* the k samples of a prompt arrive together: one prompt lookup */
        int same = i > 0 && memcmp(s->pend[i - 1].key, p->key, 32) == 0;
        if ((!same || p->request) && store_prompt_id(s, p->key, p->request, p->request_len, &prompt) < 0)
            goto rollback;
        if (p->idx >= 0 && store_write_pend(s, p, prompt) < 0)
            goto rollback;
    }
    rc = sqlite3_step(s->commit);
    sqlite3_reset(s->commit);
    if (rc != SQLITE_DONE) {
        store_fail(s, rc, "committing");
        goto rollback;
    }
    store_drop_pending(s);
    return 0;
rollback:
    /* some errors (disk full, I/O) have rolled back already */
    if (!sqlite3_get_autocommit(s->db)) {
        sqlite3_step(s->rollback);
        sqlite3_reset(s->rollback);
    }
failed: {
        size_t n = strlen(s->err);
        snprintf(s->err + n, sizeof s->err - n, " (%d sample%s received, not yet committed)", s->npend,
                 s->npend == 1 ? "" : "s");
    }
    return -1;
}

int store_close(store_t *s, char *err, size_t errlen)
{
    if (!s)
        return 0;
    int rc = 0;
    if (s->npend && store_commit(s) < 0) {
        rc = -1;
        store_fmt(err, errlen, "%s; %d samples were not committed and are lost", s->err, s->npend);
    }
    store_free(s);
    return rc;
}

int store_pending(const store_t *s) { return s->npend; }

int store_busy(const store_t *s) { return s->busy; }

const char *store_errmsg(const store_t *s) { return s->err; }

/* The pending sample idx of key, or NULL. Linear: the batch holds what
 * arrived since the last commit (100 ms of samples, more only while
 * another process holds the lock), and lookups are per prompt, not per
 * sample, so a scan costs less than keeping an index. */
static store_pend *store_find_pend(store_t *s, const uint8_t key[32], int idx)
{
    for (int i = s->npend - 1; i >= 0; i--)
        if (s->pend[i].idx == idx && memcmp(s->pend[i].key, key, 32) == 0)
            return &s->pend[i];
    return NULL;
}

/* 1 when sample idx of key is stored and whole, 0 when not (or damaged). */
static int store_has(store_t *s, const uint8_t key[32], int idx)
{
    sqlite3_stmt *st = s->has_sample;
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, idx);
    int rc = sqlite3_step(st), whole = 0;
    if (rc == SQLITE_ROW) {
        store_sample sm;
        store_read_sample(st, 0, &sm);
        whole = store_sum_ok(s, st, 7, key, idx, &sm);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, rc, "looking up a sample");
    return whole;
}

static char *store_dup(const char *p, size_t n) { return p ? xmemdup(p, n) : NULL; }

int store_put(store_t *s, const uint8_t key[32], const char *request, size_t request_len, int idx,
              const store_sample *sm)
{
    if (s->readonly) {
        store_fmt(s->err, sizeof s->err, "store %s: opened read-only", s->path);
        return -1;
    }
    if (s->in_each) {
        store_fmt(s->err, sizeof s->err, "store %s: cannot write while iterating", s->path);
        return -1;
    }
    if (idx < 0) {
        store_fmt(s->err, sizeof s->err, "store %s: negative sample index %d", s->path, idx);
        return -1;
    }
    if (store_find_pend(s, key, idx))
        return 0;
    int have = store_has(s, key, idx);
    if (have != 0)
        return have < 0 ? -1 : 0;
    if (s->npend == s->pend_cap) {
        s->pend_cap = s->pend_cap ? 2 * s->pend_cap : 256;
        s->pend = xrealloc(s->pend, (size_t)s->pend_cap * sizeof *s->pend);
    }
    store_pend *p = &s->pend[s->npend];
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, 32);
    p->idx = idx;
    /* the request is kept once per key and batch */
    store_pend *prev = s->npend ? &s->pend[s->npend - 1] : NULL;
    int told = prev && memcmp(prev->key, key, 32) == 0 && (prev->request || !request);
    if (request && !told) {
        p->request = xmemdup(request, request_len);
        p->request_len = request_len;
    }
    p->sm.has_text = sm->has_text;
    p->sm.text = sm->has_text ? xmemdup(sm->text ? sm->text : "", sm->text_len) : NULL;
    p->sm.text_len = sm->has_text ? sm->text_len : 0;
    p->sm.finish_reason = store_dup(sm->finish_reason, sm->finish_reason ? strlen(sm->finish_reason) : 0);
    p->sm.served_model = store_dup(sm->served_model, sm->served_model ? strlen(sm->served_model) : 0);
    p->sm.prompt_tokens = sm->prompt_tokens >= 0 ? sm->prompt_tokens : -1;
    p->sm.completion_tokens = sm->completion_tokens >= 0 ? sm->completion_tokens : -1;
    p->sm.latency_ms = sm->latency_ms >= 0 ? sm->latency_ms : -1;
    p->sm.created = sm->created;
    if (!(p->sm.created > 0)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        p->sm.created = (double)ts.tv_sec + ts.tv_nsec / 1e9;
    }
    store_sum(key, idx, &p->sm, p->sum);
    s->npend++;
    return 1;
}

int store_put_request(store_t *s, const uint8_t key[32], const char *request, size_t request_len)
{
    if (s->readonly) {
        store_fmt(s->err, sizeof s->err, "store %s: opened read-only", s->path);
        return -1;
    }
    if (s->npend == s->pend_cap) {
        s->pend_cap = s->pend_cap ? 2 * s->pend_cap : 256;
        s->pend = xrealloc(s->pend, (size_t)s->pend_cap * sizeof *s->pend);
    }
    store_pend *p = &s->pend[s->npend++];
    memset(p, 0, sizeof *p);
    memcpy(p->key, key, 32);
    p->idx = -1;    /* no sample: the prompt row only */
    p->request = xmemdup(request, request_len);
    p->request_len = request_len;
    return 0;
}

int store_has_request(store_t *s, const uint8_t key[32])
{
    for (int i = 0; i < s->npend; i++)
        if (s->pend[i].request && memcmp(s->pend[i].key, key, 32) == 0)
            return 1;
    sqlite3_stmt *st = s->find_prompt;
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW && !sqlite3_column_int(st, 1);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_fail(s, rc, "looking up a prompt");
    return found;
}

/* Copies a string into the arena; returns its offset + 1, 0 for NULL. */
static size_t store_keep(store_t *s, const char *p, size_t n, int *oom)
{
    if (!p)
        return 0;
    size_t off = s->arena.len;
    if (buf_append(&s->arena, p, n) < 0 || buf_putc(&s->arena, '\0') < 0) {
        *oom = 1;
        return 0;
    }
    return off + 1;
}

static const char *store_at(const store_t *s, size_t off) { return off ? s->arena.data + off - 1 : NULL; }

static void store_keep_sample(store_t *s, int i, const store_sample *sm, store_sample *out, int *oom)
{
    out[i] = *sm;
    s->offs[3 * i] = store_keep(s, sm->has_text ? (sm->text ? sm->text : "") : NULL, sm->text_len, oom);
    s->offs[3 * i + 1] = store_keep(s, sm->finish_reason, sm->finish_reason ? strlen(sm->finish_reason) : 0, oom);
    s->offs[3 * i + 2] = store_keep(s, sm->served_model, sm->served_model ? strlen(sm->served_model) : 0, oom);
}

int store_lookup(store_t *s, const uint8_t key[32], int k, store_sample *out, unsigned char *have)
{
    if (k <= 0)
        return 0;
    memset(have, 0, (size_t)k);
    if (s->offs_cap < 3 * (size_t)k) {
        size_t *p = realloc(s->offs, 3 * (size_t)k * sizeof *p);
        if (!p) {
            store_fmt(s->err, sizeof s->err, "store %s: out of memory", s->path);
            return -1;
        }
        s->offs = p;
        s->offs_cap = 3 * (size_t)k;
    }
    buf_reset(&s->arena);
    sqlite3_stmt *st = s->lookup;
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, k);
    int rc, oom = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !oom) {
        int i = sqlite3_column_int(st, 0);
        store_sample sm;
        store_read_sample(st, 1, &sm);
        if (!store_sum_ok(s, st, 8, key, i, &sm)) {
            have[i] = STORE_DAMAGED;
            continue;
        }
        store_keep_sample(s, i, &sm, out, &oom);
        have[i] = 1;
    }
    sqlite3_reset(st);
    /* samples received but not committed (a locked store, a failed commit) */
    for (int j = 0; j < s->npend && !oom; j++) {
        store_pend *p = &s->pend[j];
        if (p->idx >= 0 && p->idx < k && have[p->idx] != 1 && memcmp(p->key, key, 32) == 0) {
            store_keep_sample(s, p->idx, &p->sm, out, &oom);
            have[p->idx] = 1;
        }
    }
    if (oom) {
        memset(have, 0, (size_t)k);
        store_fmt(s->err, sizeof s->err, "store %s: out of memory", s->path);
        return -1;
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        memset(have, 0, (size_t)k);
        return store_fail(s, rc, "looking up samples");
    }
    /* The arena may have moved while growing: point into it only now. */
    int found = 0;
    for (int i = 0; i < k; i++) {
        if (have[i] != 1)
            continue;
        found++;
        out[i].text = store_at(s, s->offs[3 * i]);
        out[i].finish_reason = store_at(s, s->offs[3 * i + 1]);
        out[i].served_model = store_at(s, s->offs[3 * i + 2]);
    }
    return found;
}

int store_stats(store_t *s, long *prompts, long *samples, long *bytes)
{
    sqlite3_stmt *q[2] = {s->count_prompts, s->count_samples};
    long *res[2] = {prompts, samples};
    for (int i = 0; i < 2; i++) {
        int rc = sqlite3_step(q[i]);
        *res[i] = rc == SQLITE_ROW ? (long)sqlite3_column_int64(q[i], 0) : 0;
        sqlite3_reset(q[i]);
        if (rc != SQLITE_ROW)
            return store_fail(s, rc, "counting samples");
    }
    struct stat st;
    *bytes = stat(s->path, &st) == 0 ? (long)st.st_size : 0;
    char wal[4096];
    if ((size_t)snprintf(wal, sizeof wal, "%s-wal", s->path) < sizeof wal && stat(wal, &st) == 0)
        *bytes += (long)st.st_size;
    return 0;
}

int store_each(store_t *s, store_each_fn fn, void *ud)
{
    if (s->in_each) {
        store_fmt(s->err, sizeof s->err, "store %s: already iterating", s->path);
        return -1;
    }
    s->in_each = 1;
    sqlite3_stmt *st = s->each;
    int rc, stopped = 0;
    while (!stopped && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const uint8_t *key = sqlite3_column_blob(st, 0);
        if (sqlite3_column_bytes(st, 0) != 32)
            continue;   /* not a key we wrote (store verify reports it) */
        const char *request = (const char *)sqlite3_column_text(st, 1);
        size_t request_len = (size_t)sqlite3_column_bytes(st, 1);
        int idx = sqlite3_column_int(st, 2);
        store_sample sm;
        store_read_sample(st, 3, &sm);
        int whole = store_sum_ok(s, st, 10, key, idx, &sm);
        stopped = fn(ud, key, request, request_len, idx, whole ? &sm : NULL) != 0;
    }
    sqlite3_reset(st);
    s->in_each = 0;
    if (stopped)
        return 1;
    if (rc != SQLITE_DONE)
        return store_fail(s, rc, "reading samples");
    return 0;
}
