/* JSEP for audio and video sections (RFC 8829 5.2/5.3, RFC 3264): which sections of a
 * remote offer we accept and with which transceiver, the m= sections of our offers and
 * answers (codecs, RTX, extmap, rtcp-fb, direction, msid, SSRCs), and reading the
 * negotiated parameters back once both descriptions are known.
 *
 * One codec (plus its RTX) per answered section: the sender then has no choice to
 * make and our receiver knows the payload type it will see. Offers list every codec we
 * can packetize, the transceiver's preferred one first. Video fmtp is copied from the
 * offer (profiles must match); Opus fmtp states our own receive preferences. */
#include "pc/pc_media_internal.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include <stdio.h>
#include <stdlib.h>
#include "codec/red.h"
#include <string.h>
#include <strings.h>

static const char *const video_fb[] = { "goog-remb", "transport-cc", "ccm fir", "nack", "nack pli", NULL };
static const char *const audio_fb[] = { "transport-cc", "nack", NULL };

/* Our offer: payload types as Chromium numbers them, so logs read alike. */
typedef struct offer_codec { int codec; int pt, rtx_pt; const char *name; uint32_t rate; uint16_t ch; const char *fmtp; } offer_codec;
static const offer_codec offer_video[] = {
    { RTC_CODEC_VP8, 96, 97, "VP8", 90000, 0, NULL },
    { RTC_CODEC_VP9, 98, 99, "VP9", 90000, 0, "profile-id=0" },
    { RTC_CODEC_H264, 102, 103, "H264", 90000, 0, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f" },
    { RTC_CODEC_AV1, 45, 46, "AV1", 90000, 0, "level-idx=5;profile=0;tier=0" },
};
static const offer_codec offer_audio[] = { { RTC_CODEC_OPUS, 111, 0, "opus", 48000, 2, NULL } };

/* Opus fmtp parameters are receive preferences (RFC 7587 7.1): each side states what
 * it wants to get, in offers and answers alike, and an answer never echoes the
 * offerer's (an offer's usedtx=1 or stereo=1 says what the offerer likes to hear, not
 * what we do). Ours are libwebrtc's: 10 ms packets at least, in-band FEC welcome
 * (our decoder recovers a lost packet from the next one), and mono unless the
 * transceiver asks for stereo. The encoder sending to the peer follows the peer's fmtp. */
static const char *opus_fmtp(const pc_tr *t)
{
    return t->recv_stereo ? "minptime=10;useinbandfec=1;stereo=1" : "minptime=10;useinbandfec=1";
}

typedef struct ext_def { const char *uri; uint8_t id; bool audio, video; } ext_def;
static const ext_def our_exts[] = {
    { RTC_EXT_URI_AUDIO_LEVEL, 1, true, false },
    { RTC_EXT_URI_ABS_SEND_TIME, 2, true, true },
    { RTC_EXT_URI_TWCC, 3, true, true },
    { RTC_EXT_URI_MID, 4, true, true },
    { RTC_EXT_URI_RID, 10, false, true },
    { RTC_EXT_URI_RRID, 11, false, true },
    { RTC_EXT_URI_VIDEO_ORIENTATION, 13, false, true },   /* only with rtc_pc_set_video_orientation */
};

/* Whether t's section has extension d: rid / repaired-rid only where simulcast is
 * (offer NULL: never in our offers), orientation only when the pc forwards it. */
static bool ext_wanted(const rtc_pc *pc, const pc_tr *t, const ext_def *d, const rtc_sdp_media *offer)
{
    if (!(t->kind == RTC_MEDIA_AUDIO ? d->audio : d->video)) return false;
    if (strcmp(d->uri, RTC_EXT_URI_RID) == 0 || strcmp(d->uri, RTC_EXT_URI_RRID) == 0)
        return offer ? offer->nrids > 0 : t->send_rid[0] != 0;
    if (strcmp(d->uri, RTC_EXT_URI_VIDEO_ORIENTATION) == 0) return pc->media && pc->media->video_orientation;
    return true;
}

static rtc_media_direction from_sdp_dir(rtc_sdp_direction d)
{
    switch (d) {
    case RTC_SDP_SENDONLY: return RTC_DIR_SENDONLY;
    case RTC_SDP_RECVONLY: return RTC_DIR_RECVONLY;
    case RTC_SDP_INACTIVE: return RTC_DIR_INACTIVE;
    default: return RTC_DIR_SENDRECV;
    }
}

static rtc_sdp_direction to_sdp_dir(rtc_media_direction d)
{
    static const rtc_sdp_direction m[] = { RTC_SDP_SENDRECV, RTC_SDP_SENDONLY, RTC_SDP_RECVONLY, RTC_SDP_INACTIVE };
    return m[d];
}

static rtc_media_direction make_dir(bool send, bool recv)
{
    return send ? (recv ? RTC_DIR_SENDRECV : RTC_DIR_SENDONLY) : (recv ? RTC_DIR_RECVONLY : RTC_DIR_INACTIVE);
}

/* Whether we can carry this offered codec in a section of this kind. */
static int supported_codec(const rtc_sdp_codec *c, rtc_media_kind kind)
{
    if (!c->name) return -1;
    int id = rtc_codec_from_name(c->name);
    if (id < 0) return -1;
    if ((kind == RTC_MEDIA_AUDIO) != (id == RTC_CODEC_OPUS)) return -1;
    if (id == RTC_CODEC_OPUS && (c->clock_rate != 48000 || c->channels != 2)) return -1;
    if (id != RTC_CODEC_OPUS && c->clock_rate != 90000) return -1;
    if (id == RTC_CODEC_H264) {
        /* Mode 0 (single NAL only) and interleaved mode are not packetized here. */
        const char *pm = rtc_sdp_codec_param(c, "packetization-mode");
        if (!pm || strcmp(pm, "1") != 0) return -1;
        if (rtc_sdp_h264_profile(rtc_sdp_codec_param(c, "profile-level-id"), NULL) == RTC_H264_UNKNOWN) return -1;
    }
    return id;
}

/* The codec of an offered (or answered) section we would use: the transceiver's
 * preference if offered, else the first we support in the peer's order. */
static const rtc_sdp_codec *pick_codec(const rtc_sdp_media *m, rtc_media_kind kind, int pref)
{
    const rtc_sdp_codec *first = NULL;
    for (size_t i = 0; i < m->ncodecs; i++) {
        int id = supported_codec(m->codecs[i], kind);
        if (id < 0) continue;
        if (id == pref) return m->codecs[i];
        if (!first) first = m->codecs[i];
    }
    return first;
}

/* pick_codec for t's answer: its preferred codec in its preferred format first. The
 * same codec in another format would be received as something it is not (an SFU
 * forwarding H264 High to a Constrained Baseline decoder), so it is taken only when
 * nothing else is offered; the forwarder then finds the mismatch and says so. */
static const rtc_sdp_codec *pick_codec_for(const rtc_sdp_media *m, const pc_tr *t)
{
    if (!t->pref_fmtp[0] || t->pref_codec < 0) return pick_codec(m, t->kind, t->pref_codec);
    const rtc_sdp_codec *first = NULL, *other_format = NULL;
    for (size_t i = 0; i < m->ncodecs; i++) {
        const rtc_sdp_codec *c = m->codecs[i];
        int id = supported_codec(c, t->kind);
        if (id < 0) continue;
        if (id == t->pref_codec) {
            if (rtc_sdp_fmtp_match(c->name, t->pref_fmtp, c->fmtp)) return c;
            if (!other_format) other_format = c;
        } else if (!first) {
            first = c;
        }
    }
    return first ? first : other_format;
}

static rtc_media_kind kind_of(rtc_sdp_kind k) { return k == RTC_SDP_AUDIO ? RTC_MEDIA_AUDIO : RTC_MEDIA_VIDEO; }

bool pc__media_accept_offer_section(rtc_pc *pc, int index, const rtc_sdp *s, const rtc_sdp_media *m)
{
    (void)index;
    if (rtc_sdp_media_rejected(m) || !m->mid) return false;
    if (!m->proto || !strstr(m->proto, "RTP/SAVPF")) return false;
    rtc_media_kind kind = kind_of(m->kind);
    if (!pc__media_get(pc)) return false;
    pc_tr *t = pc__media_tr_by_mid(pc, m->mid);
    /* A section cannot change its kind: the peer reusing a mid for another kind gets
     * that section declined rather than our transceiver of the other kind. */
    if (t && t->kind != kind) return false;
    if (!t) {
        /* JSEP 5.10: a new section goes to a transceiver addTrack made that is in no
         * section yet, not stopped, of its kind (the first such, in creation order). One
         * addTransceiver made keeps waiting for a section of its own in our offer. */
        pc_media *md = pc->media;
        for (int i = 0; i < md->ntrs && !t; i++) {
            pc_tr *c = md->trs[i];
            if (!c->mid[0] && c->by_add_track && !c->stopped && !c->stopping && !c->removed && c->kind == kind) t = c;
        }
    }
    if (!pick_codec(m, kind, t ? t->pref_codec : -1)) return false;
    if (!t) {
        int h = pc__media_new_tr(pc, kind, RTC_DIR_RECVONLY, -1);
        if (h < 0) return false;
        t = pc->media->trs[h];
        t->from_offer = true;
    }
    snprintf(t->mid, sizeof t->mid, "%s", m->mid);
    rtc_media_direction rd = from_sdp_dir(rtc_sdp_media_direction(s, m));
    if (pc__dir_sends(rd)) pc__media_emit_track(pc, t);
    return true;
}

void pc__media_save(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    md->saved_ntrs = md->ntrs;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        memcpy(t->saved_mid, t->mid, sizeof t->saved_mid);
        t->saved_announced = t->track_announced;
        t->saved_stopped = t->stopped;
        t->from_offer = t->app_changed = false;
    }
}

void pc__media_restore(rtc_pc *pc, bool remote)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (i < md->saved_ntrs) {
            memcpy(t->mid, t->saved_mid, sizeof t->mid);
            t->track_announced = t->saved_announced;
            t->stopped = t->saved_stopped;
        } else {
            /* Added since, by the application or by the offer: in no section now. */
            t->mid[0] = 0;
            t->track_announced = false;
        }
        /* W3C: a transceiver the remote offer created goes, unless a track was
         * attached to it (addTrack reuses it and makes it send: app_changed). */
        if (remote && t->from_offer && !t->app_changed) t->removed = t->stopped = true;
        t->from_offer = t->app_changed = false;
    }
    /* Handles are indexes: only the last ones can really be freed. */
    while (md->ntrs > md->saved_ntrs && md->trs[md->ntrs - 1]->removed) pc__media_drop_last(pc);
}


bool pc__media_needs_negotiation(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return false;
    const rtc_sdp *l = pc->local, *r = pc->remote;
    for (int i = 0; i < md->ntrs; i++) {
        const pc_tr *t = md->trs[i];
        if (t->removed || (t->stopped && !t->stopping)) continue;
        if (t->stopping && !t->stopped) return true;    /* stop() waits for a negotiation */
        if (t->stopped) continue;
        int k = -1;
        for (size_t j = 0; l && t->mid[0] && j < l->nmedia && k < 0; j++)
            if (l->media[j]->mid && strcmp(l->media[j]->mid, t->mid) == 0) k = (int)j;
        if (k < 0 || !r || (size_t)k >= r->nmedia) return true;   /* in no negotiated section */
        const rtc_sdp_media *lm = l->media[k], *rm = r->media[k];
        if (rtc_sdp_media_rejected(lm) || rtc_sdp_media_rejected(rm)) continue;
        rtc_media_direction ld = from_sdp_dir(rtc_sdp_media_direction(l, lm));
        rtc_media_direction rd = from_sdp_dir(rtc_sdp_media_direction(r, rm));
        if (pc->local_type == RTC_SDP_OFFER) {
            if (ld != t->direction && rd != t->direction) return true;
        } else {
            /* We answered: what we would answer now with the direction wanted. */
            rtc_media_direction want = make_dir(pc__dir_sends(t->direction) && pc__dir_recvs(rd),
                                                pc__dir_recvs(t->direction) && pc__dir_sends(rd));
            if (ld != want) return true;
        }
    }
    return false;
}

bool pc__media_msec_recyclable(rtc_pc *pc, int index)
{
    const pc_msec *pm = &pc->msecs[index];
    if (pm->kind != RTC_SDP_AUDIO && pm->kind != RTC_SDP_VIDEO) return false;
    if (index == pc->data_msec) return false;
    const pc_tr *t = pc__media_tr_by_mid(pc, pm->mid);
    /* Rejected in the last negotiation (port 0 in the current descriptions): declined by
     * us, or its transceiver stopped (t->stopped is set only by a completed negotiation). */
    return t ? t->stopped : pm->rejected;
}

void pc__media_recycle_msec(rtc_pc *pc, int index, rtc_sdp_kind kind, const char *mid)
{
    pc_msec *pm = &pc->msecs[index];
    pc_tr *old = pc__media_tr_by_mid(pc, pm->mid);
    /* The stopped transceiver keeps no section (a rollback gives its mid back). */
    if (old) old->mid[0] = 0;
    pc__msecs_free(pm, 1);
    memset(pm, 0, sizeof *pm);
    pm->kind = kind;
    pm->pt = -1;
    snprintf(pm->mid, sizeof pm->mid, "%s", mid);
}

/* JSEP 5.2.2: a new transceiver takes the slot of a section rejected in the current
 * descriptions (the first one, in order), under a new mid; only when there is none
 * does the offer grow. */
void pc__media_new_offer_sections(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md) return;
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (t->mid[0] || t->stopped || t->stopping || t->removed) continue;
        char mid[32];
        pc__next_mid(pc, mid, sizeof mid);
        rtc_sdp_kind kind = t->kind == RTC_MEDIA_AUDIO ? RTC_SDP_AUDIO : RTC_SDP_VIDEO;
        int slot = -1;
        for (int j = 0; j < pc->nmsecs && slot < 0; j++)
            if (pc__media_msec_recyclable(pc, j)) slot = j;
        if (slot >= 0) pc__media_recycle_msec(pc, slot, kind, mid);
        else if (!pc__msec_add(pc, kind, mid)) return;
        snprintf(t->mid, sizeof t->mid, "%s", mid);
    }
}

/* The section's RED (red/48000/2) whose fmtp names `pt` as every block's, or NULL. */
static const rtc_sdp_codec *red_for(const rtc_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->ncodecs; i++) {
        const rtc_sdp_codec *c = m->codecs[i];
        if (c->name && !strcasecmp(c->name, "red") && c->clock_rate == 48000 && c->channels == 2 &&
            rtc_red_fmtp_pt(c->fmtp) == pt)
            return c;
    }
    return NULL;
}

/* The section's codec called `name` at 90 kHz (video RED, ULPFEC), or NULL. */
static const rtc_sdp_codec *video_codec_named(const rtc_sdp_media *m, const char *name)
{
    for (size_t i = 0; i < m->ncodecs; i++)
        if (m->codecs[i]->name && !strcasecmp(m->codecs[i]->name, name) && m->codecs[i]->clock_rate == 90000)
            return m->codecs[i];
    return NULL;
}

/* Chromium sends RED only when the remote description lists it before the codec it
 * carries: the peer says so by its order. */
static bool red_listed_first(const rtc_sdp_media *m, int red_pt, int pt)
{
    for (size_t i = 0; i < m->ncodecs; i++) {
        if (m->codecs[i]->pt == red_pt) return true;
        if (m->codecs[i]->pt == pt) return false;
    }
    return false;
}

static int add_codec(rtc_sdp *s, rtc_sdp_media *m, int pt, const char *name, uint32_t rate, uint16_t ch,
                     const char *fmtp, int rtx_pt, rtc_media_kind kind)
{
    int r = rtc_sdp_media_add_codec(s, m, pt, name, rate, ch, fmtp, kind == RTC_MEDIA_AUDIO ? audio_fb : video_fb, NULL);
    if (r < 0 || rtx_pt <= 0) return r;
    char apt[16];
    snprintf(apt, sizeof apt, "apt=%d", pt);
    return rtc_sdp_media_add_codec(s, m, rtx_pt, "rtx", rate, 0, apt, NULL, NULL);
}

/* The peer offers to send simulcast (a=simulcast:send with a=rid ... send): receive
 * every layer (the first alternative of each stream), up to PC_MAX_LAYERS. */
static int answer_simulcast(rtc_sdp *s, rtc_sdp_media *m, const rtc_sdp_media *offer)
{
    if (!offer->simulcast.present || offer->simulcast.nsend == 0) return 0;
    char value[128] = "recv ";
    size_t len = 5;
    int n = 0;
    for (size_t i = 0; i < offer->simulcast.nsend && n < PC_MAX_LAYERS; i++) {
        const rtc_sdp_simulcast_stream *st = &offer->simulcast.send[i];
        if (st->nalts == 0) continue;
        const char *id = st->alts[0].rid;
        const rtc_sdp_rid *rid = rtc_sdp_media_rid(offer, id);
        if (!rid || rid->recv || strlen(id) >= 16 || len + strlen(id) + 2 >= sizeof value) continue;
        int r = rtc_sdp_media_add_rid(s, m, id, true, NULL, 0, NULL);
        if (r < 0) return r;
        len += (size_t)snprintf(value + len, sizeof value - len, "%s%s", n ? ";" : "", id);
        n++;
    }
    return n ? rtc_sdp_media_set_simulcast(s, m, value) : 0;
}

/* Our simulcast encodings: all of them in an offer, in an answer those the offer's
 * a=simulcast:recv lists (first alternatives). 0 when none is written. */
static int write_send_simulcast(rtc_sdp *s, rtc_sdp_media *m, const pc_tr *t, const rtc_sdp_media *offer)
{
    if (!t->send_rid[0]) return 0;
    if (offer && (!offer->simulcast.present || offer->simulcast.nrecv == 0)) return 0;
    char value[96] = "send ";
    size_t len = 5;
    int n = 0;
    for (int i = 0; i <= t->nenc; i++) {
        const char *id = i ? t->enc[i - 1].rid : t->send_rid;
        if (offer) {
            bool listed = false;
            for (size_t k = 0; k < offer->simulcast.nrecv; k++)
                if (offer->simulcast.recv[k].nalts && strcmp(offer->simulcast.recv[k].alts[0].rid, id) == 0) listed = true;
            const rtc_sdp_rid *rr = rtc_sdp_media_rid(offer, id);
            if (!listed || !rr || !rr->recv) continue;
        }
        int r = rtc_sdp_media_add_rid(s, m, id, false, NULL, 0, NULL);
        if (r < 0) return r;
        len += (size_t)snprintf(value + len, sizeof value - len, "%s%s", n ? ";" : "", id);
        n++;
    }
    return n ? rtc_sdp_media_set_simulcast(s, m, value) : 0;
}

static int add_send_identity(rtc_pc *pc, rtc_sdp *s, rtc_sdp_media *m, pc_tr *t, bool rtx)
{
    pc_media *md = pc->media;
    char msid[96];
    int r = rtc_sdp_media_add_msid(s, m, md->cname, t->track_id);
    if (r < 0) return r;
    snprintf(msid, sizeof msid, "%s %s", md->cname, t->track_id);
    /* Simulcast by RID: no a=ssrc, or the peer would take the first one for the whole
     * section; it learns each encoding's SSRCs from MID and RID (as with browsers). */
    if (m->simulcast.present && m->simulcast.nsend) return 0;
    if (rtx && t->rtx_ssrc) {
        uint32_t g[2] = { t->ssrc, t->rtx_ssrc };
        if ((r = rtc_sdp_media_add_ssrc_group(s, m, "FID", g, 2)) < 0) return r;
    }
    uint32_t ssrcs[2] = { t->ssrc, t->rtx_ssrc };
    for (int i = 0; i < (rtx ? 2 : 1); i++) {
        if ((r = rtc_sdp_media_add_ssrc(s, m, ssrcs[i], "cname", md->cname)) < 0) return r;
        if ((r = rtc_sdp_media_add_ssrc(s, m, ssrcs[i], "msid", msid)) < 0) return r;
    }
    return 0;
}

bool pc__media_section_stopped(rtc_pc *pc, int index)
{
    const pc_msec *pm = &pc->msecs[index];
    if (pm->kind != RTC_SDP_AUDIO && pm->kind != RTC_SDP_VIDEO) return false;
    const pc_tr *t = pc__media_tr_by_mid(pc, pm->mid);
    /* stopping: stop() asks for port 0; stopped: a negotiation rejected the section,
     * which stays rejected until a new transceiver recycles it. */
    return t && (t->stopping || t->stopped);
}

int pc__media_write_section(rtc_pc *pc, rtc_sdp *s, int index, const rtc_sdp_media *offer, rtc_sdp_setup setup)
{
    const pc_msec *pm = &pc->msecs[index];
    pc_tr *t = pc__media_tr_by_mid(pc, pm->mid);
    if (!t) return RTC_ENOTFOUND;
    rtc_sdp_media *m;
    int r = rtc_sdp_add_media(s, pm->kind, "UDP/TLS/RTP/SAVPF", &m);
    if (r < 0) return r;
    if ((r = rtc_sdp_media_set_mid(s, m, pm->mid)) < 0) return r;
    if ((r = pc__add_transport_attrs(pc, s, m, setup)) < 0) return r;
    m->rtcp_mux = true;
    rtc_media_direction dir = t->stopped ? RTC_DIR_INACTIVE : t->direction;
    bool rtx = false;
    if (offer) {
        const rtc_sdp_codec *c = pick_codec_for(offer, t);
        if (!c) return RTC_ENOTSUP;
        const rtc_sdp_codec *x = rtc_sdp_media_rtx_for(offer, c->pt);
        const char *const *fb = t->kind == RTC_MEDIA_AUDIO ? audio_fb : video_fb;
        rtc_sdp_codec *ac;
        const char *fmtp = supported_codec(c, t->kind) == RTC_CODEC_OPUS ? opus_fmtp(t) : c->fmtp;
        if ((r = rtc_sdp_media_add_codec(s, m, c->pt, c->name, c->clock_rate, c->channels, fmtp, NULL, &ac)) < 0) return r;
        for (int i = 0; fb[i]; i++)
            if (rtc_sdp_codec_has_fb(c, offer, fb[i]) && (r = rtc_sdp_codec_add_fb(s, ac, fb[i])) < 0) return r;
        if (x) {
            rtx = true;
            if ((r = rtc_sdp_media_add_codec_copy(s, m, x, -1, NULL)) < 0) return r;
        }
        const rtc_sdp_codec *red = t->kind == RTC_MEDIA_AUDIO && t->red_mode != RTC_RED_OFF ? red_for(offer, c->pt) : NULL;
        if (red && (r = rtc_sdp_media_add_codec_copy(s, m, red, -1, NULL)) < 0) return r;
        /* Video ULPFEC is answered only as a pair: FEC packets travel inside RED. */
        const rtc_sdp_codec *vred = t->kind == RTC_MEDIA_VIDEO && t->fec_mode == RTC_FEC_ULPFEC ? video_codec_named(offer, "red") : NULL;
        const rtc_sdp_codec *ulp = vred ? video_codec_named(offer, "ulpfec") : NULL;
        if (ulp && ((r = rtc_sdp_media_add_codec_copy(s, m, vred, -1, NULL)) < 0 ||
                    (r = rtc_sdp_media_add_codec_copy(s, m, ulp, -1, NULL)) < 0))
            return r;
        for (size_t i = 0; i < offer->nextmaps; i++) {
            const rtc_sdp_extmap *e = &offer->extmaps[i];
            for (size_t k = 0; k < sizeof our_exts / sizeof our_exts[0]; k++) {
                const ext_def *d = &our_exts[k];
                if (strcmp(e->uri, d->uri) != 0 || !ext_wanted(pc, t, d, offer)) continue;
                if ((r = rtc_sdp_add_extmap(s, m, e->id, e->uri)) < 0) return r;
            }
        }
        m->rtcp_rsize = offer->rtcp_rsize;
        if ((r = answer_simulcast(s, m, offer)) < 0) return r;
        rtc_media_direction od = from_sdp_dir(rtc_sdp_media_direction(pc->remote, offer));
        dir = make_dir(pc__dir_sends(dir) && pc__dir_recvs(od), pc__dir_recvs(dir) && pc__dir_sends(od));
    } else {
        const offer_codec *tab = t->kind == RTC_MEDIA_AUDIO ? offer_audio : offer_video;
        size_t n = t->kind == RTC_MEDIA_AUDIO ? 1 : sizeof offer_video / sizeof offer_video[0];
        for (int pass = 0; pass < 2; pass++)          /* the preferred codec first */
            for (size_t i = 0; i < n; i++) {
                bool pref = tab[i].codec == t->pref_codec;
                if ((pass == 0) != pref) continue;
                const char *fmtp = tab[i].codec == RTC_CODEC_OPUS ? opus_fmtp(t) : pref && t->pref_fmtp[0] ? t->pref_fmtp : tab[i].fmtp;
                r = add_codec(s, m, tab[i].pt, tab[i].name, tab[i].rate, tab[i].ch, fmtp, tab[i].rtx_pt, t->kind);
                if (r < 0) return r;
            }
        rtx = t->kind == RTC_MEDIA_VIDEO;
        /* RED for Opus as Chromium offers it: one earlier copy in each packet. */
        if (t->kind == RTC_MEDIA_AUDIO && t->red_mode != RTC_RED_OFF &&
            (r = rtc_sdp_media_add_codec(s, m, 63, "red", 48000, 2, "111/111", NULL, NULL)) < 0)
            return r;
        /* ULPFEC in RED with Chromium's payload types (after the media codecs, so the
         * answerer's first codec stays a media one). */
        if (t->kind == RTC_MEDIA_VIDEO && t->fec_mode == RTC_FEC_ULPFEC &&
            ((r = rtc_sdp_media_add_codec(s, m, 116, "red", 90000, 0, NULL, NULL, NULL)) < 0 ||
             (r = rtc_sdp_media_add_codec(s, m, 117, "ulpfec", 90000, 0, NULL, NULL, NULL)) < 0))
            return r;
        for (size_t k = 0; k < sizeof our_exts / sizeof our_exts[0]; k++) {
            const ext_def *d = &our_exts[k];
            if (!ext_wanted(pc, t, d, NULL)) continue;
            if ((r = rtc_sdp_add_extmap(s, m, d->id, d->uri)) < 0) return r;
        }
        m->rtcp_rsize = true;
    }
    m->direction = to_sdp_dir(dir);
    if (pc__dir_sends(dir) && (r = write_send_simulcast(s, m, t, offer)) < 0) return r;
    if (pc__dir_sends(dir) && (r = add_send_identity(pc, s, m, t, rtx)) < 0) return r;
    return 0;
}

/* ---- negotiated parameters ------------------------------------------------------------ */

static uint8_t ext_id(const rtc_sdp_media *m, const char *uri)
{
    const rtc_sdp_extmap *e = rtc_sdp_media_extmap(m, uri);
    return e && e->id <= 255 ? (uint8_t)e->id : 0;
}

/* The peer's send SSRCs: the FID group (media, RTX) when there is one, else the first
 * SSRC listed (a SIM group's first layer comes first too). */
static void remote_ssrcs(const rtc_sdp_media *m, uint32_t *media, uint32_t *rtx)
{
    *media = *rtx = 0;
    const rtc_sdp_ssrc_group *g = rtc_sdp_media_ssrc_group(m, "FID");
    if (g && g->nssrcs >= 2) { *media = g->ssrcs[0]; *rtx = g->ssrcs[1]; return; }
    if (m->nssrcs) *media = m->ssrcs[0].ssrc;
}

/* What simulcast the peer's section says it sends: the first alternative of each
 * a=simulcast send stream (RIDs, when the rid extension was negotiated), else the
 * SSRCs of an a=ssrc-group:SIM (older Chrome, SDP-munged senders) with the RTX SSRC
 * each one's FID group pairs it with. */
static void remote_simulcast(pc_tr *t, const rtc_sdp_media *m)
{
    t->nrecv_rids = 0;
    t->nsim = 0;
    if (m->simulcast.present && t->rid_id) {
        for (size_t i = 0; i < m->simulcast.nsend && t->nrecv_rids < PC_MAX_LAYERS; i++) {
            const rtc_sdp_simulcast_stream *st = &m->simulcast.send[i];
            if (!st->nalts || !st->alts[0].rid || strlen(st->alts[0].rid) >= sizeof t->recv_rids[0]) continue;
            snprintf(t->recv_rids[t->nrecv_rids++], sizeof t->recv_rids[0], "%s", st->alts[0].rid);
        }
        if (t->nrecv_rids) return;
    }
    const rtc_sdp_ssrc_group *g = rtc_sdp_media_ssrc_group(m, "SIM");
    if (!g || g->nssrcs < 2) return;
    for (size_t i = 0; i < g->nssrcs && t->nsim < PC_MAX_LAYERS; i++) {
        uint32_t rtx = 0;
        for (size_t k = 0; k < m->nssrc_groups; k++) {
            const rtc_sdp_ssrc_group *f = &m->ssrc_groups[k];
            if (strcmp(f->semantics, "FID") == 0 && f->nssrcs >= 2 && f->ssrcs[0] == g->ssrcs[i]) rtx = f->ssrcs[1];
        }
        t->sim_ssrc[t->nsim] = g->ssrcs[i];
        t->sim_rtx_ssrc[t->nsim] = rtx;
        t->nsim++;
    }
}

static void negotiate(rtc_pc *pc, pc_tr *t, int index)
{
    const rtc_sdp_media *lm = pc->local->media[index], *rm = pc->remote->media[index];
    const rtc_sdp_media *am = pc->local_type == RTC_SDP_ANSWER ? lm : rm;
    if (rtc_sdp_media_rejected(lm) || rtc_sdp_media_rejected(rm)) {
        t->current = RTC_DIR_INACTIVE;
        t->stopped = true;
        return;
    }
    const rtc_sdp_codec *c = pick_codec(am, t->kind, -1);   /* the answer's first: what both use */
    if (!c) { t->current = RTC_DIR_INACTIVE; return; }
    /* Every negotiation decides again (a renegotiation may change the codec, its
     * payload types or the extension ids): streams set up for other values restart. */
    pc_tr before = *t;
    t->codec = supported_codec(c, t->kind);
    t->pt = (uint8_t)c->pt;
    t->clock_rate = c->clock_rate;
    snprintf(t->fmtp, sizeof t->fmtp, "%s", c->fmtp ? c->fmtp : "");
    /* Receive preferences (Opus usedtx, useinbandfec, stereo) are the peer's to state. */
    const rtc_sdp_codec *rc = rtc_sdp_media_codec(rm, c->pt);
    snprintf(t->remote_fmtp, sizeof t->remote_fmtp, "%s", rc && rc->fmtp ? rc->fmtp : "");
    const rtc_sdp_codec *x = rtc_sdp_media_rtx_for(am, c->pt);
    t->rtx_pt = x ? (uint8_t)x->pt : 0;
    const rtc_sdp_codec *red = t->kind == RTC_MEDIA_AUDIO ? red_for(am, c->pt) : NULL;
    t->red_pt = red ? (uint8_t)red->pt : 0;
    t->red_send = red && (t->red_mode == RTC_RED_ON || (t->red_mode == RTC_RED_AUTO && red_listed_first(rm, red->pt, c->pt)));
    t->ulpfec_pt = 0;
    if (t->kind == RTC_MEDIA_VIDEO && t->fec_mode == RTC_FEC_ULPFEC) {
        const rtc_sdp_codec *vred = video_codec_named(am, "red"), *ulp = video_codec_named(am, "ulpfec");
        if (vred && ulp && vred->pt != c->pt && ulp->pt != c->pt && vred->pt != ulp->pt) {
            t->red_pt = (uint8_t)vred->pt;
            t->ulpfec_pt = (uint8_t)ulp->pt;
            t->red_send = true;
        }
    }
    t->fb_nack = rtc_sdp_codec_has_fb(c, am, "nack");
    t->fb_pli = rtc_sdp_codec_has_fb(c, am, "nack pli");
    t->fb_fir = rtc_sdp_codec_has_fb(c, am, "ccm fir");
    t->fb_twcc = rtc_sdp_codec_has_fb(c, am, "transport-cc");
    t->fb_remb = rtc_sdp_codec_has_fb(c, am, "goog-remb");
    t->rtcp_rsize = am->rtcp_rsize;
    t->mid_id = ext_id(am, RTC_EXT_URI_MID);
    t->rid_id = ext_id(am, RTC_EXT_URI_RID);
    t->rrid_id = ext_id(am, RTC_EXT_URI_RRID);
    t->abs_id = ext_id(am, RTC_EXT_URI_ABS_SEND_TIME);
    t->twcc_id = ext_id(am, RTC_EXT_URI_TWCC);
    t->level_id = ext_id(am, RTC_EXT_URI_AUDIO_LEVEL);
    t->cvo_id = t->kind == RTC_MEDIA_VIDEO && pc->media->video_orientation ? ext_id(am, RTC_EXT_URI_VIDEO_ORIENTATION) : 0;
    bool changed = t->negotiated &&
        (before.codec != t->codec || before.pt != t->pt || before.rtx_pt != t->rtx_pt || before.red_pt != t->red_pt || before.ulpfec_pt != t->ulpfec_pt ||
         before.red_send != t->red_send ||
         before.clock_rate != t->clock_rate || before.mid_id != t->mid_id || before.abs_id != t->abs_id ||
         before.twcc_id != t->twcc_id || before.fb_twcc != t->fb_twcc || before.fb_nack != t->fb_nack ||
         before.fb_pli != t->fb_pli || before.fb_fir != t->fb_fir || before.rtcp_rsize != t->rtcp_rsize);
    bool sim_before = t->sim_send;
    t->sim_send = t->send_rid[0] && t->rid_id && lm->simulcast.present && lm->simulcast.nsend > 0 &&
                  rm->simulcast.present && rm->simulcast.nrecv > 0;
    changed = changed || (t->negotiated && sim_before != t->sim_send);
    t->negotiated = true;
    if (changed) pc__media_reset_streams(pc, t, true, true);
    int nsim_before = t->nsim;
    uint32_t sim0_before = t->sim_ssrc[0];
    remote_simulcast(t, rm);
    /* Other SIM layers than the streams were started for: start them again. */
    if (t->nlayers && (t->nsim != nsim_before || (t->nsim && t->sim_ssrc[0] != sim0_before)))
        pc__media_reset_streams(pc, t, false, true);
    uint32_t ms, xs;
    remote_ssrcs(rm, &ms, &xs);
    if (t->nsim) { ms = t->sim_ssrc[0]; xs = t->sim_rtx_ssrc[0]; }
    /* The peer signals another SSRC for the section (its sender restarted): receive
     * that one from now on. */
    if (ms && (ms != t->remote_ssrc || xs != t->remote_rtx_ssrc)) {
        if (t->remote_ssrc && t->nlayers) pc__media_reset_streams(pc, t, false, true);
        t->remote_ssrc = ms;
        t->remote_rtx_ssrc = xs;
    }
    t->current = from_sdp_dir(rtc_sdp_media_direction(pc->local, lm));
    if (pc__dir_sends(t->current)) t->has_sent = true;
    if (pc__dir_sends(from_sdp_dir(rtc_sdp_media_direction(pc->remote, rm)))) pc__media_emit_track(pc, t);
}

void pc__media_apply(rtc_pc *pc)
{
    pc_media *md = pc->media;
    if (!md || !pc->local || !pc->remote) return;
    /* A transceiver stopped before it had a section has nothing to reject: the
     * negotiation that completes now completes its stop as well (W3C removes it from
     * the connection's set here, as it does one whose section is rejected below). */
    for (int i = 0; i < md->ntrs; i++) {
        pc_tr *t = md->trs[i];
        if (t->stopping && !t->stopped && !t->removed && !t->mid[0]) { t->stopped = true; t->current = RTC_DIR_INACTIVE; }
    }
    for (int i = 0; i < pc->nmsecs; i++) {
        const pc_msec *pm = &pc->msecs[i];
        if (pm->kind != RTC_SDP_AUDIO && pm->kind != RTC_SDP_VIDEO) continue;
        if ((size_t)i >= pc->local->nmedia || (size_t)i >= pc->remote->nmedia) continue;
        pc_tr *t = pc__media_tr_by_mid(pc, pm->mid);
        if (!t) continue;
        negotiate(pc, t, i);
        pc__media_start_streams(pc, t);
    }
}
