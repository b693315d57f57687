/* Name resolution: core.resolve(host, fn) runs uv_getaddrinfo on the thread pool and
 * calls fn({addr, ...}) with numeric addresses (IPv6 and IPv4, resolver order, no
 * duplicates) or fn(nil, "NotFoundError: ..."). */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include <stdlib.h>
#include <string.h>

typedef struct lresolve { uv_getaddrinfo_t req; lrtc_state *S; int ref; } lresolve;

static void resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    lresolve *r = req->data;
    lrtc_state *S = r->S;
    if (!lrtc_closing(S)) {
        lua_State *L = lrtc_main_thread(S);
        lrtc_push_unref(L, &r->ref);
        if (status < 0) {
            lua_pushnil(L);
            lrtc_push_uv_errstr(L, status, "resolve");
            lrtc_call(L, 2);
        } else {
            lua_newtable(L);
            int n = 0;
            for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                rtc_addr a;
                char ip[RTC_ADDR_STRLEN];
                if (rtc_addr_from_sockaddr(&a, ai->ai_addr) < 0) continue;
                rtc_addr_ip_str(&a, ip, sizeof ip);
                int dup = 0;
                for (int i = 1; i <= n && !dup; i++) {
                    lua_rawgeti(L, -1, i);
                    dup = strcmp(lua_tostring(L, -1), ip) == 0;
                    lua_pop(L, 1);
                }
                if (dup) continue;
                lua_pushstring(L, ip);
                lua_rawseti(L, -2, ++n);
            }
            lrtc_call(L, 1);
        }
    }
    uv_freeaddrinfo(res);
    free(r);
}

static int l_resolve(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    if (!lrtc_is_callable(L, 2)) return luaL_typeerror(L, 2, "function");
    lrtc_state *S = lrtc_state_get(L);
    lresolve *r = calloc(1, sizeof *r);
    if (!r) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    r->S = S;
    r->req.data = r;
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;      /* one entry per address, not per socket type */
    int e = uv_getaddrinfo(lrtc_uv_loop(S), &r->req, resolved, host, NULL, &hints);
    if (e < 0) { free(r); return lrtc_push_uv_error(L, e, "resolve"); }
    r->ref = lrtc_ref_callback(L, 2);
    lua_pushboolean(L, 1);
    return 1;
}

void lrtc__open_dns(lua_State *L)
{
    lua_pushcfunction(L, l_resolve);
    lua_setfield(L, -2, "resolve");
}
