/* Timers and the idle hook: core.timer_start(ms, repeat_ms, fn) -> rtc.timer and
 * core.idle(fn) -> rtc.idle. A timer is anchored while armed, so a script need not
 * keep it; a one-shot timer closes itself before its callback runs (timer:stop()
 * inside the callback is then a no-op). The idle hook runs once per loop turn while
 * started and stops the loop from sleeping: lua/rtc uses it for its queue of tasks
 * that are ready to resume. */
#include "lua/lrtc.h"
#include <stdlib.h>

typedef struct ltimer {
    lrtc_link link;
    union { uv_timer_t timer; uv_idle_t idle; } h;
    int repeat;
} ltimer;

static void handle_closed(uv_handle_t *h)
{
    ltimer *t = h->data;
    if (t->link.owner && !lrtc_closing(t->link.S)) lrtc_obj_finish(lrtc_main_thread(t->link.S), t->link.owner);
    free(t);
}

static void lt_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    ltimer *t = o->ptr;
    uv_close((uv_handle_t *)&t->h, handle_closed);
}

static const lrtc_class timer_class = { "rtc.timer", NULL, -1, lt_close };
static const lrtc_class idle_class = { "rtc.idle", NULL, -1, lt_close };

static void timer_cb(uv_timer_t *h)
{
    ltimer *t = h->data;
    lrtc_obj *o = t->link.owner;
    if (!o || lrtc_closing(t->link.S)) return;
    lua_State *L = lrtc_main_thread(t->link.S);
    if (!lrtc_obj_push_cb(L, o, 0)) return;
    if (!t->repeat) lrtc_obj_close(L, o);
    lrtc_call(L, 0);
}

/* core.timer_start(ms, repeat_ms, fn) */
static int l_timer_start(lua_State *L)
{
    lua_Number ms = luaL_checknumber(L, 1);
    lua_Number rep = luaL_optnumber(L, 2, 0);
    luaL_argcheck(L, ms >= 0 && ms < 1e15, 1, "delay must be >= 0 milliseconds");
    luaL_argcheck(L, rep >= 0 && rep < 1e15, 2, "interval must be >= 0 milliseconds");
    if (!lrtc_is_callable(L, 3)) return luaL_typeerror(L, 3, "function");
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &timer_class, sizeof(lrtc_obj), NULL);
    ltimer *t = calloc(1, sizeof *t);
    if (!t) return luaL_error(L, "rtc.set_timeout: out of memory");
    uv_timer_init(lrtc_uv_loop(S), &t->h.timer);
    t->h.timer.data = t;
    /* libuv timers have millisecond resolution; a fractional delay rounds up so a
     * timer never fires early. An interval of 0 means one-shot. */
    uint64_t d = (uint64_t)ms + ((lua_Number)(uint64_t)ms < ms);
    uint64_t r = (uint64_t)rep + ((lua_Number)(uint64_t)rep < rep);
    t->repeat = r > 0;
    lrtc_obj_open(L, o, -1, t);
    o->cb[0] = lrtc_ref_callback(L, 3);
    /* libuv counts a delay from the loop time cached at the start of its last turn.
     * A script that blocked since then (stock Lua between two rtc.run calls, a long
     * callback) would get a timer that fires that much early: count from now. */
    uv_update_time(lrtc_uv_loop(S));
    uv_timer_start(&t->h.timer, timer_cb, d, r);
    return 1;
}

static void idle_cb(uv_idle_t *h)
{
    ltimer *t = h->data;
    lrtc_obj *o = t->link.owner;
    if (!o || lrtc_closing(t->link.S)) return;
    lua_State *L = lrtc_main_thread(t->link.S);
    if (lrtc_obj_push_cb(L, o, 0)) lrtc_call(L, 0);
}

/* core.idle(fn): created stopped. */
static int l_idle(lua_State *L)
{
    if (!lrtc_is_callable(L, 1)) return luaL_typeerror(L, 1, "function");
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &idle_class, sizeof(lrtc_obj), NULL);
    ltimer *t = calloc(1, sizeof *t);
    if (!t) return luaL_error(L, "rtc.idle: out of memory");
    uv_idle_init(lrtc_uv_loop(S), &t->h.idle);
    t->h.idle.data = t;
    lrtc_obj_open(L, o, -1, t);
    o->cb[0] = lrtc_ref_callback(L, 1);
    return 1;
}

static int idle_start(lua_State *L)
{
    ltimer *t = lrtc_obj_check(L, 1, &idle_class)->ptr;
    uv_idle_start(&t->h.idle, idle_cb);
    return 0;
}

static int idle_stop(lua_State *L)
{
    ltimer *t = lrtc_obj_check(L, 1, &idle_class)->ptr;
    uv_idle_stop(&t->h.idle);
    return 0;
}

static int timer_stop(lua_State *L)
{
    lrtc_obj_close(L, lrtc_obj_check_any(L, 1, &timer_class));
    return 0;
}

static int timer_active(lua_State *L)
{
    lua_pushboolean(L, !lrtc_obj_check_any(L, 1, &timer_class)->closed);
    return 1;
}

void lrtc__open_timer(lua_State *L)
{
    static const luaL_Reg timer_methods[] = { { "stop", timer_stop }, { "active", timer_active }, { NULL, NULL } };
    static const luaL_Reg idle_methods[] = { { "start", idle_start }, { "stop", idle_stop }, { NULL, NULL } };
    lrtc_class_register(L, &timer_class, timer_methods);
    lrtc_class_register(L, &idle_class, idle_methods);
    lua_pushcfunction(L, l_timer_start);
    lua_setfield(L, -2, "timer_start");
    lua_pushcfunction(L, l_idle);
    lua_setfield(L, -2, "idle");
}
