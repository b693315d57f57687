/* Private to runtime/pc: transceiver state shared by the JSEP half of media
 * (pc_media_sdp.c) and its RTP half (pc_media.c). */
#ifndef RTC_PC_MEDIA_INTERNAL_H
#define RTC_PC_MEDIA_INTERNAL_H
#include "pc/pc_internal.h"
#include "pc/pc_media.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"
#include "rtp/twcc.h"

#define PC_MAX_LAYERS 4       /* incoming streams per transceiver: simulcast layers by RID */

typedef struct pc_layer {
    char rid[16];                        /* "" for a stream without RID */
    rtc_rtp_receiver *recv;
    uint32_t ssrc, rtx_ssrc;             /* rtx_ssrc: configured in the receiver (signalled) */
    uint32_t unsignaled_rtx_ssrc;        /* RTX learned from MID/RRID: handed to the receiver */
    uint32_t replaced_ssrc;              /* the SSRC a new one took over from (late packets dropped) */
    uint64_t frames, keyframes;
} pc_layer;

/* A simulcast encoding after the first (sender:get_parameters().encodings[2..]): its
 * own SSRC pair and RTP sender (seq, timestamps, NACK history, SR). The first
 * encoding is the transceiver's own sender, ssrc and inactive/max_bitrate fields. */
typedef struct pc_enc {
    char rid[16];
    uint32_t ssrc, rtx_ssrc;
    rtc_rtp_sender *sender;              /* owned; NULL while the transceiver does not send */
    bool inactive;
    double max_bitrate;
    bool seqs_kept;
    uint16_t next_seq, next_rtx_seq;
    int32_t picture_id;
    uint64_t frames_sent;
} pc_enc;

typedef struct pc_tr {
    int handle;
    rtc_media_kind kind;
    rtc_media_direction direction;       /* wanted (W3C transceiver.direction) */
    int current;                         /* negotiated rtc_media_direction, -1 before */
    int pref_codec;                      /* rtc_codec_id or -1 */
    char pref_fmtp[128];                 /* its format (H264 profile, VP9 profile-id), "" = any */
    /* sender:set_parameters: encodings[1].max_bitrate (bit/s, 0 = none) bounds the
     * estimate (pc_cc.c); inactive drops frames before packetization. */
    double max_bitrate;
    bool inactive;
    bool recv_stereo;                    /* our Opus fmtp asks for stereo */
    int red_mode;                        /* rtc_red_mode */
    int fec_mode;                        /* rtc_fec_mode (video) */
    uint8_t fec_group;                   /* media packets per FEC packet sent; 0 = the sender's default */
    char mid[32];                        /* "" until it has a section */
    bool stopped;
    bool stopping;                       /* transceiver:stop(): port 0 from the next description on */
    /* rollback (pc_rollback.c): the state before the pending offer */
    char saved_mid[32];
    bool saved_announced, saved_stopped;
    bool from_offer;                     /* created by applying the pending remote offer */
    bool app_changed;                    /* the application set its direction since (addTrack) */
    bool removed;                        /* dropped by a rollback: no section, never matched */
    bool has_sent;                       /* current has been sendrecv or sendonly */
    bool by_add_track;                   /* made by addTrack (JSEP 5.10) */
    bool seqs_kept;                      /* a rebuilt sender goes on from next_seq/next_rtx_seq */
    uint16_t next_seq, next_rtx_seq;
    uint32_t ssrc, rtx_ssrc;             /* ours, drawn at creation */
    /* Simulcast send (rtc_pc_transceiver_set_send_encodings): send_rid is the first
     * encoding's RID ("" = no simulcast), enc[0..nenc) the others. */
    char send_rid[16];
    pc_enc enc[PC_MAX_LAYERS - 1];
    int nenc;
    bool sim_send;                       /* negotiated: the peer receives our RIDs (a=simulcast recv) */
    char track_id[40];

    /* negotiated (from the answer's section) */
    bool negotiated;
    int codec;                           /* rtc_codec_id, -1 */
    uint8_t pt, rtx_pt;
    uint8_t red_pt;                      /* RED carrying pt negotiated (audio; video with ULPFEC); 0 = none */
    uint8_t ulpfec_pt;                   /* video: ULPFEC in RED negotiated; 0 = none */
    bool red_send;                       /* send RED: mode ON, or AUTO and the peer lists it first */
    uint32_t clock_rate;
    char fmtp[128];
    char remote_fmtp[128];               /* the peer's fmtp for that PT: what it asks of our sender */
    bool fb_nack, fb_pli, fb_fir, fb_twcc, fb_remb;
    bool rtcp_rsize;                     /* the answer has a=rtcp-rsize: feedback may go alone */
    uint8_t mid_id, rid_id, rrid_id, abs_id, twcc_id, level_id;
    uint8_t cvo_id;                      /* urn:3gpp:video-orientation, 0 = not negotiated */
    uint32_t remote_ssrc, remote_rtx_ssrc;   /* signalled in the remote description */
    /* Simulcast the peer sends: its RIDs (a=simulcast send order), or the SSRCs of an
     * a=ssrc-group:SIM with their FID repair SSRCs, each then a layer named "sim<i>". */
    char recv_rids[PC_MAX_LAYERS][16];
    int nrecv_rids;
    uint32_t sim_ssrc[PC_MAX_LAYERS], sim_rtx_ssrc[PC_MAX_LAYERS];
    int nsim;
    bool track_announced;

    /* streams */
    rtc_rtp_sender *sender;
    pc_layer layers[PC_MAX_LAYERS];
    int nlayers;
    int32_t picture_id;
    uint64_t frames_sent;
    double round_trip_time;              /* seconds, -1 unknown */
    struct pc_xform *xform;              /* frame transforms (pc_transform.c), NULL when none */
    bool tap, inject;                    /* forwarding (pc_tap.c) */
    /* What went out under each seq of the injected media and RTX streams, so that no
     * SRTP index is used for two plaintexts (pc_inject_log.h); NULL until then. */
    struct pc_inject_log *inject_log, *inject_rtx_log;
    /* The pacer dropped video of ours (pc_cc.c): the receiver cannot decode until a
     * keyframe, so one is asked of the application until a keyframe's last packet
     * (kf_ts, marker) has left the pacer. kf_queued: such a keyframe was written since. */
    bool kf_pending, kf_queued;
    uint32_t kf_ts;
    rtc_time kf_next_request;            /* when to ask again while none is queued */
} pc_tr;

typedef struct pc_media {
    pc_tr **trs;
    int ntrs, cap;
    int saved_ntrs;                      /* transceivers that existed before the pending offer */
    char cname[20];
    uint32_t rtcp_ssrc;                  /* RTCP sender SSRC when a transceiver does not send */
    int64_t unix_offset_us;
    rtc_twcc_receiver *twcc;
    uint8_t twcc_id;                     /* transport-wide seq extension id we read on receive */
    bool twcc_rsize;                     /* its transceiver negotiated rtcp-rsize */
    uint16_t twcc_seq;                   /* next transport-wide seq; every sender takes from it */
    struct pc_cc *cc;                    /* estimator + pacer (pc_cc.c), NULL until a sender needs it */
    rtc_pc_media_stats stats;
    struct pc_tapq *tapq;                /* forwarded packets (pc_tap.c), NULL until a tap is on */
    bool video_orientation;              /* rtc_pc_set_video_orientation: CVO offered and answered */
} pc_media;

pc_media *pc__media_get(rtc_pc *pc);     /* created on first use; NULL on ENOMEM */
pc_tr *pc__media_tr(rtc_pc *pc, int handle);
pc_tr *pc__media_tr_by_mid(rtc_pc *pc, const char *mid);
int pc__media_new_tr(rtc_pc *pc, rtc_media_kind kind, rtc_media_direction dir, int pref_codec);
void pc__media_emit_track(rtc_pc *pc, pc_tr *t);
/* Drop t's sender (send) and incoming streams (recv): a renegotiation changed what they
 * were set up for. pc__media_start_streams() then makes new ones; their counters start
 * again from zero. */
void pc__media_reset_streams(rtc_pc *pc, pc_tr *t, bool send, bool recv);
/* Create the sender/receiver a negotiated transceiver needs. */
void pc__media_start_streams(rtc_pc *pc, pc_tr *t);

/* Frame transforms (pc_transform.c). Send: 1 with the frame and its length replaced by the
 * transformed frame (valid until the next send on t), 0 when t has no send transform,
 * RTC_EIGNORED when the transform dropped the frame, another negative code when it
 * failed. Receive: the frame to report (takes the ref of `in`, may
 * return it), NULL to drop. */
int pc__xform_send(pc_tr *t, const uint8_t **frame, size_t *len, uint32_t ts, bool keyframe);
rtc_buf *pc__xform_recv(pc_tr *t, const pc_layer *l, rtc_buf *in, uint32_t ts, bool keyframe);
void pc__xform_free(pc_tr *t);

/* Forwarding (pc_tap.c): hand out a tapped layer's packets; queue an RTCP compound for
 * the forwarder when any transceiver forwards; free the queue. */
void pc__tap_drain_layer(rtc_pc *pc, pc_tr *t, pc_layer *l);
void pc__tap_rtcp(rtc_pc *pc, const uint8_t *data, size_t len);
void pc__tap_free(pc_media *md);
/* An RTP packet (takes the ref) protected and sent now: the pacer's output. */
void pc__media_send_rtp(rtc_pc *pc, rtc_buf *b);

static inline bool pc__dir_sends(int d) { return d == RTC_DIR_SENDRECV || d == RTC_DIR_SENDONLY; }
static inline bool pc__dir_recvs(int d) { return d == RTC_DIR_SENDRECV || d == RTC_DIR_RECVONLY; }

#endif
