/* Congestion control in the peer connection: every RTP packet a sender makes goes
 * through the pacer when the transport can measure the path (transport-cc with the
 * transport-wide seq extension, or goog-remb), its seq and send time are recorded as
 * it leaves, and the peer's TWCC feedback, REMB and RTT feed the estimator
 * (runtime/cc/). Without either feedback, packets leave as they are made. */
#ifndef RTC_PC_CC_H
#define RTC_PC_CC_H
#include "cc/cc_controller.h"
#include "pc/peer_connection.h"

/* The send-side estimate; RTC_ENOTFOUND until a sender with feedback has sent. */
int rtc_pc_get_bandwidth(rtc_pc *pc, rtc_cc_estimate *out);

typedef struct rtc_pc_cc_stats {
    uint64_t padding_packets, padding_bytes;   /* padding-only RTX sent for probes */
    uint64_t padding_unsent;                   /* asked for, but no sender has RTX */
    uint64_t paced_dropped;                    /* dropped by the pacer's queue bounds */
    uint64_t keyframes_requested;              /* RTC_PC_EV_KEYFRAME_REQUEST raised for drops */
    uint64_t keyframes_pending;                /* senders whose keyframe after a drop has not left yet */
} rtc_pc_cc_stats;
int rtc_pc_get_cc_stats(rtc_pc *pc, rtc_pc_cc_stats *out);   /* RTC_ENOTFOUND as above */

/* Fill probes with padding-only RTX when there is no media (off by default: see
 * docs/congestion-control.md). RTC_ENOTFOUND before the estimator exists. */
int rtc_pc_set_probe_padding(rtc_pc *pc, bool on);

/* Private to runtime/pc (pc_media.c calls these). */
struct pc_tr;
struct rtc_buf;
/* Takes the ref of b (an RTP packet of t) when it is paced; false: send it now. */
bool pc__cc_take(rtc_pc *pc, struct pc_tr *t, struct rtc_buf *b);
void pc__cc_handle_rtcp(rtc_pc *pc, const rtc_rtcp_view *v);
/* A forwarded packet (pc_tap.c) left unpaced with transport-wide seq `seq` and `size`
 * bytes on the wire: the estimator counts it as sent, so the feedback about it
 * measures the path to the subscriber (an SFU's bandwidth event). */
void pc__cc_on_injected(rtc_pc *pc, struct pc_tr *t, uint16_t seq, size_t size);
void pc__cc_set_rtt(rtc_pc *pc, rtc_time rtt);
void pc__cc_pump(rtc_pc *pc);                /* probes, estimate events, paced sends */
void pc__cc_handle_timeout(rtc_pc *pc);
rtc_time pc__cc_poll_timeout(rtc_pc *pc);
void pc__cc_free(rtc_pc *pc);
/* The estimator's upper bound from the senders' max_bitrate: their sum while every
 * active sending transceiver has one, else the default. */
void pc__cc_update_max(rtc_pc *pc);

#endif
