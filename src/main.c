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
#include <sys/stat.h>
#include <unistd.h>

#include "bind/host.h"

static const char usage_text[] =
    "usage: slmmux run RECIPE [options]      run a recipe (a Lua file)\n"
    "       slmmux store stats|export|import [options]\n"
    "                                        inspect, export or import the sample store\n"
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
    "  -v, --verbose      trace HTTP (credentials redacted); an error shows its Lua traceback\n";

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "slmmux: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
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
        } else if (!strcmp(a, "--out") || !strcmp(a, "--store")) {
            if (!v)
                return usage("--out and --store take a path");
            lua_pushstring(L, v);
            lua_setfield(L, -3, a + 2);
            i++;
        } else if (!strcmp(a, "--shuffle") || !strcmp(a, "--offline")) {
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

static int run(lua_State *L, const char *home, const char *script, int builtin)
{
    char path[PATH_MAX + 64];
    if (builtin)
        snprintf(path, sizeof path, "%s/lua/slmmux/%s.lua", home, script);
    else
        snprintf(path, sizeof path, "%s", script);
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
    if (luaL_loadfile(L, path) != LUA_OK) {
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -1));
        return 1;
    }
    if (host_run_main(L, 0) != 0) {
        /* a recipe's or a configuration's mistake is one line; where in the
         * Lua code it happened is for -v */
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -2));
        const char *traceback = lua_tostring(L, -1);
        if (verbose && traceback && *traceback)
            fprintf(stderr, "%s\n", traceback);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(NULL);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("slmmux %s (%s)\n", SLMMUX_VERSION, LUA_RELEASE);
        return 0;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return 0;
    }
    int is_run = !strcmp(argv[1], "run"), is_store = !strcmp(argv[1], "store");
    int is_compare = !strcmp(argv[1], "compare");
    if (!is_run && !is_store && !is_compare) {
        char msg[256];
        snprintf(msg, sizeof msg, "unknown command '%s'", argv[1]);
        return usage(msg);
    }
    if (is_run && argc < 3)
        return usage("run needs a recipe file");
    char home[PATH_MAX];
    if (find_home(home, sizeof home) != 0) {
        fprintf(stderr, "slmmux: cannot find the Lua library (set SLMMUX_HOME to the directory "
                        "holding lua/slmmux)\n");
        return 1;
    }
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "slmmux: out of memory\n");
        return 1;
    }
    *(void **)lua_getextraspace(L) = NULL;  /* new threads copy it: non-tasks */
    luaL_openlibs(L);
    set_paths(L, home);
    if (host_open(L, home) != 0) {
        fprintf(stderr, "slmmux: %s\n", lua_tostring(L, -1));
        lua_close(L);
        return 1;
    }
    int rc = parse_run_args(L, argc, argv, is_run ? 3 : 2);
    if (rc == 0)
        rc = run(L, home, is_run ? argv[2] : is_store ? "store_cli" : "compare_cli", !is_run);
    host_close(L);
    lua_close(L);
    return rc;
}
