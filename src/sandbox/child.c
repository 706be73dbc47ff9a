/* child: the forked child, between fork and execve. Only system calls from
 * here on: the host may have had other threads (curl's resolver) when it
 * forked, so locks in libc may be held by nobody; hence the raw setres*id
 * syscalls, getdents64 instead of readdir, and an error report assembled by
 * hand. The order matters: the run's cgroup is joined first (as the host's
 * uid, which may write there), limits are set before the uid changes (RLIMIT_NPROC
 * is counted for the new uid), the death signal after it (a credential change
 * clears it), the seccomp filter last (it needs no-new-privs). */
#include "sandbox/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

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

_Noreturn void child_exec(const child_plan *p)
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
    int nfd = p->fd[4] >= 0 ? 5 : 4, moved[5], cg[CG_N];
    for (int i = 0; i < nfd; i++)
        if ((moved[i] = fcntl(p->fd[i], F_DUPFD, 10)) < 0)
            _exit(126);
    for (int k = 0; k < CG_N; k++)
        if ((cg[k] = p->cgroup[k] >= 0 ? fcntl(p->cgroup[k], F_DUPFD, 10) : -1) < 0 && p->cgroup[k] >= 0)
            _exit(126);
    for (int i = 0; i < nfd; i++)
        if (dup2(moved[i], i) < 0)
            _exit(126);
    /* first: whatever the child does or starts from here is the run's */
    for (int k = 0; k < CG_N; k++)
        if (cg[k] >= 0 && write(cg[k], "0", 1) != 1)
            child_fail("cgroup");
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
