/* One outgoing RTP stream (a media SSRC and its optional RTX SSRC), composed from
 * the pieces in this folder: packetizer, RTP header with mid / abs-send-time /
 * transport-wide seq extensions, packet history, RTX answers to NACKs, sender
 * reports, and the feedback a sender acts on (PLI/FIR, REMB, RTT from report blocks).
 * The transport-wide seq is per transport: every sender of a transport takes the next
 * value from one shared counter (config twcc_seq) when it makes a packet, before the
 * history keeps it. A NACK answered without RTX then resends the very bytes first
 * sent: under SRTP that packet reuses its (SSRC, index), and with AES-GCM any other
 * plaintext under that IV would give the key stream and the GHASH key away. So such
 * a resend keeps its original abs-send-time too; an RTX packet gets the time it
 * leaves, as it gets its own transport-wide seq.
 *
 * Sans-IO machine. Contract: after rtc_rtp_sender_send_frame(), _handle_rtcp() or
 * _handle_timeout(), drain _poll_transmit() and _poll_event() until both return 0,
 * then wake at _poll_timeout(). */
#ifndef RTC_RTP_SENDER_H
#define RTC_RTP_SENDER_H
#include "codec/codec.h"
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_stats.h"

typedef struct rtc_rtp_sender_config {
    rtc_codec_id codec;
    uint8_t pt;
    uint32_t ssrc;
    uint32_t clock_rate;         /* 0 = 90000 (48000 for Opus) */
    uint8_t rtx_pt;
    uint32_t rtx_ssrc;           /* 0 = no RTX: NACKed packets are resent as they were */
    uint8_t red_pt;              /* Opus: send RED (RFC 2198) with this payload type, each packet
                                    carrying the previous frame too when both fit; 0 = plain.
                                    Video: only with ulpfec_pt, each packet one RED block */
    uint8_t ulpfec_pt;           /* video: ULPFEC (RFC 5109) inside RED; needs red_pt. After every
                                    fec_group packets of a frame (and after its last) an FEC
                                    packet over them takes the next seq; 0 = none */
    uint8_t fec_group;           /* media packets per FEC packet, 1..48; 0 = 4 */
    uint16_t initial_seq, initial_rtx_seq;   /* drawn by the caller (RFC 3550: random) */
    size_t history;              /* packets kept for NACKs, power of two (16..32768); 0 = 1024; allocated with the first frame */
    size_t max_payload;          /* RTP payload bytes per packet; 0 = 1100 (Opus: at least 1276) */
    uint8_t mid_id;              /* extension ids from SDP; 0 = not used */
    uint8_t abs_send_time_id;
    uint8_t twcc_id;
    uint8_t audio_level_id;      /* RFC 6464, written when a frame's level is given */
    uint16_t *twcc_seq;          /* borrowed, outlives the sender: the transport's next
                                    transport-wide seq, shared by its senders; new and RTX
                                    packets take one each. NULL: the extension stays 0 */
    const char *mid;             /* copied, at most 16 bytes; sent when mid_id is set */
    uint8_t rid_id;              /* RFC 8852 rtp-stream-id: this stream's simulcast RID; 0 = none */
    const char *rid;             /* copied, at most 15 bytes; sent on media and FEC packets
                                    (RTX copies carry it too, which receivers take as the
                                    repaired stream's RID) when rid_id is set */
    const char *cname;           /* copied; sent in SDES with each SR; NULL = none */
    rtc_time sr_interval;        /* 0 = 1 s */
    int64_t unix_offset_us;      /* wall clock = now + this, for SR NTP timestamps */
    rtc_pool *pool;              /* borrowed; packet buffers come from it (NULL = heap) */
} rtc_rtp_sender_config;

typedef enum {
    RTC_RTP_SEND_EV_KEYFRAME_REQUESTED = 1,   /* PLI or FIR for our SSRC */
    RTC_RTP_SEND_EV_REMB,                     /* u.bitrate */
    RTC_RTP_SEND_EV_RTT,                      /* u.rtt from a report block */
} rtc_rtp_sender_event_type;
typedef struct rtc_rtp_sender_event {
    rtc_rtp_sender_event_type type;
    union { uint64_t bitrate; rtc_time rtt; } u;
} rtc_rtp_sender_event;

typedef struct rtc_rtp_out {
    rtc_buf *buf;                /* ownership passes to the caller (unref after sending); a
                                    private copy, so SRTP may protect it in place */
    bool rtcp;                   /* protect as SRTCP rather than SRTP */
} rtc_rtp_out;

typedef struct rtc_rtp_sender_stats {
    uint64_t frames, packets, bytes, rtx_packets, nacks_received, nack_misses;
    uint64_t plis_received, firs_received, srs_sent;
    uint64_t firs_repeated;      /* FIRs repeating the last one's sequence number: no new request */
    uint64_t byes_sent;
    uint64_t fec_packets;        /* ULPFEC packets sent (not in packets/bytes) */
    rtc_time rtt;                /* last measured, -1 when unknown */
    rtc_time rtt_total;          /* sum of every RTT measured (from report blocks' LSR/DLSR) */
    uint64_t rtt_measurements;   /* how many */
    uint8_t fraction_lost;       /* from the last report block */
    uint64_t reports_received;   /* report blocks about our SSRC */
    int32_t remote_lost;         /* cumulative lost, from the last report block */
    uint32_t remote_jitter;      /* timestamp units, from the last report block */
} rtc_rtp_sender_stats;

typedef struct rtc_rtp_sender rtc_rtp_sender;

int rtc_rtp_sender_new(rtc_rtp_sender **out, const rtc_rtp_sender_config *cfg, rtc_time now);
void rtc_rtp_sender_free(rtc_rtp_sender *s);                /* NULL-safe; drops queued packets */
/* The seqs the next media and RTX packets take: a sender rebuilt for a renegotiated codec
 * on the same SSRC goes on from them (SRTP replay protection drops a seq going back). */
void rtc_rtp_sender_next_seqs(const rtc_rtp_sender *s, uint16_t *seq, uint16_t *rtx_seq);
/* Packetize one encoded frame (borrowed for the call) with RTP timestamp ts and queue
 * its packets. pp: VP8/VP9 picture id and keyframe flag (NULL = a picture id counted
 * here, not a keyframe). Returns the number of packets, or an error from the
 * packetizer (packets of a frame that fails half way are not queued). */
int rtc_rtp_sender_send_frame(rtc_rtp_sender *s, const uint8_t *frame, size_t len, uint32_t ts,
                              const rtc_pack_params *pp, rtc_time now);
/* The RFC 6464 audio level (-dBov, 0..127) and voice flag of the next frame given to
 * rtc_rtp_sender_send_frame: its packets carry them when audio_level_id is set. Once
 * only: a frame without a level given before it goes without the extension. */
void rtc_rtp_sender_set_audio_level(rtc_rtp_sender *s, uint8_t level, bool voice);
/* One RTCP packet of a parsed compound (borrowed): NACK, PLI, FIR, REMB, RR/SR report
 * blocks about our SSRC. Others give RTC_EIGNORED. A FIR whose sequence number equals
 * the last one's for our SSRC is a repetition (RFC 5104 4.3.1.2): counted in
 * firs_repeated, no new keyframe request. */
int rtc_rtp_sender_handle_rtcp(rtc_rtp_sender *s, const rtc_rtcp_view *v, rtc_time now);
void rtc_rtp_sender_handle_timeout(rtc_rtp_sender *s, rtc_time now);
/* The stream ends (the peer connection closes, the track stops): queues an SR (an RR
 * when nothing was sent) + SDES CNAME + BYE for our SSRC and its RTX SSRC, once. */
void rtc_rtp_sender_bye(rtc_rtp_sender *s, rtc_time now);
/* A padding-only RTX packet (RFC 4588 RTX SSRC and PT, no payload, RTP padding) of at
 * most `size` bytes, for bandwidth probes: it carries MID and the transport-wide seq
 * and is sent like any other packet (the caller owns it). NULL without RTX or on
 * ENOMEM. The padding is at most 255 bytes, as the RTP padding count allows. */
rtc_buf *rtc_rtp_sender_make_padding(rtc_rtp_sender *s, size_t size, rtc_time now);
int rtc_rtp_sender_poll_transmit(rtc_rtp_sender *s, rtc_rtp_out *out);
int rtc_rtp_sender_poll_event(rtc_rtp_sender *s, rtc_rtp_sender_event *out);
rtc_time rtc_rtp_sender_poll_timeout(const rtc_rtp_sender *s);
void rtc_rtp_sender_get_stats(const rtc_rtp_sender *s, rtc_rtp_sender_stats *out);

#endif
