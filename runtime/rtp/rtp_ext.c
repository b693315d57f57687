/* Header extension payload codecs (mid/rid, abs-send-time, transport-cc, audio level). */
#include "rtp/rtp_ext.h"
#include <math.h>
#include <string.h>
#include "core/rtc_errors.h"

int rtc_ext_read_sdes(const rtc_rtp_ext *e, rtc_str *out)
{
    if (!e || e->len == 0) return RTC_EPROTO;
    if (memchr(e->data, 0, e->len)) return RTC_EPROTO;
    *out = (rtc_str){ (const char *)e->data, e->len };
    return 0;
}

int rtc_ext_add_sdes(rtc_rtp_header *h, uint8_t id, rtc_str s)
{
    if (s.len == 0 || s.len > 255) return RTC_EINVAL;
    return rtc_rtp_add_ext(h, id, (const uint8_t *)s.p, (uint8_t)s.len);
}

uint32_t rtc_abs_send_time_from_us(rtc_time t)
{
    /* 18 fractional bits: (t << 18) / 1e6, taken modulo 2^24 (64 s). */
    uint64_t u = (uint64_t)t;
    return (uint32_t)((((u / 1000000u) << 18) + (((u % 1000000u) << 18) + 500000u) / 1000000u) & 0xFFFFFFu);
}

rtc_time rtc_abs_send_time_delta_us(uint32_t a, uint32_t b)
{
    int32_t d = (int32_t)(((a - b) & 0xFFFFFFu) << 8) >> 8;      /* sign-extend 24 bits */
    return (rtc_time)d * 1000000 / (1 << 18);
}

int rtc_ext_read_abs_send_time(const rtc_rtp_ext *e, uint32_t *out)
{
    if (!e || e->len != 3) return RTC_EPROTO;
    *out = rtc_rd24(e->data);
    return 0;
}

void rtc_ext_put_abs_send_time(uint8_t out[3], uint32_t v) { rtc_wr24(out, v & 0xFFFFFFu); }

int rtc_ext_read_twcc_seq(const rtc_rtp_ext *e, uint16_t *out)
{
    if (!e || e->len < 2) return RTC_EPROTO;
    *out = rtc_rd16(e->data);
    return 0;
}

void rtc_ext_put_twcc_seq(uint8_t out[2], uint16_t seq) { rtc_wr16(out, seq); }

int rtc_ext_read_audio_level(const rtc_rtp_ext *e, bool *voice, uint8_t *level)
{
    if (!e || e->len < 1) return RTC_EPROTO;
    *voice = e->data[0] & 0x80;
    *level = e->data[0] & 0x7F;
    return 0;
}

uint8_t rtc_audio_level_of_s16(const void *samples, size_t n)
{
    const uint8_t *b = samples;
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        int16_t v;
        memcpy(&v, b + 2 * i, 2);
        acc += (double)v * v;
    }
    if (!n || acc <= 0) return 127;
    double dbov = 10.0 * log10(acc / (double)n / (32767.0 * 32767.0));
    double level = -dbov + 0.5;
    return level <= 0 ? 0 : level >= 127 ? 127 : (uint8_t)level;
}

void rtc_ext_put_audio_level(uint8_t out[1], bool voice, uint8_t level)
{
    out[0] = (uint8_t)((voice ? 0x80 : 0) | (level > 127 ? 127 : level));
}
