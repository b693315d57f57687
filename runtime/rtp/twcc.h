/* Transport-wide congestion control feedback
 * (draft-holmer-rmcat-transport-wide-cc-extensions-01, RTCP RTPFB FMT 15).
 *
 * Receiver side: rtc_twcc_receiver records the arrival time of every transport-wide
 * sequence number and, every `interval`, emits feedback packets that a browser's
 * bandwidth estimator consumes. Sans-IO machine; contract: after
 * rtc_twcc_receiver_handle_packet() / _handle_timeout(), call _poll_transmit() until
 * it returns 0, then wake at _poll_timeout().
 *
 * Sender side: rtc_twcc_parse() turns a feedback view into per-packet statuses
 * (seq, received, arrival delta) for a congestion estimator. */
#ifndef RTC_TWCC_H
#define RTC_TWCC_H
#include "core/rtc_time.h"
#include "rtp/rtcp.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_twcc_feedback {
    uint32_t sender_ssrc, media_ssrc;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t ref_time;            /* 24-bit signed on the wire, units of 64 ms */
    uint8_t fb_count;            /* feedback packet counter, wraps */
} rtc_twcc_feedback;

typedef struct rtc_twcc_status {
    uint16_t seq;
    bool received;
    int64_t delta_us;            /* parse: from the previous received packet (or the reference time) */
    int64_t arrival_us;          /* parse: ref_time * 64 ms + deltas; write: input arrival time */
} rtc_twcc_status;

/* Parse one feedback packet (the view is borrowed for the call). Fills `fb` and up to
 * `max` statuses into the caller's array `out` (the first ones in sequence order). Returns how many statuses were stored, or RTC_EINVAL (not TWCC),
 * RTC_ETRUNC (chunks or deltas run past the end), RTC_EPROTO (reserved symbol). */
int rtc_twcc_parse(const rtc_rtcp_view *v, rtc_twcc_feedback *fb, rtc_twcc_status *out, size_t max);

/* Write a feedback packet for st[0..n) (borrowed) into the caller's out[0..cap); fb is
 * read and its computed fields updated. Sequence numbers are fb->base_seq + i (st[i].seq
 * is ignored); received entries use arrival_us. fb->status_count and fb->ref_time are
 * computed. Stops early, before the entry that would not fit `cap` or whose delta
 * does not fit 16 bits (more than ~8 s gap); *consumed says how many were written
 * (>= 1 when cap allows a minimal packet). Returns bytes written, RTC_EINVAL for n 0,
 * or RTC_EOVERFLOW. */
int rtc_twcc_write_feedback(uint8_t *out, size_t cap, rtc_twcc_feedback *fb,
                            const rtc_twcc_status *st, size_t n, size_t *consumed);

#define RTC_TWCC_WINDOW 4096           /* sequence numbers remembered; power of two */
#define RTC_TWCC_MAX_PER_FB 1024

typedef struct rtc_twcc_receiver_config {
    uint32_t sender_ssrc;        /* our RTCP SSRC */
    uint32_t media_ssrc;         /* the remote media SSRC (informational in TWCC) */
    rtc_time interval;           /* 0 = 50 ms */
    size_t max_packet_size;      /* 0 = 1200 bytes per feedback packet */
    bool compound;               /* rtcp-rsize not negotiated: each feedback follows an empty RR
                                    (+ SDES with cname), as RFC 4585 wants a compound */
    const char *cname;           /* copied, at most 255 bytes; NULL = no SDES */
} rtc_twcc_receiver_config;

typedef struct rtc_twcc_receiver_stats {
    uint64_t received, duplicates, late, feedback_sent, window_overrun;
    uint64_t rereported;         /* arrived after being reported lost; reported again */
} rtc_twcc_receiver_stats;

typedef struct rtc_twcc_receiver rtc_twcc_receiver;

int rtc_twcc_receiver_new(rtc_twcc_receiver **out, const rtc_twcc_receiver_config *cfg, rtc_time now);
void rtc_twcc_receiver_free(rtc_twcc_receiver *r);       /* NULL-safe */
/* One RTP packet carrying transport-wide seq `seq` arrived at `now`. */
void rtc_twcc_receiver_handle_packet(rtc_twcc_receiver *r, uint16_t seq, rtc_time now);
void rtc_twcc_receiver_handle_timeout(rtc_twcc_receiver *r, rtc_time now);
/* Next feedback packet into out[0..cap) (after RR + SDES with `compound`), or 0 when
 * there is none due. Returns its length, or RTC_EOVERFLOW when cap is too small. */
int rtc_twcc_receiver_poll_transmit(rtc_twcc_receiver *r, uint8_t *out, size_t cap);
rtc_time rtc_twcc_receiver_poll_timeout(const rtc_twcc_receiver *r);
void rtc_twcc_receiver_get_stats(const rtc_twcc_receiver *r, rtc_twcc_receiver_stats *out);

#endif
