/* IVF writer and reader (ivf.h). */
#include "media/ivf.h"
#include "media/video_size.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

static void wr16le(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void wr32le(uint8_t *p, uint32_t v) { wr16le(p, (uint16_t)v); wr16le(p + 2, (uint16_t)(v >> 16)); }
static uint16_t rd16le(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32le(const uint8_t *p) { return (uint32_t)rd16le(p) | (uint32_t)rd16le(p + 2) << 16; }

struct rtc_ivf_writer {
    rtc_media_out *out;
    rtc_ivf_writer_config cfg;
    uint32_t frames, retimed;
    int64_t t0_ms, first_pts, last_pts;
    bool closed, header_done;
    int err;
};

static const char *ivf__fourcc(rtc_codec_id c)
{
    return c == RTC_CODEC_VP8 ? "VP80" : c == RTC_CODEC_VP9 ? "VP90" : c == RTC_CODEC_AV1 ? "AV01" : NULL;
}

static int ivf__header(rtc_ivf_writer *w, uint32_t count_field)
{
    uint8_t h[32] = { 'D', 'K', 'I', 'F' };
    wr16le(h + 4, 0);
    wr16le(h + 6, 32);
    memcpy(h + 8, ivf__fourcc(w->cfg.codec), 4);
    wr16le(h + 12, w->cfg.width);
    wr16le(h + 14, w->cfg.height);
    wr32le(h + 16, w->cfg.timebase_den);
    wr32le(h + 20, 1);
    wr32le(h + 24, count_field);
    if (!w->header_done) {
        w->header_done = true;
        int r = rtc_media_out_write(w->out, h, 32);
        if (!r) rtc_media_out_mark(w->out);
        return r;
    }
    return rtc_media_out_patch(w->out, 0, h, 32);
}

int rtc_ivf_writer_new(rtc_ivf_writer **out_w, rtc_media_out *out, const rtc_ivf_writer_config *cfg)
{
    *out_w = NULL;
    if (!cfg || !ivf__fourcc(cfg->codec)) return RTC_EINVAL;
    rtc_ivf_writer *w = calloc(1, sizeof *w);
    if (!w) return RTC_ENOMEM;
    w->out = out;
    w->cfg = *cfg;
    if (!w->cfg.timebase_den) w->cfg.timebase_den = 1000;
    *out_w = w;
    return 0;
}

/* The first frame's size when none was configured (IVF readers mostly ignore it). */
static void ivf__size(rtc_ivf_writer *w, const uint8_t *f, size_t len)
{
    if (!w->cfg.width) rtc_media_video_size(w->cfg.codec, f, len, &w->cfg.width, &w->cfg.height);
}

int rtc_ivf_writer_write(rtc_ivf_writer *w, const uint8_t *frame, size_t len, int64_t pts_ms)
{
    if (w->closed) return RTC_ECLOSED;
    if (w->err) return w->err;
    if (!len || len > RTC_IVF_MAX_FRAME) return RTC_EINVAL;
    if (pts_ms > RTC_MEDIA_MAX_PTS_MS || pts_ms < -RTC_MEDIA_MAX_PTS_MS) return RTC_ERANGE;
    if (!w->header_done) {
        ivf__size(w, frame, len);
        int r = ivf__header(w, 0);
        if (r) return w->err = r;
        w->t0_ms = pts_ms;
    }
    /* ms to the file's time base, rounded to the nearest tick. */
    int64_t num = (pts_ms - w->t0_ms) * (int64_t)w->cfg.timebase_den;
    int64_t pts = num >= 0 ? (num + 500) / 1000 : -((-num + 500) / 1000);
    /* IVF has no reordering and readers take each pts as the frame's decode time:
     * one that does not advance (a sender's clock standing still or stepping back,
     * or two frames within one tick of a coarse time base) goes one tick after the
     * previous. Dropping it instead would break every frame predicted from it. */
    if (w->frames && pts <= w->last_pts) { pts = w->last_pts + 1; w->retimed++; }
    if (!w->frames) w->first_pts = pts;
    uint8_t h[12];
    wr32le(h, (uint32_t)len);
    wr32le(h + 4, (uint32_t)(uint64_t)pts);
    wr32le(h + 8, (uint32_t)((uint64_t)pts >> 32));
    int r = rtc_media_out_write(w->out, h, 12);
    if (!r) r = rtc_media_out_write(w->out, frame, len);
    if (r) return w->err = r;
    rtc_media_out_mark(w->out);
    w->last_pts = pts;
    w->frames++;
    return 0;
}

int rtc_ivf_writer_close(rtc_ivf_writer *w)
{
    if (w->closed) return w->err;
    w->closed = true;
    if (!w->header_done && !w->err) w->err = ivf__header(w, 0);
    if (!w->err && w->frames) {
        /* frames x mean interval: ffmpeg reads this field as the duration. */
        uint64_t span = (uint64_t)(w->last_pts - w->first_pts);
        uint32_t field = w->frames > 1 ? (uint32_t)(span * w->frames / (w->frames - 1)) : 1;
        int r = ivf__header(w, field);
        if (r && r != RTC_ENOTSUP) w->err = r;
    }
    int r = rtc_media_out_flush(w->out);
    if (r && !w->err) w->err = r;
    return w->err;
}

void rtc_ivf_writer_free(rtc_ivf_writer *w) { free(w); }
uint32_t rtc_ivf_writer_frames(const rtc_ivf_writer *w) { return w->frames; }
uint32_t rtc_ivf_writer_retimed(const rtc_ivf_writer *w) { return w->retimed; }

/* ====== reader ====== */
bool rtc_media_frame_is_key(rtc_codec_id c, const uint8_t *f, size_t len)
{
    if (!len) return false;
    switch (c) {
    case RTC_CODEC_VP8: return !(f[0] & 1);
    case RTC_CODEC_VP9: return rtc_vp9_frame_is_key(f, len) == 1;
    case RTC_CODEC_AV1: {
        /* A temporal unit holding a sequence header starts a coded video sequence. */
        size_t off = 0;
        while (off < len) {
            uint8_t h = f[off];
            int type = (h >> 3) & 15;
            size_t hl = 1 + ((h >> 2) & 1);
            if (!(h & 2) || off + hl >= len) return false;
            uint64_t sz = 0; size_t i = off + hl; int shift = 0;
            for (;;) {
                if (i >= len || shift > 56) return false;
                sz |= (uint64_t)(f[i] & 0x7f) << shift;
                shift += 7;
                if (!(f[i++] & 0x80)) break;
            }
            if (type == 1) return true;
            if (sz > len - i) return false;
            off = i + (size_t)sz;
        }
        return false;
    }
    case RTC_CODEC_H264: {
        for (size_t i = 0; i + 3 < len; i++)
            if (f[i] == 0 && f[i + 1] == 0 && f[i + 2] == 1) {
                int t = f[i + 3] & 31;
                if (t == 5) return true;      /* an IDR slice: an SPS alone decodes nothing */
            }
        return false;
    }
    default: return true;
    }
}

int rtc_ivf_reader_init(rtc_ivf_reader *r, const uint8_t *data, size_t len)
{
    memset(r, 0, sizeof *r);
    if (len < 32) return RTC_ETRUNC;
    if (memcmp(data, "DKIF", 4)) return RTC_EPROTO;
    size_t hlen = rd16le(data + 6);
    if (hlen < 32 || hlen > len) return RTC_EPROTO;
    if (!memcmp(data + 8, "VP80", 4)) r->info.codec = RTC_CODEC_VP8;
    else if (!memcmp(data + 8, "VP90", 4)) r->info.codec = RTC_CODEC_VP9;
    else if (!memcmp(data + 8, "AV01", 4)) r->info.codec = RTC_CODEC_AV1;
    else return RTC_ENOTSUP;
    r->info.width = rd16le(data + 12);
    r->info.height = rd16le(data + 14);
    r->info.timebase_den = rd32le(data + 16);
    r->info.timebase_num = rd32le(data + 20);
    r->info.header_frames = rd32le(data + 24);
    if (!r->info.timebase_den || !r->info.timebase_num) return RTC_EPROTO;
    r->data = data;
    r->len = len;
    r->off = hlen;
    return 0;
}

int rtc_ivf_reader_next(rtc_ivf_reader *r, rtc_ivf_frame *f)
{
    if (r->err) return r->err;
    if (r->off == r->len) return 0;
    if (r->len - r->off < 12) return r->err = RTC_ETRUNC;
    const uint8_t *h = r->data + r->off;
    uint32_t n = rd32le(h);
    if (n == 0 || n > RTC_IVF_MAX_FRAME) return r->err = RTC_EPROTO;
    if (r->len - r->off - 12 < n) return r->err = RTC_ETRUNC;
    f->data = h + 12;
    f->len = n;
    f->pts = (int64_t)((uint64_t)rd32le(h + 4) | (uint64_t)rd32le(h + 8) << 32);
    /* Overflow-safe: pts * num * 1000 / den with 128-bit intermediates. */
    __int128 ms = (__int128)f->pts * r->info.timebase_num * 1000 / r->info.timebase_den;
    f->pts_ms = ms > INT64_MAX ? INT64_MAX : ms < INT64_MIN ? INT64_MIN : (int64_t)ms;
    f->keyframe = rtc_media_frame_is_key(r->info.codec, f->data, n);
    r->off += 12 + (size_t)n;
    return 1;
}

void rtc_ivf_reader_rewind(rtc_ivf_reader *r)
{
    size_t hlen = rd16le(r->data + 6);
    r->off = hlen;
    r->err = 0;
}
