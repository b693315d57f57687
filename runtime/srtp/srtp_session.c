#include "srtp_session.h"
#include "core/rtc_demux.h"
#include "core/rtc_errors.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <srtp2/srtp.h>

_Static_assert(RTC_SRTP_TRAILER_MAX >= SRTP_MAX_TRAILER_LEN + 4, "SRTP trailer room");

/* Large enough for video with NACK/RTX reordering; libsrtp's default is 128. */
#define SRTP_REPLAY_WINDOW 1024

struct rtc_srtp_session {
    srtp_t tx, rx;
    rtc_srtp_profile profile;
    rtc_srtp_stats stats;
};

static pthread_once_t srtp_once = PTHREAD_ONCE_INIT;
static int srtp_init_rc = -1;

static void srtp_init_once(void)
{
    srtp_init_rc = srtp_init() == srtp_err_status_ok ? 0 : RTC_ESRTP;
}

int rtc_srtp_global_init(void)
{
    pthread_once(&srtp_once, srtp_init_once);
    return srtp_init_rc;
}

static int set_crypto(srtp_policy_t *p, rtc_srtp_profile profile)
{
    switch (profile) {
    case RTC_SRTP_AES128_CM_SHA1_80:
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
        return 0;
    case RTC_SRTP_AES128_CM_SHA1_32:
        /* RFC 5764 4.1.2: the short tag is for RTP only; SRTCP keeps 80 bits. */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
        return 0;
    case RTC_SRTP_AEAD_AES_128_GCM:
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
        return 0;
    case RTC_SRTP_AEAD_AES_256_GCM:
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
        return 0;
    default:
        return RTC_EINVAL;
    }
}

static int make_ctx(srtp_t *ctx, rtc_srtp_profile profile, const uint8_t *key_salt, bool outbound)
{
    srtp_policy_t p;
    memset(&p, 0, sizeof p);
    if (set_crypto(&p, profile) < 0) return RTC_EINVAL;
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.key = (unsigned char *)key_salt;   /* libsrtp copies it into the session */
    p.window_size = SRTP_REPLAY_WINDOW;
    /* Resending an already protected sequence number (NACK answered from history
     * without RTX) must not be refused by our own sender. libsrtp then protects the
     * same index again: safe only because the caller resends the same plaintext
     * (rtp_sender.h), which gives the same ciphertext. A different plaintext under
     * one index reuses the AES-GCM nonce (or the AES-CM key stream). */
    p.allow_repeat_tx = 1;
    p.next = NULL;
    return srtp_create(ctx, &p) == srtp_err_status_ok ? 0 : RTC_ESRTP;
}

int rtc_srtp_session_new_raw(rtc_srtp_session **out, rtc_srtp_profile profile,
                             const uint8_t *tx_key_salt, const uint8_t *rx_key_salt)
{
    size_t kl, sl;
    if (!out || !tx_key_salt || !rx_key_salt || !rtc_srtp_profile_lengths(profile, &kl, &sl)) return RTC_EINVAL;
    int rc = rtc_srtp_global_init();
    if (rc < 0) return rc;
    rtc_srtp_session *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->profile = profile;
    if ((rc = make_ctx(&s->tx, profile, tx_key_salt, true)) < 0
        || (rc = make_ctx(&s->rx, profile, rx_key_salt, false)) < 0) {
        rtc_srtp_session_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int rtc_srtp_session_new(rtc_srtp_session **out, const rtc_srtp_keying *k, bool is_client)
{
    size_t kl, sl;
    if (!out || !k || !rtc_srtp_profile_lengths(k->profile, &kl, &sl) || k->key_len != kl || k->salt_len != sl)
        return RTC_EINVAL;
    uint8_t ck[RTC_SRTP_MAX_KEY + RTC_SRTP_MAX_SALT], sk[RTC_SRTP_MAX_KEY + RTC_SRTP_MAX_SALT];
    memcpy(ck, k->client_key, kl);
    memcpy(ck + kl, k->client_salt, sl);
    memcpy(sk, k->server_key, kl);
    memcpy(sk + kl, k->server_salt, sl);
    int rc = is_client ? rtc_srtp_session_new_raw(out, k->profile, ck, sk)
                       : rtc_srtp_session_new_raw(out, k->profile, sk, ck);
    memset(ck, 0, sizeof ck);
    memset(sk, 0, sizeof sk);
    return rc;
}

void rtc_srtp_session_free(rtc_srtp_session *s)
{
    if (!s) return;
    if (s->tx) srtp_dealloc(s->tx);
    if (s->rx) srtp_dealloc(s->rx);
    free(s);
}

static int protect(rtc_srtp_session *s, rtc_buf *b, bool rtcp)
{
    if (!s || !b) return RTC_EINVAL;
    if (b->len < (rtcp ? 8u : 12u)) { s->stats.other_drops++; return RTC_EPROTO; }
    if (b->cap < b->len + RTC_SRTP_TRAILER_MAX || b->len > INT32_MAX - RTC_SRTP_TRAILER_MAX) {
        s->stats.other_drops++;
        return RTC_EOVERFLOW;
    }
    int len = (int)b->len;
    srtp_err_status_t st = rtcp ? srtp_protect_rtcp(s->tx, b->data, &len) : srtp_protect(s->tx, b->data, &len);
    if (st != srtp_err_status_ok) { s->stats.other_drops++; return RTC_ESRTP; }
    b->len = (size_t)len;
    if (rtcp) s->stats.rtcp_protected++;
    else s->stats.rtp_protected++;
    return 0;
}

static int unprotect(rtc_srtp_session *s, rtc_buf *b, bool rtcp)
{
    if (!s || !b) return RTC_EINVAL;
    if (b->len < (rtcp ? 8u : 12u) || b->len > INT32_MAX) { s->stats.other_drops++; return RTC_EPROTO; }
    int len = (int)b->len;
    srtp_err_status_t st = rtcp ? srtp_unprotect_rtcp(s->rx, b->data, &len) : srtp_unprotect(s->rx, b->data, &len);
    switch (st) {
    case srtp_err_status_ok:
        if (len < 0 || (size_t)len > b->len) { s->stats.other_drops++; return RTC_ESRTP; }
        b->len = (size_t)len;
        if (rtcp) s->stats.rtcp_unprotected++;
        else s->stats.rtp_unprotected++;
        return 0;
    case srtp_err_status_auth_fail:
        s->stats.auth_failures++;
        return RTC_EAUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        s->stats.replays++;
        return RTC_EIGNORED;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        s->stats.other_drops++;
        return RTC_EPROTO;
    default:
        s->stats.other_drops++;
        return RTC_ESRTP;
    }
}

int rtc_srtp_session_protect_rtp(rtc_srtp_session *s, rtc_buf *b) { return protect(s, b, false); }
int rtc_srtp_session_protect_rtcp(rtc_srtp_session *s, rtc_buf *b) { return protect(s, b, true); }
int rtc_srtp_session_unprotect_rtp(rtc_srtp_session *s, rtc_buf *b) { return unprotect(s, b, false); }
int rtc_srtp_session_unprotect_rtcp(rtc_srtp_session *s, rtc_buf *b) { return unprotect(s, b, true); }

int rtc_srtp_session_unprotect(rtc_srtp_session *s, rtc_buf *b)
{
    if (!s || !b) return RTC_EINVAL;
    rtc_pkt_kind k = rtc_demux(b->data, b->len);
    int rc;
    if (k == RTC_PKT_RTP) rc = unprotect(s, b, false);
    else if (k == RTC_PKT_RTCP) rc = unprotect(s, b, true);
    else { s->stats.other_drops++; return RTC_EPROTO; }
    return rc < 0 ? rc : (int)k;
}

rtc_srtp_profile rtc_srtp_session_profile(const rtc_srtp_session *s) { return s->profile; }
void rtc_srtp_session_get_stats(const rtc_srtp_session *s, rtc_srtp_stats *out) { *out = s->stats; }
