/* The RTP half of media in the peer connection: transceivers, routing SRTP/SRTCP
 * datagrams to their streams, the transport-wide CC receiver, and draining the stream
 * machines (rtp/rtp_sender.h, rtp/rtp_receiver.h) into SRTP-protected datagrams and
 * frame events. JSEP for media is in pc_media_sdp.c. */
#include "pc/pc_media_internal.h"
#include "pc/pc_inject_log.h"
#include "core/rtc_demux.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "pc/pc_cc.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAG "media"
#define MAX_TRANSCEIVERS 64
#define MAX_RTCP_VIEWS 32

const char *rtc_media_direction_name(rtc_media_direction d)
{
    static const char *n[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    return (unsigned)d < 4 ? n[d] : "?";
}

int rtc_media_direction_parse(const char *name, rtc_media_direction *out)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, rtc_media_direction_name((rtc_media_direction)i)) == 0) { *out = (rtc_media_direction)i; return 0; }
    return RTC_EINVAL;
}

pc_media *pc__media_get(rtc_pc *pc)
{
    if (pc->media) return pc->media;
    pc_media *md = calloc(1, sizeof *md);
    if (!md) return NULL;
    rtc_rng_ice_chars(pc->cfg.rng, md->cname, 16);
    md->rtcp_ssrc = rtc_rng_u32(pc->cfg.rng) | 1;
    md->twcc_seq = (uint16_t)rtc_rng_u32(pc->cfg.rng);
    /* Sender reports carry wall-clock NTP time: the creation time anchors it. */
    md->unix_offset_us = pc->cfg.unix_now * 1000000 - pc->now;
    pc->media = md;
    return md;
}

pc_tr *pc__media_tr(rtc_pc *pc, int handle)
{
    if (!pc->media || handle < 0 || handle >= pc->media->ntrs) return NULL;
    return pc->media->trs[handle];
}

pc_tr *pc__media_tr_by_mid(rtc_pc *pc, const char *mid)
{
    if (!pc->media || !mid || !mid[0]) return NULL;
    for (int i = 0; i < pc->media->ntrs; i++)
        if (strcmp(pc->media->trs[i]->mid, mid) == 0) return pc->media->trs[i];
    return NULL;
}

int pc__media_new_tr(rtc_pc *pc, rtc_media_kind kind, rtc_media_direction dir, int pref_codec)
{
    pc_media *md = pc__media_get(pc);
    if (!md) return RTC_ENOMEM;
    if (md->ntrs == MAX_TRANSCEIVERS) return RTC_EQUOTA;
    if (md->ntrs == md->cap) {
        int ncap = md->cap ? md->cap * 2 : 4;
        pc_tr **n = realloc(md->trs, (size_t)ncap * sizeof *n);
        if (!n) return RTC_ENOMEM;
        md->trs = n;
        md->cap = ncap;
    }
    pc_tr *t = calloc(1, sizeof *t);
    if (!t) return RTC_ENOMEM;
    t->handle = md->ntrs;
    t->kind = kind;
    t->direction = dir;
    t->current = -1;
    t->pref_codec = pref_codec;
    t->codec = -1;
    t->round_trip_time = -1;
    t->ssrc = rtc_rng_u32(pc->cfg.rng) | 1;
    t->rtx_ssrc = rtc_rng_u32(pc->cfg.rng) | 1;
    t->picture_id = (int32_t)(rtc_rng_u32(pc->cfg.rng) & 0x7fff);
    rtc_rng_ice_chars(pc->cfg.rng, t->track_id, 24);
    md->trs[md->ntrs++] = t;
    return t->handle;
}

/* An event about transceiver t (and its layer `rid`, NULL for none), zeroed otherwise. */
static void tr_event(rtc_pc_event *e, rtc_pc_event_type type, const pc_tr *t, int codec, const char *rid)
{
    memset(e, 0, sizeof *e);
    e->type = type;
    e->tr = t->handle;
    e->kind = t->kind;
    e->codec = codec;
    snprintf(e->mid, sizeof e->mid, "%s", t->mid);
    if (rid) snprintf(e->rid, sizeof e->rid, "%s", rid);
}

int rtc_pc_add_transceiver(rtc_pc *pc, const rtc_transceiver_init *init, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (!init || (init->kind != RTC_MEDIA_AUDIO && init->kind != RTC_MEDIA_VIDEO) || (unsigned)init->direction > 3)
        return RTC_EINVAL;
    if (init->codec >= 0 && (init->codec >= RTC_CODEC__COUNT ||
                             (init->codec == RTC_CODEC_OPUS) != (init->kind == RTC_MEDIA_AUDIO)))
        return pc__fail(pc, RTC_EINVAL, "codec %s does not fit a %s transceiver", rtc_codec_name(init->codec),
                        init->kind == RTC_MEDIA_AUDIO ? "audio" : "video");
    int h = pc__media_new_tr(pc, init->kind, init->direction, init->codec);
    if (h < 0) return h;
    pc__update_negotiation_needed(pc);
    return h;
}

int rtc_pc_transceiver_set_add_track(rtc_pc *pc, int tr)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    t->by_add_track = true;
    return 0;
}

int rtc_pc_transceiver_set_stereo(rtc_pc *pc, int tr, bool stereo)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->kind != RTC_MEDIA_AUDIO) return RTC_EINVAL;
    t->recv_stereo = stereo;
    return 0;
}

int rtc_pc_transceiver_set_red(rtc_pc *pc, int tr, rtc_red_mode mode)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->kind != RTC_MEDIA_AUDIO || (int)mode < RTC_RED_AUTO || mode > RTC_RED_OFF) return RTC_EINVAL;
    t->red_mode = mode;
    return 0;
}

int rtc_pc_set_video_orientation(rtc_pc *pc, bool on)
{
    pc_media *md = pc__media_get(pc);
    if (!md) return RTC_ENOMEM;
    md->video_orientation = on;
    return 0;
}

int rtc_pc_transceiver_set_fec(rtc_pc *pc, int tr, rtc_fec_mode mode, int group)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->kind != RTC_MEDIA_VIDEO || (int)mode < RTC_FEC_OFF || mode > RTC_FEC_ULPFEC || group < 0 || group > 48)
        return RTC_EINVAL;
    t->fec_mode = mode;
    t->fec_group = (uint8_t)group;
    return 0;
}

int rtc_pc_transceiver_stop(rtc_pc *pc, int tr, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->stopping || t->stopped) return 0;
    t->stopping = true;
    t->direction = RTC_DIR_INACTIVE;
    t->app_changed = true;
    pc__update_negotiation_needed(pc);
    return 0;
}

int rtc_pc_transceiver_set_encoding(rtc_pc *pc, int tr, bool active, double max_bps)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!(max_bps >= 0)) return RTC_EINVAL;
    t->inactive = !active;
    t->max_bitrate = max_bps;
    pc__cc_update_max(pc);
    return 0;
}

int rtc_pc_transceiver_set_codec(rtc_pc *pc, int tr, int codec)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (codec >= 0 && (codec == RTC_CODEC_OPUS) != (t->kind == RTC_MEDIA_AUDIO)) return RTC_EINVAL;
    t->pref_codec = codec;
    t->pref_fmtp[0] = 0;
    return 0;
}

int rtc_pc_transceiver_set_codec_fmtp(rtc_pc *pc, int tr, int codec, const char *fmtp)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (t && codec < 0 && fmtp && *fmtp) return RTC_EINVAL;
    if (fmtp && strlen(fmtp) >= sizeof t->pref_fmtp) return RTC_EINVAL;
    int r = rtc_pc_transceiver_set_codec(pc, tr, codec);
    if (r == 0 && fmtp) snprintf(t->pref_fmtp, sizeof t->pref_fmtp, "%s", fmtp);
    return r;
}

int rtc_pc_transceiver_set_direction(rtc_pc *pc, int tr, rtc_media_direction dir, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if ((unsigned)dir > 3) return RTC_EINVAL;
    if (t->stopping || t->stopped) return pc__fail(pc, RTC_ESTATE, "transceiver %d is stopped", tr);   /* W3C */
    if (t->direction == dir) return 0;
    t->direction = dir;
    t->app_changed = true;
    /* An answerer changing it before create_answer is checked again once stable. */
    pc__update_negotiation_needed(pc);
    return 0;
}

int rtc_pc_transceiver_count(const rtc_pc *pc) { return pc->media ? pc->media->ntrs : 0; }

void pc__media_emit_track(rtc_pc *pc, pc_tr *t)
{
    if (t->track_announced) return;
    t->track_announced = true;
    rtc_pc_event ev;
    tr_event(&ev, RTC_PC_EV_TRACK, t, -1, NULL);
    pc__emit(pc, &ev);
}

static void free_tr(pc_tr *t)
{
    rtc_rtp_sender_free(t->sender);
    for (int i = 0; i < t->nenc; i++) rtc_rtp_sender_free(t->enc[i].sender);
    for (int i = 0; i < t->nlayers; i++) rtc_rtp_receiver_free(t->layers[i].recv);
    pc__xform_free(t);
    pc__inject_log_free(t->inject_log);
    pc__inject_log_free(t->inject_rtx_log);
    free(t);
}

void pc__media_drop_last(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (md && md->ntrs > 0) free_tr(md->trs[--md->ntrs]);
}

void pc__media_free(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) free_tr(md->trs[i]);
    free(md->trs);
    rtc_twcc_receiver_free(md->twcc);
    pc__tap_free(md);
    pc__cc_free(pc);
    free(md);
    pc->media = NULL;
}

/* ---- streams --------------------------------------------------------------------------- */

/* A new incoming stream (layer) on t; NULL when full or on failure. */
static pc_layer *start_receiver(rtc_pc *pc, pc_tr *t, uint32_t ssrc, uint32_t rtx_ssrc, const char *rid, size_t rid_len)
{
    pc_media *md = pc->media;
    if (t->nlayers == PC_MAX_LAYERS || rid_len >= sizeof t->layers[0].rid) return NULL;
    pc_layer *l = &t->layers[t->nlayers];
    memset(l, 0, sizeof *l);
    rtc_rtp_receiver_config rc;
    memset(&rc, 0, sizeof rc);
    rc.codec = (rtc_codec_id)t->codec;
    rc.pt = t->pt;
    rc.ssrc = ssrc;
    rc.clock_rate = t->clock_rate;
    rc.rtx_pt = t->rtx_pt;
    rc.red_pt = t->red_pt;
    rc.ulpfec_pt = t->ulpfec_pt;
    rc.rtx_ssrc = t->rtx_pt ? rtx_ssrc : 0;
    rc.local_ssrc = t->sender ? t->ssrc : md->rtcp_ssrc;
    rc.cname = md->cname;
    rc.nack = t->fb_nack;
    rc.pli = t->fb_pli;
    rc.fir = t->fb_fir;                                 /* used when the peer takes no PLI */
    rc.rsize = t->rtcp_rsize;
    rc.remb = t->fb_remb && !t->fb_twcc;                /* a peer with TWCC estimates from our feedback */
    rc.abs_send_time_id = t->abs_id;
    rc.wait_keyframe = t->kind == RTC_MEDIA_VIDEO;
    /* How long a hole may hold back later frames while NACK/RTX repairs it: a few
     * retries at the default spacing, since a receive-only side learns no RTT. */
    rc.latency = t->kind == RTC_MEDIA_AUDIO ? RTC_MS(300) : RTC_MS(400);
    rc.nack_cfg.default_rtt = RTC_MS(50);
    rc.pool = pc->cfg.pool;
    int r = rtc_rtp_receiver_new(&l->recv, &rc, pc->now);
    if (r < 0) { rtc_warn(TAG, "mid %s: cannot create the receiver: %s", t->mid, rtc_strerror(r)); return NULL; }
    memcpy(l->rid, rid, rid_len);
    l->ssrc = ssrc;
    l->rtx_ssrc = rc.rtx_ssrc;
    t->nlayers++;
    if (t->tap) rtc_rtp_receiver_set_forward(l->recv, true);
    if (t->round_trip_time > 0) rtc_rtp_receiver_handle_rtt(l->recv, (rtc_time)(t->round_trip_time * 1e6));
    rtc_debug(TAG, "mid %s: receiving %s ssrc %u rtx %u rid '%s'", t->mid, rtc_codec_name(rc.codec), ssrc, rc.rtx_ssrc, l->rid);
    return l;
}

void pc__media_reset_streams(rtc_pc *pc, pc_tr *t, bool send, bool recv)
{
    (void)pc;
    if (send && t->sender) {
        rtc_rtp_sender_next_seqs(t->sender, &t->next_seq, &t->next_rtx_seq);
        t->seqs_kept = true;
        rtc_rtp_sender_free(t->sender);
        t->sender = NULL;
    }
    for (int i = 0; send && i < t->nenc; i++) {
        pc_enc *e = &t->enc[i];
        if (!e->sender) continue;
        rtc_rtp_sender_next_seqs(e->sender, &e->next_seq, &e->next_rtx_seq);
        e->seqs_kept = true;
        rtc_rtp_sender_free(e->sender);
        e->sender = NULL;
    }
    if (recv) {
        for (int i = 0; i < t->nlayers; i++) rtc_rtp_receiver_free(t->layers[i].recv);
        memset(t->layers, 0, sizeof t->layers);
        t->nlayers = 0;
    }
    rtc_debug(TAG, "mid %s: streams restart (%s%s)", t->mid, send ? "send " : "", recv ? "receive" : "");
}

/* The sender of a further simulcast encoding: the first one's settings with its own
 * SSRCs, RID and sequence numbers. */
static void start_encoding(rtc_pc *pc, pc_tr *t, pc_enc *e)
{
    pc_media *md = pc->media;
    rtc_rtp_sender_config sc;
    memset(&sc, 0, sizeof sc);
    sc.codec = (rtc_codec_id)t->codec;
    sc.pt = t->pt;
    sc.ssrc = e->ssrc;
    sc.clock_rate = t->clock_rate;
    sc.rtx_pt = t->rtx_pt;
    sc.red_pt = t->red_send ? t->red_pt : 0;
    sc.ulpfec_pt = t->red_send ? t->ulpfec_pt : 0;
    sc.fec_group = t->fec_group;
    sc.rtx_ssrc = t->rtx_pt ? e->rtx_ssrc : 0;
    sc.initial_seq = (uint16_t)rtc_rng_u32(pc->cfg.rng);
    sc.initial_rtx_seq = (uint16_t)rtc_rng_u32(pc->cfg.rng);
    if (e->seqs_kept) {
        sc.initial_seq = e->next_seq;
        sc.initial_rtx_seq = e->next_rtx_seq;
        e->seqs_kept = false;
    }
    sc.mid_id = t->mid_id;
    sc.rid_id = t->rid_id;
    sc.rid = e->rid;
    sc.abs_send_time_id = t->abs_id;
    sc.twcc_id = t->fb_twcc ? t->twcc_id : 0;
    sc.twcc_seq = &md->twcc_seq;
    sc.mid = t->mid;
    sc.cname = md->cname;
    sc.unix_offset_us = md->unix_offset_us;
    sc.pool = pc->cfg.pool;
    int r = rtc_rtp_sender_new(&e->sender, &sc, pc->now);
    if (r < 0) rtc_warn(TAG, "mid %s: cannot create the sender of rid %s: %s", t->mid, e->rid, rtc_strerror(r));
}

void pc__media_start_streams(rtc_pc *pc, pc_tr *t)
{
    pc_media *md = pc->media;
    if (!t->negotiated || t->stopped || t->codec < 0) return;
    if (pc__dir_sends(t->current) && t->sender && t->sim_send)
        for (int i = 0; i < t->nenc; i++)
            if (!t->enc[i].sender) start_encoding(pc, t, &t->enc[i]);
    if (pc__dir_sends(t->current) && !t->sender) {
        rtc_rtp_sender_config sc;
        memset(&sc, 0, sizeof sc);
        sc.codec = (rtc_codec_id)t->codec;
        sc.pt = t->pt;
        sc.ssrc = t->ssrc;
        sc.clock_rate = t->clock_rate;
        sc.rtx_pt = t->rtx_pt;
        sc.red_pt = t->red_send ? t->red_pt : 0;
        sc.ulpfec_pt = t->red_send ? t->ulpfec_pt : 0;
        sc.fec_group = t->fec_group;
        sc.rtx_ssrc = t->rtx_pt ? t->rtx_ssrc : 0;
        sc.initial_seq = (uint16_t)rtc_rng_u32(pc->cfg.rng);
        sc.initial_rtx_seq = (uint16_t)rtc_rng_u32(pc->cfg.rng);
        if (t->seqs_kept) {          /* same SSRC as the sender it replaces */
            sc.initial_seq = t->next_seq;
            sc.initial_rtx_seq = t->next_rtx_seq;
            t->seqs_kept = false;
        }
        sc.mid_id = t->mid_id;
        sc.abs_send_time_id = t->abs_id;
        sc.twcc_id = t->fb_twcc ? t->twcc_id : 0;
        sc.audio_level_id = t->kind == RTC_MEDIA_AUDIO ? t->level_id : 0;
        sc.twcc_seq = &md->twcc_seq;
        sc.mid = t->mid;
        sc.rid_id = t->sim_send ? t->rid_id : 0;
        sc.rid = t->send_rid;
        sc.cname = md->cname;
        sc.unix_offset_us = md->unix_offset_us;
        sc.pool = pc->cfg.pool;
        int r = rtc_rtp_sender_new(&t->sender, &sc, pc->now);
        if (r < 0) rtc_warn(TAG, "mid %s: cannot create the sender: %s", t->mid, rtc_strerror(r));
        for (int i = 0; r >= 0 && t->sim_send && i < t->nenc; i++) start_encoding(pc, t, &t->enc[i]);
    }
    if (pc__dir_recvs(t->current) && t->nlayers == 0 && t->nsim >= 2) {
        for (int i = 0; i < t->nsim; i++) {
            char name[8];
            int n = snprintf(name, sizeof name, "sim%d", i);
            start_receiver(pc, t, t->sim_ssrc[i], t->sim_rtx_ssrc[i], name, (size_t)n);
        }
    } else if (pc__dir_recvs(t->current) && t->nlayers == 0 && t->remote_ssrc) {
        start_receiver(pc, t, t->remote_ssrc, t->remote_rtx_ssrc, "", 0);
    }
    /* The feedback machine starts with the first packet (handle_rtp): its media SSRC
     * must name one of the peer's streams, or libwebrtc drops the feedback. */
    if (t->fb_twcc && t->twcc_id && !md->twcc_id && pc__dir_recvs(t->current)) {
        md->twcc_id = t->twcc_id;
        md->twcc_rsize = t->rtcp_rsize;
    }
}

/* ---- receive ---------------------------------------------------------------------------- */

/* An SDES string extension (MID, RID) of a packet; false when absent or malformed. */
static bool read_sdes(const rtc_rtp_packet *p, uint8_t id, rtc_str *out)
{
    const rtc_rtp_ext *e = id ? rtc_rtp_find_ext(&p->h, id) : NULL;
    return e && rtc_ext_read_sdes(e, out) == 0;
}

static pc_layer *layer_by_rid(pc_tr *t, rtc_str rid)
{
    for (int i = 0; i < t->nlayers; i++)
        if (strlen(t->layers[i].rid) == rid.len && memcmp(t->layers[i].rid, rid.p, rid.len) == 0) return &t->layers[i];
    return NULL;
}

/* Restarts layer l of t on a new SSRC (same RID); its RTX is learned again. */
static pc_layer *replace_layer(rtc_pc *pc, pc_tr *t, pc_layer *l, uint32_t ssrc)
{
    char rid[sizeof l->rid];
    memcpy(rid, l->rid, sizeof rid);
    uint32_t gone = l->ssrc;
    rtc_rtp_receiver_free(l->recv);
    int i = (int)(l - t->layers);
    memmove(&t->layers[i], &t->layers[i + 1], (size_t)(t->nlayers - i - 1) * sizeof *l);
    t->nlayers--;
    memset(&t->layers[t->nlayers], 0, sizeof *l);
    if (t->remote_ssrc == gone) { t->remote_ssrc = rid[0] ? 0 : ssrc; t->remote_rtx_ssrc = 0; }
    rtc_debug(TAG, "mid %s: rid '%s' moves from ssrc %u to %u", t->mid, rid, gone, ssrc);
    pc_layer *n = start_receiver(pc, t, ssrc, 0, rid, strlen(rid));
    if (n) n->replaced_ssrc = gone;
    return n;
}

/* The stream of an SSRC not in the SDP: browsers' unsignaled streams name their
 * transceiver with the MID extension and simulcast layers with RID (their RTX with
 * repaired-RID). A media packet starts a layer; an RTX packet for a layer that has
 * no RTX SSRC makes its SSRC that layer's repair stream. */
static pc_layer *route_unsignaled(rtc_pc *pc, const rtc_rtp_packet *p)
{
    pc_media *md = pc->media;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (!t->negotiated || t->stopped || !t->mid_id || !pc__dir_recvs(t->current)) continue;
        rtc_str mid, rid = { "", 0 };
        if (!read_sdes(p, t->mid_id, &mid)) continue;
        if (mid.len != strlen(t->mid) || memcmp(mid.p, t->mid, mid.len) != 0) continue;
        if (p->h.pt == t->pt || (t->red_pt && p->h.pt == t->red_pt)) {
            read_sdes(p, t->rid_id, &rid);
            pc_layer *old = layer_by_rid(t, rid);
            if (old) {
                /* That layer had another SSRC: the peer's sender restarted (a new
                 * encoder, replaceTrack in some stacks). The new SSRC takes the layer
                 * over; stragglers of the old one are dropped, not taken back. */
                if (old->replaced_ssrc == p->h.ssrc) return NULL;
                return replace_layer(pc, t, old, p->h.ssrc);
            }
            return start_receiver(pc, t, p->h.ssrc, 0, rid.p, rid.len);
        }
        if (t->rtx_pt && p->h.pt == t->rtx_pt) {
            if (!read_sdes(p, t->rrid_id, &rid)) read_sdes(p, t->rid_id, &rid);
            pc_layer *l = layer_by_rid(t, rid);
            if (!l && rid.len == 0 && t->nlayers == 1) l = &t->layers[0];
            if (!l || l->rtx_ssrc || l->unsignaled_rtx_ssrc) return NULL;
            l->unsignaled_rtx_ssrc = p->h.ssrc;
            return l;
        }
        return NULL;
    }
    return NULL;
}

/* RTX on an SSRC the receiver was not configured with: from now on the receiver
 * knows it, and unwraps and counts RTX in one place. */
static int handle_unsignaled_rtx(rtc_pc *pc, pc_layer *l, rtc_buf *b)
{
    rtc_rtp_receiver_set_rtx_ssrc(l->recv, l->unsignaled_rtx_ssrc);
    return rtc_rtp_receiver_handle_rtp(l->recv, b, pc->now);
}

static int handle_rtp(rtc_pc *pc, rtc_buf *b)
{
    pc_media *md = pc->media;
    rtc_rtp_packet p;
    int r = rtc_rtp_parse(&p, b->data, b->len);
    if (r < 0) return r;
    md->stats.rtp_received++;
    if (md->twcc_id && !md->twcc) {
        rtc_twcc_receiver_config tc;
        memset(&tc, 0, sizeof tc);
        tc.sender_ssrc = md->rtcp_ssrc;
        tc.media_ssrc = p.h.ssrc;
        tc.compound = !md->twcc_rsize;
        tc.cname = md->cname;
        rtc_twcc_receiver_new(&md->twcc, &tc, pc->now);
    }
    if (md->twcc) {
        const rtc_rtp_ext *e = rtc_rtp_find_ext(&p.h, md->twcc_id);
        uint16_t seq;
        if (e && rtc_ext_read_twcc_seq(e, &seq) == 0) rtc_twcc_receiver_handle_packet(md->twcc, seq, pc->now);
    }
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *c = md->trs[i];
        for (int k = 0; k < c->nlayers; k++) {
            pc_layer *l = &c->layers[k];
            if (l->unsignaled_rtx_ssrc && l->unsignaled_rtx_ssrc == p.h.ssrc) return handle_unsignaled_rtx(pc, l, b);
            if (l->ssrc == p.h.ssrc || (l->rtx_ssrc && l->rtx_ssrc == p.h.ssrc))
                return rtc_rtp_receiver_handle_rtp(l->recv, b, pc->now);
        }
    }
    pc_layer *l = route_unsignaled(pc, &p);
    if (!l) { md->stats.unroutable++; return RTC_EIGNORED; }
    if (l->unsignaled_rtx_ssrc == p.h.ssrc) return handle_unsignaled_rtx(pc, l, b);
    return rtc_rtp_receiver_handle_rtp(l->recv, b, pc->now);
}

/* The application maps RTP time to the sender's wall clock with these (recording
 * with A/V sync), so each SR for a stream we receive is surfaced as it is. */
static void emit_sender_report(rtc_pc *pc, const rtc_rtcp_view *v)
{
    rtc_rtcp_sr sr;
    if (rtc_rtcp_read_sr(v, &sr) < 0) return;
    pc_media *md = pc->media;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        for (int j = 0; j < t->nlayers; j++) {
            if (t->layers[j].ssrc != sr.ssrc) continue;
            rtc_pc_event e;
            tr_event(&e, RTC_PC_EV_SENDER_REPORT, t, t->codec, t->layers[j].rid);
            e.ts = sr.rtp_ts;
            e.ntp = sr.ntp;
            pc__emit(pc, &e);
            return;
        }
    }
}

static void handle_rtcp(rtc_pc *pc, const uint8_t *data, size_t len)
{
    pc_media *md = pc->media;
    rtc_rtcp_view v[MAX_RTCP_VIEWS];
    int n = rtc_rtcp_parse_compound(data, len, v, MAX_RTCP_VIEWS);
    if (n < 0) return;
    md->stats.rtcp_received++;
    /* A handful of streams: every machine looks at each packet and ignores what is
     * not about its SSRCs. */
    for (int k = 0; k < n; k++)
        for (int i = 0; i < md->ntrs; i++) {
            pc_tr *t = md->trs[i];
            if (t->sender) rtc_rtp_sender_handle_rtcp(t->sender, &v[k], pc->now);
            for (int j = 0; j < t->nenc; j++)
                if (t->enc[j].sender) rtc_rtp_sender_handle_rtcp(t->enc[j].sender, &v[k], pc->now);
            for (int j = 0; j < t->nlayers; j++) rtc_rtp_receiver_handle_rtcp(t->layers[j].recv, &v[k], pc->now);
        }
    for (int k = 0; k < n; k++) {
        if (v[k].pt == RTC_RTCP_SR) emit_sender_report(pc, &v[k]);
        pc__cc_handle_rtcp(pc, &v[k]);
    }
    pc__tap_rtcp(pc, data, len);
}

int pc__media_handle_packet(rtc_pc *pc, const uint8_t *data, size_t len)
{
    pc_media *md = pc->media;
    if (!md || !pc__srtp(pc)) return RTC_EIGNORED;
    rtc_buf *b = rtc_buf_alloc(pc->cfg.pool, len);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, data, len);
    b->len = len;
    int kind = rtc_srtp_session_unprotect(pc->srtp, b);
    if (kind == RTC_PKT_RTP || kind == RTC_PKT_RTCP) pc__capture(pc, PC_CAP_RTP, false, NULL, NULL, b->data, b->len);
    int r = 0;
    if (kind == RTC_PKT_RTP) r = handle_rtp(pc, b);
    else if (kind == RTC_PKT_RTCP) handle_rtcp(pc, b->data, b->len);
    else { md->stats.srtp_errors++; r = kind; }
    rtc_buf_unref(b);
    return r;
}

/* ---- output ------------------------------------------------------------------------------- */

static bool can_send(rtc_pc *pc) { return pc->has_pair && !pc->closed && pc__srtp(pc); }

static void send_protected(rtc_pc *pc, rtc_buf *b, bool rtcp)
{
    if (!can_send(pc)) { rtc_buf_unref(b); return; }
    pc__capture(pc, PC_CAP_RTP, true, NULL, NULL, b->data, b->len);
    /* Nothing here may change an RTP packet: the senders stamp the transport-wide seq
     * (rtp_sender.h), so a resend from history is the first transmission byte for
     * byte and SRTP gives the same ciphertext for the repeated index. */
    int r = rtcp ? rtc_srtp_session_protect_rtcp(pc->srtp, b) : rtc_srtp_session_protect_rtp(pc->srtp, b);
    if (r < 0) { rtc_buf_unref(b); return; }
    pc__send_packet(pc, b);
}

void pc__media_send_rtp(rtc_pc *pc, rtc_buf *b) { send_protected(pc, b, false); }

static void send_plain_rtcp(rtc_pc *pc, const uint8_t *p, size_t n)
{
    rtc_buf *b = rtc_buf_alloc(pc->cfg.pool, n + RTC_SRTP_TRAILER_MAX);
    if (!b) return;
    memcpy(b->data, p, n);
    b->len = n;
    send_protected(pc, b, true);
}

/* One of t's senders (its own, or a further encoding's, rid its RID): a keyframe
 * request names the encoding whose SSRC the PLI/FIR was for. */
static void drain_sender(rtc_pc *pc, pc_tr *t, rtc_rtp_sender *snd, const char *rid)
{
    rtc_rtp_out out;
    while (rtc_rtp_sender_poll_transmit(snd, &out) > 0)
        if (out.rtcp || !can_send(pc) || !pc__cc_take(pc, t, out.buf)) send_protected(pc, out.buf, out.rtcp);
    rtc_rtp_sender_event ev;
    while (rtc_rtp_sender_poll_event(snd, &ev) > 0) {
        if (ev.type == RTC_RTP_SEND_EV_KEYFRAME_REQUESTED) {
            rtc_pc_event e;
            tr_event(&e, RTC_PC_EV_KEYFRAME_REQUEST, t, t->codec, t->sim_send ? rid : NULL);
            pc__emit(pc, &e);
        } else if (ev.type == RTC_RTP_SEND_EV_RTT) {
            t->round_trip_time = (double)ev.u.rtt / 1e6;
            pc__cc_set_rtt(pc, ev.u.rtt);
            /* One RTT serves every stream of the transport (NACK retry spacing). */
            for (int i = 0; i < pc->media->ntrs; i++)
                for (int j = 0; j < pc->media->trs[i]->nlayers; j++)
                    rtc_rtp_receiver_handle_rtt(pc->media->trs[i]->layers[j].recv, ev.u.rtt);
        }
    }
}

static void drain_receiver(rtc_pc *pc, pc_tr *t, pc_layer *l)
{
    uint8_t rtcp[1500];
    int n;
    while ((n = rtc_rtp_receiver_poll_rtcp(l->recv, rtcp, sizeof rtcp)) > 0) send_plain_rtcp(pc, rtcp, (size_t)n);
    pc__tap_drain_layer(pc, t, l);
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(l->recv, &f) > 0) {
        l->frames++;
        if (f.keyframe) l->keyframes++;
        f.data = pc__xform_recv(t, l, f.data, f.ts, f.keyframe);   /* takes the ref */
        if (!f.data) continue;
        rtc_pc_event e;
        tr_event(&e, RTC_PC_EV_FRAME, t, t->codec, l->rid);
        e.ts = f.ts;
        e.keyframe = f.keyframe;
        e.buf = f.data;
        pc__emit(pc, &e);
    }
    rtc_rtp_receiver_event ev;
    while (rtc_rtp_receiver_poll_event(l->recv, &ev) > 0) { /* PLIs and BYE are counted in its stats */ }
}

void pc__media_pump(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (t->sender) drain_sender(pc, t, t->sender, t->send_rid);
        for (int k = 0; k < t->nenc; k++)
            if (t->enc[k].sender) drain_sender(pc, t, t->enc[k].sender, t->enc[k].rid);
        for (int k = 0; k < t->nlayers; k++) drain_receiver(pc, t, &t->layers[k]);
    }
    if (md->twcc) {
        uint8_t fb[1500];
        int n;
        while ((n = rtc_twcc_receiver_poll_transmit(md->twcc, fb, sizeof fb)) > 0) {
            md->stats.twcc_feedback_sent++;
            send_plain_rtcp(pc, fb, (size_t)n);
        }
    }
    pc__cc_pump(pc);
}

void pc__media_bye(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) {
        if (md->trs[i]->sender) rtc_rtp_sender_bye(md->trs[i]->sender, pc->now);
        for (int k = 0; k < md->trs[i]->nenc; k++)
            if (md->trs[i]->enc[k].sender) rtc_rtp_sender_bye(md->trs[i]->enc[k].sender, pc->now);
    }
}

void pc__media_handle_timeout(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (t->sender && rtc_rtp_sender_poll_timeout(t->sender) <= pc->now) rtc_rtp_sender_handle_timeout(t->sender, pc->now);
        for (int k = 0; k < t->nenc; k++) {
            rtc_rtp_sender *es = t->enc[k].sender;
            if (es && rtc_rtp_sender_poll_timeout(es) <= pc->now) rtc_rtp_sender_handle_timeout(es, pc->now);
        }
        for (int k = 0; k < t->nlayers; k++)
            if (rtc_rtp_receiver_poll_timeout(t->layers[k].recv) <= pc->now)
                rtc_rtp_receiver_handle_timeout(t->layers[k].recv, pc->now);
    }
    if (md->twcc && rtc_twcc_receiver_poll_timeout(md->twcc) <= pc->now) rtc_twcc_receiver_handle_timeout(md->twcc, pc->now);
    pc__cc_handle_timeout(pc);
}

rtc_time pc__media_poll_timeout(rtc_pc *pc)
{
    pc_media *md = pc->media;
    rtc_time t = RTC_TIME_NEVER;
    if (!md || pc->closed) return t;
    for (int i = 0; i < md->ntrs; i++) {
        if (md->trs[i]->sender) t = rtc_time_min(t, rtc_rtp_sender_poll_timeout(md->trs[i]->sender));
        for (int k = 0; k < md->trs[i]->nenc; k++)
            if (md->trs[i]->enc[k].sender) t = rtc_time_min(t, rtc_rtp_sender_poll_timeout(md->trs[i]->enc[k].sender));
        for (int k = 0; k < md->trs[i]->nlayers; k++)
            t = rtc_time_min(t, rtc_rtp_receiver_poll_timeout(md->trs[i]->layers[k].recv));
    }
    if (md->twcc) t = rtc_time_min(t, rtc_twcc_receiver_poll_timeout(md->twcc));
    return rtc_time_min(t, pc__cc_poll_timeout(pc));
}

/* ---- application calls -------------------------------------------------------------------- */

/* The encoding named rid on t: NULL for the first (t's own fields), else enc; -1 when none. */
static int find_encoding(const pc_tr *t, const char *rid)
{
    if (!rid || !rid[0] || strcmp(rid, t->send_rid) == 0) return 0;
    for (int i = 0; i < t->nenc; i++)
        if (strcmp(rid, t->enc[i].rid) == 0) return i + 1;
    return -1;
}

int rtc_pc_send_frame(rtc_pc *pc, int tr, const uint8_t *frame, size_t len, uint32_t ts, bool keyframe, rtc_time now)
{
    return rtc_pc_send_frame_rid(pc, tr, NULL, frame, len, ts, keyframe, now);
}

int rtc_pc_send_frame_rid(rtc_pc *pc, int tr, const char *rid, const uint8_t *frame, size_t len, uint32_t ts,
                          bool keyframe, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    int ei = find_encoding(t, rid);
    if (ei < 0) return pc__fail(pc, RTC_ENOTFOUND, "transceiver %d has no encoding with rid '%s'", tr, rid);
    pc_enc *e = ei ? &t->enc[ei - 1] : NULL;
    if (!t->sender) return pc__fail(pc, RTC_ESTATE, "transceiver %d does not send (not negotiated to)", tr);
    if (e && !e->sender)        /* the peer took no simulcast: only the first encoding goes out */
        return pc__fail(pc, RTC_ESTATE, "encoding '%s' of transceiver %d was not negotiated", rid, tr);
    if (t->stopping) return pc__fail(pc, RTC_ESTATE, "transceiver %d is stopped", tr);
    if (!can_send(pc)) return pc__fail(pc, RTC_ESTATE, "the transport is not connected");
    if (e ? e->inactive : t->inactive) return 0;          /* set_parameters: encoding not active */
    int32_t *picture_id = e ? &e->picture_id : &t->picture_id;
    rtc_pack_params pp;
    memset(&pp, 0, sizeof pp);
    pp.picture_id = *picture_id;
    pp.keyframe = keyframe;
    int r = pc__xform_send(t, &frame, &len, ts, keyframe);
    if (r == RTC_EIGNORED) return 0;    /* the transform dropped it: nothing to send */
    if (r < 0) return pc__fail(pc, r, "the frame transform of transceiver %d failed", tr);
    r = rtc_rtp_sender_send_frame(e ? e->sender : t->sender, frame, len, ts, &pp, pc->now);
    if (r >= 0) {
        *picture_id = (*picture_id + 1) & 0x7fff;
        if (e) e->frames_sent++;
        else t->frames_sent++;
        if (keyframe && t->kf_pending) { t->kf_queued = true; t->kf_ts = ts; }
    }
    pc__pump(pc);
    return r;
}

static bool rid_ok(const char *rid)
{
    size_t n = strlen(rid);
    if (n == 0 || n > 15) return false;
    for (size_t i = 0; i < n; i++) {
        char c = rid[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
    return true;
}

int rtc_pc_transceiver_set_send_encodings(rtc_pc *pc, int tr, const char *const *rids, int n)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->kind != RTC_MEDIA_VIDEO || n < 1 || n > PC_MAX_LAYERS) return RTC_EINVAL;
    if (t->mid[0] || t->negotiated) return RTC_ESTATE;      /* W3C: sendEncodings only at addTransceiver */
    for (int i = 0; i < n; i++) {
        if (!rids[i] || !rid_ok(rids[i])) return RTC_EINVAL;
        for (int k = 0; k < i; k++)
            if (strcmp(rids[i], rids[k]) == 0) return RTC_EINVAL;
    }
    if (n == 1) { t->send_rid[0] = 0; t->nenc = 0; return 0; }   /* one encoding: no simulcast */
    snprintf(t->send_rid, sizeof t->send_rid, "%s", rids[0]);
    t->nenc = n - 1;
    for (int i = 1; i < n; i++) {
        pc_enc *e = &t->enc[i - 1];
        memset(e, 0, sizeof *e);
        snprintf(e->rid, sizeof e->rid, "%s", rids[i]);
        e->ssrc = rtc_rng_u32(pc->cfg.rng) | 1;
        e->rtx_ssrc = rtc_rng_u32(pc->cfg.rng) | 1;
        e->picture_id = (int32_t)(rtc_rng_u32(pc->cfg.rng) & 0x7fff);
    }
    return 0;
}

int rtc_pc_transceiver_set_encoding_rid(rtc_pc *pc, int tr, const char *rid, bool active, double max_bps)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!(max_bps >= 0)) return RTC_EINVAL;
    int ei = find_encoding(t, rid);
    if (ei < 0) return RTC_ENOTFOUND;
    if (ei == 0) return rtc_pc_transceiver_set_encoding(pc, tr, active, max_bps);
    t->enc[ei - 1].inactive = !active;
    t->enc[ei - 1].max_bitrate = max_bps;
    pc__cc_update_max(pc);
    return 0;
}

int rtc_pc_transceiver_encodings(rtc_pc *pc, int tr, rtc_encoding_info *out, int max)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    int n = 0;
    for (int i = 0; i <= t->nenc && n < max; i++, n++) {
        rtc_encoding_info *o = &out[n];
        memset(o, 0, sizeof *o);
        const pc_enc *e = i ? &t->enc[i - 1] : NULL;
        o->rid = e ? e->rid : t->send_rid;
        o->active = !(e ? e->inactive : t->inactive);
        o->max_bitrate = e ? e->max_bitrate : t->max_bitrate;
        o->ssrc = e ? e->ssrc : t->ssrc;
        o->rtx_ssrc = t->rtx_pt ? (e ? e->rtx_ssrc : t->rtx_ssrc) : 0;
        o->sending = e ? e->sender != NULL : t->sender != NULL;
        o->frames_sent = e ? e->frames_sent : t->frames_sent;
        if (o->sending) {
            rtc_rtp_sender_stats ss;
            rtc_rtp_sender_get_stats(e ? e->sender : t->sender, &ss);
            o->packets_sent = ss.packets;
            o->retransmitted_packets = ss.rtx_packets;
            o->nacks_received = ss.nacks_received;
            o->plis_received = ss.plis_received;
        }
    }
    return n;
}

int rtc_pc_set_audio_level(rtc_pc *pc, int tr, uint8_t level, bool voice)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (t->kind != RTC_MEDIA_AUDIO || level > 127) return RTC_EINVAL;
    if (t->sender) rtc_rtp_sender_set_audio_level(t->sender, level, voice);
    return 0;
}

int rtc_pc_request_keyframe(rtc_pc *pc, int tr, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    if (!t->nlayers) return pc__fail(pc, RTC_ESTATE, "transceiver %d receives no stream yet", tr);
    for (int k = 0; k < t->nlayers; k++) rtc_rtp_receiver_request_keyframe(t->layers[k].recv);
    pc__pump(pc);
    return 0;
}

int rtc_pc_transceiver_info(rtc_pc *pc, int tr, rtc_transceiver_info *out)
{
    pc_tr *t = pc__media_tr(pc, tr);
    if (!t) return RTC_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->handle = t->handle;
    out->kind = t->kind;
    out->mid = t->mid;
    out->direction = t->direction;
    out->current_direction = (rtc_media_direction)t->current;
    out->negotiated = t->negotiated;
    out->stopped = t->stopped;
    out->stopping = t->stopping;
    out->removed = t->removed;
    out->has_sent = t->has_sent;
    out->codec = t->codec;
    out->pt = t->pt;
    out->rtx_pt = t->rtx_pt;
    out->red_pt = t->red_pt;
    out->red_send = t->red_send;
    out->ulpfec_pt = t->ulpfec_pt;
    out->clock_rate = t->clock_rate;
    snprintf(out->fmtp, sizeof out->fmtp, "%s", t->fmtp);
    snprintf(out->remote_fmtp, sizeof out->remote_fmtp, "%s", t->remote_fmtp);
    out->fb_nack = t->fb_nack;
    out->fb_pli = t->fb_pli;
    out->fb_fir = t->fb_fir;
    out->fb_twcc = t->fb_twcc;
    out->fb_remb = t->fb_remb;
    out->remote_ssrc = t->nlayers ? t->layers[0].ssrc : t->remote_ssrc;
    out->remote_rtx_ssrc = t->nlayers ? (t->layers[0].rtx_ssrc ? t->layers[0].rtx_ssrc : t->layers[0].unsignaled_rtx_ssrc)
                                      : t->remote_rtx_ssrc;
    out->layers = t->nlayers;
    static const char *const sim_names[PC_MAX_LAYERS] = { "sim0", "sim1", "sim2", "sim3" };
    out->nsimulcast = t->nsim >= 2 ? t->nsim : t->nrecv_rids;
    for (int k = 0; k < out->nsimulcast && k < 4; k++) out->simulcast[k] = t->nsim >= 2 ? sim_names[k] : t->recv_rids[k];
    out->round_trip_time = t->round_trip_time;
    /* Simulcast layers add up; the SSRCs above are the first layer's. */
    for (int k = 0; k < t->nlayers; k++) {
        const pc_layer *l = &t->layers[k];
        rtc_rtp_receiver_stats rs;
        rtc_rtp_receiver_get_stats(l->recv, &rs);
        out->has_inbound = true;
        out->packets_received += rs.packets;
        out->bytes_received += rs.bytes;
        out->rtx_received += rs.retransmitted;          /* RTX and plain resends alike */
        out->frames_received += l->frames;
        out->keyframes_received += l->keyframes;
        out->nack_count += rs.nacks_sent;
        out->pli_count += rs.plis_sent;
        out->fir_count += rs.firs_sent;
        out->packets_lost += rs.lost;
        if (k == 0) {
            out->jitter = t->clock_rate ? (double)rs.jitter / t->clock_rate : 0;
            out->remote_reports_sent = rs.srs_received;
            out->remote_packets_sent = rs.sr_packets;
            out->remote_bytes_sent = rs.sr_octets;
            if (rs.sr_ntp) out->remote_timestamp = (double)rtc_ntp_to_unix_us(rs.sr_ntp) / 1e3;
        }
        out->packets_repaired += rs.repaired;
        out->red_recovered += rs.red_recovered;
        out->red_packets_received += rs.red_packets;
        out->fec_packets_received += rs.fec_packets;
        out->fec_packets_discarded += rs.fec_discarded;
        out->fec_recovered += rs.fec_recovered;
        out->frames_dropped += rs.jb.frames_dropped + rs.jb.frames_skipped;
        out->packets_given_up += rs.nack.given_up;
        out->frames_skipped += rs.jb.frames_skipped;
        out->packets_late += rs.jb.late;
    }
    if (t->sender) {
        rtc_rtp_sender_stats ss;
        rtc_rtp_sender_get_stats(t->sender, &ss);
        out->has_outbound = true;
        out->local_ssrc = t->ssrc;
        out->local_rtx_ssrc = t->rtx_pt ? t->rtx_ssrc : 0;
        out->packets_sent = ss.packets;
        out->bytes_sent = ss.bytes;
        out->frames_sent = ss.frames;
        out->fec_packets_sent = ss.fec_packets;
        out->retransmitted_packets = ss.rtx_packets;
        out->nacks_received = ss.nacks_received;
        out->plis_received = ss.plis_received;
        out->firs_received = ss.firs_received;
        out->fraction_lost = ss.fraction_lost / 256.0;
        if (ss.rtt >= 0) out->round_trip_time = (double)ss.rtt / 1e6;
        out->total_round_trip_time = (double)ss.rtt_total / 1e6;
        out->rtt_measurements = ss.rtt_measurements;
        out->reports_received = ss.reports_received;
        out->remote_packets_lost = ss.remote_lost;
        out->remote_jitter = t->clock_rate ? (double)ss.remote_jitter / t->clock_rate : 0;
    }
    return 0;
}

void rtc_pc_media_get_stats(const rtc_pc *pc, rtc_pc_media_stats *out)
{
    if (pc->media) *out = pc->media->stats;
    else memset(out, 0, sizeof *out);
}
