/* test_store: the durable sample store. Round trips (NUL bytes, null text),
 * first writer wins, a killed process loses only what it had not committed,
 * isolation between connections, two processes writing at once, and clear
 * refusals: garbage files, other applications' databases, newer schemas,
 * locked stores, unwritable paths, read-only misuse. Everything happens in a
 * private directory under /tmp that is removed at the end. */
#include "check.h"
#include "store/sha256.h"
#include "store/store.h"

#include <ftw.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static const char *path_in(const char *name)
{
    static char p[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
    return p[i];
}

static void key_of(const char *s, uint8_t key[32]) { sha256(s, strlen(s), key); }

static store_sample sample_text(const char *text, size_t len)
{
    store_sample sm = {text, len, 1, "stop", 10, 20, 123.5, "model-a", 1700000000.25};
    return sm;
}

static store_t *open_or_die(const char *path, const store_opts *o)
{
    char err[600];
    store_t *s = store_open(path, o, err, sizeof err);
    if (!s) {
        fprintf(stderr, "store_open %s: %s\n", path, err);
        exit(1);
    }
    return s;
}

/* Runs sql on a plain SQLite connection; copies the first column of the first
 * row into out (if given). Returns the SQLite result code. */
static int raw_exec(const char *path, const char *sql, char *out, size_t outlen)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    if (out)
        out[0] = '\0';
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK && (rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && out)
            snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    return rc;
}

static int sample_is(const store_sample *sm, const char *text, size_t len)
{
    return sm->has_text && sm->text_len == len && memcmp(sm->text, text, len) == 0 && sm->text[len] == '\0';
}

static void test_roundtrip_keeps_nul_bytes_and_null_text(void)
{
    const char *path = path_in("roundtrip.sqlite");
    store_t *s = open_or_die(path, NULL);
    uint8_t key[32];
    key_of("roundtrip", key);
    static const char nul_text[] = "a\0b\xff\xfe end";
    store_sample with_nul = sample_text(nul_text, sizeof nul_text - 1);
    store_sample null_text = sample_text(NULL, 0);
    null_text.has_text = 0;
    null_text.finish_reason = "length";
    store_sample empty = sample_text("", 0);
    store_sample unknown = {"x", 1, 1, NULL, -1, -1, -1, NULL, 0};
    CHECK(store_put(s, key, "{\"req\":1}", 9, 0, &with_nul) == 1);
    CHECK(store_put(s, key, "{\"req\":1}", 9, 1, &null_text) == 1);
    CHECK(store_put(s, key, "{\"req\":1}", 9, 2, &empty) == 1);
    CHECK(store_put(s, key, "{\"req\":1}", 9, 4, &unknown) == 1);
    CHECK(store_pending(s) == 4);

    for (int round = 0; round < 3; round++) {   /* uncommitted, committed, reopened */
        if (round == 1)
            CHECK(store_commit(s) == 0 && store_pending(s) == 0);
        if (round == 2) {
            CHECK(store_close(s, NULL, 0) == 0);
            s = open_or_die(path, NULL);
        }
        store_sample out[6];
        unsigned char have[6];
        CHECK_MSG(store_lookup(s, key, 6, out, have) == 4, "round %d", round);
        CHECK(have[0] && have[1] && have[2] && !have[3] && have[4] && !have[5]);
        CHECK(sample_is(&out[0], nul_text, sizeof nul_text - 1));
        CHECK_STR(out[0].finish_reason, "stop");
        CHECK_STR(out[0].served_model, "model-a");
        CHECK(out[0].prompt_tokens == 10 && out[0].completion_tokens == 20);
        CHECK(out[0].latency_ms == 123.5 && out[0].created == 1700000000.25);
        CHECK(!out[1].has_text && out[1].text == NULL);
        CHECK_STR(out[1].finish_reason, "length");
        CHECK(sample_is(&out[2], "", 0));
        CHECK(out[4].finish_reason == NULL && out[4].served_model == NULL);
        CHECK(out[4].prompt_tokens == -1 && out[4].completion_tokens == -1 && out[4].latency_ms == -1);
        CHECK_MSG(out[4].created > 1.6e9, "created %f should default to now", out[4].created);
        /* k bounds the indices returned */
        CHECK(store_lookup(s, key, 2, out, have) == 2 && have[0] && have[1]);
    }
    uint8_t other[32];
    key_of("never stored", other);
    store_sample out[3];
    unsigned char have[3] = {1, 1, 1};
    CHECK(store_lookup(s, other, 3, out, have) == 0 && !have[0] && !have[1] && !have[2]);
    CHECK(store_close(s, NULL, 0) == 0);
}

static void test_first_writer_wins(void)
{
    const char *path = path_in("first.sqlite");
    store_t *a = open_or_die(path, NULL);
    uint8_t key[32];
    key_of("first", key);
    store_sample first = sample_text("first", 5), second = sample_text("second", 6);
    CHECK(store_put(a, key, "r", 1, 0, &first) == 1);
    CHECK(store_put(a, key, "r", 1, 0, &second) == 0);
    CHECK(store_pending(a) == 1);
    CHECK(store_commit(a) == 0);
    store_t *b = open_or_die(path, NULL);
    CHECK(store_put(b, key, "r", 1, 0, &second) == 0);
    CHECK(store_commit(b) == 0);
    store_sample out[1];
    unsigned char have[1];
    CHECK(store_lookup(b, key, 1, out, have) == 1 && sample_is(&out[0], "first", 5));
    CHECK(store_lookup(a, key, 1, out, have) == 1 && sample_is(&out[0], "first", 5));
    store_close(a, NULL, 0);
    store_close(b, NULL, 0);
}

static void test_killed_process_loses_only_uncommitted(void)
{
    const char *path = path_in("crash.sqlite");
    uint8_t key[32];
    key_of("crash", key);
    pid_t pid = fork();
    if (pid == 0) {
        store_t *s = open_or_die(path, NULL);
        store_sample sm = sample_text("kept", 4);
        for (int i = 0; i < 5; i++)
            store_put(s, key, "r", 1, i, &sm);
        if (store_commit(s) < 0)
            _exit(1);
        for (int i = 5; i < 10; i++)
            store_put(s, key, "r", 1, i, &sm);
        raise(SIGKILL);   /* as kill -9: no close, no commit */
        _exit(2);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    store_t *s = open_or_die(path, NULL);
    store_sample out[10];
    unsigned char have[10];
    CHECK(store_lookup(s, key, 10, out, have) == 5);
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= have[i] == (i < 5);
    CHECK_MSG(ok, "exactly the committed samples 0..4 survive");
    long prompts, samples, bytes;
    CHECK(store_stats(s, &prompts, &samples, &bytes) == 0 && prompts == 1 && samples == 5 && bytes > 0);
    store_close(s, NULL, 0);
}

static void test_other_connection_sees_only_committed(void)
{
    const char *path = path_in("iso.sqlite");
    store_t *a = open_or_die(path, NULL);
    store_opts ro = {1, 0, 0};
    store_t *b = open_or_die(path, &ro);
    uint8_t key[32];
    key_of("iso", key);
    store_sample sm = sample_text("t", 1), out[3];
    unsigned char have[3];
    for (int i = 0; i < 3; i++)
        store_put(a, key, "r", 1, i, &sm);
    CHECK(store_lookup(a, key, 3, out, have) == 3);
    CHECK(store_lookup(b, key, 3, out, have) == 0);
    CHECK(store_commit(a) == 0);
    CHECK(store_lookup(b, key, 3, out, have) == 3);
    /* a read-only store refuses writes with a message, and stays usable */
    CHECK(store_put(b, key, "r", 1, 5, &sm) == -1 && strstr(store_errmsg(b), "read-only"));
    CHECK(store_lookup(b, key, 3, out, have) == 3);
    store_close(a, NULL, 0);
    store_close(b, NULL, 0);
}

static int writer(const char *path, int who)
{
    store_t *s = open_or_die(path, NULL);
    char name[64], text[64];
    for (int i = 0; i < 2000; i++) {
        uint8_t key[32];
        snprintf(name, sizeof name, "writer %d prompt %d", who, i / 4);
        key_of(name, key);
        int n = snprintf(text, sizeof text, "writer %d sample %d", who, i);
        store_sample sm = sample_text(text, (size_t)n);
        if (store_put(s, key, name, strlen(name), i % 4, &sm) != 1) {
            fprintf(stderr, "writer %d: %s\n", who, store_errmsg(s));
            return 1;
        }
        /* both also race on the same ten samples of one prompt */
        if (i % 200 == 0) {
            key_of("shared", key);
            n = snprintf(text, sizeof text, "shared from %d", who);
            sm = sample_text(text, (size_t)n);
            if (store_put(s, key, "shared", 6, i / 200, &sm) < 0)
                return 1;
        }
        if (i % 50 == 49 && store_commit(s) < 0) {
            fprintf(stderr, "writer %d: %s\n", who, store_errmsg(s));
            return 1;
        }
    }
    return store_close(s, NULL, 0) < 0;
}

static void test_two_processes_write_concurrently(void)
{
    const char *path = path_in("shared/two.sqlite");
    pid_t pids[2];
    for (int w = 0; w < 2; w++)
        if ((pids[w] = fork()) == 0)
            _exit(writer(path, w));
    for (int w = 0; w < 2; w++) {
        int status;
        waitpid(pids[w], &status, 0);
        CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d status %d", w, status);
    }
    store_t *s = open_or_die(path, NULL);
    long prompts, samples, bytes;
    CHECK(store_stats(s, &prompts, &samples, &bytes) == 0);
    CHECK_MSG(samples == 4010 && prompts == 1001, "%ld samples, %ld prompts", samples, prompts);
    int missing = 0;
    for (int w = 0; w < 2; w++)
        for (int p = 0; p < 500; p++) {
            char name[64];
            uint8_t key[32];
            store_sample out[4];
            unsigned char have[4];
            snprintf(name, sizeof name, "writer %d prompt %d", w, p);
            key_of(name, key);
            missing += 4 - store_lookup(s, key, 4, out, have);
        }
    CHECK_MSG(missing == 0, "%d samples missing", missing);
    uint8_t key[32];
    key_of("shared", key);
    store_sample out[10];
    unsigned char have[10];
    CHECK(store_lookup(s, key, 10, out, have) == 10);
    int whole = 1;
    for (int i = 0; i < 10; i++)
        whole &= sample_is(&out[i], "shared from 0", 13) || sample_is(&out[i], "shared from 1", 13);
    CHECK_MSG(whole, "each shared sample is one writer's, intact");
    store_close(s, NULL, 0);
    char ok[64];
    CHECK(raw_exec(path, "PRAGMA integrity_check", ok, sizeof ok) == SQLITE_OK);
    CHECK_STR(ok, "ok");
}

static int file_equals(const char *path, const unsigned char *data, size_t len)
{
    unsigned char back[16384];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(back, 1, sizeof back, f) : 0;
    if (f)
        fclose(f);
    return n == len && memcmp(back, data, len) == 0;
}

static void test_garbage_and_foreign_files_are_refused(void)
{
    char err[600];
    unsigned char junk[8192];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    const char *cases[2] = {"garbage.sqlite", "badheader.sqlite"};
    for (int c = 0; c < 2; c++) {
        const char *path = path_in(cases[c]);
        if (c == 1)   /* a SQLite header followed by garbage */
            memcpy(junk, "SQLite format 3", 16);
        FILE *f = fopen(path, "wb");
        fwrite(junk, 1, sizeof junk, f);
        fclose(f);
        err[0] = '\0';
        CHECK(store_open(path, NULL, err, sizeof err) == NULL);
        CHECK_MSG(strstr(err, path) && strstr(err, "not a valid slmmux store"), "got: %s", err);
        CHECK_MSG(file_equals(path, junk, sizeof junk), "%s was modified by the failed open", path);
    }
    const char *foreign = path_in("foreign.sqlite");
    CHECK(raw_exec(foreign, "CREATE TABLE notes(x)", NULL, 0) == SQLITE_OK);
    CHECK(store_open(foreign, NULL, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, foreign) && strstr(err, "not a valid slmmux store") && strstr(err, "another application"),
              "got: %s", err);
}

static void test_newer_schema_is_refused(void)
{
    const char *path = path_in("newer.sqlite");
    store_close(open_or_die(path, NULL), NULL, 0);
    CHECK(raw_exec(path, "PRAGMA user_version = 3", NULL, 0) == SQLITE_OK);
    char err[600];
    store_opts ro = {1, 0, 0};
    for (int readonly = 0; readonly < 2; readonly++) {
        err[0] = '\0';
        CHECK(store_open(path, readonly ? &ro : NULL, err, sizeof err) == NULL);
        CHECK_MSG(strstr(err, path) && strstr(err, "schema version 3 is newer"), "got: %s", err);
    }
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void test_locked_store_keeps_the_batch_and_loses_nothing(void)
{
    const char *path = path_in("locked.sqlite");
    uint8_t key[32], late[32];
    key_of("before", key);
    key_of("late", late);
    store_t *a = open_or_die(path, NULL);
    store_sample sm = sample_text("kept", 4), out[10];
    unsigned char have[10];
    for (int i = 0; i < 10; i++)
        store_put(a, key, "r", 1, i, &sm);
    CHECK(store_commit(a) == 0);

    /* Another writer holds the write lock far longer than B's busy timeout. */
    sqlite3 *raw;
    CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "BEGIN EXCLUSIVE; INSERT INTO prompts(key, request) VALUES (randomblob(32), 'raw')",
                       NULL, NULL, NULL) == SQLITE_OK);
    store_opts quick = {0, 150, 0}, nowait = {0, 150, 1};
    store_t *b = open_or_die(path, &quick);   /* WAL: opening and reading need no write lock */
    store_t *c = open_or_die(path, &nowait);
    CHECK(store_lookup(b, key, 10, out, have) == 10);
    CHECK(store_put(b, late, "r", 1, 0, &sm) == 1);   /* a put only keeps the sample */
    CHECK(store_put(c, late, "r", 1, 1, &sm) == 1);
    double t0 = now_ms();
    CHECK(store_commit(b) == -1);
    double waited = now_ms() - t0;
    CHECK_MSG(strstr(store_errmsg(b), path) && strstr(store_errmsg(b), "locked by another writer") &&
              strstr(store_errmsg(b), "1 sample received, not yet committed"), "got: %s", store_errmsg(b));
    CHECK_MSG(waited >= 140 && waited < 3000, "waited %.0f ms for a 150 ms busy timeout", waited);
    CHECK(store_busy(b) && store_pending(b) == 1);
    t0 = now_ms();
    CHECK(store_commit(c) == -1 && store_busy(c));
    waited = now_ms() - t0;
    CHECK_MSG(waited < 50, "a nowait commit returned after %.0f ms", waited);
    /* the batch stays readable by its own connection meanwhile */
    CHECK(store_lookup(c, late, 2, out, have) == 1 && have[1] == 1 && sample_is(&out[1], "kept", 4));
    CHECK(sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);

    CHECK(store_commit(b) == 0 && !store_busy(b) && store_pending(b) == 0);   /* retried whole */
    CHECK(store_commit(c) == 0 && store_pending(c) == 0);
    CHECK(store_lookup(a, key, 10, out, have) == 10);
    CHECK(store_lookup(a, late, 2, out, have) == 2);
    store_close(a, NULL, 0);
    store_close(b, NULL, 0);
    store_close(c, NULL, 0);

    /* A file locked before it became a store: the open itself fails clearly. */
    const char *fresh = path_in("locked-fresh.sqlite");
    CHECK(sqlite3_open(fresh, &raw) == SQLITE_OK);
    CHECK(sqlite3_exec(raw, "BEGIN EXCLUSIVE; CREATE TABLE t(x)", NULL, NULL, NULL) == SQLITE_OK);
    char err[600] = "";
    CHECK(store_open(fresh, &quick, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, fresh) && strstr(err, "locked by another writer"), "got: %s", err);
    sqlite3_exec(raw, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(raw);
    store_t *d = store_open(fresh, &quick, err, sizeof err);
    CHECK_MSG(d != NULL, "opens once the lock is gone: %s", err);
    store_close(d, NULL, 0);
}

static void count_problem(void *ud, const char *line)
{
    (void)line;
    ++*(int *)ud;
}

/* A byte changed in a stored sample (bit rot, a bad disk, an edit): the
 * read reports it damaged instead of returning it, verify finds it, and a
 * put of the same sample replaces it (a first writer's whole sample does
 * not get replaced). */
static void test_damaged_samples_are_detected_and_replaced(void)
{
    const char *path = path_in("damaged.sqlite");
    store_t *s = open_or_die(path, NULL);
    uint8_t key[32];
    key_of("damaged", key);
    store_sample sm = sample_text("the answer is 42", 16), out[3];
    unsigned char have[3];
    for (int i = 0; i < 3; i++)
        CHECK(store_put(s, key, "damaged", 7, i, &sm) == 1);
    CHECK(store_close(s, NULL, 0) == 0);
    store_report r;
    int problems = 0;
    s = open_or_die(path, NULL);
    CHECK(store_verify(s, &r, count_problem, &problems) == 0 && problems == 0);
    CHECK(r.samples == 3 && r.prompts == 1 && r.checksums);
    store_close(s, NULL, 0);

    CHECK(raw_exec(path, "UPDATE samples SET text = CAST('the answer is 43' AS BLOB) WHERE idx = 1", NULL, 0) == SQLITE_OK);
    CHECK(raw_exec(path, "UPDATE samples SET completion_tokens = 21 WHERE idx = 2", NULL, 0) == SQLITE_OK);
    s = open_or_die(path, NULL);
    CHECK(store_lookup(s, key, 3, out, have) == 1);
    CHECK(have[0] == 1 && have[1] == STORE_DAMAGED && have[2] == STORE_DAMAGED);
    CHECK(store_verify(s, &r, count_problem, &problems) == 1);
    CHECK_MSG(r.damaged_samples == 2 && problems == 2, "%ld damaged, %d lines", r.damaged_samples, problems);
    store_sample again = sample_text("the answer is 42", 16), other = sample_text("other", 5);
    CHECK(store_put(s, key, "damaged", 7, 0, &other) == 0);   /* whole: first writer wins */
    CHECK(store_put(s, key, "damaged", 7, 1, &again) == 1);   /* damaged: replaced */
    CHECK(store_put(s, key, "damaged", 7, 2, &again) == 1);
    CHECK(store_commit(s) == 0);
    CHECK(store_lookup(s, key, 3, out, have) == 3 && sample_is(&out[0], "the answer is 42", 16));
    CHECK(sample_is(&out[1], "the answer is 42", 16));
    CHECK(store_verify(s, &r, NULL, NULL) == 0 && r.damaged_samples == 0);
    /* a request that no longer hashes to its key */
    store_close(s, NULL, 0);
    CHECK(raw_exec(path, "UPDATE prompts SET request = 'edited'", NULL, 0) == SQLITE_OK);
    s = open_or_die(path, NULL);
    CHECK(store_verify(s, &r, NULL, NULL) == 1 && r.damaged_prompts == 1);
    store_close(s, NULL, 0);
}

/* A store of schema version 1 (no checksums), as written by slmmux 0.1:
 * read as it is when opened read-only, given checksums when opened for
 * writing, and its samples are all kept. */
static void test_version_1_store_is_migrated(void)
{
    const char *path = path_in("v1.sqlite");
    CHECK(raw_exec(path, "PRAGMA journal_mode = WAL", NULL, 0) == SQLITE_OK);
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db,
        "CREATE TABLE prompts(id INTEGER PRIMARY KEY, key BLOB NOT NULL UNIQUE, request TEXT);"
        "CREATE TABLE samples(prompt INTEGER NOT NULL REFERENCES prompts(id), idx INTEGER NOT NULL,"
        " text BLOB, finish_reason TEXT, prompt_tokens INTEGER, completion_tokens INTEGER,"
        " latency_ms REAL, served_model TEXT, created REAL, UNIQUE(prompt, idx));"
        "PRAGMA application_id = 1936485752; PRAGMA user_version = 1;", NULL, NULL, NULL) == SQLITE_OK);
    uint8_t key[32];
    key_of("v1 prompt", key);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(db, "INSERT INTO prompts(key, request) VALUES (?1, 'v1 prompt')", -1, &st, NULL) == SQLITE_OK);
    sqlite3_bind_blob(st, 1, key, 32, SQLITE_STATIC);
    CHECK(sqlite3_step(st) == SQLITE_DONE);
    sqlite3_finalize(st);
    CHECK(sqlite3_exec(db, "INSERT INTO samples VALUES (1, 0, CAST('old one' AS BLOB), 'stop', 5, 6, 7.5, 'm', 1.7e9),"
                           " (1, 1, NULL, 'length', NULL, NULL, NULL, NULL, 1.7e9)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    store_opts ro = {1, 0, 0};
    store_t *s = open_or_die(path, &ro);
    store_sample out[3];
    unsigned char have[3];
    store_report r;
    CHECK(store_lookup(s, key, 2, out, have) == 2 && sample_is(&out[0], "old one", 7) && !out[1].has_text);
    CHECK(store_verify(s, &r, NULL, NULL) == 0 && !r.checksums && r.samples == 2);
    store_close(s, NULL, 0);
    char version[16];
    CHECK(raw_exec(path, "PRAGMA user_version", version, sizeof version) == SQLITE_OK);
    CHECK_STR(version, "1");

    s = open_or_die(path, NULL);
    CHECK(store_verify(s, &r, NULL, NULL) == 0 && r.checksums && r.samples == 2);
    CHECK(store_lookup(s, key, 2, out, have) == 2 && sample_is(&out[0], "old one", 7));
    CHECK(out[0].prompt_tokens == 5 && out[0].latency_ms == 7.5 && out[1].prompt_tokens == -1);
    store_sample sm = sample_text("new", 3);
    CHECK(store_put(s, key, NULL, 0, 2, &sm) == 1 && store_commit(s) == 0);
    store_close(s, NULL, 0);
    CHECK(raw_exec(path, "PRAGMA user_version", version, sizeof version) == SQLITE_OK);
    CHECK_STR(version, "2");
    /* a migrated sample that is then damaged is caught like any other */
    CHECK(raw_exec(path, "UPDATE samples SET text = CAST('old One' AS BLOB) WHERE idx = 0", NULL, 0) == SQLITE_OK);
    s = open_or_die(path, NULL);
    CHECK(store_lookup(s, key, 3, out, have) == 2 && have[0] == STORE_DAMAGED);
    store_close(s, NULL, 0);
}

/* A store in a directory this process may not write (an archive, another
 * user's files) still opens read-only: SQLite cannot create its -shm file
 * there. Root ignores directory permissions, so a child process drops to
 * nobody's uid to try. */
static void test_read_only_directory(void)
{
    const char *sub = path_in("ro");
    const char *path = path_in("ro/store.sqlite");
    store_t *s = open_or_die(path, NULL);
    uint8_t key[32];
    key_of("ro", key);
    store_sample sm = sample_text("readable", 8);
    CHECK(store_put(s, key, "ro", 2, 0, &sm) == 1);
    CHECK(store_close(s, NULL, 0) == 0);
    chmod(dir, 0755);
    chmod(path, 0644);
    chmod(sub, 0555);
    pid_t pid = fork();
    if (pid == 0) {
        if (getuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(3);
        char err[600];
        store_opts ro = {1, 0, 0};
        store_t *r = store_open(path, &ro, err, sizeof err);
        if (!r) {
            fprintf(stderr, "read-only open: %s\n", err);
            _exit(1);
        }
        store_sample out[1];
        unsigned char have[1];
        int ok = store_lookup(r, key, 1, out, have) == 1 && sample_is(&out[0], "readable", 8);
        long prompts, samples, bytes;
        ok &= store_stats(r, &prompts, &samples, &bytes) == 0 && samples == 1;
        store_close(r, NULL, 0);
        _exit(ok ? 0 : 2);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "read-only child status %d", status);
    chmod(sub, 0755);
    chmod(dir, 0700);
}

static void test_paths(void)
{
    char err[600];
    store_t *s = store_open(path_in("a/b/c/deep.sqlite"), NULL, err, sizeof err);
    CHECK_MSG(s != NULL, "parent directories are created: %s", err);
    store_close(s, NULL, 0);

    const char *file = path_in("plainfile");
    FILE *f = fopen(file, "w");
    fclose(f);
    const char *under = path_in("plainfile/sub/x.sqlite");
    CHECK(store_open(under, NULL, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, under) && strstr(err, "cannot create directory"), "got: %s", err);

    const char *nothing = path_in("nothing.sqlite");
    store_opts ro = {1, 0, 0};
    CHECK(store_open(nothing, &ro, err, sizeof err) == NULL);
    CHECK_MSG(strstr(err, nothing) && strstr(err, "cannot open"), "got: %s", err);
    CHECK_MSG(access(nothing, F_OK) != 0, "a read-only open must not create the file");
    CHECK(store_open("", NULL, err, sizeof err) == NULL);
}

struct seen {
    int n, nul_ok, null_req, with_req, order_ok;
    uint8_t last[32];
    int last_idx, stop_after;
    store_t *s;
    int put_rc;
};

static int collect(void *ud, const uint8_t key[32], const char *request, size_t request_len, int idx,
                   const store_sample *sm)
{
    struct seen *v = ud;
    int cmp = v->n ? memcmp(v->last, key, 32) : -1;
    if (cmp > 0 || (cmp == 0 && idx <= v->last_idx))
        v->order_ok = 0;
    memcpy(v->last, key, 32);
    v->last_idx = idx;
    if (request && request_len == 7 && memcmp(request, "req\0req", 7) == 0)
        v->with_req++;
    if (!request)
        v->null_req++;
    if (sm && sm->has_text && sm->text_len == 3 && memcmp(sm->text, "x\0y", 3) == 0)
        v->nul_ok++;
    if (v->s) {
        store_sample w = sample_text("w", 1);
        v->put_rc = store_put(v->s, key, NULL, 0, 99, &w);
    }
    return ++v->n == v->stop_after;
}

static void test_each_and_stats(void)
{
    const char *path = path_in("each.sqlite");
    store_t *s = open_or_die(path, NULL);
    store_sample sm = sample_text("x\0y", 3);
    char name[32];
    for (int p = 0; p < 5; p++) {
        uint8_t key[32];
        snprintf(name, sizeof name, "each %d", p);
        key_of(name, key);
        for (int i = 0; i <= p; i++)
            store_put(s, key, p == 0 ? NULL : "req\0req", 7, i, &sm);
    }
    /* a request given later fills a prompt stored without one */
    uint8_t key0[32];
    key_of("each 0", key0);
    store_put(s, key0, "req\0req", 7, 1, &sm);
    CHECK(store_close(s, NULL, 0) == 0);   /* close commits */

    s = open_or_die(path, NULL);
    struct seen v = {0};
    v.order_ok = 1;
    CHECK(store_each(s, collect, &v) == 0);
    CHECK_MSG(v.n == 16 && v.nul_ok == 16 && v.with_req == 16 && v.null_req == 0 && v.order_ok,
              "n %d nul %d req %d null %d order %d", v.n, v.nul_ok, v.with_req, v.null_req, v.order_ok);
    struct seen stop = {0};
    stop.stop_after = 3;
    CHECK(store_each(s, collect, &stop) == 1 && stop.n == 3);
    struct seen writes = {0};
    writes.stop_after = 1;
    writes.s = s;
    CHECK(store_each(s, collect, &writes) == 1 && writes.put_rc == -1);
    long prompts, samples, bytes;
    CHECK(store_stats(s, &prompts, &samples, &bytes) == 0);
    CHECK_MSG(prompts == 5 && samples == 16 && bytes > 0, "%ld %ld %ld", prompts, samples, bytes);
    CHECK(store_close(s, NULL, 0) == 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/test_store.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_roundtrip_keeps_nul_bytes_and_null_text();
    test_first_writer_wins();
    test_killed_process_loses_only_uncommitted();
    test_other_connection_sees_only_committed();
    test_two_processes_write_concurrently();
    test_garbage_and_foreign_files_are_refused();
    test_newer_schema_is_refused();
    test_locked_store_keeps_the_batch_and_loses_nothing();
    test_damaged_samples_are_detected_and_replaced();
    test_version_1_store_is_migrated();
    test_read_only_directory();
    test_paths();
    test_each_and_stats();
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return check_report();
}
