/* sandbox/internal.h: what the files of the sandbox share, and the one
 * place that names its protections.
 *
 * The files, one job each:
 *   probe.c    the machine probe (once, on first use): which isolation mode
 *              works here, and sandbox_isolation()'s description;
 *   exec.c     what the program is started with: argv/envp vectors, the
 *              fixed environment, where argv[0] is found;
 *   bwrap.c    bubblewrap's command line, and what a program under it sees;
 *   privdir.c  the private directory of a run: create, fill, remove;
 *   child.c    the child between fork and execve (limits, uid, fds);
 *   seccomp.c  the system-call filter (sockets, io_uring, and what cannot be
 *              bounded without a memory cgroup);
 *   cgroup.c   the cgroup of a run: memory and process limits over its whole
 *              tree, what it used, its removal;
 *   run.c      a run on the loop: spawn, pipes, pidfd, timer, kill, reap,
 *              result; and the public sandbox_run/sandbox_abort_all.
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
 *   - a cgroup per run, where the machine lets the host make one: RLIMIT_AS
 *     bounds one process's address space, not what a run holds in all (its
 *     other processes, SysV shm, memfd and tmpfs pages, kernel buffers); the
 *     cgroup's memory limit bounds all of it, its pids.max the tasks of the
 *     run whatever their uid. Without a memory cgroup the filter refuses
 *     memfd_create, shmget and msgget instead (nothing else would bound them);
 *   - rlimits, empty environment, closed fds, own session, no-new-privs. */
#ifndef SLMMUX_SANDBOX_INTERNAL_H
#define SLMMUX_SANDBOX_INTERNAL_H
#include <stddef.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "sandbox/sandbox.h"

/* Test builds only: tests/security/mutation.sh compiles every file of the
 * sandbox with -DSANDBOX_WEAKEN=bits to remove one protection and watch its
 * test fail. KEEP(W_x) is 1 in a normal build. */
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
#define W_MEMCG   0x800     /* no memory cgroup */
#define W_REFUSE  0x1000    /* without a memory cgroup, memfd/SysV shm still allowed */
#define W_PIDSCG  0x2000    /* no pids cgroup */
#define KEEP(w) (!(SANDBOX_WEAKEN & (w)))

/* The defaults of sandbox_spec (sandbox.h lists them). */
#define DEF_CPU_S     10.0
#define DEF_WALL_S    10.0
#define DEF_MEM       ((size_t)1 << 30)
#define DEF_FSIZE     ((size_t)16 << 20)
#define DEF_DISK      ((size_t)64 << 20)
#define DEF_OUT_CAP   ((size_t)1 << 20)
#define DEF_NOFILE    64
#define DEF_NPROC     16
/* bwrap itself: the outer monitor and the pid-1 reaper count as processes. */
#define BWRAP_NPROC   2
/* Per-run uids: 2^30 + pid<<8 + slot. Pids are below 2^22, so two live
 * hosts never share a uid, and 256 slots are the runs one host may have. */
#define UID_BASE      0x40000000u
#define BOX           "/sandbox"

/* ---- the machine (probe.c) ---------------------------------------------- */

enum { MODE_NONE, MODE_SECCOMP, MODE_NETNS, MODE_BWRAP };

/* Where the cgroups of runs go, per controller (probed once). */
enum { CG_MEM, CG_PIDS, CG_N };
typedef struct cgroup_host {
    char base[CG_N][272];       /* the host's own cgroup of that controller; "" = none */
    int v2[CG_N];               /* cgroup2 files (memory.max) or v1 (memory.limit_in_bytes) */
    int swap;                   /* swap is bounded too (memsw / memory.swap.max) */
    char note[200];             /* why a controller is missing */
} cgroup_host;

typedef struct sandbox_machine {
    int probed, mode;
    int ipcns;                  /* runs get a private IPC namespace */
    cgroup_host cg;
    int euid0, drop;            /* host is root; runs get their own uid */
    int seccomp;                /* the filter installs and works here */
    int disable_userns;         /* this bwrap has --disable-userns */
    int subreaper;              /* the host adopts orphans (bwrap's pid 1) */
    char bwrap[64];
    char top[6][2][64];         /* /bin, /lib, ...: name and symlink target ("" = dir) */
    int ntop;
    char note[200];             /* why a stronger mode was not used */
    char desc[1024];
} sandbox_machine;

/* What this machine offers, filled by probe_machine(). */
extern sandbox_machine sandbox_host;

/* Probes once (blocking, at most a few forks of 10 s each); later calls
 * return at once. */
void probe_machine(void);
/* unshare()'s flags of netns mode: network and IPC (SysV objects die with
 * the run), in a user namespace when not root. */
int probe_netns_flags(void);

static inline uid_t sandbox_slot_uid(int slot)
{
    return (uid_t)(UID_BASE + (((unsigned)getpid() & 0x3FFFFFu) << 8) + (unsigned)slot);
}

static inline int sandbox_pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* ---- the cgroup of a run (cgroup.c) ------------------------------------- */

typedef struct cgroup_run {
    char dir[CG_N][320];        /* one per hierarchy (v2: one for both); "" = unused */
    int procs[CG_N];            /* its cgroup.procs, open for the child to join; -1 */
} cgroup_run;

/* Fills sandbox_host.cg: where runs' cgroups can be made, tried for real
 * (a forked child joins one); removes those of hosts that died. */
void cgroup_probe(void);
/* The run's cgroups with their limits (mem bytes, nproc tasks), and its
 * cgroup.procs files open. 0, or -1 with err set and nothing left behind. */
int cgroup_create(cgroup_run *c, int slot, size_t mem, long nproc, char *err, size_t errlen);
/* Closes the cgroup.procs files (after the fork: the child has its copies). */
void cgroup_close_procs(cgroup_run *c);
/* What the run used: peak bytes (0 unknown), OOM kills (-1 unknown). */
void cgroup_usage(const cgroup_run *c, size_t *peak, long *oom_kills);
/* SIGKILLs every task in the run's cgroups (v2 only). */
void cgroup_kill(const cgroup_run *c);
/* Removes the run's cgroups: 0 when gone, -1 while tasks remain (retry). */
int cgroup_remove(cgroup_run *c);

/* ---- argv and environment (exec.c) ------------------------------------ */

/* A NULL-terminated vector of strings it owns. An allocation failure sets
 * oom and makes later adds do nothing: builders check oom once, at the end. */
typedef struct exec_args {
    char **v;
    int n, cap, oom;
} exec_args;

void exec_args_add(exec_args *s, const char *str);
void exec_args_addf(exec_args *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void exec_args_free(exec_args *s);
/* The program's whole environment, with HOME and TMPDIR at home. */
void exec_env(exec_args *e, const char *home);
/* argv[0] as a path: a name with '/' as it is, else in /usr/bin or /bin.
 * 0 when executable, -1 if not. */
int exec_resolve(const char *name, char *out, size_t n);

/* ---- bubblewrap (bwrap.c) ------------------------------------------------ */

/* bwrap's argv for running exe with argv[1..] in top's files; block: pid 1
 * waits for a byte on fd 4 before it starts the program. */
void bwrap_argv(exec_args *a, const char *top, const sandbox_file *files, int nfiles,
                size_t disk, int block, const char *exe, const char *const *argv);
/* exe lies in what a program under bwrap can see (/usr and its links). */
int bwrap_exe_visible(const char *exe);

/* ---- the private directory (privdir.c) ------------------------------------ */

/* A fresh top directory (top: room for 64 bytes) holding box/ with files,
 * owned by uid when own. 0, or -1 with err set and nothing left behind
 * (top[0] is then 0). */
int privdir_create(char *top, uid_t uid, int own, const sandbox_file *files, int nfiles,
                   char *err, size_t errlen);
/* Removes top and everything the program left in it, however deep or
 * unreadable. 0 when it is gone. */
int privdir_remove(const char *top);
/* A file name a spec may use: plain, no '/', not "." or "..". */
int privdir_name_ok(const char *name);

/* ---- the child (child.c, seccomp.c) ------------------------------------------ */

typedef struct child_plan {
    const char *path;
    char *const *argv, *const *envp;
    const char *dir;            /* chdir here first (non-bwrap modes) */
    int fd[5];                  /* stdin, stdout, stderr, status, bwrap's block fd
                                 * (-1: none): the child's ends, become 0..4 */
    int cgroup[CG_N];           /* cgroup.procs to join first (-1: none) */
    int keep_status;            /* fd 3 stays open across execve (bwrap's JSON) */
    int unshare_flags;
    int seccomp, drop;
    uid_t uid;
    rlim_t cpu, as, fsize, nofile, nproc;   /* nproc 0: leave RLIMIT_NPROC alone */
    int nproc_own;              /* add the tasks this uid already has */
    pid_t parent;
} child_plan;

/* In the forked child: set everything up and execve, or report the failed
 * step on fd 3 ("E<step> <errno>\n") and exit 127. */
_Noreturn void child_exec(const child_plan *p);

/* 1 when this architecture has a filter (x86-64, aarch64). */
int seccomp_supported(void);
/* What the filter refuses besides sockets and io_uring (set once, by the
 * probe, before any run): memfd_create, and SysV shmget/msgget. */
void seccomp_refuse(int memfd, int sysv);
/* Installs the filter on the calling thread; needs no-new-privs (or
 * CAP_SYS_ADMIN). 0 on success. Only system calls: safe after fork. */
int seccomp_install(void);

#endif
