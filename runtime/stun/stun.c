/* STUN parsing, attribute decoding and integrity (RFC 8489). */
#include "stun.h"
#include "core/rtc_errors.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];
static pthread_once_t crc_ready = PTHREAD_ONCE_INIT;   /* worker threads share the table */

/* Built once (pthread_once): worker threads may verify STUN at the same time. */
static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t rtc_stun_crc32(const uint8_t *p, size_t len)
{
    pthread_once(&crc_ready, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

bool rtc_stun_is_stun(const uint8_t *p, size_t len)
{
    return len >= RTC_STUN_HDR && (p[0] & 0xC0) == 0 && rtc_rd32(p + 4) == RTC_STUN_MAGIC;
}

static bool known_attr(uint16_t t)
{
    switch (t) {
    case RTC_STUN_ATTR_MAPPED_ADDRESS: case RTC_STUN_ATTR_USERNAME:
    case RTC_STUN_ATTR_MESSAGE_INTEGRITY: case RTC_STUN_ATTR_ERROR_CODE:
    case RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES: case RTC_STUN_ATTR_CHANNEL_NUMBER:
    case RTC_STUN_ATTR_LIFETIME: case RTC_STUN_ATTR_XOR_PEER_ADDRESS: case RTC_STUN_ATTR_DATA:
    case RTC_STUN_ATTR_REALM: case RTC_STUN_ATTR_NONCE: case RTC_STUN_ATTR_XOR_RELAYED_ADDRESS:
    case RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY: case RTC_STUN_ATTR_EVEN_PORT:
    case RTC_STUN_ATTR_REQUESTED_TRANSPORT: case RTC_STUN_ATTR_DONT_FRAGMENT:
    case RTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256: case RTC_STUN_ATTR_PASSWORD_ALGORITHM:
    case RTC_STUN_ATTR_USERHASH: case RTC_STUN_ATTR_XOR_MAPPED_ADDRESS:
    case RTC_STUN_ATTR_RESERVATION_TOKEN: case RTC_STUN_ATTR_PRIORITY:
    case RTC_STUN_ATTR_USE_CANDIDATE:
        return true;
    default:
        return t >= 0x8000;          /* comprehension-optional: always "known enough" */
    }
}

int rtc_stun_frame_len(const uint8_t *p, size_t len)
{
    if (len < 4) return 0;
    if ((p[0] & 0xC0) == 0) {                     /* STUN */
        uint16_t l = rtc_rd16(p + 2);
        if (l & 3) return RTC_EPROTO;
        return RTC_STUN_HDR + l;
    }
    if (p[0] >= 0x40 && p[0] <= 0x4F) {           /* ChannelData: padded on streams */
        uint16_t l = rtc_rd16(p + 2);
        return 4 + ((l + 3) & ~3);
    }
    return RTC_EPROTO;
}

int rtc_stun_parse(const uint8_t *p, size_t len, rtc_stun_msg *m)
{
    if (!p || len < RTC_STUN_HDR) return RTC_ETRUNC;
    if ((p[0] & 0xC0) != 0) return RTC_EPROTO;
    uint16_t blen = rtc_rd16(p + 2);
    if (blen & 3) return RTC_EPROTO;
    if (rtc_rd32(p + 4) != RTC_STUN_MAGIC) return RTC_EPROTO;
    if ((size_t)blen + RTC_STUN_HDR > len) return RTC_ETRUNC;
    if ((size_t)blen + RTC_STUN_HDR < len) return RTC_EPROTO;

    m->raw = p;
    m->len = len;
    m->type = rtc_rd16(p);
    m->method = (uint16_t)((m->type & 0x000F) | ((m->type & 0x00E0) >> 1) | ((m->type & 0x3E00) >> 2));
    m->cls = (uint8_t)(((m->type >> 4) & 1) | ((m->type >> 7) & 2));
    memcpy(m->tid, p + 8, RTC_STUN_TID_LEN);
    m->nattrs = 0;
    m->integrity_at = -1;
    m->integrity256_at = -1;
    m->has_fingerprint = false;
    m->nunknown = 0;

    size_t off = RTC_STUN_HDR;
    bool after_mi = false;
    while (off < len) {
        if (len - off < 4) return RTC_ETRUNC;
        uint16_t t = rtc_rd16(p + off), l = rtc_rd16(p + off + 2);
        size_t padded = ((size_t)l + 3) & ~(size_t)3;
        if (padded > len - off - 4) return RTC_ETRUNC;
        if (m->has_fingerprint) return RTC_EPROTO;          /* FINGERPRINT must be last */
        if (t == RTC_STUN_ATTR_FINGERPRINT) {
            if (l != 4) return RTC_EPROTO;
            /* The CRC covers the message up to this attribute with the length field as sent
             * (which already includes FINGERPRINT, since it is last). */
            if (off + 8 != len) return RTC_EPROTO;
            uint32_t crc = rtc_stun_crc32(p, off) ^ 0x5354554eu;
            if (crc != rtc_rd32(p + off + 4)) return RTC_EPROTO;
            m->has_fingerprint = true;
        } else if (t == RTC_STUN_ATTR_MESSAGE_INTEGRITY) {
            if (l != 20 || m->integrity_at >= 0 || m->integrity256_at >= 0) return RTC_EPROTO;
            m->integrity_at = (int)off;
            after_mi = true;
        } else if (t == RTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
            if (l < 16 || l > 32 || (l & 3) || m->integrity256_at >= 0) return RTC_EPROTO;
            m->integrity256_at = (int)off;
            after_mi = true;
        } else if (after_mi) {
            off += 4 + padded;                                /* ignored per RFC 8489 14.5 */
            continue;
        } else if (!known_attr(t) && m->nunknown < RTC_STUN_MAX_UNKNOWN) {
            m->unknown[m->nunknown++] = t;
        }
        if (m->nattrs == RTC_STUN_MAX_ATTRS) return RTC_EPROTO;
        m->attrs[m->nattrs++] = (rtc_stun_attr){ t, l, p + off + 4 };
        off += 4 + padded;
    }
    return 0;
}

const rtc_stun_attr *rtc_stun_find(const rtc_stun_msg *m, uint16_t type)
{
    for (int i = 0; i < m->nattrs; i++)
        if (m->attrs[i].type == type) return &m->attrs[i];
    return NULL;
}

static bool is_xor_type(uint16_t t)
{
    return t == RTC_STUN_ATTR_XOR_MAPPED_ADDRESS || t == RTC_STUN_ATTR_XOR_PEER_ADDRESS ||
           t == RTC_STUN_ATTR_XOR_RELAYED_ADDRESS;
}

int rtc_stun_get_addr(const rtc_stun_msg *m, uint16_t type, rtc_addr *out)
{
    const rtc_stun_attr *a = rtc_stun_find(m, type);
    if (!a) return RTC_ENOTFOUND;
    if (a->len < 4) return RTC_EPROTO;
    uint8_t fam = a->val[1];
    uint16_t port = rtc_rd16(a->val + 2);
    uint8_t ip[16];
    size_t n;
    if (fam == 1) n = 4;
    else if (fam == 2) n = 16;
    else return RTC_EPROTO;
    if (a->len != 4 + n) return RTC_EPROTO;
    memcpy(ip, a->val + 4, n);
    if (is_xor_type(type)) {
        port ^= (uint16_t)(RTC_STUN_MAGIC >> 16);
        uint8_t mask[16];
        rtc_wr32(mask, RTC_STUN_MAGIC);
        memcpy(mask + 4, m->tid, RTC_STUN_TID_LEN);
        for (size_t i = 0; i < n; i++) ip[i] ^= mask[i];
    }
    rtc_addr_from_bytes(out, fam == 1 ? AF_INET : AF_INET6, ip, port);
    return 0;
}

int rtc_stun_get_u32(const rtc_stun_msg *m, uint16_t type, uint32_t *out)
{
    const rtc_stun_attr *a = rtc_stun_find(m, type);
    if (!a) return RTC_ENOTFOUND;
    if (a->len != 4) return RTC_EPROTO;
    *out = rtc_rd32(a->val);
    return 0;
}

int rtc_stun_get_u64(const rtc_stun_msg *m, uint16_t type, uint64_t *out)
{
    const rtc_stun_attr *a = rtc_stun_find(m, type);
    if (!a) return RTC_ENOTFOUND;
    if (a->len != 8) return RTC_EPROTO;
    *out = rtc_rd64(a->val);
    return 0;
}

int rtc_stun_get_str(const rtc_stun_msg *m, uint16_t type, rtc_str *out)
{
    const rtc_stun_attr *a = rtc_stun_find(m, type);
    if (!a) return RTC_ENOTFOUND;
    out->p = (const char *)a->val;
    out->len = a->len;
    return 0;
}

int rtc_stun_get_error(const rtc_stun_msg *m, int *code, rtc_str *reason)
{
    const rtc_stun_attr *a = rtc_stun_find(m, RTC_STUN_ATTR_ERROR_CODE);
    if (!a) return RTC_ENOTFOUND;
    if (a->len < 4) return RTC_EPROTO;
    int cls = a->val[2] & 7, num = a->val[3];
    if (cls < 3 || cls > 6 || num > 99) return RTC_EPROTO;
    *code = cls * 100 + num;
    if (reason) { reason->p = (const char *)a->val + 4; reason->len = a->len - 4u; }
    return 0;
}

int rtc_stun_get_channel(const rtc_stun_msg *m, uint16_t *out)
{
    const rtc_stun_attr *a = rtc_stun_find(m, RTC_STUN_ATTR_CHANNEL_NUMBER);
    if (!a) return RTC_ENOTFOUND;
    if (a->len != 4) return RTC_EPROTO;
    *out = rtc_rd16(a->val);
    return 0;
}

/* HMAC over the message prefix [0, at) with the header length rewritten so that it ends
 * right after the integrity attribute at `at` whose value is `vlen` bytes long. */
static int hmac_prefix(const rtc_stun_msg *m, size_t at, size_t vlen, const EVP_MD *md,
                       const uint8_t *key, size_t keylen, uint8_t *out)
{
    uint8_t stackbuf[1500];
    uint8_t *tmp = at <= sizeof stackbuf ? stackbuf : malloc(at);
    if (!tmp) return RTC_ENOMEM;
    memcpy(tmp, m->raw, at);
    rtc_wr16(tmp + 2, (uint16_t)(at - RTC_STUN_HDR + 4 + vlen));
    unsigned int olen = 0;
    uint8_t *r = HMAC(md, key, (int)keylen, tmp, at, out, &olen);
    if (tmp != stackbuf) free(tmp);
    return r ? (int)olen : RTC_EAUTH;
}

static int ct_memeq(const uint8_t *a, const uint8_t *b, size_t n)
{
    uint8_t d = 0;
    for (size_t i = 0; i < n; i++) d |= a[i] ^ b[i];
    return d == 0;
}

int rtc_stun_check_integrity(const rtc_stun_msg *m, const uint8_t *key, size_t keylen)
{
    uint8_t mac[64];
    if (m->integrity256_at >= 0) {
        size_t at = (size_t)m->integrity256_at;
        size_t vlen = rtc_rd16(m->raw + at + 2);
        int n = hmac_prefix(m, at, vlen, EVP_sha256(), key, keylen, mac);
        if (n < 0) return n;
        return ct_memeq(mac, m->raw + at + 4, vlen) ? 0 : RTC_EAUTH;
    }
    if (m->integrity_at < 0) return RTC_ENOTFOUND;
    size_t at = (size_t)m->integrity_at;
    int n = hmac_prefix(m, at, 20, EVP_sha1(), key, keylen, mac);
    if (n < 0) return n;
    return ct_memeq(mac, m->raw + at + 4, 20) ? 0 : RTC_EAUTH;
}

int rtc_stun_long_term_key(rtc_str user, rtc_str realm, rtc_str pass, int alg, uint8_t out[32])
{
    const EVP_MD *md = alg == RTC_STUN_PWALG_SHA256 ? EVP_sha256() : alg == RTC_STUN_PWALG_MD5 ? EVP_md5() : NULL;
    if (!md) return RTC_EINVAL;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return RTC_ENOMEM;
    unsigned int n = 0;
    int ok = EVP_DigestInit_ex(c, md, NULL) &&
             EVP_DigestUpdate(c, user.p, user.len) && EVP_DigestUpdate(c, ":", 1) &&
             EVP_DigestUpdate(c, realm.p, realm.len) && EVP_DigestUpdate(c, ":", 1) &&
             EVP_DigestUpdate(c, pass.p, pass.len) && EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
    return ok ? (int)n : RTC_EINVAL;
}

int rtc_stun_userhash(rtc_str user, rtc_str realm, uint8_t out[32])
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c) return RTC_ENOMEM;
    unsigned int n = 0;
    int ok = EVP_DigestInit_ex(c, EVP_sha256(), NULL) && EVP_DigestUpdate(c, user.p, user.len) &&
             EVP_DigestUpdate(c, ":", 1) && EVP_DigestUpdate(c, realm.p, realm.len) &&
             EVP_DigestFinal_ex(c, out, &n);
    EVP_MD_CTX_free(c);
    return ok && n == 32 ? 0 : RTC_EINVAL;
}

const char *rtc_stun_method_name(uint16_t method)
{
    switch (method) {
    case RTC_STUN_BINDING: return "Binding";
    case RTC_STUN_ALLOCATE: return "Allocate";
    case RTC_STUN_REFRESH: return "Refresh";
    case RTC_STUN_SEND: return "Send";
    case RTC_STUN_DATA: return "Data";
    case RTC_STUN_CREATE_PERMISSION: return "CreatePermission";
    case RTC_STUN_CHANNEL_BIND: return "ChannelBind";
    default: return "Unknown";
    }
}
