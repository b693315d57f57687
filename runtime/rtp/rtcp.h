/* RTCP (RFC 3550, RFC 4585 feedback, RFC 5104 FIR, REMB, RFC 5506 reduced size).
 * Parsing is pure and two-step: rtc_rtcp_parse_compound() validates every header and
 * length of a datagram and returns views (borrowing the input); per-type readers then
 * decode one view. Reduced-size RTCP (a lone feedback packet, no SR/RR first) is
 * accepted: nothing requires a report first. Writers fill a caller buffer and return
 * the bytes written or RTC_EOVERFLOW; concatenate them to build a compound packet.
 * Transport-wide CC feedback (RTPFB FMT 15) lives in rtp/twcc.h. */
#ifndef RTC_RTCP_H
#define RTC_RTCP_H
#include "core/rtc_bytes.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RTC_RTCP_SR = 200, RTC_RTCP_RR = 201, RTC_RTCP_SDES = 202, RTC_RTCP_BYE = 203,
    RTC_RTCP_APP = 204, RTC_RTCP_RTPFB = 205, RTC_RTCP_PSFB = 206, RTC_RTCP_XR = 207,
};
enum { RTC_RTCP_FMT_NACK = 1, RTC_RTCP_FMT_TWCC = 15 };                    /* RTPFB */
enum { RTC_RTCP_FMT_PLI = 1, RTC_RTCP_FMT_FIR = 4, RTC_RTCP_FMT_AFB = 15 }; /* PSFB; AFB = REMB */

#define RTC_RTCP_MAX_RB 31

typedef struct rtc_rtcp_view {
    uint8_t pt;
    uint8_t count;               /* RC / SC / FMT: the 5 low bits of the first byte */
    const uint8_t *data;         /* borrowed: the whole packet from its header */
    size_t len;                  /* header + body, without padding */
} rtc_rtcp_view;

/* Split a compound datagram into views. Returns the number of packets (>= 1) or
 * RTC_ETRUNC / RTC_EPROTO when any header is wrong (version, a length running past
 * the end, padding larger than its packet), RTC_EOVERFLOW when more than `max`.
 * The datagram is rejected as a whole, as RFC 3550 6.4.1 asks. */
int rtc_rtcp_parse_compound(const uint8_t *p, size_t len, rtc_rtcp_view *out, size_t max);
/* True when the first byte pair looks like RTCP (RFC 5761 PT range 192-223). */
bool rtc_rtcp_is_rtcp(const uint8_t *p, size_t len);

typedef struct rtc_rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;       /* 8-bit fixed point fraction */
    int32_t cumulative_lost;     /* 24-bit signed on the wire */
    uint32_t ext_highest_seq;
    uint32_t jitter;             /* timestamp units */
    uint32_t lsr, dlsr;          /* compact NTP of the last SR; delay since it, 1/65536 s */
} rtc_rtcp_report_block;

typedef struct rtc_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;                /* 32.32 fixed point seconds since 1900 */
    uint32_t rtp_ts, packet_count, octet_count;
    uint8_t rb_count;
    rtc_rtcp_report_block rb[RTC_RTCP_MAX_RB];
} rtc_rtcp_sr;

typedef struct rtc_rtcp_rr {
    uint32_t ssrc;
    uint8_t rb_count;
    rtc_rtcp_report_block rb[RTC_RTCP_MAX_RB];
} rtc_rtcp_rr;

typedef struct rtc_rtcp_sdes_chunk {
    uint32_t ssrc;
    rtc_str cname;               /* borrowed from the view; len 0 when the chunk has none */
} rtc_rtcp_sdes_chunk;

typedef struct rtc_rtcp_bye {
    uint8_t count;
    uint32_t ssrc[RTC_RTCP_MAX_RB];
    rtc_str reason;              /* borrowed; len 0 when absent */
} rtc_rtcp_bye;

typedef struct rtc_rtcp_fir_entry { uint32_t ssrc; uint8_t seq; } rtc_rtcp_fir_entry;

#define RTC_RTCP_REMB_MAX_SSRC 16
typedef struct rtc_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate;            /* bits per second */
    uint8_t ssrc_count;          /* as stored (at most RTC_RTCP_REMB_MAX_SSRC) */
    uint32_t ssrc[RTC_RTCP_REMB_MAX_SSRC];
} rtc_rtcp_remb;

/* Readers: each checks the view's type and its lengths; RTC_EINVAL for the wrong
 * type, RTC_ETRUNC / RTC_EPROTO for a malformed body. Outputs borrow the view. */
int rtc_rtcp_read_sr(const rtc_rtcp_view *v, rtc_rtcp_sr *out);
int rtc_rtcp_read_rr(const rtc_rtcp_view *v, rtc_rtcp_rr *out);
/* Fills up to `max` chunks; returns how many. Items other than CNAME are skipped. */
int rtc_rtcp_read_sdes(const rtc_rtcp_view *v, rtc_rtcp_sdes_chunk *out, size_t max);
int rtc_rtcp_read_bye(const rtc_rtcp_view *v, rtc_rtcp_bye *out);
/* Any RTPFB/PSFB packet: the sender and media source SSRCs. */
int rtc_rtcp_read_fb(const rtc_rtcp_view *v, uint32_t *sender_ssrc, uint32_t *media_ssrc);
/* Generic NACK: expands every PID+BLP pair into sequence numbers, in wire order, up
 * to `max` (17 per pair at most). Returns how many were stored. */
int rtc_rtcp_read_nack(const rtc_rtcp_view *v, uint16_t *seqs, size_t max);
/* FIR entries, up to `max`; returns how many. */
int rtc_rtcp_read_fir(const rtc_rtcp_view *v, rtc_rtcp_fir_entry *out, size_t max);
/* REMB (PSFB FMT 15 with the "REMB" identifier). RTC_ENOTFOUND for another AFB. */
int rtc_rtcp_read_remb(const rtc_rtcp_view *v, rtc_rtcp_remb *out);

/* Writers. `out` is the caller's buffer; every pointer argument is borrowed. */
int rtc_rtcp_write_sr(uint8_t *out, size_t cap, const rtc_rtcp_sr *sr);
int rtc_rtcp_write_rr(uint8_t *out, size_t cap, const rtc_rtcp_rr *rr);
int rtc_rtcp_write_sdes(uint8_t *out, size_t cap, const rtc_rtcp_sdes_chunk *chunks, size_t n);
int rtc_rtcp_write_bye(uint8_t *out, size_t cap, const uint32_t *ssrcs, size_t n, rtc_str reason);
/* `seqs` in ascending order (with wraparound); consecutive ones within 16 of a PID
 * share one pair. */
int rtc_rtcp_write_nack(uint8_t *out, size_t cap, uint32_t sender, uint32_t media,
                        const uint16_t *seqs, size_t n);
int rtc_rtcp_write_pli(uint8_t *out, size_t cap, uint32_t sender, uint32_t media);
int rtc_rtcp_write_fir(uint8_t *out, size_t cap, uint32_t sender,
                       const rtc_rtcp_fir_entry *e, size_t n);
int rtc_rtcp_write_remb(uint8_t *out, size_t cap, uint32_t sender, uint64_t bitrate,
                        const uint32_t *ssrcs, size_t n);

/* NTP time. Machines take monotonic time; the caller adds its wall-clock offset. */
uint64_t rtc_ntp_from_unix_us(int64_t unix_us);
int64_t rtc_ntp_to_unix_us(uint64_t ntp);
static inline uint32_t rtc_ntp_compact(uint64_t ntp) { return (uint32_t)(ntp >> 16); }
/* Round trip from a report block (RFC 3550 6.4.1): arrival - LSR - DLSR, with arrival
 * as compact NTP. Returns microseconds (>= 0; clamped at 0 when clocks disagree), or
 * RTC_ENOTFOUND when lsr is 0 (no SR seen by the peer yet). */
int64_t rtc_rtcp_rtt_us(uint32_t arrival_compact, uint32_t lsr, uint32_t dlsr);
/* Delay since last SR as carried in DLSR: microseconds to 1/65536 s. */
uint32_t rtc_rtcp_dlsr_from_us(int64_t us);

#endif
