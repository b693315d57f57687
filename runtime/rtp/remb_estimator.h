/* Receive-side bitrate estimate for REMB, for a peer that negotiated goog-remb but not
 * transport-cc (so it cannot estimate from our feedback itself). Loss-based, from
 * what arrives: once a second the incoming rate and the fraction of packets lost in
 * that second; above 10% loss the estimate backs off to the incoming rate times
 * (1 - loss / 2), under 2% it grows 8% a second, in between it holds. It never goes
 * above 1.5 x the incoming rate + 10 kbit/s (an application-limited sender must not
 * be told the link is wider than what it has shown), nor below `min_bitrate`.
 * There is no delay-based part: queues building without loss are not seen.
 *
 * Sans-IO and allocation-free: a plain struct the caller embeds. After
 * rtc_remb_estimator_handle_packet() or _handle_timeout(), _poll() says whether a
 * REMB with the current estimate is due (once a second while packets arrive); wake
 * at _poll_timeout(). */
#ifndef RTC_REMB_ESTIMATOR_H
#define RTC_REMB_ESTIMATOR_H
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_remb_estimator {
    uint64_t min_bitrate;        /* 0 = 30 kbit/s */
    uint64_t estimate;           /* bit/s; 0 until the first second is measured */
    bool started, due;
    rtc_time window_start, next;
    uint64_t bytes;              /* this window */
    int64_t highest;             /* extended seq, this window's expected count from it */
    int64_t first_in_window;
    uint64_t received;           /* packets this window */
} rtc_remb_estimator;

void rtc_remb_estimator_init(rtc_remb_estimator *e, uint64_t min_bitrate, rtc_time now);
/* A media packet of `bytes` (header and payload) with extended seq `ext_seq` arrived
 * (a duplicate must not be passed). */
void rtc_remb_estimator_handle_packet(rtc_remb_estimator *e, int64_t ext_seq, size_t bytes, rtc_time now);
void rtc_remb_estimator_handle_timeout(rtc_remb_estimator *e, rtc_time now);
/* True (once) when a REMB should go out now; *bitrate is the value to send. */
bool rtc_remb_estimator_poll(rtc_remb_estimator *e, uint64_t *bitrate);
rtc_time rtc_remb_estimator_poll_timeout(const rtc_remb_estimator *e);

#endif
