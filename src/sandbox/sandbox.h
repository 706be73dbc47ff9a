/* sandbox: run an untrusted program (model-written Python) as a child
 * process, as an event of the loop.
 *
 * The program gets a clean environment (no API keys), a private directory,
 * CPU/memory/file-size/fd/process limits, no network, and a wall-clock kill
 * of everything it started. Its stdout and stderr come back capped. Many runs
 * may be in flight at once; nothing here blocks the loop while a program runs
 * (the one exception is a probe of the machine, once, on first use).
 *
 * The strongest isolation the machine offers is chosen once, on first use
 * (sandbox_isolation() says which):
 *   bwrap    bubblewrap: user, pid, net, ipc, uts, cgroup and mount namespaces;
 *            the program sees read-only /usr, a fresh /proc and /dev, and a
 *            size-capped tmpfs at /sandbox (its cwd and HOME) holding its files
 *            read-only; nothing else of the host's filesystem.
 *   netns    no bwrap: unshare(CLONE_NEWNET | CLONE_NEWIPC) (no network, SysV
 *            objects of its own), private dir on disk as cwd, but the host's
 *            filesystem is visible as to any user.
 *   seccomp  neither: a seccomp filter refusing socket() except AF_UNIX/NETLINK.
 * Memory and tasks are bounded per run where the host can make a cgroup
 * under its own (v2, or the v1 memory and pids hierarchies): mem_bytes for
 * everything the run holds (all its processes, SysV shm, memfd and tmpfs
 * pages, kernel buffers), nproc tasks whatever their uid. Where it cannot,
 * RLIMIT_AS bounds each process alone, and the seccomp filter refuses
 * memfd_create, shmget and msgget, which nothing else would bound.
 * In every mode: empty environment, setrlimit, own session, closed fds,
 * no-new-privs, parent-death kill, a seccomp filter (when the architecture is
 * supported) and, when the host runs as root, a uid of its own per run (so
 * RLIMIT_NPROC bounds fork bombs and a kill(-1) from that uid reaps escapees).
 *
 * Side effects on the host process, by design:
 *   - in bwrap mode it becomes a child subreaper (PR_SET_CHILD_SUBREAPER), to
 *     reap bwrap's pid 1 and with it the program's CPU time; orphans of other
 *     children the host may start would then be re-parented to it as well;
 *   - private directories are /tmp/slmmux-<host pid>-XXXXXX, removed after
 *     each run (and by sandbox_abort_all);
 *   - a run's cgroups are slmmux-<host pid>-<slot> under the host's own
 *     cgroup of each hierarchy, removed before its result is handed over
 *     (those of a host that died are removed by the next host's probe); on
 *     cgroup2 the probe enables memory and pids in the host cgroup's
 *     cgroup.subtree_control when the kernel lets it (a root cgroup). */
#ifndef SLMMUX_SANDBOX_H
#define SLMMUX_SANDBOX_H
#include <stddef.h>
#include "base/loop.h"

typedef struct sandbox_file {
    const char *name;           /* plain name: no '/', not "." or ".." */
    const char *data;
    size_t len;
} sandbox_file;

/* Zero (or negative) limits take the defaults in brackets. */
typedef struct sandbox_spec {
    const char *const *argv;    /* NULL-terminated; argv[0] without '/' is looked
                                 * up in /usr/bin then /bin (never the host's PATH) */
    const char *stdin_data;     /* may hold NULs; copied, need not outlive the call */
    size_t stdin_len;
    const sandbox_file *files;  /* written into the program's cwd before it starts */
    int nfiles;
    double cpu_s;               /* RLIMIT_CPU per process, seconds [10] */
    double wall_s;              /* wall clock for the whole run, seconds [10] */
    size_t mem_bytes;           /* the run's memory cgroup limit, and RLIMIT_AS
                                 * of each process [1 GiB] */
    size_t fsize_bytes;         /* RLIMIT_FSIZE: largest file it may write [16 MiB] */
    size_t disk_bytes;          /* all it may write (tmpfs size; bwrap mode only) [64 MiB] */
    size_t out_cap;             /* bytes kept of stdout, and of stderr [1 MiB] */
    int nofile;                 /* RLIMIT_NOFILE [64] */
    int nproc;                  /* processes + threads at once, itself included [16] */
} sandbox_spec;

typedef enum {
    SANDBOX_EXITED,             /* exit_code is valid */
    SANDBOX_SIGNALED,           /* signal is valid (a CPU-limit kill, a crash, ...) */
    SANDBOX_TIMEOUT,            /* wall_s passed; everything was killed */
    SANDBOX_ERROR               /* it could not be run; errmsg says why */
} sandbox_status;

enum { SANDBOX_TRUNC_OUT = 1, SANDBOX_TRUNC_ERR = 2 };

/* The limit that ended the run, when one did. */
typedef enum {
    SANDBOX_LIMIT_NONE,
    SANDBOX_LIMIT_WALL,         /* wall_s: the sandbox killed everything (TIMEOUT) */
    SANDBOX_LIMIT_CPU,          /* RLIMIT_CPU: SIGXCPU, or SIGKILL at the hard limit */
    SANDBOX_LIMIT_MEMORY,       /* the memory cgroup's OOM killer */
    SANDBOX_LIMIT_OUTPUT        /* an output flood: killed past the cap */
} sandbox_limit;

typedef struct sandbox_result {
    sandbox_status status;
    int exit_code;              /* EXITED: the exit status; else -1 */
    int signal;                 /* SIGNALED/TIMEOUT: the signal; else 0 */
    char *out, *err;            /* never NULL; NUL-terminated after *_len */
    size_t out_len, err_len;
    int truncated;              /* SANDBOX_TRUNC_* bits */
    sandbox_limit limit;        /* which limit ended it (NONE: none did) */
    double wall_ms, cpu_ms;     /* cpu_ms: user+system of the whole process tree */
    size_t mem_peak;            /* the run's memory peak, bytes (0: no memory cgroup) */
    long oom_kills;             /* processes the OOM killer took (-1: no memory cgroup) */
    char errmsg[256];           /* ERROR: why; otherwise a note or "" */
} sandbox_result;

/* Called once per started run, from the loop, never from sandbox_run itself.
 * The result belongs to the sandbox and is valid only during the call;
 * the callback may start new runs. */
typedef void (*sandbox_done_fn)(sandbox_result *r, void *ud);

/* Start a run. 0 on success (done will be called exactly once); -1 when it
 * could not start (bad spec, out of fds, ...): err says why, done is never
 * called. Under bubblewrap the program runs with cwd /sandbox. */
int sandbox_run(loop_t *loop, const sandbox_spec *spec, sandbox_done_fn done, void *ud,
                char *err, size_t errlen);

/* Which isolation this machine gives, in words (probes on first call). */
const char *sandbox_isolation(void);

/* Runs in flight. */
int sandbox_active(void);

/* Shutdown: kill every run in flight, reap it, remove its directory. Their
 * callbacks are not called. Blocks briefly (the processes are SIGKILLed). */
void sandbox_abort_all(void);

#endif
