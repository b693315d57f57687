/* Helpers for the TLS stream tests: certificates made in memory, and a pump that moves
 * ciphertext between two streams until both are quiet. */
#ifndef TEST_TLS_PAIR_H
#define TEST_TLS_PAIR_H
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "tls/tls_stream.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* A self-signed P-256 certificate (CA:TRUE, SAN DNS:localhost and IP:127.0.0.1) as PEM
 * text; caller frees both. */
static inline void tls_make_cert(char **cert_pem, char **key_pem, const char *cn)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    ASSERT(k);
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(cn[0] * 7919 + 1));
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_set_pubkey(x, k);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1); X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    X509_add_ext(x, e, -1); X509_EXTENSION_free(e);
    ASSERT(X509_sign(x, k, EVP_sha256()) > 0);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p; long len = BIO_get_mem_data(b, &p);
    *cert_pem = strndup(p, (size_t)len);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(b, &p);
    *key_pem = strndup(p, (size_t)len);
    BIO_free(b);
    X509_free(x);
    EVP_PKEY_free(k);
}

/* What one side has seen. */
typedef struct tls_side {
    rtc_tls_stream *s;
    int open, closed, failed, fail_err;
    char reason[256], alpn[64], sni[64];
    uint8_t *got;
    size_t got_len, got_cap;
} tls_side;

static inline void tls_side_drain_events(tls_side *x)
{
    rtc_tls_event ev;
    while (rtc_tls_stream_poll_event(x->s, &ev)) {
        switch (ev.type) {
        case RTC_TLS_EV_OPEN:
            x->open++;
            if (ev.alpn) snprintf(x->alpn, sizeof x->alpn, "%s", ev.alpn);
            if (ev.server_name) snprintf(x->sni, sizeof x->sni, "%s", ev.server_name);
            ASSERT(ev.version && strncmp(ev.version, "TLSv1.", 6) == 0);
            break;
        case RTC_TLS_EV_DATA:
            if (x->got_len + ev.data->len > x->got_cap) {
                x->got_cap = (x->got_len + ev.data->len) * 2;
                x->got = realloc(x->got, x->got_cap);
                ASSERT(x->got);
            }
            memcpy(x->got + x->got_len, ev.data->data, ev.data->len);
            x->got_len += ev.data->len;
            rtc_buf_unref(ev.data);
            break;
        case RTC_TLS_EV_CLOSED: x->closed++; break;
        case RTC_TLS_EV_FAILED:
            x->failed++;
            x->fail_err = ev.error;
            snprintf(x->reason, sizeof x->reason, "%s", ev.reason);
            break;
        }
    }
}

/* Moves ciphertext both ways (in chunks of at most `chunk` bytes, 0 = whole buffers)
 * until neither side has anything to send. Returns the bytes moved. */
static inline size_t tls_pump(tls_side *a, tls_side *b, size_t chunk, rtc_time now)
{
    size_t moved = 0;
    for (int progress = 1; progress;) {
        progress = 0;
        tls_side *from[2] = { a, b }, *to[2] = { b, a };
        for (int i = 0; i < 2; i++) {
            rtc_buf *buf;
            while (from[i]->s && rtc_tls_stream_poll_transmit(from[i]->s, &buf)) {
                size_t off = 0;
                while (off < buf->len && to[i]->s) {
                    size_t n = chunk && buf->len - off > chunk ? chunk : buf->len - off;
                    rtc_tls_stream_handle_input(to[i]->s, buf->data + off, n, now);
                    off += n;
                }
                moved += buf->len;
                rtc_buf_unref(buf);
                progress = 1;
            }
            if (from[i]->s) tls_side_drain_events(from[i]);
            if (to[i]->s) tls_side_drain_events(to[i]);
        }
    }
    return moved;
}

static inline void tls_side_free(tls_side *x)
{
    rtc_tls_stream_free(x->s);
    free(x->got);
    memset(x, 0, sizeof *x);
}

#endif
