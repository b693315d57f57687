/* The C half of rtc.sfu: core.sfu_router() -> rtc.sfu_core, a thin userdata over
 * io/rtc_sfu_host. Producers and consumers are integer ids here; lua/rtc/sfu.lua builds
 * rooms, producer and consumer objects and policy hooks on top.
 *
 * Events reach Lua through one callback, obj:on("event", fn), called as fn(name, id)
 * with name "started" (a consumer sent its first packet), "keyframerequested" (a
 * keyframe request went to a producer's publisher), "bye" (a producer's publisher sent
 * RTCP BYE), "removed" (the id's connection closed; the id is gone), "layerchange"
 * (fn(name, id, spatial, temporal, why): a consumer forwards another layer), "layerstart"
 * or "layerstop" (a producer's layer began or stopped receiving). Speaker observers
 * (sfu/sfu_speaker.h) add fn("activespeaker", speaker_id, producer_id) and
 * fn("audiolevels", speaker_id, { {id=producer_id, level=0..127, voice=bool}, ... }),
 * loudest first. Nothing here runs per packet. */
#include "lua/lrtc.h"
#include "io/rtc_sfu_host.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { EV_EVENT, EV_CLOSE };
static const char *const sfu_events[] = { "event", "close", NULL };
enum { ITEM_FREE, ITEM_PRODUCER, ITEM_CONSUMER, ITEM_SPEAKER };

typedef struct item { int kind; void *ptr; } item;

typedef struct lsfu {
    lrtc_link link;
    rtc_sfu_host *h;
    item *items;                  /* id = index + 1 */
    int nitems, capitems;
} lsfu;

static void lsfu_close(lua_State *L, lrtc_obj *o)
{
    lsfu *s = o->ptr;
    rtc_sfu_host_close(s->h);      /* frees itself once libuv is done with its timer */
    lrtc_obj_finish(L, o);
    free(s->items);
    free(s);
}

static const lrtc_class sfu_class = { "rtc.sfu_core", sfu_events, EV_CLOSE, lsfu_close };

static void on_host_event(rtc_sfu_host *h, rtc_sfu_host_event_type type, void *user, void *ud)
{
    (void)h;
    lsfu *s = ud;
    int id = (int)(intptr_t)user;
    if (type == RTC_SFU_HOST_EV_REMOVED && id >= 1 && id <= s->nitems) s->items[id - 1].kind = ITEM_FREE;
    lrtc_obj *o = s->link.owner;
    if (!o || lrtc_closing(s->link.S)) return;
    lua_State *L = lrtc_main_thread(s->link.S);
    if (!lrtc_obj_push_cb(L, o, EV_EVENT)) return;
    static const char *const names[] = { "", "started", "keyframerequested", "bye", "removed",
                                         "layerchange", "layerstart", "layerstop" };
    lua_pushstring(L, names[type]);
    lua_pushinteger(L, id);
    const rtc_sfu_event *ev = rtc_sfu_host_event_detail(h);
    if (type == RTC_SFU_HOST_EV_LAYER_CHANGE && ev) {
        lua_pushinteger(L, ev->spatial);
        lua_pushinteger(L, ev->temporal);
        lua_pushstring(L, rtc_sfu_layer_why_name(ev->why));
        lrtc_call(L, 5);
        return;
    }
    lrtc_call(L, 2);
}

static void on_speaker_event(rtc_sfu_host *h, rtc_sfu_host_speaker_event type, void *speaker_user,
                             void *producer_user, const rtc_sfu_host_level *levels, int n, void *ud)
{
    (void)h;
    lsfu *s = ud;
    lrtc_obj *o = s->link.owner;
    if (!o || lrtc_closing(s->link.S)) return;
    lua_State *L = lrtc_main_thread(s->link.S);
    if (!lrtc_obj_push_cb(L, o, EV_EVENT)) return;
    if (type == RTC_SFU_HOST_SPEAKER_ACTIVE) {
        lua_pushstring(L, "activespeaker");
        lua_pushinteger(L, (lua_Integer)(intptr_t)speaker_user);
        if (producer_user) lua_pushinteger(L, (lua_Integer)(intptr_t)producer_user);
        else lua_pushnil(L);
    } else {
        lua_pushstring(L, "audiolevels");
        lua_pushinteger(L, (lua_Integer)(intptr_t)speaker_user);
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_createtable(L, 0, 3);
            lua_pushinteger(L, (lua_Integer)(intptr_t)levels[i].user); lua_setfield(L, -2, "id");
            lua_pushinteger(L, levels[i].level); lua_setfield(L, -2, "level");
            lua_pushboolean(L, levels[i].voice); lua_setfield(L, -2, "voice");
            lua_rawseti(L, -2, i + 1);
        }
    }
    lrtc_call(L, 3);
}

/* core.sfu_router() -> rtc.sfu_core | nil, err */
static int l_sfu_router(lua_State *L)
{
    lrtc_state *S = lrtc_state_get(L);
    lrtc_obj *o = lrtc_obj_new(L, &sfu_class, sizeof(lrtc_obj), NULL);
    lsfu *s = calloc(1, sizeof *s);
    if (!s) return lrtc_push_error(L, RTC_ENOMEM, NULL);
    int r = rtc_sfu_host_new(&s->h, lrtc_get_loop(S), on_host_event, s);
    if (r < 0) { free(s); return lrtc_push_error(L, r, NULL); }
    rtc_sfu_host_set_speaker_cb(s->h, on_speaker_event, s);
    lrtc_obj_open(L, o, -1, s);
    return 1;
}

static lsfu *check_sfu(lua_State *L) { return lrtc_obj_check(L, 1, &sfu_class)->ptr; }

static int new_id(lsfu *s)
{
    for (int i = 0; i < s->nitems; i++)
        if (s->items[i].kind == ITEM_FREE) return i + 1;
    if (s->nitems == s->capitems) {
        int ncap = s->capitems ? s->capitems * 2 : 8;
        item *n = realloc(s->items, (size_t)ncap * sizeof *n);
        if (!n) return RTC_ENOMEM;
        s->items = n;
        s->capitems = ncap;
    }
    s->items[s->nitems].kind = ITEM_FREE;
    return ++s->nitems;
}

/* The item at arg idx, of kind `kind` (0: either); raises for an unknown id. */
static item *check_item(lua_State *L, lsfu *s, int idx, int kind)
{
    lua_Integer id = luaL_checkinteger(L, idx);
    if (id < 1 || id > s->nitems || s->items[id - 1].kind == ITEM_FREE) luaL_argerror(L, idx, "no such producer or consumer");
    item *it = &s->items[id - 1];
    if (kind && it->kind != kind)
        luaL_argerror(L, idx, kind == ITEM_PRODUCER ? "a producer id expected"
                              : kind == ITEM_SPEAKER ? "a speaker id expected" : "a consumer id expected");
    return it;
}

static int check_tr_arg(lua_State *L, int idx)
{
    lua_Integer tr = luaL_checkinteger(L, idx);
    if (tr < 0 || tr > 1000) luaL_argerror(L, idx, "no such transceiver");
    return (int)tr;
}

static int push_add_error(lua_State *L, int r, const char *what)
{
    if (r == RTC_ESTATE)
        return lrtc_push_error(L, r, "the transceiver is not negotiated to %s yet", what);
    if (r == RTC_ENOTSUP)
        return lrtc_push_error(L, r, "the subscriber's connection did not negotiate the producer's codec "
                                           "in its format (H264 profile and packetization-mode, VP9 profile-id, AV1 profile)");
    if (r == RTC_ENOTFOUND) return lrtc_push_error(L, r, "no such transceiver");
    return lrtc_push_error(L, r, NULL);
}

/* sfu:add_producer(pc_core, tr[, {rid=, keyframe_interval=seconds, cache_ms=, cache_bytes=}]) -> id | nil, err */
static int sfu_add_producer(lua_State *L)
{
    lsfu *s = check_sfu(L);
    rtc_pc_host *ph = lrtc_pc_check_host(L, 2);
    int tr = check_tr_arg(L, 3);
    rtc_sfu_host_producer_opts opts;
    memset(&opts, 0, sizeof opts);
    if (!lua_isnoneornil(L, 4)) {
        luaL_checktype(L, 4, LUA_TTABLE);
        lua_getfield(L, 4, "rid");
        opts.rid = luaL_optstring(L, -1, NULL);
        if (opts.rid && strlen(opts.rid) > 15) return luaL_argerror(L, 4, "rid longer than 15 bytes");
        lua_getfield(L, 4, "keyframe_interval");
        double ki = luaL_optnumber(L, -1, 0);
        if (ki < 0 || ki > 60) return luaL_argerror(L, 4, "keyframe_interval must be 0..60 seconds");
        opts.keyframe_interval = (rtc_time)(ki * 1e6);
        lua_getfield(L, 4, "cache_ms");
        lua_Integer cms = luaL_optinteger(L, -1, 0);
        lua_getfield(L, 4, "cache_bytes");
        lua_Integer cb = luaL_optinteger(L, -1, 0);
        if (cms < 0 || cms > 60000 || cb < 0 || cb > (1 << 30)) return luaL_argerror(L, 4, "cache_ms or cache_bytes out of range");
        opts.cache.max_age = RTC_MS(cms);
        opts.cache.max_bytes = (size_t)cb;
        lua_pop(L, 4);
    }
    int id = new_id(s);
    if (id < 0) return lrtc_push_error(L, id, NULL);
    rtc_sfu_producer *p;
    int r = rtc_sfu_host_add_producer(s->h, ph, tr, &opts, (void *)(intptr_t)id, &p);
    if (r < 0) return push_add_error(L, r, "receive");
    s->items[id - 1] = (item){ ITEM_PRODUCER, p };
    lua_pushinteger(L, id);
    return 1;
}

/* sfu:add_consumer(pc_core, tr, producer_id[, paused]) -> id | nil, err */
static int sfu_add_consumer(lua_State *L)
{
    lsfu *s = check_sfu(L);
    rtc_pc_host *ph = lrtc_pc_check_host(L, 2);
    int tr = check_tr_arg(L, 3);
    rtc_sfu_producer *src = check_item(L, s, 4, ITEM_PRODUCER)->ptr;
    int id = new_id(s);
    if (id < 0) return lrtc_push_error(L, id, NULL);
    rtc_sfu_consumer *c;
    int r = rtc_sfu_host_add_consumer(s->h, ph, tr, src, lua_toboolean(L, 5), (void *)(intptr_t)id, &c);
    if (r < 0) return push_add_error(L, r, "send");
    s->items[id - 1] = (item){ ITEM_CONSUMER, c };
    lua_pushinteger(L, id);
    return 1;
}

/* sfu:remove(id): no event follows. Unknown ids are ignored (already removed). */
static int sfu_remove(lua_State *L)
{
    lsfu *s = check_sfu(L);
    lua_Integer id = luaL_checkinteger(L, 2);
    if (id < 1 || id > s->nitems || s->items[id - 1].kind == ITEM_FREE) return 0;
    item *it = &s->items[id - 1];
    if (it->kind == ITEM_PRODUCER) rtc_sfu_host_remove_producer(s->h, it->ptr);
    else if (it->kind == ITEM_SPEAKER) rtc_sfu_host_remove_speaker(s->h, it->ptr);
    else rtc_sfu_host_remove_consumer(s->h, it->ptr);
    it->kind = ITEM_FREE;
    return 0;
}

static rtc_time now(void) { return rtc_clock_now(); }

/* One action on the consumer named by argument 2, then a kick so the host sends what
 * it made (a PLI, the packets of a resumed consumer). */
static int consumer_action(lua_State *L, void (*act)(rtc_sfu_consumer *c, rtc_time now))
{
    lsfu *s = check_sfu(L);
    act(check_item(L, s, 2, ITEM_CONSUMER)->ptr, now());
    rtc_sfu_host_kick(s->h);
    return 0;
}

/* sfu:pause(cid), sfu:resume(cid), sfu:request_keyframe(cid), sfu:set_muted(cid, bool) */
static int sfu_pause(lua_State *L) { return consumer_action(L, rtc_sfu_consumer_pause); }
static int sfu_resume(lua_State *L) { return consumer_action(L, rtc_sfu_consumer_resume); }
static int sfu_request_keyframe(lua_State *L) { return consumer_action(L, rtc_sfu_consumer_request_keyframe); }

static int sfu_set_muted(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *it = check_item(L, s, 2, ITEM_CONSUMER);
    luaL_checktype(L, 3, LUA_TBOOLEAN);
    rtc_sfu_consumer_set_muted(it->ptr, lua_toboolean(L, 3), now());
    rtc_sfu_host_kick(s->h);
    return 0;
}

/* sfu:set_source(cid, pid) -> true | nil, err (another codec: NotSupportedError) */
static int sfu_set_source(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *c = check_item(L, s, 2, ITEM_CONSUMER);
    item *p = check_item(L, s, 3, ITEM_PRODUCER);
    int r = rtc_sfu_consumer_set_source(c->ptr, p->ptr, now());
    rtc_sfu_host_kick(s->h);
    if (r < 0) return lrtc_push_error(L, r, r == RTC_ENOTSUP ? "the producers' codecs differ" : NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* sfu:set_layers(cid, {pid, ...}) -> true | nil, err: the producers are cid's source's
 * spatial layers, lowest first (at most 3); {} = back to one source. */
static int sfu_set_layers(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *c = check_item(L, s, 2, ITEM_CONSUMER);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 3);
    if (n > RTC_SFU_MAX_SPATIAL) return luaL_argerror(L, 3, "at most 3 layers");
    rtc_sfu_producer *ps[RTC_SFU_MAX_SPATIAL];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 3, i);
        ps[i - 1] = check_item(L, s, lua_gettop(L), ITEM_PRODUCER)->ptr;
        lua_pop(L, 1);
    }
    int r = rtc_sfu_consumer_set_layers(c->ptr, ps, (size_t)n, now());
    rtc_sfu_host_kick(s->h);
    if (r < 0) {
        return lrtc_push_error(L, r, r == RTC_ENOTSUP ? "the layers' codecs differ from the consumer's"
                                     : r == RTC_EINVAL ? "a layer is listed twice" : NULL);
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* An optional number field of the table at idx, in seconds, as rtc_time within [lo, hi]. */
static rtc_time opt_seconds(lua_State *L, int idx, const char *k, double lo, double hi)
{
    lua_getfield(L, idx, k);
    double v = luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    if (v != 0 && !(v >= lo && v <= hi)) luaL_error(L, "bad argument #2 to 'add_speaker' (%s must be %g..%g seconds)", k, lo, hi);
    return (rtc_time)(v * 1e6);
}

static uint8_t opt_level(lua_State *L, int idx, const char *k, lua_Integer hi)
{
    lua_getfield(L, idx, k);
    lua_Integer v = luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    if (v < 0 || v > hi) luaL_error(L, "bad argument #2 to 'add_speaker' (%s must be 0..%d)", k, (int)hi);
    return (uint8_t)v;
}

/* sfu:add_speaker([{interval=, window=, hold= (seconds), silence_level=, min_score=, margin_pct=}]) -> id | nil, err */
static int sfu_add_speaker(lua_State *L)
{
    lsfu *s = check_sfu(L);
    rtc_sfu_speaker_config cfg;
    memset(&cfg, 0, sizeof cfg);
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        cfg.interval = opt_seconds(L, 2, "interval", 0.02, 60);
        cfg.window = opt_seconds(L, 2, "window", 0.02, 600);
        cfg.hold = opt_seconds(L, 2, "hold", 1e-6, 600);
        cfg.silence_level = opt_level(L, 2, "silence_level", 127);
        cfg.min_score = opt_level(L, 2, "min_score", 127);
        cfg.margin_pct = opt_level(L, 2, "margin_pct", 255);
    }
    int id = new_id(s);
    if (id < 0) return lrtc_push_error(L, id, NULL);
    rtc_sfu_speaker *sp;
    int r = rtc_sfu_host_add_speaker(s->h, &cfg, (void *)(intptr_t)id, &sp);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    s->items[id - 1] = (item){ ITEM_SPEAKER, sp };
    lua_pushinteger(L, id);
    return 1;
}

/* sfu:speaker_add(speaker_id, producer_id) -> true | nil, err (a video producer: InvalidAccessError) */
static int sfu_speaker_add(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *sp = check_item(L, s, 2, ITEM_SPEAKER);
    item *p = check_item(L, s, 3, ITEM_PRODUCER);
    int r = rtc_sfu_host_speaker_add_producer(s->h, sp->ptr, p->ptr);
    if (r < 0) return lrtc_push_error(L, r, r == RTC_EINVAL ? "only audio producers have audio levels" : NULL);
    lua_pushboolean(L, 1);
    return 1;
}

/* sfu:set_preferred_layers(cid, spatial, temporal): -1 = the highest */
static int sfu_set_preferred_layers(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *c = check_item(L, s, 2, ITEM_CONSUMER);
    lua_Integer sp = luaL_checkinteger(L, 3), tp = luaL_checkinteger(L, 4);
    luaL_argcheck(L, sp >= -1 && sp < RTC_SFU_MAX_SPATIAL, 3, "spatial layer out of range (0..2)");
    luaL_argcheck(L, tp >= -1 && tp < RTC_SFU_MAX_TEMPORAL, 4, "temporal layer out of range (0..3)");
    rtc_sfu_consumer_set_preferred_layers(c->ptr, (int)sp, (int)tp, now());
    rtc_sfu_host_kick(s->h);
    return 0;
}

/* sfu:set_bandwidth(cid, bps): the subscriber's estimate for this consumer (0 = none) */
static int sfu_set_bandwidth(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *c = check_item(L, s, 2, ITEM_CONSUMER);
    lua_Number bps = luaL_checknumber(L, 3);
    luaL_argcheck(L, bps >= 0 && bps < 1e12, 3, "bandwidth out of range");
    rtc_sfu_consumer_set_bandwidth(c->ptr, (uint64_t)bps, now());
    rtc_sfu_host_kick(s->h);
    return 0;
}

/* sfu:layers(cid) -> {spatial=, temporal=, target_spatial=, target_temporal=, layers=} (-1: none yet) */
static int sfu_layers(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *c = check_item(L, s, 2, ITEM_CONSUMER);
    rtc_sfu_layers ly;
    rtc_sfu_consumer_get_layers(c->ptr, &ly);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, ly.spatial); lua_setfield(L, -2, "spatial");
    lua_pushinteger(L, ly.temporal); lua_setfield(L, -2, "temporal");
    lua_pushinteger(L, ly.target_spatial); lua_setfield(L, -2, "target_spatial");
    lua_pushinteger(L, ly.target_temporal); lua_setfield(L, -2, "target_temporal");
    lua_pushinteger(L, ly.nlayers); lua_setfield(L, -2, "layers");
    return 1;
}

static void set_int(lua_State *L, const char *k, uint64_t v) { lua_pushinteger(L, (lua_Integer)v); lua_setfield(L, -2, k); }

/* sfu:pipe_out(producer_id) -> consumer_id, name | nil, err: the producer sent into a new
 * pipe (io/rtc_media_pipe.h), which another loop's sfu:pipe_in(name) receives. */
static int sfu_pipe_out(lua_State *L)
{
    lsfu *s = check_sfu(L);
    rtc_sfu_producer *src = check_item(L, s, 2, ITEM_PRODUCER)->ptr;
    int id = new_id(s);
    if (id < 0) return lrtc_push_error(L, id, NULL);
    rtc_sfu_consumer *c;
    char name[RTC_MEDIA_PIPE_NAME_MAX];
    int r = rtc_sfu_host_pipe_out(s->h, src, (void *)(intptr_t)id, &c, name);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    s->items[id - 1] = (item){ ITEM_CONSUMER, c };
    lua_pushinteger(L, id);
    lua_pushstring(L, name);
    return 2;
}

/* sfu:pipe_in(name) -> producer_id, {kind=, codec=, clock_rate=} | nil, err (NotFoundError:
 * no pipe of that name waits: unknown, already received, or its sending end closed). */
static int sfu_pipe_in(lua_State *L)
{
    lsfu *s = check_sfu(L);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    if (len >= RTC_MEDIA_PIPE_NAME_MAX) return lrtc_push_error(L, RTC_ENOTFOUND, "no pipe named '%s' waits", name);
    int id = new_id(s);
    if (id < 0) return lrtc_push_error(L, id, NULL);
    rtc_sfu_producer *p;
    rtc_media_pipe_desc d;
    int r = rtc_sfu_host_pipe_in(s->h, name, (void *)(intptr_t)id, &p, &d);
    if (r == RTC_ENOTFOUND) return lrtc_push_error(L, r, "no pipe named '%s' waits", name);
    if (r < 0) return lrtc_push_error(L, r, NULL);
    s->items[id - 1] = (item){ ITEM_PRODUCER, p };
    lua_pushinteger(L, id);
    lua_createtable(L, 0, 3);
    lua_pushstring(L, rtc_codec_is_video((rtc_codec_id)d.codec) ? "video" : "audio"); lua_setfield(L, -2, "kind");
    lua_pushstring(L, rtc_codec_name((rtc_codec_id)d.codec)); lua_setfield(L, -2, "codec");
    lua_pushinteger(L, d.clock_rate); lua_setfield(L, -2, "clock_rate");
    return 2;
}

/* The pipe counters of a pipe leg, into the stats table on top. */
static void pipe_stats(lua_State *L, lsfu *s, const item *it)
{
    rtc_media_pipe_stats ps;
    if (rtc_sfu_host_pipe_stats(s->h, it->kind == ITEM_PRODUCER ? it->ptr : NULL,
                                it->kind == ITEM_CONSUMER ? it->ptr : NULL, &ps) < 0) return;
    set_int(L, "pipe_sent", ps.sent);
    set_int(L, "pipe_dropped", ps.dropped);
    set_int(L, "pipe_received", ps.received);
}

/* sfu:stats(id) -> table (W3C inbound-rtp / outbound-rtp names where they exist) */
static int sfu_stats(lua_State *L)
{
    lsfu *s = check_sfu(L);
    item *it = check_item(L, s, 2, 0);
    if (it->kind == ITEM_SPEAKER) return luaL_argerror(L, 2, "a producer or consumer id expected");
    lua_newtable(L);
    if (it->kind == ITEM_PRODUCER) {
        rtc_sfu_producer_stats st;
        rtc_sfu_producer_get_stats(it->ptr, &st);
        lua_pushstring(L, "producer"); lua_setfield(L, -2, "type");
        set_int(L, "packets_received", st.packets);
        set_int(L, "bytes_received", st.bytes);
        set_int(L, "keyframes_received", st.keyframes);
        set_int(L, "pli_count", st.plis_sent);
        set_int(L, "fir_count", st.firs_sent);
        set_int(L, "nack_count", st.nacks_sent);
        set_int(L, "keyframe_requests", st.keyframe_requests);
        set_int(L, "malformed", st.malformed);
        set_int(L, "ignored", st.ignored);
        set_int(L, "cache_packets", st.cache.packets);
        set_int(L, "cache_bytes", st.cache.bytes);
        rtc_sfu_layer_stats ls;
        rtc_sfu_producer_get_layer_stats(it->ptr, now(), &ls);
        lua_pushboolean(L, ls.active); lua_setfield(L, -2, "active");
        set_int(L, "bitrate", ls.bitrate);
        lua_pushnumber(L, ls.frame_rate); lua_setfield(L, -2, "frames_per_second");
        set_int(L, "temporal_layers", (uint64_t)ls.temporal_layers);
        if (ls.width) { set_int(L, "frame_width", (uint64_t)ls.width); set_int(L, "frame_height", (uint64_t)ls.height); }
        set_int(L, "spatial_layers", (uint64_t)ls.spatial_layers);
        if (ls.spatial_layers > 1) {
            /* VP9 SVC: each spatial layer's own traffic, lowest first. */
            lua_createtable(L, ls.spatial_layers, 0);
            for (int k = 0; k < ls.spatial_layers; k++) {
                rtc_sfu_layer_stats sl;
                rtc_sfu_producer_get_spatial_stats(it->ptr, k, now(), &sl);
                lua_createtable(L, 0, 7);
                set_int(L, "spatial", (uint64_t)k);
                lua_pushboolean(L, sl.active); lua_setfield(L, -2, "active");
                set_int(L, "bitrate", sl.bitrate);
                lua_pushnumber(L, sl.frame_rate); lua_setfield(L, -2, "frames_per_second");
                set_int(L, "temporal_layers", (uint64_t)sl.temporal_layers);
                if (sl.width) { set_int(L, "frame_width", (uint64_t)sl.width); set_int(L, "frame_height", (uint64_t)sl.height); }
                lua_rawseti(L, -2, k + 1);
            }
            lua_setfield(L, -2, "spatial");
        }
        bool voice; uint8_t level; rtc_time at;
        if (rtc_sfu_producer_audio_level(it->ptr, &voice, &level, &at) == 0) {
            set_int(L, "audio_level", level);     /* RFC 6464: -dBov, 127 = silence */
            lua_pushboolean(L, voice); lua_setfield(L, -2, "voice_activity");
        }
    } else {
        rtc_sfu_consumer_stats st;
        rtc_sfu_consumer_get_stats(it->ptr, &st);
        lua_pushstring(L, "consumer"); lua_setfield(L, -2, "type");
        set_int(L, "packets_sent", st.packets);
        set_int(L, "bytes_sent", st.bytes);
        set_int(L, "retransmitted_packets_sent", st.rtx_packets);
        set_int(L, "nack_count", st.nack_seqs_received);
        set_int(L, "pli_count", st.plis_received);
        set_int(L, "fir_count", st.firs_received);
        set_int(L, "nack_answered", st.nack_answered);
        set_int(L, "nack_forwarded", st.nack_forwarded);
        set_int(L, "sender_reports_sent", st.srs_sent);
        set_int(L, "receiver_reports_received", st.rrs_received);
        set_int(L, "dropped_paused", st.dropped_paused);
        set_int(L, "dropped_waiting_keyframe", st.dropped_waiting_keyframe);
        set_int(L, "dropped_temporal", st.dropped_temporal);
        set_int(L, "dropped_spatial", st.dropped_spatial);
        set_int(L, "layer_switches", st.layer_switches);
        lua_pushnumber(L, st.fraction_lost / 256.0); lua_setfield(L, -2, "fraction_lost");
        if (st.rtt >= 0) { lua_pushnumber(L, (double)st.rtt / 1e6); lua_setfield(L, -2, "round_trip_time"); }
    }
    pipe_stats(L, s, it);
    return 1;
}

void lrtc__open_sfu(lua_State *L)
{
    static const luaL_Reg methods[] = {
        { "add_producer", sfu_add_producer }, { "add_consumer", sfu_add_consumer }, { "remove", sfu_remove },
        { "pause", sfu_pause }, { "resume", sfu_resume }, { "request_keyframe", sfu_request_keyframe },
        { "set_muted", sfu_set_muted }, { "set_source", sfu_set_source }, { "stats", sfu_stats },
        { "set_layers", sfu_set_layers }, { "set_preferred_layers", sfu_set_preferred_layers },
        { "set_bandwidth", sfu_set_bandwidth }, { "layers", sfu_layers },
        { "add_speaker", sfu_add_speaker }, { "speaker_add", sfu_speaker_add },
        { "pipe_out", sfu_pipe_out }, { "pipe_in", sfu_pipe_in },
        { NULL, NULL },
    };
    lrtc_obj_new(L, &sfu_class, sizeof(lrtc_obj), methods);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_sfu_router);
    lua_setfield(L, -2, "sfu_router");
}
