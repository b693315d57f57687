/* Bandwidth probing. The probe controller decides when to send a cluster of packets
 * faster than the estimate (exponentially at start, once after a large drop, and
 * every few seconds while the application sends less than the estimate allows, so a
 * low-rate stream still learns the link). The pacer sends each cluster at its rate,
 * with padding when there is no media; the probe result estimator then measures what
 * the path carried from the cluster's TWCC feedback. Plain value types. */
#ifndef RTC_CC_PROBE_H
#define RTC_CC_PROBE_H
#include "cc/cc_send_history.h"
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>

typedef struct rtc_cc_probe_cluster {
    int id;                      /* >= 0, unique per controller */
    double bps;                  /* the rate to send it at */
    size_t min_bytes;            /* 15 ms worth at bps */
    int min_packets;             /* 5 */
} rtc_cc_probe_cluster;

#define RTC_CC_PROBE_PENDING 4

typedef struct rtc_cc_probe_controller {
    double max_bps;
    int next_id;
    bool started, exponential;   /* exponential: waiting for a result that may double */
    double last_probe_bps;
    int last_id;                 /* newest cluster queued, -1 none */
    rtc_time last_probe_at;      /* -1 before the first */
    double peak_bps;             /* highest estimate since the last drop */
    double pre_drop_bps;         /* > 0: a recovery probe is owed */
    rtc_time drop_at;
    rtc_time alr_since;          /* -1 when not application-limited */
    rtc_cc_probe_cluster pending[RTC_CC_PROBE_PENDING];
    size_t npending;
} rtc_cc_probe_controller;

void rtc_cc_probe_init(rtc_cc_probe_controller *p, double max_bps);
void rtc_cc_probe_set_max(rtc_cc_probe_controller *p, double max_bps);
/* First call at `now`: queues clusters at 3x and 6x the start rate. */
void rtc_cc_probe_start(rtc_cc_probe_controller *p, double start_bps, rtc_time now);
/* The estimate after each update, whether the sender is application-limited, and
 * whether the delay detector reads normal (no recovery probe into a queue). */
void rtc_cc_probe_on_estimate(rtc_cc_probe_controller *p, double est_bps, bool alr, bool normal, rtc_time now);
/* Probe cluster `id` measured `bps`: probe again at twice it while each step is
 * confirmed. Only the newest cluster's first verdict counts: later feedback on older
 * clusters says nothing about the step being taken now. */
void rtc_cc_probe_on_result(rtc_cc_probe_controller *p, int id, double bps, rtc_time now);
bool rtc_cc_probe_poll(rtc_cc_probe_controller *p, rtc_cc_probe_cluster *out);

/* Probe result estimator: per cluster, the send rate and the receive rate of its
 * packets; the result is the lower, or less when the receiver saw clearly less. */
#define RTC_CC_PROBE_TRACKED 8

typedef struct rtc_cc_probe_track {
    int id;                      /* -1: free */
    double target_bps;
    size_t min_bytes; int min_packets;
    int count;
    size_t bytes, first_recv_size, last_send_size;
    rtc_time first_send, last_send, first_recv, last_recv;
    rtc_time created;
} rtc_cc_probe_track;

typedef struct rtc_cc_probe_estimator {
    rtc_cc_probe_track t[RTC_CC_PROBE_TRACKED];
} rtc_cc_probe_estimator;

void rtc_cc_probe_estimator_init(rtc_cc_probe_estimator *e);
void rtc_cc_probe_estimator_add(rtc_cc_probe_estimator *e, const rtc_cc_probe_cluster *c, rtc_time now);
/* One received probe packet (borrowed). Returns a measured rate in bps when the
 * cluster (its id in *cluster) has enough packets for a verdict, else 0. */
double rtc_cc_probe_estimator_update(rtc_cc_probe_estimator *e, const rtc_cc_packet *p, rtc_time now, int *cluster);

#endif
