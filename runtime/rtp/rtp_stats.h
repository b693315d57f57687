/* Per-stream RTP statistics that RTCP reports carry (RFC 3550 6.4 and appendix A).
 * Receiver side: sequence tracking with cycles (A.1), loss (A.3), interarrival
 * jitter (A.8) and the LSR/DLSR pair, producing one report block on demand.
 * Sender side: packet/octet counts and the SR fields, plus round-trip time from a
 * report block measured on our monotonic clock (the SRs we sent are remembered by
 * their compact NTP, so the peer's clock never matters).
 * Plain structs the caller embeds; no allocation; time is an argument. */
#ifndef RTC_RTP_STATS_H
#define RTC_RTP_STATS_H
#include "core/rtc_time.h"
#include "rtp/rtcp.h"
#include <stdbool.h>
#include <stdint.h>

typedef struct rtc_rtp_recv_stats {
    uint32_t ssrc, clock_rate;
    bool init;
    uint16_t max_seq;
    uint32_t cycles, base_seq, bad_seq;
    uint64_t received, bytes;
    uint32_t expected_prior, received_prior;
    uint32_t jitter_q4;          /* jitter in timestamp units, times 16 (A.8) */
    int64_t transit;
    bool have_transit;
    uint32_t last_sr;            /* compact NTP of the last SR from this source, 0 = none */
    rtc_time last_sr_at;
} rtc_rtp_recv_stats;

void rtc_rtp_recv_stats_init(rtc_rtp_recv_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* A packet arrived (after SRTP and RTX unwrapping). A sequence jump beyond the
 * dropout limit is taken as a restart only when the next packet confirms it.
 * Only packets that advance the highest seq feed the interarrival jitter:
 * reordered packets and retransmissions (plain or RTX) do not. */
void rtc_rtp_recv_stats_on_packet(rtc_rtp_recv_stats *s, uint16_t seq, uint32_t ts,
                                  size_t payload_bytes, rtc_time arrival);
/* Would seq be a jump beyond the dropout or misorder limits (RFC 3550 A.1), that is
 * a packet on_packet ignores unless the next one follows it? False before the first
 * packet. Lets a caller hold such a packet and tell a sender restart from a stray. */
bool rtc_rtp_recv_stats_is_jump(const rtc_rtp_recv_stats *s, uint16_t seq);
/* The source restarted: the next packet starts the sequence, loss and jitter
 * counts again, as the first one did; the last SR is kept. */
void rtc_rtp_recv_stats_restart(rtc_rtp_recv_stats *s);
/* A sender report from this source arrived at `now`. */
void rtc_rtp_recv_stats_on_sr(rtc_rtp_recv_stats *s, uint64_t ntp, rtc_time now);
/* Fill a report block for now; moves the "since last report" baseline for fraction lost. */
void rtc_rtp_recv_stats_report(rtc_rtp_recv_stats *s, rtc_time now, rtc_rtcp_report_block *rb);
uint32_t rtc_rtp_recv_stats_ext_max(const rtc_rtp_recv_stats *s);
int64_t rtc_rtp_recv_stats_lost(const rtc_rtp_recv_stats *s);

#define RTC_RTP_SR_MEMORY 8
typedef struct rtc_rtp_send_stats {
    uint32_t ssrc, clock_rate;
    uint32_t packets, octets;
    uint32_t last_ts;
    rtc_time last_ts_at;
    bool have_ts;
    struct { uint32_t ntp; rtc_time at; } sr[RTC_RTP_SR_MEMORY];   /* SRs we sent, newest last */
    unsigned sr_count;
} rtc_rtp_send_stats;

void rtc_rtp_send_stats_init(rtc_rtp_send_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* A packet (payload_bytes without header and padding) sent with RTP timestamp ts. */
void rtc_rtp_send_stats_on_packet(rtc_rtp_send_stats *s, uint32_t ts, size_t payload_bytes, rtc_time now);
/* Fill an SR (no report blocks) for sending at monotonic `now`, wall time `unix_us`.
 * The RTP timestamp is the last one sent advanced by the elapsed time. */
void rtc_rtp_send_stats_sr(rtc_rtp_send_stats *s, rtc_time now, int64_t unix_us, rtc_rtcp_sr *out);
/* Round trip from a report block about our stream, received at `now`:
 * now - (when we sent the SR named by lsr) - dlsr. RTC_ENOTFOUND when the block has
 * no LSR or names an SR we no longer remember. */
int64_t rtc_rtp_send_stats_rtt(const rtc_rtp_send_stats *s, const rtc_rtcp_report_block *rb, rtc_time now);

#endif
