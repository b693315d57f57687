/* RTP packets (RFC 3550) and their header extensions (RFC 8285).
 * Parsing is pure: rtc_rtp_parse() fills a view that borrows the input bytes; nothing
 * is copied or allocated, so the view lives as long as the caller's buffer.
 * Writing fills a caller buffer and returns its length. */
#ifndef RTC_RTP_PACKET_H
#define RTC_RTP_PACKET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_RTP_HEADER_MIN 12
#define RTC_RTP_MAX_CSRC 15
/* A packet carrying more elements than this keeps only the first ones in the view
 * (counted in ext_dropped); browsers send well under ten. */
#define RTC_RTP_MAX_EXT 16

#define RTC_RTP_EXT_PROFILE_ONE_BYTE 0xBEDE
#define RTC_RTP_EXT_PROFILE_TWO_BYTE 0x1000   /* low 4 bits are "appbits", ignored */

typedef struct rtc_rtp_ext {
    uint8_t id;                  /* 1-14 one-byte form, 1-255 two-byte form */
    uint8_t len;                 /* 1-16 one-byte, 0-255 two-byte */
    const uint8_t *data;         /* borrowed: points into the parsed packet / caller data */
} rtc_rtp_ext;

typedef struct rtc_rtp_header {
    bool padding, extension, marker;
    uint8_t pt;
    uint16_t seq;
    uint32_t ts, ssrc;
    uint8_t csrc_count;
    uint32_t csrc[RTC_RTP_MAX_CSRC];
    /* Extension block. Parse: profile as seen (0 when none). Write: 0 picks the one-byte
     * form when every element fits it, else the two-byte form. */
    uint16_t ext_profile;
    uint8_t ext_count;
    uint8_t ext_dropped;         /* parse only: elements beyond RTC_RTP_MAX_EXT */
    rtc_rtp_ext ext[RTC_RTP_MAX_EXT];
} rtc_rtp_header;

typedef struct rtc_rtp_packet {
    rtc_rtp_header h;
    size_t header_len;           /* fixed header + CSRCs + extension block */
    const uint8_t *payload;      /* borrowed, points into the input */
    size_t payload_len;          /* excludes padding */
    uint8_t padding_len;         /* trailing padding bytes incl. the count byte, 0 if none */
} rtc_rtp_packet;

/* Parse a datagram as RTP version 2. `p` is borrowed; `out` points into it.
 * RTC_ETRUNC when a length field runs past the end, RTC_EPROTO on a wrong version,
 * a padding count of 0 or larger than the payload, or a malformed extension block
 * (an unknown extension profile is kept raw: no elements, no error). */
int rtc_rtp_parse(rtc_rtp_packet *out, const uint8_t *p, size_t len);

/* The element with this id, or NULL. Borrowed from `h`. */
const rtc_rtp_ext *rtc_rtp_find_ext(const rtc_rtp_header *h, uint8_t id);
/* Add (or replace) an element for writing. `data` is borrowed until the write.
 * RTC_EINVAL for id 0; RTC_EOVERFLOW when RTC_RTP_MAX_EXT are already there. */
int rtc_rtp_add_ext(rtc_rtp_header *h, uint8_t id, const uint8_t *data, uint8_t len);
void rtc_rtp_remove_ext(rtc_rtp_header *h, uint8_t id);

/* Bytes rtc_rtp_write_header would produce for `h` (fixed + CSRC + extensions). */
size_t rtc_rtp_header_size(const rtc_rtp_header *h);
/* Write the header into out[0..cap). Returns the length or RTC_EOVERFLOW / RTC_EINVAL
 * (an element that fits neither form, too many CSRCs). `padding` in h is ignored:
 * rtc_rtp_write sets it. */
int rtc_rtp_write_header(uint8_t *out, size_t cap, const rtc_rtp_header *h);
/* Header + payload + `pad` bytes of padding (0 = none; else 1-255, last byte = pad).
 * `payload` borrowed for the call; may be NULL when plen is 0. */
int rtc_rtp_write(uint8_t *out, size_t cap, const rtc_rtp_header *h,
                  const uint8_t *payload, size_t plen, uint8_t pad);

/* Rewrite fields in place in an already serialised packet (SFU / RTX). The caller
 * has parsed it first, so len >= 12. */
static inline void rtc_rtp_set_seq(uint8_t *pkt, uint16_t seq) { pkt[2] = (uint8_t)(seq >> 8); pkt[3] = (uint8_t)seq; }
static inline void rtc_rtp_set_ssrc(uint8_t *pkt, uint32_t s)
{ pkt[8] = (uint8_t)(s >> 24); pkt[9] = (uint8_t)(s >> 16); pkt[10] = (uint8_t)(s >> 8); pkt[11] = (uint8_t)s; }
static inline void rtc_rtp_set_pt(uint8_t *pkt, uint8_t pt) { pkt[1] = (uint8_t)((pkt[1] & 0x80) | (pt & 0x7f)); }
static inline void rtc_rtp_set_ts(uint8_t *pkt, uint32_t ts)
{ pkt[4] = (uint8_t)(ts >> 24); pkt[5] = (uint8_t)(ts >> 16); pkt[6] = (uint8_t)(ts >> 8); pkt[7] = (uint8_t)ts; }
static inline void rtc_rtp_set_marker(uint8_t *pkt, bool m) { pkt[1] = (uint8_t)((pkt[1] & 0x7f) | (m ? 0x80 : 0)); }

/* Sequence number / timestamp unwrapping. The first value is taken as is; later
 * values are placed at the unwrapped value nearest to the highest one seen, so a
 * packet from just before a wrap that arrives after it lands below, not 2^16 above.
 * A packet reordered before the very first one may thus get a negative value. */
typedef struct rtc_seq_unwrapper { int64_t last; bool init; } rtc_seq_unwrapper;
int64_t rtc_seq_unwrap(rtc_seq_unwrapper *u, uint16_t seq);
typedef struct rtc_ts_unwrapper { int64_t last; bool init; } rtc_ts_unwrapper;
int64_t rtc_ts_unwrap(rtc_ts_unwrapper *u, uint32_t ts);

/* Overwrite the value of extension `id` in a serialised packet in place (a pacer
 * stamping the transport-wide seq, an SFU rewriting it per subscriber). The element
 * must exist with exactly `dlen` bytes: RTC_ENOTFOUND / RTC_EINVAL otherwise, or a
 * parse error. `data` is borrowed for the call. */
int rtc_rtp_rewrite_ext(uint8_t *pkt, size_t len, uint8_t id, const uint8_t *data, uint8_t dlen);

/* a is newer than b under 16-bit wraparound (RFC 1982 serial arithmetic). */
static inline bool rtc_seq_newer(uint16_t a, uint16_t b) { return a != b && (uint16_t)(a - b) < 0x8000; }

#endif
