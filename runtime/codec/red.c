/* RFC 2198 redundant payload parse and write. */
#include "codec/red.h"
#include "core/rtc_errors.h"
#include <string.h>

int rtc_red_parse(const uint8_t *p, size_t len, rtc_red_block *blocks, size_t max, size_t *n)
{
    size_t off = 0, k = 0, body = 0;
    if (!len || !max) return RTC_EPROTO;
    for (;;) {                                          /* headers: 4 bytes each, 1 for the last */
        if (off >= len) return RTC_ETRUNC;
        if (k == max) return RTC_EPROTO;
        bool more = p[off] & 0x80;
        blocks[k].pt = p[off] & 0x7F;
        if (!more) { blocks[k].ts_offset = 0; off += 1; k++; break; }
        if (len - off < 4) return RTC_ETRUNC;
        blocks[k].ts_offset = (uint16_t)(p[off + 1] << 6 | p[off + 2] >> 2);
        blocks[k].len = (size_t)(p[off + 2] & 3) << 8 | p[off + 3];
        body += blocks[k].len;
        off += 4;
        k++;
    }
    if (body > len - off) return RTC_ETRUNC;
    for (size_t i = 0; i + 1 < k; i++) {
        blocks[i].data = p + off;
        off += blocks[i].len;
    }
    blocks[k - 1].data = p + off;
    blocks[k - 1].len = len - off;
    *n = k;
    return 0;
}

int rtc_red_write(uint8_t *out, size_t cap, const rtc_red_block *redundant, size_t nred,
                  uint8_t pt, const uint8_t *primary, size_t plen)
{
    size_t need = 4 * nred + 1 + plen;
    for (size_t i = 0; i < nred; i++) {
        if (redundant[i].ts_offset >= 1u << 14 || redundant[i].len >= 1u << 10 || redundant[i].pt > 127) return RTC_EINVAL;
        need += redundant[i].len;
    }
    if (pt > 127) return RTC_EINVAL;
    if (cap < need) return RTC_EOVERFLOW;
    size_t off = 0;
    for (size_t i = 0; i < nred; i++) {
        const rtc_red_block *b = &redundant[i];
        out[off++] = (uint8_t)(0x80 | b->pt);
        out[off++] = (uint8_t)(b->ts_offset >> 6);
        out[off++] = (uint8_t)((b->ts_offset & 0x3F) << 2 | (b->len >> 8));
        out[off++] = (uint8_t)b->len;
    }
    out[off++] = pt;
    for (size_t i = 0; i < nred; i++) {
        if (redundant[i].len) memcpy(out + off, redundant[i].data, redundant[i].len);
        off += redundant[i].len;
    }
    if (plen) memcpy(out + off, primary, plen);
    return (int)(off + plen);
}

int rtc_red_fmtp_pt(const char *fmtp)
{
    if (!fmtp) return -1;
    int pt = -1;
    const char *s = fmtp;
    for (;;) {
        int v = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) { v = v * 10 + (*s++ - '0'); digits++; }
        if (!digits || v > 127 || (pt >= 0 && v != pt)) return -1;
        pt = v;
        if (*s == 0) return pt;
        if (*s++ != '/') return -1;
    }
}
