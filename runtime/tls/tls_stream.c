/* TLS stream over two OpenSSL memory BIOs. A stream has no framing to keep, so mem
 * BIOs fit (unlike DTLS, where each write must stay one datagram): rbio holds
 * ciphertext not yet turned into records, wbio what OpenSSL wrote for the peer. */
#include "tls/tls_stream.h"
#include "core/rtc_errors.h"
#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TLS_RECORD_MAX 16384
#define TLS_OUT_CHUNK 65536

struct rtc_tls_stream {
    rtc_tls_context *ctx;
    SSL *ssl;
    BIO *rbio, *wbio;              /* owned by ssl */
    rtc_pool *pool;
    rtc_tls_state state;
    bool is_client;
    rtc_time now, hs_deadline;
    rtc_bufq early;                /* plaintext written before the handshake ended */
    size_t max_early;
    rtc_bufq rx;                   /* decrypted, not yet polled */
    bool ev_open, ev_closed, ev_failed;
    int error;
    char reason[256];
    char alpn[256];
    char sni[256];
    rtc_tls_stats st;
};

/* ====== failure ====== */

static void tls_fail(rtc_tls_stream *s, int err, const char *what)
{
    if (s->state == RTC_TLS_FAILED) { ERR_clear_error(); return; }
    char buf[200] = "";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    long vr = s->ssl ? SSL_get_verify_result(s->ssl) : X509_V_OK;
    if (s->is_client && vr != X509_V_OK)
        snprintf(s->reason, sizeof s->reason, "%s: certificate verify failed: %s", what, X509_verify_cert_error_string(vr));
    else
        snprintf(s->reason, sizeof s->reason, "%s: %s", what, buf[0] ? buf : "TLS error");
    s->error = err;
    s->state = RTC_TLS_FAILED;
    s->ev_failed = true;
    rtc_bufq_clear(&s->early);
}

/* ====== OpenSSL pumping ====== */

static int write_plain(rtc_tls_stream *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        ERR_clear_error();
        int r = SSL_write(s->ssl, data, n);
        if (r <= 0) { tls_fail(s, RTC_ETLS, "write"); return RTC_ETLS; }
        s->st.plain_out += (uint64_t)r;
        data += r;
        len -= (size_t)r;
    }
    return 0;
}

static void opened(rtc_tls_stream *s)
{
    s->state = RTC_TLS_OPEN;
    s->ev_open = true;
    s->hs_deadline = RTC_TIME_NEVER;
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(s->ssl, &p, &n);
    if (p && n) { memcpy(s->alpn, p, n); s->alpn[n] = 0; }
    const char *sn = SSL_get_servername(s->ssl, TLSEXT_NAMETYPE_host_name);
    if (!s->is_client && sn) snprintf(s->sni, sizeof s->sni, "%s", sn);
    rtc_buf *b;
    while ((b = rtc_bufq_pop(&s->early))) {
        int r = write_plain(s, b->data, b->len);
        rtc_buf_unref(b);
        if (r < 0) return;
    }
}

/* The peer's close_notify: answer with ours so the peer can finish cleanly too. */
static void peer_closed(rtc_tls_stream *s)
{
    s->st.close_received = true;
    s->ev_closed = true;
    if (!s->st.close_sent) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);
        ERR_clear_error();
        s->st.close_sent = true;
    }
    s->state = RTC_TLS_CLOSED;
}

static void read_records(rtc_tls_stream *s)
{
    uint8_t tmp[TLS_RECORD_MAX];
    while (s->state == RTC_TLS_OPEN || (s->state == RTC_TLS_CLOSED && !s->st.close_received)) {
        ERR_clear_error();
        int r = SSL_read(s->ssl, tmp, sizeof tmp);
        if (r > 0) {
            rtc_buf *b = s->pool && (size_t)r <= RTC_POOL_BUFSIZE ? rtc_buf_alloc(s->pool, (size_t)r)
                                                                  : rtc_buf_alloc(NULL, (size_t)r);
            if (!b) { tls_fail(s, RTC_ENOMEM, "read"); return; }
            memcpy(b->data, tmp, (size_t)r);
            b->len = (size_t)r;
            rtc_bufq_push(&s->rx, b);
            s->st.plain_in += (uint64_t)r;
            continue;
        }
        int e = SSL_get_error(s->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) { ERR_clear_error(); return; }
        if (e == SSL_ERROR_ZERO_RETURN) { peer_closed(s); return; }
        tls_fail(s, RTC_ETLS, "read");
        return;
    }
}

static void advance(rtc_tls_stream *s)
{
    if (s->state == RTC_TLS_HANDSHAKING) {
        ERR_clear_error();
        int r = SSL_do_handshake(s->ssl);
        if (r == 1) {
            opened(s);
        } else {
            int e = SSL_get_error(s->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) { ERR_clear_error(); return; }
            tls_fail(s, RTC_ETLS, "handshake");
            return;
        }
    }
    read_records(s);
}

/* ====== lifecycle ====== */

static bool is_ip_literal(const char *name)
{
    unsigned char a[16];
    return inet_pton(AF_INET, name, a) == 1 || inet_pton(AF_INET6, name, a) == 1;
}

int rtc_tls_stream_new(rtc_tls_stream **out, const rtc_tls_stream_config *cfg, rtc_time now)
{
    if (!out || !cfg || !cfg->ctx) return RTC_EINVAL;
    *out = NULL;
    if (cfg->server_name && (strlen(cfg->server_name) == 0 || strlen(cfg->server_name) > 253)) return RTC_EINVAL;
    rtc_tls_stream *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->ctx = rtc_tls_context_ref(cfg->ctx);
    s->pool = cfg->pool;
    s->is_client = rtc_tls_context_role(cfg->ctx) == RTC_TLS_CLIENT;
    s->now = now;
    s->hs_deadline = now + (cfg->handshake_timeout > 0 ? cfg->handshake_timeout : RTC_SEC(10));
    s->max_early = cfg->max_early_write ? cfg->max_early_write : (1u << 20);
    ERR_clear_error();
    s->ssl = SSL_new(rtc_tls_context__ssl_ctx(s->ctx));
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        BIO_free(s->rbio);
        BIO_free(s->wbio);
        s->rbio = s->wbio = NULL;
        rtc_tls_stream_free(s);
        ERR_clear_error();
        return RTC_ENOMEM;
    }
    /* an empty rbio means "wait for more", not end of stream */
    BIO_set_mem_eof_return(s->rbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    int ok = 1;
    if (s->is_client) {
        const char *n = cfg->server_name;
        if (n && !is_ip_literal(n)) ok = SSL_set_tlsext_host_name(s->ssl, n) == 1;
        if (ok && n && rtc_tls_context_verifies(s->ctx)) {
            if (is_ip_literal(n)) ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), n) == 1;
            else ok = SSL_set1_host(s->ssl, n) == 1;
        }
        SSL_set_connect_state(s->ssl);
    } else {
        SSL_set_accept_state(s->ssl);
    }
    if (!ok) {
        rtc_tls_stream_free(s);
        ERR_clear_error();
        return RTC_EINVAL;
    }
    advance(s);                     /* a client writes its ClientHello now */
    if (s->state == RTC_TLS_FAILED) {
        rtc_tls_stream_free(s);
        return RTC_ETLS;
    }
    *out = s;
    return 0;
}

void rtc_tls_stream_free(rtc_tls_stream *s)
{
    if (!s) return;
    SSL_free(s->ssl);
    rtc_bufq_clear(&s->early);
    rtc_bufq_clear(&s->rx);
    rtc_tls_context_unref(s->ctx);
    free(s);
}

/* ====== inputs ====== */

static void set_now(rtc_tls_stream *s, rtc_time now)
{
    if (now > s->now) s->now = now;
}

int rtc_tls_stream_handle_input(rtc_tls_stream *s, const uint8_t *data, size_t len, rtc_time now)
{
    set_now(s, now);
    if (s->state == RTC_TLS_FAILED || s->st.close_received) return RTC_ECLOSED;
    if (len == 0) return 0;
    /* rbio never holds more than one partial record between calls (records are read
     * eagerly below), so feeding the whole input keeps it bounded by the input size. */
    while (len > 0) {
        int n = len > (1u << 30) ? (1 << 30) : (int)len;
        int w = BIO_write(s->rbio, data, n);
        if (w <= 0) { tls_fail(s, RTC_ENOMEM, "input"); return RTC_ENOMEM; }
        s->st.bytes_in += (uint64_t)w;
        data += w;
        len -= (size_t)w;
    }
    advance(s);
    return s->state == RTC_TLS_FAILED ? s->error : 0;
}

int rtc_tls_stream_handle_timeout(rtc_tls_stream *s, rtc_time now)
{
    set_now(s, now);
    if (s->state == RTC_TLS_HANDSHAKING && s->now >= s->hs_deadline) {
        ERR_clear_error();
        tls_fail(s, RTC_ETIMEDOUT, "handshake");
        snprintf(s->reason, sizeof s->reason, "handshake: timed out");
    }
    return 0;
}

int rtc_tls_stream_write(rtc_tls_stream *s, const uint8_t *data, size_t len, rtc_time now)
{
    set_now(s, now);
    if (s->state == RTC_TLS_FAILED || s->state == RTC_TLS_CLOSED || s->st.close_sent) return RTC_ECLOSED;
    if (len == 0) return 0;
    if (s->state == RTC_TLS_HANDSHAKING) {
        if (s->early.bytes + len > s->max_early) return RTC_EOVERFLOW;
        rtc_buf *b = rtc_buf_from(data, len);
        if (!b) return RTC_ENOMEM;
        rtc_bufq_push(&s->early, b);
        return 0;
    }
    return write_plain(s, data, len);
}

int rtc_tls_stream_close(rtc_tls_stream *s, rtc_time now)
{
    set_now(s, now);
    if (s->state == RTC_TLS_FAILED || s->st.close_sent) return 0;
    rtc_bufq_clear(&s->early);
    if (s->state == RTC_TLS_OPEN) {
        ERR_clear_error();
        SSL_shutdown(s->ssl);       /* 0: ours is queued, the peer's still to come */
        ERR_clear_error();
    }
    /* during the handshake there is no session to close: we just stop */
    s->st.close_sent = true;
    s->state = RTC_TLS_CLOSED;
    s->hs_deadline = RTC_TIME_NEVER;
    return 0;
}

/* ====== outputs ====== */

bool rtc_tls_stream_poll_transmit(rtc_tls_stream *s, rtc_buf **out)
{
    size_t pending = BIO_ctrl_pending(s->wbio);
    if (pending == 0) return false;
    size_t n = pending > TLS_OUT_CHUNK ? TLS_OUT_CHUNK : pending;
    rtc_buf *b = rtc_buf_alloc(n <= RTC_POOL_BUFSIZE ? s->pool : NULL, n);
    if (!b) return false;
    int r = BIO_read(s->wbio, b->data, (int)n);
    if (r <= 0) { rtc_buf_unref(b); return false; }
    b->len = (size_t)r;
    s->st.bytes_out += (uint64_t)r;
    *out = b;
    return true;
}

bool rtc_tls_stream_poll_event(rtc_tls_stream *s, rtc_tls_event *out)
{
    memset(out, 0, sizeof *out);
    if (s->ev_open) {
        s->ev_open = false;
        out->type = RTC_TLS_EV_OPEN;
        out->alpn = s->alpn[0] ? s->alpn : NULL;
        out->server_name = s->sni[0] ? s->sni : NULL;
        out->version = SSL_get_version(s->ssl);
        return true;
    }
    rtc_buf *b = rtc_bufq_pop(&s->rx);
    if (b) {
        out->type = RTC_TLS_EV_DATA;
        out->data = b;
        return true;
    }
    if (s->ev_closed) {
        s->ev_closed = false;
        out->type = RTC_TLS_EV_CLOSED;
        return true;
    }
    if (s->ev_failed) {
        s->ev_failed = false;
        out->type = RTC_TLS_EV_FAILED;
        out->error = s->error;
        out->reason = s->reason;
        return true;
    }
    return false;
}

rtc_time rtc_tls_stream_poll_timeout(const rtc_tls_stream *s)
{
    return s->state == RTC_TLS_HANDSHAKING ? s->hs_deadline : RTC_TIME_NEVER;
}

rtc_tls_state rtc_tls_stream_state(const rtc_tls_stream *s) { return s->state; }
const char *rtc_tls_stream_reason(const rtc_tls_stream *s) { return s->state == RTC_TLS_FAILED ? s->reason : ""; }
size_t rtc_tls_stream_read_pending(const rtc_tls_stream *s) { return s->rx.bytes; }
size_t rtc_tls_stream_write_pending(const rtc_tls_stream *s) { return s->early.bytes + BIO_ctrl_pending(s->wbio); }
void rtc_tls_stream_get_stats(const rtc_tls_stream *s, rtc_tls_stats *out) { *out = s->st; }
