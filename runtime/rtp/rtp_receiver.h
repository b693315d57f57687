/* One incoming RTP stream (a media SSRC and its optional RTX SSRC), composed from the
 * pieces in this folder: RTX unwrap, reception statistics, NACK generation, jitter
 * buffer and frame assembly, rate-limited keyframe requests (PLI), and periodic
 * receiver reports with CNAME. Packets arrive already SRTP-unprotected and routed to
 * this stream by the caller (SSRC / MID / RID); its RTCP output goes to SRTCP protect.
 * The transport-wide CC receiver is per transport, not per stream: see rtp/twcc.h.
 *
 * Sans-IO machine. Contract: after rtc_rtp_receiver_handle_rtp(), _handle_rtcp() or
 * _handle_timeout(), drain _poll_rtcp(), _poll_frame() and _poll_event() until all
 * return 0, then wake at _poll_timeout(). */
#ifndef RTC_RTP_RECEIVER_H
#define RTC_RTP_RECEIVER_H
#include "rtp/jitter_buffer.h"
#include "rtp/nack.h"
#include "rtp/rtcp.h"
#include "rtp/remb_estimator.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_stats.h"

typedef struct rtc_rtp_receiver_config {
    rtc_codec_id codec;
    uint8_t pt;
    uint32_t ssrc;               /* the sender's media SSRC */
    uint32_t clock_rate;         /* 0 = 90000 (48000 for Opus) */
    uint8_t rtx_pt;
    uint32_t rtx_ssrc;           /* 0 = no RTX stream */
    uint8_t red_pt;              /* RED (RFC 2198) carrying `pt` on the media SSRC; 0 = none.
                                    Earlier copies in it fill holes before the jitter buffer */
    uint8_t ulpfec_pt;           /* ULPFEC (RFC 5109) in RED blocks on the media SSRC (video:
                                    needs red_pt); lost packets are rebuilt before the
                                    jitter buffer (rtp/fec_recovery.h); 0 = none */
    uint32_t local_ssrc;         /* SSRC our RTCP is sent from */
    const char *cname;           /* copied; sent in SDES with each RR; NULL = none */
    bool nack;                   /* ask for retransmissions (the peer offered nack) */
    bool pli;                    /* ask for keyframes with PLI (the peer offered nack pli) */
    bool fir;                    /* without pli: ask with FIR (RFC 5104; the peer offered only ccm fir) */
    bool remb;                   /* send REMB with a receive-side estimate (the peer offered
                                    goog-remb and not transport-cc): rtp/remb_estimator.h */
    uint8_t abs_send_time_id;    /* the abs-send-time extension id, 0 = none: with remb, the
                                    estimate gains its delay-based part */
    bool rsize;                  /* rtcp-rsize negotiated (RFC 5506): NACK, PLI and FIR go alone;
                                    otherwise each is a compound led by RR + SDES */
    rtc_nack_config nack_cfg;    /* zeros = defaults */
    rtc_time latency;            /* jitter buffer wait for missing packets; 0 = 200 ms. Audio
                                    waits less: not at all without NACK (the decoder
                                    conceals the hole), with NACK at most 2 RTT + 20 ms */
    bool wait_keyframe;          /* video: start on and recover at keyframes */
    rtc_time rr_interval;        /* 0 = 1 s */
    rtc_time pli_interval;       /* at most one PLI per interval; 0 = 500 ms */
    rtc_pool *pool;              /* borrowed, outlives the receiver: unwrapped RTX packets and
                                    frames that fit come from it; NULL = heap */
} rtc_rtp_receiver_config;

typedef enum {
    RTC_RTP_RECV_EV_KEYFRAME_REQUESTED = 1,  /* a PLI or FIR was sent */
    RTC_RTP_RECV_EV_BYE,                      /* the sender left (RTCP BYE) */
} rtc_rtp_receiver_event_type;
typedef struct rtc_rtp_receiver_event { rtc_rtp_receiver_event_type type; } rtc_rtp_receiver_event;

typedef struct rtc_rtp_receiver_stats {
    uint64_t packets, rtx_packets, bytes, ignored, malformed, plis_sent, firs_sent, nacks_sent, rrs_sent, rembs_sent;
    uint64_t remb_bitrate;       /* the last REMB sent, bit/s */
    uint64_t forwarded, forward_dropped;   /* forward mode: packets handed out / lost to a full queue */
    uint64_t duplicates;         /* seqs that had already arrived (RTX probes, raced repairs): not counted again */
    uint64_t retransmitted;      /* packets that came as retransmissions: every RTX packet, and a
                                    media packet filling a hole a NACK asked for (plain resend) */
    uint64_t red_packets;        /* RED packets received */
    uint64_t red_recovered;      /* missing packets filled from a RED packet's earlier copy */
    uint64_t fec_packets;        /* ULPFEC packets received (fecPacketsReceived) */
    uint64_t fec_discarded;      /* ULPFEC packets that rebuilt nothing (fecPacketsDiscarded) */
    uint64_t fec_recovered;      /* lost media packets rebuilt from FEC and accepted */
    uint64_t fec_malformed;      /* ULPFEC packets rejected (bad header, impossible rebuild) */
    uint64_t repaired;           /* NACKed holes filled by a retransmission (RTX, or a plain resend
                                    when no RTX is negotiated); never more than retransmitted */
    uint64_t restarts;           /* the sender restarted its sequence on this SSRC: state started over */
    rtc_nack_stats nack;
    rtc_jb_stats jb;
    int64_t lost;                /* cumulative, RFC 3550 */
    uint32_t jitter;             /* timestamp units */
    /* The sender's reports (W3C remote-outbound-rtp): how many SRs came, and the last one's
     * counts and NTP time */
    uint64_t srs_received;
    uint32_t sr_packets, sr_octets;
    uint64_t sr_ntp;             /* 32.32 since 1900; 0 before the first SR */
} rtc_rtp_receiver_stats;

typedef struct rtc_rtp_receiver rtc_rtp_receiver;

int rtc_rtp_receiver_new(rtc_rtp_receiver **out, const rtc_rtp_receiver_config *cfg, rtc_time now);
void rtc_rtp_receiver_free(rtc_rtp_receiver *r);            /* NULL-safe; drops queued frames */
/* One RTP packet for this stream (media or RTX) in pkt->data; the receiver takes a ref
 * when it keeps it. A packet far from the highest seq (RFC 3550 A.1 dropout and
 * misorder limits) is held until the next one: if that follows it, the sender
 * restarted, and the jitter buffer, NACK and loss state start over from the held
 * packet (video then asks for a keyframe); otherwise it is judged as usual. RTC_EIGNORED for another SSRC/PT, RTX padding, duplicates (a seq that
 * already arrived, e.g. an RTX bandwidth probe: counted in `duplicates` only); a parse
 * error for malformed packets (counted). */
int rtc_rtp_receiver_handle_rtp(rtc_rtp_receiver *r, rtc_buf *pkt, rtc_time now);
/* One RTCP packet of a parsed compound (borrowed): SR from our sender, BYE. Others
 * give RTC_EIGNORED. */
int rtc_rtp_receiver_handle_rtcp(rtc_rtp_receiver *r, const rtc_rtcp_view *v, rtc_time now);
/* The RTX SSRC, learned after creation (unsignaled streams name their RTX stream
 * with repaired-RID): RTX packets on it are unwrapped from then on. */
void rtc_rtp_receiver_set_rtx_ssrc(rtc_rtp_receiver *r, uint32_t rtx_ssrc);
/* Round-trip estimate from the transport: spaces NACK retries and, for audio, bounds
 * how long a hole holds back later packets. */
void rtc_rtp_receiver_handle_rtt(rtc_rtp_receiver *r, rtc_time rtt);
void rtc_rtp_receiver_handle_timeout(rtc_rtp_receiver *r, rtc_time now);
/* Ask for a keyframe (a decoder or the application wants one). PLIs (or FIRs) repeat
 * every pli_interval until a keyframe comes out of the jitter buffer; repeats of one
 * FIR request keep its sequence number (RFC 5104 4.3.1.1), a new request takes the next. */
void rtc_rtp_receiver_request_keyframe(rtc_rtp_receiver *r);
/* Next RTCP packet (plain, before SRTCP) into out[0..cap): a NACK, a PLI or FIR, a
 * REMB (each alone with rsize, else after an RR + SDES), or an RR + SDES compound. Returns its
 * length, 0 when nothing is due, RTC_EOVERFLOW. */
int rtc_rtp_receiver_poll_rtcp(rtc_rtp_receiver *r, uint8_t *out, size_t cap);
int rtc_rtp_receiver_poll_frame(rtc_rtp_receiver *r, rtc_jb_frame *out);   /* frame data: caller unrefs */
int rtc_rtp_receiver_poll_event(rtc_rtp_receiver *r, rtc_rtp_receiver_event *out);
/* Forward mode (an SFU forwards the stream): packets that pass RTX unwrap and duplicate
 * removal are handed out whole by _poll_packet() instead of entering the jitter buffer;
 * statistics, NACKs and receiver reports go on as before, but the receiver no longer
 * asks for keyframes on its own (its consumers decide that). Frames already in the
 * jitter buffer stay there until the mode is turned off again. */
void rtc_rtp_receiver_set_forward(rtc_rtp_receiver *r, bool on);
/* Next forwarded packet (plain RTP, media SSRC): 1 with *out (one ref: caller unrefs),
 * 0 when none. Drain it with the others after each call. */
int rtc_rtp_receiver_poll_packet(rtc_rtp_receiver *r, rtc_buf **out);
rtc_time rtc_rtp_receiver_poll_timeout(const rtc_rtp_receiver *r);
void rtc_rtp_receiver_get_stats(const rtc_rtp_receiver *r, rtc_rtp_receiver_stats *out);

#endif
