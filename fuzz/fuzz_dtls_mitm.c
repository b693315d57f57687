/* A real handshake between two transports with the fuzzer in the middle: for each
 * datagram in flight, input bytes decide whether it passes, is dropped, duplicated,
 * truncated or has a byte flipped, and whether a timer fires. This reaches the
 * handshake states that random datagrams never do. Invariants: no crash, no leak;
 * and a side that reports CONNECTED has keys equal to the other side's if both did. */
#include "core/rtc_rng.h"
#include "dtls/dtls_cert.h"
#include "dtls/dtls_transport.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static rtc_dtls_cert *ca, *cb;

typedef struct side { rtc_dtls_transport *t; int connected; rtc_srtp_keying k; } side;

typedef struct input { const uint8_t *p; size_t n; } input;
static int next_byte(input *in)
{
    if (in->n == 0) return -1;
    in->n--;
    return *in->p++;
}

static void events(side *s)
{
    rtc_dtls_event ev;
    while (rtc_dtls_transport_poll_event(s->t, &ev)) {
        if (ev.type == RTC_DTLS_EV_DATA) rtc_buf_unref(ev.data);
        if (ev.type == RTC_DTLS_EV_CONNECTED) { s->connected = 1; s->k = ev.keying; }
    }
}

/* Move what `from` sends to `to`, mutated as the input says. */
static void relay(side *from, side *to, input *in, rtc_time now)
{
    rtc_buf *b;
    uint8_t tmp[4096];
    while (rtc_dtls_transport_poll_transmit(from->t, &b)) {
        int op = next_byte(in);
        size_t len = b->len < sizeof tmp ? b->len : sizeof tmp;
        memcpy(tmp, b->data, len);
        rtc_buf_unref(b);
        if (op < 0) op = 0;
        switch (op & 7) {
        case 1: continue;                                            /* drop */
        case 2: rtc_dtls_transport_handle_datagram(to->t, tmp, len, now); break;   /* duplicate */
        case 3: { int c = next_byte(in); if (c >= 0 && len) len = (size_t)c % len; break; }  /* truncate */
        case 4: case 5: {                                            /* flip a byte */
            int hi = next_byte(in), lo = next_byte(in), x = next_byte(in);
            if (hi >= 0 && lo >= 0 && x > 0 && len) tmp[((size_t)hi << 8 | (size_t)lo) % len] ^= (uint8_t)x;
            break;
        }
        default: break;                                              /* pass */
        }
        rtc_dtls_transport_handle_datagram(to->t, tmp, len, now);
        events(to);
    }
    events(from);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ca) {
        rtc_rng rng;
        rtc_rng_init_seed(&rng, 2);
        if (rtc_dtls_cert_generate(&ca, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0
            || rtc_dtls_cert_generate(&cb, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000) < 0) abort();
    }
    input in = { data, size };
    side a = {0}, b = {0};
    rtc_dtls_config c1 = { .role = RTC_DTLS_CLIENT, .cert = ca }, c2 = { .role = RTC_DTLS_SERVER, .cert = cb };
    if (rtc_dtls_transport_new(&a.t, &c1, 0) < 0 || rtc_dtls_transport_new(&b.t, &c2, 0) < 0) abort();
    rtc_dtls_transport_set_remote_fingerprint(a.t, "sha-256", rtc_dtls_cert_fingerprint(cb), 0);
    rtc_dtls_transport_set_remote_fingerprint(b.t, "sha-256", rtc_dtls_cert_fingerprint(ca), 0);
    rtc_time now = 0;
    rtc_dtls_transport_start(a.t, now);
    for (int round = 0; round < 40 && in.n; round++) {
        relay(&a, &b, &in, now);
        relay(&b, &a, &in, now);
        if (a.connected && b.connected) {
            int op = next_byte(&in);
            if (op >= 0 && (op & 3) == 0) rtc_dtls_transport_send(a.t, "x", 1, now);
            if (op >= 0 && (op & 3) == 1) rtc_dtls_transport_close(b.t, now);
        }
        int tick = next_byte(&in);
        if (tick >= 0 && (tick & 1)) {
            rtc_time ta = rtc_dtls_transport_poll_timeout(a.t), tb = rtc_dtls_transport_poll_timeout(b.t);
            rtc_time t = ta < tb ? ta : tb;
            if (t != RTC_TIME_NEVER && t > now) now = t;
            rtc_dtls_transport_handle_timeout(a.t, now);
            rtc_dtls_transport_handle_timeout(b.t, now);
        }
    }
    events(&a);
    events(&b);
    if (a.connected && b.connected
        && (a.k.profile != b.k.profile || memcmp(a.k.client_key, b.k.client_key, sizeof a.k.client_key)
            || memcmp(a.k.server_key, b.k.server_key, sizeof a.k.server_key)
            || memcmp(a.k.client_salt, b.k.client_salt, sizeof a.k.client_salt)
            || memcmp(a.k.server_salt, b.k.server_salt, sizeof a.k.server_salt)))
        abort();
    rtc_dtls_transport_free(a.t);
    rtc_dtls_transport_free(b.t);
    return 0;
}
