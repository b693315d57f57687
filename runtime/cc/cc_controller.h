/* Send-side bandwidth estimation (GCC, draft-ietf-rmcat-gcc-02): one per transport.
 *
 * Sans-IO machine. Inputs: every packet as it leaves the pacer (_on_sent, which
 * returns the transport-wide seq to stamp), the peer's TWCC feedback, REMB, receiver
 * report loss and RTT, and timeouts. Outputs: probe clusters for the pacer
 * (_poll_probe) and estimate changes (_poll_event, when the target moved by more than
 * 5% since the last event). Contract: after any call that takes `now`, poll probes and
 * events until both return false, then wake at _poll_timeout().
 *
 * The target is min(delay-based, loss-based, REMB), within [min, max]. Without TWCC
 * feedback (the peer offered only goog-remb) the delay-based side is absent and REMB
 * plus receiver-report loss decide. */
#ifndef RTC_CC_CONTROLLER_H
#define RTC_CC_CONTROLLER_H
#include "cc/cc_probe.h"
#include "cc/cc_send_history.h"
#include "core/rtc_time.h"
#include "rtp/rtcp.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct rtc_cc_config {
    double start_bps;            /* 0 = 300 kbit/s */
    double min_bps;              /* 0 = 30 kbit/s */
    double max_bps;              /* 0 = 20 Mbit/s; the sum of the encodings' max_bitrate */
    bool probing;                /* false: no probe clusters at all (tests of one estimator) */
} rtc_cc_config;

typedef struct rtc_cc_estimate {
    double bps;                  /* the target */
    double delay_bps;            /* 0 until TWCC feedback arrived */
    double loss_bps;
    double remb_bps;             /* 0: none received */
    double probe_bps;            /* last probe result, 0: none */
    double acked_bps;            /* what the receiver got over the last 500 ms */
    double loss_fraction;        /* of the last loss verdict, 0..1 */
    const char *usage;           /* "normal" | "overuse" | "underuse" */
    const char *state;           /* AIMD: "increase" | "decrease" | "hold" */
    bool alr;                    /* application-limited */
} rtc_cc_estimate;

typedef struct rtc_cc_stats {
    uint64_t feedback, feedback_errors, packets_reported, packets_lost, probes_sent, probe_results;
} rtc_cc_stats;

typedef struct rtc_cc rtc_cc;

int rtc_cc_new(rtc_cc **out, const rtc_cc_config *cfg, rtc_time now);   /* cfg copied; may be NULL */
void rtc_cc_free(rtc_cc *c);                                              /* NULL-safe */
/* A packet of `size` bytes left at `now`; probe_cluster -1 or the cluster the pacer
 * sent it for; padding: not media (does not count against the ALR budget). Returns the
 * extended transport-wide seq; its low 16 bits go on the wire. */
int64_t rtc_cc_on_sent(rtc_cc *c, size_t size, int probe_cluster, bool padding, rtc_time now);
/* The same for a packet the RTP sender already stamped with wire seq `seq`. */
int64_t rtc_cc_on_sent_wire(rtc_cc *c, uint16_t seq, size_t size, int probe_cluster, bool padding, rtc_time now);
/* One TWCC feedback packet (view borrowed). 0, or the parse error (counted). */
int rtc_cc_handle_twcc(rtc_cc *c, const rtc_rtcp_view *v, rtc_time now);
void rtc_cc_handle_remb(rtc_cc *c, double bps, rtc_time now);
/* An RTCP receiver report block: fraction lost (8-bit fixed point) over about
 * `packets`. Used only while no TWCC feedback arrives (TWCC counts losses itself). */
void rtc_cc_handle_loss_report(rtc_cc *c, uint8_t fraction_lost, uint32_t packets, rtc_time now);
void rtc_cc_set_rtt(rtc_cc *c, rtc_time rtt);
/* New upper bound (0 = default); the target and the probes stay under it. */
void rtc_cc_set_max_bitrate(rtc_cc *c, double bps, rtc_time now);
void rtc_cc_handle_timeout(rtc_cc *c, rtc_time now);
bool rtc_cc_poll_probe(rtc_cc *c, rtc_cc_probe_cluster *out);
bool rtc_cc_poll_event(rtc_cc *c, rtc_cc_estimate *out);
rtc_time rtc_cc_poll_timeout(const rtc_cc *c);
double rtc_cc_target_bps(const rtc_cc *c);
void rtc_cc_get_estimate(const rtc_cc *c, rtc_cc_estimate *out);
void rtc_cc_get_stats(const rtc_cc *c, rtc_cc_stats *out);

#endif
