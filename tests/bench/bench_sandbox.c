/* bench_sandbox: sandboxed runs per second of a trivial passing program
 * (print("ok")), one at a time and 8 at a time, against plain starts of
 * /usr/bin/python3 -c 'print(1)' (posix_spawn + waitpid, no sandbox), and
 * what the per-run cgroup costs the host (made with its limits, then
 * removed). Each figure is the median of 3 rounds. Built and run by
 * bench_sandbox.sh. */
#include "base/loop.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* a slot no run of this process uses (runs use 0..255) */
#define MAX_BENCH_SLOT 999

static const char *py_argv[] = {"python3", "-I", "prog.py", NULL};
static const char prog[] = "print(\"ok\")\n";
static int started, finished, bad;
static loop_t *loop;

static void start_one(void);

static void on_done(sandbox_result *r, void *ud)
{
    (void)ud;
    finished++;
    if (r->status != SANDBOX_EXITED || r->exit_code != 0 || r->out_len != 3 || memcmp(r->out, "ok\n", 3))
        bad++;
}

static void start_one(void)
{
    sandbox_file f = {"prog.py", prog, sizeof prog - 1};
    sandbox_spec s = {0};
    s.argv = py_argv;
    s.files = &f;
    s.nfiles = 1;
    char err[256];
    if (sandbox_run(loop, &s, on_done, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "sandbox_run: %s\n", err);
        exit(1);
    }
    started++;
}

/* n runs with at most width in flight; runs per second. */
static double sandboxed(int n, int width)
{
    started = finished = 0;
    double t0 = loop_now_ms();
    while (finished < n) {
        while (started < n && started - finished < width)
            start_one();
        loop_run_once(loop, 0);
    }
    return n / ((loop_now_ms() - t0) / 1e3);
}

static double plain(int n)
{
    char *argv[] = {"python3", "-c", "print(1)", NULL};
    double t0 = loop_now_ms();
    for (int i = 0; i < n; i++) {
        pid_t pid;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1 /* O_WRONLY */, 0);
        if (posix_spawn(&pid, "/usr/bin/python3", &fa, NULL, argv, environ) != 0) {
            perror("posix_spawn");
            exit(1);
        }
        posix_spawn_file_actions_destroy(&fa);
        int st;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            bad++;
    }
    return n / ((loop_now_ms() - t0) / 1e3);
}

/* ms per cgroup made with its limits and removed; 0 when there is none */
static double cgroups(int n)
{
    if (!sandbox_host.cg.base[CG_MEM][0] && !sandbox_host.cg.base[CG_PIDS][0])
        return 0;
    double t0 = loop_now_ms();
    for (int i = 0; i < n; i++) {
        cgroup_run c;
        char err[200];
        if (cgroup_create(&c, MAX_BENCH_SLOT, (size_t)1 << 30, 18, err, sizeof err) < 0) {
            fprintf(stderr, "%s\n", err);
            exit(1);
        }
        cgroup_close_procs(&c);
        if (cgroup_remove(&c) < 0)
            bad++;
    }
    return (loop_now_ms() - t0) / n;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median3(double a, double b, double c)
{
    double v[3] = {a, b, c};
    qsort(v, 3, sizeof v[0], cmp);
    return v[1];
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 40;
    loop = loop_new();
    printf("isolation: %s\n", sandbox_isolation());
    sandboxed(4, 1);    /* warm the page cache */
    double p[3], s1[3], s8[3], cg[3];
    for (int i = 0; i < 3; i++) {
        p[i] = plain(n);
        s1[i] = sandboxed(n, 1);
        s8[i] = sandboxed(2 * n, 8);
        cg[i] = cgroups(5 * n);
    }
    double mp = median3(p[0], p[1], p[2]), m1 = median3(s1[0], s1[1], s1[2]),
           m8 = median3(s8[0], s8[1], s8[2]);
    printf("plain python3 -c 'print(1)', sequential: %7.1f starts/s (%.1f ms each)\n", mp, 1e3 / mp);
    printf("sandboxed print(\"ok\"), sequential:       %7.1f runs/s   (%.1f ms each, +%.1f ms over plain)\n",
           m1, 1e3 / m1, 1e3 / m1 - 1e3 / mp);
    printf("sandboxed print(\"ok\"), 8 concurrent:     %7.1f runs/s\n", m8);
    double mc = median3(cg[0], cg[1], cg[2]);
    if (mc > 0)
        printf("the run's cgroups (%s), made and removed:    %7.2f ms of the host's time per run\n",
               sandbox_host.cg.v2[CG_MEM] || sandbox_host.cg.v2[CG_PIDS] ? "v2" : "v1", mc);
    else
        printf("no per-run cgroup on this machine\n");
    printf("rounds of %d (sequential) and %d (concurrent); median of 3; %d bad results; %ld CPUs\n",
           n, 2 * n, bad, sysconf(_SC_NPROCESSORS_ONLN));
    loop_free(loop);
    return bad ? 1 : 0;
}
