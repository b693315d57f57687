/* Arbitrary datagrams through RFC 7983 demux and SRTP/SRTCP unprotect with a fixed key,
 * for each profile; then the same bytes as plaintext through protect and back, which
 * must round-trip exactly whenever protect accepts them. */
#include "core/rtc_buf.h"
#include "core/rtc_demux.h"
#include "srtp/srtp_session.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const rtc_srtp_profile profiles[4] = { RTC_SRTP_AES128_CM_SHA1_80, RTC_SRTP_AES128_CM_SHA1_32,
                                              RTC_SRTP_AEAD_AES_128_GCM, RTC_SRTP_AEAD_AES_256_GCM };
static rtc_srtp_session *rx[4];
static uint8_t key_a[64], key_b[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!rx[0]) {
        for (int i = 0; i < 64; i++) { key_a[i] = (uint8_t)(i * 3 + 1); key_b[i] = (uint8_t)(i * 5 + 2); }
        for (int i = 0; i < 4; i++)
            if (rtc_srtp_session_new_raw(&rx[i], profiles[i], key_a, key_b) < 0) abort();
    }
    if (size < 1 || size > RTC_POOL_BUFSIZE - RTC_SRTP_TRAILER_MAX) return 0;
    int which = data[0] & 3;
    data++; size--;

    rtc_buf *b = rtc_buf_alloc(NULL, RTC_POOL_BUFSIZE);
    memcpy(b->data, data, size);
    b->len = size;
    int rc = rtc_srtp_session_unprotect(rx[which], b);
    if (rc >= 0 && rc != RTC_PKT_RTP && rc != RTC_PKT_RTCP) abort();
    if (b->len > size) abort();

    /* Round trip through a fresh pair (no replay state carried between inputs). */
    rtc_srtp_session *tx = NULL, *back = NULL;
    if (rtc_srtp_session_new_raw(&tx, profiles[which], key_a, key_b) < 0
        || rtc_srtp_session_new_raw(&back, profiles[which], key_b, key_a) < 0)
        abort();
    rtc_pkt_kind kind = rtc_demux(data, size);
    if (kind == RTC_PKT_RTP || kind == RTC_PKT_RTCP) {
        memcpy(b->data, data, size);
        b->len = size;
        rc = kind == RTC_PKT_RTP ? rtc_srtp_session_protect_rtp(tx, b) : rtc_srtp_session_protect_rtcp(tx, b);
        if (rc == 0) {
            if (b->len < size) abort();
            rc = kind == RTC_PKT_RTP ? rtc_srtp_session_unprotect_rtp(back, b) : rtc_srtp_session_unprotect_rtcp(back, b);
            if (rc != 0 || b->len != size || memcmp(b->data, data, size) != 0) abort();
        }
    }
    rtc_srtp_session_free(tx);
    rtc_srtp_session_free(back);
    rtc_buf_unref(b);
    return 0;
}
