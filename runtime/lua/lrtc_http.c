/* Lua binding of the HTTP/1.1 and WebSocket codec (runtime/http/, docs/http.md).
 *
 * The codec objects are pure state machines with no libuv handles, so they are plain
 * userdata (freed by __gc or :close()), not lrtc_obj: nothing fires on its own. The
 * Lua side (modules/http.lua) owns the TCP stream and the timers and drives them:
 *
 *   core.http_parser("request"|"response", {max_body=, ...}) -> parser
 *     parser:feed(data, pos) -> used, msg|nil, status|nil, err_text|nil
 *       bytes data[pos..] are offered; `used` of them were taken. msg is a table
 *       (method, target, path, query, status, reason, version, headers (lower-case
 *       names, repeats joined with ", "), body, keep_alive, upgrade). status is set
 *       when the parser failed (400/413/414/431/501/505), or 0 once the connection
 *       must end (after a non-keep-alive message). Feed the rest after handling msg.
 *     parser:ws_accept(protocols|nil) -> ok, response_bytes, selected   (the message
 *       just returned by feed must be the upgrade request; views die at the next feed)
 *     parser:ws_check(key, protocols|nil) -> true, selected | nil, err   (client)
 *     parser:eof() -> msg|nil, err; parser:expect_no_body(); parser:close()
 *   core.ws_new{role=, max_message=, close_timeout=ms, ping_interval=ms} -> ws
 *     ws:feed(data, pos) -> used, err|nil; then drain ws:poll_event() and
 *     ws:output() (all queued frames as one string) until both give nil, then arm one
 *     timer for ws:timeout() (milliseconds from now, nil when none) calling
 *     ws:handle_timeout(). Sends: send_text, send_binary, send_fragment, ping, close.
 *   Helpers: http_response, http_request, http_normalize_path, http_content_type,
 *   http_query_param, http_url_decode, base64_encode/decode, sha1, hmac_sha1,
 *   hmac_sha256, ct_equal, utf8_valid, ws_client_request.
 * Time is read here (rtc_clock_now) and passed to the machines as `now`. */
#include "lua/lrtc.h"
#include "core/rtc_time.h"
#include "http/http_crypto.h"
#include "http/http_parser.h"
#include "http/http_static.h"
#include "http/http_url.h"
#include "http/http_writer.h"
#include "http/websocket.h"
#include "http/ws_handshake.h"
#include <stdlib.h>
#include <string.h>

#define PARSER_MT "rtc.http_parser"
#define WS_MT "rtc.ws"

typedef struct lparser {
    rtc_http_parser *p;
    rtc_http_message m;     /* the last polled message; views valid until the next feed */
    int have_msg;
} lparser;

typedef struct lws {
    rtc_ws *ws;
} lws;

static lparser *check_parser(lua_State *L, int idx)
{
    lparser *lp = luaL_checkudata(L, idx, PARSER_MT);
    if (!lp->p) luaL_error(L, "attempt to use a closed rtc.http_parser");
    return lp;
}

static lws *check_ws(lua_State *L, int idx)
{
    lws *w = luaL_checkudata(L, idx, WS_MT);
    if (!w->ws) luaL_error(L, "attempt to use a closed rtc.ws");
    return w;
}

static size_t opt_size(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    lua_Integer v = luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    if (v < 0) luaL_error(L, "%s must be >= 0", k);
    return (size_t)v;
}

/* Byte range data[pos..] of the string at idx; pos is 1-based as in string.sub. */
static const uint8_t *check_range(lua_State *L, int idx, int pidx, size_t *len)
{
    size_t n;
    const char *s = luaL_checklstring(L, idx, &n);
    lua_Integer pos = luaL_optinteger(L, pidx, 1);
    luaL_argcheck(L, pos >= 1 && (size_t)pos <= n + 1, pidx, "position out of range");
    *len = n - (size_t)(pos - 1);
    return (const uint8_t *)s + (pos - 1);
}

/* ====== HTTP parser ====== */

static int l_parser_new(lua_State *L)
{
    const char *kind = luaL_checkstring(L, 1);
    rtc_http_kind k;
    if (strcmp(kind, "request") == 0) k = RTC_HTTP_REQUEST;
    else if (strcmp(kind, "response") == 0) k = RTC_HTTP_RESPONSE;
    else return luaL_argerror(L, 1, "expected \"request\" or \"response\"");
    rtc_http_limits lim = { 0 };
    if (lua_istable(L, 2)) {
        lim.max_start_line = opt_size(L, 2, "max_start_line");
        lim.max_header_bytes = opt_size(L, 2, "max_header_bytes");
        lim.max_headers = opt_size(L, 2, "max_headers");
        lim.max_body = opt_size(L, 2, "max_body");
    }
    lparser *lp = lua_newuserdatauv(L, sizeof *lp, 0);
    memset(lp, 0, sizeof *lp);
    luaL_setmetatable(L, PARSER_MT);
    int r = rtc_http_parser_new(&lp->p, k, &lim);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    return 1;
}

static void push_str(lua_State *L, rtc_str s) { lua_pushlstring(L, s.p ? s.p : "", s.len); }

static void push_headers(lua_State *L, const rtc_http_header *h, size_t n)
{
    lua_createtable(L, 0, (int)n);
    for (size_t i = 0; i < n; i++) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (size_t j = 0; j < h[i].name.len; j++) {
            char c = h[i].name.p[j];
            luaL_addchar(&b, (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c);
        }
        luaL_pushresult(&b);                       /* name */
        lua_pushvalue(L, -1);
        if (lua_rawget(L, -3) == LUA_TSTRING) {    /* repeated field: one list */
            lua_pushliteral(L, ", ");
            push_str(L, h[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            push_str(L, h[i].value);
        }
        lua_rawset(L, -3);
    }
}

static void push_message(lua_State *L, const rtc_http_message *m)
{
    lua_createtable(L, 0, 14);
    if (m->is_request) {
        push_str(L, m->method);
        lua_setfield(L, -2, "method");
        push_str(L, m->target);
        lua_setfield(L, -2, "target");
        push_str(L, rtc_http_target_path(m->target));
        lua_setfield(L, -2, "path");
        rtc_str q = rtc_http_target_query(m->target);
        if (q.p) {
            push_str(L, q);
            lua_setfield(L, -2, "query");
        }
    } else {
        lua_pushinteger(L, m->status);
        lua_setfield(L, -2, "status");
        push_str(L, m->reason);
        lua_setfield(L, -2, "reason");
    }
    lua_pushinteger(L, m->version);
    lua_setfield(L, -2, "version");
    push_headers(L, m->headers, m->nheaders);
    lua_setfield(L, -2, "headers");
    if (m->ntrailers) {
        push_headers(L, m->trailers, m->ntrailers);
        lua_setfield(L, -2, "trailers");
    }
    lua_pushlstring(L, m->body ? (const char *)m->body : "", m->body_len);
    lua_setfield(L, -2, "body");
    lua_pushboolean(L, m->keep_alive);
    lua_setfield(L, -2, "keep_alive");
    lua_pushboolean(L, m->upgrade);
    lua_setfield(L, -2, "upgrade");
    lua_pushboolean(L, m->chunked);
    lua_setfield(L, -2, "chunked");
}

/* parser:feed(data, pos) -> used, msg|nil, status|nil, err_text|nil */
static int l_parser_feed(lua_State *L)
{
    lparser *lp = check_parser(L, 1);
    size_t len;
    const uint8_t *d = check_range(L, 2, 3, &len);
    lp->have_msg = 0;
    size_t used = 0;
    int r = rtc_http_parser_handle_data(lp->p, d, len, &used);
    lua_pushinteger(L, (lua_Integer)used);
    if (rtc_http_parser_poll_message(lp->p, &lp->m) == 1) {
        lp->have_msg = 1;
        push_message(L, &lp->m);
    } else {
        lua_pushnil(L);
    }
    if (r == RTC_ECLOSED) {
        lua_pushinteger(L, 0);
        lua_pushliteral(L, "connection ends after this message");
        return 4;
    }
    if (r < 0 && r != RTC_EAGAIN) {
        lua_pushinteger(L, rtc_http_parser_error_status(lp->p));
        lua_pushstring(L, rtc_http_parser_error_text(lp->p));
        return 4;
    }
    return 2;
}

/* parser:eof() -> msg | nil, err */
static int l_parser_eof(lua_State *L)
{
    lparser *lp = check_parser(L, 1);
    lp->have_msg = 0;
    int r = rtc_http_parser_handle_eof(lp->p);
    if (rtc_http_parser_poll_message(lp->p, &lp->m) == 1) {
        lp->have_msg = 1;
        push_message(L, &lp->m);
        return 1;
    }
    if (r < 0) return lrtc_push_error(L, r, "stream ended inside a message");
    lua_pushnil(L);
    return 1;
}

static int l_parser_expect_no_body(lua_State *L)
{
    rtc_http_parser_expect_no_body(check_parser(L, 1)->p);
    return 0;
}

static int l_parser_buffered(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtc_http_parser_buffered(check_parser(L, 1)->p));
    return 1;
}

/* A Lua list of strings as a C array; returns the count (at most `max`). */
static size_t get_protocols(lua_State *L, int idx, const char **out, size_t max)
{
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    size_t n = 0;
    for (lua_Integer i = 1; n < max; i++) {
        if (lua_rawgeti(L, idx, i) == LUA_TNIL) {
            lua_pop(L, 1);
            break;
        }
        /* The string stays alive: it is referenced by the table we were given. */
        out[n++] = luaL_checkstring(L, -1);
        lua_pop(L, 1);
    }
    return n;
}

/* parser:ws_accept(protocols) -> ok, response_bytes, selected|nil */
static int l_parser_ws_accept(lua_State *L)
{
    lparser *lp = check_parser(L, 1);
    if (!lp->have_msg || !lp->m.is_request) return luaL_error(L, "ws_accept: no request message at hand");
    const char *protos[16];
    size_t np = get_protocols(L, 2, protos, 16);
    rtc_http_buf out = { 0 };
    const char *sel = NULL;
    int r = rtc_ws_server_handshake(&lp->m, protos, np, &out, &sel);
    if (r == RTC_ENOMEM) {
        rtc_http_buf_free(&out);
        return luaL_error(L, "ws_accept: out of memory");
    }
    lua_pushboolean(L, r == 0);
    lua_pushlstring(L, (const char *)out.data, out.len);
    rtc_http_buf_free(&out);
    if (sel) lua_pushstring(L, sel);
    else lua_pushnil(L);
    return 3;
}

/* parser:ws_check(key, protocols) -> true, selected|nil | nil, err */
static int l_parser_ws_check(lua_State *L)
{
    lparser *lp = check_parser(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (!lp->have_msg || lp->m.is_request) return luaL_error(L, "ws_check: no response message at hand");
    const char *protos[16];
    size_t np = get_protocols(L, 3, protos, 16);
    const char *sel = NULL;
    int r = rtc_ws_client_check_response(&lp->m, key, protos, np, &sel);
    if (r < 0) return lrtc_push_error(L, r, "WebSocket handshake refused (status %d)", lp->m.status);
    lua_pushboolean(L, 1);
    if (sel) lua_pushstring(L, sel);
    else lua_pushnil(L);
    return 2;
}

static int l_parser_gc(lua_State *L)
{
    lparser *lp = luaL_checkudata(L, 1, PARSER_MT);
    rtc_http_parser_free(lp->p);
    lp->p = NULL;
    lp->have_msg = 0;
    return 0;
}

/* ====== WebSocket ====== */

static int l_ws_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    rtc_ws_config cfg = { 0 };
    lua_getfield(L, 1, "role");
    const char *role = luaL_optstring(L, -1, "server");
    if (strcmp(role, "server") == 0) cfg.role = RTC_WS_SERVER;
    else if (strcmp(role, "client") == 0) cfg.role = RTC_WS_CLIENT;
    else return luaL_error(L, "ws_new: role must be \"server\" or \"client\"");
    lua_pop(L, 1);
    cfg.max_message = opt_size(L, 1, "max_message");
    cfg.close_timeout = RTC_MS(opt_size(L, 1, "close_timeout"));
    cfg.ping_interval = RTC_MS(opt_size(L, 1, "ping_interval"));
    cfg.rng = rtc_loop_rng(lrtc_get_loop(lrtc_state_get(L)));
    lws *w = lua_newuserdatauv(L, sizeof *w, 0);
    w->ws = NULL;
    luaL_setmetatable(L, WS_MT);
    int r = rtc_ws_new(&w->ws, &cfg, rtc_clock_now());
    if (r < 0) return lrtc_push_error(L, r, NULL);
    return 1;
}

/* ws:feed(data, pos) -> used, err|nil  (err once the connection failed or closed) */
static int l_ws_feed(lua_State *L)
{
    lws *w = check_ws(L, 1);
    size_t len;
    const uint8_t *d = check_range(L, 2, 3, &len);
    size_t used = 0;
    int r = rtc_ws_handle_data(w->ws, d, len, &used, rtc_clock_now());
    lua_pushinteger(L, (lua_Integer)used);
    if (r < 0 && r != RTC_EAGAIN) {
        lua_pushstring(L, rtc_err_name(r));
        return 2;
    }
    return 1;
}

static const char *ev_name(rtc_ws_event_type t)
{
    switch (t) {
    case RTC_WS_EV_TEXT: return "text";
    case RTC_WS_EV_BINARY: return "binary";
    case RTC_WS_EV_PING: return "ping";
    case RTC_WS_EV_PONG: return "pong";
    case RTC_WS_EV_CLOSE: return "close";
    }
    return "?";
}

/* ws:poll_event() -> {type=, data=, code=, clean=, remote=} | nil */
static int l_ws_poll_event(lua_State *L)
{
    lws *w = check_ws(L, 1);
    rtc_ws_event ev;
    if (!rtc_ws_poll_event(w->ws, &ev)) return 0;
    lua_createtable(L, 0, 5);
    lua_pushstring(L, ev_name(ev.type));
    lua_setfield(L, -2, "type");
    lua_pushlstring(L, ev.data ? (const char *)ev.data : "", ev.len);
    lua_setfield(L, -2, "data");
    if (ev.type == RTC_WS_EV_CLOSE) {
        lua_pushinteger(L, ev.code);
        lua_setfield(L, -2, "code");
        lua_pushboolean(L, ev.clean);
        lua_setfield(L, -2, "clean");
        lua_pushboolean(L, ev.remote);
        lua_setfield(L, -2, "remote");
    }
    return 1;
}

/* ws:output() -> bytes | nil: every queued frame, concatenated. */
static int l_ws_output(lua_State *L)
{
    lws *w = check_ws(L, 1);
    rtc_buf *b = rtc_ws_poll_output(w->ws);
    if (!b) return 0;
    luaL_Buffer lb;
    luaL_buffinit(L, &lb);
    while (b) {
        luaL_addlstring(&lb, (const char *)b->data, b->len);
        rtc_buf_unref(b);
        b = rtc_ws_poll_output(w->ws);
    }
    luaL_pushresult(&lb);
    return 1;
}

static int ws_result(lua_State *L, int r)
{
    if (r < 0) return lrtc_push_error(L, r, NULL);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_ws_send_text(lua_State *L)
{
    lws *w = check_ws(L, 1);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    return ws_result(L, rtc_ws_send_text(w->ws, s, n, rtc_clock_now()));
}

static int l_ws_send_binary(lua_State *L)
{
    lws *w = check_ws(L, 1);
    size_t n;
    const char *s = luaL_checklstring(L, 2, &n);
    return ws_result(L, rtc_ws_send_binary(w->ws, s, n, rtc_clock_now()));
}

/* ws:send_fragment("text"|"binary"|"continuation", data, fin) */
static int l_ws_send_fragment(lua_State *L)
{
    lws *w = check_ws(L, 1);
    static const char *const kinds[] = { "continuation", "text", "binary", NULL };
    int op = luaL_checkoption(L, 2, NULL, kinds);
    size_t n;
    const char *s = luaL_checklstring(L, 3, &n);
    return ws_result(L, rtc_ws_send_fragment(w->ws, op, s, n, lua_toboolean(L, 4), rtc_clock_now()));
}

static int l_ws_ping(lua_State *L)
{
    lws *w = check_ws(L, 1);
    size_t n;
    const char *s = luaL_optlstring(L, 2, "", &n);
    return ws_result(L, rtc_ws_send_ping(w->ws, s, n, rtc_clock_now()));
}

/* ws:close(code|nil, reason|nil) */
static int l_ws_close(lua_State *L)
{
    lws *w = check_ws(L, 1);
    int code = (int)luaL_optinteger(L, 2, 1000);
    size_t n;
    const char *reason = luaL_optlstring(L, 3, "", &n);
    return ws_result(L, rtc_ws_close(w->ws, code, reason, n, rtc_clock_now()));
}

static int l_ws_eof(lua_State *L)
{
    lws *w = check_ws(L, 1);
    rtc_ws_handle_eof(w->ws, rtc_clock_now());
    return 0;
}

static int l_ws_handle_timeout(lua_State *L)
{
    lws *w = check_ws(L, 1);
    rtc_ws_handle_timeout(w->ws, rtc_clock_now());
    return 0;
}

/* ws:timeout() -> milliseconds from now (>= 0) | nil */
static int l_ws_timeout(lua_State *L)
{
    lws *w = check_ws(L, 1);
    rtc_time t = rtc_ws_poll_timeout(w->ws);
    if (t == RTC_TIME_NEVER) return 0;
    rtc_time d = t - rtc_clock_now();
    lua_pushnumber(L, d > 0 ? (lua_Number)d / 1000.0 : 0);
    return 1;
}

static int l_ws_state(lua_State *L)
{
    lws *w = check_ws(L, 1);
    static const char *const names[] = { "open", "closing", "closed" };
    lua_pushstring(L, names[rtc_ws_get_state(w->ws)]);
    return 1;
}

static int l_ws_buffered(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtc_ws_buffered_amount(check_ws(L, 1)->ws));
    return 1;
}

static int l_ws_stats(lua_State *L)
{
    rtc_ws_stats st;
    rtc_ws_get_stats(check_ws(L, 1)->ws, &st);
    lua_createtable(L, 0, 7);
#define F(k) lua_pushinteger(L, (lua_Integer)st.k), lua_setfield(L, -2, #k)
    F(messages_in); F(messages_out); F(bytes_in); F(bytes_out); F(pings_in); F(pongs_in); F(protocol_errors);
#undef F
    return 1;
}

static int l_ws_gc(lua_State *L)
{
    lws *w = luaL_checkudata(L, 1, WS_MT);
    rtc_ws_free(w->ws);
    w->ws = NULL;
    return 0;
}

/* ====== writers and helpers ====== */

static int write_fail(lua_State *L, rtc_http_buf *b, int r, const char *what)
{
    rtc_http_buf_free(b);
    if (r == RTC_ENOMEM) return luaL_error(L, "%s: out of memory", what);
    return luaL_error(L, "%s: invalid header name or value", what);
}

/* Headers from a table {name = value} (values converted with tostring). */
static int write_headers(lua_State *L, int idx, rtc_http_buf *b)
{
    if (lua_isnoneornil(L, idx)) return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return RTC_EINVAL;
        }
        size_t vl;
        const char *v = luaL_tolstring(L, -1, &vl);
        int r = rtc_http_write_header_n(b, lua_tostring(L, -3), v, vl);
        lua_pop(L, 2);
        if (r < 0) {
            lua_pop(L, 1);
            return r;
        }
    }
    return 0;
}

/* core.http_response(status, headers|nil, body|nil, keep_alive) -> bytes */
static int l_http_response(lua_State *L)
{
    lua_Integer status = luaL_checkinteger(L, 1);
    size_t blen = 0;
    const char *body = luaL_optlstring(L, 3, NULL, &blen);
    int keep = lua_toboolean(L, 4);
    rtc_http_buf b = { 0 };
    int r = rtc_http_write_status_line(&b, (int)status, NULL);
    if (r == 0) r = write_headers(L, 2, &b);
    if (r == 0 && !keep) r = rtc_http_write_header(&b, "Connection", "close");
    if (r == 0) r = body || status >= 200 ? rtc_http_write_body(&b, body ? body : "", blen) : rtc_http_write_end_head(&b);
    if (r < 0) return write_fail(L, &b, r, "http_response");
    lua_pushlstring(L, (const char *)b.data, b.len);
    rtc_http_buf_free(&b);
    return 1;
}

/* core.http_request(method, target, headers|nil, body|nil) -> bytes */
static int l_http_request(lua_State *L)
{
    const char *method = luaL_checkstring(L, 1);
    const char *target = luaL_checkstring(L, 2);
    size_t blen = 0;
    const char *body = luaL_optlstring(L, 4, NULL, &blen);
    rtc_http_buf b = { 0 };
    int r = rtc_http_write_request_line(&b, method, target);
    if (r == 0) r = write_headers(L, 3, &b);
    if (r == 0) r = body ? rtc_http_write_body(&b, body, blen) : rtc_http_write_end_head(&b);
    if (r < 0) return write_fail(L, &b, r, "http_request");
    lua_pushlstring(L, (const char *)b.data, b.len);
    rtc_http_buf_free(&b);
    return 1;
}

/* core.http_normalize_path(target, allow_dotfiles) -> path | nil, err */
static int l_http_normalize_path(lua_State *L)
{
    size_t n;
    const char *t = luaL_checklstring(L, 1, &n);
    char out[4096];
    int r = rtc_http_path_normalize((rtc_str){ t, n }, out, sizeof out, lua_toboolean(L, 2) ? RTC_HTTP_PATH_ALLOW_DOTFILES : 0);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    lua_pushlstring(L, out, (size_t)r);
    return 1;
}

static int l_http_content_type(lua_State *L)
{
    size_t n;
    const char *p = luaL_checklstring(L, 1, &n);
    lua_pushstring(L, rtc_http_content_type((rtc_str){ p, n }));
    return 1;
}

/* core.http_query_param(target, name) -> value | nil, err */
static int l_http_query_param(lua_State *L)
{
    size_t n;
    const char *t = luaL_checklstring(L, 1, &n);
    const char *name = luaL_checkstring(L, 2);
    size_t cap = n + 1;
    char *out = lua_newuserdatauv(L, cap, 0);   /* collected with the call */
    int r = rtc_http_query_param((rtc_str){ t, n }, name, out, cap);
    if (r == RTC_ENOTFOUND) return 0;
    if (r < 0) return lrtc_push_error(L, r, "bad query parameter %s", name);
    lua_pushlstring(L, out, (size_t)r);
    return 1;
}

static int l_http_url_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    /* Read the flag before pushing the scratch buffer: with one argument, slot 2
     * would otherwise be the buffer itself (a true value). */
    bool form = lua_toboolean(L, 2);
    char *out = lua_newuserdatauv(L, n + 1, 0);
    int r = rtc_http_url_decode((rtc_str){ s, n }, out, n + 1, form);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    lua_pushlstring(L, out, (size_t)r);
    return 1;
}

static int l_base64_encode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n < ((size_t)1 << 30), 1, "too large");
    size_t cap = RTC_BASE64_ENCLEN(n);
    bool url = lua_toboolean(L, 2);   /* before the buffer takes slot 2 */
    char *out = lua_newuserdatauv(L, cap, 0);
    int r = rtc_base64_encode((const uint8_t *)s, n, out, cap, url);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    lua_pushlstring(L, out, (size_t)r);
    return 1;
}

static int l_base64_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    size_t cap = RTC_BASE64_DECLEN(n) + 1;
    bool url = lua_toboolean(L, 2);   /* before the buffer takes slot 2 */
    uint8_t *out = lua_newuserdatauv(L, cap, 0);
    int r = rtc_base64_decode(s, n, out, cap, url);
    if (r < 0) return lrtc_push_error(L, r, "invalid base64");
    lua_pushlstring(L, (const char *)out, (size_t)r);
    return 1;
}

static int l_sha1(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    uint8_t d[RTC_SHA1_LEN];
    rtc_sha1(s, n, d);
    lua_pushlstring(L, (const char *)d, sizeof d);
    return 1;
}

static int l_hmac(lua_State *L, int sha256)
{
    size_t kl, ml;
    const char *k = luaL_checklstring(L, 1, &kl);
    const char *m = luaL_checklstring(L, 2, &ml);
    uint8_t d[RTC_SHA256_LEN];
    int r = sha256 ? rtc_hmac_sha256(k, kl, m, ml, d) : rtc_hmac_sha1(k, kl, m, ml, d);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    lua_pushlstring(L, (const char *)d, sha256 ? RTC_SHA256_LEN : RTC_SHA1_LEN);
    return 1;
}
static int l_hmac_sha256(lua_State *L) { return l_hmac(L, 1); }
static int l_hmac_sha1(lua_State *L) { return l_hmac(L, 0); }

static int l_ct_equal(lua_State *L)
{
    size_t al, bl;
    const char *a = luaL_checklstring(L, 1, &al);
    const char *b = luaL_checklstring(L, 2, &bl);
    lua_pushboolean(L, rtc_ct_equal(a, al, b, bl));
    return 1;
}

static int l_utf8_valid(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    lua_pushboolean(L, rtc_utf8_valid((const uint8_t *)s, n));
    return 1;
}

/* core.ws_client_request(host, target, origin|nil, protocols|nil) -> bytes, key */
static int l_ws_client_request(lua_State *L)
{
    const char *host = luaL_checkstring(L, 1);
    const char *target = luaL_checkstring(L, 2);
    const char *origin = luaL_optstring(L, 3, NULL);
    const char *protos[16];
    size_t np = get_protocols(L, 4, protos, 16);
    rtc_http_buf b = { 0 };
    char key[RTC_WS_KEY_LEN + 1];
    int r = rtc_ws_client_request(&b, rtc_loop_rng(lrtc_get_loop(lrtc_state_get(L))), host, target, origin,
                                  protos, np, key);
    if (r < 0) {
        rtc_http_buf_free(&b);
        return lrtc_push_error(L, r, "invalid WebSocket request");
    }
    lua_pushlstring(L, (const char *)b.data, b.len);
    rtc_http_buf_free(&b);
    lua_pushstring(L, key);
    return 2;
}

void lrtc__open_http(lua_State *L)
{
    static const luaL_Reg parser_methods[] = {
        { "feed", l_parser_feed }, { "eof", l_parser_eof }, { "expect_no_body", l_parser_expect_no_body },
        { "buffered", l_parser_buffered }, { "ws_accept", l_parser_ws_accept }, { "ws_check", l_parser_ws_check },
        { "close", l_parser_gc }, { NULL, NULL } };
    static const luaL_Reg ws_methods[] = {
        { "feed", l_ws_feed }, { "poll_event", l_ws_poll_event }, { "output", l_ws_output },
        { "send_text", l_ws_send_text }, { "send_binary", l_ws_send_binary },
        { "send_fragment", l_ws_send_fragment }, { "ping", l_ws_ping }, { "close", l_ws_close },
        { "eof", l_ws_eof }, { "handle_timeout", l_ws_handle_timeout }, { "timeout", l_ws_timeout },
        { "state", l_ws_state }, { "buffered", l_ws_buffered }, { "stats", l_ws_stats },
        { "free", l_ws_gc }, { NULL, NULL } };
    static const luaL_Reg funcs[] = {
        { "http_parser", l_parser_new }, { "ws_new", l_ws_new },
        { "http_response", l_http_response }, { "http_request", l_http_request },
        { "http_normalize_path", l_http_normalize_path }, { "http_content_type", l_http_content_type },
        { "http_query_param", l_http_query_param }, { "http_url_decode", l_http_url_decode },
        { "base64_encode", l_base64_encode }, { "base64_decode", l_base64_decode },
        { "sha1", l_sha1 }, { "hmac_sha256", l_hmac_sha256 }, { "hmac_sha1", l_hmac_sha1 },
        { "ct_equal", l_ct_equal }, { "utf8_valid", l_utf8_valid },
        { "ws_client_request", l_ws_client_request }, { NULL, NULL } };
    if (luaL_newmetatable(L, PARSER_MT)) {
        luaL_newlib(L, parser_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_parser_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    if (luaL_newmetatable(L, WS_MT)) {
        luaL_newlib(L, ws_methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, l_ws_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_setfuncs(L, funcs, 0);
}
