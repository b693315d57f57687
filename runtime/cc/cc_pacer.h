/* Pacer: packets leave in bursts of a few milliseconds at the pacing rate (a multiple
 * of the estimate) instead of as fast as the encoder writes them, so a keyframe does
 * not land in the bottleneck queue at once and the delay-based estimator sees the
 * path, not our burstiness.
 *
 * Sans-IO machine. Order: audio, then retransmissions, then new video, then padding.
 * Audio is never held (it is small and late audio is useless) but counts against the
 * budget. Probe clusters run at their own rate and are filled with padding when there
 * is no media. The queue is bounded in packets and in time: when either bound is hit
 * the oldest video (then retransmission) packets are dropped, and every drop comes out
 * of _poll_drop so the caller can free it and ask for a keyframe.
 * Contract: after _enqueue / _add_probe / time passing, call _poll_send(now) until it
 * returns false and _poll_drop until false, then wake at _poll_timeout(). */
#ifndef RTC_CC_PACER_H
#define RTC_CC_PACER_H
#include "cc/cc_probe.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum rtc_cc_kind { RTC_CC_AUDIO, RTC_CC_RTX, RTC_CC_VIDEO, RTC_CC_PADDING, RTC_CC_KINDS } rtc_cc_kind;

typedef struct rtc_cc_paced {
    void *pkt;                   /* the caller's packet, opaque to the pacer; NULL for padding */
    size_t size;                 /* bytes on the wire */
    rtc_cc_kind kind;
    int probe_cluster;           /* out: -1, or the cluster this send belongs to */
    rtc_time enqueued;           /* out: when it entered the queue */
} rtc_cc_paced;

typedef struct rtc_cc_pacer_config {
    double pacing_factor;        /* 0 = 2.5: rate = factor * estimate */
    rtc_time burst;              /* 0 = 5 ms of budget may leave at once */
    size_t max_packets;          /* 0 = 2048 queued packets in all */
    rtc_time max_delay;          /* 0 = 1 s: video waiting longer is dropped */
    size_t padding_size;         /* 0 = 1100 bytes per padding packet asked for */
} rtc_cc_pacer_config;

typedef struct rtc_cc_pacer_stats {
    uint64_t sent_packets, sent_bytes, padding_packets, padding_bytes, probe_bytes;
    uint64_t dropped_packets, dropped_bytes, rejected;
    size_t queued_packets, queued_bytes;
    rtc_time oldest_wait;        /* of the oldest queued packet at the last poll */
} rtc_cc_pacer_stats;

typedef struct rtc_cc_pacer rtc_cc_pacer;

int rtc_cc_pacer_new(rtc_cc_pacer **out, const rtc_cc_pacer_config *cfg, rtc_time now);  /* cfg copied; may be NULL */
/* NULL-safe. Queued and undrained dropped packets go to free_cb(pkt, ud) (may be NULL). */
void rtc_cc_pacer_free(rtc_cc_pacer *p, void (*free_cb)(void *pkt, void *ud), void *ud);
/* The estimate; the pacing rate becomes factor * bps. */
void rtc_cc_pacer_set_estimate(rtc_cc_pacer *p, double bps);
/* Padding to send while the queue is empty (an application-limited sender keeping the
 * estimator fed); 0 = none. */
void rtc_cc_pacer_set_padding(rtc_cc_pacer *p, double bps);
/* A probe cluster (copied) to send after any before it. RTC_EAGAIN when 4 are waiting. */
int rtc_cc_pacer_add_probe(rtc_cc_pacer *p, const rtc_cc_probe_cluster *c);
/* Queue a packet (copied record; the pkt pointer stays the caller's until it comes back
 * from _poll_send or _poll_drop). RTC_EQUOTA when it cannot be queued (the queue is full
 * of packets that outrank it): the caller keeps it. Audio never waits for budget. */
int rtc_cc_pacer_enqueue(rtc_cc_pacer *p, const rtc_cc_paced *pk, rtc_time now);
/* The next packet allowed to leave at `now`: a queued one, or padding (pkt NULL,
 * kind RTC_CC_PADDING, size the caller should fill; for a probe or the padding rate). */
bool rtc_cc_pacer_poll_send(rtc_cc_pacer *p, rtc_time now, rtc_cc_paced *out);
bool rtc_cc_pacer_poll_drop(rtc_cc_pacer *p, rtc_cc_paced *out);
rtc_time rtc_cc_pacer_poll_timeout(const rtc_cc_pacer *p);   /* RTC_TIME_NEVER when idle */
void rtc_cc_pacer_get_stats(const rtc_cc_pacer *p, rtc_cc_pacer_stats *out);

#endif
