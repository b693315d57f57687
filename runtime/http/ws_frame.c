#include "ws_frame.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include <string.h>

size_t rtc_ws_frame_header(uint8_t out[RTC_WS_MAX_HEADER], int opcode, bool fin, uint64_t len,
                           const uint8_t *mask)
{
    size_t n = 2;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
    uint8_t m = mask ? 0x80 : 0;
    if (len < 126) {
        out[1] = (uint8_t)(m | len);
    } else if (len <= 0xffff) {
        out[1] = m | 126;
        rtc_wr16(out + 2, (uint16_t)len);
        n = 4;
    } else {
        out[1] = m | 127;
        rtc_wr64(out + 2, len);
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return n;
}

void rtc_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset)
{
    size_t i = 0;
    unsigned k = (unsigned)(offset & 3);
    /* Align to the key, then XOR a word at a time: masking sits on every client byte. */
    while (i < len && k != 0) { data[i++] ^= mask[k]; k = (k + 1) & 3; }
    uint32_t w;
    memcpy(&w, mask, 4);
    for (; i + 4 <= len; i += 4) {
        uint32_t v;
        memcpy(&v, data + i, 4);
        v ^= w;
        memcpy(data + i, &v, 4);
    }
    for (k = 0; i < len; i++, k++) data[i] ^= mask[k];
}

bool rtc_ws_close_code_valid(int code)
{
    if (code >= 1000 && code <= 1003) return true;
    if (code >= 1007 && code <= 1014) return true;
    return code >= 3000 && code <= 4999;
}

int rtc_utf8_feed(rtc_utf8 *u, const uint8_t *d, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = d[i];
        if (u->need) {
            if (c < u->lo || c > u->hi) return RTC_EPROTO;
            u->need--;
            u->lo = 0x80;
            u->hi = 0xbf;
            i++;
            continue;
        }
        if (c < 0x80) {
            /* ASCII run, eight at a time when aligned data allows */
            i++;
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, d + i, 8);
                if (w & 0x8080808080808080ull) break;
                i += 8;
            }
            continue;
        }
        u->lo = 0x80;
        u->hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) u->need = 1;
        else if (c == 0xe0) { u->need = 2; u->lo = 0xa0; }           /* overlong */
        else if (c == 0xed) { u->need = 2; u->hi = 0x9f; }           /* surrogates */
        else if (c >= 0xe1 && c <= 0xef) u->need = 2;
        else if (c == 0xf0) { u->need = 3; u->lo = 0x90; }           /* overlong */
        else if (c >= 0xf1 && c <= 0xf3) u->need = 3;
        else if (c == 0xf4) { u->need = 3; u->hi = 0x8f; }           /* > U+10FFFF */
        else return RTC_EPROTO;                                      /* 80..C1, F5..FF */
        i++;
    }
    return 0;
}

bool rtc_utf8_valid(const uint8_t *d, size_t n)
{
    rtc_utf8 u = { 0, 0, 0 };
    return rtc_utf8_feed(&u, d, n) == 0 && rtc_utf8_complete(&u);
}
