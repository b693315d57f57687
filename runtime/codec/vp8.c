/* VP8 payload format (RFC 7741): payload descriptor parse, packetizer. */
#include "codec/codec_internal.h"
#include "core/rtc_errors.h"
#include <string.h>

int rtc_vp8_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info, size_t *hdr_len)
{
    *info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
    if (len < 1) return RTC_ETRUNC;
    size_t off = 1;
    bool start = p[0] & 0x10;
    unsigned pid = p[0] & 0x07;
    if (p[0] & 0x80) {                                  /* X: extension byte I L T K */
        if (len < 2) return RTC_ETRUNC;
        uint8_t x = p[1];
        off = 2;
        if (x & 0x80) {                                 /* I: PictureID */
            int r = codec__picture_id_read(p, len, &off, &info->picture_id);
            if (r < 0) return r;
        }
        if (x & 0x40) {                                 /* L: TL0PICIDX */
            if (off >= len) return RTC_ETRUNC;
            info->tl0picidx = p[off++];
        }
        if (x & 0x30) {                                 /* T or K: TID Y KEYIDX */
            if (off >= len) return RTC_ETRUNC;
            if (x & 0x20) {
                info->temporal_id = (int8_t)(p[off] >> 6);
                info->layer_sync = p[off] & 0x20;
            }
            off++;
        }
    }
    if (off >= len) return RTC_ETRUNC;                  /* a descriptor with no VP8 bytes */
    info->begin = start && pid == 0;
    /* The first byte of the VP8 frame tag: bit 0 is P, 0 for a key frame (RFC 6386 9.1). */
    info->keyframe = info->begin && !(p[off] & 0x01);
    *hdr_len = off;
    return 0;
}

/* Even sizes: each of the `left` remaining packets takes its share of the bytes. */
static size_t vp8__share(size_t bytes, size_t left, size_t room)
{
    size_t s = (bytes + left - 1) / left;
    return s < room ? s : room;
}

int rtc_vp8_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last)
{
    const size_t hl = 4;                                /* X, I with a 15-bit PictureID */
    size_t room = pk->max_payload - hl;
    if (pk->count == 0) pk->count = (pk->len + room - 1) / room;
    size_t n = vp8__share(pk->len - pk->off, pk->count - pk->index, room);
    uint16_t pic = (uint16_t)pk->params.picture_id;
    out[0] = (uint8_t)(0x80 | (pk->index == 0 ? 0x10 : 0));   /* S on the first, PID 0 */
    out[1] = 0x80;
    out[2] = (uint8_t)(0x80 | pic >> 8);
    out[3] = (uint8_t)pic;
    memcpy(out + hl, pk->frame + pk->off, n);
    pk->off += n;
    pk->index++;
    if (pk->off >= pk->len) pk->done = *last = true;
    return (int)(hl + n);
}

int rtc_vp8_rewrite_ids(uint8_t *p, size_t len, int32_t picture_id, int32_t tl0picidx)
{
    rtc_depack_info info;
    size_t hl;
    int r = rtc_vp8_depack_parse(p, len, &info, &hl);
    if (r < 0) return r;
    if ((picture_id >= 0 && info.picture_id < 0) || (tl0picidx >= 0 && info.tl0picidx < 0)) return RTC_ENOTFOUND;
    size_t off = 2;                                     /* the parse proved X is set if either exists */
    if (info.picture_id >= 0) off += codec__picture_id_rewrite(p + off, picture_id);
    if (tl0picidx >= 0) p[off] = (uint8_t)tl0picidx;
    return 0;
}
