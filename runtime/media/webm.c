/* WebM / Matroska writer (webm.h). */
#include "media/webm.h"
#include "media/ogg.h"
#include "media/video_size.h"
#include "codec/opus_codec.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

/* Element IDs (Matroska spec), with their length-marker bits. */
enum {
    EBML = 0x1A45DFA3, EBML_VERSION = 0x4286, EBML_READ_VERSION = 0x42F7, EBML_MAX_ID = 0x42F2,
    EBML_MAX_SIZE = 0x42F3, DOCTYPE = 0x4282, DOCTYPE_VERSION = 0x4287, DOCTYPE_READ_VERSION = 0x4285,
    SEGMENT = 0x18538067, SEEKHEAD = 0x114D9B74, SEEK = 0x4DBB, SEEK_ID = 0x53AB, SEEK_POS = 0x53AC,
    INFO = 0x1549A966, TIMECODE_SCALE = 0x2AD7B1, DURATION = 0x4489, MUXING_APP = 0x4D80, WRITING_APP = 0x5741,
    TRACKS = 0x1654AE6B, TRACK_ENTRY = 0xAE, TRACK_NUMBER = 0xD7, TRACK_UID = 0x73C5, TRACK_TYPE = 0x83,
    FLAG_LACING = 0x9C, CODEC_ID = 0x86, CODEC_PRIVATE = 0x63A2, CODEC_DELAY = 0x56AA, SEEK_PREROLL = 0x56BB,
    VIDEO = 0xE0, PIXEL_WIDTH = 0xB0, PIXEL_HEIGHT = 0xBA, AUDIO = 0xE1, SAMPLING_FREQ = 0xB5, CHANNELS = 0x9F,
    CLUSTER = 0x1F43B675, TIMESTAMP = 0xE7, SIMPLEBLOCK = 0xA3, CUES = 0x1C53BB6B, CUE_POINT = 0xBB,
    CUE_TIME = 0xB3, CUE_TRACK_POSITIONS = 0xB7, CUE_TRACK = 0xF7, CUE_CLUSTER_POS = 0xF1, VOID = 0xEC,
};

#define WEBM_HOLD_MAX (8u << 20)
#define WEBM_CLUSTER_MAX_MS 30000
#define WEBM_AUDIO_CLUSTER_MS 5000
#define WEBM_MAX_CUES (1u << 20)

typedef struct webm__cue { int64_t t; uint64_t pos; } webm__cue;
#define WEBM_RECENT 256   /* clusters remembered for re-patching after a write failure */

struct rtc_webm_writer {
    rtc_media_out *out;
    rtc_webm_writer_config cfg;
    int audio_track, video_track;
    bool header_done, closed;
    int err;
    uint64_t seg_size_at, seg_data, cues_seek_at, cues_seek_entry, duration_at;
    size_t cues_seek_len;
    bool cluster_open;
    uint64_t cluster_size_at, cluster_data;
    bool cluster_has_video;
    int64_t cluster_ts;
    bool t0_set;
    int64_t t0;
    int64_t end_ms, last_video_ms, video_interval;
    bool have_last[2];           /* [0] audio, [1] video: a frame of the track was taken */
    int64_t last_t[2];
    uint64_t recent[WEBM_RECENT];    /* cluster_data of recent clusters (size field is 8 bytes before) */
    size_t nrecent;
    webm__cue *cues;
    size_t ncues, cues_cap;
    uint8_t *hold;               /* audio frames held until the video header is known: [pts 8][len 4][data] */
    size_t hold_len, hold_cap;
    uint8_t *conv;               /* H264 Annex B -> length-prefixed */
    size_t conv_cap;
    rtc_webm_writer_stats stats;
};

/* ====== EBML encoding ====== */
static size_t ebml__id(uint8_t *p, uint32_t id)
{
    size_t n = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(id >> (8 * (n - 1 - i)));
    return n;
}

static size_t ebml__size(uint8_t *p, uint64_t v)
{
    size_t n = 1;
    while (n < 8 && v >= ((uint64_t)1 << (7 * n)) - 1) n++;
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    p[0] |= (uint8_t)(0x80 >> (n - 1));
    return n;
}

static void ebml__size8(uint8_t *p, uint64_t v)
{
    p[0] = 0x01;
    for (int i = 1; i < 8; i++) p[i] = (uint8_t)(v >> (8 * (7 - i)));
}

/* A growing byte buffer for building master elements before they are written. */
typedef struct webm__b { uint8_t d[2048]; size_t n; bool bad; } webm__b;

static void b_bytes(webm__b *b, uint32_t id, const void *p, size_t len)
{
    if (b->n + 12 + len > sizeof b->d) { b->bad = true; return; }   /* checked before writing */
    b->n += ebml__id(b->d + b->n, id);
    b->n += ebml__size(b->d + b->n, len);
    memcpy(b->d + b->n, p, len);
    b->n += len;
}

static void b_uint(webm__b *b, uint32_t id, uint64_t v)
{
    uint8_t t[8]; size_t n = 1;
    while (n < 8 && (v >> (8 * n))) n++;
    for (size_t i = 0; i < n; i++) t[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    b_bytes(b, id, t, n);
}

static void b_float(webm__b *b, uint32_t id, double v)
{
    uint64_t u; memcpy(&u, &v, 8);
    uint8_t t[8]; rtc_wr64(t, u);
    b_bytes(b, id, t, 8);
}

static void b_str(webm__b *b, uint32_t id, const char *s) { b_bytes(b, id, s, strlen(s)); }
static void b_master(webm__b *b, uint32_t id, const webm__b *child)
{
    if (child->bad) b->bad = true;
    b_bytes(b, id, child->d, child->n);
}

static int w_put(rtc_webm_writer *w, const void *p, size_t n)
{
    int r = rtc_media_out_write(w->out, p, n);
    if (r && !w->err) w->err = r;
    return r;
}

/* ====== codec details ====== */
/* Next NAL unit of an Annex B stream at or after *pos. */
static bool webm__nal(const uint8_t *f, size_t len, size_t *pos, const uint8_t **nal, size_t *nlen)
{
    size_t i = *pos;
    while (i + 3 <= len && !(f[i] == 0 && f[i + 1] == 0 && f[i + 2] == 1)) i++;
    if (i + 3 > len) return false;
    size_t s = i + 3, e = s;
    while (e + 3 <= len && !(f[e] == 0 && f[e + 1] == 0 && (f[e + 2] == 1 || (f[e + 2] == 0 && e + 3 < len && f[e + 3] == 1)))) e++;
    if (e + 3 > len) e = len;
    *nal = f + s; *nlen = e - s; *pos = e;
    return *nlen > 0;
}

int rtc_h264_avcc_from_annexb(const uint8_t *au, size_t len, uint8_t *out, size_t cap)
{
    const uint8_t *sps = NULL, *pps = NULL, *nal;
    size_t sl = 0, pl = 0, nl, pos = 0;
    while (webm__nal(au, len, &pos, &nal, &nl)) {
        int t = nal[0] & 31;
        if (t == 7 && !sps) { sps = nal; sl = nl; }
        if (t == 8 && !pps) { pps = nal; pl = nl; }
    }
    if (!sps || !pps || sl < 4) return RTC_ENOTFOUND;
    size_t need = 6 + 2 + sl + 1 + 2 + pl;
    if (need > cap || sl > 0xffff || pl > 0xffff) return RTC_EOVERFLOW;
    uint8_t *p = out;
    *p++ = 1; *p++ = sps[1]; *p++ = sps[2]; *p++ = sps[3];
    *p++ = 0xFF;                 /* 4-byte NAL lengths */
    *p++ = 0xE1;                 /* one SPS */
    rtc_wr16(p, (uint16_t)sl); p += 2; memcpy(p, sps, sl); p += sl;
    *p++ = 1;
    rtc_wr16(p, (uint16_t)pl); p += 2; memcpy(p, pps, pl); p += pl;
    return (int)(p - out);
}

/* AV1: find the sequence header OBU; build av1C (AV1-ISOBMFF 2.3) + that OBU. The
 * profile, level and tier come from its first operating point when the header has no
 * timing info (WebRTC encoders), else defaults; the colour fields assume 8-bit 4:2:0. */
static int webm__av1c(const uint8_t *f, size_t len, uint8_t *out, size_t cap)
{
    size_t off = 0;
    while (off < len) {
        uint8_t h = f[off];
        int type = (h >> 3) & 15;
        size_t hl = 1 + ((h >> 2) & 1);
        if (!(h & 2)) return RTC_ENOTSUP;
        int n = off + hl < len ? rtc_leb128_read(f + off + hl, len - off - hl, &(uint64_t){ 0 }) : RTC_ETRUNC;
        if (n < 0) return n;
        uint64_t sz; rtc_leb128_read(f + off + hl, len - off - hl, &sz);
        size_t body = off + hl + (size_t)n;
        if (sz > len - body) return RTC_ETRUNC;
        if (type == 1 && sz >= 2) {
            const uint8_t *s = f + body;
            int profile = s[0] >> 5, reduced = (s[0] >> 3) & 1, level = 0, tier = 0;
            if (reduced) level = ((s[0] & 7) << 2) | (s[1] >> 6);
            else if (!((s[0] >> 2) & 1) && sz >= 4) {
                /* initial_display_delay_present(1) op_cnt(5) idc(12) level(5) [tier(1)] */
                uint32_t bits = rtc_rd32(s) << 6;        /* drop profile..timing flag */
                bits <<= 6;                               /* delay flag + op count */
                bits <<= 12;                              /* operating_point_idc */
                level = (int)(bits >> 27);
                if (level > 7) tier = (int)((bits >> 26) & 1);
            }
            size_t total = 4 + (size_t)(body + sz - off);
            if (total > cap) return RTC_EOVERFLOW;
            out[0] = 0x81;
            out[1] = (uint8_t)(profile << 5 | (level & 31));
            out[2] = (uint8_t)(tier << 7 | 0x0C);         /* subsampling_x, subsampling_y */
            out[3] = 0;
            memcpy(out + 4, f + off, (size_t)(body + sz - off));
            return (int)total;
        }
        off = body + (size_t)sz;
    }
    return RTC_ENOTFOUND;
}

/* Frame size from the first keyframe when none was configured. */
static void webm__video_size(rtc_webm_writer *w, const uint8_t *f, size_t len)
{
    if (w->cfg.width) return;
    if (!rtc_media_video_size(w->cfg.video_codec, f, len, &w->cfg.width, &w->cfg.height)) {
        w->cfg.width = 640;
        w->cfg.height = 480;
    }
}

static const char *webm__codec_id(rtc_codec_id c)
{
    switch (c) {
    case RTC_CODEC_VP8: return "V_VP8";
    case RTC_CODEC_VP9: return "V_VP9";
    case RTC_CODEC_AV1: return "V_AV1";
    case RTC_CODEC_H264: return "V_MPEG4/ISO/AVC";
    default: return NULL;
    }
}

/* ====== header ====== */
static int webm__write_header(rtc_webm_writer *w, const uint8_t *priv, size_t priv_len)
{
    webm__b b = { .n = 0 }, e = { .n = 0 };
    bool h264 = w->cfg.video && w->cfg.video_codec == RTC_CODEC_H264;
    b_uint(&e, EBML_VERSION, 1); b_uint(&e, EBML_READ_VERSION, 1);
    b_uint(&e, EBML_MAX_ID, 4); b_uint(&e, EBML_MAX_SIZE, 8);
    b_str(&e, DOCTYPE, h264 ? "matroska" : "webm");      /* WebM admits no H264 */
    b_uint(&e, DOCTYPE_VERSION, 4); b_uint(&e, DOCTYPE_READ_VERSION, 2);
    b_master(&b, EBML, &e);
    uint8_t seg[12]; size_t sn = ebml__id(seg, SEGMENT);
    ebml__size8(seg + sn, 0x00FFFFFFFFFFFFFFull);        /* unknown size until close */
    memcpy(b.d + b.n, seg, sn + 8);
    w->seg_size_at = rtc_media_out_pos(w->out) + b.n + sn;
    b.n += sn + 8;
    w->seg_data = rtc_media_out_pos(w->out) + b.n;

    /* Info and Tracks first into their own buffers, so SeekHead can point at them. */
    webm__b info = { .n = 0 }, tracks = { .n = 0 }, te, sub;
    b_uint(&info, TIMECODE_SCALE, 1000000);
    b_str(&info, MUXING_APP, "luartc");
    b_str(&info, WRITING_APP, "luartc");
    size_t dur_in_info = info.n + 3;                     /* after ID (2) + size (1) */
    b_float(&info, DURATION, 0.0);
    if (w->audio_track) {
        te.n = 0; sub.n = 0; te.bad = sub.bad = false;
        b_uint(&te, TRACK_NUMBER, (uint64_t)w->audio_track);
        b_uint(&te, TRACK_UID, (uint64_t)w->audio_track);
        b_uint(&te, TRACK_TYPE, 2);
        b_uint(&te, FLAG_LACING, 0);
        b_str(&te, CODEC_ID, "A_OPUS");
        uint8_t head[19];
        b_bytes(&te, CODEC_PRIVATE, head, rtc_opus_head_write(head, w->cfg.channels, w->cfg.pre_skip, 48000));
        b_uint(&te, CODEC_DELAY, (uint64_t)w->cfg.pre_skip * 1000000000ull / 48000);
        b_uint(&te, SEEK_PREROLL, 80000000);
        b_float(&sub, SAMPLING_FREQ, 48000.0);
        b_uint(&sub, CHANNELS, (uint64_t)w->cfg.channels);
        b_master(&te, AUDIO, &sub);
        b_master(&tracks, TRACK_ENTRY, &te);
    }
    if (w->video_track) {
        te.n = 0; sub.n = 0; te.bad = sub.bad = false;
        b_uint(&te, TRACK_NUMBER, (uint64_t)w->video_track);
        b_uint(&te, TRACK_UID, (uint64_t)w->video_track);
        b_uint(&te, TRACK_TYPE, 1);
        b_uint(&te, FLAG_LACING, 0);
        b_str(&te, CODEC_ID, webm__codec_id(w->cfg.video_codec));
        if (priv_len) b_bytes(&te, CODEC_PRIVATE, priv, priv_len);
        b_uint(&sub, PIXEL_WIDTH, w->cfg.width);
        b_uint(&sub, PIXEL_HEIGHT, w->cfg.height);
        b_master(&te, VIDEO, &sub);
        b_master(&tracks, TRACK_ENTRY, &te);
    }
    /* SeekHead with fixed-width (8-byte) positions so its size is known up front. */
    webm__b sh = { .n = 0 }, s;
    uint32_t ids[3] = { INFO, TRACKS, CUES };
    size_t sh_fixed = 0;
    for (int i = 0; i < 3; i++) sh_fixed += 2 + 1 + (2 + 1 + 4) + (2 + 1 + 8);
    size_t sh_total = 4 + 1 + sh_fixed;
    uint64_t info_pos = sh_total, tracks_pos = info_pos + 4 + ebml__size((uint8_t[8]){ 0 }, info.n) + info.n;
    uint64_t pos[3] = { info_pos, tracks_pos, 0 };
    for (int i = 0; i < 3; i++) {
        s.n = 0; s.bad = false;
        uint8_t idb[4]; rtc_wr32(idb, ids[i]);
        b_bytes(&s, SEEK_ID, idb, 4);
        uint8_t pb[8]; rtc_wr64(pb, pos[i]);
        b_bytes(&s, SEEK_POS, pb, 8);
        if (i == 2) {
            w->cues_seek_entry = w->seg_data + sh.n + 5;
            w->cues_seek_len = 3 + s.n;
            w->cues_seek_at = w->seg_data + 5 + sh.n + 3 + s.n - 8;
        }
        b_master(&sh, SEEK, &s);
    }
    b_master(&b, SEEKHEAD, &sh);
    w->duration_at = w->seg_data + sh_total + 4 + ebml__size((uint8_t[8]){ 0 }, info.n) + dur_in_info;
    b_master(&b, INFO, &info);
    b_master(&b, TRACKS, &tracks);
    if (b.bad) return w->err = RTC_EOVERFLOW;
    w->header_done = true;
    int r = w_put(w, b.d, b.n);
    if (!r) rtc_media_out_mark(w->out);
    return r;
}

int rtc_webm_writer_new(rtc_webm_writer **out_w, rtc_media_out *out, const rtc_webm_writer_config *cfg)
{
    *out_w = NULL;
    if (!cfg || (!cfg->audio && !cfg->video)) return RTC_EINVAL;
    if (cfg->video && !webm__codec_id(cfg->video_codec)) return RTC_EINVAL;
    rtc_webm_writer *w = calloc(1, sizeof *w);
    if (!w) return RTC_ENOMEM;
    w->out = out;
    w->cfg = *cfg;
    if (!w->cfg.channels) w->cfg.channels = 2;
    if (!w->cfg.pre_skip) w->cfg.pre_skip = 312;
    if (w->cfg.channels < 1 || w->cfg.channels > 2) { free(w); return RTC_EINVAL; }
    w->audio_track = cfg->audio ? 1 : 0;
    w->video_track = cfg->video ? w->audio_track + 1 : 0;
    bool needs_priv = cfg->video && (cfg->video_codec == RTC_CODEC_H264 || cfg->video_codec == RTC_CODEC_AV1);
    if (!needs_priv) {
        if (!cfg->video || w->cfg.width) {
            int r = webm__write_header(w, NULL, 0);
            if (r) { free(w); return r; }
        }
    }
    *out_w = w;
    return 0;
}

/* ====== clusters and blocks ====== */
static int webm__close_cluster(rtc_webm_writer *w)
{
    if (!w->cluster_open) return 0;
    w->cluster_open = false;
    uint64_t end = rtc_media_out_pos(w->out);
    if (end < w->cluster_data) return 0;                 /* its header never reached the disk */
    uint8_t sz[8]; ebml__size8(sz, end - w->cluster_data);
    int r = rtc_media_out_patch(w->out, w->cluster_size_at, sz, 8);
    return r == RTC_ENOTSUP ? 0 : r;
}

static int webm__add_cue(rtc_webm_writer *w, int64_t t, uint64_t pos)
{
    if (w->ncues >= WEBM_MAX_CUES) return 0;
    if (w->ncues == w->cues_cap) {
        size_t nc = w->cues_cap ? w->cues_cap * 2 : 64;
        webm__cue *c = realloc(w->cues, nc * sizeof *c);
        if (!c) return w->err = RTC_ENOMEM;
        w->cues = c; w->cues_cap = nc;
    }
    w->cues[w->ncues++] = (webm__cue){ t, pos };
    return 0;
}

static int webm__open_cluster(rtc_webm_writer *w, int64_t t, bool cue)
{
    int r = webm__close_cluster(w);
    if (r) return r;
    uint64_t at = rtc_media_out_pos(w->out);
    uint8_t h[4 + 8 + 2 + 8]; size_t n = ebml__id(h, CLUSTER);
    ebml__size8(h + n, 0x00FFFFFFFFFFFFFFull);
    n += 8;
    w->cluster_size_at = at + 4;
    webm__b ts = { .n = 0 }; b_uint(&ts, TIMESTAMP, (uint64_t)(t < 0 ? 0 : t));
    memcpy(h + n, ts.d, ts.n); n += ts.n;
    w->cluster_data = at + 12;
    if ((r = w_put(w, h, n))) return r;
    rtc_media_out_mark(w->out);
    w->recent[w->nrecent++ % WEBM_RECENT] = w->cluster_data;
    w->cluster_open = true;
    w->cluster_has_video = false;
    w->cluster_ts = t < 0 ? 0 : t;
    w->stats.clusters++;
    return cue ? webm__add_cue(w, w->cluster_ts, at - w->seg_data) : 0;
}

/* H264 blocks carry 4-byte NAL lengths instead of start codes. */
static int webm__to_avcc(rtc_webm_writer *w, const uint8_t *f, size_t len, const uint8_t **out, size_t *olen)
{
    size_t need = len + 4 * (len / 3 + 1);
    if (need > w->conv_cap) {
        uint8_t *c = realloc(w->conv, need);
        if (!c) return RTC_ENOMEM;
        w->conv = c; w->conv_cap = need;
    }
    size_t pos = 0, n = 0, nl;
    const uint8_t *nal;
    while (webm__nal(f, len, &pos, &nal, &nl)) {
        rtc_wr32(w->conv + n, (uint32_t)nl);
        memcpy(w->conv + n + 4, nal, nl);
        n += 4 + nl;
    }
    if (!n) return RTC_EPROTO;
    *out = w->conv; *olen = n;
    return 0;
}

static int webm__block(rtc_webm_writer *w, int track, const uint8_t *f, size_t len, int64_t t, bool key)
{
    bool video = track == w->video_track;
    int64_t rel = w->cluster_open ? t - w->cluster_ts : 0;
    /* A keyframe opens a cluster, unless the open one holds only audio so far (the
     * audio that arrived just before it): then the keyframe joins it and the cue
     * points there. */
    bool key_here = video && key && w->cluster_open && !w->cluster_has_video && rel >= 0 && rel <= 1000;
    bool new_cluster = !w->cluster_open || rel > WEBM_CLUSTER_MAX_MS ||
        (video && key && !key_here) || (!w->video_track && rel >= WEBM_AUDIO_CLUSTER_MS);
    if (w->cluster_open && rel < -WEBM_CLUSTER_MAX_MS) { w->stats.dropped++; return RTC_EIGNORED; }
    if (new_cluster && !(video && key) && w->cluster_open && rel < 0) new_cluster = false;
    int r;
    if (new_cluster && (r = webm__open_cluster(w, t, video ? key : !w->video_track))) return r;
    if (key_here && (r = webm__add_cue(w, t, w->cluster_data - 12 - w->seg_data))) return r;
    if (video) w->cluster_has_video = true;
    rel = t - w->cluster_ts;
    uint8_t h[4 + 8 + 4];
    size_t n = 0;
    h[n++] = SIMPLEBLOCK;
    n += ebml__size(h + n, len + 4);
    h[n++] = (uint8_t)(0x80 | track);
    rtc_wr16(h + n, (uint16_t)(int16_t)rel); n += 2;
    h[n++] = (video && !key) ? 0x00 : 0x80;
    if ((r = w_put(w, h, n)) || (r = w_put(w, f, len))) return r;
    rtc_media_out_mark(w->out);
    w->stats.bytes += len;
    return 0;
}

static int webm__audio(rtc_webm_writer *w, const uint8_t *f, size_t len, int64_t t)
{
    int d = rtc_opus_packet_samples(f, len, 48000);
    int r = webm__block(w, w->audio_track, f, len, t, true);
    if (r) return r;
    w->stats.audio_frames++;
    int64_t end = t + (d > 0 ? d / 48 : 20);
    if (end > w->end_ms) w->end_ms = end;
    return 0;
}

/* The header waits for the first usable video keyframe; then the held audio goes out. */
static int webm__start_with(rtc_webm_writer *w, const uint8_t *f, size_t len)
{
    uint8_t priv[512];
    int pl = 0;
    if (w->cfg.video_codec == RTC_CODEC_H264) pl = rtc_h264_avcc_from_annexb(f, len, priv, sizeof priv);
    else if (w->cfg.video_codec == RTC_CODEC_AV1) pl = webm__av1c(f, len, priv, sizeof priv);
    if (pl < 0) return pl;
    webm__video_size(w, f, len);
    int r = webm__write_header(w, priv, (size_t)pl);
    if (r) return r;
    /* Held audio that precedes the keyframe is written first (same cluster rules). */
    for (size_t off = 0; off + 12 <= w->hold_len;) {
        int64_t t = (int64_t)rtc_rd64(w->hold + off);
        size_t l = rtc_rd32(w->hold + off + 8);
        if ((r = webm__audio(w, w->hold + off + 12, l, t)) && r != RTC_EIGNORED) return r;
        off += 12 + l;
    }
    free(w->hold); w->hold = NULL; w->hold_len = w->hold_cap = 0;
    return 0;
}

static void webm__taken(rtc_webm_writer *w, bool video, int64_t t, bool retimed)
{
    w->have_last[video] = true;
    w->last_t[video] = t;
    if (retimed) w->stats.retimed++;
}

int rtc_webm_writer_write(rtc_webm_writer *w, bool video, const uint8_t *frame, size_t len,
                          int64_t pts_ms, bool keyframe)
{
    if (w->closed) return RTC_ECLOSED;
    if (w->err) return w->err;
    if (!len || len > (64u << 20) || (video ? !w->video_track : !w->audio_track)) return RTC_EINVAL;
    if (pts_ms > RTC_MEDIA_MAX_PTS_MS || pts_ms < -RTC_MEDIA_MAX_PTS_MS) return RTC_ERANGE;
    if (!w->t0_set) { w->t0_set = true; w->t0 = pts_ms; }
    int64_t t = pts_ms - w->t0;
    int r;
    /* Block times of a track strictly increase (webm.h); a frame counts once taken
     * (held or written), not when refused before the header. */
    bool retime = w->have_last[video] && t <= w->last_t[video];
    if (retime) t = w->last_t[video] + 1;
    if (!w->header_done) {
        if (!video) {
            if (w->hold_len + 12 + len > WEBM_HOLD_MAX) { w->stats.dropped++; return RTC_EIGNORED; }
            if (w->hold_len + 12 + len > w->hold_cap) {
                size_t nc = w->hold_cap ? w->hold_cap : 16384;
                while (nc < w->hold_len + 12 + len) nc *= 2;
                uint8_t *h = realloc(w->hold, nc);
                if (!h) return RTC_ENOMEM;
                w->hold = h; w->hold_cap = nc;
            }
            rtc_wr64(w->hold + w->hold_len, (uint64_t)t);
            rtc_wr32(w->hold + w->hold_len + 8, (uint32_t)len);
            memcpy(w->hold + w->hold_len + 12, frame, len);
            w->hold_len += 12 + len;
            webm__taken(w, false, t, retime);
            return 0;
        }
        if (!keyframe || (r = webm__start_with(w, frame, len)) == RTC_ENOTFOUND) {
            w->stats.dropped++;
            return RTC_EIGNORED;
        }
        if (r) return r;
    }
    webm__taken(w, video, t, retime);
    if (!video) return webm__audio(w, frame, len, t);
    if (w->cfg.video_codec == RTC_CODEC_H264 && (r = webm__to_avcc(w, frame, len, &frame, &len))) return r;
    if ((r = webm__block(w, w->video_track, frame, len, t, keyframe))) return r;
    w->stats.video_frames++;
    if (w->stats.video_frames > 1 && t > w->last_video_ms) w->video_interval = t - w->last_video_ms;
    if (t > w->last_video_ms || w->stats.video_frames == 1) w->last_video_ms = t;
    int64_t end = t + (w->video_interval ? w->video_interval : 33);
    if (end > w->end_ms) w->end_ms = end;
    return 0;
}

int rtc_webm_writer_close(rtc_webm_writer *w)
{
    if (w->closed) return w->err;
    w->closed = true;
    if (!w->header_done && !w->err) {
        /* Video never started: write what there is as an audio-only file would be. */
        {
            w->video_track = 0;
            w->cfg.video = false;
            if (w->audio_track) {
                int r = webm__write_header(w, NULL, 0);
                for (size_t off = 0; !r && off + 12 <= w->hold_len;) {
                    size_t l = rtc_rd32(w->hold + off + 8);
                    r = webm__audio(w, w->hold + off + 12, l, (int64_t)rtc_rd64(w->hold + off));
                    if (r == RTC_EIGNORED) r = 0;
                    off += 12 + l;
                }
            }
        }
    }
    if (!w->header_done) { int r = rtc_media_out_flush(w->out); return w->err ? w->err : r; }
    int r = webm__close_cluster(w);
    if (r && !w->err) w->err = r;
    if (w->err) {
        /* Cut by a failed write: the cluster the file now ends in gets its real size
         * (it may have been closed with a larger one while still in memory). */
        uint64_t end = rtc_media_out_pos(w->out);
        for (size_t i = 0; i < w->nrecent && i < WEBM_RECENT; i++) {
            uint64_t cd = w->recent[(w->nrecent - 1 - i) % WEBM_RECENT];
            if (cd > end) continue;
            uint8_t sz[8]; ebml__size8(sz, end - cd);
            rtc_media_out_patch(w->out, cd - 8, sz, 8);
            break;
        }
    }
    uint64_t cues_at = rtc_media_out_pos(w->out);
    bool cues = !w->err && w->out->seekable && w->ncues;
    if (cues) {
        uint8_t *buf = malloc(w->ncues * 40 + 16);
        if (!buf) { w->err = RTC_ENOMEM; cues = false; }
        else {
            size_t n = 0;
            for (size_t i = 0; i < w->ncues; i++) {
                webm__b tp = { .n = 0 }, cp = { .n = 0 };
                b_uint(&tp, CUE_TRACK, (uint64_t)(w->video_track ? w->video_track : w->audio_track));
                b_uint(&tp, CUE_CLUSTER_POS, w->cues[i].pos);
                b_uint(&cp, CUE_TIME, (uint64_t)w->cues[i].t);
                b_master(&cp, CUE_TRACK_POSITIONS, &tp);
                webm__b one = { .n = 0 };
                b_master(&one, CUE_POINT, &cp);
                memcpy(buf + n, one.d, one.n);
                n += one.n;
            }
            uint8_t h[12]; size_t hn = ebml__id(h, CUES);
            hn += ebml__size(h + hn, n);
            r = w_put(w, h, hn);
            if (!r) r = w_put(w, buf, n);
            free(buf);
            if (r) cues = false;
            else w->stats.cues = w->ncues;
        }
    }
    r = rtc_media_out_flush(w->out);
    if (r && !w->err) w->err = r;
    if (cues) {
        uint8_t pb[8]; rtc_wr64(pb, cues_at - w->seg_data);
        rtc_media_out_patch(w->out, w->cues_seek_at, pb, 8);
    } else {
        /* No Cues: the seek entry becomes a Void element of the same size. */
        uint8_t v[64] = { VOID };
        size_t n = w->cues_seek_len;
        v[1] = (uint8_t)(0x80 | (n - 2));
        rtc_media_out_patch(w->out, w->cues_seek_entry, v, n);
    }
    double d = (double)w->end_ms;
    uint64_t u; memcpy(&u, &d, 8);
    uint8_t db[8]; rtc_wr64(db, u);
    rtc_media_out_patch(w->out, w->duration_at, db, 8);
    uint64_t end = rtc_media_out_pos(w->out);
    if (w->out->seekable && end >= w->seg_data) {
        uint8_t sz[8]; ebml__size8(sz, end - w->seg_data);
        rtc_media_out_patch(w->out, w->seg_size_at, sz, 8);
    }
    w->stats.duration_ms = w->end_ms;
    return w->err;
}

void rtc_webm_writer_free(rtc_webm_writer *w)
{
    if (!w) return;
    free(w->cues);
    free(w->hold);
    free(w->conv);
    free(w);
}

void rtc_webm_writer_get_stats(const rtc_webm_writer *w, rtc_webm_writer_stats *out)
{
    *out = w->stats;
    out->duration_ms = w->end_ms;
}
