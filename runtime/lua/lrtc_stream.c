/* Byte streams for scripts: TCP connections and listeners (optionally TLS), and stdin.
 *
 * A stream (rtc.stream) buffers what it reads up to READ_HWM bytes, then stops
 * reading until the script consumes (flow control towards the peer). Writes are
 * queued by libuv; stream:write() reports the queued byte count so lua/rtc can make
 * the writing task wait (backpressure) until the queue falls to the low-water mark.
 *
 * Low-level methods (lua/rtc wraps them into yielding calls):
 *   s:try_read() -> data | false (EOF) | nil (nothing yet) | nil, err
 *   s:wait_readable(fn)   one-shot: fn() once try_read has something to say
 *   s:write(data) -> queued_bytes, over_high_water | nil, err
 *   s:wait_drain(fn)      one-shot: fn() once the queue is at or under the low-water mark
 * Events: "close".
 *
 * TLS (tls/tls_stream.h) sits between the socket and the same buffers: a listener made
 * with tls = ctx wraps each accepted stream, core.tcp_connect(..., {tls = ctx}) wraps
 * the client one and reports the connection only once the handshake is done. Reads
 * return plaintext, writes take plaintext; the stream's own reads drive the handshake,
 * and a handshake that does not finish within HS_TIMEOUT_MS fails the stream. */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include "core/rtc_errors.h"
#include "core/rtc_time.h"
#include "tls/tls_stream.h"
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_HWM (256 * 1024)
#define WRITE_HWM (1024 * 1024)
#define READ_CHUNK (64 * 1024)
#define HS_TIMEOUT_MS 10000
#define TLS_CTX_MT "rtc.tls_context"

enum { EV_CLOSE };
static const char *const stream_events[] = { "close", NULL };
enum { EV_CONNECTION, EV_SRV_CLOSE };
static const char *const server_events[] = { "connection", "close", NULL };

typedef struct chunk { struct chunk *next; size_t len, off; char data[]; } chunk;

typedef struct lstream {
    lrtc_link link;
    union { uv_handle_t handle; uv_stream_t s; uv_tcp_t tcp; uv_pipe_t pipe; uv_tty_t tty; } h;
    int is_file;                 /* stdin redirected from a regular file: plain read(2) */
    int is_stdin;                /* keeps the loop alive only while a task waits on it */
    chunk *head, *tail;
    size_t buffered;
    int reading, eof, rerr, werr;
    int read_ref, drain_ref, connect_ref;
    size_t hwm;
    uv_connect_t connect;
    rtc_tls_stream *tls;         /* NULL for plain streams */
    uv_timer_t *hs_timer;        /* TLS handshake guard; own memory, freed by its close callback */
    int tls_open, tls_failed;
    char tls_reason[200];
} lstream;

typedef struct wreq { uv_write_t req; lstream *st; char data[]; } wreq;

static void ls_close(lua_State *L, lrtc_obj *o);
static void sv_close(lua_State *L, lrtc_obj *o);
/* Constant: every worker thread's state registers them (docs/workers.md). */
static const lrtc_class stream_class = { "rtc.stream", stream_events, EV_CLOSE, ls_close };
static const lrtc_class server_class = { "rtc.tcp_server", server_events, EV_SRV_CLOSE, sv_close };

/* {====== helpers ====== */

static void call_oneshot(lstream *st, int *ref)
{
    if (*ref == LUA_NOREF) return;
    lua_State *L = lrtc_main_thread(st->link.S);
    lrtc_push_unref(L, ref);
    lrtc_call(L, 0);
}

static void free_chunks(lstream *st)
{
    while (st->head) { chunk *c = st->head; st->head = c->next; free(c); }
    st->tail = NULL;
    st->buffered = 0;
}

static void stream_closed(uv_handle_t *h)
{
    lstream *st = h->data;
    lrtc_obj *o = st->link.owner;
    if (o && !lrtc_closing(st->link.S)) {
        /* waiters learn about the close from try_read/write on the closed object */
        call_oneshot(st, &st->connect_ref);
        call_oneshot(st, &st->read_ref);
        call_oneshot(st, &st->drain_ref);
        if (st->link.owner) lrtc_obj_finish(lrtc_main_thread(st->link.S), st->link.owner);
    }
    free_chunks(st);
    rtc_tls_stream_free(st->tls);
    free(st);
}

static void stop_hs_timer(lstream *st)
{
    if (!st->hs_timer) return;
    uv_close((uv_handle_t *)st->hs_timer, (uv_close_cb)free);
    st->hs_timer = NULL;
}

static void ls_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    lstream *st = o->ptr;
    if (st->is_file) { stream_closed(&st->h.handle); return; }
    stop_hs_timer(st);
    if (st->tls && st->tls_open && !st->werr) {
        /* close_notify, if the socket takes it right now (nothing waits for it) */
        rtc_tls_stream_close(st->tls, rtc_clock_now());
        rtc_buf *b;
        while (rtc_tls_stream_poll_transmit(st->tls, &b)) {
            uv_buf_t ub = uv_buf_init((char *)b->data, (unsigned)b->len);
            if (st->h.s.write_queue_size == 0) uv_try_write(&st->h.s, &ub, 1);
            rtc_buf_unref(b);
        }
    }
    uv_close(&st->h.handle, stream_closed);
}

/* }====== */

/* {====== TLS plumbing ====== */

static void write_cb(uv_write_t *req, int status);

/* Bytes onto the socket through a write request holding a copy. */
static int raw_write(lstream *st, const void *data, size_t len)
{
    wreq *w = malloc(sizeof *w + len);
    if (!w) return UV_ENOMEM;
    memcpy(w->data, data, len);
    w->st = st;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
    int r = uv_write(&w->req, &st->h.s, &b, 1, write_cb);
    if (r < 0) free(w);
    return r;
}

static void append_chunk(lstream *st, const uint8_t *data, size_t len)
{
    chunk *c = malloc(sizeof *c + len);
    if (!c) { if (!st->rerr) st->rerr = UV_ENOMEM; return; }
    memcpy(c->data, data, len);
    c->len = len;
    c->off = 0;
    c->next = NULL;
    if (st->tail) st->tail->next = c; else st->head = c;
    st->tail = c;
    st->buffered += len;
}

/* Drain the TLS machine: ciphertext to the socket, plaintext to the read buffer. */
static void tls_pump(lstream *st)
{
    rtc_buf *b;
    rtc_tls_event ev;
    for (int round = 0; round < 2; round++) {
        while (rtc_tls_stream_poll_transmit(st->tls, &b)) {
            if (!st->werr) {
                int r = raw_write(st, b->data, b->len);
                if (r < 0) st->werr = r;
            }
            rtc_buf_unref(b);
        }
        while (round == 0 && rtc_tls_stream_poll_event(st->tls, &ev)) {
            switch (ev.type) {
            case RTC_TLS_EV_OPEN: st->tls_open = 1; stop_hs_timer(st); break;
            case RTC_TLS_EV_DATA:
                append_chunk(st, ev.data->data, ev.data->len);
                rtc_buf_unref(ev.data);
                break;
            case RTC_TLS_EV_CLOSED: st->eof = 1; break;
            case RTC_TLS_EV_FAILED:
                st->tls_failed = 1;
                stop_hs_timer(st);
                snprintf(st->tls_reason, sizeof st->tls_reason, "%s", ev.reason);
                if (!st->rerr) st->rerr = UV_EPROTO;
                break;
            }
        }
    }
}

/* A TLS client's connect callback runs once the handshake has ended either way. */
static void tls_settle_connect(lstream *st)
{
    if (st->connect_ref == LUA_NOREF || !st->link.owner || lrtc_closing(st->link.S)) return;
    if (!st->tls_open && !st->tls_failed && !st->eof && !st->rerr) return;
    lua_State *L = lrtc_main_thread(st->link.S);
    lrtc_obj *o = st->link.owner;
    lrtc_push_unref(L, &st->connect_ref);
    if (st->tls_open) {
        lrtc_obj_push(L, o);
        lrtc_call(L, 1);
        return;
    }
    lua_pushnil(L);
    if (st->tls_failed) lua_pushfstring(L, "%s: TLS %s", rtc_err_domname(RTC_ETLS), st->tls_reason);
    else lrtc_push_uv_errstr(L, st->rerr ? st->rerr : UV_EOF, "TLS handshake");
    lrtc_obj_close(L, o);
    lrtc_call(L, 2);
}

static void hs_timer_cb(uv_timer_t *t)
{
    lstream *st = t->data;
    rtc_time now = rtc_clock_now();
    rtc_tls_stream_handle_timeout(st->tls, now);
    rtc_time due = rtc_tls_stream_poll_timeout(st->tls);
    if (due != RTC_TIME_NEVER && rtc_tls_stream_state(st->tls) == RTC_TLS_HANDSHAKING) {
        /* libuv's clock ran a little ahead of ours: wait out the rest */
        uv_timer_start(t, hs_timer_cb, (uint64_t)((due - now) / 1000 + 1), 0);
        return;
    }
    tls_pump(st);
    if (st->reading) { uv_read_stop(&st->h.s); st->reading = 0; }
    if (!st->link.owner || lrtc_closing(st->link.S)) return;
    if (st->connect_ref != LUA_NOREF) tls_settle_connect(st);
    else call_oneshot(st, &st->read_ref);
}

/* Puts a TLS machine in front of st (before any byte flows). 0 or RTC_E*. */
static int tls_attach(lstream *st, uv_loop_t *loop, rtc_tls_context *ctx, const char *name)
{
    rtc_tls_stream_config c = { .ctx = ctx, .server_name = name, .handshake_timeout = RTC_MS(HS_TIMEOUT_MS) };
    int r = rtc_tls_stream_new(&st->tls, &c, rtc_clock_now());
    if (r < 0) return r;
    st->hs_timer = malloc(sizeof *st->hs_timer);
    if (!st->hs_timer) return RTC_ENOMEM;
    uv_timer_init(loop, st->hs_timer);
    st->hs_timer->data = st;
    uv_timer_start(st->hs_timer, hs_timer_cb, HS_TIMEOUT_MS, 0);
    return 0;
}

/* }====== */

/* {====== reading ====== */

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h; (void)hint;
    chunk *c = malloc(sizeof *c + READ_CHUNK);
    buf->base = c ? c->data : NULL;
    buf->len = c ? READ_CHUNK : 0;
}

static void read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    lstream *st = s->data;
    chunk *c = buf->base ? (chunk *)(buf->base - offsetof(chunk, data)) : NULL;
    if (nread > 0 && st->tls) {
        rtc_tls_stream_handle_input(st->tls, (const uint8_t *)c->data, (size_t)nread, rtc_clock_now());
        free(c);
        tls_pump(st);
        if (st->buffered >= READ_HWM || st->eof || st->rerr) { uv_read_stop(s); st->reading = 0; }
        if (!st->link.owner || lrtc_closing(st->link.S)) return;
        if (st->connect_ref != LUA_NOREF) { tls_settle_connect(st); return; }
        /* handshake records alone give the reader nothing to see */
        if (st->buffered || st->eof || st->rerr) call_oneshot(st, &st->read_ref);
        return;
    }
    if (nread > 0) {
        c->len = (size_t)nread;
        c->off = 0;
        c->next = NULL;
        chunk *shrunk = realloc(c, sizeof *c + (size_t)nread);   /* do not hold 64 KiB per small read */
        if (shrunk) c = shrunk;
        if (st->tail) st->tail->next = c; else st->head = c;
        st->tail = c;
        st->buffered += (size_t)nread;
        if (st->buffered >= READ_HWM) { uv_read_stop(s); st->reading = 0; }
    } else {
        free(c);
        if (nread == 0) return;
        if (nread == UV_EOF) st->eof = 1; else st->rerr = (int)nread;
        uv_read_stop(s);
        st->reading = 0;
    }
    if (st->read_ref != LUA_NOREF && st->is_stdin) uv_unref(&st->h.handle);
    if (st->tls && st->connect_ref != LUA_NOREF) { tls_settle_connect(st); return; }
    if (st->link.owner && !lrtc_closing(st->link.S)) call_oneshot(st, &st->read_ref);
}

static void want_read(lstream *st)
{
    if (st->is_file || st->reading || st->eof || st->rerr || st->buffered >= READ_HWM) return;
    if (uv_read_start(&st->h.s, alloc_cb, read_cb) == 0) st->reading = 1;
}

static lstream *check_stream(lua_State *L, lrtc_obj **po)
{
    lrtc_obj *o = lrtc_obj_check_any(L, 1, &stream_class);
    if (po) *po = o;
    return o->closed ? NULL : o->ptr;
}

static int push_closed(lua_State *L) { return lrtc_push_error(L, RTC_ECLOSED, "stream is closed"); }

static int s_try_read(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!st) return push_closed(L);
    if (st->is_file && !st->head && !st->eof && !st->rerr) {
        char buf[READ_CHUNK];
        ssize_t n;
        do n = read(0, buf, sizeof buf); while (n < 0 && errno == EINTR);
        if (n > 0) { lua_pushlstring(L, buf, (size_t)n); return 1; }
        if (n == 0) st->eof = 1; else st->rerr = uv_translate_sys_error(errno);
    }
    if (st->head) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        while (st->head) {
            chunk *c = st->head;
            luaL_addlstring(&b, c->data + c->off, c->len - c->off);
            st->head = c->next;
            free(c);
        }
        st->tail = NULL;
        st->buffered = 0;
        luaL_pushresult(&b);
        want_read(st);
        return 1;
    }
    if (st->eof) { lua_pushboolean(L, 0); return 1; }
    if (st->tls_failed) return lrtc_push_error(L, RTC_ETLS, "TLS %s", st->tls_reason);
    if (st->rerr) return lrtc_push_uv_error(L, st->rerr, "read");
    want_read(st);
    return 0;
}

static int s_wait_readable(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!lrtc_is_callable(L, 2)) return luaL_typeerror(L, 2, "function");
    if (!st) return push_closed(L);
    if (st->read_ref != LUA_NOREF) return luaL_error(L, "stream:read: another task is already reading");
    st->read_ref = lrtc_ref_callback(L, 2);
    /* An unread stdin must not keep a finished script alive, a waiting task must. */
    if (st->is_stdin && !st->is_file) uv_ref(&st->h.handle);
    want_read(st);
    lua_pushboolean(L, 1);
    return 1;
}

/* }====== */

/* {====== writing ====== */

static void write_cb(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    lstream *st = w->st;
    free(w);
    if (status < 0 && status != UV_ECANCELED && !st->werr) st->werr = status;
    if (st->drain_ref != LUA_NOREF && (st->werr || st->h.s.write_queue_size <= st->hwm / 4)
        && st->link.owner && !lrtc_closing(st->link.S))
        call_oneshot(st, &st->drain_ref);
}

static int s_write(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    if (!st) return push_closed(L);
    if (st->werr) return lrtc_push_uv_error(L, st->werr, "write");
    if (st->is_file) return lrtc_push_error(L, RTC_ENOTSUP, "stream is read-only");
    if (st->tls) {
        if (st->tls_failed) return lrtc_push_error(L, RTC_ETLS, "TLS %s", st->tls_reason);
        int r = rtc_tls_stream_write(st->tls, (const uint8_t *)data, len, rtc_clock_now());
        if (r < 0) return lrtc_push_error(L, r, "write");
        tls_pump(st);
        if (st->werr) return lrtc_push_uv_error(L, st->werr, "write");
        size_t q = st->h.s.write_queue_size + rtc_tls_stream_write_pending(st->tls);
        lua_pushinteger(L, (lua_Integer)q);
        lua_pushboolean(L, q > st->hwm);
        return 2;
    }
    if (len > 0) {
        wreq *w = malloc(sizeof *w + len);
        if (!w) return lrtc_push_error(L, RTC_ENOMEM, NULL);
        memcpy(w->data, data, len);
        w->st = st;
        uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
        int r = uv_write(&w->req, &st->h.s, &b, 1, write_cb);
        if (r < 0) { free(w); return lrtc_push_uv_error(L, r, "write"); }
    }
    size_t q = st->h.s.write_queue_size;
    lua_pushinteger(L, (lua_Integer)q);
    lua_pushboolean(L, q > st->hwm);
    return 2;
}

static int s_wait_drain(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!lrtc_is_callable(L, 2)) return luaL_typeerror(L, 2, "function");
    if (!st) return push_closed(L);
    if (st->drain_ref != LUA_NOREF) return luaL_error(L, "stream:write: another task is already waiting to write");
    st->drain_ref = lrtc_ref_callback(L, 2);
    lua_pushboolean(L, 1);
    return 1;
}

static int s_write_queue_size(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    size_t q = st && !st->is_file ? st->h.s.write_queue_size : 0;
    if (st && st->tls) q += rtc_tls_stream_write_pending(st->tls);
    lua_pushinteger(L, (lua_Integer)q);
    return 1;
}

static int s_set_high_water_mark(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n > 0, 2, "must be positive");
    if (st) st->hwm = (size_t)n;
    return 0;
}

static void shutdown_cb(uv_shutdown_t *req, int status) { (void)status; free(req); }

static int s_shutdown(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!st) return push_closed(L);
    if (st->tls) {
        /* close_notify first: the peer learns the end was intended, not a truncation */
        rtc_tls_stream_close(st->tls, rtc_clock_now());
        tls_pump(st);
    }
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    int r = uv_shutdown(req, &st->h.s, shutdown_cb);
    if (r < 0) { free(req); return lrtc_push_uv_error(L, r, "shutdown"); }
    lua_pushboolean(L, 1);
    return 1;
}

/* }====== */

/* {====== TCP ====== */

static int push_sockaddr(lua_State *L, int r, struct sockaddr_storage *ss)
{
    if (r < 0) return lrtc_push_uv_error(L, r, "address");
    rtc_addr a;
    if (rtc_addr_from_sockaddr(&a, (struct sockaddr *)ss) < 0) return lrtc_push_error(L, RTC_EINVAL, "not an IP address");
    return lrtc_push_addr(L, &a);
}

static int s_local_address(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!st || st->h.handle.type != UV_TCP) return lrtc_push_error(L, RTC_ESTATE, "not an open TCP connection");
    struct sockaddr_storage ss;
    int n = sizeof ss;
    return push_sockaddr(L, uv_tcp_getsockname(&st->h.tcp, (struct sockaddr *)&ss, &n), &ss);
}

static int s_remote_address(lua_State *L)
{
    lstream *st = check_stream(L, NULL);
    if (!st || st->h.handle.type != UV_TCP) return lrtc_push_error(L, RTC_ESTATE, "not an open TCP connection");
    struct sockaddr_storage ss;
    int n = sizeof ss;
    return push_sockaddr(L, uv_tcp_getpeername(&st->h.tcp, (struct sockaddr *)&ss, &n), &ss);
}

/* A new stream object on the stack, open, with a fresh lstream (handle not inited). */
static lstream *new_stream(lua_State *L)
{
    lrtc_obj *o = lrtc_obj_new(L, &stream_class, sizeof(lrtc_obj), NULL);
    lstream *st = calloc(1, sizeof *st);
    if (!st) { luaL_error(L, "out of memory"); return NULL; }
    st->read_ref = st->drain_ref = st->connect_ref = LUA_NOREF;
    st->hwm = WRITE_HWM;
    st->h.handle.data = st;
    lrtc_obj_open(L, o, -1, st);
    return st;
}

static void connect_cb(uv_connect_t *req, int status)
{
    lstream *st = req->data;
    lrtc_obj *o = st->link.owner;
    if (!o || lrtc_closing(st->link.S) || st->connect_ref == LUA_NOREF) return;
    lua_State *L = lrtc_main_thread(st->link.S);
    lrtc_push_unref(L, &st->connect_ref);
    if (status == 0 && st->tls) {
        /* the callback waits for the handshake (tls_settle_connect) */
        st->connect_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        uv_tcp_nodelay(&st->h.tcp, 1);
        tls_pump(st);
        want_read(st);
    } else if (status == 0) {
        uv_tcp_nodelay(&st->h.tcp, 1);
        lrtc_obj_push(L, o);
        lrtc_call(L, 1);
    } else {
        lua_pushnil(L);
        lrtc_push_uv_errstr(L, status, "connect");
        lrtc_obj_close(L, o);
        lrtc_call(L, 2);
    }
}

static rtc_tls_context *opt_tls(lua_State *L, int idx)
{
    if (!lua_istable(L, idx)) return NULL;
    lua_getfield(L, idx, "tls");
    rtc_tls_context **pc = lua_isnil(L, -1) ? NULL : luaL_testudata(L, -1, TLS_CTX_MT);
    if (!lua_isnil(L, -1) && (!pc || !*pc)) luaL_error(L, "tls must be a TLS context (core.tls_context)");
    lua_pop(L, 1);
    return pc ? *pc : NULL;
}

/* core.tcp_connect(host, port, fn [, opts [, name]]): fn(conn) or fn(nil, err) later.
 * opts.tls = a client TLS context: fn runs after the handshake; the certificate is
 * checked against opts.servername, else `name` (the host name before resolution). */
static int l_tcp_connect(lua_State *L)
{
    rtc_addr to;
    lrtc_check_hostport(L, 1, &to, NULL);
    if (rtc_addr_port(&to) == 0) return luaL_argerror(L, 2, "port must be 1-65535");
    if (!lrtc_is_callable(L, 3)) return luaL_typeerror(L, 3, "function");
    rtc_tls_context *tls = opt_tls(L, 4);
    const char *name = NULL;
    if (tls) {
        if (rtc_tls_context_role(tls) != RTC_TLS_CLIENT) return luaL_argerror(L, 4, "tls: not a client context");
        lua_getfield(L, 4, "servername");
        name = lua_tostring(L, -1);               /* kept alive by the opts table */
        lua_pop(L, 1);
        if (!name) name = luaL_optstring(L, 5, NULL);
    }
    lrtc_state *S = lrtc_state_get(L);
    lstream *st = new_stream(L);
    uv_tcp_init(lrtc_uv_loop(S), &st->h.tcp);
    if (tls) {
        int tr = tls_attach(st, lrtc_uv_loop(S), tls, name);
        if (tr < 0) {
            lrtc_obj_close(L, st->link.owner);
            return lrtc_push_error(L, tr, "TLS");
        }
    }
    st->connect.data = st;
    int r = uv_tcp_connect(&st->connect, &st->h.tcp, &to.u.sa, connect_cb);
    if (r < 0) {
        lrtc_obj_close(L, st->link.owner);
        return lrtc_push_uv_error(L, r, "connect");
    }
    st->connect_ref = lrtc_ref_callback(L, 3);
    return 1;
}

typedef struct lserver { lrtc_link link; uv_tcp_t tcp; rtc_tls_context *tls; } lserver;

static void server_closed(uv_handle_t *h)
{
    lserver *sv = h->data;
    if (sv->link.owner && !lrtc_closing(sv->link.S)) lrtc_obj_finish(lrtc_main_thread(sv->link.S), sv->link.owner);
    rtc_tls_context_unref(sv->tls);
    free(sv);
}

static void sv_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    lserver *sv = o->ptr;
    uv_close((uv_handle_t *)&sv->tcp, server_closed);
}

static void connection_cb(uv_stream_t *server, int status)
{
    lserver *sv = server->data;
    lrtc_obj *o = sv->link.owner;
    if (!o || lrtc_closing(sv->link.S) || status < 0) return;
    lua_State *L = lrtc_main_thread(sv->link.S);
    lstream *st = new_stream(L);
    uv_tcp_init(server->loop, &st->h.tcp);
    if (uv_accept(server, &st->h.s) != 0 || (sv->tls && tls_attach(st, server->loop, sv->tls, NULL) < 0) ||
        !lrtc_obj_push_cb(L, o, EV_CONNECTION)) {
        lrtc_obj_close(L, st->link.owner);     /* nobody listens: refuse */
        lua_pop(L, 1);
        return;
    }
    uv_tcp_nodelay(&st->h.tcp, 1);
    if (sv->tls) want_read(st);                 /* the handshake runs without the script */
    lua_insert(L, -2);                          /* fn, conn */
    lrtc_call(L, 1);
}

/* core.tcp_listen{host=, port=, backlog=, tls=server context} -> server */
static int l_tcp_listen(lua_State *L)
{
    rtc_addr local;
    luaL_checktype(L, 1, LUA_TTABLE);
    rtc_tls_context *tls = opt_tls(L, 1);
    if (tls && rtc_tls_context_role(tls) != RTC_TLS_SERVER) return luaL_argerror(L, 1, "tls: not a server context");
    lrtc_check_hostport(L, 1, &local, "0.0.0.0");
    lua_getfield(L, 1, "backlog");
    int backlog = (int)luaL_optinteger(L, -1, 128);
    lua_pop(L, 1);
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &server_class, sizeof(lrtc_obj), NULL);
    lserver *sv = calloc(1, sizeof *sv);
    if (!sv) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    uv_tcp_init(lrtc_uv_loop(S), &sv->tcp);
    sv->tcp.data = sv;
    if (tls) sv->tls = rtc_tls_context_ref(tls);
    lrtc_obj_open(L, o, -1, sv);
    int r = uv_tcp_bind(&sv->tcp, &local.u.sa, 0);
    if (r == 0) r = uv_listen((uv_stream_t *)&sv->tcp, backlog, connection_cb);
    if (r < 0) {
        lrtc_obj_close(L, o);
        return lrtc_push_uv_error(L, r, "listen");
    }
    return 1;
}

static int sv_local_address(lua_State *L)
{
    lserver *sv = lrtc_obj_check(L, 1, &server_class)->ptr;
    struct sockaddr_storage ss;
    int n = sizeof ss;
    return push_sockaddr(L, uv_tcp_getsockname(&sv->tcp, (struct sockaddr *)&ss, &n), &ss);
}

/* }====== */

/* {====== TLS contexts ====== */

static int tc_gc(lua_State *L)
{
    rtc_tls_context **pc = luaL_checkudata(L, 1, TLS_CTX_MT);
    rtc_tls_context_unref(*pc);
    *pc = NULL;
    return 0;
}

static const char *opt_field(lua_State *L, int idx, const char *k)
{
    lua_getfield(L, idx, k);
    const char *v = lua_tostring(L, -1);        /* kept alive by the options table */
    if (!v && !lua_isnil(L, -1)) luaL_error(L, "tls_context: %s must be a string", k);
    lua_pop(L, 1);
    return v;
}

/* core.tls_context{server=bool, cert=, key= (PEM files), cert_pem=, key_pem=, ca=,
 *   ca_pem=, insecure=bool, alpn="h2,http/1.1"} -> ctx | nil, err */
static int l_tls_context(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    rtc_tls_context_config c = { 0 };
    lua_getfield(L, 1, "server");
    c.role = lua_toboolean(L, -1) ? RTC_TLS_SERVER : RTC_TLS_CLIENT;
    lua_getfield(L, 1, "insecure");
    c.insecure = lua_toboolean(L, -1);
    lua_pop(L, 2);
    c.cert_file = opt_field(L, 1, "cert");
    c.key_file = opt_field(L, 1, "key");
    c.cert_pem = opt_field(L, 1, "cert_pem");
    c.key_pem = opt_field(L, 1, "key_pem");
    c.ca_file = opt_field(L, 1, "ca");
    c.ca_pem = opt_field(L, 1, "ca_pem");
    c.alpn = opt_field(L, 1, "alpn");
    rtc_tls_context **pc = lua_newuserdatauv(L, sizeof *pc, 0);
    *pc = NULL;
    luaL_setmetatable(L, TLS_CTX_MT);
    char err[RTC_TLS_ERRLEN];
    int r = rtc_tls_context_new(pc, &c, err, sizeof err);
    if (r < 0) return lrtc_push_error(L, r, "%s", err);
    return 1;
}

/* }====== */

/* {====== stdin ====== */

/* core.stdin() -> stream on fd 0 (a pipe, tty, socket or regular file). */
static int l_stdin(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    uv_handle_type t = uv_guess_handle(0);
    if (t == UV_UNKNOWN_HANDLE || t == UV_UDP)
        return lrtc_push_error(L, RTC_ENOTSUP, "stdin is closed or not a readable stream");
    lstream *st = new_stream(L);
    int r;
    if (t == UV_TTY) {
        r = uv_tty_init(lrtc_uv_loop(S), &st->h.tty, 0, 1);
    } else if (t == UV_FILE) {
        st->is_file = 1;
        r = 0;
    } else {
        r = uv_pipe_init(lrtc_uv_loop(S), &st->h.pipe, 0);
        if (r == 0) r = uv_pipe_open(&st->h.pipe, 0);
    }
    if (r < 0) {
        lrtc_obj_close(L, st->link.owner);
        return lrtc_push_uv_error(L, r, "stdin");
    }
    st->is_stdin = 1;
    if (!st->is_file) uv_unref(&st->h.handle);
    return 1;
}

/* }====== */

void lrtc__open_tcp(lua_State *L)
{
    static const luaL_Reg stream_methods[] = {
        { "try_read", s_try_read }, { "wait_readable", s_wait_readable },
        { "write_nowait", s_write }, { "wait_drain", s_wait_drain },
        { "write_queue_size", s_write_queue_size }, { "set_high_water_mark", s_set_high_water_mark },
        { "shutdown", s_shutdown },
        { "local_address", s_local_address }, { "remote_address", s_remote_address }, { NULL, NULL } };
    static const luaL_Reg server_methods[] = { { "local_address", sv_local_address }, { NULL, NULL } };
    lrtc_class_register(L, &stream_class, stream_methods);
    lrtc_class_register(L, &server_class, server_methods);
    if (luaL_newmetatable(L, TLS_CTX_MT)) {
        lua_pushcfunction(L, tc_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    static const luaL_Reg funcs[] = {
        { "tcp_connect", l_tcp_connect }, { "tcp_listen", l_tcp_listen }, { "stdin", l_stdin },
        { "tls_context", l_tls_context }, { NULL, NULL } };
    luaL_setfuncs(L, funcs, 0);
}
