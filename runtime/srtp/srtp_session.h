/* SRTP/SRTCP protection for one DTLS-SRTP transport (RFC 3711, RFC 5764, RFC 7714),
 * on libsrtp2. One outbound and one inbound context; both use "any SSRC" policies, so
 * new SSRCs (simulcast layers, RTX, new tracks) need no setup, and libsrtp tracks the
 * rollover counter and replay window of each SSRC.
 *
 * Not a state machine with timers: every call is synchronous and reads no clock.
 * Packets are transformed in place in an rtc_buf. Not thread-safe. */
#ifndef RTC_SRTP_SESSION_H
#define RTC_SRTP_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_buf.h"
#include "srtp/srtp_profile.h"

typedef struct rtc_srtp_session rtc_srtp_session;

/* Room protect needs after the payload: libsrtp may write up to SRTP_MAX_TRAILER_LEN
 * (tag + MKI), plus the 4-byte SRTCP index for RTCP. */
#define RTC_SRTP_TRAILER_MAX (16 + 128 + 4)

typedef struct rtc_srtp_stats {
    uint64_t rtp_protected, rtcp_protected;
    uint64_t rtp_unprotected, rtcp_unprotected;
    uint64_t auth_failures;     /* tag did not verify: tampered, wrong key, garbage */
    uint64_t replays;           /* already seen, or too old for the replay window */
    uint64_t other_drops;       /* malformed, not RTP/RTCP, no tailroom, other libsrtp errors */
} rtc_srtp_stats;

/* One-time libsrtp2 init (thread-safe, idempotent); called by the constructors too. */
int rtc_srtp_global_init(void);

/* A session from DTLS-exported keys. `keying` is copied. As the DTLS client we send
 * with the client write key and receive with the server's; as server the reverse.
 * Returns 0, RTC_EINVAL (unknown profile, inconsistent lengths) or RTC_ESRTP. */
int rtc_srtp_session_new(rtc_srtp_session **out, const rtc_srtp_keying *keying, bool is_client);

/* A session from raw master key||salt for each direction (tests, fuzzing, SDES-less
 * tools). Both copied; each must be key_len + salt_len bytes for the profile. */
int rtc_srtp_session_new_raw(rtc_srtp_session **out, rtc_srtp_profile profile,
                             const uint8_t *tx_key_salt, const uint8_t *rx_key_salt);

void rtc_srtp_session_free(rtc_srtp_session *s);     /* NULL-safe */

/* Protect in place: b->len grows by the tag (and SRTCP index). `b` is borrowed for
 * the call. RTC_EOVERFLOW when b->cap < b->len + RTC_SRTP_TRAILER_MAX, RTC_EPROTO when
 * too short to be RTP/RTCP, RTC_ESRTP for other libsrtp errors. */
int rtc_srtp_session_protect_rtp(rtc_srtp_session *s, rtc_buf *b);
int rtc_srtp_session_protect_rtcp(rtc_srtp_session *s, rtc_buf *b);

/* Unprotect in place: b->len shrinks to the plain packet. Every failure is counted.
 * RTC_EAUTH (authentication failed), RTC_EIGNORED (replay), RTC_EPROTO (malformed),
 * RTC_ESRTP (other). */
int rtc_srtp_session_unprotect_rtp(rtc_srtp_session *s, rtc_buf *b);
int rtc_srtp_session_unprotect_rtcp(rtc_srtp_session *s, rtc_buf *b);

/* Demux-aware entry for a received datagram: classify it (core/rtc_demux.h, RFC 5761)
 * and unprotect it as RTP or RTCP. Returns RTC_PKT_RTP or RTC_PKT_RTCP on success,
 * a negative RTC_E* as above otherwise (RTC_EPROTO when it is neither). */
int rtc_srtp_session_unprotect(rtc_srtp_session *s, rtc_buf *b);

rtc_srtp_profile rtc_srtp_session_profile(const rtc_srtp_session *s);
void rtc_srtp_session_get_stats(const rtc_srtp_session *s, rtc_srtp_stats *out);

#endif
