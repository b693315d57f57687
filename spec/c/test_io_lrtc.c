/* lua/lrtc.h, the binding infrastructure, driven from C: object lifecycle (create
 * closed, anchor, events by name, idempotent close, finish, teardown detach), the
 * pcall gate, the fail triple and the identity cache. */
#include "rtc_test.h"
#include "core/rtc_log.h"
#include "lua/lrtc.h"
#include <lualib.h>

typedef struct thing { lrtc_link link; uv_timer_t t; int *freed; } thing;

enum { EV_PING, EV_CLOSE };
static const char *const thing_events[] = { "ping", "close", NULL };
static int finished_with_owner, finished_detached;

static void thing_closed(uv_handle_t *h)
{
    thing *th = h->data;
    if (th->link.owner) {
        finished_with_owner++;
        lrtc_obj_finish(lrtc_main_thread(th->link.S), th->link.owner);
    } else {
        finished_detached++;
    }
    (*th->freed)++;
    free(th);
}

/* Closing is asynchronous, as with every libuv handle. */
static void thing_close(lua_State *L, lrtc_obj *o)
{
    (void)L;
    thing *th = o->ptr;
    uv_close((uv_handle_t *)&th->t, thing_closed);
}

static const lrtc_class thing_class = { "test.thing", thing_events, EV_CLOSE, thing_close };

static int thing_ping(lua_State *L)
{
    lrtc_obj *o = lrtc_obj_check(L, 1, &thing_class);
    if (lrtc_obj_push_cb(L, o, EV_PING)) {
        lua_pushvalue(L, 2);
        lrtc_call(L, 1);
    }
    return 0;
}

static int freed;
static lrtc_obj *new_thing(lua_State *L)
{
    static const luaL_Reg methods[] = { { "ping", thing_ping }, { NULL, NULL } };
    lrtc_obj *o = lrtc_obj_new(L, &thing_class, sizeof(lrtc_obj), methods);
    thing *th = calloc(1, sizeof *th);
    uv_timer_init(lrtc_uv_loop(lrtc_state_get(L)), &th->t);
    th->t.data = th;
    th->freed = &freed;
    lrtc_obj_open(L, o, -1, th);
    return o;
}

static char logged[4096];
static void sink(rtc_log_level lvl, const char *tag, const char *line, void *ud)
{
    (void)lvl; (void)ud;
    snprintf(logged + strlen(logged), sizeof logged - strlen(logged), "%s: %s\n", tag, line);
}

static void run_lua(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != LUA_OK) RTC_TEST_FAIL("lua: %s", lua_tostring(L, -1));
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lrtc_open_core(L);
    lua_setglobal(L, "core");
    return L;
}

static void test_object_lifecycle(void)
{
    lua_State *L = new_state();
    freed = finished_with_owner = finished_detached = 0;
    lrtc_obj *o = new_thing(L);
    lrtc_cache_set(L, o->ptr, -1);
    void *ptr = o->ptr;
    lua_setglobal(L, "thing");

    /* events by name: unknown names raise and list the valid ones */
    run_lua(L, "local ok, err = pcall(thing.on, thing, 'pong', print)\n"
               "assert(not ok and err:find(\"unknown event 'pong' for test.thing (expected one of: ping, close)\", 1, true), err)\n"
               "assert(not pcall(thing.on, thing, 'ping', 42))\n"
               "got = {}\n"
               "assert(thing:on('ping', function(x) got[#got + 1] = x end) == thing)\n"
               "thing:on('close', function() got[#got + 1] = 'closed' end)\n"
               "thing:ping('a'); thing:ping('b')\n"
               "assert(#got == 2 and got[2] == 'b')\n"
               "assert(tostring(thing):find('^test.thing: '))");

    /* the gate: an error in a callback is logged with its traceback, stack balanced */
    rtc_log_set_sink(sink, NULL);
    int top = lua_gettop(L);
    run_lua(L, "thing:on('ping', function() error('from callback') end)");
    run_lua(L, "thing:ping(1)");
    ASSERT_EQ(lua_gettop(L), top);
    ASSERT(strstr(logged, "lua: callback error: ") != NULL);
    ASSERT(strstr(logged, "from callback") != NULL);
    ASSERT(strstr(logged, "stack traceback:") != NULL);
    rtc_log_set_sink(NULL, NULL);

    /* anchored: dropping every reference does not collect an open object */
    run_lua(L, "thing = nil; collectgarbage(); collectgarbage()");
    ASSERT_EQ(lrtc_cache_push(L, ptr), 1);
    ASSERT(lua_touserdata(L, -1) == (void *)o);
    lua_setglobal(L, "thing");

    /* close: idempotent, methods raise at once, "close" fires once the C side is gone */
    run_lua(L, "thing:on('ping', nil); thing:close(); thing:close()\n"
               "assert(thing:is_closed())\n"
               "local ok, err = pcall(thing.ping, thing, 1)\n"
               "assert(not ok and err:find('attempt to use a closed test.thing', 1, true), err)");
    ASSERT_EQ(freed, 0);
    uv_run(lrtc_uv_loop(lrtc_state_get(L)), UV_RUN_DEFAULT);
    ASSERT_EQ(freed, 1);
    ASSERT_EQ(finished_with_owner, 1);
    run_lua(L, "assert(got[#got] == 'closed' and #got == 3)");

    /* finished: the anchor is gone, so the object can now be collected */
    run_lua(L, "thing = nil; collectgarbage(); collectgarbage()");
    ASSERT_EQ(lrtc_cache_push(L, ptr), 0);
    lua_close(L);
}

static void test_teardown_detaches_open_objects(void)
{
    lua_State *L = new_state();
    freed = finished_with_owner = finished_detached = 0;
    new_thing(L);
    lua_setglobal(L, "a");
    new_thing(L);
    lua_setglobal(L, "b");
    run_lua(L, "a:on('close', function() error('must not run at teardown') end)\n"
               "b:close()");                      /* b is closing, a is open */
    lua_close(L);                                 /* frees both without calling Lua */
    ASSERT_EQ(freed, 2);
    ASSERT_EQ(finished_with_owner, 0);
    ASSERT_EQ(finished_detached, 2);
}

static int push_errors(lua_State *L)
{
    int n = lrtc_push_error(L, RTC_EIO, "bind %s:%d failed", "1.2.3.4", 5);
    n += lrtc_push_uv_error(L, UV_ECONNREFUSED, "connect");
    n += lrtc_push_error(L, RTC_ETIMEDOUT, NULL);
    return n;
}

static void test_fail_triple(void)
{
    lua_State *L = new_state();
    lua_pushcfunction(L, push_errors);
    lua_setglobal(L, "errs");
    run_lua(L, "local t = table.pack(errs())\n"
               "assert(t.n == 9)\n"
               "assert(t[1] == nil and t[2] == 'NetworkError: bind 1.2.3.4:5 failed' and t[3] == 'NetworkError', t[2])\n"
               "assert(t[4] == nil and t[5] == 'NetworkError: connect: connection refused (ECONNREFUSED)' and t[6] == 'NetworkError', t[5])\n"
               "assert(t[8] == 'TimeoutError: timed out' and t[9] == 'TimeoutError', t[8])");
    /* methods table access for the Lua half, and typed checks on the wrong object */
    run_lua(L, "local m = core.methods('rtc.udp'); assert(type(m.send) == 'function')\n"
               "assert(not pcall(core.methods, 'no.such.type'))\n"
               "local t = core.timer_start(1000, 0, print)\n"
               "local ok, err = pcall(core.methods('rtc.udp').send, t, 'x', '127.0.0.1', 1)\n"
               "assert(not ok and err:find('rtc.udp expected, got rtc.timer', 1, true), err)\n"
               "t:stop()");
    lua_close(L);
}

int main(void)
{
    RUN(test_object_lifecycle);
    RUN(test_teardown_detaches_open_objects);
    RUN(test_fail_triple);
    return 0;
}
