/* run: a run of the sandbox as events of the loop, from sandbox_run to the
 * done callback. The parent prepares everything (argv, environment, limits,
 * fds, the private directory) so that the forked child only makes system
 * calls before execve; the child's stdout/stderr pipes, its status pipe and
 * a pidfd are loop events, the wall clock a loop timer. When the pidfd
 * fires, everything the run started is killed *before* the child is reaped
 * (while its pid, which is also its process group id, cannot be reused),
 * then the pipes are drained and the result handed over. */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base/buf.h"

/* Past this many discarded output bytes the run is killed: reading a
 * program that prints forever costs the loop CPU that other tasks need. */
#define FLOOD_BYTES   ((size_t)16 << 20)
#define MAX_RUNS      256
/* A run is done when its cgroup is gone; killed tasks take a moment to
 * leave it (without a pid namespace nobody waits for them): 10 ms apart,
 * at most 2 s. */
#define CG_RETRY_MS   10
#define CG_TRIES      200

static unsigned char slot_used[MAX_RUNS];

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

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
    double cpu_limit_ms;        /* RLIMIT_CPU, as set */
    int ws, lost;               /* the child's wait status; status unavailable */
    struct rusage ru;           /* summed over the child and pid 1 */
    double wall_ms;
    uint64_t timer;
    double t0;
    int slot;
    uid_t uid;
    char top[64];
    cgroup_run cg;
    int cg_tries, cg_read;
    uint64_t cg_timer;
    size_t mem_peak;
    long oom_kills;
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
static void run_sweep_uid(uid_t uid)
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
    if (KEEP(W_REAP))
        cgroup_kill(&r->cg);
    if (r->pid <= 0)
        return;
    if (KEEP(W_REAP))
        kill(-r->pid, SIGKILL);
    kill(r->pid, SIGKILL);
    if (sandbox_host.drop && KEEP(W_REAP))
        run_sweep_uid(r->uid);
}

static void run_unwatch(run_t *r, int *fd)
{
    if (*fd >= 0)
        loop_fd_unwatch(r->loop, *fd);
    close_fd(fd);
}

/* The cgroups go; a failure path blocks until they do (at most 1 s). */
static void run_cgroup_drop(run_t *r)
{
    cgroup_close_procs(&r->cg);
    for (int i = 0; i < 100 && cgroup_remove(&r->cg) < 0; i++) {
        if (KEEP(W_REAP))
            cgroup_kill(&r->cg);
        usleep(10000);
    }
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
    if (r->cg_timer)
        loop_timer_cancel(r->loop, r->cg_timer);
    r->cg_timer = 0;
    run_cgroup_drop(r);
    if (r->top[0])
        privdir_remove(r->top);
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

static void run_result_from_status(run_t *r, sandbox_result *res)
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
    /* the OOM killer may pick bwrap's pid 1 (the largest when memory is
     * held in memfd or shm): then no exit-code is written either */
    int oom = r->oom_kills > 0;
    if (sandbox_host.mode == MODE_BWRAP && !strstr(st, "\"exit-code\"") && oom && !r->timed_out && !r->flooded) {
        res->status = SANDBOX_SIGNALED;
        res->signal = SIGKILL;
        res->limit = SANDBOX_LIMIT_MEMORY;
        return;
    }
    if (sandbox_host.mode == MODE_BWRAP && !strstr(st, "\"exit-code\"") && !r->timed_out && !r->flooded) {
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
    } else if (sandbox_host.mode == MODE_BWRAP && WEXITSTATUS(ws) > 128 && WEXITSTATUS(ws) < 128 + NSIG) {
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
    /* the sandbox's own kills first: they are certain */
    if (r->timed_out)
        res->limit = SANDBOX_LIMIT_WALL;
    else if (r->flooded)
        res->limit = SANDBOX_LIMIT_OUTPUT;
    else if (res->status == SANDBOX_SIGNALED && oom)
        res->limit = SANDBOX_LIMIT_MEMORY;
    else if (res->status == SANDBOX_SIGNALED && (res->signal == SIGXCPU ||
             (res->signal == SIGKILL && res->cpu_ms >= r->cpu_limit_ms)))
        res->limit = SANDBOX_LIMIT_CPU;    /* SIGKILL: the hard limit, a second past the soft */
}

static void run_ru_add(struct rusage *a, struct rusage b)
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
    res.cpu_ms = (double)r->ru.ru_utime.tv_sec * 1e3 + r->ru.ru_utime.tv_usec / 1e3 +
                 (double)r->ru.ru_stime.tv_sec * 1e3 + r->ru.ru_stime.tv_usec / 1e3;
    res.mem_peak = r->mem_peak;
    res.oom_kills = r->oom_kills;
    if (r->lost) {
        res.status = SANDBOX_ERROR;
        snprintf(res.errmsg, sizeof res.errmsg, "exit status lost (is SIGCHLD ignored?)");
    } else {
        run_result_from_status(r, &res);
    }
    res.wall_ms = r->wall_ms;
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

static void run_finish(run_t *r);

static void on_cgroup_retry(loop_t *loop, void *ud)
{
    (void)loop;
    run_t *r = ud;
    r->cg_timer = 0;
    run_finish(r);
}

/* Everything is reaped: what the run used is read from its cgroup, which
 * must be empty before the result is handed over. */
static void run_finish(run_t *r)
{
    if (!r->cg_read) {
        cgroup_usage(&r->cg, &r->mem_peak, &r->oom_kills);
        r->cg_read = 1;
    }
    if (cgroup_remove(&r->cg) < 0 && r->cg_tries++ < CG_TRIES) {
        if (KEEP(W_REAP))
            cgroup_kill(&r->cg);
        if ((r->cg_timer = loop_timer_add(r->loop, CG_RETRY_MS, on_cgroup_retry, r)))
            return;
    }
    run_complete(r);
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
        run_ru_add(&r->ru, ru);
    r->pid1 = -1;
    run_finish(r);
}

/* bwrap's outer process exits on word from its pid 1 without reaping it, so
 * the program's CPU time would be lost; as a child subreaper the host
 * inherits pid 1 and reaps it (with the program's time in its rusage).
 * 0 when pid 1 is already reaped or not ours; 1 when we must wait for it. */
static int run_adopt_pid1(run_t *r)
{
    const char *p = sandbox_host.subreaper ? strstr(r->st, "\"child-pid\":") : NULL;
    long pid1 = p ? strtol(p + 12, NULL, 10) : 0;
    if (pid1 <= 1)
        return 0;
    struct rusage ru = {0};
    pid_t w = wait4((pid_t)pid1, NULL, WNOHANG, &ru);
    if (w == (pid_t)pid1) {
        run_ru_add(&r->ru, ru);
        return 0;
    }
    if (w < 0)
        return 0;               /* not our child: never signal it */
    r->pid1 = (pid_t)pid1;
    if ((r->pid1fd = sandbox_pidfd_open(r->pid1)) < 0 ||
        loop_fd_watch(r->loop, r->pid1fd, LOOP_READ, on_pid1_exit, r) < 0) {
        close_fd(&r->pid1fd);
        kill(r->pid1, SIGKILL);
        if (wait4(r->pid1, NULL, 0, &ru) > 0)   /* SIGKILLed: no wait to speak of */
            run_ru_add(&r->ru, ru);
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
        run_finish(r);
}

static int run_fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int run_set_nonblock(int fd)
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
    exec_args argv = {0}, env = {0};
    int late = sandbox_host.mode == MODE_BWRAP && !sandbox_host.euid0;
    if (sandbox_host.mode == MODE_BWRAP) {
        bwrap_argv(&argv, r->top, s->files, s->nfiles, disk, late, exe, s->argv);
        r->nproc_late = (rlim_t)nproc + 1;  /* pid 1 and the program's own */
        nproc += BWRAP_NPROC;
    } else {
        exec_args_add(&argv, exe);
        for (int i = 1; s->argv[i]; i++)
            exec_args_add(&argv, s->argv[i]);
    }
    exec_env(&env, sandbox_host.mode == MODE_BWRAP ? BOX : box);
    if (argv.oom || env.oom) {
        exec_args_free(&argv);
        exec_args_free(&env);
        return run_fail(err, errlen, "out of memory");
    }
    if (cgroup_create(&r->cg, r->slot, mem, nproc, err, errlen) < 0) {
        exec_args_free(&argv);
        exec_args_free(&env);
        return -1;
    }
    extern char **environ;
    int in[2], out[2], er[2], st[2], bl[2] = {-1, -1};
    if (late && pipe2(bl, O_CLOEXEC) < 0) {
        exec_args_free(&argv);
        exec_args_free(&env);
        return run_fail(err, errlen, "pipes: %s", strerror(errno));
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
        exec_args_free(&argv);
        exec_args_free(&env);
        return run_fail(err, errlen, "pipes: %s", strerror(e));
    }
    child_plan plan = {
        .path = sandbox_host.mode == MODE_BWRAP ? sandbox_host.bwrap : exe,
        .argv = argv.v,
        .envp = KEEP(W_ENV) ? env.v : environ,
        .dir = sandbox_host.mode == MODE_BWRAP ? NULL : box,
        .fd = {in[1], out[1], er[1], st[1], bl[0]},
        .cgroup = {r->cg.procs[0], r->cg.procs[1]},
        .keep_status = sandbox_host.mode == MODE_BWRAP,
        .unshare_flags = sandbox_host.mode == MODE_NETNS ? probe_netns_flags() : 0,
        .seccomp = sandbox_host.seccomp,
        .drop = sandbox_host.drop,
        .uid = r->uid,
        .cpu = (rlim_t)(cpu_s + 0.999),
        .as = mem, .fsize = fsize, .nofile = (rlim_t)nofile, .nproc = late ? 0 : (rlim_t)nproc,
        .nproc_own = !sandbox_host.euid0,
        .parent = getpid(),
    };
    r->cpu_limit_ms = (double)plan.cpu * 1e3;
    r->t0 = loop_now_ms();
    pid_t pid = fork();
    if (pid == 0)
        child_exec(&plan);
    int fork_errno = errno;
    cgroup_close_procs(&r->cg);
    exec_args_free(&argv);
    exec_args_free(&env);
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
        return run_fail(err, errlen, "fork: %s", strerror(fork_errno));
    r->pid = pid;
    if ((r->pidfd = sandbox_pidfd_open(pid)) < 0) {
        int e = errno;
        run_kill(r);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
        r->pid = -1;
        return run_fail(err, errlen, "pidfd_open: %s (Linux >= 5.3 needed)", strerror(e));
    }
    return 0;
}

int sandbox_run(loop_t *loop, const sandbox_spec *s, sandbox_done_fn done, void *ud,
                char *err, size_t errlen)
{
    probe_machine();
    if (!loop || !s || !done)
        return run_fail(err, errlen, "sandbox_run: loop, spec and done are required");
    if (!s->argv || !s->argv[0])
        return run_fail(err, errlen, "sandbox_run: spec.argv is empty");
    if (s->nfiles < 0 || (s->nfiles > 0 && !s->files))
        return run_fail(err, errlen, "sandbox_run: spec.files is NULL with nfiles %d", s->nfiles);
    for (int i = 0; i < s->nfiles; i++)
        if (!privdir_name_ok(s->files[i].name) || (s->files[i].len && !s->files[i].data))
            return run_fail(err, errlen, "sandbox_run: bad file name or data at files[%d]", i);
    if (s->stdin_len && !s->stdin_data)
        return run_fail(err, errlen, "sandbox_run: stdin_len without stdin_data");
    char exe[PATH_MAX];
    if (exec_resolve(s->argv[0], exe, sizeof exe) < 0)
        return run_fail(err, errlen, "%s: not found in /usr/bin or /bin", s->argv[0]);
    if (sandbox_host.mode == MODE_BWRAP && !bwrap_exe_visible(exe))
        return run_fail(err, errlen, "%s: not visible inside the sandbox (only /usr and /bin, /lib, ...)", exe);
    /* next fit, not first fit: without a pid namespace the killed processes
     * of a run are reaped by init a little later, and until then they count
     * against RLIMIT_NPROC of their uid; a uid comes back after 255 others */
    static int slot_next;
    int slot = -1;
    for (int i = 0; i < MAX_RUNS && slot < 0; i++)
        if (!slot_used[(slot_next + i) % MAX_RUNS])
            slot = (slot_next + i) % MAX_RUNS;
    if (slot < 0)
        return run_fail(err, errlen, "sandbox_run: %d runs already in flight", MAX_RUNS);
    slot_next = (slot + 1) % MAX_RUNS;

    run_t *r = calloc(1, sizeof *r);
    if (!r)
        return run_fail(err, errlen, "out of memory");
    r->loop = loop;
    r->done = done;
    r->ud = ud;
    r->pid = r->pid1 = -1;
    r->pidfd = r->pid1fd = r->fd_in = r->fd_out = r->fd_err = r->fd_st = r->fd_block = -1;
    r->slot = slot;
    slot_used[slot] = 1;
    for (int k = 0; k < CG_N; k++)
        r->cg.procs[k] = -1;
    r->oom_kills = -1;
    r->uid = sandbox_slot_uid(slot);
    r->cap = KEEP(W_OUTCAP) ? (s->out_cap ? s->out_cap : DEF_OUT_CAP) : SIZE_MAX;

    if (privdir_create(r->top, r->uid, sandbox_host.drop, s->files, s->nfiles, err, errlen) < 0)
        goto bad;
    if (s->stdin_len) {
        if (!(r->in_data = malloc(s->stdin_len))) {
            run_fail(err, errlen, "out of memory");
            goto bad;
        }
        memcpy(r->in_data, s->stdin_data, s->stdin_len);
        r->in_len = s->stdin_len;
    }
    if (run_spawn(r, s, exe, err, errlen) < 0)
        goto bad;

    /* from here the child runs: failures kill it */
    run_set_nonblock(r->fd_out);
    run_set_nonblock(r->fd_err);
    run_set_nonblock(r->fd_st);
    run_set_nonblock(r->fd_in);
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
        run_fail(err, errlen, "loop_fd_watch: %s", strerror(errno));
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
