/* STUN message building into caller buffers (RFC 8489, RFC 8656 attributes). */
#include "stun.h"
#include "core/rtc_errors.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

void rtc_stun_writer_init(rtc_stun_writer *w, uint8_t *buf, size_t cap,
                          uint16_t method, uint8_t cls, const uint8_t tid[RTC_STUN_TID_LEN])
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->err = 0;
    if (cap < RTC_STUN_HDR) { w->err = RTC_EOVERFLOW; return; }
    uint16_t type = (uint16_t)((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
                               ((cls & 1) << 4) | ((cls & 2) << 7));
    rtc_wr16(buf, type);
    rtc_wr16(buf + 2, 0);
    rtc_wr32(buf + 4, RTC_STUN_MAGIC);
    memcpy(buf + 8, tid, RTC_STUN_TID_LEN);
    w->len = RTC_STUN_HDR;
}

/* Reserve an attribute of `len` value bytes; returns the value pointer or NULL. The
 * header length is kept current so integrity and fingerprint see the right value. */
static uint8_t *attr_begin(rtc_stun_writer *w, uint16_t type, size_t len)
{
    if (w->err) return NULL;
    size_t padded = (len + 3) & ~(size_t)3;
    if (len > 0xFFFF || w->len + 4 + padded > w->cap || w->len + 4 + padded - RTC_STUN_HDR > 0xFFFF) {
        w->err = RTC_EOVERFLOW;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    rtc_wr16(p, type);
    rtc_wr16(p + 2, (uint16_t)len);
    memset(p + 4 + len, 0, padded - len);
    w->len += 4 + padded;
    rtc_wr16(w->buf + 2, (uint16_t)(w->len - RTC_STUN_HDR));
    return p + 4;
}

void rtc_stun_put(rtc_stun_writer *w, uint16_t type, const void *val, size_t len)
{
    uint8_t *v = attr_begin(w, type, len);
    if (v && len) memcpy(v, val, len);
}

void rtc_stun_put_flag(rtc_stun_writer *w, uint16_t type) { attr_begin(w, type, 0); }

void rtc_stun_put_u32(rtc_stun_writer *w, uint16_t type, uint32_t x)
{
    uint8_t *v = attr_begin(w, type, 4);
    if (v) rtc_wr32(v, x);
}

void rtc_stun_put_u64(rtc_stun_writer *w, uint16_t type, uint64_t x)
{
    uint8_t *v = attr_begin(w, type, 8);
    if (v) rtc_wr64(v, x);
}

void rtc_stun_put_str(rtc_stun_writer *w, uint16_t type, rtc_str s)
{
    rtc_stun_put(w, type, s.p, s.len);
}

void rtc_stun_put_addr(rtc_stun_writer *w, uint16_t type, const rtc_addr *a)
{
    size_t n = 0;
    const uint8_t *ip = rtc_addr_bytes(a, &n);
    if (!ip || (n != 4 && n != 16)) { if (!w->err) w->err = RTC_EINVAL; return; }
    uint8_t *v = attr_begin(w, type, 4 + n);
    if (!v) return;
    uint16_t port = rtc_addr_port(a);
    v[0] = 0;
    v[1] = n == 4 ? 1 : 2;
    memcpy(v + 4, ip, n);
    if (type == RTC_STUN_ATTR_XOR_MAPPED_ADDRESS || type == RTC_STUN_ATTR_XOR_PEER_ADDRESS ||
        type == RTC_STUN_ATTR_XOR_RELAYED_ADDRESS) {
        port ^= (uint16_t)(RTC_STUN_MAGIC >> 16);
        uint8_t mask[16];
        rtc_wr32(mask, RTC_STUN_MAGIC);
        memcpy(mask + 4, w->buf + 8, RTC_STUN_TID_LEN);
        for (size_t i = 0; i < n; i++) v[4 + i] ^= mask[i];
    }
    rtc_wr16(v + 2, port);
}

void rtc_stun_put_error(rtc_stun_writer *w, int code, rtc_str reason)
{
    if (code < 300 || code > 699) { if (!w->err) w->err = RTC_EINVAL; return; }
    if (reason.len > 763) reason.len = 763;          /* RFC 8489: < 128 characters, <= 763 bytes */
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_ERROR_CODE, 4 + reason.len);
    if (!v) return;
    v[0] = v[1] = 0;
    v[2] = (uint8_t)(code / 100);
    v[3] = (uint8_t)(code % 100);
    if (reason.len) memcpy(v + 4, reason.p, reason.len);
}

void rtc_stun_put_unknown(rtc_stun_writer *w, const uint16_t *types, int n)
{
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES, (size_t)n * 2);
    if (!v) return;
    for (int i = 0; i < n; i++) rtc_wr16(v + 2 * i, types[i]);
}

void rtc_stun_put_channel(rtc_stun_writer *w, uint16_t channel)
{
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_CHANNEL_NUMBER, 4);
    if (v) { rtc_wr16(v, channel); rtc_wr16(v + 2, 0); }
}

void rtc_stun_put_transport(rtc_stun_writer *w, uint8_t proto)
{
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_REQUESTED_TRANSPORT, 4);
    if (v) { v[0] = proto; v[1] = v[2] = v[3] = 0; }
}

void rtc_stun_put_family(rtc_stun_writer *w, uint16_t type, int af)
{
    uint8_t *v = attr_begin(w, type, 4);
    if (v) { v[0] = af == AF_INET6 ? 2 : 1; v[1] = v[2] = v[3] = 0; }
}

void rtc_stun_put_even_port(rtc_stun_writer *w, bool reserve_next)
{
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_EVEN_PORT, 1);
    if (v) v[0] = reserve_next ? 0x80 : 0;
}

void rtc_stun_put_pwalg(rtc_stun_writer *w, uint16_t type, const uint16_t *algs, int n)
{
    uint8_t *v = attr_begin(w, type, (size_t)n * 4);
    if (!v) return;
    for (int i = 0; i < n; i++) { rtc_wr16(v + 4 * i, algs[i]); rtc_wr16(v + 4 * i + 2, 0); }
}

static void put_mac(rtc_stun_writer *w, uint16_t type, const EVP_MD *md, size_t maclen,
                    const uint8_t *key, size_t keylen)
{
    size_t at = w->len;
    uint8_t *v = attr_begin(w, type, maclen);   /* sets the header length to include it */
    if (!v) return;
    uint8_t mac[EVP_MAX_MD_SIZE];
    unsigned int olen = 0;
    if (!HMAC(md, key, (int)keylen, w->buf, at, mac, &olen) || olen < maclen) {
        w->err = RTC_EINVAL;
        return;
    }
    memcpy(v, mac, maclen);
}

void rtc_stun_put_integrity(rtc_stun_writer *w, const uint8_t *key, size_t keylen)
{
    put_mac(w, RTC_STUN_ATTR_MESSAGE_INTEGRITY, EVP_sha1(), 20, key, keylen);
}

void rtc_stun_put_integrity_sha256(rtc_stun_writer *w, const uint8_t *key, size_t keylen)
{
    put_mac(w, RTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256, EVP_sha256(), 32, key, keylen);
}

void rtc_stun_put_fingerprint(rtc_stun_writer *w)
{
    size_t at = w->len;
    uint8_t *v = attr_begin(w, RTC_STUN_ATTR_FINGERPRINT, 4);
    if (v) rtc_wr32(v, rtc_stun_crc32(w->buf, at) ^ 0x5354554eu);
}

int rtc_stun_finish(rtc_stun_writer *w)
{
    return w->err ? w->err : (int)w->len;
}

int rtc_stun_build_error(const rtc_stun_msg *req, int code, const char *reason,
                         uint8_t *buf, size_t cap)
{
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, cap, req->method, RTC_STUN_ERROR, req->tid);
    rtc_stun_put_error(&w, code, rtc_str_c(reason ? reason : ""));
    if (code == 420 && req->nunknown > 0) rtc_stun_put_unknown(&w, req->unknown, req->nunknown);
    rtc_stun_put_fingerprint(&w);
    return rtc_stun_finish(&w);
}
