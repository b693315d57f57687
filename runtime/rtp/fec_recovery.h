/* Receive-side FEC recovery for one media SSRC: a window of the media packets that
 * arrived (by any route: original, RTX, RED copy, recovered) and the FEC packets
 * still waiting for their group to be complete but one. When a stored FEC packet
 * protects exactly one missing packet, that packet is rebuilt (rtp/fec_ulp.h) and
 * handed out; a rebuilt packet joins the window, so it may complete another group.
 * An FEC packet leaves the store when its group is whole or too old for the window;
 * one that rebuilt nothing is counted as discarded (fecPacketsDiscarded).
 *
 * Sans-IO helper. Contract: after rtc_fec_recovery_add_media() or _add_ulpfec(),
 * drain _poll() until it returns 0. */
#ifndef RTC_FEC_RECOVERY_H
#define RTC_FEC_RECOVERY_H
#include "core/rtc_buf.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_FEC_WINDOW 128               /* media packets remembered (power of two) */
#define RTC_FEC_STORE 16                 /* FEC packets waiting at most */

typedef struct rtc_fec_recovery_stats {
    uint64_t fec_packets;                /* FEC packets taken (well-formed) */
    uint64_t malformed;                  /* FEC packets rejected */
    uint64_t recovered;                  /* media packets rebuilt */
    uint64_t discarded;                  /* FEC packets that rebuilt nothing */
} rtc_fec_recovery_stats;

typedef struct rtc_fec_recovery rtc_fec_recovery;

/* ssrc: the media SSRC rebuilt packets carry; pool borrowed (outlives the helper;
 * NULL = heap). */
int rtc_fec_recovery_new(rtc_fec_recovery **out, uint32_t ssrc, rtc_pool *pool);
void rtc_fec_recovery_free(rtc_fec_recovery *r);    /* NULL-safe; drops held refs */
/* A media packet (whole RTP packet, parsed by the caller: at least 12 bytes) that
 * arrived: takes a ref. A sequence number already held is kept as it was. */
void rtc_fec_recovery_add_media(rtc_fec_recovery *r, rtc_buf *pkt);
/* An ULPFEC payload p[0..len) (copied). 0, or the parse error (counted). */
int rtc_fec_recovery_add_ulpfec(rtc_fec_recovery *r, const uint8_t *p, size_t len);
/* 1 with *out a rebuilt media packet (one ref: caller unrefs), 0 when none. */
int rtc_fec_recovery_poll(rtc_fec_recovery *r, rtc_buf **out);
void rtc_fec_recovery_get_stats(const rtc_fec_recovery *r, rtc_fec_recovery_stats *out);

#endif
