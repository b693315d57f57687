/* H264 payload format (RFC 6184), packetization-mode 1: single NAL units, STAP-A
 * aggregation of small NALs (SPS/PPS with the slice), FU-A fragmentation. */
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include <string.h>

enum { NAL_SLICE = 1, NAL_IDR = 5, NAL_SEI = 6, NAL_SPS = 7, NAL_PPS = 8, NAL_AUD = 9,
       NAL_STAP_A = 24, NAL_STAP_B = 25, NAL_MTAP16 = 26, NAL_MTAP24 = 27,
       NAL_FU_A = 28, NAL_FU_B = 29 };

static const uint8_t h264__start_code[4] = { 0, 0, 0, 1 };

/* Does a NAL of this type, whose bytes after the NAL header are `rest`, open an
 * access unit? An SPS or delimiter does; a slice does when first_mb_in_slice is 0
 * (its ue(v) code is the single bit 1). */
static bool h264__opens_au(int type, const uint8_t *rest, size_t rlen)
{
    if (type == NAL_SPS || type == NAL_AUD) return true;
    if (type == NAL_SLICE || type == NAL_IDR) return rlen > 0 && (rest[0] & 0x80);
    return false;
}

/* Only an IDR slice decodes without earlier pictures. An SPS or PPS travels with
 * one as a rule, but a STAP-A of SPS + PPS + a non-IDR slice is no keyframe. */
static bool h264__is_key(int type) { return type == NAL_IDR; }

int rtc_h264_depack_parse(const uint8_t *p, size_t len, rtc_depack_info *info)
{
    *info = (rtc_depack_info){ .picture_id = -1, .tl0picidx = -1, .temporal_id = -1, .spatial_id = -1 };
    if (len < 1) return RTC_ETRUNC;
    if (p[0] & 0x80) return RTC_EPROTO;                 /* forbidden_zero_bit */
    int type = p[0] & 0x1F;
    if (type >= 1 && type <= 23) {
        info->begin = h264__opens_au(type, p + 1, len - 1);
        info->keyframe = h264__is_key(type);
        return 0;
    }
    if (type == NAL_STAP_A) {
        size_t off = 1;
        int count = 0;
        while (off < len) {
            if (len - off < 2) return RTC_ETRUNC;
            size_t n = (size_t)p[off] << 8 | p[off + 1];
            off += 2;
            if (n == 0) return RTC_EPROTO;
            if (n > len - off) return RTC_ETRUNC;
            int t = p[off] & 0x1F;
            if (count == 0) info->begin = h264__opens_au(t, p + off + 1, n - 1);
            if (h264__is_key(t)) info->keyframe = true;
            off += n;
            count++;
        }
        return count ? 0 : RTC_ETRUNC;
    }
    if (type == NAL_FU_A) {
        if (len < 3) return RTC_ETRUNC;
        bool s = p[1] & 0x80, e = p[1] & 0x40;
        if (s && e) return RTC_EPROTO;
        int t = p[1] & 0x1F;
        if (s) {
            info->begin = h264__opens_au(t, p + 2, len - 2);
            info->keyframe = h264__is_key(t);
        }
        return 0;
    }
    if (type == NAL_STAP_B || type == NAL_MTAP16 || type == NAL_MTAP24 || type == NAL_FU_B)
        return RTC_ENOTSUP;
    return RTC_EPROTO;                                  /* 0, 30, 31: undefined */
}

static int h264__put(uint8_t *out, size_t cap, size_t *off, const void *src, size_t n)
{
    if (n > cap - *off) return RTC_EOVERFLOW;
    memcpy(out + *off, src, n);
    *off += n;
    return 0;
}

int rtc_h264_depack_assemble(const rtc_iov *parts, size_t n, uint8_t *out, size_t cap)
{
    size_t off = 0;
    bool in_fu = false;
    int r;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = parts[i].p;
        size_t len = parts[i].len;
        rtc_depack_info info;
        if ((r = rtc_h264_depack_parse(p, len, &info)) < 0) return r;
        int type = p[0] & 0x1F;
        if (type != NAL_FU_A && in_fu) return RTC_EPROTO;  /* a fragmented NAL never ended */
        if (type <= 23) {
            if ((r = h264__put(out, cap, &off, h264__start_code, 4)) < 0 ||
                (r = h264__put(out, cap, &off, p, len)) < 0) return r;
        } else if (type == NAL_STAP_A) {
            for (size_t o = 1; o < len; ) {
                size_t nl = (size_t)p[o] << 8 | p[o + 1];
                if ((r = h264__put(out, cap, &off, h264__start_code, 4)) < 0 ||
                    (r = h264__put(out, cap, &off, p + o + 2, nl)) < 0) return r;
                o += 2 + nl;
            }
        } else {                                        /* FU-A */
            bool s = p[1] & 0x80, e = p[1] & 0x40;
            if (s) {
                if (in_fu) return RTC_EPROTO;
                uint8_t hdr = (uint8_t)((p[0] & 0xE0) | (p[1] & 0x1F));
                if ((r = h264__put(out, cap, &off, h264__start_code, 4)) < 0 ||
                    (r = h264__put(out, cap, &off, &hdr, 1)) < 0) return r;
                in_fu = true;
            } else if (!in_fu) {
                return RTC_EPROTO;                      /* middle or end without a start */
            }
            if ((r = h264__put(out, cap, &off, p + 2, len - 2)) < 0) return r;
            if (e) in_fu = false;
        }
    }
    if (in_fu) return RTC_EPROTO;
    return off > INT32_MAX ? RTC_ETOOBIG : (int)off;
}

/* Offset of the next 00 00 01 at or after pos, or len. */
static size_t h264__start_code_at(const uint8_t *f, size_t len, size_t pos)
{
    /* Look for the 01 with memchr (vectorised), then check the two zeros before it. */
    for (size_t i = pos + 2; i < len; i++) {
        const uint8_t *q = memchr(f + i, 1, len - i);
        if (!q) break;
        i = (size_t)(q - f);
        if (f[i - 1] == 0 && f[i - 2] == 0) return i - 2;
    }
    return len;
}

/* The next NAL unit at or after `pos` in an Annex B frame: its offset and length
 * without start code or trailing zero bytes (which belong to a 4-byte start code).
 * A frame without any start code is one NAL (emulation prevention keeps 00 00 01
 * out of a NAL's bytes). */
static bool h264__find_nal(const uint8_t *f, size_t len, size_t pos, size_t *start, size_t *nlen)
{
    size_t sc = h264__start_code_at(f, len, pos);
    if (sc == len) {
        if (pos == 0 && len > 0) { *start = 0; *nlen = len; return true; }
        return false;
    }
    for (;;) {
        size_t s = sc + 3, next = h264__start_code_at(f, len, s), end = next;
        while (end > s && f[end - 1] == 0) end--;
        if (end > s) { *start = s; *nlen = end - s; return true; }
        if (next == len) return false;
        sc = next;                                      /* empty NAL: skip */
    }
}

int rtc_h264_packetizer_next(rtc_packetizer *pk, uint8_t *out, size_t cap, bool *last)
{
    const uint8_t *f = pk->frame;
    size_t max = pk->max_payload, s, nl;
    if (pk->fu_count) {                                 /* continue a fragmented NAL */
        size_t room = max - 2, left = pk->fu_count - pk->fu_index;
        size_t bytes = pk->nal_len - pk->fu_pos;
        size_t n = (bytes + left - 1) / left;
        if (n > room) n = room;
        uint8_t nh = f[pk->nal_off];
        out[0] = (uint8_t)((nh & 0xE0) | NAL_FU_A);
        out[1] = (uint8_t)((pk->fu_index == 0 ? 0x80 : 0) | (nh & 0x1F));
        memcpy(out + 2, f + pk->nal_off + pk->fu_pos, n);
        pk->fu_pos += n;
        pk->fu_index++;
        if (pk->fu_pos >= pk->nal_len) {
            out[1] |= 0x40;
            pk->fu_count = 0;
            if (!h264__find_nal(f, pk->len, pk->off, &s, &nl)) pk->done = *last = true;
        }
        return (int)(2 + n);
    }
    if (!h264__find_nal(f, pk->len, pk->off, &s, &nl)) { pk->done = true; return 0; }
    pk->off = s + nl;
    if (nl > max) {                                     /* FU-A: payload after the NAL header */
        pk->nal_off = s; pk->nal_len = nl; pk->fu_pos = 1; pk->fu_index = 0;
        pk->fu_count = (nl - 1 + (max - 2) - 1) / (max - 2);
        return rtc_h264_packetizer_next(pk, out, cap, last);
    }
    /* Aggregate following NALs while they fit one STAP-A. */
    size_t total = 1 + 2 + nl, count = 1, scan = pk->off, s2, n2;
    uint8_t fnri = f[s] & 0xE0;
    while (h264__find_nal(f, pk->len, scan, &s2, &n2) && total + 2 + n2 <= max) {
        total += 2 + n2;
        count++;
        scan = s2 + n2;
        if ((f[s2] & 0x60) > (fnri & 0x60)) fnri = (uint8_t)((fnri & 0x80) | (f[s2] & 0x60));
        fnri |= f[s2] & 0x80;
    }
    size_t len;
    if (count == 1) {
        memcpy(out, f + s, nl);
        len = nl;
    } else {
        out[0] = (uint8_t)(fnri | NAL_STAP_A);
        len = 1;
        size_t at = s, sz = nl;
        for (size_t i = 0; i < count; i++) {
            out[len] = (uint8_t)(sz >> 8); out[len + 1] = (uint8_t)sz;
            memcpy(out + len + 2, f + at, sz);
            len += 2 + sz;
            if (i + 1 < count) h264__find_nal(f, pk->len, at + sz, &at, &sz);
        }
        pk->off = scan;
    }
    if (!h264__find_nal(f, pk->len, pk->off, &s2, &n2)) pk->done = *last = true;
    return (int)len;
}
