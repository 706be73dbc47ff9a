/* store: the durable sample store (SQLite, WAL, synchronous=FULL).
 *
 * A sample is identified by a prompt key (SHA-256 of the canonical request
 * text, see sha256.h) and a sample index 0..k-1. Once stored a sample never
 * changes (first writer wins), so a run killed at any point resumes without
 * paying twice, and policies can re-run offline on stored samples.
 *
 * Writes are batched: store_put keeps the sample in memory and
 * store_commit writes the batch in one transaction. Samples put but not
 * committed are visible to this connection's lookups, invisible to other
 * connections, and lost if the process dies before a commit succeeds; a
 * failed commit (another process holds the lock, the disk is full) keeps
 * them for the next try. Several processes may share one store.
 *
 * Every sample carries a checksum of its fields (schema version 2), checked
 * on every read: a damaged sample is reported, never returned, and a put of
 * it replaces it. A version 1 store gets its checksums when first opened for
 * writing; opened read-only it is read unchecked.
 *
 * Every function that can fail returns -1 (or NULL) and leaves a message
 * naming the store path in store_errmsg(). */
#ifndef SLMMUX_STORE_H
#define SLMMUX_STORE_H
#include <stddef.h>
#include <stdint.h>

typedef struct store store_t;

/* One sample. has_text = 0 means the model returned null content (text is
 * then NULL); text may contain NUL bytes and invalid UTF-8. Token counts < 0,
 * latency_ms < 0 and NULL strings mean "unknown". created is Unix time in
 * seconds; a put with created <= 0 stores the current time. */
typedef struct store_sample {
    const char *text;
    size_t text_len;
    int has_text;
    const char *finish_reason;
    long prompt_tokens, completion_tokens;
    double latency_ms;
    const char *served_model;
    double created;
} store_sample;

typedef struct store_opts {
    int readonly;           /* open without write access; the file must exist (its
                               directory need not be writable) */
    int busy_timeout_ms;    /* wait for another writer this long; <= 0 means 5000 */
    int nowait;             /* store_commit does not wait for another writer's lock:
                               it fails at once with store_busy() set */
} store_opts;

/* Opens (creating the file, its parent directories and the schema when
 * needed) the store at path; opts may be NULL for the defaults. On failure
 * returns NULL with a message in err: not a valid store (garbage, corrupt or
 * another application's database), locked past the busy timeout, schema
 * newer than this build, path not writable. */
store_t *store_open(const char *path, const store_opts *opts, char *err, size_t errlen);

/* Commits pending writes and closes. Returns 0, or -1 with a message in err
 * (may be NULL) if the pending batch could not be committed; the store is
 * freed either way. NULL is ignored. */
int store_close(store_t *s, char *err, size_t errlen);

/* have[i] of a sample stored but damaged: its checksum does not match. */
#define STORE_DAMAGED 2

/* Looks up samples [0, k) of a prompt, committed or pending: for each
 * stored one sets have[i] = 1 and fills out[i], else have[i] = 0, or
 * STORE_DAMAGED (out[i] not filled). Returns how many were found, or -1.
 * Strings in out point into memory of the store that stays valid until the
 * next store_lookup on the same store or store_close; text is followed by a
 * NUL byte not counted in text_len. */
int store_lookup(store_t *s, const uint8_t key[32], int k, store_sample *out, unsigned char *have);

/* Adds sample idx (>= 0) of a prompt to the batch (copied). request (may be
 * NULL) is the canonical request text, kept once per key. Returns 1 if
 * added, 0 if that sample is already stored whole or pending (it is left
 * unchanged: first writer wins), -1 on error. */
int store_put(store_t *s, const uint8_t key[32], const char *request, size_t request_len,
              int idx, const store_sample *sm);

/* Adds the prompt row of key with its request text, without a sample (so
 * that samples coming later from elsewhere, a batch API's output file, can
 * be tied to it). Counts in store_pending until committed. 0 or -1. */
int store_put_request(store_t *s, const uint8_t key[32], const char *request, size_t request_len);

/* 1 when the prompt row of key holds its request text (committed or
 * pending), 0 when not, -1 on error. */
int store_has_request(store_t *s, const uint8_t key[32]);

/* Writes the batch, if any, in one transaction (the host calls it from a
 * <= 100 ms timer and before a problem's result is written). 0, or -1 with
 * the batch kept whole for a later try; store_busy() tells a lock held by
 * another process (try again soon) from other failures (disk full, I/O). */
int store_commit(store_t *s);

/* Samples in the batch (put, not yet committed). */
int store_pending(const store_t *s);

/* 1 when the last failure was another process's lock. */
int store_busy(const store_t *s);

/* The message of the last failure ("" if none). */
const char *store_errmsg(const store_t *s);

/* Committed prompts, samples, and bytes on disk (database + WAL files). */
int store_stats(store_t *s, long *prompts, long *samples, long *bytes);

/* Calls fn for every committed sample, ordered by key then index; request
 * is NULL if the prompt was stored without one; sm is NULL for a damaged
 * sample. Pointers are valid during the call only.
 * fn returns 0 to go on, non-zero to stop. Returns 0 when every sample was
 * visited, 1 when fn stopped early, -1 on error. fn may look samples up but
 * must not write to or iterate the same store (that fails with -1). */
typedef int (*store_each_fn)(void *ud, const uint8_t key[32], const char *request, size_t request_len,
                             int idx, const store_sample *sm);
int store_each(store_t *s, store_each_fn fn, void *ud);

/* store verify: the integrity of the database file (SQLite's
 * integrity_check), every sample's checksum, every request against its key
 * and every sample's prompt. fn gets one line per problem found. Returns 0
 * when the store is whole, 1 when something is damaged, -1 when it could
 * not be checked. */
typedef struct store_report {
    long prompts, samples;      /* checked */
    long damaged_samples, damaged_prompts, orphans;
    long integrity_errors;      /* lines of integrity_check other than "ok" */
    int checksums;              /* 0: a version 1 store, which has none */
} store_report;
typedef void (*store_problem_fn)(void *ud, const char *line);
int store_verify(store_t *s, store_report *out, store_problem_fn fn, void *ud);

#endif
