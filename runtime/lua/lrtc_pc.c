/* The C half of rtc.peer_connection: core.peer_connection(cfg) -> rtc.pc_core, a thin
 * userdata over io/rtc_pc_host. lua/rtc/peer_connection.lua builds the W3C-shaped
 * objects (peer connection, data channels, events by name) on top of it.
 *
 * Every machine event reaches Lua through one callback, obj:on("event", fn), called
 * as fn(name, ...) (see push_event); data channels are plain integer handles here. */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include "core/rtc_log.h"
#include "io/rtc_pc_host.h"
#include "pc/pc_cc.h"
#include "pc/pc_media.h"
#include "pc/pc_capture.h"
#include "pc/pc_transform.h"
#include "lua/lrtc_transform.h"
#include "rtp/rtcp.h"
#include "ice/ice_agent.h"
#include "ice/ice_candidate.h"
#include "tls/tls_client_cache.h"
#include "tls/tls_context.h"
#include "turn/turn_client.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { EV_EVENT, EV_CLOSE };
static const char *const pc_events[] = { "event", "close", NULL };

typedef struct lpc {
    lrtc_link link;
    rtc_pc_host *h;
} lpc;

static void host_closed(rtc_pc_host *h, void *ud)
{
    (void)h;
    lpc *p = ud;
    if (p->link.owner && !lrtc_closing(p->link.S)) lrtc_obj_finish(lrtc_main_thread(p->link.S), p->link.owner);
    free(p);
}

static void lpc_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    lpc *p = o->ptr;
    rtc_pc_host_close(p->h, host_closed);
}

static const lrtc_class pc_class = { "rtc.pc_core", pc_events, EV_CLOSE, lpc_close };

/* ---- single-port mode: rtc.udp_mux ---------------------------------------------------- */

typedef struct lmux {
    lrtc_link link;
    rtc_udp_mux *m;
} lmux;

static void lmux_close(lua_State *L, lrtc_obj *o)
{
    lmux *x = o->ptr;
    rtc_udp_mux_release(x->m);     /* connections still using it keep the socket open */
    lrtc_obj_finish(L, o);
    free(x);
}

static const char *const mux_events[] = { "close", NULL };
static const lrtc_class mux_class = { "rtc.udp_mux", mux_events, 0, lmux_close };

/* core.udp_mux{host=, port=, announced_addresses=} -> rtc.udp_mux | nil, err */
static int l_udp_mux(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    rtc_addr local;
    lrtc_check_hostport(L, 1, &local, "0.0.0.0");
    rtc_addr ann[RTC_PC_HOST_MAX_BIND];
    int nann = 0;
    if (lua_getfield(L, 1, "announced_addresses") != LUA_TNIL) {
        luaL_argcheck(L, lua_istable(L, -1), 1, "announced_addresses must be a list of IP addresses");
        int n = (int)luaL_len(L, -1);
        luaL_argcheck(L, n >= 1 && n <= RTC_PC_HOST_MAX_BIND, 1, "announced_addresses: 1 to 8 addresses");
        for (int i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, i);
            const char *ip = lua_tostring(L, -1);
            if (!ip || rtc_addr_set(&ann[nann], ip, 0) < 0 || rtc_addr_is_any(&ann[nann]))
                return luaL_argerror(L, 1, "announced_addresses: not an IP address");
            nann++;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &mux_class, sizeof(lrtc_obj), NULL);
    lmux *x = calloc(1, sizeof *x);
    if (!x) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    int r = rtc_udp_mux_new(&x->m, lrtc_get_loop(S), &local);
    if (r < 0) { free(x); return lrtc_push_error(L, r, "cannot bind the shared UDP socket"); }
    if (nann) rtc_udp_mux_announce(x->m, ann, nann);
    lrtc_obj_open(L, o, -1, x);
    return 1;
}

static int mux_local_address(lua_State *L)
{
    lmux *x = lrtc_obj_check(L, 1, &mux_class)->ptr;
    rtc_addr a;
    rtc_udp_mux_local_addr(x->m, &a);
    return lrtc_push_addr(L, &a);
}

static int mux_stats(lua_State *L)
{
    lmux *x = lrtc_obj_check(L, 1, &mux_class)->ptr;
    rtc_udp_mux_stats st;
    rtc_udp_mux_get_stats(x->m, &st);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, (lua_Integer)st.routed); lua_setfield(L, -2, "routed");
    lua_pushinteger(L, (lua_Integer)st.unrouted); lua_setfield(L, -2, "unrouted");
    lua_pushinteger(L, st.connections); lua_setfield(L, -2, "connections");
    lua_pushinteger(L, st.senders); lua_setfield(L, -2, "senders");
    return 1;
}

/* Pushes the event's name and arguments; returns how many values. */
static int push_event(lua_State *L, const rtc_pc_event *ev)
{
    switch (ev->type) {
    case RTC_PC_EV_SIGNALING_STATE:
        lua_pushliteral(L, "signalingstatechange");
        lua_pushstring(L, rtc_pc_signaling_state_name(ev->state));
        return 2;
    case RTC_PC_EV_GATHERING_STATE:
        lua_pushliteral(L, "icegatheringstatechange");
        lua_pushstring(L, rtc_pc_gathering_state_name(ev->state));
        return 2;
    case RTC_PC_EV_ICE_STATE:
        lua_pushliteral(L, "iceconnectionstatechange");
        lua_pushstring(L, rtc_pc_ice_state_name(ev->state));
        return 2;
    case RTC_PC_EV_CONNECTION_STATE:
        lua_pushliteral(L, "connectionstatechange");
        lua_pushstring(L, rtc_pc_connection_state_name(ev->state));
        return 2;
    case RTC_PC_EV_ICE_CANDIDATE:
        lua_pushliteral(L, "icecandidate");
        lua_pushstring(L, ev->candidate);
        lua_pushstring(L, ev->mid);
        lua_pushinteger(L, ev->mline_index);
        return 4;
    case RTC_PC_EV_NEGOTIATION_NEEDED:
        lua_pushliteral(L, "negotiationneeded");
        return 1;
    case RTC_PC_EV_DATACHANNEL:
        lua_pushliteral(L, "datachannel");
        lua_pushinteger(L, ev->dc);
        return 2;
    case RTC_PC_EV_DC_OPEN:
        lua_pushliteral(L, "open");
        lua_pushinteger(L, ev->dc);
        return 2;
    case RTC_PC_EV_DC_MESSAGE:
        lua_pushliteral(L, "message");
        lua_pushinteger(L, ev->dc);
        lua_pushlstring(L, (const char *)ev->buf->data, ev->buf->len);
        lua_pushboolean(L, ev->binary);
        return 4;
    case RTC_PC_EV_DC_BUFFERED_LOW:
        lua_pushliteral(L, "bufferedamountlow");
        lua_pushinteger(L, ev->dc);
        return 2;
    case RTC_PC_EV_DC_CLOSING:
        lua_pushliteral(L, "closing");
        lua_pushinteger(L, ev->dc);
        return 2;
    case RTC_PC_EV_DC_CLOSE:
        lua_pushliteral(L, "dcclose");
        lua_pushinteger(L, ev->dc);
        if (ev->err) lua_pushfstring(L, "%s: %s", rtc_err_domname(ev->err), rtc_strerror(ev->err));
        else lua_pushnil(L);
        return 3;
    case RTC_PC_EV_ERROR:
        lua_pushliteral(L, "error");
        lua_pushfstring(L, "%s: %s", rtc_err_domname(ev->err), ev->reason);
        return 2;
    case RTC_PC_EV_TRACK:
        lua_pushliteral(L, "track");
        lua_pushinteger(L, ev->tr);
        lua_pushstring(L, ev->kind == RTC_MEDIA_AUDIO ? "audio" : "video");
        lua_pushstring(L, ev->mid);
        return 4;
    case RTC_PC_EV_FRAME:
        lua_pushliteral(L, "frame");
        lua_pushinteger(L, ev->tr);
        lua_pushlstring(L, (const char *)ev->buf->data, ev->buf->len);
        lua_pushinteger(L, ev->ts);
        lua_pushboolean(L, ev->keyframe);
        lua_pushstring(L, ev->codec >= 0 ? rtc_codec_name((rtc_codec_id)ev->codec) : "");
        lua_pushstring(L, ev->rid);
        return 7;
    case RTC_PC_EV_KEYFRAME_REQUEST:
        lua_pushliteral(L, "keyframerequest");
        lua_pushinteger(L, ev->tr);
        lua_pushstring(L, ev->rid);
        return 3;
    case RTC_PC_EV_SENDER_REPORT:
        /* NTP as Unix ms (a double keeps sub-ms precision), RTP ts, rid. */
        lua_pushliteral(L, "senderreport");
        lua_pushinteger(L, ev->tr);
        lua_pushnumber(L, (double)rtc_ntp_to_unix_us(ev->ntp) / 1000.0);
        lua_pushinteger(L, ev->ts);
        lua_pushstring(L, ev->rid);
        return 5;
    case RTC_PC_EV_ICE_CANDIDATE_ERROR: {
        /* server IP, server port, STUN error code (0: no answer), reason */
        char a[64];
        rtc_addr_ip_str(&ev->server, a, sizeof a);
        lua_pushliteral(L, "icecandidateerror");
        lua_pushstring(L, a);
        lua_pushinteger(L, rtc_addr_port(&ev->server));
        lua_pushinteger(L, ev->code);
        lua_pushstring(L, ev->reason);
        return 5;
    }
    case RTC_PC_EV_BANDWIDTH:
        lua_pushliteral(L, "bandwidth");
        lua_pushinteger(L, (lua_Integer)ev->bps);
        return 2;
    }
    return 0;
}

static void on_host_event(rtc_pc_host *h, rtc_pc_event *ev, void *ud)
{
    (void)h;
    lpc *p = ud;
    lrtc_obj *o = p->link.owner;
    if (o && !lrtc_closing(p->link.S)) {
        lua_State *L = lrtc_main_thread(p->link.S);
        if (lrtc_obj_push_cb(L, o, EV_EVENT)) {
            int n = push_event(L, ev);
            if (n) lrtc_call(L, n);
            else lua_pop(L, 1);
        }
    }
    rtc_buf_unref(ev->buf);
}

/* ---- construction ---------------------------------------------------------------- */

static int opt_bool(lua_State *L, int t, const char *k, int def)
{
    lua_getfield(L, t, k);
    int v = lua_isnil(L, -1) ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* t.servers (resolved by lua/rtc/peer_connection.lua) into out[0..*n). */
static void read_servers(lua_State *L, int t, rtc_pc_host_server *out, int *n_out)
{
    lua_getfield(L, t, "servers");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        for (int i = 1; i <= n && *n_out < RTC_PC_HOST_MAX_SERVERS; i++) {
            lua_rawgeti(L, -1, i);
            int s = lua_gettop(L);
            if (!lua_istable(L, s)) luaL_error(L, "peer_connection: servers[%d] must be a table", i);
            rtc_pc_host_server *sv = &out[*n_out];
            memset(sv, 0, sizeof *sv);
            lrtc_check_hostport(L, s, &sv->addr, NULL);
            /* further addresses the server's name resolved to, in order */
            lua_getfield(L, s, "more_hosts");
            if (lua_istable(L, -1)) {
                int nm = (int)luaL_len(L, -1);
                for (int k = 1; k <= nm && sv->nmore < RTC_PC_HOST_MAX_MORE; k++) {
                    lua_rawgeti(L, -1, k);
                    const char *ip = lua_tostring(L, -1);
                    if (!ip || rtc_addr_set(&sv->more[sv->nmore], ip, rtc_addr_port(&sv->addr)) < 0)
                        luaL_error(L, "peer_connection: servers[%d].more_hosts[%d] is not a numeric IP address", i, k);
                    sv->nmore++;
                    lua_pop(L, 1);
                }
            }
            lua_pop(L, 1);
            sv->turn = opt_bool(L, s, "turn", 0);
            lua_getfield(L, s, "transport");
            const char *tr = lua_isstring(L, -1) ? lua_tostring(L, -1) : "udp";
            sv->transport = strcmp(tr, "tls") == 0 ? RTC_TURN_TLS : strcmp(tr, "tcp") == 0 ? RTC_TURN_TCP : RTC_TURN_UDP;
            if (sv->transport == RTC_TURN_TLS) {
                /* the name the certificate must match (the URL's host before resolving) */
                lua_getfield(L, s, "server_name");
                const char *sn = lua_tostring(L, -1);
                if (!sn || !*sn || strlen(sn) >= sizeof sv->server_name)
                    luaL_error(L, "peer_connection: servers[%d].server_name must be a host name (TLS)", i);
                strcpy(sv->server_name, sn);
                lua_getfield(L, s, "tls_ca_file");
                if (!lua_isnil(L, -1) && !lua_isstring(L, -1))
                    luaL_error(L, "peer_connection: servers[%d].tls_ca_file must be a path", i);
            }
            lua_getfield(L, s, "username");
            const char *u = lua_tostring(L, -1);
            lua_getfield(L, s, "credential");
            const char *pw = lua_tostring(L, -1);
            if (sv->turn && (!u || !pw)) luaL_error(L, "peer_connection: a TURN server needs username and credential");
            if (u && strlen(u) >= sizeof sv->user) luaL_error(L, "peer_connection: TURN username too long");
            if (pw && strlen(pw) >= sizeof sv->pass) luaL_error(L, "peer_connection: TURN credential too long");
            if (u) strcpy(sv->user, u);
            if (pw) strcpy(sv->pass, pw);
            lua_settop(L, s - 1);
            (*n_out)++;
        }
    }
    lua_pop(L, 1);
}

static void free_tls_contexts(rtc_pc_host_server *sv, int n)
{
    for (int i = 0; i < n; i++) { rtc_tls_context_unref(sv[i].tls); sv[i].tls = NULL; }
}

/* The Lua state's client TLS contexts (tls/tls_client_cache.h): every peer connection
 * whose turns: servers trust the same CA file shares one SSL_CTX and its trust store.
 * A userdata in the registry, freed with the state; NULL when out of memory. */
static const char tls_cache_key = 0;

static int tls_cache_gc(lua_State *L)
{
    rtc_tls_client_cache **pc = lua_touserdata(L, 1);
    rtc_tls_client_cache_free(*pc);
    *pc = NULL;
    return 0;
}

static rtc_tls_client_cache *tls_cache(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &tls_cache_key) == LUA_TUSERDATA) {
        rtc_tls_client_cache *c = *(rtc_tls_client_cache **)lua_touserdata(L, -1);
        lua_pop(L, 1);
        return c;
    }
    lua_pop(L, 1);
    rtc_tls_client_cache **pc = lua_newuserdatauv(L, sizeof *pc, 0);
    *pc = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, tls_cache_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    if (rtc_tls_client_cache_new(pc) < 0) { lua_pop(L, 1); return NULL; }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &tls_cache_key);
    return *pc;
}

/* A client context per turns: server: its tls_ca_file (PEM) or else the system's
 * store, from the state's cache. servers[i] of the Lua table t.servers is sv[i - 1]
 * (read_servers keeps the order). Raises only when out of memory; on failure every
 * ref taken is released. */
static int make_tls_contexts(lua_State *L, int t, rtc_pc_host_server *sv, int n, char *err, size_t errlen)
{
    int r = 0;
    rtc_tls_client_cache *cache = NULL;
    for (int i = 0; i < n && !cache; i++)
        if (sv[i].turn && sv[i].transport == RTC_TURN_TLS) cache = tls_cache(L);
    lua_getfield(L, t, "servers");
    for (int i = 0; i < n && r == 0; i++) {
        if (!sv[i].turn || sv[i].transport != RTC_TURN_TLS) continue;
        lua_rawgeti(L, -1, i + 1);
        lua_getfield(L, -1, "tls_ca_file");
        err[0] = 0;
        r = cache ? rtc_tls_client_cache_get(cache, lua_tostring(L, -1), &sv[i].tls, err, errlen) : RTC_ENOMEM;
        if (r < 0 && !err[0]) snprintf(err, errlen, "cannot set up TLS");
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    if (r < 0) free_tls_contexts(sv, n);
    return r;
}

static void read_bind(lua_State *L, int t, rtc_pc_host_config *cfg)
{
    lua_getfield(L, t, "port");
    lua_Integer port = luaL_optinteger(L, -1, 0);
    if (port < 0 || port > 65535) luaL_error(L, "peer_connection: port out of range");
    lua_pop(L, 1);
    lua_getfield(L, t, "bind_addresses");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        for (int i = 1; i <= n && cfg->nbind < RTC_PC_HOST_MAX_BIND; i++) {
            lua_rawgeti(L, -1, i);
            const char *ip = lua_tostring(L, -1);
            if (!ip || rtc_addr_set(&cfg->bind[cfg->nbind], ip, (uint16_t)port) < 0)
                luaL_error(L, "peer_connection: bind_addresses[%d] is not a numeric IP address", i);
            cfg->nbind++;
            lua_pop(L, 1);
        }
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "peer_connection: bind_addresses must be a list of IP addresses");
    }
    lua_pop(L, 1);
}

/* core.peer_connection{ servers=..., relay_only=, ice_lite=, bind_addresses=, port=,
 *                       loopback=, max_message_size=, certificate_pem=, key_pem=,
 *                       unique_certificate=, ice_tcp=, ice_tcp_port= } */
static int l_peer_connection(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    /* The config (about 4.6 KiB) lives in a Lua userdata: any check below may raise,
     * and the collector then frees it; a malloc'd one leaked on every bad config. */
    rtc_pc_host_config *cfg = lua_newuserdatauv(L, sizeof *cfg, 0);
    memset(cfg, 0, sizeof *cfg);
    cfg->pc.relay_only = opt_bool(L, 1, "relay_only", 0);
    cfg->pc.ice_lite = opt_bool(L, 1, "ice_lite", 0);
    cfg->loopback = opt_bool(L, 1, "loopback", 0);
    cfg->unique_certificate = opt_bool(L, 1, "unique_certificate", 0);
    cfg->ice_tcp = opt_bool(L, 1, "ice_tcp", 0);
    lua_getfield(L, 1, "ice_tcp_port");
    lua_Integer itp = luaL_optinteger(L, -1, 0);
    if (itp < 0 || itp > 65535) return luaL_error(L, "peer_connection: ice_tcp_port must be 0..65535");
    cfg->ice_tcp_port = (uint16_t)itp;
    lua_pop(L, 1);
    lua_getfield(L, 1, "max_message_size");
    cfg->pc.max_message_size = (size_t)luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    lua_getfield(L, 1, "max_channels");
    lua_Integer mc = luaL_optinteger(L, -1, 0);
    if (mc < 0 || mc > 65535) return luaL_error(L, "peer_connection: max_channels must be 1..65535");
    cfg->pc.max_channels = (uint16_t)mc;
    lua_pop(L, 1);
    read_servers(L, 1, cfg->servers, &cfg->nservers);
    read_bind(L, 1, cfg);
    lua_getfield(L, 1, "udp_mux");
    if (!lua_isnil(L, -1)) {
        lrtc_obj *mo = luaL_testudata(L, -1, mux_class.name);
        if (!mo || mo->closed || !mo->ptr) return luaL_error(L, "peer_connection: udp_mux must be an open rtc.udp_mux");
        cfg->mux = ((lmux *)mo->ptr)->m;
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "certificate_pem");
    lua_getfield(L, 1, "key_pem");
    size_t cl = 0, kl = 0;
    const char *cp = lua_tolstring(L, -2, &cl), *kp = lua_tolstring(L, -1, &kl);
    rtc_dtls_cert *cert = NULL;
    if (cp && kp) {
        int r = rtc_dtls_cert_from_pem(&cert, cp, cl, kp, kl);
        if (r < 0) return lrtc_push_error(L, RTC_EINVAL, "invalid certificate or key PEM");
        cfg->pc.cert = cert;
    }
    lua_pop(L, 2);
    /* Last, so no check above raises while a context is held. */
    char terr[RTC_TLS_ERRLEN];
    int tr = make_tls_contexts(L, 1, cfg->servers, cfg->nservers, terr, sizeof terr);
    if (tr < 0) {
        rtc_dtls_cert_unref(cert);
        return lrtc_push_error(L, tr, "turns: %s", terr);
    }
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &pc_class, sizeof(lrtc_obj), NULL);
    lpc *p = calloc(1, sizeof *p);
    int r = p ? rtc_pc_host_new(&p->h, lrtc_get_loop(S), cfg, on_host_event, p) : RTC_ENOMEM;
    rtc_dtls_cert_unref(cert);   /* the pc took its own ref */
    free_tls_contexts(cfg->servers, cfg->nservers);      /* so did the host */
    if (r < 0) {
        free(p);
        return lrtc_push_error(L, r, r == RTC_EIO ? "no UDP socket could be bound" : NULL);
    }
    lrtc_obj_open(L, o, -1, p);
    return 1;
}

/* ---- methods ------------------------------------------------------------------------ */

static lpc *check_pc(lua_State *L) { return lrtc_obj_check(L, 1, &pc_class)->ptr; }
struct rtc_pc_host *lrtc_pc_check_host(lua_State *L, int idx) { return ((lpc *)lrtc_obj_check(L, idx, &pc_class)->ptr)->h; }
static rtc_time now_of(lpc *p) { return rtc_pc_host_now(p->h); }

/* Output produced by a method goes out on the next loop turn, so scripts see events
 * after the call returns, as in browsers. */
static int pc_result(lua_State *L, lpc *p, int r)
{
    rtc_pc_host_kick_soon(p->h);
    if (r < 0) {
        /* The machine's message, when it is about this failure (it starts with this
         * error's name: some calls fail without writing one, leaving an older one). */
        const char *msg = rtc_pc_last_error(rtc_pc_host_pc(p->h));
        const char *dom = rtc_err_domname(r);
        size_t dl = strlen(dom);
        if (msg && strncmp(msg, dom, dl) == 0 && msg[dl] == ':') {
            lua_pushnil(L);
            lua_pushstring(L, msg);
            lua_pushstring(L, dom);
            return 3;
        }
        return lrtc_push_error(L, r, NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int pc_create_offer(lua_State *L)
{
    lpc *p = check_pc(L);
    char *sdp;
    int r = rtc_pc_create_offer(rtc_pc_host_pc(p->h), lua_toboolean(L, 2), &sdp, now_of(p));
    if (r < 0) return pc_result(L, p, r);
    lua_pushstring(L, sdp);
    free(sdp);
    return 1;
}

static int pc_create_answer(lua_State *L)
{
    lpc *p = check_pc(L);
    char *sdp;
    int r = rtc_pc_create_answer(rtc_pc_host_pc(p->h), &sdp, now_of(p));
    if (r < 0) return pc_result(L, p, r);
    lua_pushstring(L, sdp);
    free(sdp);
    return 1;
}

static rtc_pc_sdp_type check_type(lua_State *L, int idx)
{
    static const char *const names[] = { "offer", "pranswer", "answer", "rollback", NULL };
    return (rtc_pc_sdp_type)luaL_checkoption(L, idx, NULL, names);
}

static int pc_set_local(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc_sdp_type t = check_type(L, 2);
    const char *sdp = luaL_optstring(L, 3, NULL);
    return pc_result(L, p, rtc_pc_set_local_description(rtc_pc_host_pc(p->h), t, sdp, now_of(p)));
}

static int pc_set_remote(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc_sdp_type t = check_type(L, 2);
    const char *sdp = t == RTC_SDP_ROLLBACK ? luaL_optstring(L, 3, "") : luaL_checkstring(L, 3);
    return pc_result(L, p, rtc_pc_set_remote_description(rtc_pc_host_pc(p->h), t, sdp, now_of(p)));
}

static int pc_add_candidate(lua_State *L)
{
    lpc *p = check_pc(L);
    const char *cand = luaL_optstring(L, 2, "");
    const char *mid = luaL_optstring(L, 3, NULL);
    lua_Integer idx = luaL_optinteger(L, 4, 0);
    return pc_result(L, p, rtc_pc_add_ice_candidate(rtc_pc_host_pc(p->h), cand, mid, (int)idx, now_of(p)));
}

static int push_desc(lua_State *L, int r, rtc_pc_sdp_type t, char *sdp)
{
    if (r < 0) { lua_pushnil(L); return 1; }
    lua_pushstring(L, rtc_pc_sdp_type_name(t));
    lua_pushstring(L, sdp);
    free(sdp);
    return 2;
}

static int pc_local_description(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc_sdp_type t;
    char *sdp = NULL;
    int r = rtc_pc_local_description(rtc_pc_host_pc(p->h), &t, &sdp);
    return push_desc(L, r, t, sdp);
}

static int pc_remote_description(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc_sdp_type t;
    char *sdp = NULL;
    int r = rtc_pc_remote_description(rtc_pc_host_pc(p->h), &t, &sdp);
    return push_desc(L, r, t, sdp);
}

/* core:set_servers{servers=...}: setConfiguration's iceServers (rtc_pc_host_set_servers). */
static int pc_set_servers(lua_State *L)
{
    lpc *p = check_pc(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    /* in a userdata, as in l_peer_connection: read_servers may raise */
    rtc_pc_host_server *sv = lua_newuserdatauv(L, sizeof(rtc_pc_host_server) * RTC_PC_HOST_MAX_SERVERS, 0);
    int n = 0;
    read_servers(L, 2, sv, &n);
    char terr[RTC_TLS_ERRLEN];
    int tr = make_tls_contexts(L, 2, sv, n, terr, sizeof terr);
    if (tr < 0) return lrtc_push_error(L, tr, "turns: %s", terr);
    int r = rtc_pc_host_set_servers(p->h, sv, n);
    free_tls_contexts(sv, n);    /* the host took its refs */
    return pc_result(L, p, r);
}

/* core:set_transport_policy(relay_only): setConfiguration's iceTransportPolicy
 * (rtc_pc_set_ice_transport_policy). */
static int pc_set_transport_policy(lua_State *L)
{
    lpc *p = check_pc(L);
    luaL_checktype(L, 2, LUA_TBOOLEAN);
    bool relay = lua_toboolean(L, 2);
    return pc_result(L, p, rtc_pc_set_ice_transport_policy(rtc_pc_host_pc(p->h), relay, now_of(p)));
}

static int pc_restart_ice(lua_State *L)
{
    lpc *p = check_pc(L);
    return pc_result(L, p, rtc_pc_restart_ice(rtc_pc_host_pc(p->h), now_of(p)));
}

static int pc_states(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc *pc = rtc_pc_host_pc(p->h);
    lua_pushstring(L, rtc_pc_signaling_state_name(rtc_pc_signaling_state_get(pc)));
    lua_pushstring(L, rtc_pc_gathering_state_name(rtc_pc_gathering_state_get(pc)));
    lua_pushstring(L, rtc_pc_ice_state_name(rtc_pc_ice_state_get(pc)));
    lua_pushstring(L, rtc_pc_connection_state_name(rtc_pc_connection_state_get(pc)));
    return 4;
}

static int opt_int_field(lua_State *L, int t, const char *k, int def)
{
    lua_getfield(L, t, k);
    lua_Integer v = lua_isnil(L, -1) ? def : luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    return (int)v;
}

/* pc:create_channel(label, {ordered=, max_retransmits=, max_packet_life_time=,
 *                           protocol=, negotiated=, id=}) -> handle | nil, err */
static int pc_create_channel(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_dc_init init;
    memset(&init, 0, sizeof init);
    init.label = luaL_checkstring(L, 2);
    init.max_retransmits = init.max_packet_life_time = -1;
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        init.unordered = !opt_bool(L, 3, "ordered", 1);
        init.max_retransmits = opt_int_field(L, 3, "max_retransmits", -1);
        init.max_packet_life_time = opt_int_field(L, 3, "max_packet_life_time", -1);
        init.negotiated = opt_bool(L, 3, "negotiated", 0);
        init.id = opt_int_field(L, 3, "id", -1);
        lua_getfield(L, 3, "protocol");
        init.protocol = lua_tostring(L, -1);
    }
    int h = rtc_pc_create_data_channel(rtc_pc_host_pc(p->h), &init, now_of(p));
    if (h < 0) return pc_result(L, p, h);
    rtc_pc_host_kick_soon(p->h);
    lua_pushinteger(L, h);
    return 1;
}

static int check_dc(lua_State *L, lpc *p, int idx)
{
    lua_Integer h = luaL_checkinteger(L, idx);
    if (h < 0 || h > INT_MAX || !rtc_pc_dc_exists(rtc_pc_host_pc(p->h), (int)h))
        luaL_argerror(L, idx, "no such data channel");
    return (int)h;
}

static int pc_dc_send(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_dc(L, p, 2);
    size_t len;
    const char *data = luaL_checklstring(L, 3, &len);
    return pc_result(L, p, rtc_pc_dc_send(rtc_pc_host_pc(p->h), h, data, len, lua_toboolean(L, 4), now_of(p)));
}

static int pc_dc_close(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_dc(L, p, 2);
    return pc_result(L, p, rtc_pc_dc_close(rtc_pc_host_pc(p->h), h, now_of(p)));
}

static int pc_dc_set_threshold(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_dc(L, p, 2);
    lua_Integer n = luaL_checkinteger(L, 3);
    luaL_argcheck(L, n >= 0, 3, "must not be negative");
    rtc_pc_dc_set_low_threshold(rtc_pc_host_pc(p->h), h, (size_t)n);
    return 0;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }
static void set_str(lua_State *L, const char *k, const char *v) { lua_pushstring(L, v); lua_setfield(L, -2, k); }
static void set_bool(lua_State *L, const char *k, int v) { lua_pushboolean(L, v); lua_setfield(L, -2, k); }

/* pc:dc_info(h) -> {id=, label=, protocol=, state=, ordered=, ...} */
static int pc_dc_info(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_dc(L, p, 2);
    rtc_dc_info i;
    rtc_pc_dc_info(rtc_pc_host_pc(p->h), h, &i);
    lua_createtable(L, 0, 14);
    if (i.id >= 0) set_int(L, "id", i.id);
    set_str(L, "label", i.label);
    set_str(L, "protocol", i.protocol);
    set_str(L, "state", i.state);
    set_bool(L, "ordered", i.ordered);
    set_bool(L, "negotiated", i.negotiated);
    if (i.max_retransmits >= 0) set_int(L, "max_retransmits", i.max_retransmits);
    if (i.max_packet_life_time >= 0) set_int(L, "max_packet_life_time", i.max_packet_life_time);
    set_int(L, "buffered_amount", (lua_Integer)i.buffered_amount);
    set_int(L, "buffered_amount_low_threshold", (lua_Integer)i.buffered_amount_low_threshold);
    set_int(L, "messages_sent", (lua_Integer)i.messages_sent);
    set_int(L, "bytes_sent", (lua_Integer)i.bytes_sent);
    set_int(L, "messages_received", (lua_Integer)i.messages_received);
    set_int(L, "bytes_received", (lua_Integer)i.bytes_received);
    return 1;
}

/* pc:dc_buffered(h) -> bytes (the hot path of a sending loop: no table) */
static int pc_dc_buffered(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_dc(L, p, 2);
    rtc_dc_info i;
    rtc_pc_dc_info(rtc_pc_host_pc(p->h), h, &i);
    lua_pushinteger(L, (lua_Integer)i.buffered_amount);
    return 1;
}

static const char *cand_type_name(int t)
{
    static const char *n[] = { "host", "srflx", "prflx", "relay" };
    return (t >= 0 && t < 4) ? n[t] : "host";
}

static void push_candidates(lua_State *L, lpc *p, bool local)
{
    rtc_pc *pc = rtc_pc_host_pc(p->h);
    lua_newtable(L);
    char buf[512];
    int type;
    rtc_addr a;
    for (int i = 0; (local ? rtc_pc_local_candidate(pc, i, buf, sizeof buf, &type, &a)
                           : rtc_pc_remote_candidate(pc, i, buf, sizeof buf, &type, &a)) == 0; i++) {
        lua_createtable(L, 0, 5);
        set_str(L, "candidate", buf);
        set_str(L, "candidate_type", cand_type_name(type));
        if (local && type == RTC_ICE_RELAY) {
            /* W3C relayProtocol: our relay candidates' priorities say it (ice_agent.h) */
            rtc_ice_candidate c;
            const char *rp = rtc_ice_candidate_parse(&c, buf, strlen(buf)) == 0 ? rtc_ice_relay_protocol(c.priority) : NULL;
            if (rp) set_str(L, "relay_protocol", rp);
        }
        if (rtc_addr_family(&a)) {
            char ip[RTC_ADDR_STRLEN];
            set_str(L, "address", rtc_addr_ip_str(&a, ip, sizeof ip));
            set_int(L, "port", rtc_addr_port(&a));
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* Every candidate pair: { local_address=, local_port=, local_type=, remote_...=, state=
 * (W3C RTCStatsIceCandidatePairState), nominated=, selected=, requests_sent=, ...,
 * total_rtt=, current_rtt= (seconds) } */
static void push_pairs(lua_State *L, rtc_pc *pc)
{
    static const char *const states[] = { "frozen", "waiting", "in-progress", "succeeded", "failed" };
    lua_newtable(L);
    rtc_ice_pair_stats ps;
    char ip[RTC_ADDR_STRLEN];
    for (int i = 0; rtc_pc_pair_stats(pc, i, &ps) == 0; i++) {
        lua_createtable(L, 0, 16);
        set_str(L, "local_address", rtc_addr_ip_str(&ps.local, ip, sizeof ip));
        set_int(L, "local_port", rtc_addr_port(&ps.local));
        set_str(L, "local_type", cand_type_name(ps.local_type));
        set_str(L, "remote_address", rtc_addr_ip_str(&ps.remote, ip, sizeof ip));
        set_int(L, "remote_port", rtc_addr_port(&ps.remote));
        set_str(L, "remote_type", cand_type_name(ps.remote_type));
        set_str(L, "state", states[ps.state]);
        set_bool(L, "nominated", ps.nominated);
        set_bool(L, "selected", ps.selected);
        set_bool(L, "previous", ps.previous);
        set_str(L, "protocol", ps.tcp ? "tcp" : "udp");
        set_int(L, "requests_sent", ps.requests_sent);
        set_int(L, "requests_received", ps.requests_received);
        set_int(L, "responses_sent", ps.responses_sent);
        set_int(L, "responses_received", ps.responses_received);
        set_int(L, "consent_requests_sent", ps.consent_requests_sent);
        set_int(L, "rtt_measurements", ps.rtt_measurements);
        lua_pushnumber(L, (double)ps.total_rtt / 1e6);
        lua_setfield(L, -2, "total_rtt");
        if (ps.current_rtt >= 0) {
            lua_pushnumber(L, (double)ps.current_rtt / 1e6);
            lua_setfield(L, -2, "current_rtt");
        }
        lua_rawseti(L, -2, i + 1);
    }
}

/* pc:raw_stats() -> the counters get_stats() turns into W3C stats objects */
static int pc_raw_stats(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_pc *pc = rtc_pc_host_pc(p->h);
    rtc_pc_stats st;
    rtc_pc_get_stats(pc, &st);
    lua_createtable(L, 0, 24);
    set_int(L, "bytes_sent", (lua_Integer)st.bytes_sent);
    set_int(L, "bytes_received", (lua_Integer)st.bytes_received);
    set_int(L, "packets_sent", (lua_Integer)st.packets_sent);
    set_int(L, "packets_received", (lua_Integer)st.packets_received);
    set_int(L, "data_channels_opened", st.data_channels_opened);
    set_int(L, "data_channels_closed", st.data_channels_closed);
    set_str(L, "local_fingerprint", st.local_fingerprint);
    set_str(L, "remote_fingerprint", st.remote_fingerprint);
    set_str(L, "dtls_state", st.dtls_state);
    set_str(L, "dtls_role", st.dtls_role);
    set_str(L, "ice_role", st.ice_role);
    rtc_str uf[2];
    if (rtc_pc_local_ufrags(pc, uf) > 0) {
        lua_pushlstring(L, uf[0].p, uf[0].len);
        lua_setfield(L, -2, "ice_local_ufrag");
    }
    set_str(L, "tls_cipher", st.tls_cipher ? st.tls_cipher : "");
    set_str(L, "srtp_cipher", st.srtp_cipher ? st.srtp_cipher : "");
    set_int(L, "stun_checks_sent", (lua_Integer)st.stun_checks_sent);
    set_int(L, "stun_checks_received", (lua_Integer)st.stun_checks_received);
    set_int(L, "stun_responses_received", (lua_Integer)st.stun_responses_received);
    rtc_cc_estimate bw;
    if (rtc_pc_get_bandwidth(pc, &bw) == 0) set_int(L, "available_outgoing_bitrate", (lua_Integer)bw.bps);
    if (st.has_pair) {
        char ip[RTC_ADDR_STRLEN];
        set_str(L, "pair_local_address", rtc_addr_ip_str(&st.pair_local, ip, sizeof ip));
        set_int(L, "pair_local_port", rtc_addr_port(&st.pair_local));
        set_str(L, "pair_local_type", cand_type_name(st.pair_local_type));
        if (st.pair_relay_protocol) set_str(L, "pair_relay_protocol", st.pair_relay_protocol);
        set_str(L, "pair_remote_address", rtc_addr_ip_str(&st.pair_remote, ip, sizeof ip));
        set_int(L, "pair_remote_port", rtc_addr_port(&st.pair_remote));
        set_str(L, "pair_remote_type", cand_type_name(st.pair_remote_type));
        set_str(L, "pair_protocol", st.pair_proto == RTC_PROTO_TCP ? "tcp" : "udp");
    }
    push_pairs(L, pc);
    lua_setfield(L, -2, "pairs");
    push_candidates(L, p, true);
    lua_setfield(L, -2, "local_candidates");
    push_candidates(L, p, false);
    lua_setfield(L, -2, "remote_candidates");
    lua_pushinteger(L, rtc_pc_dc_count(pc));
    lua_setfield(L, -2, "data_channels");
    lua_pushinteger(L, rtc_pc_dc_slots(pc));
    lua_setfield(L, -2, "data_channel_slots");
    rtc_pc_media_stats ms;
    rtc_pc_media_get_stats(pc, &ms);
    set_int(L, "rtp_received", (lua_Integer)ms.rtp_received);
    set_int(L, "rtcp_received", (lua_Integer)ms.rtcp_received);
    set_int(L, "srtp_errors", (lua_Integer)ms.srtp_errors);
    set_int(L, "rtp_unroutable", (lua_Integer)ms.unroutable);
    set_int(L, "twcc_feedback_sent", (lua_Integer)ms.twcc_feedback_sent);
    rtc_pc_host_stats hs;
    rtc_pc_host_get_stats(p->h, &hs);
    set_int(L, "turn_tcp_bytes_sent", (lua_Integer)hs.turn_tcp_tx_bytes);
    set_int(L, "turn_tcp_dropped", (lua_Integer)hs.turn_tcp_dropped);
    set_int(L, "turn_tcp_queued", (lua_Integer)hs.turn_tcp_queued);
    return 1;
}

static int pc_local_addresses(lua_State *L)
{
    lpc *p = check_pc(L);
    lua_newtable(L);
    rtc_addr a;
    for (int i = 0; rtc_pc_host_local_addr(p->h, i, &a) == 0; i++) {
        char s[RTC_ADDR_STRLEN];
        lua_pushstring(L, rtc_addr_str(&a, s, sizeof s));
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int pc_fingerprint(lua_State *L)
{
    lpc *p = check_pc(L);
    lua_pushstring(L, rtc_pc_local_fingerprint(rtc_pc_host_pc(p->h)));
    return 1;
}

/* ---- transceivers (pc/pc_media.h) ------------------------------------------------- */

static int check_tr(lua_State *L, lpc *p, int idx)
{
    lua_Integer h = luaL_checkinteger(L, idx);
    if (h < 0 || h >= rtc_pc_transceiver_count(rtc_pc_host_pc(p->h))) luaL_argerror(L, idx, "no such transceiver");
    return (int)h;
}

static rtc_media_direction check_dir(lua_State *L, int idx)
{
    rtc_media_direction d = RTC_DIR_SENDRECV;
    if (!lua_isnoneornil(L, idx) && rtc_media_direction_parse(luaL_checkstring(L, idx), &d) < 0)
        luaL_argerror(L, idx, "direction must be sendrecv, sendonly, recvonly or inactive");
    return d;
}

/* pc:add_transceiver(kind, direction, codec, stereo, red, by_add_track, fec, fec_group) -> handle | nil, err
 * red: "auto" (default), "on" or "off" (rtc_pc_transceiver_set_red); by_add_track:
 * made by pc:add_track (rtc_pc_transceiver_set_add_track); fec: "off" (default) or
 * "ulpfec", fec_group 0..48 (rtc_pc_transceiver_set_fec). */
static int pc_add_transceiver(lua_State *L)
{
    lpc *p = check_pc(L);
    static const char *const kinds[] = { "audio", "video", NULL };
    static const char *const reds[] = { "auto", "on", "off", NULL };
    rtc_transceiver_init init;
    init.kind = (rtc_media_kind)luaL_checkoption(L, 2, NULL, kinds);
    int red = luaL_checkoption(L, 6, "auto", reds);
    if (red != RTC_RED_AUTO && init.kind != RTC_MEDIA_AUDIO) return luaL_argerror(L, 6, "red is for audio");
    static const char *const fecs[] = { "off", "ulpfec", NULL };
    int fec = luaL_checkoption(L, 8, "off", fecs);
    if (fec != RTC_FEC_OFF && init.kind != RTC_MEDIA_VIDEO) return luaL_argerror(L, 8, "fec is for video");
    lua_Integer fec_group = luaL_optinteger(L, 9, 0);
    luaL_argcheck(L, fec_group >= 0 && fec_group <= 48, 9, "fec_group must be 1..48");
    init.direction = check_dir(L, 3);
    init.codec = -1;
    if (!lua_isnoneornil(L, 4)) {
        init.codec = rtc_codec_from_name(luaL_checkstring(L, 4));
        if (init.codec < 0) return luaL_argerror(L, 4, "unknown codec");
    }
    int h = rtc_pc_add_transceiver(rtc_pc_host_pc(p->h), &init, now_of(p));
    if (h < 0) return pc_result(L, p, h);
    /* stereo: our Opus fmtp asks to receive stereo */
    if (init.kind == RTC_MEDIA_AUDIO && lua_toboolean(L, 5)) rtc_pc_transceiver_set_stereo(rtc_pc_host_pc(p->h), h, true);
    if (init.kind == RTC_MEDIA_AUDIO) rtc_pc_transceiver_set_red(rtc_pc_host_pc(p->h), h, (rtc_red_mode)red);
    if (lua_toboolean(L, 7)) rtc_pc_transceiver_set_add_track(rtc_pc_host_pc(p->h), h);
    if (init.kind == RTC_MEDIA_VIDEO) rtc_pc_transceiver_set_fec(rtc_pc_host_pc(p->h), h, (rtc_fec_mode)fec, (int)fec_group);
    rtc_pc_host_kick_soon(p->h);
    lua_pushinteger(L, h);
    return 1;
}

/* pc:set_video_orientation(on) -> true | nil, err (rtc_pc_set_video_orientation) */
static int pc_set_video_orientation(lua_State *L)
{
    lpc *p = check_pc(L);
    luaL_checktype(L, 2, LUA_TBOOLEAN);
    return pc_result(L, p, rtc_pc_set_video_orientation(rtc_pc_host_pc(p->h), lua_toboolean(L, 2)));
}

static int pc_tr_set_direction(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    int r = rtc_pc_transceiver_set_direction(rtc_pc_host_pc(p->h), h, check_dir(L, 3), now_of(p));
    rtc_pc_host_kick_soon(p->h);
    return pc_result(L, p, r);
}

/* pc:tr_set_fec(h, "off" | "ulpfec", group) -> true | nil, err (rtc_pc_transceiver_set_fec) */
static int pc_tr_set_fec(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    static const char *const fecs[] = { "off", "ulpfec", NULL };
    int fec = luaL_checkoption(L, 3, "off", fecs);
    lua_Integer g = luaL_optinteger(L, 4, 0);
    luaL_argcheck(L, g >= 0 && g <= 48, 4, "fec_group must be 1..48");
    return pc_result(L, p, rtc_pc_transceiver_set_fec(rtc_pc_host_pc(p->h), h, (rtc_fec_mode)fec, (int)g));
}

/* pc:tr_set_codec(h, name | nil[, fmtp]) -> true | nil, err: the preferred codec and
 * its format (rtc_pc_transceiver_set_codec_fmtp) */
static int pc_tr_set_codec(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    int codec = -1;
    if (!lua_isnoneornil(L, 3)) {
        codec = rtc_codec_from_name(luaL_checkstring(L, 3));
        if (codec < 0) return luaL_argerror(L, 3, "unknown codec");
    }
    const char *fmtp = luaL_optstring(L, 4, NULL);
    if (fmtp && codec < 0) return luaL_argerror(L, 4, "a format needs a codec");
    if (fmtp && strlen(fmtp) > 127) return luaL_argerror(L, 4, "fmtp longer than 127 bytes");
    return pc_result(L, p, rtc_pc_transceiver_set_codec_fmtp(rtc_pc_host_pc(p->h), h, codec, fmtp));
}

/* pc:tr_stop(h) -> true | nil, err (transceiver:stop) */
static int pc_tr_stop(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    int r = rtc_pc_transceiver_stop(rtc_pc_host_pc(p->h), h, now_of(p));
    rtc_pc_host_kick_soon(p->h);
    return pc_result(L, p, r);
}

/* pc:tr_set_encoding(h, active, max_bitrate[, rid]) -> true | nil, err (sender:set_parameters) */
static int pc_tr_set_encoding(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    double max_bps = luaL_optnumber(L, 4, 0);
    const char *rid = luaL_optstring(L, 5, NULL);
    int r = rtc_pc_transceiver_set_encoding_rid(rtc_pc_host_pc(p->h), h, rid, lua_toboolean(L, 3), max_bps);
    rtc_pc_host_kick_soon(p->h);
    return pc_result(L, p, r);
}

/* pc:tr_set_send_encodings(h, {rid, ...}) -> true | nil, err (rtc_pc_transceiver_set_send_encodings) */
static int pc_tr_set_send_encodings(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3);
    luaL_argcheck(L, n >= 1 && n <= 4, 3, "1..4 encodings expected");
    const char *rids[4];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 3, i);
        if (lua_type(L, -1) != LUA_TSTRING) return luaL_argerror(L, 3, "each rid must be a string");
        rids[i - 1] = lua_tostring(L, -1);           /* kept alive by the table */
        lua_pop(L, 1);
    }
    return pc_result(L, p, rtc_pc_transceiver_set_send_encodings(rtc_pc_host_pc(p->h), h, rids, (int)n));
}

/* pc:tr_encodings(h) -> { {rid=, active=, max_bitrate=, ssrc=, rtx_ssrc=, sending=,
 * frames_sent=, packets_sent=, retransmitted_packets=, nacks_received=, plis_received=}, ... } */
static int pc_tr_encodings(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    rtc_encoding_info e[4];
    int n = rtc_pc_transceiver_encodings(rtc_pc_host_pc(p->h), h, e, 4);
    if (n < 0) return pc_result(L, p, n);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_createtable(L, 0, 11);
        if (e[i].rid[0]) { lua_pushstring(L, e[i].rid); lua_setfield(L, -2, "rid"); }
        lua_pushboolean(L, e[i].active); lua_setfield(L, -2, "active");
        lua_pushboolean(L, e[i].sending); lua_setfield(L, -2, "sending");
        if (e[i].max_bitrate > 0) { lua_pushnumber(L, e[i].max_bitrate); lua_setfield(L, -2, "max_bitrate"); }
        lua_pushinteger(L, e[i].ssrc); lua_setfield(L, -2, "ssrc");
        lua_pushinteger(L, e[i].rtx_ssrc); lua_setfield(L, -2, "rtx_ssrc");
        lua_pushinteger(L, (lua_Integer)e[i].frames_sent); lua_setfield(L, -2, "frames_sent");
        lua_pushinteger(L, (lua_Integer)e[i].packets_sent); lua_setfield(L, -2, "packets_sent");
        lua_pushinteger(L, (lua_Integer)e[i].retransmitted_packets); lua_setfield(L, -2, "retransmitted_packets");
        lua_pushinteger(L, (lua_Integer)e[i].nacks_received); lua_setfield(L, -2, "nacks_received");
        lua_pushinteger(L, (lua_Integer)e[i].plis_received); lua_setfield(L, -2, "plis_received");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* pc:send_frame(h, data, timestamp, keyframe[, audio_level, voice, rid]) -> packets | nil, err
 * audio_level: RFC 6464 -dBov 0..127 for the frame's ssrc-audio-level extension. */
static int pc_send_frame(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    size_t len;
    const char *data = luaL_checklstring(L, 3, &len);
    lua_Integer ts = luaL_checkinteger(L, 4);
    if (!lua_isnoneornil(L, 6)) {
        lua_Integer lv = luaL_checkinteger(L, 6);
        luaL_argcheck(L, lv >= 0 && lv <= 127, 6, "audio_level must be 0..127");
        int r = rtc_pc_set_audio_level(rtc_pc_host_pc(p->h), h, (uint8_t)lv, lua_isnoneornil(L, 7) ? lv < 127 : lua_toboolean(L, 7));
        if (r == RTC_EINVAL) return luaL_argerror(L, 6, "only audio tracks carry an audio level");
    }
    const char *rid = luaL_optstring(L, 8, NULL);
    int r = rtc_pc_send_frame_rid(rtc_pc_host_pc(p->h), h, rid, (const uint8_t *)data, len, (uint32_t)ts,
                                  lua_toboolean(L, 5), now_of(p));
    rtc_pc_host_kick(p->h);
    if (r < 0) return pc_result(L, p, r);
    lua_pushinteger(L, r);
    return 1;
}

/* pc:set_transform(h, "send"|"receive", transform|nil) -> true | nil, err */
static int pc_set_transform(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    static const char *const dirs[] = { "send", "receive", NULL };
    int d = luaL_checkoption(L, 3, NULL, dirs) == 0 ? RTC_PC_SEND : RTC_PC_RECV;
    return pc_result(L, p, lrtc_transform_install(L, rtc_pc_host_pc(p->h), h, d, 4));
}

/* pc:transform_stats(h, "send"|"receive") -> {frames=, dropped=, failed=, bytes_in=, bytes_out=} */
static int pc_transform_stats(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    static const char *const dirs[] = { "send", "receive", NULL };
    int d = luaL_checkoption(L, 3, NULL, dirs) == 0 ? RTC_PC_SEND : RTC_PC_RECV;
    rtc_frame_transform_stats st;
    int r = rtc_pc_frame_transform_stats(rtc_pc_host_pc(p->h), h, d, &st);
    if (r < 0) return pc_result(L, p, r);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, (lua_Integer)st.frames); lua_setfield(L, -2, "frames");
    lua_pushinteger(L, (lua_Integer)st.dropped); lua_setfield(L, -2, "dropped");
    lua_pushinteger(L, (lua_Integer)st.failed); lua_setfield(L, -2, "failed");
    lua_pushinteger(L, (lua_Integer)st.bytes_in); lua_setfield(L, -2, "bytes_in");
    lua_pushinteger(L, (lua_Integer)st.bytes_out); lua_setfield(L, -2, "bytes_out");
    return 1;
}

static int pc_request_keyframe(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    int r = rtc_pc_request_keyframe(rtc_pc_host_pc(p->h), h, now_of(p));
    rtc_pc_host_kick(p->h);
    return pc_result(L, p, r);
}

static void set_num(lua_State *L, const char *k, double v) { lua_pushnumber(L, v); lua_setfield(L, -2, k); }

/* pc:transceiver_info(h) -> {mid=, kind=, direction=, current_direction=, codec=, ... counters} */
static int pc_tr_info(lua_State *L)
{
    lpc *p = check_pc(L);
    int h = check_tr(L, p, 2);
    rtc_transceiver_info i;
    rtc_pc_transceiver_info(rtc_pc_host_pc(p->h), h, &i);
    lua_createtable(L, 0, 48);
    set_int(L, "handle", i.handle);
    set_str(L, "kind", i.kind == RTC_MEDIA_AUDIO ? "audio" : "video");
    set_str(L, "mid", i.mid);
    set_str(L, "direction", rtc_media_direction_name(i.direction));
    if ((int)i.current_direction >= 0) set_str(L, "current_direction", rtc_media_direction_name(i.current_direction));
    set_bool(L, "negotiated", i.negotiated);
    set_bool(L, "stopped", i.stopped);
    set_bool(L, "stopping", i.stopping);
    set_bool(L, "removed", i.removed);
    set_bool(L, "has_sent", i.has_sent);
    if (i.codec >= 0) {
        set_str(L, "codec", rtc_codec_name((rtc_codec_id)i.codec));
        set_int(L, "payload_type", i.pt);
        set_int(L, "rtx_payload_type", i.rtx_pt);
        set_int(L, "red_payload_type", i.red_pt);
        set_bool(L, "red_send", i.red_send);
        set_int(L, "ulpfec_payload_type", i.ulpfec_pt);
        set_int(L, "clock_rate", i.clock_rate);
        set_str(L, "fmtp", i.fmtp);
        set_str(L, "remote_fmtp", i.remote_fmtp);
        set_bool(L, "nack", i.fb_nack);
        set_bool(L, "pli", i.fb_pli);
        set_bool(L, "fir", i.fb_fir);
        set_bool(L, "transport_cc", i.fb_twcc);
        set_bool(L, "remb", i.fb_remb);
    }
    if (i.nsimulcast > 0) {
        lua_createtable(L, i.nsimulcast, 0);
        for (int k = 0; k < i.nsimulcast && k < 4; k++) { lua_pushstring(L, i.simulcast[k]); lua_rawseti(L, -2, k + 1); }
        lua_setfield(L, -2, "simulcast");
    }
    if (i.has_inbound) {
        lua_createtable(L, 0, 16);
        set_int(L, "ssrc", i.remote_ssrc);
        set_int(L, "rtx_ssrc", i.remote_rtx_ssrc);
        set_int(L, "packets_received", (lua_Integer)i.packets_received);
        set_int(L, "bytes_received", (lua_Integer)i.bytes_received);
        set_int(L, "packets_lost", (lua_Integer)i.packets_lost);
        set_num(L, "jitter", i.jitter);
        set_int(L, "frames_received", (lua_Integer)i.frames_received);
        set_int(L, "keyframes_received", (lua_Integer)i.keyframes_received);
        set_int(L, "nack_count", (lua_Integer)i.nack_count);
        set_int(L, "pli_count", (lua_Integer)i.pli_count);
        set_int(L, "fir_count", (lua_Integer)i.fir_count);
        set_int(L, "rtx_received", (lua_Integer)i.rtx_received);
        set_int(L, "packets_repaired", (lua_Integer)i.packets_repaired);
        set_int(L, "red_packets_received", (lua_Integer)i.red_packets_received);
        set_int(L, "red_recovered", (lua_Integer)i.red_recovered);
        set_int(L, "fec_packets_received", (lua_Integer)i.fec_packets_received);
        set_int(L, "fec_packets_discarded", (lua_Integer)i.fec_packets_discarded);
        set_int(L, "fec_recovered", (lua_Integer)i.fec_recovered);
        set_int(L, "frames_dropped", (lua_Integer)i.frames_dropped);
        set_int(L, "packets_given_up", (lua_Integer)i.packets_given_up);
        set_int(L, "frames_skipped", (lua_Integer)i.frames_skipped);
        set_int(L, "packets_late", (lua_Integer)i.packets_late);
        if (i.remote_reports_sent) {           /* remote-outbound-rtp */
            set_int(L, "remote_reports_sent", (lua_Integer)i.remote_reports_sent);
            set_int(L, "remote_packets_sent", i.remote_packets_sent);
            set_int(L, "remote_bytes_sent", i.remote_bytes_sent);
            set_num(L, "remote_timestamp", i.remote_timestamp);
        }
        lua_setfield(L, -2, "inbound");
    }
    if (i.has_outbound) {
        lua_createtable(L, 0, 16);
        set_int(L, "ssrc", i.local_ssrc);
        set_int(L, "rtx_ssrc", i.local_rtx_ssrc);
        set_int(L, "packets_sent", (lua_Integer)i.packets_sent);
        set_int(L, "bytes_sent", (lua_Integer)i.bytes_sent);
        set_int(L, "frames_sent", (lua_Integer)i.frames_sent);
        set_int(L, "fec_packets_sent", (lua_Integer)i.fec_packets_sent);
        set_int(L, "retransmitted_packets", (lua_Integer)i.retransmitted_packets);
        set_int(L, "nack_count", (lua_Integer)i.nacks_received);
        set_int(L, "pli_count", (lua_Integer)i.plis_received);
        set_int(L, "fir_count", (lua_Integer)i.firs_received);
        set_num(L, "fraction_lost", i.fraction_lost);
        if (i.round_trip_time >= 0) set_num(L, "round_trip_time", i.round_trip_time);
        set_num(L, "total_round_trip_time", i.total_round_trip_time);
        set_int(L, "rtt_measurements", (lua_Integer)i.rtt_measurements);
        set_int(L, "reports_received", (lua_Integer)i.reports_received);
        set_int(L, "remote_packets_lost", (lua_Integer)i.remote_packets_lost);
        set_num(L, "remote_jitter", i.remote_jitter);
        lua_setfield(L, -2, "outbound");
    }
    return 1;
}

/* pc:bandwidth() -> the send-side estimate as a table, or nil before one exists */
static int pc_bandwidth(lua_State *L)
{
    lpc *p = check_pc(L);
    rtc_cc_estimate e;
    if (rtc_pc_get_bandwidth(rtc_pc_host_pc(p->h), &e) < 0) { lua_pushnil(L); return 1; }
    lua_createtable(L, 0, 10);
    lua_pushinteger(L, (lua_Integer)e.bps); lua_setfield(L, -2, "bps");
    lua_pushinteger(L, (lua_Integer)e.delay_bps); lua_setfield(L, -2, "delay_based");
    lua_pushinteger(L, (lua_Integer)e.loss_bps); lua_setfield(L, -2, "loss_based");
    lua_pushinteger(L, (lua_Integer)e.remb_bps); lua_setfield(L, -2, "remb");
    lua_pushinteger(L, (lua_Integer)e.probe_bps); lua_setfield(L, -2, "probe");
    lua_pushinteger(L, (lua_Integer)e.acked_bps); lua_setfield(L, -2, "acked");
    lua_pushnumber(L, e.loss_fraction); lua_setfield(L, -2, "loss_fraction");
    lua_pushstring(L, e.usage); lua_setfield(L, -2, "usage");
    lua_pushstring(L, e.state); lua_setfield(L, -2, "state");
    lua_pushboolean(L, e.alr); lua_setfield(L, -2, "alr");
    return 1;
}

static int pc_tr_count(lua_State *L)
{
    lpc *p = check_pc(L);
    lua_pushinteger(L, rtc_pc_transceiver_count(rtc_pc_host_pc(p->h)));
    return 1;
}

/* core.generate_certificate([{key="ecdsa"|"rsa"}]) -> cert_pem, key_pem, fingerprint */
static int l_generate_certificate(lua_State *L)
{
    rtc_dtls_key_type type = RTC_DTLS_KEY_ECDSA_P256;
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "key");
        const char *k = lua_tostring(L, -1);
        if (k && strcmp(k, "rsa") == 0) type = RTC_DTLS_KEY_RSA_2048;
        else if (k && strcmp(k, "ecdsa") != 0) return luaL_argerror(L, 1, "key must be \"ecdsa\" or \"rsa\"");
        lua_pop(L, 1);
    }
    lrtc_state *S = lrtc_state_get(L);
    rtc_dtls_cert *c;
    int r = rtc_dtls_cert_generate(&c, type, rtc_loop_rng(lrtc_get_loop(S)), (int64_t)time(NULL));
    if (r < 0) return lrtc_push_error(L, r, "certificate generation failed");
    char *cp, *kp;
    r = rtc_dtls_cert_to_pem(c, &cp, &kp);
    if (r < 0) { rtc_dtls_cert_unref(c); return lrtc_push_error(L, r, NULL); }
    lua_pushstring(L, cp);
    lua_pushstring(L, kp);
    lua_pushstring(L, rtc_dtls_cert_fingerprint(c));
    free(cp);
    free(kp);
    rtc_dtls_cert_unref(c);
    return 3;
}

/* core.certificate_fingerprint(cert_pem, key_pem) -> fingerprint | nil, err */
static int l_certificate_fingerprint(lua_State *L)
{
    size_t cl, kl;
    const char *cp = luaL_checklstring(L, 1, &cl), *kp = luaL_checklstring(L, 2, &kl);
    rtc_dtls_cert *c;
    int r = rtc_dtls_cert_from_pem(&c, cp, cl, kp, kl);
    if (r < 0) return lrtc_push_error(L, r, "invalid certificate or key PEM");
    lua_pushstring(L, rtc_dtls_cert_fingerprint(c));
    rtc_dtls_cert_unref(c);
    return 1;
}

/* pc:capture(path) -> true | nil, err; pc:stop_capture() -> packets | nil, err */
static int pc_capture(lua_State *L)
{
    lpc *p = check_pc(L);
    const char *path = luaL_checkstring(L, 2);
    int r = rtc_pc_capture_start(rtc_pc_host_pc(p->h), path, rtc_clock_unix_us());
    if (r < 0) return lrtc_push_error(L, r, "cannot capture to '%s'", path);
    lua_pushboolean(L, 1);
    return 1;
}

static int pc_stop_capture(lua_State *L)
{
    lpc *p = check_pc(L);
    int64_t n = rtc_pc_capture_stop(rtc_pc_host_pc(p->h));
    if (n < 0) return lrtc_push_error(L, (int)n, "the capture file could not be written in full");
    lua_pushinteger(L, (lua_Integer)n);
    return 1;
}

static int pc_id(lua_State *L)
{
    lua_pushstring(L, rtc_pc_host_id(check_pc(L)->h));
    return 1;
}

/* Every method runs with its connection's id entered (core/rtc_log.h), so lines logged
 * by the machine inside (a candidate not used, a receiver not created) name it. A
 * method that raises skips the leave; the next entry of any connection replaces it. */
static int conn_scoped(lua_State *L)
{
    lua_CFunction f = lua_tocfunction(L, lua_upvalueindex(1));
    lrtc_obj *o = luaL_testudata(L, 1, pc_class.name);
    if (!o || o->closed || !o->ptr) return f(L);
    const char *prev = rtc_log_conn_enter(rtc_pc_host_id(((lpc *)o->ptr)->h));
    int n = f(L);
    rtc_log_conn_leave(prev);
    return n;
}

void lrtc__open_pc(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "create_offer", pc_create_offer }, { "create_answer", pc_create_answer },
        { "set_local", pc_set_local }, { "set_remote", pc_set_remote },
        { "add_candidate", pc_add_candidate },
        { "local_description", pc_local_description }, { "remote_description", pc_remote_description },
        { "restart_ice", pc_restart_ice }, { "set_servers", pc_set_servers },
        { "set_transport_policy", pc_set_transport_policy }, { "states", pc_states },
        { "create_channel", pc_create_channel }, { "dc_send", pc_dc_send }, { "dc_close", pc_dc_close },
        { "dc_info", pc_dc_info }, { "dc_buffered", pc_dc_buffered }, { "dc_set_threshold", pc_dc_set_threshold },
        { "raw_stats", pc_raw_stats }, { "local_addresses", pc_local_addresses }, { "fingerprint", pc_fingerprint },
        { "add_transceiver", pc_add_transceiver }, { "tr_set_direction", pc_tr_set_direction },
        { "send_frame", pc_send_frame }, { "request_keyframe", pc_request_keyframe },
        { "set_transform", pc_set_transform }, { "transform_stats", pc_transform_stats },
        { "tr_info", pc_tr_info }, { "tr_count", pc_tr_count }, { "id", pc_id }, { "tr_set_codec", pc_tr_set_codec },
        { "tr_set_fec", pc_tr_set_fec },
        { "tr_set_encoding", pc_tr_set_encoding }, { "tr_set_send_encodings", pc_tr_set_send_encodings },
        { "tr_encodings", pc_tr_encodings }, { "tr_stop", pc_tr_stop },
        { "set_video_orientation", pc_set_video_orientation },
        { "capture", pc_capture }, { "stop_capture", pc_stop_capture }, { "bandwidth", pc_bandwidth },
        { NULL, NULL } };
    lrtc_obj_new(L, &pc_class, sizeof(lrtc_obj), methods);
    lua_getmetatable(L, -1);
    lua_getfield(L, -1, "__index");
    for (const luaL_Reg *m = methods; m->name; m++) {
        lua_pushcfunction(L, m->func);
        lua_pushcclosure(L, conn_scoped, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 3);
    lua_pushcfunction(L, l_peer_connection);
    lua_setfield(L, -2, "peer_connection");
    static const luaL_Reg mux_methods[] = { { "local_address", mux_local_address }, { "stats", mux_stats }, { NULL, NULL } };
    lrtc_obj_new(L, &mux_class, sizeof(lrtc_obj), mux_methods);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_udp_mux);
    lua_setfield(L, -2, "udp_mux");
    lua_pushcfunction(L, l_generate_certificate);
    lua_setfield(L, -2, "generate_certificate");
    lua_pushcfunction(L, l_certificate_fingerprint);
    lua_setfield(L, -2, "certificate_fingerprint");
    lrtc__open_transform(L);
}
