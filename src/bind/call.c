/* call: the lifetime of what a binding holds — parked calls and scratch
 * boxes, each a userdata the collector frees if the binding raises. */
#include <stdlib.h>
#include <string.h>

#include "bind/bind.h"

#define CALL_BOX_MT "slmmux.box"

static int call_gc(lua_State *L)
{
    call_end(lua_touserdata(L, 1));
    return 0;
}

void call_register(lua_State *L, const call_class *cls)
{
    if (luaL_newmetatable(L, cls->name)) {
        lua_pushcfunction(L, call_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
}

void *call_new(lua_State *L, const call_class *cls, size_t size, task_t *t)
{
    call_t *c = lua_newuserdatauv(L, size, 0);
    memset(c, 0, size);
    c->cls = cls;
    c->h = host_get();
    c->t = t;
    luaL_setmetatable(L, cls->name);
    return c;
}

int call_park(lua_State *L, call_t *c, lua_KFunction k)
{
    host_t *h = c->h;
    c->prev = NULL;
    c->next = h->parked;
    if (h->parked)
        h->parked->prev = c;
    h->parked = c;
    c->parked = 1;
    return task_park(L, c->t, (lua_KContext)c, k);
}

static void call_unpark(call_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        c->h->parked = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    c->parked = 0;
}

void call_end(call_t *c)
{
    if (c->parked) {
        call_unpark(c);
        c->cls->cancel(c);
    }
    if (!c->released) {
        c->released = 1;
        c->cls->release(c);
    }
}

void call_cancel_all(host_t *h)
{
    while (h->parked) {
        call_t *c = h->parked;
        call_unpark(c);
        c->cls->cancel(c);
    }
}

static int call_box_gc(lua_State *L)
{
    void **box = lua_touserdata(L, 1);
    free(*box);
    *box = NULL;
    return 0;
}

void **call_box(lua_State *L)
{
    void **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    if (luaL_newmetatable(L, CALL_BOX_MT)) {
        lua_pushcfunction(L, call_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    return box;
}
