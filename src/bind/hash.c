/* hash: the simulator's draws, core.hash64(...) -> a 64-bit integer.
 *
 * FNV-1a over the bytes of each argument as tostring() spells it, each
 * followed by 0xff, then the splitmix64 finalizer. The simulator derives
 * every sample from such a hash of what it is about (lua/slmmux/sim/hash.lua);
 * it hashes whole conversations, which in Lua cost nine tenths of a
 * simulated debate's time. The same function as the Lua loop it replaces,
 * bit for bit, so simulated runs keep their answers (test_sim.lua). */
#include <stdint.h>

#include <lauxlib.h>

#include "bind/bind.h"

static int hash_l_hash64(lua_State *L)
{
    uint64_t h = 0xcbf29ce484222325u;
    int n = lua_gettop(L);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const unsigned char *s = (const unsigned char *)luaL_tolstring(L, i, &len);
        for (size_t j = 0; j < len; j++)
            h = (h ^ s[j]) * 0x100000001b3u;
        h = (h ^ 0xffu) * 0x100000001b3u;
        lua_pop(L, 1);
    }
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    lua_pushinteger(L, (lua_Integer)(h ^ (h >> 31)));
    return 1;
}

void hash_register(lua_State *L)
{
    lua_pushcfunction(L, hash_l_hash64);
    lua_setfield(L, -2, "hash64");
}
