/* The binding infrastructure every Lua binding in luartc builds on (docs/runtime.md,
 * "How to add a binding").
 *
 * - One lrtc_state per lua_State: the rtc_loop (libuv loop, packet pool, RNG) and the
 *   main thread that every callback runs on (LUA_RIDX_MAINTHREAD, never the coroutine
 *   that happened to require the module).
 * - The pcall gate lrtc_call: every call from C into Lua goes through it; an error
 *   is logged with its traceback and the loop keeps running.
 * - The fail triple lrtc_push_error: nil, "DomName: message", "DomName".
 * - lrtc_obj: the userdata pattern (pointer to a C object, closed state, events by
 *   name, self-anchoring while events can fire, idempotent close, __gc/__close).
 * - Waiting: C never stores a coroutine. A C operation takes a one-shot Lua callback
 *   (lrtc_ref_callback); lua/rtc/ captures coroutine.running(), passes a callback that
 *   resumes it, and yields.
 */
#ifndef LRTC_H
#define LRTC_H
#include <lauxlib.h>
#include <lua.h>
#include <uv.h>
#include "core/rtc_buf.h"
#include "core/rtc_errors.h"
#include "io/rtc_loop.h"

/* ====== state ====== */
typedef struct lrtc_state lrtc_state;

/* The state of L's Lua universe (created by lrtc_open_core); raises if absent. */
lrtc_state *lrtc_state_get(lua_State *L);
lua_State *lrtc_main_thread(lrtc_state *S);     /* borrowed; for callbacks from C */
rtc_loop *lrtc_get_loop(lrtc_state *S);         /* borrowed */
uv_loop_t *lrtc_uv_loop(lrtc_state *S);         /* borrowed */
rtc_pool *lrtc_pool(lrtc_state *S);             /* borrowed */
/* 1 while the Lua state is being torn down: completions must free, not call Lua. */
int lrtc_closing(const lrtc_state *S);

/* Called with every error lrtc_call or lrtc_report_error logs (msg borrowed for the
 * call), on the state's own thread. A worker sets one to tell the main script. */
typedef void (*lrtc_error_hook)(void *ud, const char *msg);
void lrtc_set_error_hook(lrtc_state *S, lrtc_error_hook hook, void *ud);
/* Log msg as an error (tag "lua") and pass it to the state's error hook. */
void lrtc_report_error(lua_State *L, const char *msg);

/* ====== calling into Lua ====== */
/* The pcall gate. Stack: function, nargs arguments (on L, normally the main thread).
 * Calls it with a traceback handler; on error logs "callback error: msg\ntraceback"
 * (tag "lua", level error) and returns the error code, leaving the stack balanced
 * (function and arguments popped, no results). Returns LUA_OK on success. */
int lrtc_call(lua_State *L, int nargs);

/* A one-shot callback: checks that arg `idx` is callable (luaL_argerror otherwise)
 * and returns a registry ref to it. Release with lrtc_unref. */
int lrtc_ref_callback(lua_State *L, int idx);
/* Pushes the ref'd value and releases the ref (for one-shot completions). */
void lrtc_push_unref(lua_State *L, int *ref);
void lrtc_unref(lua_State *L, int *ref);        /* LUA_NOREF-safe; sets *ref = LUA_NOREF */
int lrtc_is_callable(lua_State *L, int idx);

/* ====== errors ====== */
/* Pushes nil, "DomName: message", "DomName" (DomName from rtc_err_domname) and
 * returns 3. fmt may be NULL for rtc_strerror's message. */
int lrtc_push_error(lua_State *L, int rtc_err, const char *fmt, ...);
/* The same for a libuv error code: "NetworkError: connection refused (ECONNREFUSED)";
 * timeouts map to TimeoutError, unknown hosts to NotFoundError. */
int lrtc_push_uv_error(lua_State *L, int uv_err, const char *what);
/* The error string alone (no nil / name), for passing to callbacks. */
void lrtc_push_uv_errstr(lua_State *L, int uv_err, const char *what);
/* Raise "<fname>: must be called from a task (coroutine)" unless L is yieldable. */
void lrtc_check_task(lua_State *L, const char *fname);

/* ====== objects ====== */
#define LRTC_MAX_EVENTS 6

typedef struct lrtc_obj lrtc_obj;

/* One per bound type. `events` is NULL-terminated: the names obj:on() accepts; the
 * index of a name is its event number. close_event is the index of "close" or -1. */
typedef struct lrtc_class {
    const char *name;                     /* metatable name, e.g. "rtc.udp" */
    const char *const *events;
    int close_event;
    /* Begin releasing o->ptr (never NULL here). When the C object is really gone it
     * calls lrtc_obj_finish(L, o) if its owner link is still set; it may do so
     * before returning. */
    void (*close)(lua_State *L, lrtc_obj *o);
} lrtc_class;

/* Every C object a lrtc_obj points to starts with this link, so generic code can
 * detach the two at teardown: the C object then frees itself without touching Lua. */
typedef struct lrtc_link { lrtc_obj *owner; lrtc_state *S; } lrtc_link;

struct lrtc_obj {
    const lrtc_class *cls;
    void *ptr;              /* the C object (starts with lrtc_link); NULL when gone */
    int closed;             /* close requested: methods raise "attempt to use a closed ..." */
    int self_ref;           /* registry ref anchoring the userdata while events can fire */
    int cb[LRTC_MAX_EVENTS];
};

/* Pushes a new userdata of `size` bytes (>= sizeof(lrtc_obj); a binding may embed
 * lrtc_obj as the first member of a larger struct) in the closed state, with the
 * class's metatable (created on first use with __gc, __close, __index = methods,
 * __name and __tostring). `methods` (may be NULL) are registered on first use. */
lrtc_obj *lrtc_obj_new(lua_State *L, const lrtc_class *cls, size_t size, const luaL_Reg *methods);
/* Creates the class's metatable with `methods` now (call once from the module
 * opener, so the methods exist before the first object). */
void lrtc_class_register(lua_State *L, const lrtc_class *cls, const luaL_Reg *methods);
/* Makes `o` (userdata at stack index idx) open on C object `ptr` and anchors it. */
void lrtc_obj_open(lua_State *L, lrtc_obj *o, int idx, void *ptr);
/* Arg check: an object of this class, open. Raises otherwise. */
lrtc_obj *lrtc_obj_check(lua_State *L, int idx, const lrtc_class *cls);
/* Arg check allowing closed objects. */
lrtc_obj *lrtc_obj_check_any(lua_State *L, int idx, const lrtc_class *cls);
/* Pushes the userdata of an anchored object; returns 0 (pushes nothing) if not anchored. */
int lrtc_obj_push(lua_State *L, lrtc_obj *o);
/* Pushes the callback for event `ev` and returns 1, or returns 0 with nothing pushed. */
int lrtc_obj_push_cb(lua_State *L, lrtc_obj *o, int ev);
/* Idempotent close: marks closed, then cls->close. */
void lrtc_obj_close(lua_State *L, lrtc_obj *o);
/* Called by the binding when its C object is gone: fires "close" (if registered and
 * the state is live), drops callbacks and the anchor. */
void lrtc_obj_finish(lua_State *L, lrtc_obj *o);
/* Generic methods installed by lrtc_obj_new (they take the class as upvalue 1):
 * obj:on(event, fn|nil) with event names checked, obj:close(), obj:is_closed(). */
int lrtc_obj_on_method(lua_State *L);
int lrtc_obj_close_method(lua_State *L);
int lrtc_obj_is_closed_method(lua_State *L);

/* ====== identity cache ====== */
/* A weak-valued table pointer -> userdata, so the same C object always pushes the
 * same Lua value (e.g. a data channel seen from several events). */
int lrtc_cache_push(lua_State *L, const void *ptr);      /* 1 and pushes, or 0 */
void lrtc_cache_set(lua_State *L, const void *ptr, int idx);
void lrtc_cache_del(lua_State *L, const void *ptr);

/* ====== helpers for bindings ====== */
/* Reads "host" (numeric IP) and "port" from a table at idx, or host/port arguments
 * at idx/idx+1 (see luaL_argerror). 0 or raises. */
struct rtc_addr;
int lrtc_check_hostport(lua_State *L, int idx, struct rtc_addr *out, const char *defhost);
/* Pushes ip string and port (2 values). */
int lrtc_push_addr(lua_State *L, const struct rtc_addr *a);
/* Arg check: an open rtc.pc_core; its host (borrowed, valid while the pc is open). */
struct rtc_pc_host;
struct rtc_pc_host *lrtc_pc_check_host(lua_State *L, int idx);

/* ====== module ====== */
/* luaopen_rtc_core: returns the rtc.core table. Safe to call more than once per state. */
int lrtc_open_core(lua_State *L);
/* Runs the loop until nothing is left (or rtc.stop). For the executable. */
int lrtc_run(lua_State *L);

/* For the executable: prepend to package.path the directories of $LUARTC_PATH
 * (':'-separated), or else the source tree's lua/ and modules/ and the install dir. */
void lrtc_set_package_path(lua_State *L);

/* Internal: each binding file registers its functions into the table on top. */
void lrtc__open_timer(lua_State *L);
void lrtc__open_udp(lua_State *L);
void lrtc__open_tcp(lua_State *L);
void lrtc__open_json(lua_State *L);
void lrtc__open_dns(lua_State *L);
void lrtc__open_pc(lua_State *L);
void lrtc__open_http(lua_State *L);
void lrtc__open_turn(lua_State *L);
void lrtc__open_media(lua_State *L);
void lrtc__open_worker(lua_State *L);
void lrtc__open_sfu(lua_State *L);

#endif
