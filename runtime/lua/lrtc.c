/* The binding infrastructure (see lrtc.h) and the rtc.core module table: loop control,
 * clock, logging, signals. Types live in their own files (timer, udp, tcp, json). */
#include "lua/lrtc.h"
#include "core/rtc_addr.h"
#include "core/rtc_log.h"
#include "dtls/dtls_transport.h"
#include "core/rtc_time.h"
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef RTC_VERSION
#define RTC_VERSION "0.0.0"
#endif

#define STATE_KEY "lrtc.state"
#define CACHE_KEY "lrtc.cache"

struct lrtc_state {
    rtc_loop *loop;
    lua_State *L;              /* main thread */
    int closing;
    int shutdown_ref;          /* Lua handler for SIGINT/SIGTERM, or LUA_NOREF */
    int signals;               /* how many shutdown signals arrived */
    int stopped_by_signal;
    uv_signal_t sig[2];
    lrtc_error_hook error_hook; /* a worker's report of its errors to the main script */
    void *error_ud;
};

/* {====== state ====== */

lrtc_state *lrtc_state_get(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lrtc_state *S = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!S) luaL_error(L, "rtc.core is not loaded in this Lua state");
    return S;
}

lua_State *lrtc_main_thread(lrtc_state *S) { return S->L; }
rtc_loop *lrtc_get_loop(lrtc_state *S) { return S->loop; }
uv_loop_t *lrtc_uv_loop(lrtc_state *S) { return rtc_loop_uv(S->loop); }
rtc_pool *lrtc_pool(lrtc_state *S) { return rtc_loop_pool(S->loop); }
int lrtc_closing(const lrtc_state *S) { return S->closing; }

void lrtc_set_error_hook(lrtc_state *S, lrtc_error_hook hook, void *ud)
{
    S->error_hook = hook;
    S->error_ud = ud;
}

void lrtc_report_error(lua_State *L, const char *msg)
{
    rtc_log_write(RTC_LOG_ERROR, "lua", "%s", msg);
    lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lrtc_state *S = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (S && S->error_hook) S->error_hook(S->error_ud, msg);
}

/* Objects' own __gc ran first (they were created after the state), so every handle is
 * closing; running the loop lets their close callbacks free the C side. When the
 * state is closed from inside a callback (os.exit(n, true)) the loop cannot be run
 * again: the process is exiting, so we leave the memory to it. */
static int state_gc(lua_State *L)
{
    lrtc_state *S = lua_touserdata(L, 1);
    if (!S->loop) return 0;
    S->closing = 1;
    if (rtc_loop_running(S->loop)) return 0;
    for (int i = 0; i < 2; i++) uv_close((uv_handle_t *)&S->sig[i], NULL);
    rtc_loop_free(S->loop);
    S->loop = NULL;
    return 0;
}

/* }====== */

/* {====== calling into Lua ====== */

static int msgh(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg) msg = luaL_tolstring(L, 1, NULL);
    luaL_traceback(L, L, msg, 1);
    return 1;
}

int lrtc_call(lua_State *L, int nargs)
{
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, msgh);
    lua_insert(L, base);
    int r = lua_pcall(L, nargs, 0, base);
    if (r != LUA_OK) {
        lua_pushfstring(L, "callback error: %s", lua_tostring(L, -1));
        lrtc_report_error(L, lua_tostring(L, -1));
        lua_pop(L, 2);
    }
    lua_remove(L, base);
    return r;
}

int lrtc_is_callable(lua_State *L, int idx)
{
    if (lua_isfunction(L, idx)) return 1;
    if (luaL_getmetafield(L, idx, "__call") != LUA_TNIL) { lua_pop(L, 1); return 1; }
    return 0;
}

int lrtc_ref_callback(lua_State *L, int idx)
{
    if (!lrtc_is_callable(L, idx)) luaL_typeerror(L, idx, "function");
    lua_pushvalue(L, idx);
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

void lrtc_unref(lua_State *L, int *ref)
{
    if (*ref != LUA_NOREF && *ref != LUA_REFNIL) luaL_unref(L, LUA_REGISTRYINDEX, *ref);
    *ref = LUA_NOREF;
}

void lrtc_push_unref(lua_State *L, int *ref)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, *ref);
    lrtc_unref(L, ref);
}

void lrtc_check_task(lua_State *L, const char *fname)
{
    if (!lua_isyieldable(L)) luaL_error(L, "%s: must be called from a task (coroutine)", fname);
}

/* }====== */

/* {====== errors ====== */

static const char *uv_domname(int e)
{
    switch (e) {
    case UV_ETIMEDOUT: return "TimeoutError";
    case UV_EAI_NONAME: case UV_EAI_NODATA: case UV_ENOENT: return "NotFoundError";
    case UV_EINVAL: case UV_EAI_FAMILY: return "TypeError";
    case UV_ECANCELED: return "AbortError";
    case UV_EACCES: case UV_EPERM: return "InvalidAccessError";
    default: return "NetworkError";
    }
}

void lrtc_push_uv_errstr(lua_State *L, int e, const char *what)
{
    if (what) lua_pushfstring(L, "%s: %s: %s (%s)", uv_domname(e), what, uv_strerror(e), uv_err_name(e));
    else lua_pushfstring(L, "%s: %s (%s)", uv_domname(e), uv_strerror(e), uv_err_name(e));
}

int lrtc_push_uv_error(lua_State *L, int e, const char *what)
{
    lua_pushnil(L);
    lrtc_push_uv_errstr(L, e, what);
    lua_pushstring(L, uv_domname(e));
    return 3;
}

/* }====== */

/* {====== objects ====== */

static int obj_gc(lua_State *L);
static int obj_close_mm(lua_State *L);
static int obj_tostring(lua_State *L);

lrtc_obj *lrtc_obj_new(lua_State *L, const lrtc_class *cls, size_t size, const luaL_Reg *methods)
{
    lrtc_obj *o = lua_newuserdatauv(L, size, 0);
    memset(o, 0, size);
    o->cls = cls;
    o->closed = 1;                 /* closed until lrtc_obj_open: __gc skips it safely */
    o->self_ref = LUA_NOREF;
    for (int i = 0; i < LRTC_MAX_EVENTS; i++) o->cb[i] = LUA_NOREF;
    if (luaL_newmetatable(L, cls->name)) {
        lua_pushcfunction(L, obj_gc); lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, obj_close_mm); lua_setfield(L, -2, "__close");
        lua_pushcfunction(L, obj_tostring); lua_setfield(L, -2, "__tostring");
        lua_newtable(L);
        if (methods) luaL_setfuncs(L, methods, 0);
        if (cls->events) {
            lua_pushlightuserdata(L, (void *)cls);
            lua_pushcclosure(L, lrtc_obj_on_method, 1);
            lua_setfield(L, -2, "on");
        }
        lua_pushlightuserdata(L, (void *)cls);
        lua_pushcclosure(L, lrtc_obj_close_method, 1);
        lua_setfield(L, -2, "close");
        lua_pushlightuserdata(L, (void *)cls);
        lua_pushcclosure(L, lrtc_obj_is_closed_method, 1);
        lua_setfield(L, -2, "is_closed");
        lua_setfield(L, -2, "__index");
    }
    lua_setmetatable(L, -2);
    return o;
}

void lrtc_class_register(lua_State *L, const lrtc_class *cls, const luaL_Reg *methods)
{
    lrtc_obj_new(L, cls, sizeof(lrtc_obj), methods);   /* a closed object: __gc skips it */
    lua_pop(L, 1);
}

void lrtc_obj_open(lua_State *L, lrtc_obj *o, int idx, void *ptr)
{
    lrtc_link *k = ptr;
    k->owner = o;
    k->S = lrtc_state_get(L);
    o->ptr = ptr;
    o->closed = 0;
    lua_pushvalue(L, idx);
    o->self_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

lrtc_obj *lrtc_obj_check_any(lua_State *L, int idx, const lrtc_class *cls)
{
    return luaL_checkudata(L, idx, cls->name);
}

lrtc_obj *lrtc_obj_check(lua_State *L, int idx, const lrtc_class *cls)
{
    lrtc_obj *o = luaL_checkudata(L, idx, cls->name);
    if (o->closed) luaL_error(L, "attempt to use a closed %s", cls->name);
    return o;
}

int lrtc_obj_push(lua_State *L, lrtc_obj *o)
{
    if (o->self_ref == LUA_NOREF) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->self_ref);
    return 1;
}

int lrtc_obj_push_cb(lua_State *L, lrtc_obj *o, int ev)
{
    if (ev < 0 || ev >= LRTC_MAX_EVENTS || o->cb[ev] == LUA_NOREF) return 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->cb[ev]);
    return 1;
}

void lrtc_obj_close(lua_State *L, lrtc_obj *o)
{
    if (o->closed) return;
    o->closed = 1;
    if (o->ptr) o->cls->close(L, o);
}

void lrtc_obj_finish(lua_State *L, lrtc_obj *o)
{
    if (o->ptr) ((lrtc_link *)o->ptr)->owner = NULL;
    o->ptr = NULL;
    o->closed = 1;
    int ce = o->cls->close_event;
    if (ce >= 0 && lrtc_obj_push_cb(L, o, ce)) {
        if (lrtc_obj_push(L, o)) lrtc_call(L, 1);
        else lua_pop(L, 1);
    }
    for (int i = 0; i < LRTC_MAX_EVENTS; i++) lrtc_unref(L, &o->cb[i]);
    lrtc_unref(L, &o->self_ref);
}

/* __gc. An open object reaches __gc only at state teardown (it is anchored
 * otherwise): detach it so the C side frees itself without calling Lua. */
static int obj_gc(lua_State *L)
{
    lrtc_obj *o = lua_touserdata(L, 1);
    if (!o || !o->ptr) return 0;
    ((lrtc_link *)o->ptr)->owner = NULL;
    if (!o->closed) {
        o->closed = 1;
        o->cls->close(L, o);
    }
    o->ptr = NULL;
    return 0;
}

/* __close (to-be-closed variables): an ordinary, idempotent close. */
static int obj_close_mm(lua_State *L)
{
    lrtc_obj *o = lua_touserdata(L, 1);
    if (o && o->cls) lrtc_obj_close(L, o);
    return 0;
}

static int obj_tostring(lua_State *L)
{
    lrtc_obj *o = lua_touserdata(L, 1);
    lua_pushfstring(L, "%s: %p%s", o->cls->name, (void *)o, o->closed ? " (closed)" : "");
    return 1;
}

/* obj:on(event, fn|nil) -> obj. The class is upvalue 1 (see lrtc_obj_new). */
int lrtc_obj_on_method(lua_State *L)
{
    const lrtc_class *cls = lua_touserdata(L, lua_upvalueindex(1));
    lrtc_obj *o = lrtc_obj_check(L, 1, cls);
    const char *ev = luaL_checkstring(L, 2);
    int i = 0;
    while (cls->events[i] && strcmp(cls->events[i], ev) != 0) i++;
    if (!cls->events[i] || i >= LRTC_MAX_EVENTS) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int j = 0; cls->events[j]; j++) {
            if (j) luaL_addstring(&b, ", ");
            luaL_addstring(&b, cls->events[j]);
        }
        luaL_pushresult(&b);
        return luaL_argerror(L, 2, lua_pushfstring(L, "unknown event '%s' for %s (expected one of: %s)",
                                                    ev, cls->name, lua_tostring(L, -1)));
    }
    lrtc_unref(L, &o->cb[i]);
    if (!lua_isnoneornil(L, 3)) o->cb[i] = lrtc_ref_callback(L, 3);
    lua_settop(L, 1);
    return 1;
}

int lrtc_obj_close_method(lua_State *L)
{
    const lrtc_class *cls = lua_touserdata(L, lua_upvalueindex(1));
    lrtc_obj_close(L, lrtc_obj_check_any(L, 1, cls));
    return 0;
}

int lrtc_obj_is_closed_method(lua_State *L)
{
    const lrtc_class *cls = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushboolean(L, lrtc_obj_check_any(L, 1, cls)->closed);
    return 1;
}

/* }====== */

/* {====== identity cache ====== */

static void push_cache(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
}

int lrtc_cache_push(lua_State *L, const void *ptr)
{
    push_cache(L);
    if (lua_rawgetp(L, -1, ptr) == LUA_TNIL) { lua_pop(L, 2); return 0; }
    lua_remove(L, -2);
    return 1;
}

void lrtc_cache_set(lua_State *L, const void *ptr, int idx)
{
    idx = lua_absindex(L, idx);
    push_cache(L);
    lua_pushvalue(L, idx);
    lua_rawsetp(L, -2, ptr);
    lua_pop(L, 1);
}

void lrtc_cache_del(lua_State *L, const void *ptr)
{
    push_cache(L);
    lua_pushnil(L);
    lua_rawsetp(L, -2, ptr);
    lua_pop(L, 1);
}

/* }====== */

/* {====== helpers ====== */

int lrtc_check_hostport(lua_State *L, int idx, rtc_addr *out, const char *defhost)
{
    const char *host;
    lua_Integer port;
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "host");
        host = lua_isnil(L, -1) ? defhost : lua_tostring(L, -1);
        if (!host) luaL_argerror(L, idx, "field 'host' must be a string");
        lua_getfield(L, idx, "port");
        port = lua_isnil(L, -1) ? 0 : lua_tointeger(L, -1);
        if (!lua_isnil(L, -1) && !lua_isinteger(L, -1)) luaL_argerror(L, idx, "field 'port' must be an integer");
        lua_pop(L, 2);
    } else {
        host = lua_isnoneornil(L, idx) ? defhost : luaL_checkstring(L, idx);
        port = luaL_optinteger(L, idx + 1, 0);
    }
    if (!host) return luaL_argerror(L, idx, "host expected");
    if (port < 0 || port > 65535) luaL_argerror(L, idx, "port out of range");
    if (rtc_addr_set(out, host, (uint16_t)port) < 0)
        luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a numeric IP address (use rtc.resolve)", host));
    return 0;
}

int lrtc_push_addr(lua_State *L, const rtc_addr *a)
{
    char ip[RTC_ADDR_STRLEN];
    lua_pushstring(L, rtc_addr_ip_str(a, ip, sizeof ip));
    lua_pushinteger(L, rtc_addr_port(a));
    return 2;
}

/* }====== */

/* {====== package path (for the executable) ====== */

static void add_dir(luaL_Buffer *b, const char *dir)
{
    luaL_addstring(b, dir);
    luaL_addstring(b, "/?.lua;");
    luaL_addstring(b, dir);
    luaL_addstring(b, "/?/init.lua;");
}

void lrtc_set_package_path(lua_State *L)
{
    luaL_Buffer b;
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "path");
    int old = lua_gettop(L);
    luaL_buffinit(L, &b);
    const char *env = getenv("LUARTC_PATH");
    if (env && *env) {
        for (const char *p = env; *p;) {
            size_t n = strcspn(p, ":;");
            if (n) {
                luaL_addlstring(&b, p, n);
                luaL_addstring(&b, "/?.lua;");
                luaL_addlstring(&b, p, n);
                luaL_addstring(&b, "/?/init.lua;");
            }
            p += n + (p[n] != 0);
        }
    } else {
#ifdef RTC_SOURCE_DIR
        add_dir(&b, RTC_SOURCE_DIR "/lua");
        add_dir(&b, RTC_SOURCE_DIR "/modules");
#endif
#ifdef RTC_INSTALL_LUA_DIR
        add_dir(&b, RTC_INSTALL_LUA_DIR);
#endif
    }
    lua_pushvalue(L, old);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    lua_setfield(L, old - 1, "path");
    lua_pop(L, 2);
}

/* }====== */

/* {====== module functions ====== */

int lrtc_run(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    if (rtc_loop_running(S->loop)) return luaL_error(L, "rtc.run: the loop is already running");
    rtc_loop_run(S->loop, UV_RUN_DEFAULT);
    return 0;
}

static int l_run(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    lrtc_run(L);
    lua_pushboolean(L, !S->stopped_by_signal);
    return 1;
}

static int l_stop(lua_State *L)
{
    rtc_loop_stop(lrtc_state_get(L)->loop);
    return 0;
}

static int l_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)rtc_clock_now() / 1000.0);
    return 1;
}

static const char *const level_names[] = { "trace", "debug", "info", "warn", "error", NULL };

static int l_log(lua_State *L)
{
    int lvl = luaL_checkoption(L, 1, NULL, level_names);
    const char *tag = luaL_checkstring(L, 2);
    const char *msg = luaL_checkstring(L, 3);
    rtc_log_write((rtc_log_level)lvl, tag, "%s", msg);
    return 0;
}

static int l_log_enabled(lua_State *L)
{
    int lvl = luaL_checkoption(L, 1, NULL, level_names);
    lua_pushboolean(L, rtc_log_enabled(luaL_checkstring(L, 2), (rtc_log_level)lvl));
    return 1;
}

static int l_log_set_format(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (rtc_log_set_format(name) < 0)
        return luaL_argerror(L, 1, lua_pushfstring(L, "unknown log format '%s' (text or json)", name));
    return 0;
}

static int l_log_set_filter(lua_State *L)
{
    const char *spec = luaL_checkstring(L, 1);
    if (rtc_log_set_filter(spec) < 0)
        return luaL_argerror(L, 1, lua_pushfstring(L, "invalid log filter '%s'", spec));
    return 0;
}

static void signal_cb(uv_signal_t *h, int signum)
{
    lrtc_state *S = h->data;
    if (++S->signals > 1) {
        /* A second signal means "now": no cleanup, no Lua. */
        fflush(stdout);
        fflush(stderr);
        _exit(128 + signum);
    }
    lua_State *L = S->L;
    if (S->shutdown_ref == LUA_NOREF) {
        rtc_info("lua", "%s: no shutdown handler, stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
        S->stopped_by_signal = 1;
        rtc_loop_stop(S->loop);
        return;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, S->shutdown_ref);
    lua_pushstring(L, signum == SIGINT ? "SIGINT" : "SIGTERM");
    lrtc_call(L, 1);
}

static int l_set_shutdown_handler(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    lrtc_unref(L, &S->shutdown_ref);
    if (!lua_isnoneornil(L, 1)) S->shutdown_ref = lrtc_ref_callback(L, 1);
    return 0;
}

static int l_stopped_by_signal(lua_State *L)
{
    lua_pushboolean(L, lrtc_state_get(L)->stopped_by_signal);
    return 1;
}

/* core.report_error(msg): log it (error, tag "lua") and, in a worker, report it to
 * the main script (lua/rtc's failed tasks come here). */
static int l_report_error(lua_State *L)
{
    lrtc_report_error(L, luaL_checkstring(L, 1));
    return 0;
}

static int l_pool_stats(lua_State *L)
{
    rtc_pool_stats st;
    rtc_pool_get_stats(lrtc_pool(lrtc_state_get(L)), &st);
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, (lua_Integer)st.allocated); lua_setfield(L, -2, "allocated");
    lua_pushinteger(L, (lua_Integer)st.in_use); lua_setfield(L, -2, "in_use");
    lua_pushinteger(L, (lua_Integer)st.free); lua_setfield(L, -2, "free");
    return 1;
}

/* core.methods(type_name) -> the method table of a bound type, so lua/rtc can add
 * the yielding methods written in Lua next to the C ones. */
static int l_methods(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (luaL_getmetatable(L, name) != LUA_TTABLE) return luaL_argerror(L, 1, "unknown type");
    lua_getfield(L, -1, "__index");
    return 1;
}

static const luaL_Reg core_funcs[] = {
    { "methods", l_methods },
    { "run", l_run },
    { "stop", l_stop },
    { "now", l_now },
    { "log", l_log },
    { "log_enabled", l_log_enabled },
    { "log_set_filter", l_log_set_filter }, { "log_set_format", l_log_set_format },
    { "set_shutdown_handler", l_set_shutdown_handler },
    { "stopped_by_signal", l_stopped_by_signal },
    { "pool_stats", l_pool_stats },
    { "report_error", l_report_error },
    { NULL, NULL },
};

/* }====== */

static lrtc_state *state_new(lua_State *L)
{
    lrtc_state *S = lua_newuserdatauv(L, sizeof *S, 0);
    memset(S, 0, sizeof *S);
    S->shutdown_ref = LUA_NOREF;
    lua_newtable(L);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    if (rtc_loop_new(&S->loop) < 0) luaL_error(L, "rtc.core: cannot create the event loop");
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
    S->L = lua_tothread(L, -1);
    lua_pop(L, 1);
    static const int sigs[2] = { SIGINT, SIGTERM };
    for (int i = 0; i < 2; i++) {
        uv_signal_init(rtc_loop_uv(S->loop), &S->sig[i]);
        S->sig[i].data = S;
        uv_signal_start(&S->sig[i], signal_cb, sigs[i]);
        uv_unref((uv_handle_t *)&S->sig[i]);   /* a handler never keeps the loop alive */
    }
    /* A peer that closes while we write must give the writer EPIPE, not kill the
     * process (libuv leaves SIGPIPE alone). Respect a handler someone else set. */
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
    const char *spec = getenv("RTC_LOG");
    if (spec && rtc_log_set_filter(spec) < 0) fprintf(stderr, "luartc: ignoring invalid RTC_LOG '%s'\n", spec);
    const char *keylog = getenv("SSLKEYLOGFILE");
    if (keylog && *keylog && rtc_dtls_set_keylog_file(keylog) < 0)
        fprintf(stderr, "luartc: cannot write SSLKEYLOGFILE '%s'\n", keylog);
    const char *fmt = getenv("RTC_LOG_FORMAT");
    if (fmt && *fmt && rtc_log_set_format(fmt) < 0)
        fprintf(stderr, "luartc: ignoring invalid RTC_LOG_FORMAT '%s' (text or json)\n", fmt);
    lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    return S;
}

int lrtc_open_core(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        state_new(L);
    } else {
        lua_pop(L, 1);
    }
    lua_newtable(L);
    luaL_setfuncs(L, core_funcs, 0);
    lua_pushliteral(L, RTC_VERSION);
    lua_setfield(L, -2, "version");
    lrtc__open_timer(L);
    lrtc__open_udp(L);
    lrtc__open_tcp(L);
    lrtc__open_json(L);
    lrtc__open_dns(L);
    lrtc__open_pc(L);
    lrtc__open_http(L);
    lrtc__open_turn(L);
    lrtc__open_media(L);
    lrtc__open_worker(L);
    lrtc__open_sfu(L);
    return 1;
}
