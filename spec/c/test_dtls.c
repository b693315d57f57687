/* dtls/: certificates, and two DTLS transports over the virtual network on a virtual
 * clock: loss and reordering, fingerprints, timeouts, app data, close, hostile input. */
#include "test_dtls_pair.h"
#include <openssl/x509.h>

static void test_cert_generate_and_pem(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 7);
    for (int type = 0; type < 2; type++) {
        rtc_dtls_cert *c = dpair_cert(&rng, (rtc_dtls_key_type)type);
        const char *fp = rtc_dtls_cert_fingerprint(c);
        ASSERT_EQ(strlen(fp), 32 * 3 - 1);
        for (size_t i = 0; fp[i]; i++)
            ASSERT(i % 3 == 2 ? fp[i] == ':' : (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'A' && fp[i] <= 'F'));
        char buf[RTC_DTLS_FINGERPRINT_MAX];
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "sha-1", buf, sizeof buf), 20 * 3 - 1);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "SHA-224", buf, sizeof buf), 28 * 3 - 1);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "sha-384", buf, sizeof buf), 48 * 3 - 1);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "sha-512", buf, sizeof buf), 64 * 3 - 1);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "md5", buf, sizeof buf), RTC_ENOTSUP);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "sha-256", buf, 10), RTC_EOVERFLOW);
        ASSERT_EQ(rtc_dtls_cert_fingerprint_algo(c, "sha-256", buf, sizeof buf), 95);
        ASSERT_STREQ(buf, fp);

        /* Validity: 30 days back, a year ahead of the time we gave. */
        X509 *x = rtc_dtls_cert_x509(c);
        time_t t0 = 1700000000 - 31 * 86400, t1 = 1700000000 - 29 * 86400;
        ASSERT(X509_cmp_time(X509_get0_notBefore(x), &t0) > 0);
        ASSERT(X509_cmp_time(X509_get0_notBefore(x), &t1) < 0);
        time_t t2 = 1700000000 + 364 * 86400, t3 = 1700000000 + 366 * 86400;
        ASSERT(X509_cmp_time(X509_get0_notAfter(x), &t2) > 0);
        ASSERT(X509_cmp_time(X509_get0_notAfter(x), &t3) < 0);

        char *cp = NULL, *kp = NULL;
        ASSERT_EQ(rtc_dtls_cert_to_pem(c, &cp, &kp), 0);
        ASSERT(strstr(cp, "BEGIN CERTIFICATE") && strstr(kp, "PRIVATE KEY"));
        rtc_dtls_cert *d = NULL;
        ASSERT_EQ(rtc_dtls_cert_from_pem(&d, cp, strlen(cp), kp, strlen(kp)), 0);
        ASSERT_STREQ(rtc_dtls_cert_fingerprint(d), fp);
        rtc_dtls_cert_unref(d);

        /* A key that is not the certificate's, and text that is not PEM. */
        rtc_dtls_cert *other = dpair_cert(&rng, RTC_DTLS_KEY_ECDSA_P256);
        char *okp = NULL;
        ASSERT_EQ(rtc_dtls_cert_to_pem(other, NULL, &okp), 0);
        ASSERT_EQ(rtc_dtls_cert_from_pem(&d, cp, strlen(cp), okp, strlen(okp)), RTC_EINVAL);
        ASSERT_EQ(rtc_dtls_cert_from_pem(&d, "junk", 4, kp, strlen(kp)), RTC_EPROTO);
        ASSERT_EQ(rtc_dtls_cert_from_pem(&d, cp, strlen(cp) / 2, kp, strlen(kp)), RTC_EPROTO);
        free(okp);
        rtc_dtls_cert_unref(other);
        free(cp);
        free(kp);

        /* Refcount: a second holder keeps it alive. */
        rtc_dtls_cert_ref(c);
        rtc_dtls_cert_unref(c);
        ASSERT_STREQ(rtc_dtls_cert_fingerprint(c), fp);
        rtc_dtls_cert_unref(c);
    }
    rtc_dtls_cert *a = dpair_cert(&rng, RTC_DTLS_KEY_ECDSA_P256), *b = dpair_cert(&rng, RTC_DTLS_KEY_ECDSA_P256);
    ASSERT(strcmp(rtc_dtls_cert_fingerprint(a), rtc_dtls_cert_fingerprint(b)) != 0);
    ASSERT(ASN1_INTEGER_cmp(X509_get_serialNumber(rtc_dtls_cert_x509(a)), X509_get_serialNumber(rtc_dtls_cert_x509(b))) != 0);
    rtc_dtls_cert_unref(a);
    rtc_dtls_cert_unref(b);

    ASSERT(rtc_dtls_fingerprint_equal("ab:cd:EF", "AB:CD:EF"));
    ASSERT(rtc_dtls_fingerprint_equal("ABCDEF", "AB:CD:EF"));
    ASSERT(!rtc_dtls_fingerprint_equal("AB:CD", "AB:CD:EF"));
    ASSERT(!rtc_dtls_fingerprint_equal("AB:CD:EE", "AB:CD:EF"));
}

static void assert_same_keys(const dpair *p)
{
    const rtc_srtp_keying *x = &p->a.keying, *y = &p->b.keying;
    ASSERT_EQ(x->profile, y->profile);
    ASSERT_EQ(x->key_len, y->key_len);
    ASSERT_EQ(x->salt_len, y->salt_len);
    ASSERT_MEMEQ(x->client_key, y->client_key, x->key_len);
    ASSERT_MEMEQ(x->server_key, y->server_key, x->key_len);
    ASSERT_MEMEQ(x->client_salt, y->client_salt, x->salt_len);
    ASSERT_MEMEQ(x->server_salt, y->server_salt, x->salt_len);
    ASSERT(memcmp(x->client_key, x->server_key, x->key_len) != 0);
}

static void track_max_len(dpair *p, const vnet_packet *pkt)
{
    if ((int)pkt->len > p->hook_count) p->hook_count = (int)pkt->len;
}

/* Handshake flights are fragmented to the configured MTU (RSA certificates make the
 * flights large enough to need it). */
static void test_mtu(void)
{
    const uint16_t mtus[] = { 0, 600, 400 };
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 9);
    rtc_dtls_cert *rsa_a = dpair_cert(&rng, RTC_DTLS_KEY_RSA_2048), *rsa_b = dpair_cert(&rng, RTC_DTLS_KEY_RSA_2048);
    for (int i = 0; i < 3; i++) {
        dpair p;
        dpair_init(&p, 300 + (uint64_t)i, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
        dpeer *side[2] = { &p.a, &p.b };
        rtc_dtls_cert *certs[2] = { rsa_a, rsa_b };
        for (int s = 0; s < 2; s++) {
            rtc_dtls_transport_free(side[s]->t);
            rtc_dtls_cert_unref(side[s]->cert);
            side[s]->cert = rtc_dtls_cert_ref(certs[s]);
            rtc_dtls_config c = { .role = s ? RTC_DTLS_SERVER : RTC_DTLS_CLIENT, .cert = certs[s],
                                  .pool = p.pool, .mtu = mtus[i] };
            ASSERT_EQ(rtc_dtls_transport_new(&side[s]->t, &c, 0), 0);
        }
        p.on_deliver = track_max_len;
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
        int limit = mtus[i] ? mtus[i] : 1200;
        ASSERT_LE(p.hook_count, limit);
        ASSERT_GE(p.hook_count, limit / 2);   /* and flights did fill datagrams */
        dpair_free(&p);
    }
    rtc_dtls_cert_unref(rsa_a);
    rtc_dtls_cert_unref(rsa_b);
}

/* Transports of one identity share an SSL_CTX, yet keep their own SRTP preferences. */
static void test_shared_identity_own_profiles(void)
{
    const rtc_srtp_profile want[2] = { RTC_SRTP_AES128_CM_SHA1_32, RTC_SRTP_AEAD_AES_256_GCM };
    dpair p[2];
    rtc_dtls_cert *shared = NULL;
    for (int i = 0; i < 2; i++) {
        dpair_init(&p[i], 200 + (uint64_t)i, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
        if (!shared) shared = rtc_dtls_cert_ref(p[i].b.cert);
        rtc_dtls_transport_free(p[i].b.t);
        rtc_dtls_cert_unref(p[i].b.cert);
        p[i].b.cert = rtc_dtls_cert_ref(shared);
        rtc_dtls_config c = { .role = RTC_DTLS_SERVER, .cert = shared, .pool = p[i].pool,
                              .srtp_profiles = { want[i] }, .n_srtp_profiles = 1 };
        ASSERT_EQ(rtc_dtls_transport_new(&p[i].b.t, &c, 0), 0);
        dpair_exchange_fingerprints(&p[i]);
        dpair_start(&p[i]);
    }
    rtc_dtls_cert_unref(shared);          /* the transports keep it alive */
    for (int i = 0; i < 2; i++) {
        ASSERT(dpair_run(&p[i], RTC_SEC(5), dpair_both_connected));
        ASSERT_EQ(p[i].a.profile, want[i]);
        ASSERT_EQ(p[i].b.profile, want[i]);
    }
    dpair_free(&p[0]);
    dpair_free(&p[1]);
}

static void test_handshake_lossy_many_seeds(void)
{
    uint64_t retransmits = 0;
    int seeds = 0;
    for (uint64_t seed = 1; seed <= 12; seed++) {
        dpair p;
        dpair_init(&p, seed, (vnet_link){ .loss = 0.30, .delay = RTC_MS(20), .jitter = RTC_MS(40) }, NULL, NULL);
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        if (!dpair_run(&p, RTC_SEC(30), dpair_both_connected)) {
            /* 30% loss each way can, rarely, outlast the cap; that must end in a clean
             * failure, never a hang. */
            ASSERT(dpair_run(&p, RTC_SEC(40), dpair_both_ended) || p.a.connected || p.b.connected);
            fprintf(stderr, "   seed %d: no handshake under 30%% loss (a=%d b=%d)\n", (int)seed, p.a.failed, p.b.failed);
            dpair_free(&p);
            continue;
        }
        seeds++;
        ASSERT_EQ(p.a.connected, 1);
        ASSERT_EQ(p.b.connected, 1);
        ASSERT_EQ(p.a.profile, RTC_SRTP_AEAD_AES_128_GCM);
        assert_same_keys(&p);
        ASSERT_STREQ(rtc_dtls_transport_remote_fingerprint(p.a.t), rtc_dtls_cert_fingerprint(p.b.cert));
        ASSERT_STREQ(rtc_dtls_transport_remote_fingerprint(p.b.t), rtc_dtls_cert_fingerprint(p.a.cert));
        ASSERT(strstr(rtc_dtls_transport_cipher(p.a.t), "GCM") != NULL);
        rtc_srtp_keying k;
        ASSERT_EQ(rtc_dtls_transport_srtp_keying(p.a.t, &k), 0);
        ASSERT_MEMEQ(k.client_key, p.a.keying.client_key, k.key_len);
        rtc_dtls_stats sa, sb;
        rtc_dtls_transport_get_stats(p.a.t, &sa);
        rtc_dtls_transport_get_stats(p.b.t, &sb);
        retransmits += sa.retransmits + sb.retransmits;
        /* Things settle: once both are connected and the network is quiet, the timers
         * stop (a lost final flight is re-sent when the client retransmits). */
        dpair_run(&p, p.now + RTC_SEC(60), NULL);
        ASSERT_EQ(rtc_dtls_transport_state(p.a.t), RTC_DTLS_CONNECTED);
        ASSERT_EQ(rtc_dtls_transport_state(p.b.t), RTC_DTLS_CONNECTED);
        ASSERT_EQ(rtc_dtls_transport_poll_timeout(p.a.t), RTC_TIME_NEVER);
        ASSERT_EQ(rtc_dtls_transport_poll_timeout(p.b.t), RTC_TIME_NEVER);
        dpair_free(&p);
    }
    fprintf(stderr, "   %d/12 seeds connected, %llu retransmissions on the virtual clock\n", seeds,
            (unsigned long long)retransmits);
    ASSERT_EQ(seeds, 12);
    ASSERT(retransmits > 0);   /* the handshakes above needed our timer to make progress */
}

static void test_handshake_no_loss_rsa_and_profiles(void)
{
    /* The client's preference decides nothing by itself: both must agree on one. */
    rtc_dtls_config ca = { .srtp_profiles = { RTC_SRTP_AES128_CM_SHA1_32, RTC_SRTP_AES128_CM_SHA1_80 }, .n_srtp_profiles = 2 };
    rtc_dtls_config cb = { .srtp_profiles = { RTC_SRTP_AEAD_AES_256_GCM, RTC_SRTP_AES128_CM_SHA1_80 }, .n_srtp_profiles = 2 };
    dpair p;
    dpair_init(&p, 99, (vnet_link){ .delay = RTC_MS(5) }, &ca, &cb);
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
    ASSERT_EQ(p.a.profile, RTC_SRTP_AES128_CM_SHA1_80);
    ASSERT_EQ(p.b.profile, RTC_SRTP_AES128_CM_SHA1_80);
    assert_same_keys(&p);
    rtc_dtls_stats sa;
    rtc_dtls_transport_get_stats(p.a.t, &sa);
    ASSERT_EQ(sa.retransmits, 0);
    dpair_free(&p);

    /* No SRTP at all (data channels only). */
    rtc_dtls_config none = { .no_srtp = true };
    dpair_init(&p, 98, (vnet_link){ .delay = RTC_MS(5) }, &none, NULL);
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
    ASSERT_EQ(p.a.profile, RTC_SRTP_NONE);
    rtc_srtp_keying k;
    ASSERT_EQ(rtc_dtls_transport_srtp_keying(p.a.t, &k), RTC_ENOTSUP);
    dpair_free(&p);

    rtc_dtls_config bad = { .srtp_profiles = { (rtc_srtp_profile)0x99 }, .n_srtp_profiles = 1 };
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    rtc_dtls_cert *c = dpair_cert(&rng, RTC_DTLS_KEY_RSA_2048);
    bad.cert = c;
    rtc_dtls_transport *t = NULL;
    ASSERT_EQ(rtc_dtls_transport_new(&t, &bad, 0), RTC_EINVAL);
    rtc_dtls_config nocert = {0};
    ASSERT_EQ(rtc_dtls_transport_new(&t, &nocert, 0), RTC_EINVAL);
    rtc_dtls_config tiny = { .cert = c, .mtu = 100 };
    ASSERT_EQ(rtc_dtls_transport_new(&t, &tiny, 0), RTC_EINVAL);

    /* An RSA identity on one side works as well. */
    dpair_init(&p, 97, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    rtc_dtls_transport_free(p.b.t);
    rtc_dtls_cert_unref(p.b.cert);
    p.b.cert = c;
    rtc_dtls_config rsa = { .role = RTC_DTLS_SERVER, .cert = c, .pool = p.pool };
    ASSERT_EQ(rtc_dtls_transport_new(&p.b.t, &rsa, 0), 0);
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
    ASSERT(strstr(rtc_dtls_transport_cipher(p.a.t), "RSA") != NULL);
    dpair_free(&p);
}

static void test_wrong_fingerprint(void)
{
    for (int side = 0; side < 2; side++) {
        dpair p;
        dpair_init(&p, 11 + side, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
        const char *wrong = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF";
        dpeer *verifier = side == 0 ? &p.a : &p.b, *other = side == 0 ? &p.b : &p.a;
        ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(verifier->t, "sha-256", wrong, 0), 0);
        ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(other->t, "sha-256",
                  rtc_dtls_cert_fingerprint(verifier->cert), 0), 0);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(40), dpair_both_ended));
        ASSERT_EQ(verifier->connected, 0);
        ASSERT_EQ(verifier->failed, 1);
        ASSERT_EQ(verifier->fail_err, RTC_EFINGERPRINT);
        ASSERT_EQ(rtc_dtls_transport_error(verifier->t), RTC_EFINGERPRINT);
        ASSERT(strstr(rtc_dtls_transport_reason(verifier->t), "fingerprint") != NULL);
        ASSERT_EQ(other->failed, 1);            /* told by the alert */
        ASSERT_EQ(other->connected, 0);
        ASSERT_EQ(rtc_dtls_transport_send(verifier->t, "x", 1, p.now), RTC_ESTATE);
        ASSERT_EQ(p.a.data_events + p.b.data_events, 0);
        dpair_free(&p);
    }
}

/* The remote SDP (and so its fingerprint) can arrive after the handshake finished. */
static void test_fingerprint_after_handshake(void)
{
    for (int good = 0; good < 2; good++) {
        dpair p;
        dpair_init(&p, 21 + good, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
        ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p.b.t, "sha-256", rtc_dtls_cert_fingerprint(p.a.cert), 0), 0);
        dpair_start(&p);
        dpair_run(&p, RTC_SEC(2), NULL);
        ASSERT_EQ(p.b.connected, 1);
        ASSERT_EQ(p.a.connected, 0);                  /* handshake done, not verified */
        ASSERT_EQ(rtc_dtls_transport_state(p.a.t), RTC_DTLS_CONNECTING);
        ASSERT_EQ(rtc_dtls_transport_send(p.a.t, "x", 1, p.now), RTC_ESTATE);
        ASSERT_EQ(rtc_dtls_transport_send(p.b.t, "early", 5, p.now), 0);
        dpair_run(&p, p.now + RTC_SEC(1), NULL);
        ASSERT_EQ(p.a.data_events, 0);                /* held back */
        char fp[RTC_DTLS_FINGERPRINT_MAX];
        ASSERT_OK(rtc_dtls_cert_fingerprint_algo(p.b.cert, "sha-1", fp, sizeof fp));
        if (!good) fp[0] = fp[0] == 'A' ? 'B' : 'A';
        ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p.a.t, "sha-1", fp, p.now), 0);
        dpair_drain(&p);
        if (good) {
            ASSERT_EQ(p.a.connected, 1);
            ASSERT_EQ(p.a.data_events, 1);
            ASSERT_MEMEQ(p.a.data.head->data, "early", 5);
        } else {
            ASSERT_EQ(p.a.failed, 1);
            ASSERT_EQ(p.a.fail_err, RTC_EFINGERPRINT);
            ASSERT_EQ(p.a.data_events, 0);
            dpair_run(&p, p.now + RTC_SEC(1), NULL);
            ASSERT_EQ(p.b.closed, 1);                 /* the peer hears about it */
        }
        ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p.a.t, "md5", fp, p.now), RTC_ENOTSUP);
        dpair_free(&p);
    }

    /* The remote description never comes: the handshake cap still applies. */
    dpair p;
    dpair_init(&p, 23, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(p.b.t, "sha-256", rtc_dtls_cert_fingerprint(p.a.cert), 0), 0);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(60), NULL));
    ASSERT_EQ(p.a.connected, 0);
    ASSERT_EQ(p.a.failed, 1);
    ASSERT_EQ(p.a.fail_err, RTC_ETIMEDOUT);
    ASSERT(strstr(p.a.fail_reason, "remote fingerprint") != NULL);
    ASSERT_EQ(p.b.connected, 1);
    dpair_free(&p);
}

static void test_silent_peer_times_out(void)
{
    dpair p;
    dpair_init(&p, 31, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    p.b.mute = true;      /* the server hears but never answers */
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(60), NULL));
    ASSERT_EQ(p.a.failed, 1);
    ASSERT_EQ(p.a.fail_err, RTC_ETIMEDOUT);
    ASSERT(strstr(p.a.fail_reason, "timed out") != NULL);
    ASSERT_EQ(rtc_dtls_transport_state(p.a.t), RTC_DTLS_FAILED);
    ASSERT_EQ(p.now, RTC_SEC(60));
    /* ClientHello at 0, then resent at 0.5, 1.5, 3.5, 6.5, ... 27.5 s (backoff capped
     * at 3 s); the cap at 30 s ends it. */
    ASSERT_EQ(p.a.sent, 12);
    rtc_dtls_stats st;
    rtc_dtls_transport_get_stats(p.a.t, &st);
    ASSERT_EQ(st.retransmits, 11);
    ASSERT_EQ(rtc_dtls_transport_poll_timeout(p.a.t), RTC_TIME_NEVER);
    ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.a.t, (const uint8_t *)"\x16\xfe\xfd", 3, p.now), RTC_ESTATE);
    dpair_free(&p);

    /* A shorter cap, and a faster first timeout, from the config. */
    rtc_dtls_config c = { .handshake_timeout = RTC_SEC(3), .initial_rto = RTC_MS(200) };
    dpair_init(&p, 32, (vnet_link){ .delay = RTC_MS(5) }, &c, NULL);
    p.a.mute = true;
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    dpair_run(&p, RTC_SEC(10), NULL);
    ASSERT_EQ(p.a.failed, 1);
    ASSERT_EQ(p.a.fail_err, RTC_ETIMEDOUT);
    ASSERT_EQ(p.a.sent, 4);                /* 0, .2, .6, 1.4; at 3.0 the cap comes first */
    ASSERT_EQ(p.b.failed, 0);              /* a server that never heard anything waits */
    dpair_free(&p);
}

static bool a_failed(dpair *p) { return p->a.failed > 0; }
static bool b_has_data(dpair *p) { return p->b.data_events > 0; }

/* ---- the final flight ------------------------------------------------------------------ */

/* Whether a datagram holds a CCS record or a handshake record of epoch 1 (a Finished):
 * part of a final flight. OpenSSL may pack several records into one datagram. */
static bool holds_final_flight_record(const vnet_packet *pkt)
{
    for (size_t off = 0; off + 13 <= pkt->len;) {
        const uint8_t *r = pkt->data + off;
        if (r[0] == 20 || (r[0] == 22 && (r[3] || r[4]))) return true;
        off += 13 + ((size_t)r[11] << 8 | r[12]);
    }
    return false;
}

/* On a link without jitter all datagrams of one copy of a flight arrive together. */
typedef struct final_watch {
    int lose;                        /* copies of the server's final flight still to lose */
    int server_copies;               /* copies the server put on the wire */
    rtc_time last_copy_at;
    uint8_t client_finished[2048];   /* the client's first datagram with its Finished */
    size_t client_finished_len;
    uint8_t server_final[4][256];    /* the datagrams of the server's first copy */
    size_t server_final_len[4];
    int nserver_final;
    bool losing;
} final_watch;

static final_watch watch;

static bool lose_server_final(dpair *p, const vnet_packet *pkt)
{
    bool to_client = rtc_addr_eq(&pkt->to, &p->a.addr);
    if (!holds_final_flight_record(pkt) || p->a.connected) return false;
    if (!to_client) {
        if (!watch.client_finished_len && pkt->len <= sizeof watch.client_finished) {
            memcpy(watch.client_finished, pkt->data, pkt->len);
            watch.client_finished_len = pkt->len;
        }
        return false;
    }
    if (!watch.server_copies || p->now != watch.last_copy_at) {
        watch.server_copies++;
        watch.last_copy_at = p->now;
        watch.losing = watch.lose > 0;
        if (watch.losing) watch.lose--;
    }
    if (watch.server_copies == 1 && watch.nserver_final < 4 && pkt->len <= sizeof watch.server_final[0]) {
        memcpy(watch.server_final[watch.nserver_final], pkt->data, pkt->len);
        watch.server_final_len[watch.nserver_final++] = pkt->len;
    }
    return watch.losing;
}

/* The server's final flight (CCS, Finished) is lost once, then twice. The server's
 * handshake is done, so no timer of its own resends it; the client's timer resends
 * flight 5, and the server must answer that with its final flight again. On the
 * virtual clock the client's resend is its kept copy, whose Finished OpenSSL takes for
 * a replay and does not answer: the transport answers it from its own copy. */
static void test_lost_final_flight_is_resent(void)
{
    for (int times = 1; times <= 2; times++) {
        dpair p;
        dpair_init(&p, 400 + (uint64_t)times, (vnet_link){ .delay = RTC_MS(10) }, NULL, NULL);
        memset(&watch, 0, sizeof watch);
        watch.lose = times;
        p.drop = lose_server_final;
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(20), dpair_both_connected));
        ASSERT_GE(p.dropped, times);
        ASSERT_EQ(watch.server_copies, times + 1);
        rtc_dtls_stats sa;
        rtc_dtls_transport_get_stats(p.a.t, &sa);
        ASSERT_GE(sa.retransmits, (uint64_t)times);
        dpair_run(&p, p.now + RTC_SEC(5), NULL);
        ASSERT_EQ(rtc_dtls_transport_state(p.a.t), RTC_DTLS_CONNECTED);
        ASSERT_EQ(rtc_dtls_transport_state(p.b.t), RTC_DTLS_CONNECTED);
        dpair_free(&p);
    }
}

/* After its handshake the server answers a repeat of the client's Finished with its
 * final flight, byte for byte, at most 12 times, and no more once the client's
 * application data has shown that the client has it. */
static void test_final_flight_answers_repeats_until_app_data(void)
{
    dpair p;
    dpair_init(&p, 410, (vnet_link){ .delay = RTC_MS(10) }, NULL, NULL);
    memset(&watch, 0, sizeof watch);
    watch.lose = 1;
    p.drop = lose_server_final;
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(20), dpair_both_connected));
    ASSERT(watch.client_finished_len > 0);
    ASSERT(watch.nserver_final >= 1 && watch.nserver_final < 4);
    dpair_drain(&p);

    rtc_dtls_stats before, after;
    rtc_dtls_transport_get_stats(p.b.t, &before);
    int answered = 0;
    for (int i = 0; i < 20; i++) {
        ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.b.t, watch.client_finished, watch.client_finished_len, p.now), 0);
        rtc_buf *b;
        int n = 0;
        while (rtc_dtls_transport_poll_transmit(p.b.t, &b)) {
            ASSERT(n < watch.nserver_final);
            ASSERT_EQ(b->len, watch.server_final_len[n]);
            ASSERT_MEMEQ(b->data, watch.server_final[n], b->len);
            rtc_buf_unref(b);
            n++;
        }
        ASSERT(n == 0 || n == watch.nserver_final);
        if (n) answered++;
    }
    rtc_dtls_transport_get_stats(p.b.t, &after);
    /* The limit counts the resend during the handshake too (made by OpenSSL when the
     * client's resend had fresh sequence numbers, else by us and counted). */
    ASSERT(before.retransmits <= 1);
    ASSERT_EQ(answered, 12 - (int)before.retransmits);
    ASSERT_EQ(after.retransmits, 12);
    ASSERT_EQ(rtc_dtls_transport_state(p.b.t), RTC_DTLS_CONNECTED);
    dpair_free(&p);

    /* Once the client's application data arrives, a repeat gets no answer. */
    dpair_init(&p, 411, (vnet_link){ .delay = RTC_MS(10) }, NULL, NULL);
    memset(&watch, 0, sizeof watch);
    p.drop = lose_server_final;
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(20), dpair_both_connected));
    ASSERT(watch.client_finished_len > 0);
    ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.b.t, watch.client_finished, watch.client_finished_len, p.now), 0);
    size_t sent = p.b.sent;
    dpair_drain(&p);
    ASSERT_EQ(p.b.sent, sent + (size_t)watch.nserver_final);    /* still kept: answered */
    ASSERT_EQ(rtc_dtls_transport_send(p.a.t, "up", 2, p.now), 0);
    ASSERT(dpair_run(&p, p.now + RTC_SEC(1), b_has_data));
    sent = p.b.sent;
    ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.b.t, watch.client_finished, watch.client_finished_len, p.now), 0);
    dpair_drain(&p);
    ASSERT_EQ(p.b.sent, sent);
    dpair_free(&p);
}

/* A peer that never answers and a cap far away: the flight goes out 13 times (the
 * first and 12 resends, OpenSSL's own limit) and the 13th timeout ends it. */
static void test_retransmission_limit(void)
{
    rtc_dtls_config c = { .handshake_timeout = RTC_SEC(120) };
    dpair p;
    dpair_init(&p, 33, (vnet_link){ .delay = RTC_MS(5) }, &c, NULL);
    p.b.mute = true;
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(120), a_failed));
    ASSERT_EQ(p.a.fail_err, RTC_ETIMEDOUT);
    ASSERT(strstr(p.a.fail_reason, "retransmission limit") != NULL);
    ASSERT_EQ(p.a.sent, 13);
    rtc_dtls_stats st;
    rtc_dtls_transport_get_stats(p.a.t, &st);
    ASSERT_EQ(st.retransmits, 12);
    /* 0, then 0.5, 1.5, 3.5, 6.5, ... 30.5 s; the timeout after that, at 33.5 s, fails. */
    ASSERT_EQ(p.now, RTC_MS(33500));
    dpair_free(&p);
}

static bool a_and_b_got_data(dpair *p) { return p->a.data_events > 0 && p->b.data_events > 0; }
static bool b_has_5(dpair *p) { return p->b.data_events >= 5 && p->a.data_events >= 5; }

static void test_app_data_both_ways(void)
{
    dpair p;
    dpair_init(&p, 41, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
    static uint8_t msg[3000];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 7 + 3);
    const size_t sizes[] = { 1, 100, 1150, 1200, 3000 };
    for (int i = 0; i < 5; i++) {
        ASSERT_EQ(rtc_dtls_transport_send(p.a.t, msg, sizes[i], p.now), 0);
        ASSERT_EQ(rtc_dtls_transport_send(p.b.t, msg, sizes[i], p.now), 0);
    }
    /* Each send is one datagram of one record: 13 header + 8 nonce + 16 tag with GCM. */
    rtc_buf *b;
    ASSERT(rtc_dtls_transport_poll_transmit(p.a.t, &b));
    ASSERT_EQ(b->len, 1 + 13 + 8 + 16);
    vnet_send(p.net, &p.a.addr, &p.b.addr, b->data, b->len, p.now);
    rtc_buf_unref(b);
    ASSERT(dpair_run(&p, p.now + RTC_SEC(1), b_has_5));
    dpeer *side[2] = { &p.a, &p.b };
    for (int s = 0; s < 2; s++) {
        ASSERT_EQ(side[s]->data_events, 5);
        for (int i = 0; i < 5; i++) {
            rtc_buf *d = rtc_bufq_pop(&side[s]->data);
            ASSERT_EQ(d->len, sizes[i]);
            ASSERT_MEMEQ(d->data, msg, sizes[i]);
            rtc_buf_unref(d);
        }
    }
    ASSERT_EQ(rtc_dtls_transport_send(p.a.t, msg, 16385, p.now), RTC_ETOOBIG);
    ASSERT_EQ(rtc_dtls_transport_send(p.a.t, msg, 0, p.now), 0);
    rtc_dtls_stats st;
    rtc_dtls_transport_get_stats(p.b.t, &st);
    ASSERT_EQ(st.records_in, 5);
    ASSERT_EQ(st.records_out, 5);
    dpair_free(&p);
}

/* A quiet connected transport hands OpenSSL's record buffers back after a second and
 * then wants no wake-ups; records flow again both ways afterwards, and close works. */
static void test_idle_buffers_released(void)
{
    dpair p;
    dpair_init(&p, 43, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    dpair_exchange_fingerprints(&p);
    dpair_start(&p);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
    rtc_dtls_stats sa, sb;
    rtc_dtls_transport_get_stats(p.a.t, &sa);
    ASSERT_EQ(sa.buffer_releases, 0);
    ASSERT(rtc_dtls_transport_poll_timeout(p.a.t) <= p.now + RTC_SEC(1));
    dpair_run(&p, p.now + RTC_SEC(3), NULL);
    rtc_dtls_transport_get_stats(p.a.t, &sa);
    rtc_dtls_transport_get_stats(p.b.t, &sb);
    ASSERT_EQ(sa.buffer_releases, 1);
    ASSERT_EQ(sb.buffer_releases, 1);
    ASSERT_EQ(rtc_dtls_transport_poll_timeout(p.a.t), RTC_TIME_NEVER);
    ASSERT_EQ(rtc_dtls_transport_poll_timeout(p.b.t), RTC_TIME_NEVER);
    static uint8_t msg[1200];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (uint8_t)(i * 13 + 1);
    ASSERT_EQ(rtc_dtls_transport_send(p.a.t, msg, sizeof msg, p.now), 0);
    ASSERT_EQ(rtc_dtls_transport_send(p.b.t, msg, 10, p.now), 0);
    ASSERT(dpair_run(&p, p.now + RTC_SEC(1), a_and_b_got_data));
    rtc_buf *d = rtc_bufq_pop(&p.b.data);
    ASSERT_EQ(d->len, sizeof msg);
    ASSERT_MEMEQ(d->data, msg, sizeof msg);
    rtc_buf_unref(d);
    d = rtc_bufq_pop(&p.a.data);
    ASSERT_EQ(d->len, 10);
    ASSERT_MEMEQ(d->data, msg, 10);
    rtc_buf_unref(d);
    dpair_run(&p, p.now + RTC_SEC(3), NULL);
    rtc_dtls_transport_get_stats(p.a.t, &sa);
    ASSERT_EQ(sa.buffer_releases, 2);
    ASSERT_EQ(rtc_dtls_transport_close(p.a.t, p.now), 0);     /* the alert needs a buffer again */
    ASSERT(dpair_run(&p, p.now + RTC_SEC(1), dpair_both_ended));
    ASSERT_EQ(p.b.closed, 1);
    dpair_free(&p);
}

static void test_close_notify(void)
{
    for (int who = 0; who < 2; who++) {
        dpair p;
        dpair_init(&p, 51 + who, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));
        dpeer *closer = who ? &p.b : &p.a, *other = who ? &p.a : &p.b;
        ASSERT_EQ(rtc_dtls_transport_send(closer->t, "last", 4, p.now), 0);
        ASSERT_EQ(rtc_dtls_transport_close(closer->t, p.now), 0);
        ASSERT_EQ(rtc_dtls_transport_close(closer->t, p.now), 0);     /* idempotent */
        ASSERT(dpair_run(&p, p.now + RTC_SEC(1), dpair_both_ended));
        ASSERT_EQ(closer->closed, 1);
        ASSERT_EQ(other->closed, 1);
        ASSERT_EQ(other->failed + closer->failed, 0);
        ASSERT_EQ(other->data_events, 1);                          /* data before close arrives */
        ASSERT_EQ(rtc_dtls_transport_state(other->t), RTC_DTLS_CLOSED);
        ASSERT_EQ(rtc_dtls_transport_send(other->t, "x", 1, p.now), RTC_ESTATE);
        dpair_run(&p, p.now + RTC_SEC(1), NULL);
        ASSERT_EQ(closer->closed, 1);                              /* no second event */
        dpair_free(&p);
    }
}

static bool a_got_data(dpair *p) { return p->a.data_events > 0; }

/* Hostile and early input: nothing crashes, bad input is counted, the handshake and
 * the data path keep working. */
static void test_garbage_and_early_packets(void)
{
    dpair p;
    dpair_init(&p, 61, (vnet_link){ .delay = RTC_MS(5) }, NULL, NULL);
    dpair_exchange_fingerprints(&p);
    /* Before start(): a client ignores input; a server starts on its first datagram. */
    ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.a.t, (const uint8_t *)"\x16\xfe\xfd", 3, 0), RTC_ESTATE);
    ASSERT_EQ(rtc_dtls_transport_send(p.a.t, "x", 1, 0), RTC_ESTATE);
    ASSERT_EQ(rtc_dtls_transport_start(p.a.t, 0), 0);
    rtc_buf *hello;
    ASSERT(rtc_dtls_transport_poll_transmit(p.a.t, &hello));
    p.a.sent++;

    rtc_rng rng;
    rtc_rng_init_seed(&rng, 5);
    uint8_t junk[1500];
    uint64_t expect_dropped = 0;
    for (int i = 0; i < 300; i++) {
        size_t n = rtc_rng_below(&rng, sizeof junk);
        rtc_rng_bytes(&rng, junk, n);
        if (i % 3 == 0 && n > 0) junk[0] = 22;            /* looks like a handshake record */
        if (i % 3 == 1 && n > 2) { junk[0] = 23; junk[1] = 0xfe; junk[2] = 0xfd; }
        if (i % 3 == 2 && n > 13) {                        /* a well-framed record */
            junk[0] = (uint8_t)(20 + i % 4); junk[1] = 0xfe; junk[2] = 0xfd;
            junk[11] = (uint8_t)((n - 13) >> 8); junk[12] = (uint8_t)(n - 13);
        }
        int rc = rtc_dtls_transport_handle_datagram(p.b.t, junk, n, 0);
        if (rc == RTC_EPROTO) expect_dropped++;
        else ASSERT_EQ(rc, 0);
        /* Truncated copies of the real ClientHello. */
        size_t cut = rtc_rng_below(&rng, (uint32_t)hello->len);
        rc = rtc_dtls_transport_handle_datagram(p.b.t, hello->data, cut, 0);
        ASSERT_EQ(rc, RTC_EPROTO);
        expect_dropped++;
    }
    rtc_dtls_stats st;
    rtc_dtls_transport_get_stats(p.b.t, &st);
    ASSERT_EQ(st.dropped, expect_dropped);
    ASSERT(st.dropped >= 300);
    ASSERT_EQ(p.b.failed, 0);
    ASSERT(rtc_dtls_transport_state(p.b.t) != RTC_DTLS_FAILED);
    ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.b.t, hello->data, hello->len, 0), 0);
    rtc_buf_unref(hello);
    ASSERT(dpair_run(&p, RTC_SEC(5), dpair_both_connected));

    /* After the handshake: well-framed records with garbage bodies, replayed
     * handshake datagrams, and short junk; then the data path still works. */
    uint8_t rec[200];
    for (int i = 0; i < 200; i++) {
        rtc_rng_bytes(&rng, rec, sizeof rec);
        rec[0] = (uint8_t)(20 + i % 4); rec[1] = 0xfe; rec[2] = 0xfd;
        rec[3] = 0; rec[4] = (uint8_t)(i & 1);                /* epochs 0 and 1 */
        rec[11] = 0; rec[12] = (uint8_t)(sizeof rec - 13);
        ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.a.t, rec, sizeof rec, p.now), 0);
        ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.b.t, rec, sizeof rec, p.now), 0);
        ASSERT_EQ(rtc_dtls_transport_handle_datagram(p.a.t, rec, 1 + i % 12, p.now), RTC_EPROTO);
        dpair_drain(&p);
    }
    ASSERT_EQ(p.a.failed + p.b.failed, 0);
    ASSERT_EQ(p.a.data_events + p.b.data_events, 0);
    ASSERT_EQ(rtc_dtls_transport_send(p.b.t, "still here", 10, p.now), 0);
    ASSERT(dpair_run(&p, p.now + RTC_SEC(1), a_got_data));
    ASSERT_MEMEQ(p.a.data.head->data, "still here", 10);
    dpair_free(&p);
}

/* Heavy reordering: the server sends application data the moment it is connected, so
 * it can reach the client before the server's Finished does; OpenSSL must keep it
 * (next-epoch records are buffered) and we must deliver it after CONNECTED. */
static void count_overtaking(dpair *p, const vnet_packet *pkt)
{
    if (rtc_addr_eq(&pkt->to, &p->a.addr) && pkt->len && pkt->data[0] == 23 && !p->a.connected) p->hook_count++;
}

static bool server_connected(dpair *p) { return p->b.connected > 0; }

static void test_app_data_overtakes_finished(void)
{
    int overtaken = 0;
    for (uint64_t seed = 70; seed < 90; seed++) {
        dpair p;
        dpair_init(&p, seed, (vnet_link){ .delay = RTC_MS(1), .jitter = RTC_MS(50) }, NULL, NULL);
        p.on_deliver = count_overtaking;
        dpair_exchange_fingerprints(&p);
        dpair_start(&p);
        ASSERT(dpair_run(&p, RTC_SEC(10), server_connected));
        for (int i = 0; i < 3; i++) ASSERT_EQ(rtc_dtls_transport_send(p.b.t, "hi", 2, p.now), 0);
        ASSERT(dpair_run(&p, p.now + RTC_SEC(10), dpair_both_connected));
        dpair_run(&p, p.now + RTC_SEC(2), NULL);
        ASSERT_EQ(p.a.data_events, 3);
        if (p.hook_count) overtaken++;
        dpair_free(&p);
    }
    fprintf(stderr, "   app data overtook the Finished in %d of 20 runs\n", overtaken);
    ASSERT(overtaken > 0);
}

int main(void)
{
    RUN(test_cert_generate_and_pem);
    RUN(test_handshake_no_loss_rsa_and_profiles);
    RUN(test_shared_identity_own_profiles);
    RUN(test_mtu);
    RUN(test_handshake_lossy_many_seeds);
    RUN(test_wrong_fingerprint);
    RUN(test_fingerprint_after_handshake);
    RUN(test_silent_peer_times_out);
    RUN(test_retransmission_limit);
    RUN(test_lost_final_flight_is_resent);
    RUN(test_final_flight_answers_repeats_until_app_data);
    RUN(test_app_data_both_ways);
    RUN(test_close_notify);
    RUN(test_idle_buffers_released);
    RUN(test_garbage_and_early_packets);
    RUN(test_app_data_overtakes_finished);
    return 0;
}
