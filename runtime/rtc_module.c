/* Entry point of the Lua C module `rtc.core` for stock lua5.4 (require "rtc" loads
 * lua/rtc/init.lua, which requires this). The executable preloads the same opener. */
#include "lua/lrtc.h"

LUALIB_API int luaopen_rtc_core(lua_State *L) { return lrtc_open_core(L); }
