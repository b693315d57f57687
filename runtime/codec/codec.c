/* Payload format dispatch, Opus (RFC 7587), and the pieces the formats share. */
#include "codec/codec_internal.h"
#include "core/rtc_errors.h"
#include <string.h>
#include <strings.h>

static const char *const codec__names[RTC_CODEC__COUNT] = { "opus", "VP8", "VP9", "H264", "AV1" };

int rtc_codec_from_name(const char *name)
{
    if (!name) return -1;
    for (int i = 0; i < RTC_CODEC__COUNT; i++)
        if (strcasecmp(name, codec__names[i]) == 0) return i;
    return -1;
}

const char *rtc_codec_name(rtc_codec_id c) { return (unsigned)c < RTC_CODEC__COUNT ? codec__names[c] : "?"; }
bool rtc_codec_is_video(rtc_codec_id c) { return c != RTC_CODEC_OPUS && (unsigned)c < RTC_CODEC__COUNT; }

int codec__picture_id_read(const uint8_t *p, size_t len, size_t *off, int32_t *id)
{
    if (*off >= len) return RTC_ETRUNC;
    if (p[*off] & 0x80) {
        if (len - *off < 2) return RTC_ETRUNC;
        *id = (int32_t)((p[*off] & 0x7F) << 8 | p[*off + 1]);
        *off += 2;
    } else {
        *id = p[(*off)++] & 0x7F;
    }
    return 0;
}

size_t codec__picture_id_rewrite(uint8_t *p, int32_t picture_id)
{
    bool wide = p[0] & 0x80;
    if (picture_id >= 0) {
        if (wide) { p[0] = (uint8_t)(0x80 | ((picture_id >> 8) & 0x7F)); p[1] = (uint8_t)picture_id; }
        else p[0] = (uint8_t)(picture_id & 0x7F);
    }
    return wide ? 2 : 1;
}

static void codec__info_clear(rtc_depack_info *info)
{
    *info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
}

int rtc_opus_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info)
{
    codec__info_clear(info);
    /* RFC 7587: one Opus packet per RTP packet; an empty one is a DTX gap marker
     * that carries nothing to decode. */
    if (len == 0) return RTC_ETRUNC;
    info->begin = info->end = info->keyframe = true;
    return 0;
}

int rtc_depack_parse(rtc_codec_id c, const uint8_t *payload, size_t len, rtc_depack_info *info)
{
    if (!payload && len) return RTC_EINVAL;
    size_t hl;
    switch (c) {
    case RTC_CODEC_OPUS: return rtc_opus_depack_parse(payload, len, info);
    case RTC_CODEC_VP8:  return rtc_vp8_depack_parse(payload, len, info, &hl);
    case RTC_CODEC_VP9:  return rtc_vp9_depack_parse(payload, len, info, &hl);
    case RTC_CODEC_H264: return rtc_h264_depack_parse(payload, len, info);
    case RTC_CODEC_AV1:  return rtc_av1_depack_parse(payload, len, info);
    default: return RTC_EINVAL;
    }
}

/* VP8 and Opus frames are the payloads minus their descriptors, end to end. */
static int codec__concat(rtc_codec_id c, const rtc_iov *parts, size_t n, uint8_t *out, size_t cap)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        rtc_depack_info info;
        size_t hl = 0;
        int r = c == RTC_CODEC_VP8 ? rtc_vp8_depack_parse(parts[i].p, parts[i].len, &info, &hl)
              : rtc_opus_depack_parse(parts[i].p, parts[i].len, &info);
        if (r < 0) return r;
        size_t body = parts[i].len - hl;
        if (body > cap - off) return RTC_EOVERFLOW;
        memcpy(out + off, parts[i].p + hl, body);
        off += body;
    }
    return off > INT32_MAX ? RTC_ETOOBIG : (int)off;
}

int rtc_depack_assemble(rtc_codec_id c, const rtc_iov *parts, size_t n, uint8_t *out, size_t cap)
{
    if ((!parts && n) || (!out && cap)) return RTC_EINVAL;
    if (n == 0) return RTC_EINVAL;
    switch (c) {
    case RTC_CODEC_OPUS:
    case RTC_CODEC_VP8:
        return codec__concat(c, parts, n, out, cap);
    case RTC_CODEC_VP9:  return rtc_vp9_depack_assemble(parts, n, out, cap);
    case RTC_CODEC_H264: return rtc_h264_depack_assemble(parts, n, out, cap);
    case RTC_CODEC_AV1:  return rtc_av1_depack_assemble(parts, n, out, cap);
    default: return RTC_EINVAL;
    }
}

int rtc_packetizer_init(rtc_packetizer *pk, rtc_codec_id c, const uint8_t *frame, size_t len,
                        size_t max_payload, const rtc_pack_params *params)
{
    if (!pk || !frame || len == 0 || (unsigned)c >= RTC_CODEC__COUNT) return RTC_EINVAL;
    if (max_payload < 8 || max_payload > 65535) return RTC_EINVAL;
    memset(pk, 0, sizeof *pk);
    pk->codec = c;
    pk->frame = frame;
    pk->len = len;
    pk->max_payload = max_payload;
    if (params) pk->params = *params;
    pk->params.picture_id &= 0x7FFF;
    if (c == RTC_CODEC_OPUS && len > max_payload) return RTC_ETOOBIG;
    return 0;
}

int rtc_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last)
{
    if (!pk || !out || !last) return RTC_EINVAL;
    *last = false;
    if (pk->done) return 0;
    if (cap < pk->max_payload) return RTC_EOVERFLOW;
    switch (pk->codec) {
    case RTC_CODEC_OPUS:
        memcpy(out, pk->frame, pk->len);
        pk->done = *last = true;
        return (int)pk->len;
    case RTC_CODEC_VP8:  return rtc_vp8_packetizer_next(pk, out, cap, last);
    case RTC_CODEC_VP9:  return rtc_vp9_packetizer_next(pk, out, cap, last);
    case RTC_CODEC_H264: return rtc_h264_packetizer_next(pk, out, cap, last);
    case RTC_CODEC_AV1:  return rtc_av1_packetizer_next(pk, out, cap, last);
    default: return RTC_EINVAL;
    }
}

int rtc_leb128_read(const uint8_t *p, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) {
        if (i >= len) return RTC_ETRUNC;
        v |= (uint64_t)(p[i] & 0x7F) << (7 * i);
        if (!(p[i] & 0x80)) { *out = v; return (int)i + 1; }
    }
    return RTC_EPROTO;
}

int rtc_leb128_size(uint64_t v)
{
    int n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

int rtc_leb128_write(uint8_t *out, uint64_t v)
{
    int n = 0;
    do {
        uint8_t b = v & 0x7F;
        v >>= 7;
        out[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    return n;
}
