/* The forwarding tap and inject path of the peer connection, for an SFU (sfu/sfu_router.h)
 * that forwards RTP between connections without decoding or re-packetizing it.
 *
 * Tap (receive side of a transceiver): once on, each packet of its incoming streams that
 * passes SRTP unprotect, RTX unwrap and duplicate removal is handed out whole, as plain
 * RTP, by rtc_pc_poll_tapped(), instead of entering the jitter buffer. Reception
 * statistics, NACKs towards the sender and receiver reports go on as before; keyframe
 * requests are the forwarder's (it aggregates its subscribers'). No RTC_PC_EV_FRAME is
 * raised for a tapped stream.
 *
 * Inject (send side of a transceiver): rtc_pc_inject_rtp() sends an RTP packet the
 * forwarder already wrote with this transceiver's SSRC (or RTX SSRC), payload type and
 * extension ids (rtc_pc_forward_params() says which): the pc stamps the transport-wide
 * sequence number when that extension is present, SRTP-protects and sends it. A packet
 * whose seq went out before is sent only as a plain resend (NACK without RTX) that is
 * then byte for byte the first transmission (the pc puts back the transport-wide seq
 * and abs-send-time it first had); any other reuse of an SRTP index is refused with
 * RTC_EEXISTS (pc/pc_inject_log.h). The
 * transceiver's own sender then stays silent (no packets, so no sender reports: the
 * forwarder writes its own, sent with rtc_pc_inject_rtcp()).
 *
 * RTCP: while any transceiver has a tap or inject on, every incoming RTCP compound is
 * also handed out (kind RTC_PC_TAP_RTCP, plain) so the forwarder sees the sender's SRs
 * and the subscriber's NACK, PLI, FIR and RRs; the pc's own streams still read it too.
 *
 * These follow the peer connection's contract (peer_connection.h): drain
 * rtc_pc_poll_tapped() with the transmits and events after every call that takes `now`. */
#ifndef RTC_PC_TAP_H
#define RTC_PC_TAP_H
#include "pc/pc_media.h"

typedef enum { RTC_PC_TAP_RTP = 1, RTC_PC_TAP_RTCP } rtc_pc_tap_kind;

typedef struct rtc_pc_tapped {
    rtc_pc_tap_kind kind;
    int tr;                      /* RTP: the transceiver handle; RTCP: -1 */
    char rid[16];                /* RTP: the simulcast layer, "" when none */
    rtc_buf *buf;                /* one ref: passes to the caller (unref) */
} rtc_pc_tapped;

/* Turn the tap of transceiver tr on or off (its current and future incoming streams).
 * RTC_ENOTFOUND for a bad handle. */
int rtc_pc_set_tap(rtc_pc *pc, int tr, bool on);
/* Mark tr as sending forwarded packets (RTCP compounds are then handed out). */
int rtc_pc_set_inject(rtc_pc *pc, int tr, bool on);
bool rtc_pc_poll_tapped(rtc_pc *pc, rtc_pc_tapped *out);

/* What a forwarder needs to know about a negotiated transceiver. */
typedef struct rtc_pc_forward_params {
    rtc_media_kind kind;
    int codec;                   /* rtc_codec_id, -1 before negotiation */
    uint8_t pt, rtx_pt;          /* rtx_pt 0: no RTX negotiated */
    uint8_t red_pt;              /* audio: RED (RFC 2198) carrying pt, 0 = not negotiated */
    bool red_send;               /* RED is what this side sends (the transceiver's red mode) */
    uint32_t clock_rate;
    bool sends, recvs;           /* the negotiated direction, from our side */
    uint32_t ssrc, rtx_ssrc;     /* ours: what injected packets must carry */
    uint32_t remote_ssrc, remote_rtx_ssrc;   /* the peer's first stream; 0 = not signalled */
    uint32_t rtcp_ssrc;          /* the SSRC our feedback towards the peer's stream comes from */
    uint8_t mid_id, abs_send_time_id, twcc_id, audio_level_id;   /* 0: not negotiated */
    uint8_t video_orientation_id; /* urn:3gpp:video-orientation (rtc_pc_set_video_orientation), 0: none */
    bool fb_nack, fb_pli, fb_fir;
    const char *mid, *cname;     /* owned by the pc */
    const char *fmtp;            /* the negotiated codec's fmtp ("" = none), owned by the pc */
} rtc_pc_forward_params;
/* RTC_ENOTFOUND for a bad handle, RTC_ESTATE before the transceiver is negotiated. */
int rtc_pc_forward_params_get(rtc_pc *pc, int tr, rtc_pc_forward_params *out);

/* One plain RTP packet (data borrowed for the call) on transceiver tr: its SSRC must be
 * tr's SSRC (with its payload type, or RED's when negotiated) or RTX SSRC (RTC_EINVAL
 * otherwise, or when it does not parse). RTC_ESTATE
 * when the transport is not up or tr is not marked with rtc_pc_set_inject. */
int rtc_pc_inject_rtp(rtc_pc *pc, int tr, const uint8_t *data, size_t len, rtc_time now);
/* One plain RTCP compound (borrowed): SRTCP-protected and sent. RTC_EINVAL when it does
 * not parse, RTC_ESTATE when the transport is not up. */
int rtc_pc_inject_rtcp(rtc_pc *pc, const uint8_t *data, size_t len, rtc_time now);

typedef struct rtc_pc_tap_stats {
    uint64_t tapped_rtp, tapped_rtcp, tap_dropped;   /* handed out; lost to a full queue */
    uint64_t injected_rtp, injected_bytes, injected_rtcp, inject_refused;
    uint64_t injected_resends;           /* plain resends, sent as the first transmission's bytes */
    uint64_t inject_reuse_refused;       /* refused (also in inject_refused): would reuse an SRTP index */
} rtc_pc_tap_stats;
void rtc_pc_tap_get_stats(const rtc_pc *pc, rtc_pc_tap_stats *out);

#endif
