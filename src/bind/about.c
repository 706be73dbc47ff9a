/* about: what a run's manifest records that only C can see — the versions
 * of the libraries this binary runs with and the machine it runs on — and
 * the SHA-256 of a file read in pieces (data files reach megabytes; reading
 * one whole into Lua to hash it would double its memory for nothing).
 *
 *   core.about() -> {lua, libcurl, sqlite, pcre2, openssl,
 *                    host = {name, system, release, machine}}
 *   core.file_sha256(path) -> hex, bytes | nil, message */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>

#include "bind/bind.h"
#include "store/sha256.h"

static void about_field(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void about_host(lua_State *L)
{
    struct utsname u;
    lua_createtable(L, 0, 4);
    if (uname(&u) == 0) {
        about_field(L, "name", u.nodename);
        about_field(L, "system", u.sysname);
        about_field(L, "release", u.release);
        about_field(L, "machine", u.machine);
    }
    lua_setfield(L, -2, "host");
}

static int about_l_about(lua_State *L)
{
    lua_createtable(L, 0, 6);
    about_field(L, "lua", LUA_RELEASE);    /* the headers'; liblua reports no finer version */
    about_field(L, "libcurl", curl_version_info(CURLVERSION_NOW)->version);
    about_field(L, "sqlite", sqlite3_libversion());
    about_field(L, "openssl", OpenSSL_version(OPENSSL_VERSION));
    char pcre[64] = "";
    if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) > 0)
        about_field(L, "pcre2", pcre);
    about_host(L);
    return 1;
}

static int about_l_file_sha256(lua_State *L)
{
    const char *path = check_string(L, 1, "mux.file_sha256", "path", NULL);
    FILE *f = fopen(path, "rb");
    if (!f) {
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    sha256_ctx c;
    sha256_init(&c);
    unsigned char chunk[1 << 16];
    size_t n;
    lua_Integer bytes = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sha256_update(&c, chunk, n);
        bytes += (lua_Integer)n;
    }
    int failed = ferror(f);
    fclose(f);
    uint8_t digest[32];
    sha256_final(&c, digest);
    if (failed) {
        luaL_pushfail(L);
        lua_pushfstring(L, "%s: read error", path);
        return 2;
    }
    char hex[65];
    sha256_hex(digest, hex);
    lua_pushstring(L, hex);
    lua_pushinteger(L, bytes);
    return 2;
}

void about_register(lua_State *L)
{
    lua_pushcfunction(L, about_l_about);
    lua_setfield(L, -2, "about");
    lua_pushcfunction(L, about_l_file_sha256);
    lua_setfield(L, -2, "file_sha256");
}
