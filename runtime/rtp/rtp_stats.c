/* RTCP report statistics (RFC 3550 A.1, A.3, A.8). */
#include "rtp/rtp_stats.h"
#include "core/rtc_errors.h"
#include <string.h>

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100

void rtc_rtp_recv_stats_init(rtc_rtp_recv_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate ? clock_rate : 90000;
}

static void stats__restart(rtc_rtp_recv_stats *s, uint16_t seq)
{
    s->init = true;
    s->base_seq = seq;
    s->max_seq = seq;
    s->bad_seq = 65536 + 1;                           /* no seq equals this */
    s->cycles = 0;
    s->received = 0;
    s->expected_prior = s->received_prior = 0;
    s->have_transit = false;                          /* a new sender: a new clock offset */
}

bool rtc_rtp_recv_stats_is_jump(const rtc_rtp_recv_stats *s, uint16_t seq)
{
    uint16_t udelta = (uint16_t)(seq - s->max_seq);
    return s->init && udelta >= MAX_DROPOUT && udelta <= 65536 - MAX_MISORDER;
}

void rtc_rtp_recv_stats_restart(rtc_rtp_recv_stats *s)
{
    s->init = false;
    s->jitter_q4 = 0;
}

void rtc_rtp_recv_stats_on_packet(rtc_rtp_recv_stats *s, uint16_t seq, uint32_t ts,
                                  size_t payload_bytes, rtc_time arrival)
{
    bool in_order = true;
    if (!s->init) {
        stats__restart(s, seq);
    } else {
        uint16_t udelta = (uint16_t)(seq - s->max_seq);
        if (udelta < MAX_DROPOUT) {
            if (seq < s->max_seq) s->cycles += 65536;
            s->max_seq = seq;
            in_order = udelta != 0;
        } else if (udelta <= 65536 - MAX_MISORDER) {
            if (seq == s->bad_seq) {
                stats__restart(s, seq);             /* two in a row: the source restarted */
            } else {
                s->bad_seq = (uint32_t)(uint16_t)(seq + 1);
                return;
            }
        } else {
            in_order = false;                       /* duplicate or reordered */
        }
    }
    s->received++;
    s->bytes += payload_bytes;
    /* Interarrival jitter in timestamp units, from packets in sequence order only, as
     * libwebrtc does: a packet older than the highest (a reordered one, a plain
     * retransmission, an RTX repair) left the sender long before it arrives, and
     * counting its delay as network jitter made audio jitter read 53 ms at 25% loss
     * on loopback. */
    if (!in_order) return;
    int64_t arr = (int64_t)((__int128)arrival * s->clock_rate / 1000000);
    int64_t transit = arr - (int64_t)ts;
    if (s->have_transit) {
        int64_t d = (int64_t)(uint32_t)(transit - s->transit);    /* both wrap modulo 2^32 */
        if (d >= 0x80000000LL) d -= 0x100000000LL;
        if (d < 0) d = -d;
        if (d > 0x7FFFFFF) d = 0x7FFFFFF;                          /* keep the filter bounded */
        s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
    }
    s->transit = transit;
    s->have_transit = true;
}

void rtc_rtp_recv_stats_on_sr(rtc_rtp_recv_stats *s, uint64_t ntp, rtc_time now)
{
    s->last_sr = rtc_ntp_compact(ntp);
    s->last_sr_at = now;
}

uint32_t rtc_rtp_recv_stats_ext_max(const rtc_rtp_recv_stats *s) { return s->cycles + s->max_seq; }

int64_t rtc_rtp_recv_stats_lost(const rtc_rtp_recv_stats *s)
{
    if (!s->init) return 0;
    int64_t expected = (int64_t)rtc_rtp_recv_stats_ext_max(s) - s->base_seq + 1;
    return expected - (int64_t)s->received;
}

void rtc_rtp_recv_stats_report(rtc_rtp_recv_stats *s, rtc_time now, rtc_rtcp_report_block *rb)
{
    memset(rb, 0, sizeof *rb);
    rb->ssrc = s->ssrc;
    if (!s->init) return;
    uint32_t expected = rtc_rtp_recv_stats_ext_max(s) - s->base_seq + 1;
    int64_t lost = rtc_rtp_recv_stats_lost(s);
    rb->cumulative_lost = lost > 0x7FFFFF ? 0x7FFFFF : lost < -0x800000 ? -0x800000 : (int32_t)lost;
    uint32_t exp_int = expected - s->expected_prior;
    uint32_t rec_int = (uint32_t)s->received - s->received_prior;
    s->expected_prior = expected;
    s->received_prior = (uint32_t)s->received;
    int64_t lost_int = (int64_t)exp_int - rec_int;
    rb->fraction_lost = (exp_int == 0 || lost_int <= 0) ? 0 : (uint8_t)((lost_int << 8) / exp_int);
    rb->ext_highest_seq = rtc_rtp_recv_stats_ext_max(s);
    rb->jitter = s->jitter_q4 >> 4;
    if (s->last_sr) {
        rb->lsr = s->last_sr;
        rb->dlsr = rtc_rtcp_dlsr_from_us(now - s->last_sr_at);
    }
}

void rtc_rtp_send_stats_init(rtc_rtp_send_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate ? clock_rate : 90000;
}

void rtc_rtp_send_stats_on_packet(rtc_rtp_send_stats *s, uint32_t ts, size_t payload_bytes, rtc_time now)
{
    s->packets++;
    s->octets += (uint32_t)payload_bytes;
    s->last_ts = ts;
    s->last_ts_at = now;
    s->have_ts = true;
}

void rtc_rtp_send_stats_sr(rtc_rtp_send_stats *s, rtc_time now, int64_t unix_us, rtc_rtcp_sr *out)
{
    memset(out, 0, sizeof *out);
    out->ssrc = s->ssrc;
    out->ntp = rtc_ntp_from_unix_us(unix_us);
    out->packet_count = s->packets;
    out->octet_count = s->octets;
    if (s->have_ts)
        out->rtp_ts = s->last_ts + (uint32_t)((__int128)(now - s->last_ts_at) * s->clock_rate / 1000000);
    if (s->sr_count == RTC_RTP_SR_MEMORY) {
        memmove(&s->sr[0], &s->sr[1], (RTC_RTP_SR_MEMORY - 1) * sizeof s->sr[0]);
        s->sr_count--;
    }
    s->sr[s->sr_count].ntp = rtc_ntp_compact(out->ntp);
    s->sr[s->sr_count].at = now;
    s->sr_count++;
}

int64_t rtc_rtp_send_stats_rtt(const rtc_rtp_send_stats *s, const rtc_rtcp_report_block *rb, rtc_time now)
{
    if (rb->lsr == 0) return RTC_ENOTFOUND;
    for (unsigned i = s->sr_count; i-- > 0; ) {
        if (s->sr[i].ntp != rb->lsr) continue;
        int64_t held = ((int64_t)rb->dlsr * 1000000) >> 16;
        int64_t rtt = now - s->sr[i].at - held;
        return rtt < 0 ? 0 : rtt;
    }
    return RTC_ENOTFOUND;
}
