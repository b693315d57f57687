#include "dtls_cert.h"
#include "core/rtc_errors.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct rtc_dtls_cert {
    unsigned refs;
    X509 *x509;
    EVP_PKEY *pkey;
    SSL_CTX *ssl_ctx;            /* shared by this identity's transports; may be NULL */
    char fingerprint[RTC_DTLS_FINGERPRINT_MAX];
};

static int cert_wrap(rtc_dtls_cert **out, X509 *x, EVP_PKEY *k)
{
    rtc_dtls_cert *c = calloc(1, sizeof *c);
    if (!c) { X509_free(x); EVP_PKEY_free(k); return RTC_ENOMEM; }
    c->refs = 1;
    c->x509 = x;
    c->pkey = k;
    if (rtc_dtls_x509_fingerprint(x, "sha-256", c->fingerprint, sizeof c->fingerprint) < 0) {
        rtc_dtls_cert_unref(c);
        return RTC_ETLS;
    }
    *out = c;
    return 0;
}

static EVP_PKEY *cert_keygen(rtc_dtls_key_type type)
{
    if (type == RTC_DTLS_KEY_ECDSA_P256) return EVP_EC_gen("P-256");
    if (type == RTC_DTLS_KEY_RSA_2048) return EVP_RSA_gen(2048);
    return NULL;
}

int rtc_dtls_cert_generate(rtc_dtls_cert **out, rtc_dtls_key_type type, rtc_rng *rng, int64_t unix_now)
{
    if (!out || !rng || (type != RTC_DTLS_KEY_ECDSA_P256 && type != RTC_DTLS_KEY_RSA_2048))
        return RTC_EINVAL;
    EVP_PKEY *k = cert_keygen(type);
    X509 *x = X509_new();
    BIGNUM *bn = NULL;
    int rc = RTC_ETLS;
    if (!k || !x) goto fail;

    uint8_t serial[16];
    rtc_rng_bytes(rng, serial, sizeof serial);
    serial[0] &= 0x7f;                 /* a positive INTEGER, as RFC 5280 asks */
    serial[0] |= 0x01;                 /* and never with a leading zero byte */
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    time_t base = (time_t)unix_now;
    X509_NAME *name = X509_get_subject_name(x);
    if (!bn || !X509_set_version(x, 2) || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))
        || !X509_time_adj_ex(X509_getm_notBefore(x), -30, 0, &base)
        || !X509_time_adj_ex(X509_getm_notAfter(x), 365, 0, &base)
        || !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"luartc", -1, -1, 0)
        || !X509_set_issuer_name(x, name) || !X509_set_pubkey(x, k)
        || !X509_sign(x, k, EVP_sha256()))
        goto fail;
    BN_free(bn);
    return cert_wrap(out, x, k);
fail:
    BN_free(bn);
    X509_free(x);
    EVP_PKEY_free(k);
    return rc;
}

int rtc_dtls_cert_from_pem(rtc_dtls_cert **out, const char *cert_pem, size_t cert_len,
                           const char *key_pem, size_t key_len)
{
    if (!out || !cert_pem || !key_pem || cert_len > INT32_MAX || key_len > INT32_MAX) return RTC_EINVAL;
    BIO *cb = BIO_new_mem_buf(cert_pem, (int)cert_len);
    BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
    X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
    EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    BIO_free(cb);
    BIO_free(kb);
    if (!x || !k) { X509_free(x); EVP_PKEY_free(k); return RTC_EPROTO; }
    if (X509_check_private_key(x, k) != 1) { X509_free(x); EVP_PKEY_free(k); return RTC_EINVAL; }
    return cert_wrap(out, x, k);
}

static char *bio_to_string(BIO *b)
{
    char *data;
    long n = BIO_get_mem_data(b, &data);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) { memcpy(s, data, (size_t)n); s[n] = 0; }
    return s;
}

int rtc_dtls_cert_to_pem(const rtc_dtls_cert *c, char **cert_pem, char **key_pem)
{
    if (!c) return RTC_EINVAL;
    char *cs = NULL, *ks = NULL;
    if (cert_pem) {
        BIO *b = BIO_new(BIO_s_mem());
        if (b && PEM_write_bio_X509(b, c->x509)) cs = bio_to_string(b);
        BIO_free(b);
        if (!cs) return RTC_ENOMEM;
    }
    if (key_pem) {
        BIO *b = BIO_new(BIO_s_mem());
        if (b && PEM_write_bio_PrivateKey(b, c->pkey, NULL, NULL, 0, NULL, NULL)) ks = bio_to_string(b);
        BIO_free(b);
        if (!ks) { free(cs); return RTC_ENOMEM; }
    }
    if (cert_pem) *cert_pem = cs;
    if (key_pem) *key_pem = ks;
    return 0;
}

rtc_dtls_cert *rtc_dtls_cert_ref(rtc_dtls_cert *c)
{
    c->refs++;
    return c;
}

void rtc_dtls_cert_unref(rtc_dtls_cert *c)
{
    if (!c || --c->refs > 0) return;
    SSL_CTX_free(c->ssl_ctx);
    X509_free(c->x509);
    EVP_PKEY_free(c->pkey);
    free(c);
}

const char *rtc_dtls_cert_fingerprint(const rtc_dtls_cert *c) { return c->fingerprint; }
SSL_CTX *rtc_dtls_cert_ssl_ctx(const rtc_dtls_cert *c) { return c->ssl_ctx; }

void rtc_dtls_cert_set_ssl_ctx(rtc_dtls_cert *c, SSL_CTX *ctx)
{
    if (c->ssl_ctx == ctx) return;
    SSL_CTX_free(c->ssl_ctx);
    c->ssl_ctx = ctx;
}
X509 *rtc_dtls_cert_x509(const rtc_dtls_cert *c) { return c->x509; }
EVP_PKEY *rtc_dtls_cert_pkey(const rtc_dtls_cert *c) { return c->pkey; }

static const EVP_MD *fingerprint_md(const char *algo)
{
    if (!algo) return NULL;
    if (!strcasecmp(algo, "sha-1")) return EVP_sha1();
    if (!strcasecmp(algo, "sha-224")) return EVP_sha224();
    if (!strcasecmp(algo, "sha-256")) return EVP_sha256();
    if (!strcasecmp(algo, "sha-384")) return EVP_sha384();
    if (!strcasecmp(algo, "sha-512")) return EVP_sha512();
    return NULL;
}

int rtc_dtls_fingerprint_strength(const char *algo)
{
    static const char *const order[] = { "sha-1", "sha-224", "sha-256", "sha-384", "sha-512" };
    for (int i = 0; algo && i < 5; i++) if (!strcasecmp(algo, order[i])) return i + 1;
    return 0;
}

int rtc_dtls_x509_fingerprint(const X509 *x, const char *algo, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    const EVP_MD *md = fingerprint_md(algo);
    if (!md) return RTC_ENOTSUP;
    if (!x || !out) return RTC_EINVAL;
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!X509_digest(x, md, d, &n) || n == 0) return RTC_ETLS;
    if (size < (size_t)n * 3) return RTC_EOVERFLOW;
    for (unsigned i = 0; i < n; i++) {
        out[i * 3] = hex[d[i] >> 4];
        out[i * 3 + 1] = hex[d[i] & 15];
        out[i * 3 + 2] = ':';
    }
    out[n * 3 - 1] = 0;
    return (int)(n * 3 - 1);
}

int rtc_dtls_cert_fingerprint_algo(const rtc_dtls_cert *c, const char *algo, char *out, size_t size)
{
    return c ? rtc_dtls_x509_fingerprint(c->x509, algo, out, size) : RTC_EINVAL;
}

int rtc_dtls_fingerprint_equal(const char *expected, const char *actual)
{
    if (!expected || !actual) return 0;
    const char *e = expected, *a = actual;
    for (;;) {
        while (*e == ':') e++;
        while (*a == ':') a++;
        if (!*e || !*a) return !*e && !*a;
        if (toupper((unsigned char)*e) != toupper((unsigned char)*a)) return 0;
        e++; a++;
    }
}
