/* Media in the peer connection: transceivers (W3C RTCRtpTransceiver), each an m=audio
 * or m=video section of the BUNDLEd session with at most one outgoing and one incoming
 * RTP stream (plus RTX). JSEP negotiates them (codec, RTX, extmap ids, rtcp-fb,
 * direction, SSRCs) and the peer connection runs them over its SRTP session: received
 * packets are unprotected, routed by SSRC (from a=ssrc) or by the MID header extension,
 * repaired with NACK/RTX, assembled into frames in a jitter buffer and reported as
 * RTC_PC_EV_FRAME events; frames given to rtc_pc_send_frame() are packetized, stamped
 * with mid / abs-send-time / transport-wide seq, SRTP-protected and sent.
 *
 * These calls follow the peer connection's contract (peer_connection.h): after each one
 * that takes `now`, drain rtc_pc_poll_transmit() and rtc_pc_poll_event() until both
 * return false, then re-arm the timer for rtc_pc_poll_timeout().
 *
 * Media events (in rtc_pc_event):
 *   RTC_PC_EV_TRACK            tr, kind, mid: the peer sends on this transceiver (raised
 *                              while applying a remote description that says so)
 *   RTC_PC_EV_FRAME            tr, buf (caller unrefs), ts, keyframe, codec, rid: one
 *                              complete encoded frame, in order per layer (rid "" when the
 *                              stream has no RID; simulcast layers each have their own)
 *   RTC_PC_EV_KEYFRAME_REQUEST tr, rid: the peer asked for a keyframe (PLI or FIR) of
 *                              the encoding with that RID ("" without simulcast)
 *   RTC_PC_EV_SENDER_REPORT    tr, ntp, ts, rid: an RTCP sender report for an incoming
 *                              stream: the sender's NTP wall clock (32.32) and the RTP
 *                              timestamp of that same instant. All streams of one sender
 *                              share the NTP clock, so this pair maps each stream's RTP
 *                              time onto one timeline (A/V sync, RFC 3550 6.4.1)
 * Transceivers are named by a handle (>= 0) handed out at creation. */
#ifndef RTC_PC_MEDIA_H
#define RTC_PC_MEDIA_H
#include "pc/peer_connection.h"
#include "codec/codec.h"

typedef enum { RTC_MEDIA_AUDIO = 0, RTC_MEDIA_VIDEO = 1 } rtc_media_kind;
typedef enum { RTC_DIR_SENDRECV, RTC_DIR_SENDONLY, RTC_DIR_RECVONLY, RTC_DIR_INACTIVE } rtc_media_direction;

const char *rtc_media_direction_name(rtc_media_direction d);             /* "sendrecv", ... */
int rtc_media_direction_parse(const char *name, rtc_media_direction *out); /* 0 or RTC_EINVAL */

typedef struct rtc_transceiver_init {
    rtc_media_kind kind;
    rtc_media_direction direction;
    int codec;                   /* preferred rtc_codec_id, -1 = none (offer order) */
} rtc_transceiver_init;

/* A transceiver (addTransceiver). It gets an m= section in the next offer; one marked
 * with rtc_pc_transceiver_set_add_track may instead be associated with the first new
 * section of its kind in a remote offer (JSEP 5.10). Raises RTC_PC_EV_NEGOTIATION_NEEDED. Returns the handle (>= 0),
 * RTC_EINVAL, RTC_ESTATE (closed) or RTC_ENOMEM. `init` read during the call. */
int rtc_pc_add_transceiver(rtc_pc *pc, const rtc_transceiver_init *init, rtc_time now);
/* Change the desired direction (takes effect at the next negotiation; raises
 * negotiationneeded when it changes). RTC_ENOTFOUND for a bad handle, RTC_ESTATE once
 * stopping or stopped (W3C InvalidStateError). */
int rtc_pc_transceiver_set_direction(rtc_pc *pc, int tr, rtc_media_direction dir, rtc_time now);
int rtc_pc_transceiver_count(const rtc_pc *pc);                 /* handles are 0..count-1 */
/* The preferred codec (rtc_codec_id, -1 = none) from the next description on: our offers
 * list it first, our answers pick it when offered. A renegotiation that changes the codec
 * restarts the transceiver's streams. RTC_EINVAL for a codec of the other kind. */
int rtc_pc_transceiver_set_codec(rtc_pc *pc, int tr, int codec);
/* The same with the format wanted of that codec (an fmtp line such as
 * "profile-level-id=640c1f;packetization-mode=1"; NULL or "" = any): answering, an
 * offered payload type of that codec in another format (rtc_sdp_fmtp_match: H264
 * profile and packetization-mode, VP9 profile-id, AV1 profile) is neither preferred nor
 * taken while another codec is offered; offering, that fmtp replaces ours for the codec.
 * An SFU sets the producer's codec and fmtp on a subscriber's transceiver. Copied;
 * RTC_EINVAL when too long (127 bytes at most) or given without a codec. */
int rtc_pc_transceiver_set_codec_fmtp(rtc_pc *pc, int tr, int codec, const char *fmtp);
/* Ask to receive stereo Opus: our Opus fmtp (offer or answer) says stereo=1 from the
 * next description we create on. Audio transceivers only (RTC_EINVAL otherwise). */
int rtc_pc_transceiver_set_stereo(rtc_pc *pc, int tr, bool stereo);
/* Made by W3C addTrack (call it right after rtc_pc_add_transceiver): a new section of
 * its kind in a remote offer may take it while it is in no section and not stopped
 * (JSEP 5.10). Others wait for a section of their own in our next offer. */
int rtc_pc_transceiver_set_add_track(rtc_pc *pc, int tr);
/* RED (RFC 2198) for Opus, as browsers decide it. AUTO (the default): offered and
 * answered after Opus, received when negotiated, sent only when the peer's description
 * lists RED before Opus (Chromium's rule). ON: the same, and sent whenever negotiated.
 * OFF: neither offered nor answered. Takes effect from the next description on; audio
 * transceivers only (RTC_EINVAL otherwise or for a bad mode). */
typedef enum rtc_red_mode { RTC_RED_AUTO = 0, RTC_RED_ON, RTC_RED_OFF } rtc_red_mode;
int rtc_pc_transceiver_set_red(rtc_pc *pc, int tr, rtc_red_mode mode);
/* The 3GPP video orientation extension (urn:3gpp:video-orientation, CVO): when on, the
 * pc's video sections offer it and answer it when offered, from the next description
 * on. Off by default, because a sender that negotiated it stops rotating its frames and
 * leaves that to the receiver, and our frame events and recorder do not rotate. An SFU
 * turns it on for the connections it forwards for: the orientation then goes through
 * unchanged (rtc_pc_forward_params.video_orientation_id on both legs). */
int rtc_pc_set_video_orientation(rtc_pc *pc, bool on);
/* Video FEC. ULPFEC: `red/90000` and `ulpfec/90000` (RFC 2198 + RFC 5109, as Chromium
 * names them) are offered, and answered when an offer has both; once negotiated,
 * lost packets are rebuilt from received FEC packets before the jitter buffer, and
 * our sender wraps each packet in RED and adds one FEC packet per `group` media
 * packets of a frame (1..48; 0 = 4). OFF (the default): neither offered nor answered.
 * Takes effect from the next description on; video transceivers only (RTC_EINVAL
 * otherwise or for a bad mode or group). */
typedef enum rtc_fec_mode { RTC_FEC_OFF = 0, RTC_FEC_ULPFEC } rtc_fec_mode;
int rtc_pc_transceiver_set_fec(rtc_pc *pc, int tr, rtc_fec_mode mode, int group);
/* The sender's encoding (W3C RTCRtpEncodingParameters): inactive, frames given to
 * rtc_pc_send_frame() are dropped (it returns 0) without renegotiation; max_bps > 0
 * caps this sender, and while every sending transceiver has a cap the send-side
 * estimate stays under their sum (pc_cc.h). RTC_EINVAL for a negative or NaN max_bps. */
/* W3C transceiver.stop(): stops sending at once (rtc_pc_send_frame gives RTC_ESTATE),
 * raises negotiationneeded; the next description has the section with port 0 and,
 * once negotiated, the transceiver is stopped. RTC_ENOTFOUND for a bad handle. */
int rtc_pc_transceiver_stop(rtc_pc *pc, int tr, rtc_time now);
int rtc_pc_transceiver_set_encoding(rtc_pc *pc, int tr, bool active, double max_bps);

/* Simulcast send (W3C addTransceiver sendEncodings, RFC 8853): a video transceiver with
 * n (2..4) RIDs (1..15 of [A-Za-z0-9_-], distinct) offers `a=rid:<id> send` for each,
 * `a=simulcast:send <id>;<id>...` and the rid / repaired-rid extensions, and answers an
 * offer that says `a=simulcast:recv` with those of its RIDs the offer lists. Each
 * encoding has its own SSRC and RTX SSRC (not signalled: the peer routes by MID and RID)
 * and its own RTP sender; its packets carry its RID. When the peer takes no simulcast
 * only the first encoding is sent, without RID. Only before the transceiver has a
 * section (RTC_ESTATE after); n == 1 clears it. RTC_EINVAL for audio or bad RIDs.
 * The RIDs are copied. */
int rtc_pc_transceiver_set_send_encodings(rtc_pc *pc, int tr, const char *const *rids, int n);
/* rtc_pc_send_frame for the encoding named rid (NULL or "" = the first): RTC_ENOTFOUND
 * for a RID the transceiver does not have, RTC_ESTATE for one the negotiation dropped,
 * 0 (nothing sent) while that encoding is inactive. */
int rtc_pc_send_frame_rid(rtc_pc *pc, int tr, const char *rid, const uint8_t *frame, size_t len, uint32_t ts,
                          bool keyframe, rtc_time now);
/* rtc_pc_transceiver_set_encoding for one encoding (rid NULL = the first). */
int rtc_pc_transceiver_set_encoding_rid(rtc_pc *pc, int tr, const char *rid, bool active, double max_bps);
typedef struct rtc_encoding_info {
    const char *rid;             /* owned by the pc; "" without simulcast */
    bool active, sending;        /* sending: negotiated, it has an RTP sender */
    double max_bitrate;
    uint32_t ssrc, rtx_ssrc;
    uint64_t frames_sent, packets_sent, retransmitted_packets, nacks_received, plis_received;
} rtc_encoding_info;
/* The send encodings in order (at least one), up to max; returns their count or RTC_ENOTFOUND. */
int rtc_pc_transceiver_encodings(rtc_pc *pc, int tr, rtc_encoding_info *out, int max);

/* Send one encoded frame (borrowed for the call): Opus packet, VP8/VP9 frame, H264
 * Annex B access unit, AV1 temporal unit. ts in the codec's RTP clock (48 kHz Opus,
 * 90 kHz video). keyframe matters for VP9 (scalability structure); other codecs read
 * it from the bitstream. Returns the number of RTP packets, RTC_ESTATE when the
 * transceiver does not send (not negotiated, no send direction, transport not up),
 * RTC_ENOTFOUND, or a packetizer error. With a frame transform (pc/pc_transform.h):
 * 0 when it dropped the frame, its error when it failed. */
int rtc_pc_send_frame(rtc_pc *pc, int tr, const uint8_t *frame, size_t len, uint32_t ts, bool keyframe,
                      rtc_time now);
/* The RFC 6464 audio level (-dBov, 0 loudest .. 127 silence) and voice flag of the
 * next frame given to rtc_pc_send_frame on audio transceiver tr: its packets carry
 * the ssrc-audio-level extension when the peer negotiated it. Once only: a frame
 * without a level before it is sent without the extension. RTC_EINVAL for video or
 * a level above 127. */
int rtc_pc_set_audio_level(rtc_pc *pc, int tr, uint8_t level, bool voice);
/* Ask the peer for a keyframe on the incoming stream (PLI, repeated until one comes). */
int rtc_pc_request_keyframe(rtc_pc *pc, int tr, rtc_time now);

typedef struct rtc_transceiver_info {
    int handle;
    rtc_media_kind kind;
    const char *mid;             /* owned by the pc; "" until negotiated */
    rtc_media_direction direction, current_direction;  /* current: -1 until negotiated */
    bool negotiated, stopped, stopping;
    bool removed;                /* dropped by rolling back the remote offer that made it */
    bool has_sent;               /* current_direction has been sendrecv or sendonly (W3C
                                  * addTrack reuses only a transceiver that never sent) */
    int codec;                   /* rtc_codec_id of the negotiated codec, -1 */
    uint8_t pt, rtx_pt;          /* rtx_pt 0 = no RTX */
    uint8_t red_pt;              /* audio: RED (RFC 2198) carrying pt, 0 = not negotiated */
    bool red_send;               /* our sender wraps Opus in RED (see rtc_pc_transceiver_set_red) */
    uint32_t clock_rate;
    char fmtp[128];              /* of the negotiated codec */
    char remote_fmtp[128];       /* the peer's fmtp for it (its receive preferences: Opus usedtx, ...) */
    bool fb_nack, fb_pli, fb_fir, fb_twcc, fb_remb;
    uint32_t local_ssrc, local_rtx_ssrc, remote_ssrc, remote_rtx_ssrc;   /* 0 = none */
    /* inbound-rtp (summed over simulcast layers) */
    int layers;                  /* incoming streams (simulcast layers by RID) */
    /* The simulcast layers the peer said it sends, in its order (a=simulcast send
     * RIDs, or "sim0".."sim2" for the SSRCs of an a=ssrc-group:SIM); borrowed from the pc. */
    int nsimulcast;
    const char *simulcast[4];
    bool has_inbound;
    uint64_t packets_received, bytes_received, frames_received, keyframes_received;
    uint64_t rtx_received;       /* retransmissions received: on the RTX SSRC, or plain resends that filled a NACKed hole */
    uint64_t nack_count, pli_count, fir_count;
    int64_t packets_lost;
    double jitter;               /* seconds */
    uint64_t packets_repaired;   /* holes filled by retransmission */
    uint64_t red_recovered;      /* holes filled from RED copies (audio) */
    uint64_t red_packets_received;   /* RED packets among packets_received (audio) */
    uint8_t ulpfec_pt;               /* video: ULPFEC negotiated (0 = none) */
    uint64_t fec_packets_received;   /* ULPFEC packets received (W3C fecPacketsReceived) */
    uint64_t fec_packets_discarded;  /* of those, the ones that rebuilt nothing (fecPacketsDiscarded) */
    uint64_t fec_recovered;          /* lost media packets rebuilt from FEC */
    uint64_t fec_packets_sent;       /* ULPFEC packets our sender sent */
    uint64_t frames_dropped;     /* incomplete frames given up, and frames skipped waiting for a keyframe */
    uint64_t packets_given_up;   /* holes NACK stopped asking for */
    uint64_t frames_skipped;     /* of frames_dropped: complete frames skipped waiting for a keyframe */
    uint64_t packets_late;       /* arrived after the jitter buffer gave up on them */
    /* outbound-rtp / remote-inbound-rtp */
    bool has_outbound;
    uint64_t packets_sent, bytes_sent, frames_sent, retransmitted_packets;
    uint64_t nacks_received, plis_received, firs_received;
    double round_trip_time;      /* seconds, < 0 when unknown */
    double fraction_lost;
    /* remote-inbound-rtp: from the peer's report blocks about our stream */
    double total_round_trip_time;    /* seconds, the sum of rtt_measurements round trips */
    uint64_t rtt_measurements, reports_received;
    int64_t remote_packets_lost;
    double remote_jitter;            /* seconds */
    /* remote-outbound-rtp: from the peer's sender reports for the stream we receive
     * (the first layer's) */
    uint64_t remote_reports_sent;    /* SRs received */
    uint32_t remote_packets_sent, remote_bytes_sent;
    double remote_timestamp;         /* the last SR's NTP time, ms since 1970 */
} rtc_transceiver_info;

int rtc_pc_transceiver_info(rtc_pc *pc, int tr, rtc_transceiver_info *out);   /* RTC_ENOTFOUND */

/* Transport-level media counters. */
typedef struct rtc_pc_media_stats {
    uint64_t rtp_received, rtcp_received, srtp_errors, unroutable, twcc_feedback_sent;
} rtc_pc_media_stats;
void rtc_pc_media_get_stats(const rtc_pc *pc, rtc_pc_media_stats *out);

#endif
