/* What we sent under each transport-wide sequence number, matched against the
 * peer's TWCC feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01).
 *
 * Not a machine: no output, no timers. The sender takes a sequence number per packet
 * as it leaves the pacer, and hands each feedback packet here; what comes back is one
 * record per newly reported packet, the input of the estimators in this folder.
 * Sequence numbers are extended to 64 bits so a long call never confuses wraps. */
#ifndef RTC_CC_SEND_HISTORY_H
#define RTC_CC_SEND_HISTORY_H
#include "core/rtc_time.h"
#include "rtp/rtcp.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_cc_packet {
    int64_t seq;                 /* extended transport-wide seq */
    uint32_t size;               /* bytes as sent (RTP header + payload + padding) */
    rtc_time sent;               /* our clock */
    rtc_time arrival;            /* the receiver's clock; RTC_TIME_NEVER when reported lost */
    int probe_cluster;           /* -1 when the packet was not part of a probe */
} rtc_cc_packet;

typedef struct rtc_cc_send_history rtc_cc_send_history;

/* window: at most this many packets remembered, a power of two in 64..32768; 0 = 8192.
 * The ring starts at 256 and doubles when a packet still in flight (or reported lost
 * fewer than 1024 packets ago) would be overwritten. */
int rtc_cc_send_history_new(rtc_cc_send_history **out, size_t window);
void rtc_cc_send_history_free(rtc_cc_send_history *h);        /* NULL-safe */
/* Record a packet of `size` bytes leaving at `now` and return its extended seq; the
 * caller stamps the low 16 bits into the transport-wide-cc header extension. */
int64_t rtc_cc_send_history_add(rtc_cc_send_history *h, size_t size, int probe_cluster, rtc_time now);
/* The same for a packet whose 16-bit seq was stamped earlier (by the RTP sender, when
 * it made the packet): extended next to the highest seq recorded. A seq recorded again
 * (a resend of the same bytes) takes the new send time. Returns the extended seq. */
int64_t rtc_cc_send_history_add_wire(rtc_cc_send_history *h, uint16_t seq, size_t size, int probe_cluster, rtc_time now);
/* Match one TWCC feedback packet (view borrowed for the call). Fills up to `max`
 * records in seq order: every packet reported received for the first time, and every
 * packet reported lost for the first time (a later "received" for it is reported
 * again, as received). Packets older than the window are skipped. Returns the count,
 * or the error of rtc_twcc_parse. */
int rtc_cc_send_history_handle_feedback(rtc_cc_send_history *h, const rtc_rtcp_view *v,
                                        rtc_cc_packet *out, size_t max);
/* Bytes sent and not yet reported on (received or lost). */
/* Packets the ring holds now (it grows up to the window as packets wait for news). */
size_t rtc_cc_send_history_slots(const rtc_cc_send_history *h);
size_t rtc_cc_send_history_in_flight(const rtc_cc_send_history *h);

#endif
