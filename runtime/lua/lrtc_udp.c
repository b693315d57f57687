/* UDP sockets for scripts: core.udp_bind{host=, port=, reuseaddr=, ipv6only=, sndbuf=, rcvbuf=} ->
 * rtc.udp. Built on io/rtc_udp (batched send, RECVMMSG receive). Events:
 * "message"(data, host, port) and "close"(). A socket stays alive until closed. */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include "io/rtc_udp.h"
#include <stdlib.h>

enum { EV_MESSAGE, EV_CLOSE };
static const char *const udp_events[] = { "message", "close", NULL };

typedef struct ludp {
    lrtc_link link;
    rtc_udp *u;
} ludp;

static void udp_closed(rtc_udp *u, void *ud)
{
    (void)u;
    ludp *s = ud;
    if (s->link.owner && !lrtc_closing(s->link.S)) lrtc_obj_finish(lrtc_main_thread(s->link.S), s->link.owner);
    free(s);
}

static void lu_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    ludp *s = o->ptr;
    rtc_udp_close(s->u, udp_closed);
}

static const lrtc_class udp_class = { "rtc.udp", udp_events, EV_CLOSE, lu_close };

static void on_recv(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    (void)u;
    ludp *s = ud;
    lrtc_obj *o = s->link.owner;
    if (!o || o->closed || lrtc_closing(s->link.S)) return;
    lua_State *L = lrtc_main_thread(s->link.S);
    if (!lrtc_obj_push_cb(L, o, EV_MESSAGE)) return;
    lua_pushlstring(L, (const char *)data, len);
    lrtc_push_addr(L, from);
    lrtc_call(L, 3);
}

/* core.udp_bind(opts) */
static int l_udp_bind(lua_State *L)
{
    rtc_addr local;
    rtc_udp_opts opts = {0};
    luaL_checktype(L, 1, LUA_TTABLE);
    lrtc_check_hostport(L, 1, &local, "0.0.0.0");
    lua_getfield(L, 1, "reuseaddr");
    opts.reuseaddr = lua_toboolean(L, -1);
    lua_getfield(L, 1, "ipv6only");
    opts.ipv6only = lua_toboolean(L, -1);
    lua_getfield(L, 1, "sndbuf");
    opts.sndbuf = (int)luaL_optinteger(L, -1, 0);
    lua_getfield(L, 1, "rcvbuf");
    opts.rcvbuf = (int)luaL_optinteger(L, -1, 0);
    lua_pop(L, 4);
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &udp_class, sizeof(lrtc_obj), NULL);
    ludp *s = calloc(1, sizeof *s);
    if (!s) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    int r = rtc_udp_new(&s->u, lrtc_get_loop(S), &local, &opts, on_recv, s);
    if (r < 0) {
        free(s);
        char a[RTC_ADDR_STRLEN];
        return lrtc_push_error(L, r == RTC_EACCESS ? RTC_EIO : r, "cannot bind UDP %s: %s",
                               rtc_addr_str(&local, a, sizeof a),
                               r == RTC_EACCESS ? "address in use or not available" : rtc_strerror(r));
    }
    lrtc_obj_open(L, o, -1, s);
    return 1;
}

/* sock:send(data, host, port) -> true | nil, err */
static int udp_send(lua_State *L)
{
    ludp *s = lrtc_obj_check(L, 1, &udp_class)->ptr;
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    rtc_addr to;
    luaL_checkstring(L, 3);
    luaL_checkinteger(L, 4);
    lrtc_check_hostport(L, 3, &to, NULL);
    if (rtc_addr_port(&to) == 0) return luaL_argerror(L, 4, "port must be 1-65535");
    int r = rtc_udp_send(s->u, &to, data, len);
    if (r < 0) return lrtc_push_error(L, r, "udp send: %s", rtc_strerror(r));
    lua_pushboolean(L, 1);
    return 1;
}

static int udp_local_address(lua_State *L)
{
    ludp *s = lrtc_obj_check(L, 1, &udp_class)->ptr;
    rtc_addr a;
    if (rtc_udp_local_addr(s->u, &a) < 0) return lrtc_push_error(L, RTC_EIO, "getsockname failed");
    return lrtc_push_addr(L, &a);
}

static int udp_stats(lua_State *L)
{
    ludp *s = lrtc_obj_check(L, 1, &udp_class)->ptr;
    rtc_udp_stats st;
    rtc_udp_get_stats(s->u, &st);
    lua_createtable(L, 0, 10);
#define F(n) lua_pushinteger(L, (lua_Integer)st.n); lua_setfield(L, -2, #n)
    F(rx_packets); F(rx_bytes); F(rx_truncated); F(rx_errors);
    F(tx_packets); F(tx_bytes); F(tx_batches); F(tx_errors); F(tx_dropped); F(tx_deferred);
#undef F
    return 1;
}

void lrtc__open_udp(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "send", udp_send }, { "local_address", udp_local_address }, { "stats", udp_stats }, { NULL, NULL } };
    lrtc_class_register(L, &udp_class, methods);
    lua_pushcfunction(L, l_udp_bind);
    lua_setfield(L, -2, "udp_bind");
}
