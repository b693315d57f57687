/* libFuzzer target: RTCP compound parsing and every per-type reader, TWCC included;
 * a TWCC packet that parses is re-encoded from its statuses and must parse again. */
#include "cc/cc_send_history.h"
#include "rtp/rtcp.h"
#include "rtp/twcc.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_rtcp_view v[32];
    int n = rtc_rtcp_parse_compound(data, size, v, 32);
    if (n < 0) return 0;
    static rtc_cc_send_history *snd;
    if (!snd) {                                         /* a sender that has sent 5000 packets */
        if (rtc_cc_send_history_new(&snd, 4096) < 0) abort();
        for (int i = 0; i < 5000; i++) rtc_cc_send_history_add(snd, 1000, -1, i);
    }
    for (int i = 0; i < n; i++) {
        static rtc_cc_packet recs[4096];
        if (rtc_cc_send_history_handle_feedback(snd, &v[i], recs, 4096) > 4096) abort();
        if (v[i].data < data || v[i].data + v[i].len > data + size || v[i].len < 4) abort();
        rtc_rtcp_sr sr; rtc_rtcp_rr rr; rtc_rtcp_bye bye; rtc_rtcp_remb remb;
        rtc_rtcp_sdes_chunk ch[8]; rtc_rtcp_fir_entry fir[8]; uint16_t seqs[64];
        uint32_t a, b;
        rtc_rtcp_read_sr(&v[i], &sr);
        rtc_rtcp_read_rr(&v[i], &rr);
        rtc_rtcp_read_sdes(&v[i], ch, 8);
        rtc_rtcp_read_bye(&v[i], &bye);
        rtc_rtcp_read_fb(&v[i], &a, &b);
        rtc_rtcp_read_nack(&v[i], seqs, 64);
        rtc_rtcp_read_fir(&v[i], fir, 8);
        rtc_rtcp_read_remb(&v[i], &remb);
        static rtc_twcc_status st[65536];
        rtc_twcc_feedback fb;
        int k = rtc_twcc_parse(&v[i], &fb, st, 65536);
        if (k > 0) {
            static uint8_t out[1 << 20];
            size_t used;
            rtc_twcc_feedback w = fb;
            int len = rtc_twcc_write_feedback(out, sizeof out, &w, st, (size_t)k, &used);
            if (len > 0) {
                rtc_rtcp_view rv;
                if (rtc_rtcp_parse_compound(out, (size_t)len, &rv, 1) != 1) abort();
                if (rtc_twcc_parse(&rv, &fb, st, 65536) != (int)used) abort();
            }
        }
    }
    return 0;
}
