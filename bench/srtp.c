/* SRTP protect+unprotect throughput through srtp_session and through bare libsrtp2
 * calls with the same policy, for 100- and 1200-byte packets; and in-process DTLS
 * handshakes per second (ECDSA P-256, both sides in this process, so each handshake
 * costs both ends' crypto). Prints a table. */
#include "core/rtc_buf.h"
#include "core/rtc_bytes.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "dtls/dtls_transport.h"
#include "srtp/srtp_session.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <srtp2/srtp.h>

static uint8_t key_a[64], key_b[64];

static void fill_rtp(uint8_t *p, uint16_t seq, size_t len)
{
    p[0] = 0x80; p[1] = 96;
    rtc_wr16(p + 2, seq);
    rtc_wr32(p + 4, (uint32_t)seq * 3000u);
    rtc_wr32(p + 8, 0x12345678);
    memset(p + 12, 0xab, len - 12);
}

static double ours(rtc_srtp_profile prof, size_t len, int n)
{
    rtc_srtp_session *tx, *rx;
    if (rtc_srtp_session_new_raw(&tx, prof, key_a, key_b) < 0 || rtc_srtp_session_new_raw(&rx, prof, key_b, key_a) < 0) exit(1);
    rtc_pool *pool = rtc_pool_new(4);
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < n; i++) {
        rtc_buf *b = rtc_buf_alloc(pool, len + RTC_SRTP_TRAILER_MAX);
        fill_rtp(b->data, (uint16_t)i, len);
        b->len = len;
        if (rtc_srtp_session_protect_rtp(tx, b) < 0 || rtc_srtp_session_unprotect(rx, b) != 5 /* RTC_PKT_RTP */) exit(2);
        rtc_buf_unref(b);
    }
    double s = (double)(rtc_clock_now() - t0) / 1e6;
    rtc_srtp_session_free(tx);
    rtc_srtp_session_free(rx);
    rtc_pool_free(pool);
    return n / s;
}

static void bare_policy(srtp_policy_t *p, rtc_srtp_profile prof, const uint8_t *key, int outbound)
{
    memset(p, 0, sizeof *p);
    if (prof == RTC_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    }
    p->ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p->key = (unsigned char *)key;
    p->window_size = 1024;
    p->allow_repeat_tx = 1;
}

static double bare(rtc_srtp_profile prof, size_t len, int n)
{
    srtp_policy_t pt, pr;
    srtp_t tx, rx;
    bare_policy(&pt, prof, key_a, 1);
    bare_policy(&pr, prof, key_a, 0);      /* the receiver uses the sender's key */
    if (srtp_create(&tx, &pt) || srtp_create(&rx, &pr)) exit(3);
    static uint8_t buf[2048];
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < n; i++) {
        fill_rtp(buf, (uint16_t)i, len);
        int l = (int)len;
        if (srtp_protect(tx, buf, &l) || srtp_unprotect(rx, buf, &l)) exit(4);
    }
    double s = (double)(rtc_clock_now() - t0) / 1e6;
    srtp_dealloc(tx);
    srtp_dealloc(rx);
    return n / s;
}

static void pump(rtc_dtls_transport *from, rtc_dtls_transport *to, rtc_time now)
{
    rtc_buf *b;
    while (rtc_dtls_transport_poll_transmit(from, &b)) {
        rtc_dtls_transport_handle_datagram(to, b->data, b->len, now);
        rtc_buf_unref(b);
    }
}

static double handshakes(int n)
{
    rtc_rng rng;
    rtc_rng_init_crypto(&rng);
    rtc_dtls_cert *ca, *cb;
    if (rtc_dtls_cert_generate(&ca, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0
        || rtc_dtls_cert_generate(&cb, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0) exit(5);
    rtc_pool *pool = rtc_pool_new(64);
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < n; i++) {
        rtc_dtls_config c1 = { .role = RTC_DTLS_CLIENT, .cert = ca, .pool = pool };
        rtc_dtls_config c2 = { .role = RTC_DTLS_SERVER, .cert = cb, .pool = pool };
        rtc_dtls_transport *a, *b;
        if (rtc_dtls_transport_new(&a, &c1, 0) || rtc_dtls_transport_new(&b, &c2, 0)) exit(6);
        rtc_dtls_transport_set_remote_fingerprint(a, "sha-256", rtc_dtls_cert_fingerprint(cb), 0);
        rtc_dtls_transport_set_remote_fingerprint(b, "sha-256", rtc_dtls_cert_fingerprint(ca), 0);
        rtc_dtls_transport_start(a, 0);
        for (int r = 0; r < 10 && rtc_dtls_transport_state(a) != RTC_DTLS_CONNECTED; r++) {
            pump(a, b, 0);
            pump(b, a, 0);
        }
        if (rtc_dtls_transport_state(a) != RTC_DTLS_CONNECTED || rtc_dtls_transport_state(b) != RTC_DTLS_CONNECTED) exit(7);
        rtc_dtls_event ev;
        while (rtc_dtls_transport_poll_event(a, &ev)) {}
        while (rtc_dtls_transport_poll_event(b, &ev)) {}
        rtc_dtls_transport_free(a);
        rtc_dtls_transport_free(b);
    }
    double s = (double)(rtc_clock_now() - t0) / 1e6;
    rtc_dtls_cert_unref(ca);
    rtc_dtls_cert_unref(cb);
    rtc_pool_free(pool);
    return n / s;
}

/* One connected pair; a sends n records of `len` bytes to b, b reads them all. */
static double app_data_mb_per_s(size_t len, int n)
{
    rtc_rng rng;
    rtc_rng_init_crypto(&rng);
    rtc_dtls_cert *ca, *cb;
    if (rtc_dtls_cert_generate(&ca, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0
        || rtc_dtls_cert_generate(&cb, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0) exit(8);
    rtc_pool *pool = rtc_pool_new(64);
    rtc_dtls_config c1 = { .role = RTC_DTLS_CLIENT, .cert = ca, .pool = pool };
    rtc_dtls_config c2 = { .role = RTC_DTLS_SERVER, .cert = cb, .pool = pool };
    rtc_dtls_transport *a, *b;
    if (rtc_dtls_transport_new(&a, &c1, 0) || rtc_dtls_transport_new(&b, &c2, 0)) exit(9);
    rtc_dtls_transport_set_remote_fingerprint(a, "sha-256", rtc_dtls_cert_fingerprint(cb), 0);
    rtc_dtls_transport_set_remote_fingerprint(b, "sha-256", rtc_dtls_cert_fingerprint(ca), 0);
    rtc_dtls_transport_start(a, 0);
    for (int r = 0; r < 10; r++) { pump(a, b, 0); pump(b, a, 0); }
    rtc_dtls_event ev;
    while (rtc_dtls_transport_poll_event(a, &ev)) {}
    while (rtc_dtls_transport_poll_event(b, &ev)) {}
    static uint8_t msg[16384];
    memset(msg, 0x5a, sizeof msg);
    size_t got = 0;
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < n; i++) {
        if (rtc_dtls_transport_send(a, msg, len, 0) < 0) exit(10);
        pump(a, b, 0);
        while (rtc_dtls_transport_poll_event(b, &ev))
            if (ev.type == RTC_DTLS_EV_DATA) { got += ev.data->len; rtc_buf_unref(ev.data); }
    }
    double s = (double)(rtc_clock_now() - t0) / 1e6;
    if (got != len * (size_t)n) exit(11);
    rtc_dtls_transport_free(a);
    rtc_dtls_transport_free(b);
    rtc_dtls_cert_unref(ca);
    rtc_dtls_cert_unref(cb);
    rtc_pool_free(pool);
    return (double)got / s / 1e6;
}

int main(int argc, char **argv)
{
    int scale = argc > 1 ? atoi(argv[1]) : 1;
    if (scale < 1) scale = 1;
    for (int i = 0; i < 64; i++) { key_a[i] = (uint8_t)(i + 1); key_b[i] = (uint8_t)(200 - i); }
    rtc_srtp_global_init();
    const struct { rtc_srtp_profile p; const char *name; } profs[] = {
        { RTC_SRTP_AEAD_AES_128_GCM, "AEAD_AES_128_GCM" }, { RTC_SRTP_AES128_CM_SHA1_80, "AES128_CM_SHA1_80" } };
    const size_t sizes[] = { 100, 1200 };
    printf("%-20s %6s %16s %16s %8s\n", "profile", "bytes", "srtp_session p/s", "bare libsrtp p/s", "ratio");
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            int n = (sizes[j] == 100 ? 400000 : 150000) * scale;
            double b = bare(profs[i].p, sizes[j], n);
            double o = ours(profs[i].p, sizes[j], n);
            printf("%-20s %6zu %16.0f %16.0f %8.2f\n", profs[i].name, sizes[j], o, b, o / b);
        }
    printf("(each packet is protected and then unprotected; Mbit/s = p/s * bytes * 8 / 1e6)\n\n");
    printf("DTLS 1.2 handshakes/s (ECDSA P-256, both ends in this process): %.0f\n", handshakes(200 * scale));
    printf("DTLS application data, 1200-byte records, encrypt+decrypt in one process: %.0f MB/s\n",
           app_data_mb_per_s(1200, 200000 * scale));
    return 0;
}
