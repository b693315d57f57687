/* DCEP, the Data Channel Establishment Protocol (RFC 8832), and the WebRTC payload
 * protocol identifiers (RFC 8831 §8). Pure parse/build: no state, no allocation.
 * Every length on the wire is checked against the buffer before it is used. */
#ifndef RTC_DCEP_H
#define RTC_DCEP_H
#include "core/rtc_bytes.h"
#include <stddef.h>
#include <stdint.h>

/* SCTP payload protocol identifiers used on a WebRTC association. */
enum {
    RTC_PPID_DCEP = 50,
    RTC_PPID_STRING = 51,
    RTC_PPID_BINARY_PARTIAL = 52,   /* deprecated: accepted on receive, never sent */
    RTC_PPID_BINARY = 53,
    RTC_PPID_STRING_PARTIAL = 54,   /* deprecated: accepted on receive, never sent */
    RTC_PPID_STRING_EMPTY = 56,     /* an empty message travels as one byte with this PPID */
    RTC_PPID_BINARY_EMPTY = 57,
};

enum { RTC_DCEP_ACK = 0x02, RTC_DCEP_OPEN = 0x03 };

/* Channel types: the high bit means unordered. */
enum {
    RTC_DCEP_RELIABLE = 0x00,
    RTC_DCEP_RELIABLE_UNORDERED = 0x80,
    RTC_DCEP_PARTIAL_RELIABLE_REXMIT = 0x01,
    RTC_DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED = 0x81,
    RTC_DCEP_PARTIAL_RELIABLE_TIMED = 0x02,
    RTC_DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED = 0x82,
};
#define RTC_DCEP_UNORDERED_BIT 0x80

#define RTC_DCEP_OPEN_HEADER 12   /* fixed part of DATA_CHANNEL_OPEN before label and protocol */

typedef struct rtc_dcep_open {
    uint8_t channel_type;         /* one of RTC_DCEP_RELIABLE... */
    uint16_t priority;
    uint32_t reliability;         /* retransmissions or lifetime in ms; 0 for reliable types */
    rtc_str label;                /* parse: a view into the parsed bytes; build: borrowed for the call */
    rtc_str protocol;             /* same */
} rtc_dcep_open;

typedef struct rtc_dcep_msg {
    uint8_t type;                 /* RTC_DCEP_OPEN or RTC_DCEP_ACK */
    rtc_dcep_open open;           /* set when type is RTC_DCEP_OPEN */
} rtc_dcep_msg;

/* Parse one DCEP message (the whole SCTP message with PPID 50). `p` is borrowed; the
 * views in `out` point into it. Returns the message type, RTC_ETRUNC when a length
 * runs past the end, or RTC_EPROTO for an unknown type, unknown channel type or
 * trailing bytes. */
int rtc_dcep_parse(const uint8_t *p, size_t len, rtc_dcep_msg *out);

/* Size of the encoded OPEN; 0 when label or protocol is longer than 65535 bytes. */
size_t rtc_dcep_open_size(const rtc_dcep_open *o);
/* Encode into `out` (caller-owned, `cap` bytes). Returns the length written,
 * RTC_EOVERFLOW when it does not fit, RTC_EINVAL for a bad channel type or field. */
int rtc_dcep_build_open(const rtc_dcep_open *o, uint8_t *out, size_t cap);
int rtc_dcep_build_ack(uint8_t *out, size_t cap);

/* Whether a channel type is known; whether it is unordered. */
int rtc_dcep_channel_type_valid(uint8_t t);
static inline int rtc_dcep_is_unordered(uint8_t t) { return (t & RTC_DCEP_UNORDERED_BIT) != 0; }

#endif
