/* panel: mux.vote.panel, the Lua face of answers/replay.h. vote.c's
 * register function adds it to mux.vote. */
#ifndef SLMMUX_BIND_PANEL_H
#define SLMMUX_BIND_PANEL_H
#include <lua.h>

/* Sets field "panel" of the table on top of the stack. */
void lpanel_register(lua_State *L);

#endif
