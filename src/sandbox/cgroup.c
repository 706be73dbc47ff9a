/* cgroup: a cgroup per run, made under the host's own cgroup, so that the
 * memory and task limits bind the run as a whole. RLIMIT_AS is per process
 * and counts mappings only: a run's other processes, SysV shm segments it
 * detached, memfd and tmpfs pages, pipe and socket buffers all escape it
 * (measured: 1 GiB of SysV shm and 2.5 GiB of memfd under a 128 MiB
 * RLIMIT_AS). The memory controller charges every one of them to the cgroup
 * of the task that allocated it.
 *
 * What the machine offers is found once, from /proc/self/cgroup:
 *   cgroup2  (mounted at /sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1)
 *            when the host's cgroup has memory and pids in its
 *            cgroup.subtree_control (a cgroup holding processes may not
 *            enable them, so only a root or delegated cgroup does);
 *   v1       /sys/fs/cgroup/memory and /sys/fs/cgroup/pids otherwise, each
 *            on its own (machines like ours mount v1 memory and pids with an
 *            almost empty cgroup2 beside them).
 * A run's cgroup is <base>/slmmux-<host pid>-<slot>; the forked child
 * writes "0" (itself) into its cgroup.procs before anything else, so
 * bwrap, the program and everything they start are inside from the first
 * instruction. After the run: the peak and the OOM kills are read, the
 * directory removed. */
#include "sandbox/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#define CGROUP1_MAGIC 0x27e0ebL
#define CGROUP2_MAGIC 0x63677270L

static const char *const cg_name[CG_N] = {"memory", "pids"};

static int cg_write(const char *dir, const char *file, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int cg_write(const char *dir, const char *file, const char *fmt, ...)
{
    char path[PATH_MAX], val[64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(val, sizeof val, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int ok = write(fd, val, (size_t)n) == n;
    int e = errno;
    close(fd);
    errno = e;
    return ok ? 0 : -1;
}

/* The whole of a small file of dir, NUL-terminated; "" when unreadable. */
static void cg_read(const char *dir, const char *file, char *buf, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    buf[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
}

static int cg_has_word(const char *list, const char *word)
{
    size_t l = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += l)
        if ((p == list || strchr(" ,\n", p[-1])) && strchr(" ,\n", p[l]))
            return 1;
    return 0;
}

static long cg_fs(const char *path)
{
    struct statfs s;
    return statfs(path, &s) == 0 ? (long)s.f_type : 0;
}

/* The host's cgroup paths, from /proc/self/cgroup: v2's "0::path" and the
 * v1 hierarchies holding memory and pids. */
static void cg_own_paths(char *v2, char v1[CG_N][200])
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    char line[512];
    v2[0] = v1[CG_MEM][0] = v1[CG_PIDS][0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2 || strlen(c2 + 1) >= 200)
            continue;
        *c2 = 0;
        if (!strcmp(line, "0") && c1[1] == 0)
            snprintf(v2, 200, "%s", c2 + 1);
        for (int k = 0; k < CG_N; k++)
            if (cg_has_word(c1 + 1, cg_name[k]))
                snprintf(v1[k], 200, "%s", c2 + 1);
    }
    if (f)
        fclose(f);
}

/* The cgroups of hosts that died (kill -9) are left empty: remove them. */
static void cg_sweep_dead(const char *base)
{
    DIR *d = opendir(base);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int pid;
        if (sscanf(e->d_name, "slmmux-%d-", &pid) != 1 || pid <= 0)
            continue;
        if (kill(pid, 0) < 0 && errno == ESRCH) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", base, e->d_name);
            rmdir(path);
        }
    }
    if (d)
        closedir(d);
}

/* A forked child joins a fresh cgroup made with these limits, and the
 * cgroup goes again: what every run will do, tried once. */
static int cg_try(void)
{
    cgroup_run c;
    char err[160];
    if (cgroup_create(&c, 0, DEF_MEM, DEF_NPROC, err, sizeof err) < 0) {
        snprintf(sandbox_host.cg.note, sizeof sandbox_host.cg.note, "%s", err);
        return -1;
    }
    pid_t pid = fork();
    if (pid == 0) {
        for (int k = 0; k < CG_N; k++)
            if (c.procs[k] >= 0 && write(c.procs[k], "0", 1) != 1)
                _exit(1);
        _exit(0);
    }
    int ws = -1, e = errno;
    cgroup_close_procs(&c);
    while (pid > 0 && waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    int ok = pid > 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    for (int i = 0; i < 100 && cgroup_remove(&c) < 0; i++)
        usleep(1000);
    if (!ok)
        snprintf(sandbox_host.cg.note, sizeof sandbox_host.cg.note, "joining a cgroup failed%s%s",
                 pid < 0 ? ": fork: " : "", pid < 0 ? strerror(e) : "");
    return ok ? 0 : -1;
}

void cgroup_probe(void)
{
    cgroup_host *h = &sandbox_host.cg;
    char v2[200], v1[CG_N][200];
    int want[CG_N] = {KEEP(W_MEMCG), KEEP(W_PIDSCG)};
    cg_own_paths(v2, v1);
    const char *mnt2 = cg_fs("/sys/fs/cgroup") == CGROUP2_MAGIC ? "/sys/fs/cgroup"
                     : cg_fs("/sys/fs/cgroup/unified") == CGROUP2_MAGIC ? "/sys/fs/cgroup/unified" : NULL;
    char base2[256] = "", ctl[256];
    if (mnt2 && v2[0])
        snprintf(base2, sizeof base2, "%s%s", mnt2, strcmp(v2, "/") ? v2 : "");
    for (int k = 0; k < CG_N; k++) {
        if (!want[k])
            continue;
        if (base2[0]) {
            cg_read(base2, "cgroup.subtree_control", ctl, sizeof ctl);
            /* only the root, or a cgroup with no processes, may enable it */
            if (!cg_has_word(ctl, cg_name[k]))
                cg_write(base2, "cgroup.subtree_control", "+%s", cg_name[k]);
            cg_read(base2, "cgroup.subtree_control", ctl, sizeof ctl);
            if (cg_has_word(ctl, cg_name[k])) {
                snprintf(h->base[k], sizeof h->base[k], "%s", base2);
                h->v2[k] = 1;
                continue;
            }
        }
        char mnt1[64], probe[320];
        snprintf(mnt1, sizeof mnt1, "/sys/fs/cgroup/%s", cg_name[k]);
        if (!v1[k][0] || cg_fs(mnt1) != CGROUP1_MAGIC)
            continue;
        snprintf(h->base[k], sizeof h->base[k], "%s%.199s", mnt1, strcmp(v1[k], "/") ? v1[k] : "");
        snprintf(probe, sizeof probe, "%s/%s", h->base[k], k == CG_MEM ? "memory.limit_in_bytes" : "cgroup.procs");
        if (access(probe, F_OK) < 0)
            h->base[k][0] = 0;
    }
    if (h->base[CG_MEM][0]) {
        char f[320];
        snprintf(f, sizeof f, "%s/%s", h->base[CG_MEM], h->v2[CG_MEM] ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
        h->swap = access(f, F_OK) == 0;
    }
    for (int k = 0; k < CG_N; k++)
        if (h->base[k][0])
            cg_sweep_dead(h->base[k]);
    if ((h->base[CG_MEM][0] || h->base[CG_PIDS][0]) && cg_try() < 0)
        h->base[CG_MEM][0] = h->base[CG_PIDS][0] = 0;
    else if (!h->base[CG_MEM][0] && !h->note[0])
        snprintf(h->note, sizeof h->note, "%s", !want[CG_MEM] ? "weakened" :
                 base2[0] ? "cgroup2 without memory in the host cgroup's subtree_control, no v1 memory"
                          : "no cgroup2 or v1 memory hierarchy for this process");
}

/* cgroup2 holds both controllers in one directory: pids lives in memory's. */
static int cg_shared(void)
{
    const cgroup_host *h = &sandbox_host.cg;
    return h->base[CG_MEM][0] && h->base[CG_PIDS][0] && h->v2[CG_MEM] && h->v2[CG_PIDS] &&
           !strcmp(h->base[CG_MEM], h->base[CG_PIDS]);
}

static int cg_limits(const char *dir, int k, size_t mem, long nproc)
{
    const cgroup_host *h = &sandbox_host.cg;
    if (k == CG_MEM && h->v2[k]) {
        if (cg_write(dir, "memory.max", "%zu", mem) < 0 ||
            (h->swap && cg_write(dir, "memory.swap.max", "0") < 0))
            return -1;
    } else if (k == CG_MEM) {
        /* memsw (memory + swap) may not be below the memory limit: set after it */
        if (cg_write(dir, "memory.limit_in_bytes", "%zu", mem) < 0 ||
            (h->swap && cg_write(dir, "memory.memsw.limit_in_bytes", "%zu", mem) < 0))
            return -1;
    }
    if ((k == CG_PIDS || cg_shared()) && cg_write(dir, "pids.max", "%ld", nproc) < 0)
        return -1;
    return 0;
}

int cgroup_create(cgroup_run *c, int slot, size_t mem, long nproc, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    for (int k = 0; k < CG_N; k++)
        c->procs[k] = -1;
    for (int k = 0; k < CG_N; k++) {
        if (!sandbox_host.cg.base[k][0] || (k == CG_PIDS && cg_shared()))
            continue;
        snprintf(c->dir[k], sizeof c->dir[k], "%s/slmmux-%d-%d", sandbox_host.cg.base[k], (int)getpid(), slot);
        const char *step = "mkdir";
        if (mkdir(c->dir[k], 0755) < 0 && errno != EEXIST)
            goto fail;
        step = "limits";
        if (cg_limits(c->dir[k], k, mem, nproc) < 0)
            goto fail;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/cgroup.procs", c->dir[k]);
        step = "open cgroup.procs";
        if ((c->procs[k] = open(path, O_WRONLY | O_CLOEXEC)) < 0)
            goto fail;
        continue;
    fail:
        snprintf(err, errlen, "cgroup %s: %s %s: %s", cg_name[k], step, c->dir[k], strerror(errno));
        cgroup_close_procs(c);
        cgroup_remove(c);
        return -1;
    }
    return 0;
}

void cgroup_close_procs(cgroup_run *c)
{
    for (int k = 0; k < CG_N; k++) {
        if (c->procs[k] >= 0)
            close(c->procs[k]);
        c->procs[k] = -1;
    }
}

static long cg_field(const char *text, const char *key)
{
    const char *p = text;
    size_t l = strlen(key);
    while ((p = strstr(p, key))) {
        if ((p == text || p[-1] == '\n') && p[l] == ' ')
            return strtol(p + l + 1, NULL, 10);
        p += l;
    }
    return -1;
}

void cgroup_usage(const cgroup_run *c, size_t *peak, long *oom_kills)
{
    *peak = 0;
    *oom_kills = -1;
    const char *dir = c->dir[CG_MEM];
    if (!dir[0])
        return;
    int v2 = sandbox_host.cg.v2[CG_MEM];
    char buf[1024];
    cg_read(dir, v2 ? "memory.peak" : "memory.max_usage_in_bytes", buf, sizeof buf);
    *peak = (size_t)strtoull(buf, NULL, 10);
    cg_read(dir, v2 ? "memory.events" : "memory.oom_control", buf, sizeof buf);
    *oom_kills = cg_field(buf, "oom_kill");
}

int cgroup_remove(cgroup_run *c)
{
    int rc = 0;
    for (int k = 0; k < CG_N; k++) {
        if (!c->dir[k][0])
            continue;
        if (rmdir(c->dir[k]) == 0 || errno == ENOENT)
            c->dir[k][0] = 0;
        else
            rc = -1;
    }
    return rc;
}

/* Everything still in the run's cgroup, at once and with no pid to race
 * for: cgroup.kill (v2, Linux 5.14). v1 has nothing of the kind; there the
 * pid namespace or the uid sweep (run.c) reaches every task. */
void cgroup_kill(const cgroup_run *c)
{
    for (int k = 0; k < CG_N; k++)
        if (c->dir[k][0] && sandbox_host.cg.v2[k])
            cg_write(c->dir[k], "cgroup.kill", "1");
}
