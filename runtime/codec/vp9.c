/* VP9 payload format (RFC 9628): payload descriptor parse (flexible and
 * non-flexible modes, scalability structure), packetizer (non-flexible, one layer). */
#include "codec/codec_internal.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include <string.h>

/* From the uncompressed header (VP9 spec 6.2): frame_marker(2) profile_low_bit(1)
 * profile_high_bit(1) [reserved_zero(1) in profile 3] show_existing_frame(1)
 * frame_type(1), frame_type 0 = KEY_FRAME. 1 key frame, 0 not, -1 not a VP9 header. */
int rtc_vp9_frame_is_key(const uint8_t *f, size_t len)
{
    if (len < 1 || (f[0] >> 6) != 2) return -1;
    int profile = ((f[0] >> 5) & 1) | ((f[0] >> 4) & 1) << 1;
    int show_existing = profile == 3 ? 2 : 3;           /* bit index from the LSB */
    if ((f[0] >> show_existing) & 1) return 0;
    return ((f[0] >> (show_existing - 1)) & 1) == 0;
}

/* The one descriptor parser (RFC 9628 4.2): the header, and the scalability structure
 * into ss when asked. */
static int vp9__parse(const uint8_t *p, size_t len, rtc_depack_info *info, size_t *hdr_len, rtc_vp9_ss *ss_out)
{
    *info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
    if (len < 1) return RTC_ETRUNC;
    uint8_t b = p[0];
    bool I = b & 0x80, P = b & 0x40, L = b & 0x20, F = b & 0x10, B = b & 0x08, E = b & 0x04, V = b & 0x02;
    size_t off = 1;
    if (I) {
        int r = codec__picture_id_read(p, len, &off, &info->picture_id);
        if (r < 0) return r;
    }
    if (L) {
        if (off >= len) return RTC_ETRUNC;
        info->temporal_id = (int8_t)(p[off] >> 5);
        info->layer_sync = p[off] & 0x10;
        info->spatial_id = (int8_t)((p[off] >> 1) & 7);
        info->inter_layer = p[off] & 0x01;
        off++;
        if (!F) {                                       /* TL0PICIDX */
            if (off >= len) return RTC_ETRUNC;
            info->tl0picidx = p[off++];
        }
    }
    if (F && P) {                                       /* up to 3 reference P_DIFFs */
        for (int i = 0;; i++) {
            if (i == 3) return RTC_EPROTO;
            if (off >= len) return RTC_ETRUNC;
            bool more = p[off++] & 1;
            if (!more) break;
        }
    }
    if (V) {                                            /* scalability structure */
        if (off >= len) return RTC_ETRUNC;
        uint8_t ss = p[off++];
        size_t ns = (size_t)(ss >> 5) + 1;
        info->spatial_layers = (int8_t)ns;
        if (ss_out) *ss_out = (rtc_vp9_ss){ .spatial_layers = (int)ns, .has_sizes = ss & 0x10 };
        if (ss & 0x10) {
            if (len - off < 4 * ns) return RTC_ETRUNC;
            for (size_t i = 0; ss_out && i < ns; i++) {
                ss_out->width[i] = rtc_rd16(p + off + 4 * i);
                ss_out->height[i] = rtc_rd16(p + off + 4 * i + 2);
            }
            off += 4 * ns;
        }
        if (ss & 0x08) {
            if (off >= len) return RTC_ETRUNC;
            unsigned ng = p[off++];
            if (ss_out) ss_out->pictures = (int)ng;
            for (unsigned g = 0; g < ng; g++) {
                if (off >= len) return RTC_ETRUNC;
                size_t r = (p[off++] >> 2) & 3;
                if (len - off < r) return RTC_ETRUNC;
                off += r;
            }
        }
    }
    if (off >= len) return RTC_ETRUNC;
    info->begin = B;
    info->end = E;
    info->inter_picture = P;
    info->flexible = F;
    info->keyframe = B && !P && info->spatial_id <= 0;
    if (info->keyframe && rtc_vp9_frame_is_key(p + off, len - off) == 0) info->keyframe = false;
    *hdr_len = off;
    return 0;
}

int rtc_vp9_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info, size_t *hdr_len)
{
    return vp9__parse(p, len, info, hdr_len, NULL);
}

int rtc_vp9_scalability(const uint8_t *p, size_t len, rtc_vp9_ss *out)
{
    rtc_depack_info info;
    size_t hl;
    *out = (rtc_vp9_ss){ 0 };
    int r = vp9__parse(p, len, &info, &hl, out);
    if (r < 0) return r;
    return out->spatial_layers > 0;
}

int rtc_vp9_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last)
{
    bool first = pk->index == 0;
    bool ss = first && pk->params.keyframe;
    bool dims = ss && pk->params.width && pk->params.height;
    size_t hl = 3 + (ss ? 1 : 0) + (dims ? 4 : 0);
    if (pk->max_payload <= 3 + 1 + 4) return RTC_EINVAL;
    size_t room = pk->max_payload - hl;
    if (first) {
        size_t first_room = room, rest = pk->max_payload - 3;
        pk->count = 1;
        if (pk->len > first_room) pk->count += (pk->len - first_room + rest - 1) / rest;
    }
    size_t left = pk->count - pk->index, bytes = pk->len - pk->off;
    size_t n = (bytes + left - 1) / left;
    if (n > room) n = room;
    uint16_t pic = (uint16_t)pk->params.picture_id;
    bool end = pk->off + n >= pk->len;
    out[0] = (uint8_t)(0x80 | (pk->params.keyframe ? 0 : 0x40) | (first ? 0x08 : 0) |
                       (end ? 0x04 : 0) | (ss ? 0x02 : 0));
    out[1] = (uint8_t)(0x80 | pic >> 8);
    out[2] = (uint8_t)pic;
    size_t off = 3;
    if (ss) {
        out[off++] = (uint8_t)(dims ? 0x10 : 0);        /* N_S = 0 (one layer), Y, G = 0 */
        if (dims) {
            out[off++] = (uint8_t)(pk->params.width >> 8); out[off++] = (uint8_t)pk->params.width;
            out[off++] = (uint8_t)(pk->params.height >> 8); out[off++] = (uint8_t)pk->params.height;
        }
    }
    memcpy(out + off, pk->frame + pk->off, n);
    pk->off += n;
    pk->index++;
    if (end) pk->done = *last = true;
    return (int)(off + n);
}

int rtc_vp9_rewrite_ids(uint8_t *p, size_t len, int32_t picture_id, int32_t tl0picidx)
{
    rtc_depack_info info;
    size_t hl;
    int r = rtc_vp9_depack_parse(p, len, &info, &hl);
    if (r < 0) return r;
    if ((picture_id >= 0 && info.picture_id < 0) || (tl0picidx >= 0 && info.tl0picidx < 0)) return RTC_ENOTFOUND;
    size_t off = 1;
    if (info.picture_id >= 0) off += codec__picture_id_rewrite(p + off, picture_id);
    if (tl0picidx >= 0) p[off + 1] = (uint8_t)tl0picidx;   /* after the layer indices byte */
    return 0;
}

/* Layer frames of one picture (spatial layers, each starting with B=1) become one
 * superframe with an index (VP9 spec Annex B), which decoders take in one call. */
int rtc_vp9_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap)
{
    size_t sizes[8], off = 0;
    int frames = 0;
    for (size_t i = 0; i < n; i++) {
        rtc_depack_info info;
        size_t hl;
        int r = rtc_vp9_depack_parse(parts[i].p, parts[i].len, &info, &hl);
        if (r < 0) return r;
        if (i == 0 || info.begin) {
            if (frames == 8) return RTC_EPROTO;         /* a superframe holds at most 8 */
            sizes[frames++] = 0;
        }
        size_t body = parts[i].len - hl;
        if (body > cap - off) return RTC_EOVERFLOW;
        memcpy(out + off, parts[i].p + hl, body);
        off += body;
        sizes[frames - 1] += body;
    }
    if (frames > 1) {
        size_t max = 0;
        for (int f = 0; f < frames; f++) if (sizes[f] > max) max = sizes[f];
        unsigned mag = max < (1u << 8) ? 1 : max < (1u << 16) ? 2 : max < (1u << 24) ? 3 : 4;
        if ((uint64_t)max >> 32) return RTC_ETOOBIG;
        size_t idx = 2 + (size_t)mag * (size_t)frames;
        if (idx > cap - off) return RTC_EOVERFLOW;
        uint8_t marker = (uint8_t)(0xC0 | (mag - 1) << 3 | (unsigned)(frames - 1));
        out[off++] = marker;
        for (int f = 0; f < frames; f++)
            for (unsigned b = 0; b < mag; b++) out[off++] = (uint8_t)(sizes[f] >> (8 * b));
        out[off++] = marker;
    }
    return off > INT32_MAX ? RTC_ETOOBIG : (int)off;
}
