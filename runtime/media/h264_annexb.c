/* H264 Annex B access unit reader (h264_annexb.h). */
#include "media/h264_annexb.h"
#include "core/rtc_errors.h"
#include <string.h>

/* Offset of the next start code (00 00 01, or 00 00 00 01) at or after pos, with its
 * length in *sc; len when none. */
static size_t h264r__start(const uint8_t *d, size_t len, size_t pos, size_t *sc)
{
    for (size_t i = pos; i + 3 <= len; i++) {
        if (d[i] != 0 || d[i + 1] != 0) continue;
        if (d[i + 2] == 1) { *sc = 3; return i; }
        if (d[i + 2] == 0 && i + 3 < len && d[i + 3] == 1) { *sc = 4; return i; }
    }
    *sc = 0;
    return len;
}

int rtc_h264_reader_init(rtc_h264_reader *r, const uint8_t *data, size_t len, uint32_t fps_num, uint32_t fps_den)
{
    memset(r, 0, sizeof *r);
    if (!fps_num || !fps_den) return RTC_EINVAL;
    size_t sc;
    if (len == 0 || h264r__start(data, len, 0, &sc) != 0) return len ? RTC_EPROTO : RTC_ETRUNC;
    r->data = data; r->len = len;
    r->fps_num = fps_num; r->fps_den = fps_den;
    return 0;
}

static bool h264r__is_vcl(int t) { return t >= 1 && t <= 5; }

int rtc_h264_reader_next(rtc_h264_reader *r, rtc_h264_au *au)
{
    if (r->err) return r->err;
    if (r->off >= r->len) return 0;
    size_t start = r->off, pos = r->off, sc;
    bool vcl = false, key = false, sps = false;
    while (pos < r->len) {
        size_t s = h264r__start(r->data, r->len, pos, &sc);
        if (s != pos) return r->err = RTC_EPROTO;        /* garbage between units */
        size_t nal = s + sc;
        size_t next = h264r__start(r->data, r->len, nal, &sc);
        if (nal >= next) { pos = next; continue; }       /* empty NAL: skip */
        uint8_t h = r->data[nal];
        if (h & 0x80) return r->err = RTC_EPROTO;
        int t = h & 31;
        bool first_mb0 = h264r__is_vcl(t) && nal + 1 < next && (r->data[nal + 1] & 0x80);
        if (vcl && (t == 9 || t == 7 || t == 8 || t == 6 || (h264r__is_vcl(t) && first_mb0))) break;
        if (h264r__is_vcl(t)) vcl = true;
        if (t == 5) key = true;
        if (t == 7) sps = true;
        pos = next;
        if (pos - start > RTC_H264_MAX_AU) return r->err = RTC_ETOOBIG;
    }
    if (!vcl) return r->err = RTC_EPROTO;
    au->data = r->data + start;
    au->len = pos - start;
    au->keyframe = key;
    au->has_sps = sps;
    au->pts_ms = (int64_t)(r->index * 1000 * r->fps_den / r->fps_num);
    r->index++;
    r->off = pos;
    return 1;
}

void rtc_h264_reader_rewind(rtc_h264_reader *r) { r->off = 0; r->index = 0; r->err = 0; }
