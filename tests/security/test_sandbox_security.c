/* test_sandbox_security: hostile programs against the sandbox. Each test
 * names the protection it exercises; tests/security/mutation.sh rebuilds the
 * sandbox with that protection removed (-DSANDBOX_WEAKEN) and checks that the
 * test then fails. Usage: test_sandbox_security [test-name ...] (all when
 * none given; the list is printed by --list, the isolation by --isolation). */
#include "check.h"
#include "base/oom.h"
#include "base/loop.h"
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static loop_t *loop;
static char nonce[32];          /* makes markers and secrets unique per test run */

typedef struct got {
    int done;
    sandbox_result r;
    char *out, *err;
} got;

static void got_free(got *g)
{
    free(g->out);
    free(g->err);
    memset(g, 0, sizeof *g);
}

static char *dup_bytes(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static void on_done(sandbox_result *r, void *ud)
{
    got *g = ud;
    g->done++;
    g->r = *r;
    g->out = dup_bytes(r->out, r->out_len);
    g->err = dup_bytes(r->err, r->err_len);
}

static int watchdog_fired;
static void on_watchdog(loop_t *l, void *ud)
{
    (void)l;
    (void)ud;
    watchdog_fired = 1;
}

/* The test's own deadline: a missing wall-clock kill must fail the test,
 * not hang it. */
static int wait_for(got *gs, int n, double limit_ms)
{
    watchdog_fired = 0;
    uint64_t t = loop_timer_add(loop, limit_ms, on_watchdog, NULL);
    for (;;) {
        int done = 0;
        for (int i = 0; i < n; i++)
            done += gs[i].done;
        if (done >= n || watchdog_fired)
            break;
        loop_run_once(loop, 0);
    }
    loop_timer_cancel(loop, t);
    if (watchdog_fired)
        sandbox_abort_all();
    return !watchdog_fired;
}

static const char *py_argv[] = {"python3", "-I", "prog.py", NULL};

static int start_py(const char *prog, const sandbox_spec *base, got *g)
{
    sandbox_file f = {"prog.py", prog, strlen(prog)};
    sandbox_spec s = base ? *base : (sandbox_spec){0};
    s.argv = py_argv;
    s.files = &f;
    s.nfiles = 1;
    char err[256];
    memset(g, 0, sizeof *g);
    int rc = sandbox_run(loop, &s, on_done, g, err, sizeof err);
    CHECK_MSG(rc == 0, "%s", err);
    return rc;
}

/* Run and wait at most limit_ms; 1 if it finished. */
static int run_py(const char *prog, const sandbox_spec *base, got *g, double limit_ms)
{
    if (start_py(prog, base, g) < 0)
        return 0;
    int ok = wait_for(g, 1, limit_ms);
    CHECK_MSG(ok, "the run did not end within %.0f ms", limit_ms);
    return ok;
}

/* Processes (any uid) whose command line contains marker. kill_them: SIGKILL. */
static int count_marked(const char *marker, int kill_them)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        char path[300], buf[4096];
        snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        for (ssize_t i = 0; i < len; i++)
            if (!buf[i])
                buf[i] = ' ';
        buf[len] = 0;
        if (strstr(buf, marker)) {
            n++;
            if (kill_them)
                kill(atoi(e->d_name), SIGKILL);
        }
    }
    if (d)
        closedir(d);
    return n;
}

/* ---- the tests ----------------------------------------------------------- */

/* RLIMIT_NPROC (and, as root, the per-run uid that makes it count): a
 * program that forks until refused gets at most nproc processes. It stops by
 * itself at 300 so that removing the protection cannot hurt the machine. */
static void t_fork_bomb_bounded(void)
{
    static const char prog[] =
        "import os, time\n"
        "n = 0\n"
        "while n < 300:\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError:\n"
        "        break\n"
        "    if pid == 0:\n"
        "        time.sleep(30)\n"
        "        os._exit(0)\n"
        "    n += 1\n"
        "print('forks', n, flush=True)\n";
    sandbox_spec s = {0};
    s.nproc = 20;
    s.wall_s = 20;
    got g;
    if (!run_py(prog, &s, &g, 30000))
        return;
    int forks = -1;
    sscanf(g.out, "forks %d", &forks);
    printf("fork_bomb_bounded: the program got %d forks (nproc 20)\n", forks);
    CHECK_MSG(forks >= 1 && forks < 20, "forks %d (want 1..19); out=%s err=%.300s", forks, g.out, g.err);
    /* the sleeping children did not keep the run alive */
    CHECK_MSG(g.r.status == SANDBOX_EXITED && g.r.wall_ms < 15000, "status %d wall %.0f", g.r.status,
              g.r.wall_ms);
    got_free(&g);
}

/* The classic bomb: the machine and this test survive, the run ends at the
 * wall clock, and the loop is responsive afterwards. */
static void t_fork_bomb_classic(void)
{
    static const char prog[] =
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass\n";
    sandbox_spec s = {0};
    s.nproc = 32;
    s.wall_s = 2;
    got g;
    double t0 = loop_now_ms();
    if (!run_py(prog, &s, &g, 20000))
        return;
    CHECK_MSG(g.r.status == SANDBOX_TIMEOUT, "status %d", g.r.status);
    CHECK_MSG(loop_now_ms() - t0 < 6000, "took %.0f ms", loop_now_ms() - t0);
    got_free(&g);
    /* and the next run works */
    if (run_py("print('after')\n", NULL, &g, 20000))
        CHECK_STR(g.out, "after\n");
    got_free(&g);
}

/* The wall-clock timer: a loop that never ends, with CPU time to spare. */
static void t_infinite_loop_timeout(void)
{
    sandbox_spec s = {0};
    s.cpu_s = 60;
    s.wall_s = 1;
    got g;
    if (!run_py("while True:\n    pass\n", &s, &g, 8000))
        return;
    CHECK_MSG(g.r.status == SANDBOX_TIMEOUT, "status %d", g.r.status);
    CHECK_MSG(g.r.wall_ms >= 1000 && g.r.wall_ms < 3000, "wall %.0f ms", g.r.wall_ms);
    got_free(&g);
}

/* RLIMIT_CPU: the wall clock is far, the CPU limit is not. */
static void t_cpu_limit(void)
{
    sandbox_spec s = {0};
    s.cpu_s = 1;
    s.wall_s = 8;
    got g;
    if (!run_py("while True:\n    pass\n", &s, &g, 20000))
        return;
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED, "status %d (want SIGNALED by the CPU limit)", g.r.status);
    CHECK_MSG(g.r.wall_ms < 5000, "wall %.0f ms", g.r.wall_ms);
    got_free(&g);
}

/* RLIMIT_AS: a 10 GB mapping is refused. The mapping is never touched
 * (MAP_NORESERVE, 0x4000 on x86-64 and aarch64: no overcommit accounting
 * either), so without the limit it costs the machine nothing, and the
 * memory cgroup, which charges pages, not mappings, cannot stand in. */
static void t_alloc_10gb(void)
{
    static const char prog[] =
        "import mmap\n"
        "try:\n"
        "    m = mmap.mmap(-1, 10 << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x4000)\n"
        "    print('allocated', len(m))\n"
        "except (OSError, MemoryError):\n"
        "    print('MemoryError')\n";
    sandbox_spec s = {0};
    s.mem_bytes = (size_t)1 << 30;
    got g;
    if (!run_py(prog, &s, &g, 30000))
        return;
    CHECK_MSG(!strstr(g.out, "allocated"), "out=%s", g.out);
    CHECK(strstr(g.out, "MemoryError") || g.r.status == SANDBOX_SIGNALED);
    got_free(&g);
}

/* ---- memory the run holds in all, beyond RLIMIT_AS ------------------------
 * Each program grabs memory in 64 MiB steps, printing "held N" (MiB) after
 * each, up to a ceiling: the attempt of the issue, or a quarter of what the
 * machine has free, whichever is less, so that a build without the
 * protection (make mutation) costs the machine a bounded amount, briefly.
 * Under a 128 MiB limit the protection must stop it (refused, or killed)
 * before it holds twice the limit. */

#define MEM_LIMIT ((size_t)128 << 20)

static const char mem_ceiling_py[] =
    "def ceiling(want):\n"
    "    for l in open('/proc/meminfo'):\n"
    "        if l.startswith('MemAvailable:'):\n"
    "            return min(want, int(l.split()[1]) * 1024 // 4)\n"
    "    return 0\n";

/* The most the program said it held (MiB), and its ceiling. */
static int mem_held(const char *out, int *ceiling)
{
    int held = 0, v;
    *ceiling = 0;
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (sscanf(p, "held %d", &v) == 1 && v > held)
            held = v;
        sscanf(p, "ceiling %d", ceiling);
    }
    return held;
}

static int memory_cgroup_expected(void)
{
    const char *iso = sandbox_isolation();
    if (strstr(iso, "memory: cgroup") || strstr(iso, "WEAKENED"))
        return 1;
    printf("skip: no memory cgroup on this machine (%s)\n", iso);
    return 0;
}

static void mem_attempt(const char *name, const char *body, const sandbox_spec *spec)
{
    char prog[4096];
    snprintf(prog, sizeof prog, "%s%s", mem_ceiling_py, body);
    got g;
    double t0 = loop_now_ms();
    if (!run_py(prog, spec, &g, 60000))
        return;
    int ceiling, held = mem_held(g.out, &ceiling);
    printf("%s: held %d MiB of a %d MiB attempt under a %zu MiB limit; status %d signal %d limit %d, "
           "peak %zu MiB, oom kills %ld, %.0f ms; %s\n", name, held, ceiling, MEM_LIMIT >> 20,
           g.r.status, g.r.signal, (int)g.r.limit, g.r.mem_peak >> 20, g.r.oom_kills,
           loop_now_ms() - t0, strstr(g.out, "refused") ? "refused" : "not refused");
    if (ceiling < (int)(2 * MEM_LIMIT >> 20) + 64) {
        printf("skip %s: too little free memory for a meaningful attempt\n", name);
    } else {
        CHECK_MSG((size_t)held < 2 * MEM_LIMIT >> 20, "%s held %d MiB under a %zu MiB limit: out=%.300s err=%.300s",
                  name, held, MEM_LIMIT >> 20, g.out, g.err);
        CHECK_MSG(!strstr(g.out, "done"), "%s ran to its end: out=%.300s", name, g.out);
    }
    got_free(&g);
}

/* SysV shm: segments touched through a mapping, then detached; RLIMIT_AS
 * only ever sees one. 1 GiB in 16 segments (removed at the end: the run's
 * IPC namespace would drop them anyway). */
static void t_shm_1gb(void)
{
    static const char body[] =
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]\n"
        "libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]\n"
        "libc.shmat.restype = ctypes.c_void_p\n"
        "libc.shmdt.argtypes = [ctypes.c_void_p]\n"
        "libc.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n"
        "seg, held, ids = 64 << 20, 0, []\n"
        "top = ceiling(1 << 30)\n"
        "print('ceiling', top >> 20, flush=True)\n"
        "try:\n"
        "    while held + seg <= top:\n"
        "        i = libc.shmget(0, seg, 0o1600)\n"
        "        if i < 0:\n"
        "            print('refused', ctypes.get_errno(), flush=True)\n"
        "            break\n"
        "        ids.append(i)\n"
        "        p = libc.shmat(i, None, 0)\n"
        "        if p is None or p == ctypes.c_void_p(-1).value:\n"
        "            print('shmat failed', ctypes.get_errno(), flush=True)\n"
        "            break\n"
        "        ctypes.memset(p, 1, seg)\n"
        "        libc.shmdt(p)\n"
        "        held += seg\n"
        "        print('held', held >> 20, flush=True)\n"
        "    else:\n"
        "        print('done', held >> 20)\n"
        "finally:\n"
        "    for i in ids:\n"
        "        libc.shmctl(i, 0, None)\n";
    sandbox_spec s = {0};
    s.mem_bytes = MEM_LIMIT;
    s.wall_s = 30;
    mem_attempt("shm_1gb", body, &s);
}

/* memfd: pages of an anonymous file, filled by fallocate, never mapped.
 * 2.5 GiB in 40 files of 64 MiB (RLIMIT_FSIZE is per file). */
static void t_memfd_2gb(void)
{
    static const char body[] =
        "import os\n"
        "seg, held, fds = 64 << 20, 0, []\n"
        "top = ceiling(5 << 29)\n"
        "print('ceiling', top >> 20, flush=True)\n"
        "while held + seg <= top:\n"
        "    try:\n"
        "        fds.append(os.memfd_create('x'))\n"
        "        os.posix_fallocate(fds[-1], 0, seg)\n"
        "    except OSError as e:\n"
        "        print('refused', e.errno, flush=True)\n"
        "        break\n"
        "    held += seg\n"
        "    print('held', held >> 20, flush=True)\n"
        "else:\n"
        "    print('done', held >> 20)\n";
    sandbox_spec s = {0};
    s.mem_bytes = MEM_LIMIT;
    s.fsize_bytes = (size_t)64 << 20;
    s.wall_s = 30;
    mem_attempt("memfd_2gb", body, &s);
}

/* Processes: each child stays under RLIMIT_AS with 64 MiB touched; five
 * of them hold five times that. Children are started one after another
 * and count as holding once they reported and are alive at the end. Only a
 * memory cgroup bounds this, so the test needs one. */
static void t_mem_forked(void)
{
    if (!memory_cgroup_expected())
        return;
    static const char body[] =
        "import os, time\n"
        "top = ceiling(5 * (64 << 20))\n"
        "print('ceiling', top >> 20, flush=True)\n"
        "go_r, go_w = os.pipe()\n"
        "kids = []\n"
        "for i in range(top // (64 << 20)):\n"
        "    ready_r, ready_w = os.pipe()\n"
        "    pid = os.fork()\n"
        "    if pid == 0:\n"
        "        os.close(go_w)\n"
        "        b = b'\\1' * (64 << 20)\n"
        "        os.write(ready_w, b'x')\n"
        "        os.read(go_r, 1)\n"
        "        os._exit(0)\n"
        "    os.close(ready_w)\n"
        "    os.read(ready_r, 1)\n"
        "    os.close(ready_r)\n"
        "    kids.append(pid)\n"
        "time.sleep(0.2)\n"
        "alive = sum(1 for pid in kids if os.waitpid(pid, os.WNOHANG) == (0, 0))\n"
        "print('held', alive * 64, flush=True)\n"
        "os.close(go_w)\n"
        "for pid in kids:\n"
        "    try:\n"
        "        os.waitpid(pid, 0)\n"
        "    except ChildProcessError:\n"
        "        pass\n";
    sandbox_spec s = {0};
    s.mem_bytes = MEM_LIMIT;
    s.wall_s = 30;
    mem_attempt("mem_forked", body, &s);
}

/* Mount namespace: nothing outside the sandbox directory can be written. */
static void t_write_outside(void)
{
    char cwd[1024], tmp_target[256], repo_target[1200], prog[4096];
    if (!getcwd(cwd, sizeof cwd))
        strcpy(cwd, ".");
    snprintf(tmp_target, sizeof tmp_target, "/tmp/escape_%d_%s", (int)getpid(), nonce);
    snprintf(repo_target, sizeof repo_target, "%s/escape_%d_%s", cwd, (int)getpid(), nonce);
    snprintf(prog, sizeof prog,
             "for p in ['%s', '%s', '/escape', '/usr/escape', '../escape', '/dev/shm/escape']:\n"
             "    try:\n"
             "        with open(p, 'w') as f:\n"
             "            f.write('x')\n"
             "        print('WROTE', p)\n"
             "    except OSError as e:\n"
             "        print('refused', p, e.errno)\n"
             "open('inside.txt', 'w').write('ok')\n"
             "print('inside', open('inside.txt').read())\n",
             tmp_target, repo_target);
    got g;
    if (!run_py(prog, NULL, &g, 30000))
        return;
    CHECK_MSG(!strstr(g.out, "WROTE"), "out=%s", g.out);
    CHECK_MSG(strstr(g.out, "inside ok") != NULL, "the sandbox dir itself must be writable: %s %s",
              g.out, g.err);
    struct stat st;
    CHECK_MSG(stat(tmp_target, &st) < 0, "%s exists", tmp_target);
    CHECK_MSG(stat(repo_target, &st) < 0, "%s exists", repo_target);
    unlink(tmp_target);
    unlink(repo_target);
    got_free(&g);
}

/* Mount namespace: a world-readable secret outside the sandbox directory
 * (like the repo, ~/.config, data files) cannot be read. */
static void t_read_secret(void)
{
    char dir[] = "/tmp/slmmux-secret-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK_MSG(0, "mkdtemp: %s", strerror(errno));
        return;
    }
    chmod(dir, 0755);
    char path[128], secret[64];
    snprintf(path, sizeof path, "%s/secret.txt", dir);
    snprintf(secret, sizeof secret, "secret-%s", nonce);
    FILE *f = fopen(path, "w");
    fputs(secret, f);
    fclose(f);
    chmod(path, 0644);
    char prog[1024];
    snprintf(prog, sizeof prog,
             "for p in ['%s', '/etc/passwd']:\n"
             "    try:\n"
             "        print('READ', p, open(p).read()[:200])\n"
             "    except OSError as e:\n"
             "        print('refused', p, e.errno)\n",
             path);
    got g;
    if (run_py(prog, NULL, &g, 30000)) {
        CHECK_MSG(!strstr(g.out, secret) && !strstr(g.err, secret), "out=%s", g.out);
        CHECK_MSG(strstr(g.out, "refused") != NULL, "out=%s err=%s", g.out, g.err);
    }
    unlink(path);
    rmdir(dir);
    got_free(&g);
}

static int listen_loopback(int family, int *port)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss = {0};
    socklen_t len;
    if (family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    }
    if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                    : ((struct sockaddr_in6 *)&ss)->sin6_port);
    return fd;
}

/* No network (network namespace and/or seccomp): a listener of this test on
 * 127.0.0.1 and ::1 sees no connection, the program's connect fails. */
static void t_socket_loopback(void)
{
    int p4 = 0, p6 = 0;
    int l4 = listen_loopback(AF_INET, &p4), l6 = listen_loopback(AF_INET6, &p6);
    CHECK_MSG(l4 >= 0, "cannot listen on 127.0.0.1: %s", strerror(errno));
    if (l4 < 0)
        return;
    char prog[1024];
    snprintf(prog, sizeof prog,
             "import socket\n"
             "for host, port in [('127.0.0.1', %d), ('::1', %d)]:\n"
             "    if port == 0: continue\n"
             "    try:\n"
             "        s = socket.create_connection((host, port), timeout=3)\n"
             "        s.sendall(b'hello')\n"
             "        print('CONNECTED', host)\n"
             "    except OSError as e:\n"
             "        print('refused', host, e.errno)\n",
             p4, l6 >= 0 ? p6 : 0);
    got g;
    if (run_py(prog, NULL, &g, 30000)) {
        printf("socket_loopback: %s", g.out);
        CHECK_MSG(!strstr(g.out, "CONNECTED"), "out=%s", g.out);
        CHECK_MSG(strstr(g.out, "refused") != NULL, "out=%s err=%s", g.out, g.err);
    }
    int c4 = accept(l4, NULL, NULL);
    CHECK_MSG(c4 < 0 && (errno == EAGAIN || errno == EWOULDBLOCK), "the listener saw a connection");
    if (c4 >= 0)
        close(c4);
    if (l6 >= 0) {
        int c6 = accept(l6, NULL, NULL);
        CHECK_MSG(c6 < 0, "the ::1 listener saw a connection");
        if (c6 >= 0)
            close(c6);
        close(l6);
    }
    close(l4);
    got_free(&g);
}

/* The seccomp layer alone: creating an AF_INET/AF_INET6/AF_PACKET socket is
 * refused with EACCES (a network namespace alone would allow the socket). */
static void t_socket_denied_by_seccomp(void)
{
    if (!strstr(sandbox_isolation(), "seccomp")) {
        printf("skip socket_denied_by_seccomp: no seccomp on this machine\n");
        return;
    }
    static const char prog[] =
        "import socket\n"
        "for fam in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET):\n"
        "    try:\n"
        "        socket.socket(fam, socket.SOCK_DGRAM if fam != socket.AF_PACKET else socket.SOCK_RAW)\n"
        "        print('CREATED', fam)\n"
        "    except OSError as e:\n"
        "        print('denied', fam, e.errno)\n"
        "a, b = socket.socketpair()\n"
        "print('unix ok')\n";
    got g;
    if (!run_py(prog, NULL, &g, 30000))
        return;
    CHECK_MSG(!strstr(g.out, "CREATED"), "out=%s", g.out);
    CHECK_MSG(strstr(g.out, "denied 2 13") && strstr(g.out, "denied 10 13"), "out=%s err=%s", g.out, g.err);
    CHECK(strstr(g.out, "unix ok") != NULL);
    got_free(&g);
}

/* The network-namespace layer alone: the program sees only a loopback
 * interface, not the host's. */
static void t_netns_only_lo(void)
{
    FILE *f = fopen("/proc/net/dev", "r");
    char line[512];
    int host_ifaces = 0;
    while (f && fgets(line, sizeof line, f))
        if (strchr(line, ':') && !strstr(line, " lo:"))
            host_ifaces++;
    if (f)
        fclose(f);
    if (!host_ifaces) {
        printf("skip netns_only_lo: the host itself has only lo\n");
        return;
    }
    static const char prog[] =
        "names = [l.split(':')[0].strip() for l in open('/proc/net/dev') if ':' in l]\n"
        "print(sorted(names))\n";
    got g;
    if (!run_py(prog, NULL, &g, 30000))
        return;
    CHECK_STR(g.out, "['lo']\n");
    got_free(&g);
}

/* Clean environment: a key in the host's environment is not in the
 * program's. (main re-executes this test with the key in its initial
 * environment, the one /proc/<pid>/environ shows; setenv would not be.) */
static void t_env_secret(void)
{
    const char *secret = getenv("OPENAI_API_KEY");
    static const char prog[] =
        "import os\n"
        "print(dict(os.environ))\n"
        "print('OPENAI_API_KEY' in os.environ)\n";
    got g;
    if (run_py(prog, NULL, &g, 30000)) {
        CHECK_MSG(!strstr(g.out, secret), "out=%s", g.out);
        CHECK_MSG(strstr(g.out, "\nFalse\n") != NULL, "out=%s err=%s", g.out, g.err);
    }
    got_free(&g);
}

/* pid namespace / other uid: the host's /proc/<pid>/environ (which holds the
 * key) cannot be read. */
static void t_proc_environ(void)
{
    const char *secret = getenv("OPENAI_API_KEY");
    char prog[1024];
    snprintf(prog, sizeof prog,
             "import os\n"
             "for pid in [%d, os.getppid(), 1]:\n"
             "    try:\n"
             "        print('READ', pid, open('/proc/%%d/environ' %% pid, 'rb').read())\n"
             "    except OSError as e:\n"
             "        print('refused', pid, e.errno)\n",
             (int)getpid());
    got g;
    if (run_py(prog, NULL, &g, 30000)) {
        CHECK_MSG(!strstr(g.out, secret) && !strstr(g.err, secret), "out=%s", g.out);
        CHECK_MSG(strstr(g.out, "refused") != NULL, "out=%s err=%s", g.out, g.err);
    }
    got_free(&g);
}

/* os._exit(0) before the checks: the exit code alone says 0, and nothing
 * printed after it arrives; a pass token printed after the checks (the
 * HumanEval layer's criterion) is absent. */
static void t_exit_before_checks(void)
{
    static const char prog[] =
        "import os\n"
        "os._exit(0)\n"
        "assert False\n"
        "print('PASS-TOKEN-1b7e')\n";
    got g;
    if (!run_py(prog, NULL, &g, 30000))
        return;
    CHECK(g.r.status == SANDBOX_EXITED && g.r.exit_code == 0);
    CHECK(!strstr(g.out, "PASS-TOKEN-1b7e"));
    got_free(&g);
}

/* pid namespace / group kill / uid sweep: a double-forked daemon (own
 * session, no stdio) is dead once the run is over. */
static void t_daemon_outlives(void)
{
    char marker[64], prog[1024];
    snprintf(marker, sizeof marker, "slmmux-daemon-%s", nonce);
    snprintf(prog, sizeof prog,
             "import os, time\n"
             "if os.fork() == 0:\n"
             "    os.setsid()\n"
             "    if os.fork() == 0:\n"
             "        os.closerange(0, 3)\n"
             "        os.execv('/usr/bin/python3', ['python3', '-c', 'import time; time.sleep(60)', '%s'])\n"
             "    os._exit(0)\n"
             "time.sleep(0.5)\n"
             "print('parent leaves')\n",
             marker);
    got g;
    if (!run_py(prog, NULL, &g, 30000))
        return;
    CHECK_STR(g.out, "parent leaves\n");
    /* SIGKILL is asynchronous: give the kernel a moment */
    int left = 0;
    for (int i = 0; i < 20; i++) {
        if (!(left = count_marked(marker, 0)))
            break;
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    CHECK_MSG(left == 0, "%d daemon(s) with %s outlived the run", left, marker);
    count_marked(marker, 1);
    got_free(&g);
}

/* Output cap: 100 MB of stdout keeps out_cap bytes, the run ends, and this
 * process does not hold the 100 MB. */
static void t_output_100mb(void)
{
    static const char prog[] =
        "import sys\n"
        "chunk = b'x' * (1 << 20)\n"
        "for i in range(100):\n"
        "    sys.stdout.buffer.write(chunk)\n"
        "sys.stdout.flush()\n"
        "print('finished', file=sys.stderr)\n";
    struct rusage before, after;
    getrusage(RUSAGE_SELF, &before);
    sandbox_spec s = {0};
    s.out_cap = 1 << 20;
    s.wall_s = 30;
    got g;
    if (!run_py(prog, &s, &g, 40000))
        return;
    getrusage(RUSAGE_SELF, &after);
    CHECK_MSG(g.r.out_len == (size_t)1 << 20, "out_len %zu", g.r.out_len);
    CHECK(g.r.truncated & SANDBOX_TRUNC_OUT);
    long grew_kb = after.ru_maxrss - before.ru_maxrss;
    CHECK_MSG(grew_kb < 40 * 1024, "this process grew by %ld KiB", grew_kb);
    printf("output_100mb: status %d, kept %zu bytes, %s, %.0f ms, host grew %ld KiB\n", g.r.status,
           g.r.out_len, g.r.errmsg[0] ? g.r.errmsg : "no note", g.r.wall_ms, grew_kb);
    got_free(&g);
}

/* Hostile neighbours: benign runs finish correctly next to fork bombs and
 * endless loops, 16 at once. */
static void t_concurrent_hostile(void)
{
    enum { N = 16 };
    got gs[N];
    char progs[N][256];
    memset(gs, 0, sizeof gs);
    for (int i = 0; i < N; i++) {
        sandbox_spec s = {0};
        s.wall_s = 3;
        if (i % 4 == 1)
            snprintf(progs[i], sizeof progs[i], "while True:\n    pass\n");
        else if (i % 4 == 3)
            snprintf(progs[i], sizeof progs[i],
                     "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n");
        else
            snprintf(progs[i], sizeof progs[i], "import time\ntime.sleep(0.2)\nprint(%d * 7)\n", i);
        if (start_py(progs[i], &s, &gs[i]) < 0)
            gs[i].done = 1;
    }
    if (!wait_for(gs, N, 30000)) {
        CHECK_MSG(0, "concurrent runs did not finish");
        return;
    }
    for (int i = 0; i < N; i += 2) {
        char want[32];
        snprintf(want, sizeof want, "%d\n", i * 7);
        CHECK_MSG(gs[i].r.status == SANDBOX_EXITED && gs[i].out && !strcmp(gs[i].out, want),
                  "benign run %d: status %d out=%s err=%.200s %s", i, gs[i].r.status, gs[i].out,
                  gs[i].err, gs[i].r.errmsg);
    }
    for (int i = 1; i < N; i += 2)
        CHECK_MSG(gs[i].r.status == SANDBOX_TIMEOUT, "hostile run %d: status %d", i, gs[i].r.status);
    for (int i = 0; i < N; i++)
        got_free(&gs[i]);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"fork_bomb_bounded", t_fork_bomb_bounded},
    {"fork_bomb_classic", t_fork_bomb_classic},
    {"infinite_loop_timeout", t_infinite_loop_timeout},
    {"cpu_limit", t_cpu_limit},
    {"alloc_10gb", t_alloc_10gb},
    {"shm_1gb", t_shm_1gb},
    {"memfd_2gb", t_memfd_2gb},
    {"mem_forked", t_mem_forked},
    {"write_outside", t_write_outside},
    {"read_secret", t_read_secret},
    {"socket_loopback", t_socket_loopback},
    {"socket_denied_by_seccomp", t_socket_denied_by_seccomp},
    {"netns_only_lo", t_netns_only_lo},
    {"env_secret", t_env_secret},
    {"proc_environ", t_proc_environ},
    {"exit_before_checks", t_exit_before_checks},
    {"daemon_outlives", t_daemon_outlives},
    {"output_100mb", t_output_100mb},
    {"concurrent_hostile", t_concurrent_hostile},
};

int main(int argc, char **argv)
{
    size_t ntests = sizeof tests / sizeof tests[0];
    if (argc == 2 && !strcmp(argv[1], "--isolation")) {
        puts(sandbox_isolation());
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (size_t i = 0; i < ntests; i++)
            puts(tests[i].name);
        return 0;
    }
    const char *key = getenv("OPENAI_API_KEY");
    if (!key || strncmp(key, "sk-test-secret-", 15)) {
        char secret[64];
        snprintf(secret, sizeof secret, "sk-test-secret-%d%ld", (int)getpid(), (long)time(NULL));
        setenv("OPENAI_API_KEY", secret, 1);
        execv("/proc/self/exe", argv);
        perror("re-exec");
        return 1;
    }
    snprintf(nonce, sizeof nonce, "%s", key + 15);
    loop = loop_new();
    printf("isolation: %s\n", sandbox_isolation());
    for (size_t i = 0; i < ntests; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= !strcmp(argv[a], tests[i].name);
        if (!wanted)
            continue;
        int failed_before = check_failed;
        double t0 = loop_now_ms();
        tests[i].fn();
        printf("%-26s %s (%.0f ms)\n", tests[i].name, check_failed == failed_before ? "ok" : "FAILED",
               loop_now_ms() - t0);
        fflush(stdout);
    }
    CHECK(sandbox_active() == 0);
    loop_free(loop);
    return check_report();
}
