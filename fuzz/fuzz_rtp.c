/* libFuzzer target: RTP parsing, header extension readers, rewrite and RTX. */
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_rtp_packet p;
    if (rtc_rtp_parse(&p, data, size) < 0) return 0;
    if (p.header_len + p.payload_len + p.padding_len != size) abort();
    for (unsigned i = 0; i < p.h.ext_count; i++) {
        const rtc_rtp_ext *e = &p.h.ext[i];
        if (e->data < data || e->data + e->len > data + size) abort();
        rtc_str s; uint32_t a; uint16_t q; bool v; uint8_t l;
        rtc_ext_read_sdes(e, &s);
        rtc_ext_read_abs_send_time(e, &a);
        rtc_ext_read_twcc_seq(e, &q);
        rtc_ext_read_audio_level(e, &v, &l);
    }
    /* What parses must write back and parse to the same fields. */
    uint8_t *out = malloc(size + 64);
    int n = rtc_rtp_write(out, size + 64, &p.h, p.payload, p.payload_len, 0);
    if (n >= 0) {
        rtc_rtp_packet q;
        if (rtc_rtp_parse(&q, out, (size_t)n) < 0) abort();
        if (q.h.seq != p.h.seq || q.h.ts != p.h.ts || q.h.ssrc != p.h.ssrc || q.h.pt != p.h.pt ||
            q.h.marker != p.h.marker || q.payload_len != p.payload_len ||
            memcmp(q.payload, p.payload, p.payload_len) != 0)
            abort();
        for (unsigned i = 0; i < p.h.ext_count; i++) {
            const rtc_rtp_ext *e = rtc_rtp_find_ext(&q.h, p.h.ext[i].id);
            if (!e) abort();
        }
    } else if (n != RTC_EINVAL && n != RTC_EOVERFLOW) {
        abort();
    }
    uint8_t *rtx = malloc(size + 2), *back = malloc(size + 2);
    int r = rtc_rtx_wrap(data, size, 97, 1, 2, rtx, size + 2);
    if (r >= 0) {
        int b = rtc_rtx_unwrap(rtx, (size_t)r, p.h.pt, p.h.ssrc, back, size + 2);
        if (b != (int)(size - p.padding_len)) abort();
    }
    rtc_rtx_unwrap(data, size, 96, 1, back, size + 2);
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    for (unsigned i = 0; i < p.h.ext_count; i++) {
        uint8_t val[255];
        memset(val, 0xA5, sizeof val);
        const rtc_rtp_ext *f = rtc_rtp_find_ext(&p.h, p.h.ext[i].id);
        if (rtc_rtp_rewrite_ext(copy, size, f->id, val, f->len) != 0) abort();
    }
    free(copy);
    rtc_seq_unwrapper u = {0};
    for (size_t i = 0; i + 1 < size; i += 2) rtc_seq_unwrap(&u, (uint16_t)(data[i] << 8 | data[i + 1]));
    free(rtx); free(back); free(out);
    return 0;
}
