/* STUN codec (RFC 8489) with the attributes ICE (RFC 8445) and TURN (RFC 8656) use.
 * Parsing is pure: rtc_stun_parse() takes bytes and fills a view that points into them;
 * it never allocates and never touches an agent. Building writes into a caller buffer.
 * Both are safe on hostile input: every length is checked before it is read. */
#ifndef RTC_STUN_H
#define RTC_STUN_H
#include "core/rtc_addr.h"
#include "core/rtc_bytes.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_STUN_MAGIC      0x2112A442u
#define RTC_STUN_HDR        20
#define RTC_STUN_TID_LEN    12
#define RTC_STUN_MAX_ATTRS  48       /* more than this is rejected (RTC_EPROTO): bounds work */
#define RTC_STUN_MAX_UNKNOWN 8

/* Classes (the C1/C0 bits). */
enum { RTC_STUN_REQUEST = 0, RTC_STUN_INDICATION = 1, RTC_STUN_SUCCESS = 2, RTC_STUN_ERROR = 3 };

/* Methods. */
enum {
    RTC_STUN_BINDING = 0x001,
    RTC_STUN_ALLOCATE = 0x003, RTC_STUN_REFRESH = 0x004, RTC_STUN_SEND = 0x006,
    RTC_STUN_DATA = 0x007, RTC_STUN_CREATE_PERMISSION = 0x008, RTC_STUN_CHANNEL_BIND = 0x009,
};

/* Attribute types. 0x0000-0x7FFF are comprehension-required. */
enum {
    RTC_STUN_ATTR_MAPPED_ADDRESS = 0x0001,
    RTC_STUN_ATTR_USERNAME = 0x0006,
    RTC_STUN_ATTR_MESSAGE_INTEGRITY = 0x0008,
    RTC_STUN_ATTR_ERROR_CODE = 0x0009,
    RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES = 0x000A,
    RTC_STUN_ATTR_CHANNEL_NUMBER = 0x000C,
    RTC_STUN_ATTR_LIFETIME = 0x000D,
    RTC_STUN_ATTR_XOR_PEER_ADDRESS = 0x0012,
    RTC_STUN_ATTR_DATA = 0x0013,
    RTC_STUN_ATTR_REALM = 0x0014,
    RTC_STUN_ATTR_NONCE = 0x0015,
    RTC_STUN_ATTR_XOR_RELAYED_ADDRESS = 0x0016,
    RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017,
    RTC_STUN_ATTR_EVEN_PORT = 0x0018,
    RTC_STUN_ATTR_REQUESTED_TRANSPORT = 0x0019,
    RTC_STUN_ATTR_DONT_FRAGMENT = 0x001A,
    RTC_STUN_ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C,
    RTC_STUN_ATTR_PASSWORD_ALGORITHM = 0x001D,
    RTC_STUN_ATTR_USERHASH = 0x001E,
    RTC_STUN_ATTR_XOR_MAPPED_ADDRESS = 0x0020,
    RTC_STUN_ATTR_RESERVATION_TOKEN = 0x0022,
    RTC_STUN_ATTR_PRIORITY = 0x0024,
    RTC_STUN_ATTR_USE_CANDIDATE = 0x0025,
    RTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY = 0x8000,
    RTC_STUN_ATTR_ADDRESS_ERROR_CODE = 0x8001,
    RTC_STUN_ATTR_PASSWORD_ALGORITHMS = 0x8002,
    RTC_STUN_ATTR_ALTERNATE_DOMAIN = 0x8003,
    RTC_STUN_ATTR_ICMP = 0x8004,
    RTC_STUN_ATTR_SOFTWARE = 0x8022,
    RTC_STUN_ATTR_ALTERNATE_SERVER = 0x8023,
    RTC_STUN_ATTR_FINGERPRINT = 0x8028,
    RTC_STUN_ATTR_ICE_CONTROLLED = 0x8029,
    RTC_STUN_ATTR_ICE_CONTROLLING = 0x802A,
    RTC_STUN_ATTR_RESPONSE_ORIGIN = 0x802B,
    RTC_STUN_ATTR_OTHER_ADDRESS = 0x802C,
};

/* PASSWORD-ALGORITHM values (RFC 8489 section 18.5). */
enum { RTC_STUN_PWALG_MD5 = 0x0001, RTC_STUN_PWALG_SHA256 = 0x0002 };

typedef struct rtc_stun_attr {
    uint16_t type;
    uint16_t len;            /* value length without padding */
    const uint8_t *val;      /* points into the parsed message */
} rtc_stun_attr;

/* A parsed message: a view into the bytes given to rtc_stun_parse (which must outlive it). */
typedef struct rtc_stun_msg {
    const uint8_t *raw;      /* whole message, header included */
    size_t len;              /* RTC_STUN_HDR + body length */
    uint16_t type, method;
    uint8_t cls;
    uint8_t tid[RTC_STUN_TID_LEN];
    int nattrs;
    rtc_stun_attr attrs[RTC_STUN_MAX_ATTRS];
    int integrity_at;        /* offset of MESSAGE-INTEGRITY attribute header, -1 if absent */
    int integrity256_at;     /* offset of MESSAGE-INTEGRITY-SHA256, -1 if absent */
    bool has_fingerprint;    /* present and verified (a wrong one fails the parse) */
    int nunknown;            /* comprehension-required attributes we do not know */
    uint16_t unknown[RTC_STUN_MAX_UNKNOWN];
} rtc_stun_msg;

/* True if the bytes look like STUN (first two bits zero and the magic cookie): cheap
 * demultiplexing check, no validation of the body. */
bool rtc_stun_is_stun(const uint8_t *p, size_t len);

/* Parse one whole STUN message of exactly `len` bytes. `p` is borrowed and must outlive
 * `out`. Validates: header, length multiple of 4 and equal to len - 20, magic cookie,
 * attribute bounds, MESSAGE-INTEGRITY(-SHA256) sizes, FINGERPRINT (checked if present) and
 * that nothing but the allowed attributes follows them. Returns 0, RTC_ETRUNC or RTC_EPROTO. */
int rtc_stun_parse(const uint8_t *p, size_t len, rtc_stun_msg *out);

/* For stream transports (TURN over TCP): bytes needed for the frame starting at p, i.e.
 * a STUN message (20 + length) or a ChannelData message (4 + length, padded to 4).
 * Returns the frame size, 0 if fewer than 4 bytes are available, or RTC_EPROTO. */
int rtc_stun_frame_len(const uint8_t *p, size_t len);

const rtc_stun_attr *rtc_stun_find(const rtc_stun_msg *m, uint16_t type);

/* Attribute decoders. All return 0 or RTC_EPROTO (bad value) / RTC_ENOTFOUND (absent). */
int rtc_stun_get_addr(const rtc_stun_msg *m, uint16_t type, rtc_addr *out);     /* plain or XOR-, by type */
int rtc_stun_get_u32(const rtc_stun_msg *m, uint16_t type, uint32_t *out);       /* PRIORITY, LIFETIME, ... */
int rtc_stun_get_u64(const rtc_stun_msg *m, uint16_t type, uint64_t *out);       /* ICE-CONTROLL*, tokens */
int rtc_stun_get_str(const rtc_stun_msg *m, uint16_t type, rtc_str *out);        /* view into the message */
/* ERROR-CODE: *code in 300..699; *reason a view (may be empty). */
int rtc_stun_get_error(const rtc_stun_msg *m, int *code, rtc_str *reason);
/* CHANNEL-NUMBER (upper 16 bits of the value). */
int rtc_stun_get_channel(const rtc_stun_msg *m, uint16_t *out);

/* Integrity. `key` is borrowed: the password for short-term credentials, or the long-term
 * key from rtc_stun_long_term_key(). Checks MESSAGE-INTEGRITY-SHA256 when present (needs a
 * long-term or short-term key as well: same key), else MESSAGE-INTEGRITY.
 * Returns 0, RTC_ENOTFOUND (no integrity attribute) or RTC_EAUTH. */
int rtc_stun_check_integrity(const rtc_stun_msg *m, const uint8_t *key, size_t keylen);
/* Long-term key: MD5(user ":" realm ":" pass) (16 bytes) or with RTC_STUN_PWALG_SHA256
 * SHA-256 of the same (32 bytes). Writes into out[32]; returns the key length or RTC_EINVAL. */
int rtc_stun_long_term_key(rtc_str user, rtc_str realm, rtc_str pass, int alg, uint8_t out[32]);

/* USERHASH value: SHA-256(user ":" realm) into out[32]. Returns 0 or RTC_EINVAL. */
int rtc_stun_userhash(rtc_str user, rtc_str realm, uint8_t out[32]);

uint32_t rtc_stun_crc32(const uint8_t *p, size_t len);

/* ---- building ---------------------------------------------------------------------- */
/* A writer over a caller buffer. Errors are sticky: after the first overflow every put
 * is a no-op and rtc_stun_finish() returns RTC_EOVERFLOW. */
typedef struct rtc_stun_writer {
    uint8_t *buf;            /* borrowed; caller owns */
    size_t cap, len;
    int err;
} rtc_stun_writer;

void rtc_stun_writer_init(rtc_stun_writer *w, uint8_t *buf, size_t cap,
                          uint16_t method, uint8_t cls, const uint8_t tid[RTC_STUN_TID_LEN]);
void rtc_stun_put(rtc_stun_writer *w, uint16_t type, const void *val, size_t len);   /* val copied */
void rtc_stun_put_flag(rtc_stun_writer *w, uint16_t type);                          /* empty value */
void rtc_stun_put_u32(rtc_stun_writer *w, uint16_t type, uint32_t v);
void rtc_stun_put_u64(rtc_stun_writer *w, uint16_t type, uint64_t v);
void rtc_stun_put_str(rtc_stun_writer *w, uint16_t type, rtc_str s);
/* MAPPED-ADDRESS / ALTERNATE-SERVER style (plain) or XOR-* (by type) address. */
void rtc_stun_put_addr(rtc_stun_writer *w, uint16_t type, const rtc_addr *a);
void rtc_stun_put_error(rtc_stun_writer *w, int code, rtc_str reason);
void rtc_stun_put_unknown(rtc_stun_writer *w, const uint16_t *types, int n);
void rtc_stun_put_channel(rtc_stun_writer *w, uint16_t channel);
/* REQUESTED-TRANSPORT (protocol number, 17 = UDP) and (REQUESTED|ADDITIONAL)-ADDRESS-FAMILY
 * (AF_INET / AF_INET6). */
void rtc_stun_put_transport(rtc_stun_writer *w, uint8_t proto);
void rtc_stun_put_family(rtc_stun_writer *w, uint16_t type, int af);
void rtc_stun_put_even_port(rtc_stun_writer *w, bool reserve_next);
/* PASSWORD-ALGORITHM (one) or PASSWORD-ALGORITHMS (list), without parameters. */
void rtc_stun_put_pwalg(rtc_stun_writer *w, uint16_t type, const uint16_t *algs, int n);
/* Integrity over everything written so far; `key` borrowed. */
void rtc_stun_put_integrity(rtc_stun_writer *w, const uint8_t *key, size_t keylen);
void rtc_stun_put_integrity_sha256(rtc_stun_writer *w, const uint8_t *key, size_t keylen);
void rtc_stun_put_fingerprint(rtc_stun_writer *w);
/* Returns the message length, or the sticky error. */
int rtc_stun_finish(rtc_stun_writer *w);

/* A 420 (Unknown Attribute) or other error response to `req` (borrowed), into buf.
 * Returns the length or an error. For 420 the UNKNOWN-ATTRIBUTES list comes from req. */
int rtc_stun_build_error(const rtc_stun_msg *req, int code, const char *reason,
                         uint8_t *buf, size_t cap);

const char *rtc_stun_method_name(uint16_t method);

#endif
