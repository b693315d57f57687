/* DTLS over OpenSSL without sockets. One custom BIO serves as both ends of the SSL:
 * reads hand OpenSSL the datagram the caller is feeding us (no intermediate mem BIO,
 * so no extra copy and no merging of datagrams), and every write becomes exactly one
 * queued rtc_buf, which a mem BIO could not promise. */
#include "dtls_transport.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define DTLS_TAG "dtls"
/* A connected transport quiet this long gives OpenSSL's record buffers back (about
 * 32 KiB); they are rebuilt on the next datagram or send. */
#define DTLS_IDLE_RELEASE RTC_SEC(1)
#define DTLS_MAX_RECORD 16384
/* Resends of one flight before the handshake fails: OpenSSL's own limit
 * (DTLS1_TMO_ALERT_COUNT), whether OpenSSL or the kept copy does the resending. */
#define DTLS_MAX_RESENDS 12
/* A kept flight never grows past this; our flights (hellos and one certificate) are a
 * few KiB. */
#define DTLS_FLIGHT_MAX 65536

struct rtc_dtls_transport {
    SSL *ssl;
    rtc_dtls_cert *cert;
    rtc_pool *pool;
    rtc_dtls_role role;
    rtc_dtls_state state;
    bool started, hs_done, close_sent;

    /* The expected peer fingerprint, and what we saw. */
    bool have_remote_fp, fp_mismatch;
    char remote_algo[16];
    char (*remote_fps)[RTC_DTLS_FINGERPRINT_MAX];   /* nremote_fps values; any may match */
    int nremote_fps;
    char peer_fp[RTC_DTLS_FINGERPRINT_MAX];   /* sha-256 of the peer certificate */
    X509 *peer_cert;                          /* kept while verification waits on SDP */

    /* The datagram being fed to OpenSSL during handle_datagram. */
    const uint8_t *in;
    size_t in_len;
    size_t in_big_record;                     /* its one record's length when over a pool buffer */

    /* Timers run on `now` (see "timers" below). */
    rtc_time now, hs_deadline, rtx_deadline, rto, initial_rto, max_rto, hs_timeout;
    int resends;                              /* of the current flight, by OpenSSL or us */
    /* Our last flight as OpenSSL wrote it, datagram by datagram (2-byte length, then
     * the bytes): resent as it is when OpenSSL's wall clock disagrees with `now`. */
    uint8_t *flight;
    size_t flight_len, flight_cap;
    bool new_flight;                          /* the next handshake write starts a new copy */
    bool final_flight;                        /* handshake done; kept for the peer's sake */

    rtc_bufq tx;
    rtc_bufq held;                            /* app data waiting for the fingerprint */
    rtc_buf *spare;                           /* a read buffer kept between calls */
    bool bufs_released;                       /* SSL_free_buffers() done while idle */
    rtc_time release_at;                      /* when connected and quiet until then */
    rtc_dtls_event *evq;
    size_t ev_head, ev_count, ev_cap;

    rtc_srtp_profile profile;
    rtc_srtp_keying keying;
    int error;
    char reason[200];
    rtc_dtls_stats stats;
};

/* ---- the BIO ---------------------------------------------------------------------- */

static BIO_METHOD *dtls_bio_method;
static pthread_once_t dtls_bio_once = PTHREAD_ONCE_INIT;

/* ---- the kept flight ---------------------------------------------------------------- */

/* Every datagram OpenSSL writes during the handshake joins the kept copy. A copy starts
 * afresh with the first write after input from the peer (a flight answers the peer's)
 * or after OpenSSL's timer callback (a new flight, or OpenSSL's own resend of the
 * current one). Without memory the copy simply stops growing: the peer's own
 * retransmissions and OpenSSL's timer still move the handshake on. */
static void flight_keep(rtc_dtls_transport *t, const char *data, size_t len)
{
    if (t->new_flight) {
        t->flight_len = 0;
        t->new_flight = false;
    }
    size_t need = t->flight_len + 2 + len;
    if (len > 0xffff || need > DTLS_FLIGHT_MAX) return;
    if (need > t->flight_cap) {
        size_t cap = t->flight_cap ? t->flight_cap : 2048;
        while (cap < need) cap *= 2;
        uint8_t *n = realloc(t->flight, cap);
        if (!n) return;
        t->flight = n;
        t->flight_cap = cap;
    }
    t->flight[t->flight_len] = (uint8_t)(len >> 8);
    t->flight[t->flight_len + 1] = (uint8_t)len;
    memcpy(t->flight + t->flight_len + 2, data, len);
    t->flight_len = need;
}

static void flight_drop(rtc_dtls_transport *t)
{
    free(t->flight);
    t->flight = NULL;
    t->flight_len = t->flight_cap = 0;
    t->final_flight = false;
}

/* The kept flight again, byte for byte, records and sequence numbers included: a peer
 * that has a record already drops the copy as a replay (RFC 6347 4.1.2.6), a peer that
 * lost it takes it. */
static void flight_resend(rtc_dtls_transport *t)
{
    for (size_t off = 0; off + 2 <= t->flight_len;) {
        size_t len = (size_t)t->flight[off] << 8 | t->flight[off + 1];
        if (len > t->flight_len - off - 2) break;
        rtc_buf *out = rtc_buf_alloc(t->pool, len);
        if (!out) break;
        memcpy(out->data, t->flight + off + 2, len);
        out->len = len;
        rtc_bufq_push(&t->tx, out);
        t->stats.datagrams_out++;
        t->stats.bytes_out += (uint64_t)len;
        off += 2 + len;
    }
}

static int bio_write_cb(BIO *b, const char *data, int len)
{
    rtc_dtls_transport *t = BIO_get_data(b);
    if (len <= 0) return 0;
    rtc_buf *out = rtc_buf_alloc(t->pool, (size_t)len);
    if (!out) return -1;
    memcpy(out->data, data, (size_t)len);
    out->len = (size_t)len;
    if (!t->hs_done) flight_keep(t, data, (size_t)len);
    rtc_bufq_push(&t->tx, out);
    t->stats.datagrams_out++;
    t->stats.bytes_out += (uint64_t)len;
    return len;
}

static int bio_read_cb(BIO *b, char *out, int size)
{
    rtc_dtls_transport *t = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (t->in_len == 0) {
        BIO_set_retry_read(b);
        return -1;
    }
    /* Datagram semantics: whatever does not fit is lost, as with recvfrom. */
    size_t n = t->in_len < (size_t)size ? t->in_len : (size_t)size;
    memcpy(out, t->in, n);
    t->in = NULL;
    t->in_len = 0;
    return (int)n;
}

static long bio_ctrl_cb(BIO *b, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    rtc_dtls_transport *t = BIO_get_data(b);
    if (!t) return 0;
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU: return 0;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD: return 0;  /* our MTU is the UDP payload size */
    case BIO_CTRL_PENDING: return (long)t->in_len;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;        /* BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT too: our timer is our own */
    }
}

static int bio_create_cb(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

static int bio_destroy_cb(BIO *b)
{
    (void)b;
    return 1;
}

static void dtls_bio_init_once(void)
{
    BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "luartc dtls");
    if (!m) return;
    BIO_meth_set_write(m, bio_write_cb);
    BIO_meth_set_read(m, bio_read_cb);
    BIO_meth_set_ctrl(m, bio_ctrl_cb);
    BIO_meth_set_create(m, bio_create_cb);
    BIO_meth_set_destroy(m, bio_destroy_cb);
    dtls_bio_method = m;
}

/* ---- events ------------------------------------------------------------------------ */

static int ev_push(rtc_dtls_transport *t, const rtc_dtls_event *ev)
{
    if (t->ev_count == t->ev_cap) {
        size_t ncap = t->ev_cap ? t->ev_cap * 2 : 8;
        rtc_dtls_event *n = malloc(ncap * sizeof *n);
        if (!n) return RTC_ENOMEM;
        for (size_t i = 0; i < t->ev_count; i++) n[i] = t->evq[(t->ev_head + i) % t->ev_cap];
        free(t->evq);
        t->evq = n;
        t->ev_cap = ncap;
        t->ev_head = 0;
    }
    t->evq[(t->ev_head + t->ev_count) % t->ev_cap] = *ev;
    t->ev_count++;
    return 0;
}

static void ev_simple(rtc_dtls_transport *t, rtc_dtls_event_type type)
{
    rtc_dtls_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    if (type == RTC_DTLS_EV_CONNECTED) {
        ev.srtp_profile = t->profile;
        ev.keying = t->keying;
    } else if (type == RTC_DTLS_EV_FAILED) {
        ev.error = t->error;
        ev.reason = t->reason;
    }
    ev_push(t, &ev);
}

static void ev_data(rtc_dtls_transport *t, rtc_buf *b)
{
    rtc_dtls_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RTC_DTLS_EV_DATA;
    ev.data = b;
    if (ev_push(t, &ev) < 0) rtc_buf_unref(b);
}

/* ---- state changes ----------------------------------------------------------------- */

static void dtls_fail(rtc_dtls_transport *t, int err, const char *reason)
{
    if (t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED) return;
    t->state = RTC_DTLS_FAILED;
    t->error = err;
    snprintf(t->reason, sizeof t->reason, "%s", reason);
    t->rtx_deadline = RTC_TIME_NEVER;
    rtc_bufq_clear(&t->held);
    flight_drop(t);
    rtc_warn(DTLS_TAG, "failed: %s", t->reason);
    ev_simple(t, RTC_DTLS_EV_FAILED);
}

/* Turn OpenSSL's error queue into a reason, then empty it (it is per thread). */
static void dtls_fail_ssl(rtc_dtls_transport *t, const char *what)
{
    char buf[160] = "";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    if (t->fp_mismatch) {
        dtls_fail(t, RTC_EFINGERPRINT, "peer certificate does not match the remote fingerprint");
        return;
    }
    char reason[200];
    snprintf(reason, sizeof reason, "%s: %s", what, buf[0] ? buf : "unknown TLS error");
    dtls_fail(t, RTC_ETLS, reason);
}

static void deliver_held(rtc_dtls_transport *t)
{
    rtc_buf *b;
    while ((b = rtc_bufq_pop(&t->held))) ev_data(t, b);
}

/* Handshake finished and the peer's certificate matches: report CONNECTED. */
static void dtls_connected(rtc_dtls_transport *t)
{
    t->state = RTC_DTLS_CONNECTED;
    t->release_at = t->now + DTLS_IDLE_RELEASE;
    rtc_debug(DTLS_TAG, "connected, %s, srtp profile 0x%04x", SSL_get_cipher_name(t->ssl), t->profile);
    ev_simple(t, RTC_DTLS_EV_CONNECTED);
    deliver_held(t);
}

static int peer_matches(rtc_dtls_transport *t, X509 *x)
{
    char fp[RTC_DTLS_FINGERPRINT_MAX];
    if (rtc_dtls_x509_fingerprint(x, t->remote_algo, fp, sizeof fp) < 0) return 0;
    for (int i = 0; i < t->nremote_fps; i++)
        if (rtc_dtls_fingerprint_equal(t->remote_fps[i], fp)) return 1;
    return 0;
}

static void export_srtp(rtc_dtls_transport *t)
{
    memset(&t->keying, 0, sizeof t->keying);
    t->profile = RTC_SRTP_NONE;
    SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(t->ssl);
    size_t kl, sl;
    if (!p || !rtc_srtp_profile_lengths((rtc_srtp_profile)p->id, &kl, &sl)) return;
    uint8_t m[2 * (RTC_SRTP_MAX_KEY + RTC_SRTP_MAX_SALT)];
    static const char label[] = "EXTRACTOR-dtls_srtp";
    if (SSL_export_keying_material(t->ssl, m, 2 * (kl + sl), label, sizeof label - 1, NULL, 0, 0) != 1) {
        ERR_clear_error();
        return;
    }
    rtc_srtp_keying *k = &t->keying;
    k->profile = (rtc_srtp_profile)p->id;
    k->key_len = (uint8_t)kl;
    k->salt_len = (uint8_t)sl;
    memcpy(k->client_key, m, kl);
    memcpy(k->server_key, m + kl, kl);
    memcpy(k->client_salt, m + 2 * kl, sl);
    memcpy(k->server_salt, m + 2 * kl + sl, sl);
    t->profile = k->profile;
    OPENSSL_cleanse(m, sizeof m);
}

/* The handshake is done on our side. If our last write came after the peer's last
 * input, that write was the final flight (RFC 6347 4.2.4): the peer may not have it, and
 * it is kept until the peer shows it has (application data), so that a repeat of the
 * peer's flight can be answered. Otherwise nothing of ours is outstanding. */
static void keep_final_flight(rtc_dtls_transport *t)
{
    if (t->new_flight || t->flight_len == 0) {
        flight_drop(t);
        return;
    }
    uint8_t *n = realloc(t->flight, t->flight_len);   /* give back what earlier flights grew */
    if (n) {
        t->flight = n;
        t->flight_cap = t->flight_len;
    }
    t->final_flight = true;
    t->resends = 0;
}

static void handshake_finished(rtc_dtls_transport *t)
{
    t->hs_done = true;
    keep_final_flight(t);
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer) {
        dtls_fail(t, RTC_ETLS, "peer sent no certificate");
        return;
    }
    rtc_dtls_x509_fingerprint(peer, "sha-256", t->peer_fp, sizeof t->peer_fp);
    export_srtp(t);
    if (!t->have_remote_fp) {
        t->peer_cert = peer;          /* verified when the remote description arrives */
        return;
    }
    int ok = peer_matches(t, peer);
    X509_free(peer);
    if (ok) dtls_connected(t);
    else dtls_fail(t, RTC_EFINGERPRINT, "peer certificate does not match the remote fingerprint");
}

/* ---- timers ------------------------------------------------------------------------ */

/* OpenSSL keeps its retransmission deadline on the wall clock and compares it with the
 * wall clock inside DTLSv1_handle_timeout and before every read; no public call moves
 * it. So the deadline that counts is ours, on `now`, and OpenSSL is told the same
 * interval through this callback (public since 1.1.1): on a real clock the two
 * deadlines fall together and at ours DTLSv1_handle_timeout retransmits with fresh
 * record sequence numbers. When OpenSSL finds its deadline still ahead (a virtual
 * clock, or ours ran early), handle_timeout resends the kept copy instead, on the same
 * backoff. OpenSSL calls this with prev == 0 when a flight starts its timer, and with
 * its last interval when the timer expired and it is about to retransmit (in
 * DTLSv1_handle_timeout or in a read). */
static void backoff(rtc_dtls_transport *t)
{
    t->rto = t->rto * 2 > t->max_rto ? t->max_rto : t->rto * 2;
    t->rtx_deadline = t->now + t->rto;
    t->resends++;
    t->stats.retransmits++;
}

static unsigned int timer_cb(SSL *s, unsigned int prev)
{
    rtc_dtls_transport *t = SSL_get_app_data(s);
    t->new_flight = true;
    if (prev == 0) {
        t->rto = t->initial_rto;
        t->rtx_deadline = t->now + t->rto;
        t->resends = 0;
    } else {
        backoff(t);
    }
    return (unsigned int)t->rto;
}

/* After any OpenSSL call: if its timer stopped (the peer's flight arrived), so does ours. */
static void sync_timer(rtc_dtls_transport *t)
{
    struct timeval tv;
    if (t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED || !DTLSv1_get_timeout(t->ssl, &tv))
        t->rtx_deadline = RTC_TIME_NEVER;
}

static void set_now(rtc_dtls_transport *t, rtc_time now)
{
    if (now > t->now) t->now = now;
}

/* ---- verification ------------------------------------------------------------------ */

static int verify_cb(int preverify_ok, X509_STORE_CTX *ctx)
{
    (void)preverify_ok;  /* self-signed is the norm: trust comes from the SDP fingerprint */
    SSL *ssl = X509_STORE_CTX_get_ex_data(ctx, SSL_get_ex_data_X509_STORE_CTX_idx());
    rtc_dtls_transport *t = ssl ? SSL_get_app_data(ssl) : NULL;
    X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
    if (!t || !leaf) return 0;
    if (!t->have_remote_fp) return 1;    /* checked once the remote fingerprint is known */
    if (peer_matches(t, leaf)) return 1;
    t->fp_mismatch = true;
    X509_STORE_CTX_set_error(ctx, X509_V_ERR_CERT_REJECTED);
    return 0;
}

/* ---- creation ---------------------------------------------------------------------- */

static const char dtls_ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA";

static int srtp_profile_list(const rtc_dtls_config *cfg, char *out, size_t size)
{
    static const rtc_srtp_profile defaults[] = { RTC_SRTP_AEAD_AES_128_GCM, RTC_SRTP_AEAD_AES_256_GCM,
                                                 RTC_SRTP_AES128_CM_SHA1_80, RTC_SRTP_AES128_CM_SHA1_32 };
    const rtc_srtp_profile *p = cfg->n_srtp_profiles ? cfg->srtp_profiles : defaults;
    size_t n = cfg->n_srtp_profiles ? cfg->n_srtp_profiles : 4;
    if (n > RTC_DTLS_MAX_PROFILES) return RTC_EINVAL;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = rtc_srtp_profile_name(p[i]);
        if (!name) return RTC_EINVAL;
        if (i) strncat(out, ":", size - strlen(out) - 1);
        strncat(out, name, size - strlen(out) - 1);
    }
    return 0;
}

void dtls__keylog_cb(const SSL *ssl, const char *line);   /* dtls_keylog.c */

/* What every transport of one identity shares; per-transport choices (SRTP profiles,
 * verification, MTU, timer) are set on the SSL. */
static SSL_CTX *shared_ctx(rtc_dtls_cert *cert)
{
    SSL_CTX *ctx = rtc_dtls_cert_ssl_ctx(cert);
    if (ctx) return ctx;
    ctx = SSL_CTX_new(DTLS_method());
    if (!ctx) return NULL;
    SSL_CTX_set_keylog_callback(ctx, dtls__keylog_cb);   /* writes only when a file is set */
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (SSL_CTX_set_cipher_list(ctx, dtls_ciphers) != 1
        || SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") != 1
        || SSL_CTX_use_certificate(ctx, rtc_dtls_cert_x509(cert)) != 1
        || SSL_CTX_use_PrivateKey(ctx, rtc_dtls_cert_pkey(cert)) != 1) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    rtc_dtls_cert_set_ssl_ctx(cert, ctx);
    return ctx;
}

int rtc_dtls_transport_new(rtc_dtls_transport **out, const rtc_dtls_config *cfg, rtc_time now)
{
    if (!out || !cfg || !cfg->cert) return RTC_EINVAL;
    if (cfg->role != RTC_DTLS_CLIENT && cfg->role != RTC_DTLS_SERVER) return RTC_EINVAL;
    char profiles[160];
    if (!cfg->no_srtp && srtp_profile_list(cfg, profiles, sizeof profiles) < 0) return RTC_EINVAL;
    pthread_once(&dtls_bio_once, dtls_bio_init_once);
    if (!dtls_bio_method) return RTC_ENOMEM;

    rtc_dtls_transport *t = calloc(1, sizeof *t);
    if (!t) return RTC_ENOMEM;
    t->cert = rtc_dtls_cert_ref(cfg->cert);
    t->pool = cfg->pool;
    t->role = cfg->role;
    t->now = now;
    t->hs_timeout = cfg->handshake_timeout > 0 ? cfg->handshake_timeout : RTC_SEC(30);
    t->initial_rto = cfg->initial_rto > 0 ? cfg->initial_rto : RTC_MS(500);
    t->max_rto = cfg->max_rto > 0 ? cfg->max_rto : RTC_SEC(3);
    if (t->max_rto < t->initial_rto) t->max_rto = t->initial_rto;
    if (t->max_rto > RTC_SEC(60)) t->max_rto = RTC_SEC(60);
    t->hs_deadline = RTC_TIME_NEVER;
    t->rtx_deadline = RTC_TIME_NEVER;
    uint16_t mtu = cfg->mtu ? cfg->mtu : 1200;

    ERR_clear_error();
    SSL_CTX *ctx = shared_ctx(t->cert);
    if (!ctx) goto fail;
    t->ssl = SSL_new(ctx);
    BIO *bio = BIO_new(dtls_bio_method);
    if (!t->ssl || !bio) { BIO_free(bio); goto fail; }
    BIO_set_data(bio, t);
    SSL_set_bio(t->ssl, bio, bio);    /* one BIO, both directions: the SSL owns it */
    SSL_set_app_data(t->ssl, t);
    /* SSL_set_tlsext_use_srtp returns 0 on success. */
    if (!cfg->no_srtp && SSL_set_tlsext_use_srtp(t->ssl, profiles) != 0) goto fail;
    SSL_set_verify(t->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    DTLS_set_timer_cb(t->ssl, timer_cb);
    if (SSL_set_mtu(t->ssl, mtu) <= 0) {  /* below OpenSSL's DTLS minimum */
        rtc_dtls_transport_free(t);
        ERR_clear_error();
        return RTC_EINVAL;
    }
    if (t->role == RTC_DTLS_CLIENT) SSL_set_connect_state(t->ssl);
    else SSL_set_accept_state(t->ssl);
    *out = t;
    return 0;
fail:
    ERR_clear_error();
    rtc_dtls_transport_free(t);
    return RTC_ETLS;
}

void rtc_dtls_transport_free(rtc_dtls_transport *t)
{
    if (!t) return;
    SSL_free(t->ssl);
    X509_free(t->peer_cert);
    free(t->remote_fps);
    free(t->flight);
    rtc_dtls_cert_unref(t->cert);
    rtc_bufq_clear(&t->tx);
    rtc_bufq_clear(&t->held);
    rtc_buf_unref(t->spare);
    for (size_t i = 0; i < t->ev_count; i++) {
        rtc_dtls_event *ev = &t->evq[(t->ev_head + i) % t->ev_cap];
        if (ev->type == RTC_DTLS_EV_DATA) rtc_buf_unref(ev->data);
    }
    free(t->evq);
    OPENSSL_cleanse(&t->keying, sizeof t->keying);
    free(t);
}

/* ---- driving OpenSSL --------------------------------------------------------------- */

static void do_handshake(rtc_dtls_transport *t)
{
    ERR_clear_error();
    int r = SSL_do_handshake(t->ssl);
    if (r == 1) {
        handshake_finished(t);
        return;
    }
    int e = SSL_get_error(t->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return;
    dtls_fail_ssl(t, "handshake failed");
}

/* Ends the transport, for either side's close: our close_notify first when `notify`
 * (once), then CLOSED with no timer, nothing held or in flight, and the CLOSED event. */
static void close_now(rtc_dtls_transport *t, bool notify)
{
    if (notify && !t->close_sent) {
        ERR_clear_error();
        SSL_shutdown(t->ssl);
        ERR_clear_error();
        t->close_sent = true;
    }
    t->state = RTC_DTLS_CLOSED;
    t->rtx_deadline = RTC_TIME_NEVER;
    rtc_bufq_clear(&t->held);
    flight_drop(t);
    ev_simple(t, RTC_DTLS_EV_CLOSED);
}

/* The peer's close_notify: answered with our own. */
static void peer_closed(rtc_dtls_transport *t) { close_now(t, true); }

/* Read every application record OpenSSL has for us, one record per buffer. Also the
 * path by which OpenSSL answers a retransmitted final flight after the handshake. */
static void read_app_data(rtc_dtls_transport *t)
{
    for (;;) {
        /* A datagram holding one record too big for a pooled buffer (larger SCTP
         * packets on a loopback pair): read it into a buffer of the record's size at
         * once, since its plaintext is never longer. */
        size_t big = t->in_big_record;
        t->in_big_record = 0;
        rtc_buf *b;
        if (big) {
            b = rtc_buf_alloc(NULL, big);
        } else {
            b = t->spare ? t->spare : rtc_buf_alloc(t->pool, RTC_POOL_BUFSIZE);
            t->spare = NULL;
        }
        if (!b) return;
        ERR_clear_error();
        int r = SSL_read(t->ssl, b->data, (int)b->cap);
        if (r <= 0) {
            if (big) rtc_buf_unref(b);
            else t->spare = b;
            int e = SSL_get_error(t->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) { ERR_clear_error(); return; }
            if (e == SSL_ERROR_ZERO_RETURN) { peer_closed(t); return; }
            dtls_fail_ssl(t, "read failed");
            return;
        }
        b->len = (size_t)r;
        int more = SSL_pending(t->ssl);
        if (!big && (size_t)r == b->cap && more > 0) {
            /* A record larger than a pooled buffer: gather it into one heap buffer so a
             * record is never split across two DATA events. */
            rtc_buf *big = rtc_buf_alloc(NULL, (size_t)r + (size_t)more);
            if (!big) { rtc_buf_unref(b); return; }
            memcpy(big->data, b->data, (size_t)r);
            int r2 = SSL_read(t->ssl, big->data + r, more);
            big->len = (size_t)r + (size_t)(r2 > 0 ? r2 : 0);
            t->spare = b;
            b = big;
        }
        t->stats.records_in++;
        if (t->state == RTC_DTLS_CONNECTED) {
            ev_data(t, b);
        } else if (t->held.count < 256) {
            rtc_bufq_push(&t->held, b);   /* peer not verified yet: keep it back */
        } else {
            rtc_buf_unref(b);
            t->stats.dropped++;
        }
    }
}

/* Each record in the datagram must have a DTLS header (type 20..23, version 0xFExx)
 * and a length inside the datagram. Anything else never reaches OpenSSL. `*nrec` and
 * `*maxrec`: how many records, and the longest record's length. */
static bool records_well_formed(const uint8_t *p, size_t len, size_t *nrec, size_t *maxrec)
{
    size_t off = 0;
    *nrec = *maxrec = 0;
    if (len == 0) return false;
    while (off < len) {
        if (len - off < 13) return false;
        if (p[off] < 20 || p[off] > 23 || p[off + 1] != 0xFE) return false;
        size_t rl = (size_t)p[off + 11] << 8 | p[off + 12];
        if (rl > len - off - 13) return false;
        off += 13 + rl;
        (*nrec)++;
        if (rl > *maxrec) *maxrec = rl;
    }
    return true;
}

/* Whether a (well-formed) datagram holds a handshake record of epoch 1 or later. After
 * our handshake that can only be the peer's Finished, sent again because the peer has
 * not seen our final flight: the moment to repeat it (RFC 6347 4.2.4), as OpenSSL
 * itself does for a Finished it can decrypt. A repeat made of the same bytes as the
 * first (a peer resending its kept copy) is a replay to OpenSSL, which drops it
 * without answering. */
static bool holds_later_epoch_handshake(const uint8_t *p, size_t len)
{
    for (size_t off = 0; off + 13 <= len;) {
        if (p[off] == 22 && (p[off + 3] || p[off + 4])) return true;
        off += 13 + ((size_t)p[off + 11] << 8 | p[off + 12]);
    }
    return false;
}

/* After the handshake: answer a repeat of the peer's last flight with our final flight
 * when OpenSSL did not (it wrote nothing), at most DTLS_MAX_RESENDS times; let the copy
 * go once the peer's application data shows it has our flight, or the handshake cap
 * has passed (the peer has given up by then). */
static void final_flight_after_input(rtc_dtls_transport *t, bool peer_repeats, uint64_t out_before,
                                     uint64_t records_before)
{
    if (!t->final_flight) return;
    if (t->stats.records_in > records_before || t->now >= t->hs_deadline) {
        flight_drop(t);
        return;
    }
    if (!peer_repeats || t->stats.datagrams_out != out_before || t->resends >= DTLS_MAX_RESENDS) return;
    flight_resend(t);
    t->resends++;
    t->stats.retransmits++;
}

static void begin(rtc_dtls_transport *t)
{
    t->started = true;
    t->state = RTC_DTLS_CONNECTING;
    t->hs_deadline = t->now + t->hs_timeout;
}

int rtc_dtls_transport_start(rtc_dtls_transport *t, rtc_time now)
{
    if (!t) return RTC_EINVAL;
    set_now(t, now);
    if (t->started) return t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED ? RTC_ESTATE : 0;
    begin(t);
    if (t->role == RTC_DTLS_CLIENT) do_handshake(t);
    sync_timer(t);
    return 0;
}

/* Record buffers back before OpenSSL reads or writes a record (its DTLS write path
 * does not rebuild them itself), and the idle deadline pushed out. */
static bool buffers_ready(rtc_dtls_transport *t)
{
    if (t->state == RTC_DTLS_CONNECTED) t->release_at = t->now + DTLS_IDLE_RELEASE;
    if (!t->bufs_released) return true;
    if (SSL_alloc_buffers(t->ssl) != 1) return false;
    t->bufs_released = false;
    return true;
}

static void release_if_idle(rtc_dtls_transport *t)
{
    if (t->state != RTC_DTLS_CONNECTED || t->bufs_released || t->now < t->release_at) return;
    if (SSL_free_buffers(t->ssl) == 1) {
        t->bufs_released = true;
        t->stats.buffer_releases++;
        rtc_buf_unref(t->spare);
        t->spare = NULL;
        if (!t->ev_count) {
            free(t->evq);
            t->evq = NULL;
            t->ev_cap = t->ev_head = 0;
        }
    } else {
        t->release_at = t->now + DTLS_IDLE_RELEASE;   /* a record still pending */
    }
}

int rtc_dtls_transport_handle_datagram(rtc_dtls_transport *t, const uint8_t *data, size_t len, rtc_time now)
{
    if (!t || (!data && len)) return RTC_EINVAL;
    set_now(t, now);
    t->stats.datagrams_in++;
    t->stats.bytes_in += len;
    if (t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED
        || (!t->started && t->role == RTC_DTLS_CLIENT)) {
        t->stats.dropped++;
        return RTC_ESTATE;
    }
    size_t nrec, maxrec;
    if (!records_well_formed(data, len, &nrec, &maxrec)) {
        t->stats.dropped++;
        return RTC_EPROTO;
    }
    t->in_big_record = nrec == 1 && maxrec > RTC_POOL_BUFSIZE ? maxrec : 0;
    if (!t->started) begin(t);
    if (!buffers_ready(t)) {
        t->stats.dropped++;
        return RTC_ENOMEM;
    }
    t->in = data;
    t->in_len = len;
    t->new_flight = true;
    bool peer_repeats = t->final_flight && holds_later_epoch_handshake(data, len);
    uint64_t out_before = t->stats.datagrams_out, records_before = t->stats.records_in;
    if (!t->hs_done) do_handshake(t);
    if (t->hs_done && t->state != RTC_DTLS_FAILED && t->state != RTC_DTLS_CLOSED) read_app_data(t);
    t->in = NULL;
    t->in_len = 0;
    t->in_big_record = 0;
    final_flight_after_input(t, peer_repeats, out_before, records_before);
    sync_timer(t);
    return 0;
}

int rtc_dtls_transport_handle_timeout(rtc_dtls_transport *t, rtc_time now)
{
    if (!t) return RTC_EINVAL;
    set_now(t, now);
    release_if_idle(t);
    if (t->state == RTC_DTLS_CONNECTING && t->now >= t->hs_deadline) {
        dtls_fail(t, RTC_ETIMEDOUT, t->hs_done ? "DTLS handshake timed out waiting for the remote fingerprint"
                                               : "DTLS handshake timed out");
        return 0;
    }
    if (t->final_flight && t->now >= t->hs_deadline) flight_drop(t);
    if (t->now < t->rtx_deadline || t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED) return 0;
    struct timeval tv;
    if (!DTLSv1_get_timeout(t->ssl, &tv)) {   /* nothing outstanding after all */
        t->rtx_deadline = RTC_TIME_NEVER;
        return 0;
    }
    if (t->resends >= DTLS_MAX_RESENDS) {
        dtls_fail(t, RTC_ETIMEDOUT, "DTLS handshake timed out (retransmission limit)");
        return 0;
    }
    if (!buffers_ready(t)) return RTC_ENOMEM;
    uint64_t before = t->stats.retransmits;
    ERR_clear_error();
    int r = DTLSv1_handle_timeout(t->ssl);
    if (r == 0 && t->stats.retransmits == before) {
        /* OpenSSL's wall clock says its deadline is still ahead: ours is the one that
         * counts, so the kept copy goes out, on the same backoff. */
        flight_resend(t);
        backoff(t);
    } else if (r < 0) {
        /* OpenSSL's own limit of 12 timeouts (it counts only the ones it handled). */
        ERR_clear_error();
        dtls_fail(t, RTC_ETIMEDOUT, "DTLS handshake timed out (retransmission limit)");
        return 0;
    } else if (r == 0) {
        dtls_fail_ssl(t, "retransmission failed");
        return 0;
    }
    ERR_clear_error();
    sync_timer(t);
    return 0;
}

bool rtc_dtls_transport_poll_transmit(rtc_dtls_transport *t, rtc_buf **out)
{
    rtc_buf *b = t ? rtc_bufq_pop(&t->tx) : NULL;
    if (!b) return false;
    *out = b;
    return true;
}

bool rtc_dtls_transport_poll_event(rtc_dtls_transport *t, rtc_dtls_event *out)
{
    if (!t || t->ev_count == 0) return false;
    *out = t->evq[t->ev_head];
    t->ev_head = (t->ev_head + 1) % t->ev_cap;
    t->ev_count--;
    return true;
}

rtc_time rtc_dtls_transport_poll_timeout(const rtc_dtls_transport *t)
{
    if (!t || t->state == RTC_DTLS_FAILED || t->state == RTC_DTLS_CLOSED) return RTC_TIME_NEVER;
    rtc_time d = t->rtx_deadline;
    if (t->state == RTC_DTLS_CONNECTING) d = rtc_time_min(d, t->hs_deadline);
    if (t->state == RTC_DTLS_CONNECTED && !t->bufs_released) d = rtc_time_min(d, t->release_at);
    return d;
}

int rtc_dtls_transport_set_remote_fingerprint(rtc_dtls_transport *t, const char *algo,
                                              const char *fingerprint, rtc_time now)
{
    return rtc_dtls_transport_set_remote_fingerprints(t, algo, &fingerprint, 1, now);
}

int rtc_dtls_transport_set_remote_fingerprints(rtc_dtls_transport *t, const char *algo,
                                               const char *const *fps, int n, rtc_time now)
{
    if (!t || !algo || !fps || n < 1 || n > RTC_DTLS_MAX_REMOTE_FPS) return RTC_EINVAL;
    if (rtc_dtls_fingerprint_strength(algo) == 0) return RTC_ENOTSUP;
    if (strlen(algo) >= sizeof t->remote_algo) return RTC_EINVAL;
    for (int i = 0; i < n; i++)
        if (!fps[i] || strlen(fps[i]) >= RTC_DTLS_FINGERPRINT_MAX) return RTC_EINVAL;
    char (*v)[RTC_DTLS_FINGERPRINT_MAX] = malloc((size_t)n * sizeof *v);
    if (!v) return RTC_ENOMEM;
    for (int i = 0; i < n; i++) snprintf(v[i], sizeof v[i], "%s", fps[i]);
    set_now(t, now);
    free(t->remote_fps);
    t->remote_fps = v;
    t->nremote_fps = n;
    snprintf(t->remote_algo, sizeof t->remote_algo, "%s", algo);
    t->have_remote_fp = true;
    if (t->peer_cert && t->state == RTC_DTLS_CONNECTING) {
        int ok = peer_matches(t, t->peer_cert);
        X509_free(t->peer_cert);
        t->peer_cert = NULL;
        if (ok) {
            dtls_connected(t);
        } else {
            dtls_fail(t, RTC_EFINGERPRINT, "peer certificate does not match the remote fingerprint");
            ERR_clear_error();
            SSL_shutdown(t->ssl);   /* tell the peer; OpenSSL has no public fatal-alert call */
            ERR_clear_error();
            t->close_sent = true;
        }
    }
    return 0;
}

int rtc_dtls_transport_send(rtc_dtls_transport *t, const void *data, size_t len, rtc_time now)
{
    if (!t || (!data && len)) return RTC_EINVAL;
    if (t->state != RTC_DTLS_CONNECTED) return RTC_ESTATE;
    if (len > DTLS_MAX_RECORD) return RTC_ETOOBIG;
    if (len == 0) return 0;
    set_now(t, now);
    if (!buffers_ready(t)) return RTC_ENOMEM;
    ERR_clear_error();
    int r = SSL_write(t->ssl, data, (int)len);
    if (r <= 0) {
        int e = SSL_get_error(t->ssl, r);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) { ERR_clear_error(); return RTC_EAGAIN; }
        dtls_fail_ssl(t, "write failed");
        return RTC_ETLS;
    }
    t->stats.records_out++;
    return 0;
}

int rtc_dtls_transport_close(rtc_dtls_transport *t, rtc_time now)
{
    if (!t) return RTC_EINVAL;
    set_now(t, now);
    if (t->state == RTC_DTLS_CLOSED || t->state == RTC_DTLS_FAILED) return 0;
    close_now(t, t->started && !t->close_sent && buffers_ready(t));
    return 0;
}

rtc_dtls_state rtc_dtls_transport_state(const rtc_dtls_transport *t) { return t->state; }
rtc_dtls_role rtc_dtls_transport_role(const rtc_dtls_transport *t) { return t->role; }
int rtc_dtls_transport_error(const rtc_dtls_transport *t) { return t->error; }
const char *rtc_dtls_transport_reason(const rtc_dtls_transport *t) { return t->reason; }
const char *rtc_dtls_transport_remote_fingerprint(const rtc_dtls_transport *t) { return t->peer_fp; }

int rtc_dtls_transport_peer_matches(const rtc_dtls_transport *t, const char *algo,
                                    const char *const *fps, int n)
{
    if (!t || !algo || (n > 0 && !fps)) return RTC_EINVAL;
    if (rtc_dtls_fingerprint_strength(algo) == 0) return RTC_ENOTSUP;
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer) return RTC_ESTATE;
    char fp[RTC_DTLS_FINGERPRINT_MAX];
    int ok = 0;
    if (rtc_dtls_x509_fingerprint(peer, algo, fp, sizeof fp) >= 0)
        for (int i = 0; i < n && !ok; i++) ok = fps[i] && rtc_dtls_fingerprint_equal(fps[i], fp);
    X509_free(peer);
    return ok;
}

const char *rtc_dtls_transport_cipher(const rtc_dtls_transport *t)
{
    return t->hs_done ? SSL_get_cipher_name(t->ssl) : "";
}

int rtc_dtls_transport_srtp_keying(const rtc_dtls_transport *t, rtc_srtp_keying *out)
{
    if (!t || !out) return RTC_EINVAL;
    if (t->state != RTC_DTLS_CONNECTED && !(t->state == RTC_DTLS_CLOSED && t->hs_done)) return RTC_ESTATE;
    if (t->profile == RTC_SRTP_NONE) return RTC_ENOTSUP;
    *out = t->keying;
    return 0;
}

void rtc_dtls_transport_get_stats(const rtc_dtls_transport *t, rtc_dtls_stats *out)
{
    *out = t->stats;
}
