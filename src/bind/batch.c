/* batch: --batch-out. Instead of requesting them, mux.chat writes the
 * samples a run misses as request lines for a provider's batch API (OpenAI,
 * Together: half the price, answers within 24 h):
 *
 *   {"custom_id":"<key>-<first>-<count>","method":"POST",
 *    "url":"/v1/chat/completions","body":{...the request as sent, n = count}}
 *
 * where <key> is the prompt key in base64url (43 characters: Together
 * allows 64 for a custom_id, too few for hex and a range) and first..
 * first+count-1 the sample indices, with seed + first as a live request
 * would have. `slmmux store import-batch` reads the output files back.
 * A path holding "{model}" gets one file per model (a batch takes one
 * model). Each sample is written once per run, however often it is asked.
 *
 * core.batch_out(path): start writing (files are created, truncated, on
 * their first line); core.batch_stats() -> {requests=, samples=, files =
 * {path...}, error= (the first failed write, if any)}. */
#include "bind/bind.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/oom.h"

typedef struct batch_file {
    char *path;
    FILE *f;
} batch_file;

typedef struct batch_seen {     /* a sample written: key and index */
    uint8_t key[32];
    int idx;                    /* -1: an empty slot */
} batch_seen;

struct batch {
    char *pattern;              /* the --batch-out path, maybe with {model} */
    batch_file *files;
    int nfiles;
    batch_seen *seen;           /* open addressing, at most half full */
    size_t nseen, cap;
    long requests, samples;
    char error[600];
};

static size_t batch_slot(const batch_t *b, const uint8_t key[32], int idx)
{
    uint64_t h;
    memcpy(&h, key, sizeof h);  /* a SHA-256: any 8 bytes are uniform */
    return (size_t)(h ^ (uint64_t)idx * 0x9e3779b97f4a7c15u) & (b->cap - 1);
}

int batch_seen_sample(const batch_t *b, const uint8_t key[32], int idx)
{
    for (size_t i = batch_slot(b, key, idx);; i = (i + 1) & (b->cap - 1)) {
        if (b->seen[i].idx < 0)
            return 0;
        if (b->seen[i].idx == idx && memcmp(b->seen[i].key, key, 32) == 0)
            return 1;
    }
}

static void batch_mark(batch_t *b, const uint8_t key[32], int idx)
{
    if (2 * (b->nseen + 1) > b->cap) {
        batch_seen *old = b->seen;
        size_t old_cap = b->cap;
        b->cap *= 2;
        b->seen = xmalloc(b->cap * sizeof *b->seen);
        for (size_t i = 0; i < b->cap; i++)
            b->seen[i].idx = -1;
        b->nseen = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i].idx >= 0)
                batch_mark(b, old[i].key, old[i].idx);
        free(old);
    }
    size_t i = batch_slot(b, key, idx);
    while (b->seen[i].idx >= 0)
        i = (i + 1) & (b->cap - 1);
    memcpy(b->seen[i].key, key, 32);
    b->seen[i].idx = idx;
    b->nseen++;
}

/* The file for model: the pattern with {model} replaced by the model's
 * name made safe for a file name. */
static FILE *batch_file_for(batch_t *b, const char *model)
{
    buf_t path = BUF_INIT;
    const char *at = strstr(b->pattern, "{model}");
    if (at) {
        if (buf_append(&path, b->pattern, (size_t)(at - b->pattern)) < 0)
            oom_abort(path.len);
        for (const char *m = model; *m; m++)
            if (buf_putc(&path, strchr("/\\: *?\"<>|", *m) ? '_' : *m) < 0)
                oom_abort(path.len);
        if (buf_puts(&path, at + 7) < 0)
            oom_abort(path.len);
    } else if (buf_puts(&path, b->pattern) < 0) {
        oom_abort(strlen(b->pattern));
    }
    for (int i = 0; i < b->nfiles; i++)
        if (!strcmp(b->files[i].path, path.data)) {
            buf_free(&path);
            return b->files[i].f;
        }
    FILE *f = fopen(path.data, "w");
    if (!f) {
        snprintf(b->error, sizeof b->error, "cannot write %s: %s", path.data, strerror(errno));
        buf_free(&path);
        return NULL;
    }
    b->files = xrealloc(b->files, (size_t)(b->nfiles + 1) * sizeof *b->files);
    b->files[b->nfiles].path = buf_steal(&path);
    b->files[b->nfiles++].f = f;
    return f;
}

static void batch_b64url(const uint8_t key[32], char out[44])
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int o = 0;
    for (int i = 0; i < 32; i += 3) {
        uint32_t v = (uint32_t)key[i] << 16 | (i + 1 < 32 ? (uint32_t)key[i + 1] << 8 : 0) |
                     (i + 2 < 32 ? key[i + 2] : 0);
        int chars = i + 2 < 32 ? 4 : 3;     /* 32 bytes: ten groups of 3, one of 2 */
        for (int c = 0; c < chars; c++)
            out[o++] = digits[(v >> (18 - 6 * c)) & 63];
    }
    out[o] = '\0';
}

int batch_write(host_t *h, const char *model, const uint8_t key[32], int first, int count,
                const char *body, size_t body_len)
{
    batch_t *b = h->batch;
    if (b->error[0])
        return -1;
    FILE *f = batch_file_for(b, model);
    if (!f)
        return -1;
    char id[44];
    batch_b64url(key, id);
    if (fprintf(f, "{\"custom_id\":\"%s-%d-%d\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":",
                id, first, count) < 0 || fwrite(body, 1, body_len, f) != body_len || fputs("}\n", f) < 0) {
        snprintf(b->error, sizeof b->error, "cannot write the batch file for %s: %s", model, strerror(errno));
        return -1;
    }
    for (int i = first; i < first + count; i++)
        batch_mark(b, key, i);
    b->requests++;
    b->samples += count;
    return 0;
}

static int batch_l_out(lua_State *L)
{
    const char *path = check_string(L, 1, "mux.batch_out", "path", NULL);
    host_t *h = host_get();
    if (h->batch)
        check_error(L, "mux.batch_out", "already writing to %s", h->batch->pattern);
    batch_t *b = xcalloc(1, sizeof *b);
    b->pattern = xstrdup(path);
    b->cap = 1024;
    b->seen = xmalloc(b->cap * sizeof *b->seen);
    for (size_t i = 0; i < b->cap; i++)
        b->seen[i].idx = -1;
    h->batch = b;
    lua_pushboolean(L, 1);
    return 1;
}

/* Closes the files (a write the close reveals, on a full disk, is an
 * error too); 0 or -1 with b->error set. */
static int batch_flush(batch_t *b)
{
    for (int i = 0; i < b->nfiles; i++) {
        if (b->files[i].f && (fflush(b->files[i].f) != 0 || ferror(b->files[i].f)) && !b->error[0])
            snprintf(b->error, sizeof b->error, "cannot write %s: %s", b->files[i].path, strerror(errno));
    }
    return b->error[0] ? -1 : 0;
}

static int batch_l_stats(lua_State *L)
{
    batch_t *b = host_get()->batch;
    if (!b) {
        lua_pushnil(L);
        return 1;
    }
    batch_flush(b);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, b->requests);
    lua_setfield(L, -2, "requests");
    lua_pushinteger(L, b->samples);
    lua_setfield(L, -2, "samples");
    lua_createtable(L, b->nfiles, 0);
    for (int i = 0; i < b->nfiles; i++) {
        lua_pushstring(L, b->files[i].path);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "files");
    if (b->error[0]) {
        lua_pushstring(L, b->error);
        lua_setfield(L, -2, "error");
    }
    return 1;
}

const char *batch_error(const batch_t *b) { return b->error; }

void batch_close(host_t *h)
{
    batch_t *b = h->batch;
    if (!b)
        return;
    batch_flush(b);
    for (int i = 0; i < b->nfiles; i++) {
        if (fclose(b->files[i].f) != 0 && !b->error[0])
            fprintf(stderr, "slmmux: cannot write %s: %s\n", b->files[i].path, strerror(errno));
        free(b->files[i].path);
    }
    free(b->files);
    free(b->seen);
    free(b->pattern);
    free(b);
    h->batch = NULL;
}

void batch_register(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"batch_out", batch_l_out}, {"batch_stats", batch_l_stats}, {NULL, NULL}};
    luaL_setfuncs(L, funcs, 0);
}
