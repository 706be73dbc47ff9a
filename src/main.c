/* main: the slmmux command line. Parses flags into the table mux.cli, points
 * package.path at the Lua library, and runs a recipe (or a built-in tool
 * written in Lua) as the first task of the event loop. */
#include <errno.h>
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind/host.h"

static const char usage_text[] =
    "usage: slmmux run RECIPE [options]      run a recipe: a Lua file, or the name of an\n"
    "                                        installed one (slmmux run math)\n"
    "       slmmux recipes                   list the installed recipes\n"
    "       slmmux store stats|export|import|import-batch|verify [FILE...] [--store PATH]\n"
    "                                        inspect, export, import or check the sample store\n"
    "       slmmux compare RUN_A RUN_B... [--out DIR] [--seed N]\n"
    "                                        paired comparison of runs on their shared problems\n"
    "       slmmux --version | help\n"
    "\n"
    "options of run:\n"
    "  -s KEY=VALUE       override a recipe field (models=a,b samples=5 backend=sim ...)\n"
    "  --limit N          only the first N problems\n"
    "  --shuffle          shuffle the problems (with --seed)\n"
    "  --seed N           seed for --shuffle, sampling and the simulator\n"
    "  --out DIR          run directory (default runs/<task>-<policy>-<time>)\n"
    "  --concurrency N    requests in flight (default: each endpoint's, printed at the start)\n"
    "  --store PATH       sample store (default .slmmux/store.sqlite)\n"
    "  --no-store         do not read or write the sample store\n"
    "  --offline          never touch the network; a missing sample is an error\n"
    "  --max-errors SHARE fail (exit 1) when more than this share of problems fail (default 0.1)\n"
    "  --shard I/N        only the I-th of N shares of the problems (1 <= I <= N, by problem id)\n"
    "  --batch-out FILE   request nothing: write every missing sample as a batch API request\n"
    "                     line to FILE ({model} in FILE: a file per model); then slmmux store\n"
    "                     import-batch OUTPUT... and run the same command again\n"
    "  --quiet            no progress line and no table\n"
    "  --progress-every S seconds between progress lines when stderr is not a terminal (30)\n"
    "  -v, --verbose      trace HTTP (credentials redacted); an error shows its Lua traceback\n"
    "\n"
    "signals: the first SIGINT or SIGTERM stops new requests, waits up to 10 s for those in\n"
    "flight, commits every sample received, writes summary.json marked \"interrupted\" and\n"
    "exits; a second one exits at once (the samples received are still committed). The same\n"
    "command with the same --out DIR finishes the run: the problems in DIR/results.jsonl are\n"
    "kept and stored samples are not requested again.\n"
    "\n"
    "exit status:\n"
    "  0    success\n"
    "  1    runtime failure: a recipe error, a failed write or store commit, or too many\n"
    "       failed problems (all of them, or more than the --max-errors share)\n"
    "  2    usage: unknown option or command, malformed flag or -s setting, no such recipe\n"
    "  3    configuration: an endpoint, key variable or config file is wrong\n"
    "  130  interrupted by SIGINT, 143 by SIGTERM (128 + the signal's number)\n";

/* The exit statuses of usage_text. */
enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2, EXIT_CONFIG = 3, EXIT_SIGNAL_BASE = 128 };

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "slmmux: %s\n", why);
    fputs(usage_text, stderr);
    return EXIT_USAGE;
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* The Lua library: $SLMMUX_HOME/lua, else lua/ beside the binary (a build
 * tree), else ../share/slmmux/lua (after make install). */
static int find_home(char *home, size_t n)
{
    char probe[PATH_MAX + 64];
    const char *env = getenv("SLMMUX_HOME");
    if (env && *env) {
        snprintf(home, n, "%s", env);
        return 0;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    snprintf(probe, sizeof probe, "%s/lua/slmmux/init.lua", exe);
    if (file_exists(probe))
        return snprintf(home, n, "%s", exe) < (int)n ? 0 : -1;
    snprintf(probe, sizeof probe, "%s/../share/slmmux/lua/slmmux/init.lua", exe);
    if (file_exists(probe))
        return snprintf(home, n, "%s/../share/slmmux", exe) < (int)n ? 0 : -1;
    return -1;
}

static void set_paths(lua_State *L, const char *home)
{
    lua_getglobal(L, "package");
    lua_pushfstring(L, "%s/lua/?.lua;%s/lua/?/init.lua;", home, home);
    lua_getfield(L, -2, "path");
    lua_concat(L, 2);
    lua_setfield(L, -2, "path");
    lua_pop(L, 1);
}

static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* --shard I/N into cli.shard = {index = I, count = N}. */
static int parse_shard(lua_State *L, const char *v)
{
    int i, n, used = 0;
    if (!v || sscanf(v, "%d/%d%n", &i, &n, &used) != 2 || v[used] || n < 1 || i < 1 || i > n)
        return -1;
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, i);
    lua_setfield(L, -2, "index");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "count");
    lua_setfield(L, -3, "shard");
    return 0;
}

static int parse_count(const char *s, lua_Integer *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Builds mux.cli from argv[2..]; returns 0 or an exit code after usage. */
static int parse_run_args(lua_State *L, int argc, char **argv, int first)
{
    lua_newtable(L);            /* cli */
    lua_newtable(L);            /* overrides */
    int rest = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        lua_Integer num;
        if (!strcmp(a, "-s")) {
            const char *eq = v ? strchr(v, '=') : NULL;
            if (!eq || eq == v)
                return usage("-s takes KEY=VALUE");
            lua_pushlstring(L, v, (size_t)(eq - v));
            lua_pushstring(L, eq + 1);
            lua_settable(L, -3);
            i++;
        } else if (!strcmp(a, "--limit") || !strcmp(a, "--seed") || !strcmp(a, "--concurrency")) {
            if (!v || parse_count(v, &num) < 0 || (strcmp(a, "--seed") && num < 1))
                return usage("--limit, --seed and --concurrency take a whole number");
            lua_pushinteger(L, num);
            lua_setfield(L, -3, a + 2);
            i++;
        } else if (!strcmp(a, "--out") || !strcmp(a, "--store") || !strcmp(a, "--batch-out")) {
            if (!v)
                return usage("--out, --store and --batch-out take a path");
            lua_pushstring(L, v);
            lua_setfield(L, -3, !strcmp(a, "--batch-out") ? "batch_out" : a + 2);
            i++;
        } else if (!strcmp(a, "--max-errors") || !strcmp(a, "--progress-every")) {
            int share = !strcmp(a, "--max-errors");
            double x;
            if (!v || parse_number(v, share ? 0 : 0.01, share ? 1 : 1e6, &x) < 0)
                return usage(share ? "--max-errors takes a share from 0 to 1 (0.1 = 10%)"
                                   : "--progress-every takes a number of seconds");
            lua_pushnumber(L, x);
            lua_setfield(L, -3, share ? "max_errors" : "progress_every");
            i++;
        } else if (!strcmp(a, "--shard")) {
            if (parse_shard(L, v) < 0)
                return usage("--shard takes I/N with 1 <= I <= N (e.g. --shard 2/4)");
            i++;
        } else if (!strcmp(a, "--shuffle") || !strcmp(a, "--offline") || !strcmp(a, "--quiet")) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -3, a + 2);
        } else if (!strcmp(a, "--no-store")) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -3, "no_store");
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            lua_pushboolean(L, 1);
            lua_setfield(L, -3, "verbose");
        } else if (a[0] == '-' && a[1]) {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown option '%s'", a);
            return usage(msg);
        } else {
            /* positional words after the recipe go to the recipe (store tool) */
            lua_getfield(L, -2, "args");
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                lua_newtable(L);
                lua_pushvalue(L, -1);
                lua_setfield(L, -4, "args");
            }
            lua_pushstring(L, a);
            lua_rawseti(L, -2, ++rest);
            lua_pop(L, 1);
        }
    }
    lua_setfield(L, -2, "overrides");
    return 0;
}

/* A recipe named without a path (slmmux run math) is that name plus .lua in
 * home's recipes folder: the source tree's recipes, or the installed ones. A file of that name in
 * the working directory comes first. */
static int recipe_path(const char *home, const char *script, char *path, size_t n)
{
    if (strchr(script, '/') || file_exists(script))
        return snprintf(path, n, "%s", script) < (int)n ? 0 : -1;
    size_t len = strlen(script);
    const char *ext = len > 4 && !strcmp(script + len - 4, ".lua") ? "" : ".lua";
    if (snprintf(path, n, "%s/recipes/%s%s", home, script, ext) >= (int)n)
        return -1;
    if (file_exists(path))
        return 0;
    snprintf(path, n, "%s", script);    /* loadfile names the missing file */
    return 0;
}

static int run(lua_State *L, const char *home, const char *script, int builtin)
{
    char path[PATH_MAX + 64];
    if (builtin)
        snprintf(path, sizeof path, "%s/lua/slmmux/%s.lua", home, script);
    else if (recipe_path(home, script, path, sizeof path) != 0)
        return usage("recipe path too long");
    lua_pushstring(L, builtin ? script : path);
    lua_setfield(L, -2, "recipe");
    lua_pushstring(L, home);
    lua_setfield(L, -2, "home");
    lua_getfield(L, -1, "verbose");
    int verbose = lua_toboolean(L, -1);
    lua_pop(L, 1);
    /* package.loaded["slmmux.cli"] = cli, read by require "slmmux" */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "slmmux.cli");
    lua_pop(L, 2);
    int loaded = luaL_loadfile(L, path);
    if (loaded == LUA_ERRFILE && !builtin && !strchr(script, '/') && !file_exists(path)) {
        fprintf(stderr, "slmmux: no recipe file or installed recipe named '%s' (slmmux recipes lists "
                "them)\n", script);
        return EXIT_USAGE;
    }
    if (loaded != LUA_OK) {
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -1));
        return loaded == LUA_ERRFILE ? EXIT_USAGE : EXIT_RUNTIME;
    }
    int rc = 0;
    if (host_run_main(L, 0) != 0) {
        /* a recipe's or a configuration's mistake is one line; where in the
         * Lua code it happened is for -v */
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -3));
        const char *traceback = lua_tostring(L, -2);
        if (verbose && traceback && *traceback)
            fprintf(stderr, "%s\n", traceback);
        const char *kind = lua_tostring(L, -1);
        rc = !kind ? EXIT_RUNTIME : !strcmp(kind, "usage") ? EXIT_USAGE
           : !strcmp(kind, "config") ? EXIT_CONFIG : EXIT_RUNTIME;
    }
    /* an interrupted run is incomplete, whether or not the recipe noticed */
    if (host_interrupted())
        rc = EXIT_SIGNAL_BASE + host_interrupted();
    return rc;
}

/* The process holds API keys (in the environment and in request headers):
 * no core file may be written, and a non-dumpable process also keeps other
 * users' ptrace and /proc/PID/mem away from them. */
static void harden(void)
{
    struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) != 0)
        perror("slmmux: setrlimit(RLIMIT_CORE)");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
        perror("slmmux: prctl(PR_SET_DUMPABLE)");
}

int main(int argc, char **argv)
{
    harden();
    if (argc < 2)
        return usage(NULL);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("slmmux %s (%s)\n", SLMMUX_VERSION, LUA_RELEASE);
        return 0;
    }
    /* help: the usage, then what the Lua library registers (policies, tasks,
     * settings), which only the library knows */
    int is_help = !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
    if (is_help) {
        fputs(usage_text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    int is_run = !strcmp(argv[1], "run"), is_store = !strcmp(argv[1], "store");
    int is_recipes = !strcmp(argv[1], "recipes"), is_compare = !strcmp(argv[1], "compare");
    if (!is_run && !is_store && !is_recipes && !is_compare && !is_help) {
        char msg[256];
        snprintf(msg, sizeof msg, "unknown command '%s'", argv[1]);
        return usage(msg);
    }
    if (is_run && argc < 3)
        return usage("run needs a recipe file");
    char home[PATH_MAX];
    if (find_home(home, sizeof home) != 0) {
        if (is_help)
            return 0;
        fprintf(stderr, "slmmux: cannot find the Lua library (set SLMMUX_HOME to the directory "
                        "holding lua/slmmux)\n");
        return EXIT_CONFIG;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "slmmux: out of memory\n");
        return EXIT_RUNTIME;
    }
    *(void **)lua_getextraspace(L) = NULL;  /* new threads copy it: non-tasks */
    luaL_openlibs(L);
    set_paths(L, home);
    if (host_open(L, home) != 0) {
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return EXIT_RUNTIME;
    }
    int rc = parse_run_args(L, argc, argv, is_run ? 3 : 2);
    if (rc == 0)
        rc = run(L, home, is_run ? argv[2] : is_store ? "store_cli" : is_compare ? "compare_cli"
                          : is_help ? "help" : "recipes", !is_run);
    host_close(L);
    lua_close(L);
    return rc;
}
