/* bwrap: bubblewrap's command line. The program sees a read-only /usr and
 * the top-level links into it (/bin, /lib, ... as this machine has them), a
 * fresh /proc and /dev, and one writable place: a size-capped tmpfs at
 * /sandbox holding its input files read-only. Each protection that
 * mutation.sh can remove is one flag here, behind its KEEP(). */
#include "sandbox/internal.h"

#include <stdio.h>
#include <string.h>

void bwrap_argv(exec_args *a, const char *top, const sandbox_file *files, int nfiles,
                size_t disk, int block, const char *exe, const char *const *argv)
{
    exec_args_add(a, sandbox_host.bwrap);
    exec_args_add(a, "--unshare-user");
    exec_args_add(a, "--unshare-ipc");
    if (KEEP(W_REAP))
        exec_args_add(a, "--unshare-pid");
    if (KEEP(W_NET))
        exec_args_add(a, "--unshare-net");
    exec_args_add(a, "--unshare-uts");
    exec_args_add(a, "--unshare-cgroup-try");
    if (sandbox_host.disable_userns)
        exec_args_add(a, "--disable-userns");
    if (KEEP(W_REAP))
        exec_args_add(a, "--die-with-parent");
    exec_args_add(a, "--new-session");     /* no TIOCSTI into a terminal we might share */
    if (KEEP(W_ENV)) {
        exec_args_add(a, "--clearenv");
        exec_args env = {0};
        exec_env(&env, BOX);
        for (int i = 0; i < env.n; i++) {
            char *eq = strchr(env.v[i], '=');
            *eq = 0;
            exec_args_add(a, "--setenv");
            exec_args_add(a, env.v[i]);
            exec_args_add(a, eq + 1);
        }
        a->oom |= env.oom;
        exec_args_free(&env);
    }
    exec_args_add(a, "--hostname");
    exec_args_add(a, "sandbox");
    exec_args_add(a, "--ro-bind");
    exec_args_add(a, "/usr");
    exec_args_add(a, "/usr");
    for (int i = 0; i < sandbox_host.ntop; i++) {
        if (sandbox_host.top[i][1][0]) {
            exec_args_add(a, "--symlink");
            exec_args_add(a, sandbox_host.top[i][1]);
        } else {
            exec_args_add(a, "--ro-bind");
            exec_args_add(a, sandbox_host.top[i][0]);
        }
        exec_args_add(a, sandbox_host.top[i][0]);
    }
    static const char *const etc[] = {"/etc/ld.so.cache", "/etc/localtime"};
    for (size_t i = 0; i < sizeof etc / sizeof etc[0]; i++) {
        exec_args_add(a, "--ro-bind-try");
        exec_args_add(a, etc[i]);
        exec_args_add(a, etc[i]);
    }
    exec_args_add(a, "--proc");
    exec_args_add(a, "/proc");
    exec_args_add(a, "--dev");
    exec_args_add(a, "/dev");
    /* the only writable place: memory, capped (no disk to fill, nothing to
     * clean up), with the inputs bound read-only into it */
    exec_args_add(a, "--size");
    exec_args_addf(a, "%zu", disk);
    exec_args_add(a, "--tmpfs");
    exec_args_add(a, BOX);
    for (int i = 0; i < nfiles; i++) {
        exec_args_add(a, "--ro-bind");
        exec_args_addf(a, "%s/box/%s", top, files[i].name);
        exec_args_addf(a, BOX "/%s", files[i].name);
    }
    exec_args_add(a, "--chdir");
    exec_args_add(a, BOX);
    exec_args_add(a, "--remount-ro");
    exec_args_add(a, "/dev");
    exec_args_add(a, "--remount-ro");
    exec_args_add(a, "/");
    exec_args_add(a, "--json-status-fd");
    exec_args_add(a, "3");
    if (block) {
        exec_args_add(a, "--block-fd");
        exec_args_add(a, "4");
    }
    exec_args_add(a, "--");
    exec_args_add(a, exe);
    for (int i = 1; argv[i]; i++)
        exec_args_add(a, argv[i]);
}


/* Under bwrap only /usr and the top-level links into it exist; refusing
 * anything else here keeps "bwrap could not exec it" (exit 1, after the
 * program counted as started) from passing for the program's own exit 1. */
int bwrap_exe_visible(const char *exe)
{
    if (!strncmp(exe, "/usr/", 5))
        return 1;
    for (int i = 0; i < sandbox_host.ntop; i++) {
        size_t l = strlen(sandbox_host.top[i][0]);
        if (!strncmp(exe, sandbox_host.top[i][0], l) && exe[l] == '/')
            return 1;
    }
    return 0;
}
