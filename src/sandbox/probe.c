/* probe: which isolation this machine gives, found out once, before the
 * first run, by trying each mechanism in a forked child: the seccomp filter
 * (does socket() fail?), bwrap with --disable-userns and without (does
 * "true" run?), a network namespace, a cgroup per run (cgroup.c). The probe blocks (each try at most
 * 10 s) because a run cannot start before its mode is known, and it happens
 * once per process. It also writes the description sandbox_isolation()
 * returns, which says what is missing and why. */
#include "sandbox/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

sandbox_machine sandbox_host;

int probe_netns_flags(void)
{
    return (sandbox_host.euid0 ? 0 : CLONE_NEWUSER) | CLONE_NEWNET | CLONE_NEWIPC;
}

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
    return unshare(probe_netns_flags()) == 0 ? 0 : 1;
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
    int pfd = sandbox_pidfd_open(pid);
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
    if (exec_resolve("true", exe, sizeof exe) < 0)
        return -1;
    const char *argv[] = {"true", NULL};
    exec_args a = {0}, env = {0};
    bwrap_argv(&a, "/nonexistent", NULL, 0, DEF_DISK, 0, exe, argv);
    exec_env(&env, BOX);
    int errp[2], stp[2], devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (a.oom || env.oom || devnull < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        exec_args_free(&a);
        exec_args_free(&env);
        return -1;
    }
    if (pipe2(stp, O_CLOEXEC) < 0) {
        close(errp[0]);
        close(errp[1]);
        close(devnull);
        exec_args_free(&a);
        exec_args_free(&env);
        return -1;
    }
    child_plan plan = {
        .path = sandbox_host.bwrap, .argv = a.v, .envp = env.v,
        .fd = {devnull, devnull, errp[1], stp[1], -1}, .cgroup = {-1, -1}, .keep_status = 1,
        .seccomp = sandbox_host.seccomp, .drop = sandbox_host.drop, .uid = sandbox_slot_uid(0),
        .cpu = 10, .as = DEF_MEM, .fsize = DEF_FSIZE, .nofile = DEF_NOFILE,
        .nproc = DEF_NPROC + BWRAP_NPROC, .nproc_own = !sandbox_host.euid0, .parent = getpid(),
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
    exec_args_free(&a);
    exec_args_free(&env);
    int ok = ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 && strstr(st, "\"child-pid\"");
    if (!ok)
        snprintf(sandbox_host.note, sizeof sandbox_host.note, "bwrap failed: %.150s", msg[0] ? msg : st[0] ? st : "no reason given");
    return ok ? 0 : -1;
}

void probe_machine(void)
{
    if (sandbox_host.probed)
        return;
    sandbox_host.probed = 1;
    sandbox_host.euid0 = geteuid() == 0;
    sandbox_host.drop = sandbox_host.euid0 && KEEP(W_UID);
    static const char *const tops[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};
    for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++) {
        struct stat st;
        if (lstat(tops[i], &st) < 0)
            continue;
        snprintf(sandbox_host.top[sandbox_host.ntop][0], sizeof sandbox_host.top[0][0], "%s", tops[i]);
        sandbox_host.top[sandbox_host.ntop][1][0] = 0;
        if (S_ISLNK(st.st_mode)) {
            ssize_t n = readlink(tops[i], sandbox_host.top[sandbox_host.ntop][1], sizeof sandbox_host.top[0][1] - 1);
            if (n <= 0)
                continue;
            sandbox_host.top[sandbox_host.ntop][1][n] = 0;
        } else if (!S_ISDIR(st.st_mode)) {
            continue;
        }
        sandbox_host.ntop++;
    }

    probe_arg pa = {NULL, 1};
    int ws;
    if (seccomp_supported() && KEEP(W_SECCOMP)) {
        ws = probe_fork(&pa, -1);
        sandbox_host.seccomp = ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0;
    }
    static const char *const bw[] = {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"};
    for (size_t i = 0; i < 3 && KEEP(W_FS); i++) {
        if (access(bw[i], X_OK) < 0)
            continue;
        snprintf(sandbox_host.bwrap, sizeof sandbox_host.bwrap, "%s", bw[i]);
        sandbox_host.disable_userns = 1;
        if (probe_bwrap() == 0) {
            sandbox_host.mode = MODE_BWRAP;
            break;
        }
        sandbox_host.disable_userns = 0;   /* an older bwrap */
        if (probe_bwrap() == 0) {
            sandbox_host.mode = MODE_BWRAP;
            break;
        }
    }
    if (KEEP(W_FS) && !sandbox_host.bwrap[0])
        snprintf(sandbox_host.note, sizeof sandbox_host.note, "bwrap not installed");
    if (sandbox_host.mode != MODE_BWRAP && KEEP(W_NET)) {
        pa.what = 2;
        ws = probe_fork(&pa, -1);
        if (ws >= 0 && WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
            sandbox_host.mode = MODE_NETNS;
    }
    if (sandbox_host.mode == MODE_NONE && sandbox_host.seccomp)
        sandbox_host.mode = MODE_SECCOMP;
    if (sandbox_host.mode == MODE_BWRAP)
        sandbox_host.subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0;
    sandbox_host.ipcns = sandbox_host.mode == MODE_BWRAP || sandbox_host.mode == MODE_NETNS;
    cgroup_probe();
    /* SysV segments outlive their processes unless the IPC namespace dies
     * with the run: they need both the memory cgroup and the namespace */
    int memcg = sandbox_host.cg.base[CG_MEM][0] != 0;
    if (KEEP(W_REFUSE))
        seccomp_refuse(!memcg, !(memcg && sandbox_host.ipcns));

    size_t n = 0, cap = sizeof sandbox_host.desc;
#define ADD(...) do { int k_ = snprintf(sandbox_host.desc + n, cap - n, __VA_ARGS__); \
                      if (k_ > 0) n = (size_t)k_ < cap - n ? n + (size_t)k_ : cap - 1; } while (0)
    if (SANDBOX_WEAKEN)
        ADD("WEAKENED TEST BUILD (0x%x): ", (unsigned)SANDBOX_WEAKEN);
    if (sandbox_host.mode == MODE_BWRAP)
        ADD("bubblewrap %s: user, pid, net, ipc, uts, cgroup and mount namespaces%s; "
            "read-only /usr, size-capped tmpfs " BOX, sandbox_host.bwrap,
            sandbox_host.disable_userns ? ", nested user namespaces disabled" : "");
    else if (sandbox_host.mode == MODE_NETNS)
        ADD("network and IPC namespaces only (%s); host filesystem visible%s", sandbox_host.note,
            sandbox_host.drop ? " as an unprivileged per-run uid" : " AS THE HOST USER");
    else if (sandbox_host.mode == MODE_SECCOMP)
        ADD("seccomp socket filter only (%s; no network namespace); host filesystem visible%s",
            sandbox_host.note, sandbox_host.drop ? " as an unprivileged per-run uid" : " AS THE HOST USER");
    else
        ADD("NO ISOLATION beyond rlimits and a clean environment (%s; no seccomp)", sandbox_host.note);
    if (sandbox_host.mode != MODE_SECCOMP && sandbox_host.mode != MODE_NONE)
        ADD("; %s", sandbox_host.seccomp ? "seccomp: socket() only AF_UNIX/AF_NETLINK, no io_uring" : "no seccomp");
    if (sandbox_host.drop)
        ADD("; per-run uid %u+ (RLIMIT_NPROC bound, kill(-1) sweep)", UID_BASE);
    else if (sandbox_host.euid0)
        ADD("; runs as uid 0 (RLIMIT_NPROC NOT enforced)");
    else if (sandbox_host.mode == MODE_BWRAP)
        ADD("; host uid (RLIMIT_NPROC set on bwrap's pid 1 inside its user namespace: per run)");
    else
        ADD("; host uid (RLIMIT_NPROC = its tasks + nproc: one budget shared by concurrent runs)");
    const cgroup_host *cg = &sandbox_host.cg;
    if (memcg)
        ADD("; memory: cgroup %s per run (%s = mem for all its processes, shm, memfd, tmpfs%s)",
            cg->v2[CG_MEM] ? "v2" : "v1", cg->v2[CG_MEM] ? "memory.max" : "memory.limit_in_bytes",
            cg->swap ? ", swap included" : "; swap not accounted");
    else
        ADD("; memory: RLIMIT_AS per process only, no memory cgroup (%s)%s", cg->note,
            !sandbox_host.seccomp ? "; memfd and SysV shm NOT bounded"
            : KEEP(W_REFUSE) ? "; memfd_create, shmget and msgget refused" : "");
    if (memcg && !sandbox_host.ipcns)
        ADD("; shmget and msgget refused (no private IPC namespace)");
    if (cg->base[CG_PIDS][0])
        ADD("; tasks: cgroup %s pids.max per run", cg->v2[CG_PIDS] ? "v2" : "v1");
    else
        ADD("; no pids cgroup");
    ADD("; rlimits cpu/as/fsize/nofile/nproc/core, empty environment, closed fds, "
        "own session, no_new_privs, parent-death kill");
#undef ADD
}

const char *sandbox_isolation(void)
{
    probe_machine();
    return sandbox_host.desc;
}
