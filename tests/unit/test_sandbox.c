/* test_sandbox: the sandbox as a loop event — results, limits, stdin/files,
 * output caps, cleanup, concurrency, and that the loop keeps turning while
 * programs run. The hostile programs are in tests/security. */
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "base/oom.h"
#include "base/loop.h"
#include "sandbox/sandbox.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct got {
    int done;
    sandbox_result r;           /* out/err below are our copies */
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

/* Turn the loop until n results arrived or limit_ms passed. */
static int wait_for(loop_t *loop, got *gs, int n, double limit_ms)
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

/* Run prog (Python source) with spec defaults plus overrides in *base. */
static void run_py(loop_t *loop, const char *prog, sandbox_spec *base, got *g)
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
    if (rc == 0)
        CHECK_MSG(wait_for(loop, g, 1, 60000), "run did not finish");
}

/* Private directories of this process still on disk. */
static int leftover_dirs(void)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "slmmux-%d-", (int)getpid());
    DIR *d = opendir("/tmp");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (!strncmp(e->d_name, prefix, strlen(prefix)))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Cgroups of this process's runs still there: in each hierarchy it is in. */
static int leftover_cgroups(void)
{
    static const char *const mounts[] = {"/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids",
                                         "/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
    char prefix[64], line[512];
    snprintf(prefix, sizeof prefix, "slmmux-%d-", (int)getpid());
    int n = 0;
    FILE *f = fopen("/proc/self/cgroup", "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        char *path = strrchr(line, ':');
        if (!path)
            continue;
        for (size_t m = 0; m < sizeof mounts / sizeof mounts[0]; m++) {
            char dir[1024];
            snprintf(dir, sizeof dir, "%s%s", mounts[m], path + 1);
            DIR *d = opendir(dir);
            struct dirent *e;
            while (d && (e = readdir(d)))
                if (!strncmp(e->d_name, prefix, strlen(prefix)))
                    n++;
            if (d)
                closedir(d);
        }
    }
    if (f)
        fclose(f);
    return n;
}

static int has_memcg(void)
{
    return strstr(sandbox_isolation(), "memory: cgroup") != NULL;
}

static void test_isolation_named(void)
{
    const char *iso = sandbox_isolation();
    CHECK(iso && strlen(iso) > 10);
    printf("isolation: %s\n", iso);
}

static void test_print_ok(loop_t *loop)
{
    got g;
    run_py(loop, "print('ok')\n", NULL, &g);
    CHECK(g.r.status == SANDBOX_EXITED);
    CHECK(g.r.exit_code == 0);
    CHECK_STR(g.out, "ok\n");
    CHECK(g.r.err_len == 0);
    CHECK(g.r.truncated == 0);
    CHECK(g.r.limit == SANDBOX_LIMIT_NONE);
    CHECK(g.r.wall_ms > 0 && g.r.cpu_ms > 0);
    if (has_memcg())
        CHECK_MSG(g.r.mem_peak > ((size_t)1 << 20) && g.r.oom_kills == 0, "peak %zu oom kills %ld",
                  g.r.mem_peak, g.r.oom_kills);
    else
        CHECK(g.r.mem_peak == 0 && g.r.oom_kills == -1);
    got_free(&g);
}

static void test_exit_code_and_stderr(loop_t *loop)
{
    got g;
    run_py(loop, "import sys\nprint('partial')\nsys.exit(3)\n", NULL, &g);
    CHECK(g.r.status == SANDBOX_EXITED && g.r.exit_code == 3);
    CHECK_STR(g.out, "partial\n");
    got_free(&g);
    run_py(loop, "raise ValueError('boom')\n", NULL, &g);
    CHECK(g.r.status == SANDBOX_EXITED && g.r.exit_code == 1);
    CHECK(strstr(g.err, "ValueError: boom") != NULL);
    got_free(&g);
}

static void test_crash_is_signaled(loop_t *loop)
{
    got g;
    run_py(loop, "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n", NULL, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && g.r.signal == SIGSEGV, "status %d signal %d exit %d",
              g.r.status, g.r.signal, g.r.exit_code);
    got_free(&g);
}

static void test_stdin_and_files(loop_t *loop)
{
    /* 1 MiB of stdin: more than a socket buffer, so it goes out in pieces
     * as the program reads */
    size_t n = 1 << 20;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    data[n - 1] = 0;            /* NULs pass */
    const char *prog =
        "import sys\n"
        "b = sys.stdin.buffer.read()\n"
        "print(len(b), b[:3].decode(), b[-1], open('data.txt').read())\n";
    sandbox_file files[2] = {{"prog.py", prog, strlen(prog)}, {"data.txt", "hello", 5}};
    sandbox_spec s = {0};
    s.argv = py_argv;
    s.files = files;
    s.nfiles = 2;
    s.stdin_data = data;
    s.stdin_len = n;
    got g = {0};
    char err[256];
    CHECK(sandbox_run(loop, &s, on_done, &g, err, sizeof err) == 0);
    free(data);                 /* copied by sandbox_run */
    CHECK(wait_for(loop, &g, 1, 30000));
    CHECK_STR(g.out, "1048576 abc 0 hello\n");
    got_free(&g);
}

static void test_environment_is_clean(loop_t *loop)
{
    got g;
    run_py(loop,
           "import os\n"
           "print(sorted(k for k in os.environ if k not in ('PWD', 'LC_CTYPE', 'OLDPWD')))\n"
           "print(os.environ['HOME'] == os.getcwd(), os.environ['PATH'])\n",
           NULL, &g);
    CHECK_STR(g.out, "['HOME', 'LANG', 'PATH', 'PYTHONDONTWRITEBYTECODE', 'TMPDIR']\n"
                     "True /usr/bin:/bin\n");
    got_free(&g);
}

static void test_output_cap(loop_t *loop)
{
    got g;
    sandbox_spec s = {0};
    s.out_cap = 1000;
    run_py(loop, "import sys\nprint('x' * 100000)\nsys.stderr.write('y' * 5)\n", &s, &g);
    CHECK(g.r.status == SANDBOX_EXITED && g.r.exit_code == 0);
    CHECK(g.r.out_len == 1000);
    CHECK(g.r.truncated == SANDBOX_TRUNC_OUT);
    CHECK_STR(g.err, "yyyyy");
    got_free(&g);
}

static void test_cpu_limit(loop_t *loop)
{
    got g;
    sandbox_spec s = {0};
    s.cpu_s = 1;
    s.wall_s = 20;
    run_py(loop, "while True:\n    pass\n", &s, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && (g.r.signal == SIGXCPU || g.r.signal == SIGKILL),
              "status %d signal %d", g.r.status, g.r.signal);
    CHECK_MSG(g.r.cpu_ms > 800 && g.r.cpu_ms < 3000, "cpu_ms %.0f", g.r.cpu_ms);
    CHECK_MSG(g.r.wall_ms < 10000, "wall_ms %.0f", g.r.wall_ms);
    CHECK_MSG(g.r.limit == SANDBOX_LIMIT_CPU, "limit %d", (int)g.r.limit);
    got_free(&g);
    /* a program that ignores SIGXCPU dies of SIGKILL at the hard limit, a
     * second later: still the CPU limit, not a crash */
    run_py(loop, "import signal\nsignal.signal(signal.SIGXCPU, signal.SIG_IGN)\nwhile True:\n    pass\n",
           &s, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && g.r.signal == SIGKILL && g.r.limit == SANDBOX_LIMIT_CPU,
              "status %d signal %d limit %d cpu %.0f ms", g.r.status, g.r.signal, (int)g.r.limit, g.r.cpu_ms);
    got_free(&g);
    /* a SIGKILL of its own with CPU to spare is no CPU limit */
    run_py(loop, "import os\nos.kill(os.getpid(), 9)\n", &s, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && g.r.signal == SIGKILL && g.r.limit == SANDBOX_LIMIT_NONE,
              "status %d signal %d limit %d", g.r.status, g.r.signal, (int)g.r.limit);
    got_free(&g);
}

/* A flood past the cap is killed, and says so; the memory cgroup's OOM
 * kill says so (the program holds memfd pages RLIMIT_AS does not see). */
static void test_limit_labels(loop_t *loop)
{
    got g;
    sandbox_spec s = {0};
    s.out_cap = 1000;
    run_py(loop, "import os\nwhile True:\n    os.write(1, b'x' * 65536)\n", &s, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && g.r.limit == SANDBOX_LIMIT_OUTPUT && g.r.out_len == 1000,
              "status %d limit %d out %zu", g.r.status, (int)g.r.limit, g.r.out_len);
    got_free(&g);
    if (!has_memcg()) {
        printf("skip the memory limit label: no memory cgroup\n");
        return;
    }
    s = (sandbox_spec){0};
    s.mem_bytes = (size_t)64 << 20;
    s.fsize_bytes = (size_t)256 << 20;
    run_py(loop, "import os\nfd = os.memfd_create('m')\nos.posix_fallocate(fd, 0, 256 << 20)\nprint('held')\n",
           &s, &g);
    CHECK_MSG(g.r.status == SANDBOX_SIGNALED && g.r.limit == SANDBOX_LIMIT_MEMORY && g.r.oom_kills >= 1 &&
              g.r.mem_peak >= ((size_t)56 << 20) && g.r.mem_peak <= ((size_t)64 << 20) && !strstr(g.out, "held"),
              "status %d signal %d limit %d oom kills %ld peak %zu out %s err %.200s", g.r.status, g.r.signal,
              (int)g.r.limit, g.r.oom_kills, g.r.mem_peak, g.out, g.err);
    got_free(&g);
}

typedef struct ticker {
    int ticks;
    uint64_t id;                /* the pending timer, cancelled at the end */
} ticker;

static void tick(loop_t *loop, void *ud)
{
    ticker *t = ud;
    t->ticks++;
    t->id = loop_timer_add(loop, 10, tick, t);
}

/* The loop keeps turning while a program sleeps, and the wall clock kills. */
static void test_timeout_does_not_block_loop(loop_t *loop)
{
    ticker t = {0, 0};
    t.id = loop_timer_add(loop, 10, tick, &t);
    got g;
    sandbox_spec s = {0};
    s.wall_s = 0.5;
    run_py(loop, "import time\nprint('start', flush=True)\ntime.sleep(30)\n", &s, &g);
    loop_timer_cancel(loop, t.id);
    CHECK(g.r.status == SANDBOX_TIMEOUT && g.r.limit == SANDBOX_LIMIT_WALL);
    CHECK_STR(g.out, "start\n");
    CHECK_MSG(g.r.wall_ms >= 500 && g.r.wall_ms < 3000, "wall_ms %.0f", g.r.wall_ms);
    CHECK_MSG(t.ticks >= 25, "only %d ticks of 10 ms in a 500 ms run", t.ticks);
    got_free(&g);
}

/* The directory goes even if the program tries to make it unremovable. */
static void test_private_dir_removed(loop_t *loop)
{
    got g;
    run_py(loop,
           "import os\n"
           "os.makedirs('a/b/c')\n"
           "open('a/b/c/f', 'w').write('x')\n"
           "os.chmod('a/b', 0)\n"
           "p = 'd'\n"
           "for i in range(100):\n"
           "    os.mkdir(p); p += '/d'\n"
           "os.chmod('.', 0o500)\n"
           "print('made')\n",
           NULL, &g);
    CHECK_STR(g.out, "made\n");
    CHECK(leftover_dirs() == 0);
    got_free(&g);
}

static void test_concurrent_16(loop_t *loop)
{
    enum { N = 16 };
    got gs[N];
    char progs[N][128];
    sandbox_file files[N];
    memset(gs, 0, sizeof gs);
    char err[256];
    double t0 = loop_now_ms();
    for (int i = 0; i < N; i++) {
        snprintf(progs[i], sizeof progs[i], "import time\ntime.sleep(0.3)\nprint(%d * %d)\n", i, i);
        files[i] = (sandbox_file){"prog.py", progs[i], strlen(progs[i])};
        sandbox_spec s = {0};
        s.argv = py_argv;
        s.files = &files[i];
        s.nfiles = 1;
        CHECK(sandbox_run(loop, &s, on_done, &gs[i], err, sizeof err) == 0);
    }
    CHECK(sandbox_active() == N);
    CHECK(wait_for(loop, gs, N, 60000));
    double ms = loop_now_ms() - t0;
    CHECK(leftover_cgroups() == 0);
    for (int i = 0; i < N; i++) {
        char want[32];
        snprintf(want, sizeof want, "%d\n", i * i);
        CHECK(gs[i].done == 1);
        CHECK(gs[i].r.status == SANDBOX_EXITED && gs[i].r.exit_code == 0);
        CHECK_STR(gs[i].out, want);
        got_free(&gs[i]);
    }
    /* 16 x 0.3 s one after another would take 4.8 s */
    CHECK_MSG(ms < 4000, "16 concurrent runs took %.0f ms", ms);
    printf("16 concurrent runs of a 0.3 s program: %.0f ms\n", ms);
    CHECK(sandbox_active() == 0);
}

static void test_bad_specs(loop_t *loop)
{
    char err[256];
    got g = {0};
    sandbox_spec s = {0};
    CHECK(sandbox_run(loop, &s, on_done, &g, err, sizeof err) == -1);
    CHECK(strstr(err, "argv") != NULL);
    const char *missing[] = {"no-such-program-xyz", NULL};
    s.argv = missing;
    CHECK(sandbox_run(loop, &s, on_done, &g, err, sizeof err) == -1);
    CHECK(strstr(err, "not found") != NULL);
    sandbox_file f = {"../evil.py", "x", 1};
    s.argv = py_argv;
    s.files = &f;
    s.nfiles = 1;
    CHECK(sandbox_run(loop, &s, on_done, &g, err, sizeof err) == -1);
    CHECK(strstr(err, "files[0]") != NULL);
    CHECK(g.done == 0);
    CHECK(sandbox_active() == 0);
    CHECK(leftover_dirs() == 0);
}

/* A callback may start the next run. */
typedef struct chain {
    loop_t *loop;
    int left, finished;
} chain;

static void chain_next(sandbox_result *r, void *ud);

static void chain_start(chain *c)
{
    static const char prog[] = "print('link')\n";
    sandbox_file f = {"prog.py", prog, sizeof prog - 1};
    sandbox_spec s = {0};
    s.argv = py_argv;
    s.files = &f;
    s.nfiles = 1;
    char err[256];
    CHECK_MSG(sandbox_run(c->loop, &s, chain_next, c, err, sizeof err) == 0, "%s", err);
}

static void chain_next(sandbox_result *r, void *ud)
{
    chain *c = ud;
    CHECK(r->status == SANDBOX_EXITED && r->out_len == 5);
    c->finished++;
    if (--c->left > 0)
        chain_start(c);
}

static void test_callback_starts_next(loop_t *loop)
{
    chain c = {loop, 3, 0};
    chain_start(&c);
    double end = loop_now_ms() + 30000;
    while (c.finished < 3 && loop_now_ms() < end)
        loop_run_once(loop, 0);
    CHECK(c.finished == 3);
}

static void test_abort_all(loop_t *loop)
{
    got gs[3];
    memset(gs, 0, sizeof gs);
    static const char prog[] = "import time\ntime.sleep(30)\n";
    sandbox_file f = {"prog.py", prog, sizeof prog - 1};
    sandbox_spec s = {0};
    s.argv = py_argv;
    s.files = &f;
    s.nfiles = 1;
    char err[256];
    for (int i = 0; i < 3; i++)
        CHECK(sandbox_run(loop, &s, on_done, &gs[i], err, sizeof err) == 0);
    loop_run_once(loop, 1);
    double t0 = loop_now_ms();
    sandbox_abort_all();
    CHECK(loop_now_ms() - t0 < 2000);
    CHECK(sandbox_active() == 0);
    CHECK(gs[0].done + gs[1].done + gs[2].done == 0);
    CHECK(leftover_dirs() == 0);
    CHECK(leftover_cgroups() == 0);
    CHECK(loop_pending(loop) == 0);
}

/* No zombie or live child left behind (bwrap's pid 1 included). */
static int child_count(void)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return (int)strspn(buf, " \n") == (int)n ? 0 : 1;
}

int main(void)
{
    loop_t *loop = loop_new();
    test_isolation_named();
    test_print_ok(loop);
    test_exit_code_and_stderr(loop);
    test_crash_is_signaled(loop);
    test_stdin_and_files(loop);
    test_environment_is_clean(loop);
    test_output_cap(loop);
    test_cpu_limit(loop);
    test_limit_labels(loop);
    test_timeout_does_not_block_loop(loop);
    test_private_dir_removed(loop);
    test_concurrent_16(loop);
    test_bad_specs(loop);
    test_callback_starts_next(loop);
    test_abort_all(loop);
    CHECK(sandbox_active() == 0);
    CHECK(leftover_dirs() == 0);
    CHECK_MSG(leftover_cgroups() == 0, "%d cgroups of runs left", leftover_cgroups());
    CHECK(loop_pending(loop) == 0);
    /* bwrap's namespace init can be re-parented to us (subreaper) just after
     * abort_all returns: give stragglers 2 s to die, reaping adopted zombies */
    for (int i = 0; i < 200 && child_count() != 0; i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        usleep(10000);
    }
    CHECK(child_count() == 0);
    loop_free(loop);
    return check_report();
}
