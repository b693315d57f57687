/* The fail triple every binding returns (see lrtc.h). In its own file because it needs
 * only Lua and core/rtc_errors: the JSON fuzz target links it without the runtime. */
#include "lua/lrtc.h"
#include <stdarg.h>
#include <stdio.h>

int lrtc_push_error(lua_State *L, int err, const char *fmt, ...)
{
    const char *dom = rtc_err_domname(err);
    lua_pushnil(L);
    if (fmt) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        lua_pushfstring(L, "%s: %s", dom, msg);
    } else {
        lua_pushfstring(L, "%s: %s", dom, rtc_strerror(err));
    }
    lua_pushstring(L, dom);
    return 3;
}
