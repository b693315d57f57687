/* The C half of the TURN server module: core.turn_server(cfg) -> rtc.turn_server, a
 * userdata over io/rtc_turn_host. modules/turn.lua normalises the options.
 *
 * Events: "allocate"(info), "deallocate"(info), "permission"(info), "close"().
 * Policy callbacks are called synchronously while a request is being answered:
 *   auth(user, realm) -> password | nil          (users not in the static table)
 *   on_allocate(info) -> truthy to allow          (info: username, client, transport)
 *   on_permission(info) -> truthy to allow        (info: ... plus peer)
 * An error raised in one of them is logged and counts as a refusal. */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include "core/rtc_log.h"
#include "io/rtc_netif.h"
#include "io/rtc_turn_host.h"
#include "stun/stun.h"
#include "tls/tls_context.h"
#include <stdlib.h>
#include <string.h>

enum { EV_ALLOCATE, EV_DEALLOCATE, EV_PERMISSION, EV_CLOSE };
static const char *const turn_events[] = { "allocate", "deallocate", "permission", "close", NULL };

typedef struct lturn {
    lrtc_link link;
    rtc_turn_host *h;
    int auth_ref, allocate_ref, permission_ref;
} lturn;

static void unref_policy(lturn *t)
{
    if (!t->link.S || lrtc_closing(t->link.S)) return;
    lua_State *L = lrtc_main_thread(t->link.S);
    lrtc_unref(L, &t->auth_ref);
    lrtc_unref(L, &t->allocate_ref);
    lrtc_unref(L, &t->permission_ref);
}

static void host_closed(rtc_turn_host *h, void *ud)
{
    (void)h;
    lturn *t = ud;
    unref_policy(t);
    if (t->link.owner && !lrtc_closing(t->link.S)) lrtc_obj_finish(lrtc_main_thread(t->link.S), t->link.owner);
    free(t);
}

static void lt_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    lturn *t = o->ptr;
    rtc_turn_host_close(t->h, host_closed, t);
}

static const lrtc_class turn_class = { "rtc.turn_server", turn_events, EV_CLOSE, lt_close };

static void push_addr_str(lua_State *L, const rtc_addr *a)
{
    char b[RTC_ADDR_STRLEN];
    lua_pushstring(L, rtc_addr_str(a, b, sizeof b));
}

static void set_str(lua_State *L, const char *k, const char *v) { lua_pushstring(L, v); lua_setfield(L, -2, k); }
static void set_addr(lua_State *L, const char *k, const rtc_addr *a) { push_addr_str(L, a); lua_setfield(L, -2, k); }

/* ====== policy callbacks (synchronous) ====== */

/* Calls the function on top with n args, one result; false on error (logged). */
static bool call1(lua_State *L, int nargs)
{
    if (lua_pcall(L, nargs, 1, 0) != LUA_OK) {
        rtc_error("turn", "policy callback error: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static int get_key_cb(void *ud, rtc_str user, rtc_str realm, uint8_t key[16])
{
    lturn *t = ud;
    if (t->auth_ref == LUA_NOREF || !t->link.owner || lrtc_closing(t->link.S)) return -1;
    lua_State *L = lrtc_main_thread(t->link.S);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->auth_ref);
    lua_pushlstring(L, user.p, user.len);
    lua_pushlstring(L, realm.p, realm.len);
    if (!call1(L, 2)) return -1;
    size_t n;
    const char *pass = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    int r = -1;
    uint8_t k[32];
    if (pass && rtc_stun_long_term_key(user, realm, (rtc_str){ pass, n }, RTC_STUN_PWALG_MD5, k) == 16) {
        memcpy(key, k, 16);
        r = 16;
    }
    lua_pop(L, 1);
    return r;
}

static int authorize_cb(void *ud, const rtc_turn_authz *q)
{
    lturn *t = ud;
    int ref = q->kind == RTC_TURN_AUTHZ_ALLOCATE ? t->allocate_ref : t->permission_ref;
    if (ref == LUA_NOREF) return 0;
    if (!t->link.owner || lrtc_closing(t->link.S)) return -1;
    lua_State *L = lrtc_main_thread(t->link.S);
    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_createtable(L, 0, 4);
    lua_pushlstring(L, q->username.p, q->username.len);
    lua_setfield(L, -2, "username");
    set_addr(L, "client", q->client);
    set_str(L, "transport", q->proto == RTC_PROTO_UDP ? "udp" : rtc_turn_host_is_tls(t->h, q->local) ? "tls" : "tcp");
    if (q->peer) set_addr(L, "peer", q->peer);
    if (!call1(L, 1)) return -1;
    int ok = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return ok ? 0 : -1;
}

/* ====== events ====== */

static void on_host_event(rtc_turn_host *h, const rtc_turn_srv_event *e, void *ud)
{
    (void)h;
    lturn *t = ud;
    lrtc_obj *o = t->link.owner;
    if (!o || o->closed || lrtc_closing(t->link.S)) return;
    int ev;
    switch (e->type) {
    case RTC_TURN_SRV_EV_ALLOCATED: ev = EV_ALLOCATE; break;
    case RTC_TURN_SRV_EV_DEALLOCATED: ev = EV_DEALLOCATE; break;
    case RTC_TURN_SRV_EV_PERMISSION: ev = EV_PERMISSION; break;
    default: return;
    }
    lua_State *L = lrtc_main_thread(t->link.S);
    if (!lrtc_obj_push_cb(L, o, ev)) return;
    lua_createtable(L, 0, 8);
    lua_pushinteger(L, (lua_Integer)e->alloc_id);
    lua_setfield(L, -2, "id");
    set_str(L, "username", e->username);
    set_addr(L, "client", &e->client);
    set_str(L, "transport", e->proto == RTC_PROTO_UDP ? "udp" : rtc_turn_host_is_tls(t->h, &e->local) ? "tls" : "tcp");
    if (ev == EV_PERMISSION) {
        set_addr(L, "peer", &e->addr);
    } else {
        if (rtc_addr_family(&e->addr)) set_addr(L, "relay", &e->addr);
        if (rtc_addr_family(&e->addr2)) set_addr(L, "relay2", &e->addr2);
    }
    if (e->reason && ev == EV_DEALLOCATE) set_str(L, "reason", e->reason);
    lrtc_call(L, 1);
}

/* ====== construction ====== */

static uint32_t opt_u32(lua_State *L, int idx, const char *k, uint32_t def)
{
    lua_getfield(L, idx, k);
    lua_Integer v = luaL_optinteger(L, -1, def);
    lua_pop(L, 1);
    if (v < 0 || v > 0x7FFFFFFF) luaL_error(L, "turn_server: %s out of range", k);
    return (uint32_t)v;
}

static bool opt_bool(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    bool b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

/* A string field, valid while the config table is alive (the machine copies it). */
static rtc_str opt_str(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    size_t n = 0;
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    lua_pop(L, 1);
    return (rtc_str){ s, s ? n : 0 };
}

static void opt_ip(lua_State *L, int idx, const char *k, rtc_addr *out)
{
    lua_getfield(L, idx, k);
    const char *s = lua_tostring(L, -1);
    if (s && rtc_addr_set(out, s, 0) < 0) luaL_error(L, "turn_server: %s must be a numeric IP address", k);
    lua_pop(L, 1);
}

/* Raises unless field k is nil or callable (checked before anything is created). */
static void check_fn(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    if (!lua_isnil(L, -1) && !lrtc_is_callable(L, -1)) luaL_error(L, "turn_server: %s must be a function", k);
    lua_pop(L, 1);
}

static int ref_fn(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    if (lua_isnil(L, -1)) { lua_pop(L, 1); return LUA_NOREF; }
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* "ip/prefix" strings of a list field into peer rules; with s NULL only checks them
 * (done before anything is created, so a bad entry raises without leaking). */
static void read_rules(lua_State *L, int idx, const char *k, rtc_turn_server *s, bool allow)
{
    lua_getfield(L, idx, k);
    if (lua_istable(L, -1)) {
        for (lua_Integer i = 1;; i++) {
            if (lua_rawgeti(L, -1, i) == LUA_TNIL) { lua_pop(L, 1); break; }
            const char *v = lua_tostring(L, -1);
            char ip[64];
            int prefix = -1;
            const char *slash = v ? strchr(v, '/') : NULL;
            size_t n = v ? (slash ? (size_t)(slash - v) : strlen(v)) : 0;
            rtc_addr a;
            if (!v || n >= sizeof ip) luaL_error(L, "turn_server: bad %s entry", k);
            memcpy(ip, v, n);
            ip[n] = 0;
            if (rtc_addr_set(&a, ip, 0) < 0) luaL_error(L, "turn_server: bad address in %s: %s", k, v);
            prefix = slash ? atoi(slash + 1) : (rtc_addr_family(&a) == AF_INET ? 32 : 128);
            if (prefix < 0 || prefix > (rtc_addr_family(&a) == AF_INET ? 32 : 128) ||
                (s && rtc_turn_server_add_peer_rule(s, &a, prefix, allow) < 0))
                luaL_error(L, "turn_server: bad prefix in %s: %s", k, v);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static int add_users(lua_State *L, int idx, rtc_turn_server *s)
{
    lua_getfield(L, idx, "users");
    if (lua_istable(L, -1)) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            size_t ul, pl;
            const char *u = lua_type(L, -2) == LUA_TSTRING ? lua_tolstring(L, -2, &ul) : NULL;
            const char *p = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &pl) : NULL;
            if (!u || !p || rtc_turn_server_add_user(s, (rtc_str){ u, ul }, (rtc_str){ p, pl }) < 0) {
                lua_pop(L, 3);
                return RTC_EINVAL;
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return 0;
}

/* core.turn_server{ listen = {"ip:port", ...}, tcp=, tls_listen = {"ip:port", ...},
 *   tls_cert=, tls_key= (PEM files), tls_cert_pem=, tls_key_pem= (PEM text), realm=, software=, secret=,
 *   relay_ip=, relay_ip6=, min_port=, max_port=, users = {name = pass}, auth = fn,
 *   on_allocate = fn, on_permission = fn, allow_loopback=, allow_private=,
 *   allow_link_local=, deny = {"cidr"}, allow = {"cidr"}, lifetime=, max_lifetime=,
 *   permission_lifetime=, channel_lifetime=, nonce_lifetime=, max_allocations=,
 *   max_per_user=, max_permissions=, max_channels=, max_tcp_conns=, max_tcp_per_ip=,
 *   bandwidth= } */
static int l_turn_server(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    /* on the C stack: the checks below may raise, and nothing must leak when they do */
    rtc_turn_host_config cfgv;
    memset(&cfgv, 0, sizeof cfgv);
    rtc_turn_host_config *cfg = &cfgv;
    lua_getfield(L, 1, "listen");
    if (!lua_istable(L, -1)) { return luaL_error(L, "turn_server: listen must be a list of \"ip:port\""); }
    for (lua_Integer i = 1; cfg->nlisten < RTC_TURN_HOST_MAX_LISTEN; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TNIL) { lua_pop(L, 1); break; }
        const char *s = lua_tostring(L, -1);
        if (!s || rtc_addr_parse(&cfg->listen[cfg->nlisten], s) < 0)
            return luaL_error(L, "turn_server: bad listen address '%s'", s ? s : "?");
        cfg->nlisten++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, 1, "tls_listen");
    if (!lua_isnil(L, -1) && !lua_istable(L, -1)) return luaL_error(L, "turn_server: tls_listen must be a list of \"ip:port\"");
    for (lua_Integer i = 1; lua_istable(L, -1) && cfg->ntls_listen < RTC_TURN_HOST_MAX_LISTEN; i++) {
        if (lua_rawgeti(L, -1, i) == LUA_TNIL) { lua_pop(L, 1); break; }
        const char *s = lua_tostring(L, -1);
        if (!s || rtc_addr_parse(&cfg->tls_listen[cfg->ntls_listen], s) < 0)
            return luaL_error(L, "turn_server: bad tls_listen address '%s'", s ? s : "?");
        cfg->ntls_listen++;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    rtc_tls_context_config tcfg = { .role = RTC_TLS_SERVER };
    tcfg.cert_file = opt_str(L, 1, "tls_cert").p;
    tcfg.key_file = opt_str(L, 1, "tls_key").p;
    tcfg.cert_pem = opt_str(L, 1, "tls_cert_pem").p;
    tcfg.key_pem = opt_str(L, 1, "tls_key_pem").p;
    if (cfg->ntls_listen > 0 && !(tcfg.cert_file && tcfg.key_file) && !(tcfg.cert_pem && tcfg.key_pem))
        return luaL_error(L, "turn_server: a TLS listener needs a certificate and a key (PEM)");
    rtc_turn_server_config *sc = &cfg->server;
    cfg->tcp = opt_bool(L, 1, "tcp");
    sc->realm = opt_str(L, 1, "realm");
    sc->software = opt_str(L, 1, "software");
    sc->rest_secret = opt_str(L, 1, "secret");
    opt_ip(L, 1, "relay_ip", &sc->relay_v4);
    opt_ip(L, 1, "relay_ip6", &sc->relay_v6);
    sc->min_port = (uint16_t)opt_u32(L, 1, "min_port", 0);
    sc->max_port = (uint16_t)opt_u32(L, 1, "max_port", 0);
    sc->default_lifetime = opt_u32(L, 1, "lifetime", 0);
    sc->max_lifetime = opt_u32(L, 1, "max_lifetime", 0);
    sc->permission_lifetime = opt_u32(L, 1, "permission_lifetime", 0);
    sc->channel_lifetime = opt_u32(L, 1, "channel_lifetime", 0);
    sc->nonce_lifetime = opt_u32(L, 1, "nonce_lifetime", 0);
    sc->max_allocations = opt_u32(L, 1, "max_allocations", 0);
    sc->max_per_user = opt_u32(L, 1, "max_per_user", 0);
    sc->max_permissions = opt_u32(L, 1, "max_permissions", 0);
    sc->max_channels = opt_u32(L, 1, "max_channels", 0);
    sc->max_tcp_conns = opt_u32(L, 1, "max_tcp_conns", 0);
    sc->max_tcp_per_ip = opt_u32(L, 1, "max_tcp_per_ip", 0);
    sc->bandwidth = opt_u32(L, 1, "bandwidth", 0);
    sc->allow_loopback = opt_bool(L, 1, "allow_loopback");
    sc->allow_private = opt_bool(L, 1, "allow_private");
    sc->allow_link_local = opt_bool(L, 1, "allow_link_local");
    if (!rtc_addr_family(&sc->relay_v4) && !rtc_addr_family(&sc->relay_v6)) {
        /* relay on the first listen address's IP unless told otherwise; a wildcard
         * listener relays on the first interface address of its family (a relayed
         * address of 0.0.0.0 would mean nothing to a client) */
        rtc_addr *ip = rtc_addr_family(&cfg->listen[0]) == AF_INET6 ? &sc->relay_v6 : &sc->relay_v4;
        *ip = cfg->listen[0];
        rtc_addr_set_port(ip, 0);
        if (rtc_addr_is_any(ip)) {
            rtc_netif_addr ifs[16];
            int n = rtc_netif_list(ifs, 16, false), fam = rtc_addr_family(ip);
            memset(ip, 0, sizeof *ip);
            for (int i = 0; i < n; i++)
                if (rtc_addr_family(&ifs[i].addr) == fam) { *ip = ifs[i].addr; break; }
            if (!rtc_addr_family(ip)) { return luaL_error(L, "turn_server: no interface address to relay on; set relay_ip"); }
        }
    }
    if (sc->realm.len == 0) { return luaL_error(L, "turn_server: realm is required"); }
    check_fn(L, 1, "auth");
    check_fn(L, 1, "on_allocate");
    check_fn(L, 1, "on_permission");
    read_rules(L, 1, "deny", NULL, false);
    read_rules(L, 1, "allow", NULL, true);
    if (sc->min_port > sc->max_port) { return luaL_error(L, "turn_server: min_port > max_port"); }

    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &turn_class, sizeof(lrtc_obj), NULL);
    lturn *t = calloc(1, sizeof *t);
    if (!t) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    t->auth_ref = t->allocate_ref = t->permission_ref = LUA_NOREF;
    sc->get_key = get_key_cb;
    sc->authorize = authorize_cb;
    sc->auth_ud = t;
    if (cfg->ntls_listen > 0) {
        char err[RTC_TLS_ERRLEN];
        int tr = rtc_tls_context_new(&cfg->tls, &tcfg, err, sizeof err);
        if (tr < 0) {
            free(t);
            return lrtc_push_error(L, tr, "%s", err);
        }
    }
    int r = rtc_turn_host_new(&t->h, lrtc_get_loop(S), cfg, on_host_event, t);
    rtc_tls_context_unref(cfg->tls);          /* the host holds its own ref */
    if (r < 0) {
        free(t);
        return lrtc_push_error(L, r, r == RTC_EIO ? "cannot listen on the given addresses" : NULL);
    }
    t->link.S = S;
    rtc_turn_server *s = rtc_turn_host_server(t->h);
    if (add_users(L, 1, s) < 0) {
        rtc_turn_host_close(t->h, host_closed, t);
        return luaL_error(L, "turn_server: users must map names to password strings");
    }
    read_rules(L, 1, "deny", s, false);
    read_rules(L, 1, "allow", s, true);
    t->auth_ref = ref_fn(L, 1, "auth");
    t->allocate_ref = ref_fn(L, 1, "on_allocate");
    t->permission_ref = ref_fn(L, 1, "on_permission");
    lrtc_obj_open(L, o, -1, t);
    return 1;
}

/* ====== methods ====== */

static lturn *check_turn(lua_State *L) { return lrtc_obj_check(L, 1, &turn_class)->ptr; }

/* srv:local_address([i]) -> ip, port of listener i (1-based) */
static int lt_local_address(lua_State *L)
{
    lturn *t = check_turn(L);
    rtc_addr a;
    if (rtc_turn_host_local_addr(t->h, (int)luaL_optinteger(L, 2, 1) - 1, &a) < 0)
        return lrtc_push_error(L, RTC_ENOTFOUND, "no such listener");
    return lrtc_push_addr(L, &a);
}

/* srv:tls_address([i]) -> ip, port of TLS listener i (1-based) */
static int lt_tls_address(lua_State *L)
{
    lturn *t = check_turn(L);
    rtc_addr a;
    if (rtc_turn_host_tls_addr(t->h, (int)luaL_optinteger(L, 2, 1) - 1, &a) < 0)
        return lrtc_push_error(L, RTC_ENOTFOUND, "no such TLS listener");
    return lrtc_push_addr(L, &a);
}

/* srv:add_user(name, password): adds or replaces a static user */
static int lt_add_user(lua_State *L)
{
    lturn *t = check_turn(L);
    size_t ul, pl;
    const char *u = luaL_checklstring(L, 2, &ul), *p = luaL_checklstring(L, 3, &pl);
    int r = rtc_turn_server_add_user(rtc_turn_host_server(t->h), (rtc_str){ u, ul }, (rtc_str){ p, pl });
    if (r < 0) return lrtc_push_error(L, r, "add_user");
    lua_pushboolean(L, 1);
    return 1;
}

static int lt_get_stats(lua_State *L)
{
    lturn *t = check_turn(L);
    rtc_turn_server_stats st;
    rtc_turn_host_stats hs;
    rtc_turn_server_get_stats(rtc_turn_host_server(t->h), &st);
    rtc_turn_host_get_stats(t->h, &hs);
    lua_createtable(L, 0, 48);
#define F(n) lua_pushinteger(L, (lua_Integer)st.n); lua_setfield(L, -2, #n)
    F(allocations); F(allocations_total); F(tcp_conns); F(binding_requests); F(requests);
    F(responses_ok); F(responses_err); F(err_400); F(err_401); F(err_403); F(err_420); F(err_437);
    F(err_438); F(err_440); F(err_441); F(err_442); F(err_443); F(err_486); F(err_508);
    F(relayed_to_peer); F(relayed_to_peer_bytes); F(relayed_to_client); F(relayed_to_client_bytes);
    F(dropped_malformed); F(dropped_no_allocation); F(dropped_no_permission); F(dropped_bandwidth);
    F(dropped_queue); F(dropped_unknown_channel); F(expired_allocations); F(expired_permissions);
    F(expired_channels);
#undef F
#define H(n) lua_pushinteger(L, (lua_Integer)hs.n); lua_setfield(L, -2, #n)
    H(udp_rx); H(udp_tx); H(tcp_accepted); H(tcp_rx_bytes); H(tcp_tx_bytes); H(tcp_tx_dropped); H(tcp_tx_queued_peak);
    H(relays_open); H(relay_bind_failures); H(relay_rx); H(relay_tx);
    H(tls_accepted); H(tls_handshakes); H(tls_failures);
#undef H
    return 1;
}

/* core.turn_rest_password(secret, username) -> base64(HMAC-SHA1(secret, username)) */
static int l_rest_password(lua_State *L)
{
    size_t sl, ul;
    const char *sec = luaL_checklstring(L, 1, &sl), *user = luaL_checklstring(L, 2, &ul);
    char out[64];
    int n = rtc_turn_rest_password((rtc_str){ sec, sl }, (rtc_str){ user, ul }, out, sizeof out);
    if (n < 0) return lrtc_push_error(L, n, NULL);
    lua_pushlstring(L, out, (size_t)n);
    return 1;
}

void lrtc__open_turn(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "local_address", lt_local_address }, { "tls_address", lt_tls_address }, { "add_user", lt_add_user },
        { "get_stats", lt_get_stats }, { NULL, NULL } };
    lrtc_obj_new(L, &turn_class, sizeof(lrtc_obj), methods);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_turn_server);
    lua_setfield(L, -2, "turn_server");
    lua_pushcfunction(L, l_rest_password);
    lua_setfield(L, -2, "turn_rest_password");
}
