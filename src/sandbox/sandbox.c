/* sandbox: untrusted programs as child processes, as events of the loop.
 *
 * The shape of a run: the parent prepares everything (argv, environment,
 * limits, fds, a private directory) so the forked child only makes system
 * calls before execve; the child's stdout/stderr pipes and a pidfd are loop
 * events, the wall clock a loop timer. When the pidfd fires, everything the
 * run started is killed *before* the child is reaped (while its pid, which is
 * also its process group id, cannot be reused), then the pipes are drained.
 *
 * Layers, so that one missing mechanism is not the end of isolation:
 *   - bwrap namespaces (mount, pid, net, ipc, uts, user) when they work here;
 *   - as root, a uid per run: root is exempt from RLIMIT_NPROC, and so is
 *     anything running as uid 0 in a user namespace (the kernel's check is on
 *     the kernel uid, see copy_process), so a fork bomb is only bounded once
 *     the program runs as somebody else; a uid per run keeps runs from sharing
 *     that budget and lets a kill(-1) from that uid reap escaped daemons;
 *   - a seccomp filter refusing non-local sockets (and io_uring, which could
 *     create sockets without the socket() system call);
 *   - rlimits, empty environment, closed fds, own session, no-new-privs. */
#include "sandbox/sandbox.h"
#include "base/buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

/* Test builds only: tests/security/mutation.sh compiles with
 * -DSANDBOX_WEAKEN=bits to remove one protection and watch its test fail. */
#ifndef SANDBOX_WEAKEN
#define SANDBOX_WEAKEN 0
#endif
#define W_NET     0x001     /* no network namespace */
#define W_SECCOMP 0x002     /* no seccomp filter */
#define W_ENV     0x004     /* the parent's environment passes through */
#define W_MEM     0x008     /* no RLIMIT_AS */
#define W_NPROC   0x010     /* no RLIMIT_NPROC */
#define W_UID     0x020     /* root runs the program as uid 0 */
#define W_TIMER   0x040     /* no wall-clock kill */
#define W_CPU     0x080     /* no RLIMIT_CPU */
#define W_OUTCAP  0x100     /* output kept whole */
#define W_REAP    0x200     /* no pid namespace, group kill or uid sweep */
#define W_FS      0x400     /* never bwrap: the host's filesystem is visible */
#define KEEP(w) (!(SANDBOX_WEAKEN & (w)))

#define DEF_CPU_S     10.0
#define DEF_WALL_S    10.0
#define DEF_MEM       ((size_t)1 << 30)
#define DEF_FSIZE     ((size_t)16 << 20)
#define DEF_DISK      ((size_t)64 << 20)
#define DEF_OUT_CAP   ((size_t)1 << 20)
#define DEF_NOFILE    64
#define DEF_NPROC     16
/* Past this many discarded output bytes the run is killed: reading a
 * program that prints forever costs the loop CPU that other tasks need. */
#define FLOOD_BYTES   ((size_t)16 << 20)
/* bwrap itself: the outer monitor and the pid-1 reaper count as processes. */
#define BWRAP_NPROC   2
#define MAX_RUNS      256
/* Per-run uids: 2^30 + pid<<8 + slot. Pids are below 2^22, so two live
 * hosts never share a uid, and 256 slots are the runs one host may have. */
#define UID_BASE      0x40000000u
#define BOX           "/sandbox"
#define RM_DEPTH      32

enum { MODE_NONE, MODE_SECCOMP, MODE_NETNS, MODE_BWRAP };

static struct {
    int probed, mode;
    int euid0, drop;            /* host is root; runs get their own uid */
    int seccomp;                /* the filter installs and works here */
    int disable_userns;         /* this bwrap has --disable-userns */
    int subreaper;              /* the host adopts orphans (bwrap's pid 1) */
    char bwrap[64];
    char top[6][2][64];         /* /bin, /lib, ...: name and symlink target ("" = dir) */
    int ntop;
    char note[200];             /* why a stronger mode was not used */
    char desc[640];
} g;

static unsigned char slot_used[MAX_RUNS];

/* ---- small helpers ------------------------------------------------------ */

typedef struct strv {
    char **v;
    int n, cap, oom;
} strv;

static void sv_add(strv *s, const char *str)
{
    if (s->oom)
        return;
    if (s->n + 2 > s->cap) {
        int cap = s->cap ? s->cap * 2 : 64;
        char **p = realloc(s->v, (size_t)cap * sizeof *p);
        if (!p) {
            s->oom = 1;
            return;
        }
        s->v = p;
        s->cap = cap;
    }
    if (!(s->v[s->n] = strdup(str))) {
        s->oom = 1;
        return;
    }
    s->v[++s->n] = NULL;
}

static void sv_addf(strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sv_addf(strv *s, const char *fmt, ...)
{
    char tmp[PATH_MAX + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        s->oom = 1;
    else
        sv_add(s, tmp);
}

static void sv_free(strv *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    *s = (strv){0};
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static int pidfd_open_(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* ---- seccomp ------------------------------------------------------------ */

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#define __NR_io_uring_enter 426
#define __NR_io_uring_register 427
#endif

#ifdef SECCOMP_ARCH
/* socket() only for AF_UNIX and AF_NETLINK (bwrap brings up lo with it);
 * io_uring refused (IORING_OP_SOCKET bypasses a socket() filter); another
 * ABI (i386 int 0x80, x32 numbers) kills: its syscall numbers differ and
 * i386 has socketcall(). Args are read little-endian (low word first). */
static struct sock_filter seccomp_insns[] = {
    /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0),
    /* 2 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* 4 */ BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 10, 0),   /* -> 15 */
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 4, 0),    /* -> 10 */
    /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 8, 0),
    /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 7, 0),
    /* 8 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, 6, 0),
    /* 9 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 10 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 2, 0),       /* -> 14 */
    /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 1, 0),    /* -> 14 */
    /* 13 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
    /* 14 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    /* 15 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
};
#endif

/* Needs no-new-privs (or CAP_SYS_ADMIN). 0 on success. */
static int seccomp_install(void)
{
#ifdef SECCOMP_ARCH
    struct sock_fprog prog = {sizeof seccomp_insns / sizeof seccomp_insns[0], seccomp_insns};
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

/* ---- the child, between fork and execve ------------------------------------
 * Only system calls from here on: the host may have had other threads (curl's
 * resolver) when it forked, so locks in libc may be held by nobody. */

typedef struct child_plan {
    const char *path;
    char *const *argv, *const *envp;
    const char *dir;            /* chdir here first (non-bwrap modes) */
    int fd[5];                  /* stdin, stdout, stderr, status, bwrap's block fd
                                 * (-1: none): the child's ends, become 0..4 */
    int keep_status;            /* fd 3 stays open across execve (bwrap's JSON) */
    int unshare_flags;
    int seccomp, drop;
    uid_t uid;
    rlim_t cpu, as, fsize, nofile, nproc;   /* nproc 0: leave RLIMIT_NPROC alone */
    int nproc_own;              /* add the tasks this uid already has */
    pid_t parent;
} child_plan;

static void child_fail(const char *step)
{
    int e = errno;
    char msg[96];
    size_t n = 0;
    msg[n++] = 'E';
    while (*step && n < 60)
        msg[n++] = *step++;
    msg[n++] = ' ';
    char digits[16];
    int nd = 0;
    do {
        digits[nd++] = (char)('0' + e % 10);
        e /= 10;
    } while (e && nd < 15);
    while (nd)
        msg[n++] = digits[--nd];
    msg[n++] = '\n';
    if (write(3, msg, n) < 0) { /* nobody to tell */ }
    _exit(127);
}

/* RLIMIT_NPROC counts every task of a uid (in the creator's user namespace
 * too), so for a non-root host the bound is "what it has now + nproc". */
static long child_count_tasks(uid_t uid)
{
    int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return 0;
    char dents[4096], st[4096], path[64];
    long total = 0;
    ssize_t n;
    while ((n = getdents64(dfd, dents, sizeof dents)) > 0) {
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(dents + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9' || strlen(d->d_name) > 20)
                continue;
            memcpy(path, "/proc/", 6);
            size_t l = strlen(d->d_name);
            memcpy(path + 6, d->d_name, l);
            memcpy(path + 6 + l, "/status", 8);
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                continue;
            ssize_t r = read(fd, st, sizeof st - 1);
            close(fd);
            if (r <= 0)
                continue;
            st[r] = 0;
            char *u = strstr(st, "\nUid:"), *t = strstr(st, "\nThreads:");
            if (u && t && strtoul(u + 5, NULL, 10) == uid)
                total += strtol(t + 9, NULL, 10);
        }
    }
    close(dfd);
    return total;
}

static void child_limit(int res, rlim_t soft, rlim_t hard, const char *step)
{
    struct rlimit rl = {soft, hard};
    if (setrlimit(res, &rl) < 0)
        child_fail(step);
}

static void __attribute__((noreturn)) child_exec(const child_plan *p)
{
    /* An ignored signal stays ignored across execve (the host may ignore
     * SIGPIPE); a blocked one stays blocked. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl = {0};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; s++)
        sigaction(s, &dfl, NULL);

    /* fds: move ours out of the way, then 0..3, then nothing else */
    int nfd = p->fd[4] >= 0 ? 5 : 4, moved[5];
    for (int i = 0; i < nfd; i++)
        if ((moved[i] = fcntl(p->fd[i], F_DUPFD, 10)) < 0)
            _exit(126);
    for (int i = 0; i < nfd; i++)
        if (dup2(moved[i], i) < 0)
            _exit(126);
    if (close_range((unsigned)nfd, ~0U, 0) < 0)
        for (int fd = nfd; fd < 65536; fd++)
            close(fd);
    if (!p->keep_status)
        fcntl(3, F_SETFD, FD_CLOEXEC);

    if (setsid() < 0)
        child_fail("setsid");
    rlim_t nproc = p->nproc;   /* counted before a user namespace hides our uid */
    if (p->nproc_own && nproc)
        nproc += (rlim_t)child_count_tasks(getuid());
    if (p->unshare_flags && unshare(p->unshare_flags) < 0)
        child_fail("unshare");

    child_limit(RLIMIT_CORE, 0, 0, "rlimit core");
    if (KEEP(W_CPU))
        child_limit(RLIMIT_CPU, p->cpu, p->cpu + 1, "rlimit cpu");
    if (KEEP(W_MEM))
        child_limit(RLIMIT_AS, p->as, p->as, "rlimit as");
    child_limit(RLIMIT_FSIZE, p->fsize, p->fsize, "rlimit fsize");
    child_limit(RLIMIT_NOFILE, p->nofile, p->nofile, "rlimit nofile");
    if (KEEP(W_NPROC) && nproc)
        child_limit(RLIMIT_NPROC, nproc, nproc, "rlimit nproc");

    if (p->drop) {
        if (syscall(SYS_setgroups, 0, NULL) < 0)
            child_fail("setgroups");
        if (syscall(SYS_setresgid, p->uid, p->uid, p->uid) < 0)
            child_fail("setresgid");
        if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0)
            child_fail("setresuid");
    }
    if (p->dir && chdir(p->dir) < 0)
        child_fail("chdir");
    /* after the uid change: changing credentials clears the death signal */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
        child_fail("pdeathsig");
    if (getppid() != p->parent)
        _exit(127);             /* the host died before the line above */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail("no_new_privs");
    if (p->seccomp && seccomp_install() < 0)
        child_fail("seccomp");
    execve(p->path, p->argv, p->envp);
    child_fail("execve");
    _exit(127);
}

/* ---- the private directory --------------------------------------------------
 * top (mkdtemp, the host's, 0711) / box (the program's cwd, owned by the run's
 * uid). The program cannot rename box away or replace top with a symlink,
 * since top is not its own. */

static int rm_contents(int dfd, int topfd, int depth, unsigned *moved)
{
    /* not dup(): a dup shares the offset, and the next pass would start
     * where this one ended */
    int fd2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
    if (!d) {
        if (fd2 >= 0)
            close(fd2);
        return 0;
    }
    int progress = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (unlinkat(dfd, name, 0) == 0) {
            progress = 1;
            continue;
        }
        if (errno != EISDIR && errno != EPERM)
            continue;
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == EACCES) {
            /* the program made it unreadable; O_PATH + /proc/self/fd chmods the
             * directory itself, never what a swapped-in symlink points to */
            int pfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (pfd >= 0) {
                char pp[40];
                snprintf(pp, sizeof pp, "/proc/self/fd/%d", pfd);
                if (chmod(pp, 0700) < 0) { /* unlinkat below reports the failure */ }
                close(pfd);
            }
            sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (sub < 0)
            continue;
        if (fchmod(sub, 0700) < 0) { /* root needs no permission bits */ }
        if (depth >= RM_DEPTH) {
            /* no recursion (or fd) per level of an arbitrarily deep tree:
             * move the deep part up and take it on a later pass */
            char fresh[32];
            for (int tries = 0; tries < 100; tries++) {
                snprintf(fresh, sizeof fresh, ".deep%u", (*moved)++);
                if (renameat2(dfd, name, topfd, fresh, RENAME_NOREPLACE) == 0 || errno != EEXIST)
                    break;
            }
            close(sub);
            progress = 1;
            continue;
        }
        progress |= rm_contents(sub, topfd, depth + 1, moved);
        close(sub);
        if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
            progress = 1;
    }
    closedir(d);
    return progress;
}

/* 0 when path is gone. */
static int rm_tree(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fchmod(fd, 0700) < 0) { /* as for rm_contents */ }
    unsigned moved = 0;
    int rc;
    while ((rc = rmdir(path)) < 0 && rm_contents(fd, fd, 0, &moved))
        ;
    close(fd);
    return rc;
}

/* Writes files into top/box. 0, or -1 with err set. */
static int box_fill(const char *top, uid_t uid, const sandbox_file *files, int nfiles,
                    char *err, size_t errlen)
{
    char box[PATH_MAX];
    snprintf(box, sizeof box, "%s/box", top);
    if (mkdir(box, 0700) < 0) {
        snprintf(err, errlen, "mkdir %s: %s", box, strerror(errno));
        return -1;
    }
    int bfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0) {
        snprintf(err, errlen, "open %s: %s", box, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < nfiles && rc == 0; i++) {
        int fd = openat(bfd, files[i].name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "create %s: %s", files[i].name, strerror(errno));
            rc = -1;
            break;
        }
        for (size_t off = 0; off < files[i].len;) {
            ssize_t n = write(fd, files[i].data + off, files[i].len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                snprintf(err, errlen, "write %s: %s", files[i].name, strerror(errno));
                rc = -1;
                break;
            }
            off += (size_t)n;
        }
        if (rc == 0 && g.drop && fchown(fd, uid, uid) < 0) {
            snprintf(err, errlen, "chown %s: %s", files[i].name, strerror(errno));
            rc = -1;
        }
        close(fd);
    }
    if (rc == 0 && g.drop && (fchown(bfd, uid, uid) < 0 || chmod(top, 0711) < 0)) {
        snprintf(err, errlen, "chown %s: %s", box, strerror(errno));
        rc = -1;
    }
    close(bfd);
    return rc;
}

static int file_name_ok(const char *s)
{
    return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && strlen(s) < 200;
}

/* ---- argv and environment ------------------------------------------------ */

static void env_build(strv *e, const char *home)
{
    sv_add(e, "PATH=/usr/bin:/bin");
    sv_addf(e, "HOME=%s", home);
    sv_addf(e, "TMPDIR=%s", home);
    sv_add(e, "LANG=C.UTF-8");
    sv_add(e, "PYTHONDONTWRITEBYTECODE=1");
}

/* block: pid 1 waits for a byte on fd 4 before it starts the program */
static void bwrap_build(strv *a, const char *top, const sandbox_file *files, int nfiles,
                        size_t disk, int block, const char *exe, const char *const *argv)
{
    sv_add(a, g.bwrap);
    sv_add(a, "--unshare-user");
    sv_add(a, "--unshare-ipc");
    if (KEEP(W_REAP))
        sv_add(a, "--unshare-pid");
    if (KEEP(W_NET))
        sv_add(a, "--unshare-net");
    sv_add(a, "--unshare-uts");
    sv_add(a, "--unshare-cgroup-try");
    if (g.disable_userns)
        sv_add(a, "--disable-userns");
    if (KEEP(W_REAP))
        sv_add(a, "--die-with-parent");
    sv_add(a, "--new-session");     /* no TIOCSTI into a terminal we might share */
    if (KEEP(W_ENV)) {
        sv_add(a, "--clearenv");
        strv env = {0};
        env_build(&env, BOX);
        for (int i = 0; i < env.n; i++) {
            char *eq = strchr(env.v[i], '=');
            *eq = 0;
            sv_add(a, "--setenv");
            sv_add(a, env.v[i]);
            sv_add(a, eq + 1);
        }
        a->oom |= env.oom;
        sv_free(&env);
    }
    sv_add(a, "--hostname");
    sv_add(a, "sandbox");
    sv_add(a, "--ro-bind");
    sv_add(a, "/usr");
    sv_add(a, "/usr");
    for (int i = 0; i < g.ntop; i++) {
        if (g.top[i][1][0]) {
            sv_add(a, "--symlink");
            sv_add(a, g.top[i][1]);
        } else {
            sv_add(a, "--ro-bind");
            sv_add(a, g.top[i][0]);
        }
        sv_add(a, g.top[i][0]);
    }
    static const char *const etc[] = {"/etc/ld.so.cache", "/etc/localtime"};
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++) {
        sv_add(a, "--ro-bind-try");
        sv_add(a, etc[i]);
        sv_add(a, etc[i]);
    }
    sv_add(a, "--proc");
    sv_add(a, "/proc");
    sv_add(a, "--dev");
    sv_add(a, "/dev");
    /* the only writable place: memory, capped (no disk to fill, nothing to
     * clean up), with the inputs bound read-only into it */
    sv_add(a, "--size");
    sv_addf(a, "%zu", disk);
    sv_add(a, "--tmpfs");
    sv_add(a, BOX);
    for (int i = 0; i < nfiles; i++) {
        sv_add(a, "--ro-bind");
        sv_addf(a, "%s/box/%s", top, files[i].name);
        sv_addf(a, BOX "/%s", files[i].name);
    }
    sv_add(a, "--chdir");
    sv_add(a, BOX);
    sv_add(a, "--remount-ro");
    sv_add(a, "/dev");
    sv_add(a, "--remount-ro");
    sv_add(a, "/");
    sv_add(a, "--json-status-fd");
    sv_add(a, "3");
    if (block) {
        sv_add(a, "--block-fd");
        sv_add(a, "4");
    }
    sv_add(a, "--");
    sv_add(a, exe);
    for (int i = 1; argv[i]; i++)
        sv_add(a, argv[i]);
}

/* argv[0] looked up in /usr/bin and /bin only: the host's PATH may point at
 * a user's pyenv shim or virtualenv, which the sandbox cannot see. */
static int exe_resolve(const char *name, char *out, size_t n)
{
    if (strchr(name, '/')) {
        snprintf(out, n, "%s", name);
        return access(out, X_OK);
    }
    static const char *const dirs[] = {"/usr/bin", "/bin"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, n, "%s/%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* Under bwrap only /usr and the top-level links into it exist; refusing
 * anything else here keeps "bwrap could not exec it" (exit 1, after the
 * program counted as started) from passing for the program's own exit 1. */
static int exe_visible(const char *exe)
{
    if (!strncmp(exe, "/usr/", 5))
        return 1;
    for (int i = 0; i < g.ntop; i++) {
        size_t l = strlen(g.top[i][0]);
        if (!strncmp(exe, g.top[i][0], l) && exe[l] == '/')
            return 1;
    }
    return 0;
}

static uid_t slot_uid(int slot)
{
    return (uid_t)(UID_BASE + (((unsigned)getpid() & 0x3FFFFFu) << 8) + (unsigned)slot);
}

/* ---- probe: once, blocking, before the first run ---------------------- */

typedef struct probe_arg {
    child_plan *plan;
    int what;                   /* 0 exec plan, 1 seccomp works, 2 netns works */
} probe_arg;

static int probe_child(probe_arg *a)
{
    if (a->what == 0)
        child_exec(a->plan);
    if (a->what == 1) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install() < 0)
            return 1;
        return socket(AF_INET, SOCK_STREAM, 0) < 0 && errno == EACCES ? 0 : 1;
    }
    int flags = g.euid0 ? CLONE_NEWNET : CLONE_NEWUSER | CLONE_NEWNET;
    return unshare(flags) == 0 ? 0 : 1;
}

/* Fork, run probe_child, wait at most 10 s. The wait status, or -1. */
static int probe_fork(probe_arg *a, int errfd)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (errfd >= 0)
            dup2(errfd, 2);
        _exit(probe_child(a));
    }
    int pfd = pidfd_open_(pid);
    if (pfd >= 0) {
        struct pollfd p = {pfd, POLLIN, 0};
        if (poll(&p, 1, 10000) <= 0)
            kill(pid, SIGKILL);
        close(pfd);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR)
            return -1;
    return ws;
}

static int probe_bwrap(void)
{
    char exe[PATH_MAX];
    if (exe_resolve("true", exe, sizeof exe) < 0)
        return -1;
    const char *argv[] = {"true", NULL};
    strv a = {0}, env = {0};
    bwrap_build(&a, "/nonexistent", NULL, 0, DEF_DISK, 0, exe, argv);
    env_build(&env, BOX);
    int errp[2], stp[2], devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (a.oom || env.oom || devnull < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        sv_free(&a);
        sv_free(&env);
        return -1;
    }
    if (pipe2(stp, O_CLOEXEC) < 0) {
        close(errp[0]);
        close(errp[1]);
        close(devnull);
        sv_free(&a);
        sv_free(&env);
        return -1;
    }
    child_plan plan = {
        .path = g.bwrap, .argv = a.v, .envp = env.v,
        .fd = {devnull, devnull, errp[1], stp[1], -1}, .keep_status = 1,
        .seccomp = g.seccomp, .drop = g.drop, .uid = slot_uid(0),
        .cpu = 10, .as = DEF_MEM, .fsize = DEF_FSIZE, .nofile = DEF_NOFILE,
        .nproc = DEF_NPROC + BWRAP_NPROC, .nproc_own = !g.euid0, .parent = getpid(),
    };
    probe_arg pa = {&plan, 0};
    int ws = probe_fork(&pa, -1);
    close(errp[1]);
    close(stp[1]);
    close(devnull);
    char msg[256] = "", st[512] = "";
    ssize_t n = read(errp[0], msg, sizeof msg - 1);
    msg[n > 0 ? n : 0] = 0;
    msg[strcspn(msg, "\n")] = 0;
    n = read(stp[0], st, sizeof st - 1);
    st[n > 0 ? n : 0] = 0;
    close(errp[0]);
    close(stp[0]);
    sv_free(&a);
    sv_free(&env);
    int ok = ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && strstr(st, "\"child-pid\"");
    if (!ok)
        snprintf(g.note, sizeof g.note, "bwrap failed: %.150s", msg[0] ? msg : st[0] ? st : "no reason given");
    return ok ? 0 : -1;
}

static void probe(void)
{
    if (g.probed)
        return;
    g.probed = 1;
    g.euid0 = geteuid() == 0;
    g.drop = g.euid0 && KEEP(W_UID);
    static const char *const tops[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        struct stat st;
        if (lstat(tops[i], &st) < 0)
            continue;
        snprintf(g.top[g.ntop][0], sizeof g.top[0][0], "%s", tops[i]);
        g.top[g.ntop][1][0] = 0;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(tops[i], g.top[g.ntop][1], sizeof g.top[0][1] - 1);
            if (n <= 0)
                continue;
            g.top[g.ntop][1][n] = 0;
        } else if (!S_ISDIR(st.st_mode)) {
            continue;
        }
        g.ntop++;
    }

    probe_arg pa = {NULL, 1};
    int ws;
#ifdef SECCOMP_ARCH
    if (KEEP(W_SECCOMP)) {
        ws = probe_fork(&pa, -1);
        g.seccomp = ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    }
#endif
    static const char *const bw[] = {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"};
    for (size_t i = 0; i < 3 && KEEP(W_FS); i++) {
        if (access(bw[i], X_OK) < 0)
            continue;
        snprintf(g.bwrap, sizeof g.bwrap, "%s", bw[i]);
        g.disable_userns = 1;
        if (probe_bwrap() == 0) {
            g.mode = MODE_BWRAP;
            break;
        }
        g.disable_userns = 0;   /* an older bwrap */
        if (probe_bwrap() == 0) {
            g.mode = MODE_BWRAP;
            break;
        }
    }
    if (KEEP(W_FS) && !g.bwrap[0])
        snprintf(g.note, sizeof g.note, "bwrap not installed");
    if (g.mode != MODE_BWRAP && KEEP(W_NET)) {
        pa.what = 2;
        ws = probe_fork(&pa, -1);
        if (ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
            g.mode = MODE_NETNS;
    }
    if (g.mode == MODE_NONE && g.seccomp)
        g.mode = MODE_SECCOMP;
    if (g.mode == MODE_BWRAP)
        g.subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;

    size_t n = 0, cap = sizeof g.desc;
#define ADD(...) do { int k_ = snprintf(g.desc + n, cap - n, __VA_ARGS__); \
                      if (k_ > 0) n = (size_t)k_ < cap - n ? n + (size_t)k_ : cap - 1; } while (0)
    if (SANDBOX_WEAKEN)
        ADD("WEAKENED TEST BUILD (0x%x): ", (unsigned)SANDBOX_WEAKEN);
    if (g.mode == MODE_BWRAP)
        ADD("bubblewrap %s: user, pid, net, ipc, uts, cgroup and mount namespaces%s; "
            "read-only /usr, size-capped tmpfs " BOX, g.bwrap,
            g.disable_userns ? ", nested user namespaces disabled" : "");
    else if (g.mode == MODE_NETNS)
        ADD("network namespace only (%s); host filesystem visible%s", g.note,
            g.drop ? " as an unprivileged per-run uid" : " AS THE HOST USER");
    else if (g.mode == MODE_SECCOMP)
        ADD("seccomp socket filter only (%s; no network namespace); host filesystem visible%s",
            g.note, g.drop ? " as an unprivileged per-run uid" : " AS THE HOST USER");
    else
        ADD("NO ISOLATION beyond rlimits and a clean environment (%s; no seccomp)", g.note);
    if (g.mode != MODE_SECCOMP && g.mode != MODE_NONE)
        ADD("; %s", g.seccomp ? "seccomp: socket() only AF_UNIX/AF_NETLINK, no io_uring" : "no seccomp");
    if (g.drop)
        ADD("; per-run uid %u+ (RLIMIT_NPROC bound, kill(-1) sweep)", UID_BASE);
    else if (g.euid0)
        ADD("; runs as uid 0 (RLIMIT_NPROC NOT enforced)");
    else if (g.mode == MODE_BWRAP)
        ADD("; host uid (RLIMIT_NPROC set on bwrap's pid 1 inside its user namespace: per run)");
    else
        ADD("; host uid (RLIMIT_NPROC = its tasks + nproc: one budget shared by concurrent runs)");
    ADD("; rlimits cpu/as/fsize/nofile/nproc/core, empty environment, closed fds, "
        "own session, no_new_privs, parent-death kill");
#undef ADD
}

const char *sandbox_isolation(void)
{
    probe();
    return g.desc;
}

/* ---- runs -------------------------------------------------------------- */

typedef struct run {
    struct run *prev, *next;
    loop_t *loop;
    sandbox_done_fn done;
    void *ud;
    pid_t pid;                  /* > 0 until reaped; also the process group id */
    pid_t pid1;                 /* bwrap's pid-1 reaper, once reparented to us */
    int pidfd, pid1fd, fd_in, fd_out, fd_err, fd_st;
    int fd_block;               /* bwrap's pid 1 waits on this for its limit */
    rlim_t nproc_late;          /* RLIMIT_NPROC to give pid 1 then */
    char setup_err[160];        /* the host's own failure after the start */
    char *in_data;
    size_t in_len, in_off;
    buf_t out, err;
    size_t cap, discarded;
    char st[1024];              /* the child's report, or bwrap's JSON status */
    size_t st_len;
    int truncated, timed_out, flooded;
    int ws, lost;               /* the child's wait status; status unavailable */
    struct rusage ru;           /* summed over the child and pid 1 */
    double wall_ms;
    uint64_t timer;
    double t0;
    int slot;
    uid_t uid;
    char top[64];
} run_t;

static run_t *runs;
static int nruns;

int sandbox_active(void)
{
    return nruns;
}

/* Kill the helper's way: kill(-1) as the run's uid reaches every process of
 * the run, whatever session or namespace it fled to. vfork: the helper only
 * makes system calls (raw ones, so only its own thread changes uid). */
static void sweep_uid(uid_t uid)
{
    pid_t p = vfork();
    if (p == 0) {
        if (syscall(SYS_setresuid, uid, uid, uid) == 0)
            for (int i = 0; i < 3 && kill(-1, SIGKILL) == 0; i++)
                ;
        _exit(0);
    }
    if (p > 0)
        while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
            ;
}

/* Only while r->pid is not yet reaped: the group id is the child's pid. */
static void run_kill(run_t *r)
{
    if (r->pid1 > 0)
        kill(r->pid1, SIGKILL);  /* ours and unreaped, so still that process */
    if (r->pid <= 0)
        return;
    if (KEEP(W_REAP))
        kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
    if (g.drop && KEEP(W_REAP))
        sweep_uid(r->uid);
}

static void run_unwatch(run_t *r, int *fd)
{
    if (*fd >= 0)
        loop_fd_unwatch(r->loop, *fd);
    close_fd(fd);
}

static void run_release(run_t *r)
{
    run_unwatch(r, &r->pidfd);
    run_unwatch(r, &r->pid1fd);
    run_unwatch(r, &r->fd_in);
    run_unwatch(r, &r->fd_out);
    run_unwatch(r, &r->fd_err);
    run_unwatch(r, &r->fd_st);
    close_fd(&r->fd_block);
    if (r->timer)
        loop_timer_cancel(r->loop, r->timer);
    r->timer = 0;
    if (r->top[0])
        rm_tree(r->top);
    if (r->slot >= 0)
        slot_used[r->slot] = 0;
    r->slot = -1;
    free(r->in_data);
    r->in_data = NULL;
}

static void run_free(run_t *r)
{
    buf_free(&r->out);
    buf_free(&r->err);
    free(r);
}

static void run_unlink(run_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else if (runs == r)
        runs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
    nruns--;
}

/* Read what is there (at most a few chunks per turn, to share the loop). */
static void run_read(run_t *r, int *fdp, buf_t *b, int bit, int drain)
{
    char chunk[65536];
    for (int i = 0; drain || i < 4; i++) {
        ssize_t n = read(*fdp, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            run_unwatch(r, fdp);
            return;
        }
        size_t keep = b->len < r->cap ? r->cap - b->len : 0;
        if (keep > (size_t)n)
            keep = (size_t)n;
        if (keep && buf_append(b, chunk, keep) < 0)
            keep = 0;
        if (keep < (size_t)n) {
            r->truncated |= bit;
            r->discarded += (size_t)n - keep;
            if (r->discarded > FLOOD_BYTES && KEEP(W_OUTCAP)) {
                r->flooded = 1;
                run_kill(r);
                run_unwatch(r, fdp);
                return;
            }
        }
    }
}

/* A host that is not root has one uid for all runs, and RLIMIT_NPROC counts
 * every task of that uid, in each user namespace up the chain against the
 * limit its creator had. So the limit goes on bwrap's pid 1 *after* it made
 * the user namespace (the creator keeps the host's limit): it then counts
 * only the tasks of this run. pid 1 waits on --block-fd until it is set. */
static void run_unblock(run_t *r)
{
    const char *p = strstr(r->st, "\"child-pid\":");
    if (!p)
        return;
    long pid1 = strtol(p + 12, NULL, 10);
    struct rlimit rl = {r->nproc_late, r->nproc_late};
    if (KEEP(W_NPROC) && (pid1 <= 1 || prlimit((pid_t)pid1, RLIMIT_NPROC, &rl, NULL) < 0)) {
        snprintf(r->setup_err, sizeof r->setup_err, "prlimit(RLIMIT_NPROC) on bwrap's pid 1: %s",
                 strerror(pid1 <= 1 ? ESRCH : errno));
        run_kill(r);            /* never let it run unbounded */
    } else if (write(r->fd_block, "x", 1) != 1) {
        snprintf(r->setup_err, sizeof r->setup_err, "releasing bwrap's pid 1: %s", strerror(errno));
        run_kill(r);
    }
    close_fd(&r->fd_block);
}

/* The status pipe: the child's setup error, or bwrap's JSON; past 1 KiB
 * (a program writing into an fd it should not have) it is dropped. */
static void run_read_status(run_t *r)
{
    for (;;) {
        char tmp[512];
        ssize_t n = read(r->fd_st, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) {
            run_unwatch(r, &r->fd_st);
            return;
        }
        size_t room = sizeof r->st - 1 - r->st_len;
        size_t k = (size_t)n < room ? (size_t)n : room;
        memcpy(r->st + r->st_len, tmp, k);
        r->st_len += k;
        r->st[r->st_len] = 0;
        if (r->fd_block >= 0)
            run_unblock(r);
    }
}

static void on_output(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    (void)events;
    run_t *r = ud;
    if (fd == r->fd_out)
        run_read(r, &r->fd_out, &r->out, SANDBOX_TRUNC_OUT, 0);
    else if (fd == r->fd_err)
        run_read(r, &r->fd_err, &r->err, SANDBOX_TRUNC_ERR, 0);
    else
        run_read_status(r);
}

static void on_stdin(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    run_t *r = ud;
    while (r->in_off < r->in_len) {
        ssize_t n = send(r->fd_in, r->in_data + r->in_off, r->in_len - r->in_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            break;              /* the program closed its stdin: fine */
        r->in_off += (size_t)n;
    }
    run_unwatch(r, &r->fd_in);
}

static void on_timeout(loop_t *loop, void *ud)
{
    (void)loop;
    run_t *r = ud;
    r->timer = 0;
    r->timed_out = 1;
    run_kill(r);
}

static void result_from_status(run_t *r, sandbox_result *res)
{
    const char *st = r->st;
    int ws = r->ws;
    if (st[0] == 'E') {
        /* the child's own report: "E<step> <errno>" */
        const char *sp = strrchr(st, ' ');
        int e = sp ? atoi(sp + 1) : 0;
        int len = sp ? (int)(sp - st - 1) : (int)strlen(st + 1);
        res->status = SANDBOX_ERROR;
        snprintf(res->errmsg, sizeof res->errmsg, "sandbox setup failed at %.*s: %s",
                 len, st + 1, strerror(e));
        return;
    }
    if (r->setup_err[0]) {
        res->status = SANDBOX_ERROR;
        snprintf(res->errmsg, sizeof res->errmsg, "%s", r->setup_err);
        return;
    }
    /* bwrap writes "exit-code" only when the program ran and exited (or died
     * of a signal); a failure in bwrap's own setup, even after "child-pid",
     * ends without it. The program cannot write there: the fd is bwrap's. */
    if (g.mode == MODE_BWRAP && !strstr(st, "\"exit-code\"") && !r->timed_out && !r->flooded) {
        res->status = SANDBOX_ERROR;
        snprintf(res->errmsg, sizeof res->errmsg, "bwrap failed to start the program: %.*s",
                 (int)strcspn(r->err.data ? r->err.data : "", "\n"), r->err.data ? r->err.data : "");
        return;
    }
    if (r->timed_out) {
        res->status = SANDBOX_TIMEOUT;
        res->signal = SIGKILL;
    } else if (WIFSIGNALED(ws)) {
        res->status = SANDBOX_SIGNALED;
        res->signal = WTERMSIG(ws);
    } else if (g.mode == MODE_BWRAP && WEXITSTATUS(ws) > 128 && WEXITSTATUS(ws) < 128 + NSIG) {
        /* bwrap reports a program killed by signal n as exit status 128+n */
        res->status = SANDBOX_SIGNALED;
        res->signal = WEXITSTATUS(ws) - 128;
    } else {
        res->status = SANDBOX_EXITED;
        res->exit_code = WEXITSTATUS(ws);
    }
    if (r->flooded)
        snprintf(res->errmsg, sizeof res->errmsg, "output flood: killed after %zu bytes past the cap",
                 r->discarded);
}

static void ru_add(struct rusage *a, struct rusage b)
{
    a->ru_utime.tv_sec += b.ru_utime.tv_sec;
    a->ru_utime.tv_usec += b.ru_utime.tv_usec;
    a->ru_stime.tv_sec += b.ru_stime.tv_sec;
    a->ru_stime.tv_usec += b.ru_stime.tv_usec;
}

/* Everything is reaped: hand over the result. */
static void run_complete(run_t *r)
{
    if (r->fd_out >= 0)
        run_read(r, &r->fd_out, &r->out, SANDBOX_TRUNC_OUT, 1);
    if (r->fd_err >= 0)
        run_read(r, &r->fd_err, &r->err, SANDBOX_TRUNC_ERR, 1);
    sandbox_result res = {0};
    res.exit_code = -1;
    if (r->lost) {
        res.status = SANDBOX_ERROR;
        snprintf(res.errmsg, sizeof res.errmsg, "exit status lost (is SIGCHLD ignored?)");
    } else {
        result_from_status(r, &res);
    }
    res.wall_ms = r->wall_ms;
    res.cpu_ms = (double)r->ru.ru_utime.tv_sec * 1e3 + r->ru.ru_utime.tv_usec / 1e3 +
                 (double)r->ru.ru_stime.tv_sec * 1e3 + r->ru.ru_stime.tv_usec / 1e3;
    static char empty[1];
    res.out = r->out.data ? r->out.data : empty;
    res.out_len = r->out.len;
    res.err = r->err.data ? r->err.data : empty;
    res.err_len = r->err.len;
    res.truncated = r->truncated;

    run_unlink(r);
    run_release(r);
    r->done(&res, r->ud);
    run_free(r);
}

static void on_pid1_exit(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    run_t *r = ud;
    struct rusage ru = {0};
    pid_t w = wait4(r->pid1, NULL, WNOHANG, &ru);
    if (w == 0)
        return;
    if (w > 0)
        ru_add(&r->ru, ru);
    r->pid1 = -1;
    run_complete(r);
}

/* bwrap's outer process exits on word from its pid 1 without reaping it, so
 * the program's CPU time would be lost; as a child subreaper the host
 * inherits pid 1 and reaps it (with the program's time in its rusage).
 * 0 when pid 1 is already reaped or not ours; 1 when we must wait for it. */
static int run_adopt_pid1(run_t *r)
{
    const char *p = g.subreaper ? strstr(r->st, "\"child-pid\":") : NULL;
    long pid1 = p ? strtol(p + 12, NULL, 10) : 0;
    if (pid1 <= 1)
        return 0;
    struct rusage ru = {0};
    pid_t w = wait4((pid_t)pid1, NULL, WNOHANG, &ru);
    if (w == (pid_t)pid1) {
        ru_add(&r->ru, ru);
        return 0;
    }
    if (w < 0)
        return 0;               /* not our child: never signal it */
    r->pid1 = (pid_t)pid1;
    if ((r->pid1fd = pidfd_open_(r->pid1)) < 0 ||
        loop_fd_watch(r->loop, r->pid1fd, LOOP_READ, on_pid1_exit, r) < 0) {
        close_fd(&r->pid1fd);
        kill(r->pid1, SIGKILL);
        if (wait4(r->pid1, NULL, 0, &ru) > 0)   /* SIGKILLed: no wait to speak of */
            ru_add(&r->ru, ru);
        r->pid1 = -1;
        return 0;
    }
    return 1;
}

static void on_exit_event(loop_t *loop, int fd, unsigned events, void *ud)
{
    (void)loop;
    (void)fd;
    (void)events;
    run_t *r = ud;
    run_kill(r);                /* the rest of the tree, while the group id is ours */
    pid_t w = wait4(r->pid, &r->ws, WNOHANG, &r->ru);
    if (w == 0)
        return;                 /* not exited after all: keep watching */
    r->lost = w < 0;            /* the host ignores SIGCHLD: status gone */
    r->pid = -1;
    r->wall_ms = loop_now_ms() - r->t0;
    run_unwatch(r, &r->pidfd);
    if (r->fd_st >= 0)
        run_read_status(r);
    if (!run_adopt_pid1(r))
        run_complete(r);
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int run_spawn(run_t *r, const sandbox_spec *s, const char *exe, char *err, size_t errlen)
{
    double cpu_s = s->cpu_s > 0 ? s->cpu_s : DEF_CPU_S;
    size_t mem = s->mem_bytes ? s->mem_bytes : DEF_MEM;
    size_t fsize = s->fsize_bytes ? s->fsize_bytes : DEF_FSIZE;
    size_t disk = s->disk_bytes ? s->disk_bytes : DEF_DISK;
    int nofile = s->nofile > 0 ? s->nofile : DEF_NOFILE;
    int nproc = s->nproc > 0 ? s->nproc : DEF_NPROC;

    char box[128];
    snprintf(box, sizeof box, "%s/box", r->top);
    strv argv = {0}, env = {0};
    int late = g.mode == MODE_BWRAP && !g.euid0;
    if (g.mode == MODE_BWRAP) {
        bwrap_build(&argv, r->top, s->files, s->nfiles, disk, late, exe, s->argv);
        r->nproc_late = (rlim_t)nproc + 1;  /* pid 1 and the program's own */
        nproc += BWRAP_NPROC;
    } else {
        sv_add(&argv, exe);
        for (int i = 1; s->argv[i]; i++)
            sv_add(&argv, s->argv[i]);
    }
    env_build(&env, g.mode == MODE_BWRAP ? BOX : box);
    if (argv.oom || env.oom) {
        sv_free(&argv);
        sv_free(&env);
        return fail(err, errlen, "out of memory");
    }
    extern char **environ;
    int in[2], out[2], er[2], st[2], bl[2] = {-1, -1};
    if (late && pipe2(bl, O_CLOEXEC) < 0) {
        sv_free(&argv);
        sv_free(&env);
        return fail(err, errlen, "pipes: %s", strerror(errno));
    }
    int ok = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) == 0;
    if (ok && pipe2(out, O_CLOEXEC) < 0)
        ok = 0, close(in[0]), close(in[1]);
    if (ok && pipe2(er, O_CLOEXEC) < 0)
        ok = 0, close(in[0]), close(in[1]), close(out[0]), close(out[1]);
    if (ok && pipe2(st, O_CLOEXEC) < 0)
        ok = 0, close(in[0]), close(in[1]), close(out[0]), close(out[1]), close(er[0]), close(er[1]);
    if (!ok) {
        int e = errno;
        if (late)
            close(bl[0]), close(bl[1]);
        sv_free(&argv);
        sv_free(&env);
        return fail(err, errlen, "pipes: %s", strerror(e));
    }
    child_plan plan = {
        .path = g.mode == MODE_BWRAP ? g.bwrap : exe,
        .argv = argv.v,
        .envp = KEEP(W_ENV) ? env.v : environ,
        .dir = g.mode == MODE_BWRAP ? NULL : box,
        .fd = {in[1], out[1], er[1], st[1], bl[0]},
        .keep_status = g.mode == MODE_BWRAP,
        .unshare_flags = g.mode == MODE_NETNS ? (g.euid0 ? CLONE_NEWNET : CLONE_NEWUSER | CLONE_NEWNET) : 0,
        .seccomp = g.seccomp,
        .drop = g.drop,
        .uid = r->uid,
        .cpu = (rlim_t)(cpu_s + 0.999),
        .as = mem, .fsize = fsize, .nofile = (rlim_t)nofile, .nproc = late ? 0 : (rlim_t)nproc,
        .nproc_own = !g.euid0,
        .parent = getpid(),
    };
    r->t0 = loop_now_ms();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(&plan);
    int fork_errno = errno;
    sv_free(&argv);
    sv_free(&env);
    close(in[1]);
    close(out[1]);
    close(er[1]);
    close(st[1]);
    if (late)
        close(bl[0]);
    r->fd_block = bl[1];
    r->fd_in = in[0];
    r->fd_out = out[0];
    r->fd_err = er[0];
    r->fd_st = st[0];
    if (pid < 0)
        return fail(err, errlen, "fork: %s", strerror(fork_errno));
    r->pid = pid;
    if ((r->pidfd = pidfd_open_(pid)) < 0) {
        int e = errno;
        run_kill(r);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        r->pid = -1;
        return fail(err, errlen, "pidfd_open: %s (Linux >= 5.3 needed)", strerror(e));
    }
    return 0;
}

int sandbox_run(loop_t *loop, const sandbox_spec *s, sandbox_done_fn done, void *ud,
                char *err, size_t errlen)
{
    probe();
    if (!loop || !s || !done)
        return fail(err, errlen, "sandbox_run: loop, spec and done are required");
    if (!s->argv || !s->argv[0])
        return fail(err, errlen, "sandbox_run: spec.argv is empty");
    if (s->nfiles < 0 || (s->nfiles > 0 && !s->files))
        return fail(err, errlen, "sandbox_run: spec.files is NULL with nfiles %d", s->nfiles);
    for (int i = 0; i < s->nfiles; i++)
        if (!file_name_ok(s->files[i].name) || (s->files[i].len && !s->files[i].data))
            return fail(err, errlen, "sandbox_run: bad file name or data at files[%d]", i);
    if (s->stdin_len && !s->stdin_data)
        return fail(err, errlen, "sandbox_run: stdin_len without stdin_data");
    char exe[PATH_MAX];
    if (exe_resolve(s->argv[0], exe, sizeof exe) < 0)
        return fail(err, errlen, "%s: not found in /usr/bin or /bin", s->argv[0]);
    if (g.mode == MODE_BWRAP && !exe_visible(exe))
        return fail(err, errlen, "%s: not visible inside the sandbox (only /usr and /bin, /lib, ...)", exe);
    /* next fit, not first fit: without a pid namespace the killed processes
     * of a run are reaped by init a little later, and until then they count
     * against RLIMIT_NPROC of their uid; a uid comes back after 255 others */
    static int slot_next;
    int slot = -1;
    for (int i = 0; i < MAX_RUNS && slot < 0; i++)
        if (!slot_used[(slot_next + i) % MAX_RUNS])
            slot = (slot_next + i) % MAX_RUNS;
    if (slot < 0)
        return fail(err, errlen, "sandbox_run: %d runs already in flight", MAX_RUNS);
    slot_next = (slot + 1) % MAX_RUNS;

    run_t *r = calloc(1, sizeof *r);
    if (!r)
        return fail(err, errlen, "out of memory");
    r->loop = loop;
    r->done = done;
    r->ud = ud;
    r->pid = r->pid1 = -1;
    r->pidfd = r->pid1fd = r->fd_in = r->fd_out = r->fd_err = r->fd_st = r->fd_block = -1;
    r->slot = slot;
    slot_used[slot] = 1;
    r->uid = slot_uid(slot);
    r->cap = KEEP(W_OUTCAP) ? (s->out_cap ? s->out_cap : DEF_OUT_CAP) : SIZE_MAX;

    snprintf(r->top, sizeof r->top, "/tmp/slmmux-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(r->top)) {
        fail(err, errlen, "mkdtemp %s: %s", r->top, strerror(errno));
        r->top[0] = 0;
        goto bad;
    }
    if (box_fill(r->top, r->uid, s->files, s->nfiles, err, errlen) < 0)
        goto bad;
    if (s->stdin_len) {
        if (!(r->in_data = malloc(s->stdin_len))) {
            fail(err, errlen, "out of memory");
            goto bad;
        }
        memcpy(r->in_data, s->stdin_data, s->stdin_len);
        r->in_len = s->stdin_len;
    }
    if (run_spawn(r, s, exe, err, errlen) < 0)
        goto bad;

    /* from here the child runs: failures kill it */
    set_nonblock(r->fd_out);
    set_nonblock(r->fd_err);
    set_nonblock(r->fd_st);
    set_nonblock(r->fd_in);
    int wok = loop_fd_watch(loop, r->pidfd, LOOP_READ, on_exit_event, r) == 0 &&
              loop_fd_watch(loop, r->fd_out, LOOP_READ, on_output, r) == 0 &&
              loop_fd_watch(loop, r->fd_err, LOOP_READ, on_output, r) == 0 &&
              loop_fd_watch(loop, r->fd_st, LOOP_READ, on_output, r) == 0;
    if (wok && r->in_len)
        wok = loop_fd_watch(loop, r->fd_in, LOOP_WRITE, on_stdin, r) == 0;
    else
        run_unwatch(r, &r->fd_in);  /* the program reads EOF */
    double wall_s = s->wall_s > 0 ? s->wall_s : DEF_WALL_S;
    if (wok && KEEP(W_TIMER) && !(r->timer = loop_timer_add(loop, wall_s * 1e3, on_timeout, r)))
        wok = 0;
    if (!wok) {
        fail(err, errlen, "loop_fd_watch: %s", strerror(errno));
        run_kill(r);
        while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
            ;
        r->pid = -1;
        goto bad;
    }
    r->next = runs;
    if (runs)
        runs->prev = r;
    runs = r;
    nruns++;
    return 0;

bad:
    run_release(r);
    run_free(r);
    return -1;
}

void sandbox_abort_all(void)
{
    while (runs) {
        run_t *r = runs;
        run_kill(r);
        if (r->pid > 0) {
            while (waitpid(r->pid, NULL, 0) < 0 && errno == EINTR)
                ;
            r->pid = -1;
            if (r->fd_st >= 0)
                run_read_status(r);
            run_adopt_pid1(r);
        }
        if (r->pid1 > 0) {
            kill(r->pid1, SIGKILL);
            while (waitpid(r->pid1, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        run_unlink(r);
        run_release(r);
        run_free(r);
    }
}
