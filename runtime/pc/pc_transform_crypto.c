/* Built-in frame transforms (pc_transform.h): XOR and AES-GCM, the two that browser
 * pages with RTCRtpScriptTransform can match in a few lines of JavaScript. The frame
 * format is documented in the header and docs/media.md. */
#include "pc/pc_transform.h"
#include "core/rtc_errors.h"
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define GCM_TAG 16
#define GCM_IV 12

typedef enum { CRYPTO_XOR, CRYPTO_AES_GCM } crypto_kind;

struct rtc_frame_crypto {
    crypto_kind kind;
    unsigned refs;
    uint8_t key[256];
    size_t keylen;
    /* XOR: the key repeated to a whole number of copies near 1 KiB, so the loop runs
     * a word at a time without a modulo. */
    uint8_t stream[1024];
    size_t stream_len;
    uint8_t salt[4];
    uint64_t counter;            /* AES-GCM: IV of the next encrypted frame */
    /* AES-GCM: keyed once (the key schedule costs more than a small frame); each frame
     * only sets its IV. One per direction: an object may serve a sender and a receiver. */
    EVP_CIPHER_CTX *enc, *dec;
};

size_t rtc_frame_clear_bytes(const rtc_frame_info *info, const uint8_t *frame, size_t len)
{
    size_t n = 0;
    if (info->kind == RTC_MEDIA_AUDIO) n = 1;
    else if (info->codec == RTC_CODEC_VP8) n = (len > 0 && !(frame[0] & 1)) ? 10 : 3;
    return n < len ? n : len;
}

static int crypto_alloc(rtc_frame_crypto **out, crypto_kind kind, const uint8_t *key, size_t keylen)
{
    rtc_frame_crypto *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    c->kind = kind;
    c->refs = 1;
    memcpy(c->key, key, keylen);
    c->keylen = keylen;
    *out = c;
    return 0;
}

int rtc_frame_crypto_new_xor(rtc_frame_crypto **out, const uint8_t *key, size_t keylen)
{
    if (!key || keylen == 0 || keylen > sizeof ((rtc_frame_crypto *)0)->key) return RTC_EINVAL;
    int r = crypto_alloc(out, CRYPTO_XOR, key, keylen);
    if (r < 0) return r;
    rtc_frame_crypto *c = *out;
    c->stream_len = sizeof c->stream / keylen * keylen;
    for (size_t i = 0; i < c->stream_len; i++) c->stream[i] = key[i % keylen];
    return 0;
}

int rtc_frame_crypto_new_aes_gcm(rtc_frame_crypto **out, const uint8_t *key, size_t keylen, const uint8_t salt[4])
{
    if (!key || !salt || (keylen != 16 && keylen != 32)) return RTC_EINVAL;
    int r = crypto_alloc(out, CRYPTO_AES_GCM, key, keylen);
    if (r < 0) return r;
    rtc_frame_crypto *c = *out;
    memcpy(c->salt, salt, 4);
    const EVP_CIPHER *cipher = keylen == 16 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    c->enc = EVP_CIPHER_CTX_new();
    c->dec = EVP_CIPHER_CTX_new();
    if (!c->enc || !c->dec || EVP_EncryptInit_ex(c->enc, cipher, NULL, c->key, NULL) != 1 ||
        EVP_DecryptInit_ex(c->dec, cipher, NULL, c->key, NULL) != 1) {
        rtc_frame_crypto_unref(c);
        *out = NULL;
        return RTC_ENOMEM;
    }
    return 0;
}

rtc_frame_crypto *rtc_frame_crypto_ref(rtc_frame_crypto *c)
{
    c->refs++;
    return c;
}

void rtc_frame_crypto_unref(rtc_frame_crypto *c)
{
    if (!c || --c->refs > 0) return;
    EVP_CIPHER_CTX_free(c->enc);
    EVP_CIPHER_CTX_free(c->dec);
    OPENSSL_cleanse(c->key, sizeof c->key);
    free(c);
}

void rtc_frame_crypto_release(void *ud) { rtc_frame_crypto_unref(ud); }

static int xor_frame(const rtc_frame_crypto *c, size_t clear, const uint8_t *restrict in, size_t len,
                     uint8_t *restrict out)
{
    const uint8_t *restrict ks = c->stream;
    memcpy(out, in, clear);
    for (size_t at = clear; at < len;) {
        size_t n = len - at < c->stream_len ? len - at : c->stream_len;
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {         /* a word at a time; memcpy makes unaligned loads safe */
            uint64_t a, b;
            memcpy(&a, in + at + j, 8);
            memcpy(&b, ks + j, 8);
            a ^= b;
            memcpy(out + at + j, &a, 8);
        }
        for (; j < n; j++) out[at + j] = in[at + j] ^ ks[j];
        at += n;
    }
    return (int)len;
}

static int gcm_encrypt(rtc_frame_crypto *c, size_t clear, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    if (len + GCM_TAG + GCM_IV > cap || len > INT32_MAX - GCM_TAG - GCM_IV) return RTC_EOVERFLOW;
    uint8_t iv[GCM_IV];
    memcpy(iv, c->salt, 4);
    for (int i = 0; i < 8; i++) iv[4 + i] = (uint8_t)(c->counter >> (56 - 8 * i));
    c->counter++;
    memcpy(out, in, clear);
    int n = 0, fin = 0;
    EVP_CIPHER_CTX *x = c->enc;
    if (EVP_EncryptInit_ex(x, NULL, NULL, NULL, iv) != 1 ||
        (clear && EVP_EncryptUpdate(x, NULL, &n, in, (int)clear) != 1) ||
        EVP_EncryptUpdate(x, out + clear, &n, in + clear, (int)(len - clear)) != 1 ||
        EVP_EncryptFinal_ex(x, out + clear + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, GCM_TAG, out + len) != 1)
        return RTC_EOPERATION;
    memcpy(out + len + GCM_TAG, iv, GCM_IV);
    return (int)(len + GCM_TAG + GCM_IV);
}

static int gcm_decrypt(rtc_frame_crypto *c, size_t clear, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    /* A frame from the network: too short to hold tag and IV is a counted failure. */
    if (len < clear + GCM_TAG + GCM_IV) return RTC_EPROTO;
    size_t body = len - GCM_TAG - GCM_IV;
    if (body > cap) return RTC_EOVERFLOW;
    const uint8_t *tag = in + body, *iv = in + body + GCM_TAG;
    memcpy(out, in, clear);
    int n = 0, fin = 0;
    EVP_CIPHER_CTX *x = c->dec;
    if (EVP_DecryptInit_ex(x, NULL, NULL, NULL, iv) != 1 ||
        (clear && EVP_DecryptUpdate(x, NULL, &n, in, (int)clear) != 1) ||
        EVP_DecryptUpdate(x, out + clear, &n, in + clear, (int)(body - clear)) != 1 ||
        EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, GCM_TAG, (void *)tag) != 1)
        return RTC_EOPERATION;
    if (EVP_DecryptFinal_ex(x, out + clear + n, &fin) != 1) return RTC_EAUTH;
    return (int)body;
}

int rtc_frame_crypto_transform(void *ud, const rtc_frame_info *info, const uint8_t *in, size_t len,
                               uint8_t *out, size_t out_cap)
{
    rtc_frame_crypto *c = ud;
    if (len == 0) return 0;
    size_t clear = rtc_frame_clear_bytes(info, in, len);
    if (c->kind == CRYPTO_XOR) {
        if (len > out_cap) return RTC_EOVERFLOW;
        return xor_frame(c, clear, in, len, out);
    }
    if (info->direction == RTC_PC_SEND) return gcm_encrypt(c, clear, in, len, out, out_cap);
    return gcm_decrypt(c, clear, in, len, out, out_cap);
}
