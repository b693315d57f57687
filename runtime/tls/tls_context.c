/* SSL_CTX construction from PEM files or PEM text. */
#include "tls/tls_context.h"
#include "core/rtc_errors.h"
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rtc_tls_context {
    SSL_CTX *ctx;
    unsigned refs;
    rtc_tls_role role;
    bool verify;
    unsigned char alpn[256];       /* wire format: length-prefixed names */
    size_t alpn_len;
};

/* OpenSSL's first queued error as text (or `what` alone), then an empty queue. */
static int fail_with(char *err, size_t errlen, const char *what)
{
    char buf[200] = "";
    unsigned long e = ERR_get_error();
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    if (err && errlen) snprintf(err, errlen, "%s%s%s", what, buf[0] ? ": " : "", buf);
    return RTC_ETLS;
}

/* "h2,http/1.1" -> "\x02h2\x08http/1.1"; RTC_EINVAL on an empty or over-long name. */
static int alpn_encode(const char *list, unsigned char *out, size_t cap, size_t *outlen)
{
    size_t n = 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0 || len > 255 || n + 1 + len > cap) return RTC_EINVAL;
        out[n++] = (unsigned char)len;
        memcpy(out + n, p, len);
        n += len;
        p += len + (e ? 1 : 0);
        if (e && !*p) return RTC_EINVAL;
    }
    *outlen = n;
    return n ? 0 : RTC_EINVAL;
}

/* Server side of ALPN: our order wins (RFC 7301 lets the server choose). */
static int alpn_select_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    rtc_tls_context *c = arg;
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, c->alpn, (unsigned)c->alpn_len, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static int use_pem_identity(SSL_CTX *ctx, const char *cert_pem, const char *key_pem, char *err, size_t errlen)
{
    BIO *b = BIO_new_mem_buf(cert_pem, -1);
    if (!b) return RTC_ENOMEM;
    X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
    int ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
    X509_free(leaf);
    if (ok) {
        SSL_CTX_clear_chain_certs(ctx);
        X509 *ca;
        while (ok && (ca = PEM_read_bio_X509(b, NULL, NULL, NULL)))
            if (SSL_CTX_add0_chain_cert(ctx, ca) != 1) { X509_free(ca); ok = 0; }
        ERR_clear_error();          /* the loop ends on "no start line" */
    }
    BIO_free(b);
    if (!ok) return fail_with(err, errlen, "certificate");
    b = BIO_new_mem_buf(key_pem, -1);
    if (!b) return RTC_ENOMEM;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    ok = k && SSL_CTX_use_PrivateKey(ctx, k) == 1;
    EVP_PKEY_free(k);
    return ok ? 0 : fail_with(err, errlen, "private key");
}

static int add_pem_anchors(SSL_CTX *ctx, const char *pem, char *err, size_t errlen)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (!b) return RTC_ENOMEM;
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    int n = 0;
    X509 *x;
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL))) {
        if (X509_STORE_add_cert(st, x) == 1) n++;
        X509_free(x);
    }
    ERR_clear_error();
    BIO_free(b);
    if (n == 0) {
        if (err && errlen) snprintf(err, errlen, "CA: no certificate in the PEM text");
        return RTC_ETLS;
    }
    return 0;
}

int rtc_tls_context_new(rtc_tls_context **out, const rtc_tls_context_config *cfg, char *err, size_t errlen)
{
    if (err && errlen) err[0] = 0;
    if (!out || !cfg) return RTC_EINVAL;
    *out = NULL;
    bool have_cert = cfg->cert_pem || cfg->cert_file, have_key = cfg->key_pem || cfg->key_file;
    if (cfg->role == RTC_TLS_SERVER && (!have_cert || !have_key)) {
        if (err && errlen) snprintf(err, errlen, "a TLS server needs a certificate and a key");
        return RTC_EINVAL;
    }
    if (have_cert != have_key) {
        if (err && errlen) snprintf(err, errlen, "certificate and key go together");
        return RTC_EINVAL;
    }
    rtc_tls_context *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    c->refs = 1;
    c->role = cfg->role;
    if (cfg->alpn && alpn_encode(cfg->alpn, c->alpn, sizeof c->alpn, &c->alpn_len) < 0) {
        if (err && errlen) snprintf(err, errlen, "bad ALPN list");
        free(c);
        return RTC_EINVAL;
    }
    ERR_clear_error();
    c->ctx = SSL_CTX_new(cfg->role == RTC_TLS_SERVER ? TLS_server_method() : TLS_client_method());
    int r = RTC_ENOMEM;
    if (!c->ctx) goto fail;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    /* memory BIOs never block, so a partial write would only add bookkeeping */
    SSL_CTX_set_mode(c->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
    if (have_cert) {
        if (cfg->cert_pem && cfg->key_pem) {
            r = use_pem_identity(c->ctx, cfg->cert_pem, cfg->key_pem, err, errlen);
            if (r < 0) goto fail;
        } else {
            r = RTC_ETLS;
            const char *cf = cfg->cert_file, *kf = cfg->key_file;
            if (!cf || !kf) {
                if (err && errlen) snprintf(err, errlen, "give both PEM texts or both PEM files");
                r = RTC_EINVAL;
                goto fail;
            }
            if (SSL_CTX_use_certificate_chain_file(c->ctx, cf) != 1) { fail_with(err, errlen, cf); goto fail; }
            if (SSL_CTX_use_PrivateKey_file(c->ctx, kf, SSL_FILETYPE_PEM) != 1) { fail_with(err, errlen, kf); goto fail; }
        }
        if (SSL_CTX_check_private_key(c->ctx) != 1) { r = fail_with(err, errlen, "key does not match certificate"); goto fail; }
    }
    if (cfg->role == RTC_TLS_CLIENT) {
        c->verify = !cfg->insecure;
        if (c->verify) {
            if (cfg->ca_file && SSL_CTX_load_verify_locations(c->ctx, cfg->ca_file, NULL) != 1) {
                r = fail_with(err, errlen, cfg->ca_file);
                goto fail;
            }
            if (cfg->ca_pem && (r = add_pem_anchors(c->ctx, cfg->ca_pem, err, errlen)) < 0) goto fail;
            if (!cfg->ca_file && !cfg->ca_pem) SSL_CTX_set_default_verify_paths(c->ctx);
            SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        } else {
            SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        }
        if (c->alpn_len && SSL_CTX_set_alpn_protos(c->ctx, c->alpn, (unsigned)c->alpn_len) != 0) {
            r = fail_with(err, errlen, "ALPN");
            goto fail;
        }
    } else {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        if (c->alpn_len) SSL_CTX_set_alpn_select_cb(c->ctx, alpn_select_cb, c);
    }
    ERR_clear_error();
    *out = c;
    return 0;
fail:
    ERR_clear_error();
    SSL_CTX_free(c->ctx);
    free(c);
    return r;
}

rtc_tls_context *rtc_tls_context_ref(rtc_tls_context *c)
{
    c->refs++;
    return c;
}

void rtc_tls_context_unref(rtc_tls_context *c)
{
    if (!c || --c->refs > 0) return;
    SSL_CTX_free(c->ctx);
    free(c);
}

rtc_tls_role rtc_tls_context_role(const rtc_tls_context *c) { return c->role; }
bool rtc_tls_context_verifies(const rtc_tls_context *c) { return c->verify; }
struct ssl_ctx_st *rtc_tls_context__ssl_ctx(rtc_tls_context *c) { return c->ctx; }
