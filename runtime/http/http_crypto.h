/* Small encoding and MAC helpers the signaling server needs: base64 (RFC 4648 §4) and
 * base64url (§5, unpadded), HMAC-SHA256 for signed tokens, SHA-1 for the WebSocket
 * accept key, and a comparison whose time does not depend on where inputs differ.
 * All functions are pure; digests come from OpenSSL. */
#ifndef RTC_HTTP_CRYPTO_H
#define RTC_HTTP_CRYPTO_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes needed to encode n bytes, including the terminating NUL. */
#define RTC_BASE64_ENCLEN(n) ((((n) + 2) / 3) * 4 + 1)
/* Upper bound of decoded bytes for an n-character input. */
#define RTC_BASE64_DECLEN(n) (((n) + 3) / 4 * 3)

/* Encode `len` bytes of `in` (borrowed) into `out` (caller's, `cap` bytes, NUL-terminated).
 * Returns the string length, or RTC_EOVERFLOW if `cap` < RTC_BASE64_ENCLEN(len).
 * `url` selects the URL-safe alphabet without padding. */
int rtc_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, bool url);
/* Decode `len` characters of `in` into `out` (`cap` bytes). Standard base64 must be
 * canonically padded; base64url must be unpadded. Whitespace and non-alphabet
 * characters, and non-zero unused trailing bits, are rejected (RTC_EPROTO), so every
 * byte string has exactly one accepted encoding. Returns the decoded length,
 * RTC_EPROTO, or RTC_EOVERFLOW. */
int rtc_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, bool url);

#define RTC_SHA1_LEN 20
#define RTC_SHA256_LEN 32
void rtc_sha1(const void *data, size_t len, uint8_t out[RTC_SHA1_LEN]);
/* HMAC-SHA256 of `msg` under `key` (both borrowed). Returns 0 or RTC_EINVAL. */
int rtc_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[RTC_SHA256_LEN]);
/* HMAC-SHA1, for TURN REST credentials (password = base64(HMAC-SHA1(secret,
 * "expiry:user")), the form coturn's use-auth-secret checks). Returns 0 or RTC_EINVAL. */
int rtc_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                  uint8_t out[RTC_SHA1_LEN]);
/* HMAC-SHA256 as lowercase hex (65 bytes with NUL) or unpadded base64url (44 bytes
 * with NUL). Return the string length or a negative RTC_E*. */
int rtc_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        char out[65]);
int rtc_hmac_sha256_b64url(const void *key, size_t key_len, const void *msg, size_t msg_len,
                           char out[44]);

/* true when a and b hold the same bytes. Time depends only on the lengths, so a
 * token check does not leak how many leading bytes matched. */
bool rtc_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

#endif
