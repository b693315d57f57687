/* Receive-side bitrate estimate for REMB, for a peer that negotiated goog-remb but not
 * transport-cc (so it cannot estimate from our feedback itself). Two parts, the
 * estimate the lower of them:
 *
 * - Delay-based, when the packets carry abs-send-time: the same GCC pieces the send
 *   side runs on TWCC feedback (cc/gcc_delay.h: 5 ms send groups, trendline, adaptive
 *   overuse threshold, AIMD), fed with the sender's abs-send-time as send time and the
 *   arrival time here. The rate control runs at libwebrtc's feedback interval (the
 *   time 5% of the estimate takes to carry an 80-byte RTCP packet, within 200 ms..1 s)
 *   and at once on overuse, against the incoming rate over the last 500 ms.
 * - Loss-based, from what arrives: once a second the incoming rate and the fraction
 *   of packets lost in that second; above 10% loss the estimate backs off to the
 *   incoming rate times (1 - loss / 2), under 2% it grows 8% a second, in between it
 *   holds. It never goes above 1.5 x the incoming rate + 10 kbit/s (an
 *   application-limited sender must not be told the link is wider than what it has
 *   shown), nor below `min_bitrate`.
 *
 * REMB cadence (libwebrtc's): after each update when 200 ms have passed since the last
 * REMB, and at once when the estimate fell below 97% of the last one sent.
 *
 * Sans-IO and allocation-free: a plain struct the caller embeds. After
 * rtc_remb_estimator_handle_packet() or _handle_timeout(), _poll() says whether a
 * REMB with the current estimate is due; wake at _poll_timeout(). */
#ifndef RTC_REMB_ESTIMATOR_H
#define RTC_REMB_ESTIMATOR_H
#include "cc/gcc_delay.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_REMB_RATE_SLOTS 10   /* 50 ms each: the incoming rate over 500 ms */

typedef struct rtc_remb_estimator {
    uint64_t min_bitrate;        /* 0 = 30 kbit/s */
    uint64_t estimate;           /* bit/s; 0 until the first measurement */
    bool started, due;
    /* loss-based part: one-second windows */
    uint64_t loss_estimate;      /* 0 until the first second is measured */
    rtc_time window_start, next;
    uint64_t bytes;              /* this window */
    int64_t highest;             /* extended seq, this window's expected count from it */
    int64_t first_in_window;
    uint64_t received;           /* packets this window */
    /* delay-based part: abs-send-time against arrival */
    rtc_gcc_delay delay;
    bool have_abs, have_delay;
    uint32_t abs_last;           /* 24-bit 6.18 fixed-point seconds */
    int64_t abs_ext;             /* unwrapped, same units */
    rtc_time rtt;                /* 0 = 100 ms */
    rtc_time last_update;        /* of the rate control */
    uint64_t slot_bytes[RTC_REMB_RATE_SLOTS];
    int64_t slot_index[RTC_REMB_RATE_SLOTS];  /* which 50 ms interval each slot holds */
    rtc_time first_arrival;
    /* REMB sent */
    uint64_t last_sent;          /* bit/s, 0 = none yet */
    rtc_time last_sent_at;
    rtc_time now;                /* latest time passed in */
} rtc_remb_estimator;

void rtc_remb_estimator_init(rtc_remb_estimator *e, uint64_t min_bitrate, rtc_time now);
/* A media packet of `bytes` (header and payload) with extended seq `ext_seq` arrived
 * (a duplicate must not be passed). abs_send_time: its 24-bit abs-send-time, or -1
 * when it has none or is a retransmission keeping its first one. */
void rtc_remb_estimator_handle_packet(rtc_remb_estimator *e, int64_t ext_seq, size_t bytes,
                                      int32_t abs_send_time, rtc_time now);
void rtc_remb_estimator_handle_timeout(rtc_remb_estimator *e, rtc_time now);
void rtc_remb_estimator_set_rtt(rtc_remb_estimator *e, rtc_time rtt);
/* True (once) when a REMB should go out now; *bitrate is the value to send. */
bool rtc_remb_estimator_poll(rtc_remb_estimator *e, uint64_t *bitrate);
rtc_time rtc_remb_estimator_poll_timeout(const rtc_remb_estimator *e);

#endif
