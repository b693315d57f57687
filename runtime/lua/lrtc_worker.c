/* Workers: a Lua script on its own thread with its own loop and Lua state, and the
 * message path between it and the script that spawned it (docs/workers.md).
 *
 *   main state                                 worker thread
 *   rtc.worker (class "rtc.worker")  <-chan->  rtc.worker.parent ("rtc.worker_port")
 *        side 0, bound to the main loop         side 1, bound to the worker's loop
 *
 * Frames on the channel: one kind byte, then the payload.
 *   'M' a message (lrtc_msg encoding)        both ways
 *   'E' an error the worker logged (text)    worker -> main, dropped when the queue is full
 *   'X' the worker ended: ok byte + text     worker -> main, control (never refused)
 *   'S' stop: end the worker's loop          main -> worker, control
 * Nothing else is shared: the worker gets copies of the script path, package paths
 * and arguments, and its thread ends before the main side frees what it allocated. */
#include "lua/lrtc.h"
#include "lua/lrtc_msg.h"
#include "core/rtc_log.h"
#include "io/rtc_chan.h"
#include "io/rtc_pc_host.h"
#include "io/rtc_thread.h"
#include <lualib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORKER_KEY "lrtc.worker"          /* registry: the boot record, in a worker state */
#define WORKER_MAX_BYTES (16u << 20)      /* one message, and one inbox, at most */
#define WORKER_DEFAULT_QUEUE 64

/* What the worker thread starts from: all owned here, freed by the main side after
 * the thread is joined. */
typedef struct boot {
    rtc_chan *chan;
    int id;
    char *script, *path, *cpath;
    uint8_t *args;
    size_t args_len;
    size_t max_bytes;
    unsigned errors_dropped;              /* worker thread only */
} boot;

typedef struct lworker {
    lrtc_link link;                       /* main side: the rtc.worker userdata */
    boot *b;
    rtc_thread *thread;
    int exited, exit_ok;
    char *exit_err;
    int was_blocked;
    int exit_ref;                         /* lua/rtc's join waiters, called before "exit" */
} lworker;

typedef struct lport {
    lrtc_link link;                       /* worker side: rtc.worker.parent */
    boot *b;
    lrtc_state *S;
    int was_blocked;
} lport;

enum { EV_MESSAGE, EV_ERROR, EV_EXIT, EV_DRAIN };
static const char *const worker_events[] = { "message", "error", "exit", "drain", NULL };
enum { PEV_MESSAGE, PEV_DRAIN };
static const char *const port_events[] = { "message", "drain", NULL };

static void worker_close(lua_State *L, lrtc_obj *o);
static void port_close(lua_State *L, lrtc_obj *o);
static const lrtc_class worker_class = { "rtc.worker", worker_events, -1, worker_close };
static const lrtc_class port_class = { "rtc.worker_port", port_events, -1, port_close };

/* {====== frames ====== */

static uint8_t *frame(char kind, const void *p, size_t n)
{
    uint8_t *f = malloc(n + 1);
    if (!f) return NULL;
    f[0] = (uint8_t)kind;
    if (n) memcpy(f + 1, p, n);
    return f;
}

/* Encode the value at idx as an 'M' frame and send it from `side`. Raises on a value
 * that cannot be copied (a programmer error); returns true or the fail triple. */
static int send_value(lua_State *L, rtc_chan *c, int side, int idx, size_t max_bytes)
{
    uint8_t *enc;
    size_t len;
    char err[320];
    int r = lrtc_msg_encode(L, idx, max_bytes, &enc, &len, err, sizeof err);
    if (r == RTC_EINVAL) return luaL_error(L, "send: %s", err);
    if (r < 0) return lrtc_push_error(L, r, "%s", err);
    uint8_t *f = frame('M', enc, len);
    free(enc);
    if (!f) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    r = rtc_chan_send(c, side, f, len + 1);
    if (r < 0) {
        free(f);
        if (r == RTC_EAGAIN)
            return lrtc_push_error(L, RTC_EQUOTA, "the receiver's queue is full (wait for \"drain\")");
        if (r == RTC_ECLOSED) return lrtc_push_error(L, RTC_ECLOSED, "the other side has ended");
        return lrtc_push_error(L, r, NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* Push the value of an 'M' frame; on a corrupt frame log and push nothing (0). */
static int push_message(lua_State *L, const uint8_t *p, size_t n)
{
    char err[160];
    if (lrtc_msg_decode(L, p, n, err, sizeof err) < 0) {
        rtc_error("worker", "dropping a message: %s", err);
        return 0;
    }
    return 1;
}

/* }====== */

/* {====== the worker thread ====== */

static void worker_error_hook(void *ud, const char *msg)
{
    boot *b = ud;
    size_t n = strlen(msg);
    uint8_t *f = frame('E', msg, n);
    if (!f) return;
    /* Bounded like every message: a worker raising in a tight loop must not fill
     * the main process's memory. The log line is there either way. */
    if (rtc_chan_send(b->chan, 1, f, n + 1) < 0) {
        free(f);
        b->errors_dropped++;
    }
}

/* os.exit in a worker would end the whole process: refuse it. */
static int worker_os_exit(lua_State *L)
{
    return luaL_error(L, "os.exit: not available in a worker (it would end the whole process); "
                         "return from the script or call rtc.stop()");
}

static int open_core(lua_State *L) { return lrtc_open_core(L); }

/* In a protected call: set up the state like the luartc executable, then run the
 * script as the main task. Pushes ok, traceback|nil. */
static int worker_pmain(lua_State *L)
{
    boot *b = lua_touserdata(L, 1);
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, open_core);
    lua_setfield(L, -2, "rtc.core");
    lua_pop(L, 1);
    lua_getglobal(L, "package");
    lua_pushstring(L, b->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, b->cpath);
    lua_setfield(L, -2, "cpath");
    lua_pop(L, 1);
    lua_getglobal(L, "os");
    lua_pushcfunction(L, worker_os_exit);
    lua_setfield(L, -2, "exit");
    lua_pop(L, 1);
    lua_pushlightuserdata(L, b);
    lua_setfield(L, LUA_REGISTRYINDEX, WORKER_KEY);

    lua_getglobal(L, "require");
    lua_pushliteral(L, "rtc");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "_main");
    int st = luaL_loadfilex(L, b->script, "t");
    if (st != LUA_OK) return lua_error(L);
    char err[160];
    int nargs = lrtc_msg_decode_all(L, b->args, b->args_len, err, sizeof err);
    if (nargs < 0) return luaL_error(L, "worker arguments: %s", err);
    lua_createtable(L, nargs, 1);                    /* arg, as the executable makes it */
    lua_pushstring(L, b->script);
    lua_rawseti(L, -2, 0);
    for (int i = 1; i <= nargs; i++) {
        lua_pushvalue(L, -1 - nargs - 1 + i);
        lua_rawseti(L, -2, i);
    }
    lua_setglobal(L, "arg");
    lua_call(L, nargs + 1, 2);
    return 2;
}

static void worker_thread(void *arg)
{
    boot *b = arg;
    int ok = 0;
    char *err = NULL;
    lua_State *L = luaL_newstate();
    if (!L) {
        err = strdup("cannot create a Lua state: not enough memory");
    } else {
        lua_pushcfunction(L, worker_pmain);
        lua_pushlightuserdata(L, b);
        int st = lua_pcall(L, 1, 2, 0);
        if (st != LUA_OK) {
            const char *m = lua_tostring(L, -1);
            err = strdup(m ? m : "(error object is not a string)");
            lrtc_report_error(L, err);
        } else if (lua_toboolean(L, -2)) {
            ok = 1;
        } else {
            const char *m = lua_tostring(L, -1);
            err = strdup(m ? m : "(error object is not a string)");
            rtc_error("worker", "worker %d: script failed: %s", b->id, err);
            worker_error_hook(b, err);
        }
        lua_close(L);
    }
    rtc_pc_host_thread_exit();
    if (b->errors_dropped)
        rtc_warn("worker", "worker %d: %u error reports not delivered (the main script's queue was full)",
                 b->id, b->errors_dropped);
    size_t n = err ? strlen(err) : 0;
    uint8_t *f = malloc(n + 2);
    if (f) {
        f[0] = 'X';
        f[1] = (uint8_t)ok;
        if (n) memcpy(f + 2, err, n);
        if (rtc_chan_send_control(b->chan, 1, f, n + 2, 0) < 0) free(f);
    }
    free(err);
    rtc_chan_close(b->chan, 1);
}

static void boot_free(boot *b)
{
    if (!b) return;
    free(b->script);
    free(b->path);
    free(b->cpath);
    free(b->args);
    free(b);
}

/* }====== */

/* {====== main side: rtc.worker ====== */

static void worker_free(lworker *w)
{
    rtc_thread_join(w->thread);
    rtc_chan_close(w->b->chan, 0);
    boot_free(w->b);
    free(w->exit_err);
    free(w);
}

static void worker_wake(rtc_chan *c, int side, void *ud)
{
    (void)side;
    lworker *w = ud;
    lrtc_obj *o = w->link.owner;
    lua_State *L = o && !lrtc_closing(w->link.S) ? lrtc_main_thread(w->link.S) : NULL;
    void *data;
    size_t len;
    while (!w->exited && rtc_chan_recv(c, 0, &data, &len)) {
        uint8_t *f = data;
        if (len >= 1 && f[0] == 'M' && L && lrtc_obj_push_cb(L, o, EV_MESSAGE)) {
            if (push_message(L, f + 1, len - 1)) lrtc_call(L, 1);
            else lua_pop(L, 1);
        } else if (len >= 1 && f[0] == 'E' && L && lrtc_obj_push_cb(L, o, EV_ERROR)) {
            lua_pushlstring(L, (const char *)f + 1, len - 1);
            lrtc_call(L, 1);
        } else if (len >= 2 && f[0] == 'X') {
            w->exited = 1;
            w->exit_ok = f[1];
            if (len > 2) w->exit_err = strndup((const char *)f + 2, len - 2);
        }
        free(data);
        o = w->link.owner;                  /* a callback may have closed it */
        if (!o) L = NULL;
    }
    if (!w->exited && L && w->was_blocked && rtc_chan_writable(c, 0)) {
        w->was_blocked = 0;
        if (lrtc_obj_push_cb(L, o, EV_DRAIN)) lrtc_call(L, 0);
    }
    if (!w->exited) return;
    /* The thread has sent its last frame: it is ending, so this join is short. */
    rtc_thread_join(w->thread);
    w->thread = NULL;
    if (L && (o = w->link.owner)) {
        if (w->exit_ref != LUA_NOREF) {
            lrtc_push_unref(L, &w->exit_ref);
            lua_pushboolean(L, w->exit_ok);
            if (w->exit_err) lua_pushstring(L, w->exit_err); else lua_pushnil(L);
            lrtc_call(L, 2);
        }
        if ((o = w->link.owner) && lrtc_obj_push_cb(L, o, EV_EXIT)) {
            lua_pushboolean(L, w->exit_ok);
            if (w->exit_err) lua_pushstring(L, w->exit_err); else lua_pushnil(L);
            lrtc_call(L, 2);
        }
        if ((o = w->link.owner)) lrtc_obj_finish(L, o);
    }
    if (L) lrtc_unref(L, &w->exit_ref);
    worker_free(w);
}

/* w:terminate() / w:close() / __gc. The worker's loop stops on its next turn and
 * "exit" follows. At state teardown nobody is left to hear it: wait for the thread
 * here, so no worker outlives the state that spawned it. */
static void worker_close(lua_State *L, lrtc_obj *o)
{
    lworker *w = o->ptr;
    uint8_t *f = frame('S', NULL, 0);
    if (f && rtc_chan_send_control(w->b->chan, 0, f, 1, 1) < 0) free(f);
    if (w->link.owner) {                    /* w:terminate(): "exit" is still to come */
        o->closed = 0;
        return;
    }
    /* __gc at state teardown (the object was detached first) */
    o->ptr = NULL;
    lrtc_unref(L, &w->exit_ref);
    worker_free(w);
}

/* core.worker_spawn(script, path, cpath, queue, max_bytes, ...) -> rtc.worker */
static int l_worker_spawn(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    const char *script = luaL_checkstring(L, 1);
    const char *path = luaL_checkstring(L, 2);
    const char *cpath = luaL_checkstring(L, 3);
    lua_Integer queue = luaL_optinteger(L, 4, WORKER_DEFAULT_QUEUE);
    lua_Integer max_bytes = luaL_optinteger(L, 5, WORKER_MAX_BYTES);
    luaL_argcheck(L, queue >= 1 && queue <= 1000000, 4, "queue must be 1 .. 1000000 messages");
    luaL_argcheck(L, max_bytes >= 64 && max_bytes <= (1 << 30), 5, "max_bytes must be 64 .. 2^30");
    int nargs = lua_gettop(L) - 5;
    /* The arguments, one encoding after another (lrtc_msg_decode_all reads them). */
    luaL_Buffer ab;
    luaL_buffinit(L, &ab);
    for (int i = 0; i < nargs; i++) {
        uint8_t *enc;
        size_t len;
        char err[320];
        int r = lrtc_msg_encode(L, 6 + i, (size_t)max_bytes, &enc, &len, err, sizeof err);
        if (r < 0) return luaL_error(L, "rtc.worker.spawn: argument %d: %s", i + 1, err);
        luaL_addlstring(&ab, (const char *)enc, len);
        free(enc);
    }
    luaL_pushresult(&ab);
    size_t alen;
    const char *args = lua_tolstring(L, -1, &alen);

    /* Ids are process-wide, so log lines tell workers apart; a worker may spawn too. */
    static atomic_int next_id;
    lrtc_obj *o = lrtc_obj_new(L, &worker_class, sizeof(lrtc_obj), NULL);
    lworker *w = calloc(1, sizeof *w);
    boot *b = calloc(1, sizeof *b);
    if (!w || !b) { free(w); free(b); return lrtc_push_error(L, RTC_ENOMEM, NULL); }
    w->exit_ref = LUA_NOREF;
    w->b = b;
    b->id = atomic_fetch_add(&next_id, 1) + 1;
    b->max_bytes = (size_t)max_bytes;
    b->script = strdup(script);
    b->path = strdup(path);
    b->cpath = strdup(cpath);
    b->args = malloc(alen ? alen : 1);
    int r = (!b->script || !b->path || !b->cpath || !b->args) ? RTC_ENOMEM : 0;
    if (!r) {
        memcpy(b->args, args, alen);
        b->args_len = alen;
        r = rtc_chan_new(&b->chan, (size_t)queue, (size_t)max_bytes + 1);
    }
    if (!r) r = rtc_chan_bind(b->chan, 0, lrtc_uv_loop(S), worker_wake, w, 1);
    if (!r) r = rtc_thread_start(&w->thread, worker_thread, b);
    if (r < 0) {
        if (b->chan) { rtc_chan_close(b->chan, 0); rtc_chan_close(b->chan, 1); }
        boot_free(b);
        free(w);
        return lrtc_push_error(L, r, "cannot start a worker");
    }
    lrtc_obj_open(L, o, -1, w);
    return 1;
}

static lworker *check_worker(lua_State *L) { return lrtc_obj_check(L, 1, &worker_class)->ptr; }

/* w:send(value) -> true | nil, "QuotaExceededError: ...", "QuotaExceededError" */
static int w_send(lua_State *L)
{
    lworker *w = check_worker(L);
    luaL_checkany(L, 2);
    int n = send_value(L, w->b->chan, 0, 2, w->b->max_bytes);
    if (n == 3 && !rtc_chan_writable(w->b->chan, 0)) w->was_blocked = 1;
    return n;
}

static int w_id(lua_State *L)
{
    lworker *w = lrtc_obj_check_any(L, 1, &worker_class)->ptr;
    if (!w) return 0;
    lua_pushinteger(L, w->b->id);
    return 1;
}

/* w:_on_exit(fn): the one internal exit hook lua/rtc uses for w:join(). */
static int w_on_exit(lua_State *L)
{
    lworker *w = lrtc_obj_check_any(L, 1, &worker_class)->ptr;
    if (!w) return 0;
    lrtc_unref(L, &w->exit_ref);
    w->exit_ref = lrtc_ref_callback(L, 2);
    return 0;
}

static const luaL_Reg worker_methods[] = {
    { "send", w_send },
    { "id", w_id },
    { "_on_exit", w_on_exit },
    { NULL, NULL },
};

/* }====== */

/* {====== worker side: rtc.worker.parent ====== */

static void port_wake(rtc_chan *c, int side, void *ud)
{
    (void)side;
    lport *p = ud;
    lrtc_obj *o = p->link.owner;
    lua_State *L = o && !lrtc_closing(p->S) ? lrtc_main_thread(p->S) : NULL;
    void *data;
    size_t len;
    const void *head;
    for (;;) {
        /* Without a "message" handler messages wait in the inbox (and its bound holds
         * the sender back); a stop request is put first, so it is seen anyway. */
        if (!rtc_chan_peek(c, 1, &head, &len)) break;
        if (((const uint8_t *)head)[0] != 'S' && !(L && (o = p->link.owner) && o->cb[PEV_MESSAGE] != LUA_NOREF)) break;
        if (!rtc_chan_recv(c, 1, &data, &len)) break;
        uint8_t *f = data;
        if (len >= 1 && f[0] == 'S') {
            rtc_info("worker", "worker %d: stop requested", p->b->id);
            rtc_loop_stop(lrtc_get_loop(p->S));
        } else if (len >= 1 && f[0] == 'M' && L && (o = p->link.owner) && lrtc_obj_push_cb(L, o, PEV_MESSAGE)) {
            if (push_message(L, f + 1, len - 1)) lrtc_call(L, 1);
            else lua_pop(L, 1);
        }
        free(data);
    }
    if (rtc_chan_peer_closed(c, 1)) rtc_loop_stop(lrtc_get_loop(p->S));
    if (L && (o = p->link.owner) && p->was_blocked && rtc_chan_writable(c, 1)) {
        p->was_blocked = 0;
        if (lrtc_obj_push_cb(L, o, PEV_DRAIN)) lrtc_call(L, 0);
    }
}

/* The port lives as long as the worker's state; the channel side itself is closed by
 * the thread after its last frame, so closing the port only unbinds it. */
static void port_close(lua_State *L, lrtc_obj *o)
{
    lport *p = o->ptr;
    rtc_chan_unbind(p->b->chan, 1);
    int detached = p->link.owner == NULL;    /* __gc at state teardown */
    free(p);
    o->ptr = NULL;
    if (!detached) lrtc_obj_finish(L, o);
}

/* core.worker_parent() -> rtc.worker_port | nil (not in a worker); core.worker_id() */
static int l_worker_parent(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, WORKER_KEY);
    boot *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!b) return 0;
    if (lrtc_cache_push(L, b)) return 1;
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &port_class, sizeof(lrtc_obj), NULL);
    lport *p = calloc(1, sizeof *p);
    if (!p) return luaL_error(L, "rtc.worker.parent: out of memory");
    p->b = b;
    p->S = S;
    int r = rtc_chan_bind(b->chan, 1, lrtc_uv_loop(S), port_wake, p, 0);
    if (r < 0) { free(p); return luaL_error(L, "rtc.worker.parent: cannot bind (%s)", rtc_strerror(r)); }
    lrtc_obj_open(L, o, -1, p);
    lrtc_cache_set(L, b, -1);
    return 1;
}

static int l_worker_id(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, WORKER_KEY);
    boot *b = lua_touserdata(L, -1);
    if (!b) return 0;
    lua_pushinteger(L, b->id);
    return 1;
}

static lport *check_port(lua_State *L) { return lrtc_obj_check(L, 1, &port_class)->ptr; }

static int p_send(lua_State *L)
{
    lport *p = check_port(L);
    luaL_checkany(L, 2);
    int n = send_value(L, p->b->chan, 1, 2, p->b->max_bytes);
    if (n == 3 && !rtc_chan_writable(p->b->chan, 1)) p->was_blocked = 1;
    return n;
}

/* port:_keep_alive(bool): lua/rtc holds the worker's loop open while a "message"
 * handler is set, so a worker that only answers messages keeps running. */
static int p_keep_alive(lua_State *L)
{
    lport *p = check_port(L);
    rtc_chan_keep_alive(p->b->chan, 1, lua_toboolean(L, 2));
    if (lua_toboolean(L, 2)) rtc_chan_poke(p->b->chan, 1);   /* what waited meets the new handler */
    return 0;
}

static const luaL_Reg port_methods[] = {
    { "send", p_send },
    { "_keep_alive", p_keep_alive },
    { NULL, NULL },
};

/* }====== */

static int l_worker_cores(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)rtc_thread_cores());
    return 1;
}

void lrtc__open_worker(lua_State *L)
{
    lrtc_class_register(L, &worker_class, worker_methods);
    lrtc_class_register(L, &port_class, port_methods);
    static const luaL_Reg f[] = {
        { "worker_spawn", l_worker_spawn },
        { "worker_parent", l_worker_parent },
        { "worker_id", l_worker_id },
        { "worker_cores", l_worker_cores },
        { NULL, NULL },
    };
    luaL_setfuncs(L, f, 0);
    /* In a worker: its errors go to the main script as "error" events. */
    lua_getfield(L, LUA_REGISTRYINDEX, WORKER_KEY);
    boot *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (b) lrtc_set_error_hook(lrtc_state_get(L), worker_error_hook, b);
}
