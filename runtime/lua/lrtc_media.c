/* Media files and Opus for Lua (docs/media-files.md): readers over a file's bytes,
 * writers to a path, an Opus encoder/decoder and a tone generator. These objects do
 * no I/O on the loop and fire no events, so they are plain userdata in the liolib
 * shape (created closed, idempotent close shared by __gc and __close); pacing and
 * events live in lua/rtc/media.lua.
 *
 *   core.media_reader(kind, bytes[, fps]) -> reader     kind: "ogg" "ivf" "webm" "h264"
 *     reader:next() -> frame | false (end) | nil, err   reader:info() reader:rewind() reader:close()
 *   core.media_writer(kind, path, opts) -> writer       kind: "ogg" "ivf" "webm"
 *     writer:write(data, pts_ms, keyframe, is_video) -> true | nil, err
 *     writer:close() -> true | nil, err                  writer:stats()
 *   core.opus_encoder(opts) -> enc:encode(pcm) | enc:push(pcm) | enc:info() | enc:close()
 *   core.opus_decoder(rate, ch) -> dec:decode(pkt|nil) | dec:close()
 *   core.opus_stream(channels[, max_gap]) -> st:decode(pkt, ts) -> {chunk...} | st:stats() | st:close()
 *   core.pcm_tone(freq, amplitude, first_sample, samples, channels) -> s16le string
 *   core.pcm_rms(pcm) -> root mean square of the samples, 0..32768
 *   core.pcm_audio_level(pcm) -> RFC 6464 level (-dBov, 0 loudest .. 127 silence)
 */
#include "lua/lrtc.h"
#include "codec/opus_codec.h"
#include "media/h264_annexb.h"
#include "media/ivf.h"
#include "media/ogg.h"
#include "media/webm.h"
#include "rtp/rtp_ext.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READER_MT "rtc.media_reader"
#define WRITER_MT "rtc.media_writer"
#define ENC_MT "rtc.opus_encoder"
#define DEC_MT "rtc.opus_decoder"
#define STREAM_MT "rtc.opus_stream"

enum { K_OGG, K_IVF, K_WEBM, K_H264 };
static const char *const kinds[] = { "ogg", "ivf", "webm", "h264", NULL };

/* ====== readers ====== */
typedef struct lreader {
    int kind;
    bool open;
    union { rtc_ogg_reader *ogg; rtc_ivf_reader ivf; rtc_webm_reader webm; rtc_h264_reader h264; } u;
} lreader;

static lreader *check_reader(lua_State *L)
{
    lreader *r = luaL_checkudata(L, 1, READER_MT);
    if (!r->open) luaL_error(L, "attempt to use a closed media reader");
    return r;
}

static int reader_close(lua_State *L)
{
    lreader *r = luaL_checkudata(L, 1, READER_MT);
    if (!r->open) return 0;
    r->open = false;
    if (r->kind == K_OGG) rtc_ogg_reader_free(r->u.ogg);
    lua_pushnil(L);
    lua_setiuservalue(L, 1, 1);                          /* release the bytes */
    return 0;
}

static void set_str(lua_State *L, const char *k, const uint8_t *p, size_t n) { lua_pushlstring(L, (const char *)p, n); lua_setfield(L, -2, k); }
static void set_int(lua_State *L, const char *k, lua_Integer v) { lua_pushinteger(L, v); lua_setfield(L, -2, k); }
static void set_bool(lua_State *L, const char *k, bool v) { lua_pushboolean(L, v); lua_setfield(L, -2, k); }
static void set_cstr(lua_State *L, const char *k, const char *v) { lua_pushstring(L, v); lua_setfield(L, -2, k); }

/* frame = { data, pts_ms, duration_ms?, keyframe, kind, codec } */
static int reader_next(lua_State *L)
{
    lreader *r = check_reader(L);
    int n;
    lua_createtable(L, 0, 6);
    switch (r->kind) {
    case K_OGG: {
        rtc_ogg_packet p;
        if ((n = rtc_ogg_reader_next(r->u.ogg, &p)) != 1) break;
        set_str(L, "data", p.data, p.len);
        /* Pre-skip samples are decoded but not played: the first frame is at 0. */
        set_int(L, "pts_ms", (p.pts + rtc_ogg_reader_pre_skip(r->u.ogg)) / 48);
        set_int(L, "duration_ms", p.duration / 48);
        set_bool(L, "keyframe", true);
        set_cstr(L, "kind", "audio");
        set_cstr(L, "codec", "opus");
        return 1;
    }
    case K_IVF: {
        rtc_ivf_frame f;
        if ((n = rtc_ivf_reader_next(&r->u.ivf, &f)) != 1) break;
        set_str(L, "data", f.data, f.len);
        set_int(L, "pts_ms", f.pts_ms);
        set_bool(L, "keyframe", f.keyframe);
        set_cstr(L, "kind", "video");
        set_cstr(L, "codec", rtc_codec_name(r->u.ivf.info.codec));
        return 1;
    }
    case K_WEBM: {
        rtc_webm_frame f;
        if ((n = rtc_webm_reader_next(&r->u.webm, &f)) != 1) break;
        const rtc_webm_track *t = &r->u.webm.tracks[f.track];
        set_str(L, "data", f.data, f.len);
        set_int(L, "pts_ms", f.pts_ms);
        set_bool(L, "keyframe", f.keyframe);
        set_cstr(L, "kind", t->type == 1 ? "video" : "audio");
        if ((int)t->codec >= 0) set_cstr(L, "codec", rtc_codec_name(t->codec));
        set_int(L, "track", t->number);
        return 1;
    }
    default: {
        rtc_h264_au au;
        if ((n = rtc_h264_reader_next(&r->u.h264, &au)) != 1) break;
        set_str(L, "data", au.data, au.len);
        set_int(L, "pts_ms", au.pts_ms);
        set_bool(L, "keyframe", au.keyframe);
        set_cstr(L, "kind", "video");
        set_cstr(L, "codec", "H264");
        return 1;
    }
    }
    if (n == 0) { lua_pushboolean(L, 0); return 1; }
    return lrtc_push_error(L, n, "media file: %s", rtc_strerror(n));
}

static int reader_rewind(lua_State *L)
{
    lreader *r = check_reader(L);
    switch (r->kind) {
    case K_OGG: rtc_ogg_reader_rewind(r->u.ogg); break;
    case K_IVF: rtc_ivf_reader_rewind(&r->u.ivf); break;
    case K_WEBM: rtc_webm_reader_rewind(&r->u.webm); break;
    default: rtc_h264_reader_rewind(&r->u.h264); break;
    }
    return 0;
}

static int reader_info(lua_State *L)
{
    lreader *r = check_reader(L);
    lua_newtable(L);
    set_cstr(L, "format", kinds[r->kind]);
    switch (r->kind) {
    case K_OGG:
        set_cstr(L, "codec", "opus");
        set_int(L, "channels", rtc_ogg_reader_channels(r->u.ogg));
        set_int(L, "pre_skip", rtc_ogg_reader_pre_skip(r->u.ogg));
        break;
    case K_IVF:
        set_cstr(L, "codec", rtc_codec_name(r->u.ivf.info.codec));
        set_int(L, "width", r->u.ivf.info.width);
        set_int(L, "height", r->u.ivf.info.height);
        break;
    case K_WEBM:
        set_int(L, "duration_ms", (lua_Integer)r->u.webm.duration_ms);
        lua_createtable(L, r->u.webm.ntracks, 0);
        for (int i = 0; i < r->u.webm.ntracks; i++) {
            const rtc_webm_track *t = &r->u.webm.tracks[i];
            lua_createtable(L, 0, 6);
            set_int(L, "number", t->number);
            set_cstr(L, "kind", t->type == 1 ? "video" : "audio");
            if ((int)t->codec >= 0) set_cstr(L, "codec", rtc_codec_name(t->codec));
            if (t->width) { set_int(L, "width", t->width); set_int(L, "height", t->height); }
            if (t->channels) set_int(L, "channels", t->channels);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "tracks");
        break;
    default:
        set_cstr(L, "codec", "H264");
        break;
    }
    return 1;
}

/* core.media_reader(kind, bytes[, fps]) */
static int l_media_reader(lua_State *L)
{
    int kind = luaL_checkoption(L, 1, NULL, kinds);
    size_t len;
    const char *data = luaL_checklstring(L, 2, &len);
    lua_Number fps = luaL_optnumber(L, 3, 30);
    luaL_argcheck(L, fps > 0 && fps <= 1000, 3, "frame rate must be in (0, 1000]");
    lreader *r = lua_newuserdatauv(L, sizeof *r, 1);
    memset(r, 0, sizeof *r);
    r->kind = kind;
    luaL_setmetatable(L, READER_MT);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);                         /* the reader borrows the string */
    const uint8_t *d = (const uint8_t *)data;
    int e;
    switch (kind) {
    case K_OGG: e = rtc_ogg_reader_new(&r->u.ogg, d, len); break;
    case K_IVF: e = rtc_ivf_reader_init(&r->u.ivf, d, len); break;
    case K_WEBM: e = rtc_webm_reader_init(&r->u.webm, d, len); break;
    default: e = rtc_h264_reader_init(&r->u.h264, d, len, (uint32_t)llround(fps * 1000), 1000); break;
    }
    if (e) return lrtc_push_error(L, e, "%s file: %s", kinds[kind], rtc_strerror(e));
    r->open = true;
    return 1;
}

/* ====== writers ====== */
typedef struct lwriter {
    int kind;
    bool open;
    int fd;
    rtc_media_out out;
    union { rtc_ogg_writer *ogg; rtc_ivf_writer *ivf; rtc_webm_writer *webm; } u;
} lwriter;

static lwriter *check_writer(lua_State *L)
{
    lwriter *w = luaL_checkudata(L, 1, WRITER_MT);
    if (!w->open) luaL_error(L, "attempt to use a closed media writer");
    return w;
}

/* Finish the file; returns the first error the writer met (0 if none). */
static int writer_finish(lwriter *w)
{
    if (!w->open) return 0;
    w->open = false;
    int e;
    switch (w->kind) {
    case K_OGG: e = rtc_ogg_writer_close(w->u.ogg); rtc_ogg_writer_free(w->u.ogg); break;
    case K_IVF: e = rtc_ivf_writer_close(w->u.ivf); rtc_ivf_writer_free(w->u.ivf); break;
    default: e = rtc_webm_writer_close(w->u.webm); rtc_webm_writer_free(w->u.webm); break;
    }
    rtc_media_out_free(&w->out);
    if (close(w->fd) != 0 && !e) e = RTC_EIO;
    return e;
}

static int writer_close(lua_State *L)
{
    lwriter *w = luaL_checkudata(L, 1, WRITER_MT);
    int e = writer_finish(w);
    if (e) return lrtc_push_error(L, e, "media writer: %s", rtc_strerror(e));
    lua_pushboolean(L, 1);
    return 1;
}

static int writer_gc(lua_State *L)
{
    writer_finish(luaL_checkudata(L, 1, WRITER_MT));
    return 0;
}

/* writer:write(data, pts_ms, keyframe, is_video) */
static int writer_write(lua_State *L)
{
    lwriter *w = check_writer(L);
    size_t len;
    const uint8_t *d = (const uint8_t *)luaL_checklstring(L, 2, &len);
    lua_Integer pts = luaL_checkinteger(L, 3);
    bool key = lua_toboolean(L, 4), video = lua_toboolean(L, 5);
    int e;
    switch (w->kind) {
    case K_OGG: e = rtc_ogg_writer_write(w->u.ogg, d, len, pts); break;
    case K_IVF: e = rtc_ivf_writer_write(w->u.ivf, d, len, pts); break;
    default: e = rtc_webm_writer_write(w->u.webm, video, d, len, pts, key); break;
    }
    if (e == RTC_EIGNORED) { lua_pushboolean(L, 0); return 1; }   /* dropped by design (counted) */
    if (e) return lrtc_push_error(L, e, "media writer: %s", rtc_strerror(e));
    lua_pushboolean(L, 1);
    return 1;
}

static int writer_stats(lua_State *L)
{
    lwriter *w = check_writer(L);
    lua_newtable(L);
    set_int(L, "bytes", (lua_Integer)rtc_media_out_pos(&w->out));
    if (w->kind == K_OGG) {
        rtc_ogg_writer_stats s; rtc_ogg_writer_get_stats(w->u.ogg, &s);
        set_int(L, "packets", (lua_Integer)s.packets); set_int(L, "gap_packets", (lua_Integer)s.gap_packets);
        set_int(L, "pages", (lua_Integer)s.pages); set_int(L, "duration_ms", (lua_Integer)(s.samples / 48));
    } else if (w->kind == K_IVF) {
        set_int(L, "frames", rtc_ivf_writer_frames(w->u.ivf));
        set_int(L, "retimed", rtc_ivf_writer_retimed(w->u.ivf));
    } else {
        rtc_webm_writer_stats s; rtc_webm_writer_get_stats(w->u.webm, &s);
        set_int(L, "audio_frames", (lua_Integer)s.audio_frames); set_int(L, "video_frames", (lua_Integer)s.video_frames);
        set_int(L, "clusters", (lua_Integer)s.clusters); set_int(L, "dropped", (lua_Integer)s.dropped);
        set_int(L, "retimed", (lua_Integer)s.retimed);
        set_int(L, "duration_ms", s.duration_ms);
    }
    return 1;
}

static int opt_int(lua_State *L, int t, const char *k, int def)
{
    int ty = lua_getfield(L, t, k);
    int v = def;
    if (ty == LUA_TNUMBER) v = (int)lua_tointeger(L, -1);
    else if (ty != LUA_TNIL) luaL_error(L, "option '%s' must be an integer", k);
    lua_pop(L, 1);
    return v;
}

static int opt_codec(lua_State *L, int t, const char *k)
{
    int ty = lua_getfield(L, t, k);
    int c = -1;
    if (ty == LUA_TSTRING) c = rtc_codec_from_name(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN && (c < 0 || c == RTC_CODEC_OPUS))
        luaL_error(L, "option '%s' must be \"VP8\", \"VP9\", \"AV1\" or \"H264\"", k);
    return c;
}

/* core.media_writer(kind, path, opts) */
static int l_media_writer(lua_State *L)
{
    static const char *const wkinds[] = { "ogg", "ivf", "webm", NULL };
    int kind = luaL_checkoption(L, 1, NULL, wkinds);
    const char *path = luaL_checkstring(L, 2);
    if (lua_isnoneornil(L, 3)) lua_newtable(L), lua_replace(L, 3);
    luaL_checktype(L, 3, LUA_TTABLE);
    int vcodec = opt_codec(L, 3, kind == K_IVF ? "codec" : "video");
    lua_getfield(L, 3, "audio");
    bool audio = kind == K_WEBM ? lua_toboolean(L, -1) : true;
    lua_pop(L, 1);
    if (kind == K_IVF && (vcodec < 0 || vcodec == RTC_CODEC_H264))
        return luaL_argerror(L, 3, "ivf needs codec = \"VP8\", \"VP9\" or \"AV1\"");
    if (kind == K_WEBM && !audio && vcodec < 0) return luaL_argerror(L, 3, "webm needs audio = true and/or video = codec");
    int channels = opt_int(L, 3, "channels", 0);
    luaL_argcheck(L, channels >= 0 && channels <= 2, 3, "channels must be 1 or 2");
    int width = opt_int(L, 3, "width", 0), height = opt_int(L, 3, "height", 0);
    luaL_argcheck(L, width >= 0 && width < 65536 && height >= 0 && height < 65536, 3, "bad width/height");
    lwriter *w = lua_newuserdatauv(L, sizeof *w, 0);
    memset(w, 0, sizeof *w);
    w->kind = kind;
    w->fd = -1;
    luaL_setmetatable(L, WRITER_MT);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return lrtc_push_error(L, errno == ENOENT ? RTC_ENOTFOUND : errno == EACCES ? RTC_EACCESS : RTC_EIO,
                                       "%s: %s", path, strerror(errno));
    int e = rtc_media_out_init_fd(&w->out, fd);
    if (!e) {
        switch (kind) {
        case K_OGG: e = rtc_ogg_writer_new(&w->u.ogg, &w->out, &(rtc_ogg_writer_config){ .channels = channels }); break;
        case K_IVF: e = rtc_ivf_writer_new(&w->u.ivf, &w->out, &(rtc_ivf_writer_config){ .codec = (rtc_codec_id)vcodec,
                                           .width = (uint16_t)width, .height = (uint16_t)height }); break;
        default: e = rtc_webm_writer_new(&w->u.webm, &w->out, &(rtc_webm_writer_config){ .audio = audio, .channels = channels,
                                         .video = vcodec >= 0, .video_codec = vcodec >= 0 ? (rtc_codec_id)vcodec : RTC_CODEC_VP8,
                                         .width = (uint16_t)width, .height = (uint16_t)height }); break;
        }
    }
    if (e) {
        rtc_media_out_free(&w->out);
        close(fd);
        return lrtc_push_error(L, e, "%s: %s", path, rtc_strerror(e));
    }
    w->fd = fd;
    w->open = true;
    return 1;
}

/* ====== Opus and PCM ====== */
/* push() cuts PCM into 20 ms frames; the remainder waits in pend for the next call. */
typedef struct lenc {
    rtc_opus_encoder *e;
    int channels, npend;
    uint64_t frames, dtx_frames;
    int16_t pend[960 * 2];
} lenc;
typedef struct ldec { rtc_opus_decoder *d; int channels, rate; } ldec;

static int enc_gc(lua_State *L) { lenc *e = luaL_checkudata(L, 1, ENC_MT); rtc_opus_encoder_free(e->e); e->e = NULL; return 0; }
static int dec_gc(lua_State *L) { ldec *d = luaL_checkudata(L, 1, DEC_MT); rtc_opus_decoder_free(d->d); d->d = NULL; return 0; }

/* core.opus_encoder{sample_rate=, channels=, bitrate=, voice=, fec=, dtx=} */
static int l_opus_encoder(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) lua_newtable(L), lua_replace(L, 1);
    luaL_checktype(L, 1, LUA_TTABLE);
    rtc_opus_encoder_config c = { .sample_rate = opt_int(L, 1, "sample_rate", 0), .channels = opt_int(L, 1, "channels", 0) };
    /* The peer's fmtp first; explicit options override what it asked for. */
    if (lua_getfield(L, 1, "fmtp") == LUA_TSTRING) rtc_opus_fmtp_apply(lua_tostring(L, -1), &c);
    lua_pop(L, 1);
    c.bitrate = opt_int(L, 1, "bitrate", c.bitrate);
    static const char *const flags[] = { "voice", "fec", "dtx", "cbr", "force_mono" };
    bool *dst[] = { &c.voice, &c.fec, &c.dtx, &c.cbr, &c.force_mono };
    for (int i = 0; i < 5; i++) {
        if (lua_getfield(L, 1, flags[i]) != LUA_TNIL) *dst[i] = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    lenc *e = lua_newuserdatauv(L, sizeof *e, 0);
    memset(e, 0, sizeof *e);
    e->channels = c.channels ? c.channels : 1;
    luaL_setmetatable(L, ENC_MT);
    int r = rtc_opus_encoder_new(&e->e, &c);
    if (r) return lrtc_push_error(L, r, "opus encoder: %s", rtc_strerror(r));
    return 1;
}

static lenc *check_enc(lua_State *L)
{
    lenc *e = luaL_checkudata(L, 1, ENC_MT);
    if (!e->e) luaL_error(L, "attempt to use a closed opus encoder");
    return e;
}

/* enc:encode(pcm) with pcm interleaved s16 little-endian of one frame */
static int enc_encode(lua_State *L)
{
    lenc *e = check_enc(L);
    size_t len;
    const char *pcm = luaL_checklstring(L, 2, &len);
    luaL_argcheck(L, len % (2 * (size_t)e->channels) == 0 && len <= 5760 * 4, 2, "whole frames of s16 samples expected");
    int16_t buf[5760 * 2];
    memcpy(buf, pcm, len);
    uint8_t out[4000];
    int n = rtc_opus_encode(e->e, buf, (int)(len / 2 / (size_t)e->channels), out, sizeof out);
    if (n < 0) return lrtc_push_error(L, n, "opus encode: %s", rtc_strerror(n));
    lua_pushlstring(L, (const char *)out, (size_t)n);
    return 1;
}

/* enc:push(pcm) -> frames, n: pcm (interleaved s16le, any whole number of samples)
 * is appended to what is pending and cut into 20 ms frames; frames[i] is the Opus
 * packet of the i-th, or false for a DTX frame that is not to be sent. */
static int enc_push(lua_State *L)
{
    lenc *e = check_enc(L);
    size_t len;
    const char *pcm = luaL_checklstring(L, 2, &len);
    size_t unit = 2 * (size_t)e->channels;
    luaL_argcheck(L, len % unit == 0, 2, "whole samples of s16 (2 bytes per channel) expected");
    size_t total = len / unit, frame = 960;
    lua_createtable(L, (int)((total + (size_t)e->npend) / frame), 0);
    int n = 0;
    uint8_t out[1500];
    for (size_t i = 0; i < total;) {
        size_t take = frame - (size_t)e->npend;
        if (take > total - i) take = total - i;
        memcpy(e->pend + (size_t)e->npend * (size_t)e->channels, pcm + i * unit, take * unit);
        e->npend += (int)take;
        i += take;
        if (e->npend < (int)frame) break;
        e->npend = 0;
        int r = rtc_opus_encode(e->e, e->pend, (int)frame, out, sizeof out);
        if (r < 0) return lrtc_push_error(L, r, "opus encode: %s", rtc_strerror(r));
        e->frames++;
        /* 1-2 bytes is libopus saying "nothing worth sending" (DTX). */
        if (r <= 2) { e->dtx_frames++; lua_pushboolean(L, 0); }
        else lua_pushlstring(L, (const char *)out, (size_t)r);
        lua_rawseti(L, -2, ++n);
    }
    lua_pushinteger(L, n);
    return 2;
}

static int enc_info(lua_State *L)
{
    lenc *e = check_enc(L);
    rtc_opus_encoder_info i;
    rtc_opus_encoder_get_info(e->e, &i);
    lua_createtable(L, 0, 14);
    set_int(L, "channels", i.channels);
    set_int(L, "sample_rate", i.sample_rate);
    set_int(L, "bitrate", i.bitrate);
    set_bool(L, "fec", i.fec);
    set_bool(L, "dtx", i.dtx);
    set_bool(L, "cbr", i.cbr);
    set_bool(L, "force_mono", i.force_mono);
    set_int(L, "packet_loss_perc", i.packet_loss_perc);
    set_int(L, "max_bandwidth_hz", i.max_bandwidth_hz);
    set_bool(L, "in_dtx", i.in_dtx);
    set_int(L, "frames", (lua_Integer)e->frames);
    set_int(L, "dtx_frames", (lua_Integer)e->dtx_frames);
    set_int(L, "pending_samples", e->npend);
    return 1;
}

static int l_opus_decoder(lua_State *L)
{
    int rate = (int)luaL_optinteger(L, 1, 48000), ch = (int)luaL_optinteger(L, 2, 1);
    ldec *d = lua_newuserdatauv(L, sizeof *d, 0);
    d->d = NULL; d->channels = ch; d->rate = rate;
    luaL_setmetatable(L, DEC_MT);
    int r = rtc_opus_decoder_new(&d->d, rate, ch);
    if (r) return lrtc_push_error(L, r, "opus decoder: %s", rtc_strerror(r));
    return 1;
}

/* dec:decode(packet | nil[, samples]) -> s16le pcm (nil packet: conceal one loss) */
static int dec_decode(lua_State *L)
{
    ldec *d = luaL_checkudata(L, 1, DEC_MT);
    if (!d->d) return luaL_error(L, "attempt to use a closed opus decoder");
    size_t len = 0;
    const char *p = lua_isnoneornil(L, 2) ? NULL : luaL_checklstring(L, 2, &len);
    int max = p ? d->rate * 120 / 1000 : (int)luaL_optinteger(L, 3, d->rate / 50);
    luaL_argcheck(L, max > 0 && max <= d->rate * 120 / 1000, 3, "samples out of range");
    int16_t *pcm = malloc((size_t)max * (size_t)d->channels * 2);
    if (!pcm) return luaL_error(L, "out of memory");
    int n = rtc_opus_decode(d->d, (const uint8_t *)p, len, pcm, max);
    if (n < 0) { free(pcm); return lrtc_push_error(L, n, "opus decode: %s", rtc_strerror(n)); }
    lua_pushlstring(L, (const char *)pcm, (size_t)n * (size_t)d->channels * 2);
    free(pcm);
    return 1;
}

/* ====== one received stream (codec/opus_codec.h rtc_opus_stream) ====== */
typedef struct lstream { rtc_opus_stream *s; } lstream;

static int stream_gc(lua_State *L)
{
    lstream *s = luaL_checkudata(L, 1, STREAM_MT);
    rtc_opus_stream_free(s->s);
    s->s = NULL;
    return 0;
}

static lstream *check_stream(lua_State *L)
{
    lstream *s = luaL_checkudata(L, 1, STREAM_MT);
    if (!s->s) luaL_error(L, "attempt to use a closed opus stream");
    return s;
}

/* core.opus_stream(channels[, max_gap]) */
static int l_opus_stream(lua_State *L)
{
    lua_Integer ch = luaL_optinteger(L, 1, 1), gap = luaL_optinteger(L, 2, 0);
    luaL_argcheck(L, ch == 1 || ch == 2, 1, "1 or 2 channels");
    luaL_argcheck(L, gap >= 0 && gap <= 48000 * 10, 2, "0..480000 samples");
    lstream *s = lua_newuserdatauv(L, sizeof *s, 0);
    s->s = NULL;
    luaL_setmetatable(L, STREAM_MT);
    int r = rtc_opus_stream_new(&s->s, (int)ch, (int)gap);
    if (r) return lrtc_push_error(L, r, "opus stream: %s", rtc_strerror(r));
    return 1;
}

/* st:decode(packet, rtp_ts) -> { {samples=, sample_count=, channels=, rate=, timestamp=,
 * concealed=nil|"plc"|"fec", discontinuity=nil|true}, ... } | nil, err (late/corrupt) */
static int stream_decode(lua_State *L)
{
    lstream *s = check_stream(L);
    size_t len;
    const uint8_t *p = (const uint8_t *)luaL_checklstring(L, 2, &len);
    lua_Integer ts = luaL_checkinteger(L, 3);
    int r = rtc_opus_stream_handle_packet(s->s, p, len, (uint32_t)ts);
    if (r) return lrtc_push_error(L, r, "opus stream: %s", r == RTC_EIGNORED ? "late or duplicate packet" : rtc_strerror(r));
    int ch = rtc_opus_stream_channels(s->s);
    int16_t *pcm = lua_newuserdatauv(L, RTC_OPUS_CHUNK_MAX * 2 * sizeof(int16_t), 0);   /* scratch, GC'd */
    lua_newtable(L);
    rtc_opus_chunk c;
    int n = 0;
    while (rtc_opus_stream_poll_pcm(s->s, pcm, &c)) {
        lua_createtable(L, 0, 7);
        lua_pushlstring(L, (const char *)pcm, (size_t)c.samples * (size_t)ch * 2);
        lua_setfield(L, -2, "samples");
        set_int(L, "sample_count", c.samples);
        set_int(L, "channels", ch);
        set_int(L, "rate", 48000);
        set_int(L, "timestamp", c.ts);
        if (c.kind != RTC_OPUS_DECODED) set_cstr(L, "concealed", c.kind == RTC_OPUS_FEC ? "fec" : "plc");
        if (c.discontinuity) set_bool(L, "discontinuity", true);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

static int stream_stats(lua_State *L)
{
    lstream *s = check_stream(L);
    rtc_opus_stream_stats st;
    rtc_opus_stream_get_stats(s->s, &st);
    lua_createtable(L, 0, 8);
    set_int(L, "channels", rtc_opus_stream_channels(s->s));
    set_int(L, "packets", (lua_Integer)st.packets);
    set_int(L, "decoded_samples", (lua_Integer)st.decoded_samples);
    set_int(L, "concealed_samples", (lua_Integer)st.concealed_samples);
    set_int(L, "fec_samples", (lua_Integer)st.fec_samples);
    set_int(L, "late", (lua_Integer)st.late);
    set_int(L, "corrupt", (lua_Integer)st.corrupt);
    set_int(L, "restarts", (lua_Integer)st.restarts);
    return 1;
}

/* core.pcm_tone(freq, amplitude 0..1, first_sample, samples, channels[, rate]) */
static int l_pcm_tone(lua_State *L)
{
    double f = luaL_checknumber(L, 1), amp = luaL_checknumber(L, 2);
    lua_Integer first = luaL_checkinteger(L, 3), n = luaL_checkinteger(L, 4);
    int ch = (int)luaL_optinteger(L, 5, 1), rate = (int)luaL_optinteger(L, 6, 48000);
    luaL_argcheck(L, n > 0 && n <= 48000 * 10, 4, "1..480000 samples");
    luaL_argcheck(L, ch == 1 || ch == 2, 5, "1 or 2 channels");
    luaL_argcheck(L, rate > 0, 6, "positive rate");
    luaL_Buffer b;
    int16_t *s = (int16_t *)luaL_buffinitsize(L, &b, (size_t)n * (size_t)ch * 2);
    double a = (amp < 0 ? 0 : amp > 1 ? 1 : amp) * 32767;
    for (lua_Integer i = 0; i < n; i++) {
        /* the phase from the absolute sample index keeps frames continuous */
        double ph = fmod((double)(first + i) * f / rate, 1.0);
        int16_t v = (int16_t)lrint(a * sin(2 * M_PI * ph));
        for (int c = 0; c < ch; c++) s[i * ch + c] = v;
    }
    luaL_pushresultsize(&b, (size_t)n * (size_t)ch * 2);
    return 1;
}

/* core.pcm_rms(pcm): a loudness measure (all channels together) for bots and tests */
static int l_pcm_rms(lua_State *L)
{
    size_t len;
    const char *p = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len % 2 == 0, 1, "s16 samples expected (even length)");
    size_t n = len / 2;
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        int16_t v;
        memcpy(&v, p + 2 * i, 2);                        /* the string need not be aligned */
        acc += (double)v * v;
    }
    lua_pushnumber(L, n ? sqrt(acc / (double)n) : 0);
    return 1;
}

/* core.pcm_audio_level(pcm) -> the RFC 6464 level of s16 samples: -dBov 0..127 */
static int l_pcm_audio_level(lua_State *L)
{
    size_t len;
    const char *p = luaL_checklstring(L, 1, &len);
    luaL_argcheck(L, len % 2 == 0, 1, "s16 samples expected (even length)");
    lua_pushinteger(L, rtc_audio_level_of_s16(p, len / 2));
    return 1;
}

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__close");
    lua_pop(L, 1);
}

void lrtc__open_media(lua_State *L)
{
    static const luaL_Reg rmeth[] = { { "next", reader_next }, { "rewind", reader_rewind }, { "info", reader_info },
                                      { "close", reader_close }, { NULL, NULL } };
    static const luaL_Reg wmeth[] = { { "write", writer_write }, { "close", writer_close }, { "stats", writer_stats },
                                      { NULL, NULL } };
    static const luaL_Reg emeth[] = { { "encode", enc_encode }, { "push", enc_push }, { "info", enc_info },
                                      { "close", enc_gc }, { NULL, NULL } };
    static const luaL_Reg dmeth[] = { { "decode", dec_decode }, { "close", dec_gc }, { NULL, NULL } };
    static const luaL_Reg smeth[] = { { "decode", stream_decode }, { "stats", stream_stats }, { "close", stream_gc },
                                      { NULL, NULL } };
    new_class(L, READER_MT, rmeth, reader_close);
    new_class(L, WRITER_MT, wmeth, writer_gc);
    new_class(L, ENC_MT, emeth, enc_gc);
    new_class(L, DEC_MT, dmeth, dec_gc);
    new_class(L, STREAM_MT, smeth, stream_gc);
    static const luaL_Reg funcs[] = { { "media_reader", l_media_reader }, { "media_writer", l_media_writer },
                                      { "opus_encoder", l_opus_encoder }, { "opus_decoder", l_opus_decoder },
                                      { "opus_stream", l_opus_stream }, { "pcm_tone", l_pcm_tone },
                                      { "pcm_rms", l_pcm_rms }, { "pcm_audio_level", l_pcm_audio_level },
                                      { NULL, NULL } };
    luaL_setfuncs(L, funcs, 0);
}
