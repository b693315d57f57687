/* The local DTLS identity: a self-signed certificate and its private key, and the
 * fingerprints WebRTC exchanges in SDP (a=fingerprint, RFC 8122) instead of a CA chain.
 * Not a protocol machine: plain values, created and destroyed in pairs. A certificate
 * is reference-counted because one identity serves many transports (RTCCertificate). */
#ifndef RTC_DTLS_CERT_H
#define RTC_DTLS_CERT_H
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_rng.h"

struct x509_st;
struct evp_pkey_st;
struct ssl_ctx_st;

typedef struct rtc_dtls_cert rtc_dtls_cert;

typedef enum rtc_dtls_key_type {
    RTC_DTLS_KEY_ECDSA_P256 = 0,   /* what browsers generate by default */
    RTC_DTLS_KEY_RSA_2048 = 1,
} rtc_dtls_key_type;

/* "AB:CD:..." for SHA-512 is 64*3 bytes; this fits every algorithm plus the NUL. */
#define RTC_DTLS_FINGERPRINT_MAX 200

/* Generate a key and a self-signed certificate: CN "luartc", a 128-bit random serial
 * drawn from `rng` (borrowed for the call), valid from `unix_now` - 30 days to
 * `unix_now` + 365 days. `unix_now` is wall-clock seconds supplied by the caller
 * (machines read no clock). On success *out holds one ref. */
int rtc_dtls_cert_generate(rtc_dtls_cert **out, rtc_dtls_key_type type, rtc_rng *rng, int64_t unix_now);

/* Load a certificate and its private key from PEM text (both copied; need not be
 * NUL-terminated). RTC_EPROTO if either does not parse, RTC_EINVAL if the key does
 * not belong to the certificate. On success *out holds one ref. */
int rtc_dtls_cert_from_pem(rtc_dtls_cert **out, const char *cert_pem, size_t cert_len,
                           const char *key_pem, size_t key_len);

/* PEM text of the certificate and of the (unencrypted, PKCS#8) key, each NUL-terminated
 * and allocated with malloc: the caller frees both. Either pointer may be NULL. */
int rtc_dtls_cert_to_pem(const rtc_dtls_cert *c, char **cert_pem, char **key_pem);

rtc_dtls_cert *rtc_dtls_cert_ref(rtc_dtls_cert *c);  /* takes one more ref; returns c */
void rtc_dtls_cert_unref(rtc_dtls_cert *c);          /* NULL-safe; frees at 0 */

/* SHA-256 fingerprint as browsers write it: uppercase hex pairs joined by ':'.
 * Owned by the certificate, valid while it lives. */
const char *rtc_dtls_cert_fingerprint(const rtc_dtls_cert *c);

/* Fingerprint of any certificate with an SDP hash name: "sha-1", "sha-224", "sha-256",
 * "sha-384", "sha-512" (case-insensitive). `x` is borrowed for the call; `out` is the
 * caller's buffer (RTC_DTLS_FINGERPRINT_MAX is always enough). Returns the string
 * length, RTC_ENOTSUP for an unknown hash, RTC_EOVERFLOW if `out` is too small. */
int rtc_dtls_x509_fingerprint(const struct x509_st *x, const char *algo, char *out, size_t size);
int rtc_dtls_cert_fingerprint_algo(const rtc_dtls_cert *c, const char *algo, char *out, size_t size);

/* Compare two fingerprint strings, ignoring case; ':' separators are optional in
 * `expected` (some signalling strips them). Returns 1 when equal. */
int rtc_dtls_fingerprint_equal(const char *expected, const char *actual);

/* How strong an SDP hash name is, for choosing among several a=fingerprint lines
 * (RFC 8122 section 5): 0 for a hash we cannot compute, else higher is stronger
 * (sha-1 1, sha-224 2, sha-256 3, sha-384 4, sha-512 5). */
int rtc_dtls_fingerprint_strength(const char *algo);

/* The OpenSSL objects inside, borrowed (valid while the certificate lives); for
 * dtls_transport.c. */
struct x509_st *rtc_dtls_cert_x509(const rtc_dtls_cert *c);
struct evp_pkey_st *rtc_dtls_cert_pkey(const rtc_dtls_cert *c);

/* The SSL_CTX that every transport using this identity shares (OpenSSL 3 makes
 * SSL_CTX_new cost ~0.3 ms and ~20 KB, too much per peer). dtls_transport.c builds
 * it on first use and hands it over with set (the certificate then owns that
 * reference and frees it last); get returns it borrowed, or NULL. Not thread-safe:
 * a certificate shared between loops needs its context built before they start. */
struct ssl_ctx_st *rtc_dtls_cert_ssl_ctx(const rtc_dtls_cert *c);
void rtc_dtls_cert_set_ssl_ctx(rtc_dtls_cert *c, struct ssl_ctx_st *ctx);

#endif
