/* libFuzzer target: ULPFEC parsing, and the receive window fed a mix of media and FEC
 * packets from the input (first byte of each chunk picks which): whatever it rebuilds
 * must be a valid RTP packet of the window's SSRC. */
#include "core/rtc_errors.h"
#include "rtp/fec_recovery.h"
#include "rtp/fec_ulp.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_ulpfec_view v;
    if (rtc_ulpfec_parse(data, size, &v) == 0 && (v.parity < data || v.parity + v.prot_len > data + size)) abort();
    rtc_fec_recovery *r;
    if (rtc_fec_recovery_new(&r, 0x1234, NULL) < 0) return 0;
    size_t off = 0;
    while (off + 2 <= size) {
        size_t len = data[off] & 0x7F;                  /* chunk: kind + length byte, then bytes */
        bool media = data[off] & 0x80;
        off++;
        if (len > size - off) len = size - off;
        if (media && len >= RTC_RTP_HEADER_MIN) {
            rtc_buf *b = rtc_buf_from(data + off, len);
            if (b) { b->data[0] = (uint8_t)(0x80 | (b->data[0] & 0x0F)); rtc_fec_recovery_add_media(r, b); rtc_buf_unref(b); }
        } else if (!media) {
            rtc_fec_recovery_add_ulpfec(r, data + off, len);
        }
        off += len;
        rtc_buf *o;
        while (rtc_fec_recovery_poll(r, &o)) {
            rtc_rtp_packet p;
            if (rtc_rtp_parse(&p, o->data, o->len) < 0 || p.h.ssrc != 0x1234) abort();
            rtc_buf_unref(o);
        }
    }
    rtc_fec_recovery_free(r);
    return 0;
}
