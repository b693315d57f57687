/* AV1 RTP payload format (AOM "RTP Payload Format For AV1" v1.0): aggregation header
 * Z/Y/W/N, OBU elements with LEB128 lengths, OBUs fragmented across packets. */
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include <string.h>

enum { OBU_SEQUENCE_HEADER = 1, OBU_TEMPORAL_DELIMITER = 2, OBU_FRAME_HEADER = 3,
       OBU_FRAME = 6, OBU_TILE_LIST = 8, OBU_PADDING = 15 };

/* OBUs that can only open a frame: a packet starting with one (Z=0) starts a frame. */
static bool av1__opens_frame(int type)
{
    return type == OBU_SEQUENCE_HEADER || type == OBU_TEMPORAL_DELIMITER ||
           type == OBU_FRAME_HEADER || type == OBU_FRAME;
}

/* A LEB128 length at p[*off] (p has len bytes) of as many bytes that must follow it:
 * *size gets it and *off moves past the length field; < 0 when either runs past len. */
static int av1__sized(const uint8_t *p, size_t len, size_t *off, size_t *size)
{
    uint64_t v;
    int n = rtc_leb128_read(p + *off, len - *off, &v);
    if (n < 0) return n;
    *off += (size_t)n;
    if (v > len - *off) return RTC_ETRUNC;
    *size = (size_t)v;
    return 0;
}

typedef struct av1__obu {
    uint8_t hdr[2];          /* header as sent over RTP: obu_has_size_field cleared */
    size_t hlen, pay_off, pay_len, next;
    int type;
} av1__obu;

/* The next OBU at or after `off` that RTP carries (temporal delimiters, tile lists
 * and padding are dropped, as the payload format asks). 1 found, 0 none, < 0 error. */
static int av1__obu_at(const uint8_t *f, size_t len, size_t off, av1__obu *o)
{
    while (off < len) {
        uint8_t h = f[off];
        if (h & 0x80) return RTC_EPROTO;                /* obu_forbidden_bit */
        size_t hl = (h & 0x04) ? 2 : 1;
        if (len - off < hl) return RTC_ETRUNC;
        size_t pay = off + hl, size;
        if (h & 0x02) {
            int r = av1__sized(f, len, &pay, &size);
            if (r < 0) return r;
        } else {
            size = len - pay;                           /* no size field: runs to the end */
        }
        int type = (h >> 3) & 0x0F;
        if (type != OBU_TEMPORAL_DELIMITER && type != OBU_TILE_LIST && type != OBU_PADDING) {
            o->hdr[0] = (uint8_t)(h & ~0x02);
            o->hdr[1] = hl == 2 ? f[off + 1] : 0;
            o->hlen = hl;
            o->pay_off = pay;
            o->pay_len = size;
            o->next = pay + size;
            o->type = type;
            return 1;
        }
        off = pay + size;
    }
    return 0;
}

int rtc_av1_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info)
{
    *info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
    if (len < 2) return RTC_ETRUNC;
    bool z = p[0] & 0x80;
    unsigned w = (p[0] >> 4) & 3;
    size_t off = 1;
    unsigned count = 0;
    while (off < len) {
        count++;
        size_t size;
        if (w == 0 || count < w) {
            int r = av1__sized(p, len, &off, &size);
            if (r < 0) return r;
        } else {
            size = len - off;                           /* the W-th element takes the rest */
        }
        if (size == 0) return RTC_EPROTO;
        if (count == 1 && !z) {
            info->begin = av1__opens_frame((p[off] >> 3) & 0x0F);
            if ((p[off] & 0x04) && size >= 2) {
                info->temporal_id = (int8_t)(p[off + 1] >> 5);
                info->spatial_id = (int8_t)((p[off + 1] >> 3) & 3);
            }
        }
        off += size;
        if (w && count == w) break;
    }
    if (count == 0 || off != len || (w && count != w)) return RTC_EPROTO;
    info->keyframe = p[0] & 0x08;                       /* N: first packet of a coded video sequence */
    return 0;
}

/* Close the OBU whose raw element bytes sit at out[data..*off): rewrite it in place
 * with obu_has_size_field set and its LEB128 size, at `start` (10 bytes were reserved). */
static int av1__finish(uint8_t *out, size_t start, size_t data, size_t *off)
{
    size_t raw = *off - data;
    if (raw < 1) return RTC_EPROTO;
    uint8_t h = out[data];
    if (h & 0x80) return RTC_EPROTO;
    size_t hl = (h & 0x04) ? 2 : 1;
    if (raw < hl) return RTC_EPROTO;
    uint8_t ext = hl == 2 ? out[data + 1] : 0;
    size_t pay = data + hl, plen = raw - hl;
    if (h & 0x02) {                                     /* a sender kept the size field */
        uint64_t v;
        int n = rtc_leb128_read(out + pay, plen, &v);
        if (n < 0) return n;
        if (v > plen - (size_t)n) return RTC_EPROTO;
        pay += (size_t)n;
        plen = (size_t)v;
    }
    int type = (h >> 3) & 0x0F;
    if (type == OBU_TEMPORAL_DELIMITER) { *off = start; return 0; }   /* we wrote our own */
    size_t w = start;
    out[w++] = (uint8_t)(h | 0x02);
    if (hl == 2) out[w++] = ext;
    w += (size_t)rtc_leb128_write(out + w, plen);
    memmove(out + w, out + pay, plen);
    *off = w + plen;
    return 0;
}

#define AV1_RESERVE 10       /* header (2) + LEB128 size (8) written in front of an OBU */

int rtc_av1_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap)
{
    if (cap < 2) return RTC_EOVERFLOW;
    size_t off = 0, start = 0, data = 0;
    bool open = false;
    int r;
    out[off++] = OBU_TEMPORAL_DELIMITER << 3 | 0x02;    /* a temporal unit starts with a TD */
    out[off++] = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = parts[i].p;
        size_t len = parts[i].len;
        rtc_depack_info info;
        if ((r = rtc_av1_depack_parse(p, len, &info)) < 0) return r;
        bool z = p[0] & 0x80, y = p[0] & 0x40;
        unsigned w = (p[0] >> 4) & 3, count = 0;
        if (z != open) return RTC_EPROTO;               /* continuation without start, or vice versa */
        size_t o = 1;
        while (o < len) {
            count++;
            size_t size;
            if (w == 0 || count < w) {
                uint64_t v;
                o += (size_t)rtc_leb128_read(p + o, len - o, &v);
                size = (size_t)v;
            } else {
                size = len - o;
            }
            bool cont = count == 1 && z;
            if (!cont) {
                if (cap - off < AV1_RESERVE) return RTC_EOVERFLOW;
                start = off;
                data = off = off + AV1_RESERVE;
                open = true;
            }
            if (size > cap - off) return RTC_EOVERFLOW;
            memcpy(out + off, p + o, size);
            off += size;
            o += size;
            bool last = o >= len || (w && count == w);
            if (!(last && y)) {
                if ((r = av1__finish(out, start, data, &off)) < 0) return r;
                open = false;
            }
        }
    }
    if (open) return RTC_EPROTO;                        /* the last OBU never ended */
    return off > INT32_MAX ? RTC_ETOOBIG : (int)off;
}

int rtc_av1_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last)
{
    const uint8_t *f = pk->frame;
    av1__obu o;
    int r;
    bool n_bit = false;
    if (!pk->av1_first) {                               /* N: the frame has a sequence header */
        pk->av1_first = true;
        for (size_t at = 0; (r = av1__obu_at(f, pk->len, at, &o)) > 0; at = o.next)
            if (o.type == OBU_SEQUENCE_HEADER) n_bit = true;
        if (r < 0) return r;
    }
    bool z = pk->av1_have && pk->av1_pos > 0, y = false;
    size_t max = pk->max_payload, off = 1;
    int elements = 0;
    for (;;) {
        if (!pk->av1_have) {
            r = av1__obu_at(f, pk->len, pk->off, &o);
            if (r < 0) return r;
            if (r == 0) break;
            memcpy(pk->av1_hdr, o.hdr, 2);
            pk->av1_hlen = o.hlen;
            pk->av1_pay_off = o.pay_off;
            pk->av1_pay_len = o.pay_len;
            pk->av1_pos = 0;
            pk->av1_have = true;
            pk->off = o.next;
        }
        size_t total = pk->av1_hlen + pk->av1_pay_len, remain = total - pk->av1_pos;
        size_t space = max - off;
        if (space < 2) break;
        size_t take = remain < space - 1 ? remain : space - 1;
        while (take && (size_t)rtc_leb128_size(take) + take > space) take--;
        if (take == 0) break;
        off += (size_t)rtc_leb128_write(out + off, take);
        for (size_t k = 0; k < take; ) {                /* header bytes, then payload */
            size_t pos = pk->av1_pos + k;
            if (pos < pk->av1_hlen) { out[off++] = pk->av1_hdr[pos]; k++; continue; }
            size_t n = take - k;
            memcpy(out + off, f + pk->av1_pay_off + (pos - pk->av1_hlen), n);
            off += n; k += n;
        }
        pk->av1_pos += take;
        elements++;
        if (pk->av1_pos < total) { y = true; break; }   /* packet full mid-OBU */
        pk->av1_have = false;
    }
    if (elements == 0) { pk->done = true; return 0; }
    out[0] = (uint8_t)((z ? 0x80 : 0) | (y ? 0x40 : 0) | (n_bit ? 0x08 : 0));   /* W = 0 */
    if (!pk->av1_have) {
        r = av1__obu_at(f, pk->len, pk->off, &o);
        if (r < 0) return r;
        if (r == 0) pk->done = *last = true;
    }
    (void)cap;
    return (int)off;
}
