/* Arbitrary datagrams into a fresh DTLS transport. The first byte picks the role and
 * whether the client starts; the rest is split into datagrams by 2-byte big-endian
 * length prefixes. Everything the transport emits is drained, and its timer is fired
 * after each datagram, as a driver would. */
#include "core/rtc_rng.h"
#include "dtls/dtls_cert.h"
#include "dtls/dtls_transport.h"
#include <stdint.h>
#include <stdlib.h>

static rtc_dtls_cert *cert;

static void drain(rtc_dtls_transport *t)
{
    rtc_buf *b;
    while (rtc_dtls_transport_poll_transmit(t, &b)) rtc_buf_unref(b);
    rtc_dtls_event ev;
    while (rtc_dtls_transport_poll_event(t, &ev))
        if (ev.type == RTC_DTLS_EV_DATA) rtc_buf_unref(ev.data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!cert) {
        rtc_rng rng;
        rtc_rng_init_seed(&rng, 1);
        if (rtc_dtls_cert_generate(&cert, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0) abort();
    }
    if (size < 1) return 0;
    rtc_dtls_config cfg = { .role = (data[0] & 1) ? RTC_DTLS_SERVER : RTC_DTLS_CLIENT, .cert = cert };
    rtc_dtls_transport *t = NULL;
    if (rtc_dtls_transport_new(&t, &cfg, 0) < 0) abort();
    if (data[0] & 2)
        rtc_dtls_transport_set_remote_fingerprint(t, "sha-256", rtc_dtls_cert_fingerprint(cert), 0);
    rtc_time now = 0;
    if (data[0] & 4) rtc_dtls_transport_start(t, now);
    drain(t);
    size_t off = 1;
    while (off + 2 <= size) {
        size_t n = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (n > size - off) n = size - off;
        rtc_dtls_transport_handle_datagram(t, data + off, n, now);
        drain(t);
        off += n;
        now += 100000;
        rtc_dtls_transport_handle_timeout(t, now);
        drain(t);
    }
    rtc_dtls_transport_free(t);
    return 0;
}
