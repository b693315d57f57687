#include "http_crypto.h"
#include "core/rtc_errors.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

static const char b64_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int rtc_base64_encode(const uint8_t *in, size_t len, char *out, size_t cap, bool url)
{
    const char *a = url ? b64_url : b64_std;
    size_t full = len / 3, rest = len % 3;
    size_t need = full * 4 + (rest ? (url ? rest + 1 : 4) : 0);
    if (need + 1 > cap || need > INT32_MAX) return RTC_EOVERFLOW;
    char *o = out;
    for (size_t i = 0; i < full; i++, in += 3) {
        uint32_t v = (uint32_t)in[0] << 16 | (uint32_t)in[1] << 8 | in[2];
        *o++ = a[v >> 18]; *o++ = a[(v >> 12) & 63]; *o++ = a[(v >> 6) & 63]; *o++ = a[v & 63];
    }
    if (rest) {
        uint32_t v = (uint32_t)in[0] << 16 | (rest == 2 ? (uint32_t)in[1] << 8 : 0);
        *o++ = a[v >> 18];
        *o++ = a[(v >> 12) & 63];
        if (rest == 2) *o++ = a[(v >> 6) & 63];
        if (!url) { if (rest == 1) *o++ = '='; *o++ = '='; }
    }
    *o = '\0';
    return (int)need;
}

static int b64_val(char c, bool url)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == (url ? '-' : '+')) return 62;
    if (c == (url ? '_' : '/')) return 63;
    return -1;
}

int rtc_base64_decode(const char *in, size_t len, uint8_t *out, size_t cap, bool url)
{
    size_t pad = 0;
    if (!url) {
        if (len % 4) return RTC_EPROTO;
        if (len && in[len - 1] == '=') pad++;
        if (len > 1 && in[len - 2] == '=') pad++;
        len -= pad;
    }
    if (len % 4 == 1) return RTC_EPROTO;            /* 6 bits cannot end a byte string */
    size_t outlen = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (!url && pad != (len % 4 ? 4 - len % 4 : 0)) return RTC_EPROTO;
    if (outlen > cap) return RTC_EOVERFLOW;
    if (outlen > INT32_MAX) return RTC_ETOOBIG;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_val(in[i], url);
        if (v < 0) return RTC_EPROTO;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return RTC_EPROTO;               /* leftover bits must be zero: one encoding per value */
    return (int)o;
}

void rtc_sha1(const void *data, size_t len, uint8_t out[RTC_SHA1_LEN])
{
    SHA1(data, len, out);
}

static int hmac(const EVP_MD *md, const void *key, size_t key_len, const void *msg, size_t msg_len,
                uint8_t *out, unsigned int want)
{
    unsigned int n = 0;
    static const uint8_t empty;
    if (key_len > INT32_MAX) return RTC_EINVAL;
    if (!HMAC(md, key_len ? key : &empty, (int)key_len, msg_len ? msg : &empty, msg_len, out, &n) ||
        n != want)
        return RTC_EINVAL;
    return 0;
}

int rtc_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
                  uint8_t out[RTC_SHA1_LEN])
{
    return hmac(EVP_sha1(), key, key_len, msg, msg_len, out, RTC_SHA1_LEN);
}

int rtc_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[RTC_SHA256_LEN])
{
    return hmac(EVP_sha256(), key, key_len, msg, msg_len, out, RTC_SHA256_LEN);
}

int rtc_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                        char out[65])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t mac[RTC_SHA256_LEN];
    int r = rtc_hmac_sha256(key, key_len, msg, msg_len, mac);
    if (r < 0) return r;
    for (int i = 0; i < RTC_SHA256_LEN; i++) {
        out[2 * i] = hex[mac[i] >> 4];
        out[2 * i + 1] = hex[mac[i] & 15];
    }
    out[64] = '\0';
    return 64;
}

int rtc_hmac_sha256_b64url(const void *key, size_t key_len, const void *msg, size_t msg_len,
                           char out[44])
{
    uint8_t mac[RTC_SHA256_LEN];
    int r = rtc_hmac_sha256(key, key_len, msg, msg_len, mac);
    if (r < 0) return r;
    return rtc_base64_encode(mac, sizeof mac, out, 44, true);
}

bool rtc_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
    if (alen != blen) return false;
    const volatile uint8_t *x = a, *y = b;
    uint8_t d = 0;
    for (size_t i = 0; i < alen; i++) d |= x[i] ^ y[i];
    return d == 0;
}
