/* JSEP (RFC 8829) for the peer connection: offers and answers as SDP text, the
 * signaling state machine, and turning descriptions into transport parameters
 * (ICE credentials and candidates, DTLS role and fingerprint, SCTP port and
 * max-message-size). BUNDLE is always max-bundle: one transport for every section. */
#include "pc/pc_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TAG "jsep"

void pc__jsep_free(rtc_pc *pc)
{
    rtc_sdp_free(pc->local);
    rtc_sdp_free(pc->remote);
    rtc_sdp_free(pc->prev_local);
    rtc_sdp_free(pc->prev_remote);
    free(pc->last_created);
    pc__saved_forget(pc);
    pc__msecs_free(pc->msecs, pc->nmsecs);
    pc->nmsecs = 0;
    free(pc->msecs);
    pc->msecs = NULL;
    pc->capmsecs = 0;
}

static pc_msec *msec_add(rtc_pc *pc, rtc_sdp_kind kind, const char *mid)
{
    if (pc->nmsecs == PC_MAX_MSECS) return NULL;
    if (pc->nmsecs == pc->capmsecs) {
        /* Most sessions have one to three sections: grow from 2. */
        int ncap = pc->capmsecs ? pc->capmsecs * 2 : 2;
        if (ncap > PC_MAX_MSECS) ncap = PC_MAX_MSECS;
        pc_msec *nv = realloc(pc->msecs, (size_t)ncap * sizeof *nv);
        if (!nv) return NULL;
        pc->msecs = nv;
        pc->capmsecs = ncap;
    }
    pc_msec *m = &pc->msecs[pc->nmsecs++];
    memset(m, 0, sizeof *m);
    m->kind = kind;
    m->pt = -1;
    snprintf(m->mid, sizeof m->mid, "%s", mid);
    return m;
}

static int find_msec(const rtc_pc *pc, const char *mid)
{
    for (int i = 0; i < pc->nmsecs; i++)
        if (strcmp(pc->msecs[i].mid, mid) == 0) return i;
    return -1;
}

static void next_mid(rtc_pc *pc, char *buf, size_t size)
{
    do snprintf(buf, size, "%d", pc->next_mid++); while (find_msec(pc, buf) >= 0);
}

pc_msec *pc__msec_add(rtc_pc *pc, rtc_sdp_kind kind, const char *mid) { return msec_add(pc, kind, mid); }
void pc__next_mid(rtc_pc *pc, char *buf, size_t size) { next_mid(pc, buf, size); }

/* ---- negotiationneeded (W3C 4.7.3) ------------------------------------------------------ */

/* Whether the current local description has a data section (rejected or not: a peer
 * that declined data is not asked again and again). */
static bool data_negotiated(const rtc_pc *pc)
{
    return pc->data_msec >= 0 && pc->local && (size_t)pc->data_msec < pc->local->nmedia &&
           pc->local->media[pc->data_msec]->kind == RTC_SDP_APPLICATION;
}

static void update_nn(rtc_pc *pc, bool back_to_stable)
{
    if (pc->closed || pc->sig != RTC_SIG_STABLE) return;   /* checked again once stable */
    bool needed = pc->restart_pending || (pc->nchans > 0 && !data_negotiated(pc)) || pc__media_needs_negotiation(pc);
    if (!needed) { pc->negotiation_needed = false; return; }
    /* Announced already; but a need still there after a negotiation that did not
     * cover it (it came up meanwhile, or we only answered) is announced again. */
    if (pc->negotiation_needed && !back_to_stable) return;
    pc->negotiation_needed = true;
    rtc_pc_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = RTC_PC_EV_NEGOTIATION_NEEDED;
    pc__emit(pc, &ev);
}

void pc__update_negotiation_needed(rtc_pc *pc) { update_nn(pc, false); }

/* Until the first offer/answer completes, the side whose offer is applied controls ICE
 * (RFC 8445 6.1.1): an offer rolled back and the peer's applied turns the role over. */
static void set_ice_role(rtc_pc *pc, bool controlling)
{
    if (!pc->ice_role_set && pc->agent) rtc_ice_agent_set_controlling(pc->agent, controlling, pc->now);
}

/* ---- writing our descriptions -------------------------------------------------------- */

static rtc_sdp_setup our_setup(const rtc_pc *pc, bool offer, rtc_sdp_setup remote)
{
    if (offer) {
        if (pc->dtls) return pc->dtls_client ? RTC_SDP_SETUP_ACTIVE : RTC_SDP_SETUP_PASSIVE;
        return RTC_SDP_SETUP_ACTPASS;
    }
    /* Once DTLS runs, renegotiation keeps its roles (RFC 8842 5.5). */
    if (pc->dtls) return pc->dtls_client ? RTC_SDP_SETUP_ACTIVE : RTC_SDP_SETUP_PASSIVE;
    if (remote == RTC_SDP_SETUP_ACTIVE) return RTC_SDP_SETUP_PASSIVE;
    return RTC_SDP_SETUP_ACTIVE;   /* actpass or passive: we take the client role, like browsers */
}

static int add_transport_attrs(rtc_pc *pc, rtc_sdp *s, rtc_sdp_media *m, rtc_sdp_setup setup)
{
    int r = rtc_sdp_set_ice(s, m, pc->ufrag, pc->pwd, pc->cfg.ice_lite ? NULL : "trickle");
    if (r < 0) return r;
    r = rtc_sdp_add_fingerprint(s, m, "sha-256", rtc_dtls_cert_fingerprint(pc->cert));
    if (r < 0) return r;
    m->dtls.setup = setup;
    return 0;
}

int pc__add_transport_attrs(rtc_pc *pc, rtc_sdp *s, rtc_sdp_media *m, rtc_sdp_setup setup)
{
    return add_transport_attrs(pc, s, m, setup);
}

static int add_data_section(rtc_pc *pc, rtc_sdp *s, const char *mid, const char *proto, rtc_sdp_setup setup,
                            const rtc_sdp_media *remote)
{
    rtc_sdp_media *m;
    int r = rtc_sdp_add_media(s, RTC_SDP_APPLICATION, proto, &m);
    if (r < 0) return r;
    if ((r = rtc_sdp_media_set_mid(s, m, mid)) < 0) return r;
    if ((r = add_transport_attrs(pc, s, m, setup)) < 0) return r;
    size_t mms = pc->cfg.max_message_size ? pc->cfg.max_message_size : RTC_SCTP_DEFAULT_MAX_MESSAGE;
    if (remote && remote->sctpmap.present && m->nfmts > 0) {
        /* The pre-RFC 8841 form answers in kind: m=application 9 DTLS/SCTP 5000 + sctpmap. */
        m->fmts[0] = RTC_SDP_STR(s, "5000");
        m->sctpmap.present = true;
        m->sctpmap.port = RTC_SCTP_DEFAULT_PORT;
        m->sctpmap.app = RTC_SDP_STR(s, "webrtc-datachannel");
        m->sctpmap.streams = 1024;
    } else {
        m->sctp_port = RTC_SCTP_DEFAULT_PORT;
    }
    m->max_message_size = (int64_t)mms;
    return 0;
}

static int add_rejected_section(rtc_sdp *s, const pc_msec *pm)
{
    rtc_sdp_media *m;
    const char *proto = pm->proto;
    size_t plen = proto ? strlen(proto) : 0;
    /* A proto that reads as both RTP (formats are payload types) and SCTP (the format
     * is webrtc-datachannel) cannot be mirrored into valid SDP: decline it as RTP. */
    if (proto && strstr(proto, "RTP/") && plen >= 4 && strcmp(proto + plen - 4, "SCTP") == 0)
        proto = "UDP/TLS/RTP/SAVPF";
    int r = rtc_sdp_add_media(s, pm->kind, proto, &m);
    if (r < 0) return r;
    m->port = 0;
    if (pm->media) m->media = RTC_SDP_STR(s, pm->media);
    if (m->nfmts == 0) {
        /* A rejected section keeps one format of the offer so the m= line stays valid. */
        if (pm->pt >= 0 && pm->codec[0])
            r = rtc_sdp_media_add_codec(s, m, pm->pt, pm->codec, pm->clock_rate, pm->channels, NULL, NULL, NULL);
        else if (pm->kind == RTC_SDP_VIDEO)
            r = rtc_sdp_media_add_codec(s, m, 96, "VP8", 90000, 0, NULL, NULL, NULL);
        else
            r = rtc_sdp_media_add_codec(s, m, 0, "PCMU", 8000, 0, NULL, NULL, NULL);
        if (r < 0) return r;
    }
    m->direction = RTC_SDP_INACTIVE;
    return rtc_sdp_media_set_mid(s, m, pm->mid);
}

static int new_session(rtc_pc *pc, rtc_sdp **out)
{
    rtc_sdp *s;
    int r = rtc_sdp_new(&s);
    if (r < 0) return r;
    rtc_sdp_set_origin(s, "-", pc->sess_id, pc->sess_version++);
    s->msid_semantic = RTC_SDP_STR(s, "WMS");
    s->ice_lite = pc->cfg.ice_lite;
    *out = s;
    return 0;
}

static int finish_text(rtc_pc *pc, rtc_sdp *s, rtc_pc_sdp_type type, char **out)
{
    char *text;
    int r = rtc_sdp_write(s, &text, NULL);
    rtc_sdp_free(s);
    if (r < 0) return pc__fail(pc, r, "cannot write the description");
    free(pc->last_created);
    pc->last_created = strdup(text);
    pc->last_created_type = type;
    *out = text;
    return 0;
}

static void new_credentials(rtc_pc *pc)
{
    rtc_rng_ice_chars(pc->cfg.rng, pc->ufrag, 8);
    rtc_rng_ice_chars(pc->cfg.rng, pc->pwd, 24);
}

int rtc_pc_create_offer(rtc_pc *pc, bool ice_restart, char **out, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (pc->sig != RTC_SIG_STABLE && pc->sig != RTC_SIG_HAVE_LOCAL_OFFER)
        return pc__fail(pc, RTC_ESTATE, "cannot create an offer in state %s", rtc_pc_signaling_state_name(pc->sig));
    /* The sections and mids this offer adds are undone if it is never applied, or
     * applied and rolled back. */
    if (pc->sig == RTC_SIG_STABLE) pc__saved_take(pc);
    if ((ice_restart || pc->restart_pending) && pc->agent && !pc->restart_pending) {
        new_credentials(pc);
        pc->restart_pending = true;
    }
    /* Sections: what was negotiated, then new transceivers, then a data section once a
     * channel exists. */
    pc__media_new_offer_sections(pc);
    if (pc->data_msec < 0 && pc->nchans > 0) {
        char mid[32];
        next_mid(pc, mid, sizeof mid);
        pc_msec *m = msec_add(pc, RTC_SDP_APPLICATION, mid);
        if (!m) return pc__fail(pc, RTC_EQUOTA, "too many media sections");
        pc->data_msec = pc->nmsecs - 1;
    }
    rtc_sdp *s;
    int r = new_session(pc, &s);
    if (r < 0) return pc__fail(pc, r, "out of memory");
    rtc_sdp_setup setup = our_setup(pc, true, RTC_SDP_SETUP_UNSET);
    for (int i = 0; i < pc->nmsecs && r >= 0; i++) {
        const pc_msec *pm = &pc->msecs[i];
        bool stopped = pm->rejected || pc__media_section_stopped(pc, i);
        if (stopped) r = add_rejected_section(s, pm);
        else if (pm->kind == RTC_SDP_APPLICATION) r = add_data_section(pc, s, pm->mid, pm->proto, setup, NULL);
        else r = pc__media_write_section(pc, s, i, NULL, setup);
        if (r >= 0 && !stopped) r = rtc_sdp_group_add_mid(s, "BUNDLE", pm->mid);
    }
    if (r < 0) { rtc_sdp_free(s); return pc__fail(pc, r, "cannot build the offer"); }
    return finish_text(pc, s, RTC_SDP_OFFER, out);
}

int rtc_pc_create_answer(rtc_pc *pc, char **out, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (pc->sig != RTC_SIG_HAVE_REMOTE_OFFER && pc->sig != RTC_SIG_HAVE_LOCAL_PRANSWER)
        return pc__fail(pc, RTC_ESTATE, "cannot create an answer in state %s", rtc_pc_signaling_state_name(pc->sig));
    rtc_sdp *s;
    int r = new_session(pc, &s);
    if (r < 0) return pc__fail(pc, r, "out of memory");
    const rtc_sdp *remote = pc->remote;
    bool bundle = rtc_sdp_find_group(remote, "BUNDLE") != NULL;
    for (int i = 0; i < pc->nmsecs && r >= 0; i++) {
        const pc_msec *pm = &pc->msecs[i];
        const rtc_sdp_media *rm = remote->media[i];
        bool media = pm->kind == RTC_SDP_AUDIO || pm->kind == RTC_SDP_VIDEO;
        /* JSEP 5.3.1: a section the offer stops (port 0) is rejected in the answer */
        if (pm->rejected || pc__media_section_stopped(pc, i) || (media && rtc_sdp_media_rejected(rm))) {
            r = add_rejected_section(s, pm);
            continue;
        }
        rtc_sdp_setup setup = our_setup(pc, false, rtc_sdp_media_setup(remote, rm));
        if (media) r = pc__media_write_section(pc, s, i, rm, setup);
        else r = add_data_section(pc, s, pm->mid, rm->proto, setup, rm);
        if (r >= 0 && bundle) r = rtc_sdp_group_add_mid(s, "BUNDLE", pm->mid);
    }
    if (r < 0) { rtc_sdp_free(s); return pc__fail(pc, r, "cannot build the answer"); }
    return finish_text(pc, s, RTC_SDP_ANSWER, out);
}

/* ---- applying descriptions --------------------------------------------------------------- */

static int parse_desc(rtc_pc *pc, const char *sdp, rtc_sdp **out)
{
    rtc_sdp_error err;
    memset(&err, 0, sizeof err);
    int r = rtc_sdp_parse(out, sdp, strlen(sdp), &err);
    /* W3C: SDP that does not parse is an RTCError (sdp-syntax-error), whose name is
     * OperationError; SDP that parses but cannot be applied is an InvalidAccessError. */
    if (r < 0) return pc__fail(pc, RTC_EOPERATION, "%s", err.msg[0] ? err.msg : rtc_strerror(r));
    return 0;
}

static bool is_data_section(const rtc_sdp_media *m)
{
    return m->kind == RTC_SDP_APPLICATION && m->proto && strstr(m->proto, "DTLS/SCTP") != NULL;
}

/* Remote transport parameters from the BUNDLE tag section (or the session level). */
typedef struct remote_params {
    const char *ufrag, *pwd, *fp_algo;
    const char *fps[RTC_DTLS_MAX_REMOTE_FPS];   /* every value of the strongest hash */
    int nfps;
    rtc_sdp_setup setup;
    int tag;
} remote_params;

/* Every a=fingerprint that applies to an accepted section (its own, or the session's
 * when it has none: RFC 8122 section 5) with the strongest hash we can compute; other
 * hashes are ignored, whatever their order. Pointers into `s`. */
static int pick_fingerprints(rtc_pc *pc, const rtc_sdp *s, remote_params *rp)
{
    int best = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < s->nmedia; i++) {
            const rtc_sdp_media *m = s->media[i];
            if (m->port == 0 && !m->bundle_only) continue;
            const rtc_sdp_dtls *d = rtc_sdp_media_dtls(s, m);
            for (size_t k = 0; d && k < d->nfingerprints; k++) {
                const rtc_sdp_fingerprint *f = &d->fingerprints[k];
                int st = rtc_dtls_fingerprint_strength(f->algorithm);
                if (pass == 0) { if (st > best) { best = st; rp->fp_algo = f->algorithm; } continue; }
                if (st != best || !f->value) continue;
                bool seen = false;
                for (int j = 0; j < rp->nfps; j++) if (rtc_dtls_fingerprint_equal(rp->fps[j], f->value)) seen = true;
                if (seen) continue;
                if (rp->nfps == RTC_DTLS_MAX_REMOTE_FPS)
                    return pc__fail(pc, RTC_EACCESS, "more than %d a=fingerprint values", RTC_DTLS_MAX_REMOTE_FPS);
                if (strlen(f->value) >= RTC_DTLS_FINGERPRINT_MAX) return pc__fail(pc, RTC_EACCESS, "invalid a=fingerprint");
                rp->fps[rp->nfps++] = f->value;
            }
        }
    if (best == 0) return pc__fail(pc, RTC_EACCESS, "no a=fingerprint with a supported hash (sha-1, sha-224, sha-256, sha-384, sha-512)");
    return 0;
}

static int check_remote(rtc_pc *pc, const rtc_sdp *s, remote_params *rp)
{
    memset(rp, 0, sizeof *rp);
    rp->tag = -1;
    for (size_t i = 0; i < s->nmedia; i++)
        if (s->media[i]->port != 0 || s->media[i]->bundle_only) { rp->tag = (int)i; break; }
    if (rp->tag < 0) return 0;   /* nothing accepted: no transport needed */
    const rtc_sdp_media *m = s->media[rp->tag];
    if (!m->mid) return pc__fail(pc, RTC_EACCESS, "media section %d has no a=mid", rp->tag);
    const rtc_sdp_ice *ice = rtc_sdp_media_ice(s, m);
    if (!ice || !ice->ufrag || !ice->pwd) return pc__fail(pc, RTC_EACCESS, "missing a=ice-ufrag/a=ice-pwd");
    const rtc_sdp_dtls *dtls = rtc_sdp_media_dtls(s, m);
    if (!dtls || dtls->nfingerprints == 0) return pc__fail(pc, RTC_EACCESS, "missing a=fingerprint");
    rp->ufrag = ice->ufrag;
    rp->pwd = ice->pwd;
    int r = pick_fingerprints(pc, s, rp);
    if (r < 0) return r;
    /* The DTLS connection is never redone: once up, a description must still name the
     * certificate in use (a changed one would be believed by stats, not by DTLS). */
    if (pc->dtls && pc->dtls_connected &&
        rtc_dtls_transport_peer_matches(pc->dtls, rp->fp_algo, rp->fps, rp->nfps) != 1)
        return pc__fail(pc, RTC_EMODIFIED, "the remote a=fingerprint changed after DTLS connected");
    rp->setup = rtc_sdp_media_setup(s, m);
    return 0;
}

/* The chosen fingerprints outlive the parsed description they point into. */
static void keep_fingerprints(rtc_pc *pc, const remote_params *rp)
{
    char (*v)[RTC_DTLS_FINGERPRINT_MAX] = malloc((size_t)rp->nfps * sizeof *v);
    if (!v) return;                  /* the old ones stay: DTLS then checks against those */
    for (int i = 0; i < rp->nfps; i++) snprintf(v[i], sizeof v[i], "%s", rp->fps[i]);
    free(pc->rfps);
    pc->rfps = v;
    pc->nrfps = rp->nfps;
    snprintf(pc->rfp_algo, sizeof pc->rfp_algo, "%s", rp->fp_algo);
    snprintf(pc->rfp, sizeof pc->rfp, "%s", v[0]);
}

/* What the section table and the transceivers can hold, checked before anything is
 * applied: every section has a mid that fits and no other section has, and no two
 * extmaps of a section share an id (RFC 8285 5). */
static int duplicate_extmap(const rtc_sdp_extmap *v, size_t n)
{
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < a; b++)
            if (v[a].id == v[b].id) return (int)v[a].id;
    return -1;
}

static int check_sections(rtc_pc *pc, const rtc_sdp *s)
{
    int dup = duplicate_extmap(s->extmaps, s->nextmaps);
    if (dup >= 0) return pc__fail(pc, RTC_EACCESS, "session level: extmap id %d is used twice", dup);
    if (s->nmedia > PC_MAX_MSECS)
        return pc__fail(pc, RTC_EACCESS, "%zu media sections, at most %d are supported", s->nmedia, PC_MAX_MSECS);
    for (size_t i = 0; i < s->nmedia; i++) {
        const rtc_sdp_media *m = s->media[i];
        if (!m->mid) return pc__fail(pc, RTC_EACCESS, "media section %zu has no a=mid", i);
        if (!m->mid[0] || strlen(m->mid) >= sizeof pc->msecs[0].mid)
            return pc__fail(pc, RTC_EACCESS, "media section %zu: a=mid must have 1 to %zu characters", i,
                            sizeof pc->msecs[0].mid - 1);
        for (size_t k = 0; k < i; k++)
            if (strcmp(s->media[k]->mid, m->mid) == 0)
                return pc__fail(pc, RTC_EACCESS, "media sections %zu and %zu have the same mid %s", k, i, m->mid);
        if ((dup = duplicate_extmap(m->extmaps, m->nextmaps)) >= 0)
            return pc__fail(pc, RTC_EACCESS, "media section %zu: extmap id %d is used twice", i, dup);
    }
    return 0;
}

static void add_remote_candidates(rtc_pc *pc, const rtc_sdp *s)
{
    for (size_t i = 0; i < s->nmedia; i++) {
        const rtc_sdp_media *m = s->media[i];
        for (size_t k = 0; k < m->ncandidates; k++) {
            rtc_ice_candidate c;
            if (rtc_ice_candidate_parse(&c, m->candidates[k], strlen(m->candidates[k])) < 0) continue;
            pc__cand_keep(&pc->rcands, &pc->nrcands, &pc->caprcands, &c);
            if (pc->agent) rtc_ice_agent_add_remote_candidate(pc->agent, &c, pc->now);
        }
        if (m->end_of_candidates && pc->agent) rtc_ice_agent_end_of_candidates(pc->agent, pc->now);
    }
}

/* The agent restarts with our answer: give it the offer's candidates and those the
 * peer trickled since the offer (kept, not given to the agent of the generation
 * before). A candidate both in the offer and trickled is kept once. */
static void readd_remote_candidates(rtc_pc *pc)
{
    pc_cand *trickled = pc->rcands;
    int ntrickled = pc->nrcands;
    pc->rcands = NULL;
    pc->nrcands = pc->caprcands = 0;
    add_remote_candidates(pc, pc->remote);
    for (int i = 0; i < ntrickled; i++) {
        bool dup = false;
        for (int k = 0; k < pc->nrcands && !dup; k++) dup = strcmp(pc->rcands[k].line, trickled[i].line) == 0;
        rtc_ice_candidate c;
        if (dup || rtc_ice_candidate_parse(&c, trickled[i].line, strlen(trickled[i].line)) < 0) continue;
        if (pc__cand_keep(&pc->rcands, &pc->nrcands, &pc->caprcands, &c) < 0) continue;
        if (pc->agent) rtc_ice_agent_add_remote_candidate(pc->agent, &c, pc->now);
    }
    pc__cands_clear(trickled, &ntrickled);
    free(trickled);
}

/* The ICE ufrag of the current remote description (of its first section in use), or
 * NULL. Differs from the agent's while a restarting remote offer waits for our answer. */
static const char *remote_desc_ufrag(const rtc_pc *pc)
{
    if (!pc->remote) return NULL;
    for (size_t i = 0; i < pc->remote->nmedia; i++) {
        const rtc_sdp_media *m = pc->remote->media[i];
        if (m->port == 0 && !m->bundle_only) continue;
        const rtc_sdp_ice *ice = rtc_sdp_media_ice(pc->remote, m);
        return ice ? ice->ufrag : NULL;
    }
    return NULL;
}

static void set_remote_ice(rtc_pc *pc, const remote_params *rp)
{
    char *uf = strdup(rp->ufrag), *pw = strdup(rp->pwd ? rp->pwd : "");
    if (!uf || !pw) { free(uf); free(pw); return; }
    free(pc->remote_ufrag);
    free(pc->remote_pwd);
    pc->remote_ufrag = uf;
    pc->remote_pwd = pw;
    rtc_ice_agent_set_remote_credentials(pc->agent, rtc_str_c(pc->remote_ufrag), rtc_str_c(pc->remote_pwd), pc->now);
}

static void take_sctp_params(rtc_pc *pc, const rtc_sdp_media *m)
{
    pc->want_sctp = true;
    pc->remote_sctp_port = m->sctp_port > 0 ? (uint16_t)m->sctp_port
                         : m->sctpmap.present ? m->sctpmap.port : RTC_SCTP_DEFAULT_PORT;
    /* RFC 8841 6.1: no attribute means 64 KiB; 0 means no limit. */
    pc->remote_mms = m->max_message_size < 0 ? 65536 : (size_t)m->max_message_size;
}

/* The current descriptions live as long as the connection: remake them without the
 * unused room of their parse (about half a block each for a data-only session). Done
 * last in set_*_description, as the code before holds pointers into the new model. */
static void compact_descriptions(rtc_pc *pc)
{
    if (pc->local) rtc_sdp_compact(&pc->local);
    if (pc->remote) rtc_sdp_compact(&pc->remote);
}

static void replace(rtc_sdp **slot, rtc_sdp **prev, rtc_sdp *now_)
{
    rtc_sdp_free(*prev);
    *prev = *slot;
    *slot = now_;
}

/* Back to the state before our pending offer (or pranswer). update: check
 * negotiationneeded once stable (not for an implicit rollback: a remote offer follows
 * at once and the check waits for the next return to stable). */
static void rollback_local(rtc_pc *pc, bool update)
{
    rtc_sdp_free(pc->local);
    pc->local = pc->prev_local;
    pc->prev_local = NULL;
    bool to_stable = pc->sig == RTC_SIG_HAVE_LOCAL_OFFER;
    if (to_stable) pc__saved_restore(pc, false);
    /* Without the saved state (out of memory), forget at least the added sections. */
    int keep = pc->local ? (int)pc->local->nmedia : 0;
    if (pc->remote && (int)pc->remote->nmedia > keep) keep = (int)pc->remote->nmedia;
    if (to_stable && pc->nmsecs > keep) {
        pc__msecs_free(pc->msecs + keep, pc->nmsecs - keep);
        if (pc->data_msec >= keep) pc->data_msec = -1;
        pc->nmsecs = keep;
    }
    pc__set_signaling(pc, to_stable ? RTC_SIG_STABLE : RTC_SIG_HAVE_REMOTE_OFFER);
    if (update) update_nn(pc, to_stable);
}

int rtc_pc_set_remote_description(rtc_pc *pc, rtc_pc_sdp_type type, const char *sdp, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (type == RTC_SDP_ROLLBACK) {
        if (pc->sig != RTC_SIG_HAVE_REMOTE_OFFER && pc->sig != RTC_SIG_HAVE_REMOTE_PRANSWER)
            return pc__fail(pc, RTC_ESTATE, "nothing to roll back in state %s", rtc_pc_signaling_state_name(pc->sig));
        rtc_sdp_free(pc->remote);
        pc->remote = pc->prev_remote;
        pc->prev_remote = NULL;
        bool to_stable = pc->sig == RTC_SIG_HAVE_REMOTE_OFFER;
        if (to_stable) pc__saved_restore(pc, true);
        pc__set_signaling(pc, to_stable ? RTC_SIG_STABLE : RTC_SIG_HAVE_LOCAL_OFFER);
        update_nn(pc, to_stable);
        pc__pump(pc);
        return 0;
    }
    bool offer = type == RTC_SDP_OFFER;
    if (offer && pc->sig == RTC_SIG_HAVE_LOCAL_OFFER) {
        /* W3C perfect negotiation: a remote offer over our own rolls ours back first
         * (the polite peer's case). An offer that cannot be applied leaves ours. */
        if (!sdp || !*sdp) return pc__fail(pc, RTC_EOPERATION, "empty description");
        rtc_sdp *probe;
        remote_params prp;
        int r = parse_desc(pc, sdp, &probe);
        if (r < 0) return r;
        if ((r = check_remote(pc, probe, &prp)) == 0) r = check_sections(pc, probe);
        rtc_sdp_free(probe);
        if (r < 0) return r;
        rollback_local(pc, false);
    }
    if (offer && pc->sig != RTC_SIG_STABLE && pc->sig != RTC_SIG_HAVE_REMOTE_OFFER)
        return pc__fail(pc, RTC_ESTATE, "cannot set a remote offer in state %s", rtc_pc_signaling_state_name(pc->sig));
    /* An offer created but never applied added sections nobody negotiated. */
    if (offer && pc->sig == RTC_SIG_STABLE && pc->saved.valid) pc__saved_restore(pc, false);
    if (!offer && pc->sig != RTC_SIG_HAVE_LOCAL_OFFER && pc->sig != RTC_SIG_HAVE_REMOTE_PRANSWER)
        return pc__fail(pc, RTC_ESTATE, "cannot set a remote %s in state %s", rtc_pc_sdp_type_name(type),
                        rtc_pc_signaling_state_name(pc->sig));
    if (!sdp || !*sdp) return pc__fail(pc, RTC_EOPERATION, "empty description");
    rtc_sdp *s;
    int r = parse_desc(pc, sdp, &s);
    if (r < 0) return r;
    remote_params rp;
    if ((r = check_remote(pc, s, &rp)) < 0) { rtc_sdp_free(s); return r; }
    if (!offer && s->nmedia != (size_t)pc->nmsecs) {
        size_t n = s->nmedia;
        rtc_sdp_free(s);
        return pc__fail(pc, RTC_EACCESS, "the answer has %zu media sections, the offer had %d", n, pc->nmsecs);
    }
    if (offer && pc->nmsecs > 0 && s->nmedia < (size_t)pc->nmsecs) {
        rtc_sdp_free(s);
        return pc__fail(pc, RTC_EACCESS, "a new offer must keep the %d existing media sections", pc->nmsecs);
    }
    if ((r = check_sections(pc, s)) < 0) { rtc_sdp_free(s); return r; }
    for (size_t i = 0; offer && i < s->nmedia && i < (size_t)pc->nmsecs; i++) {
        /* JSEP 5.2.2 / RFC 8843 7.2: a mid names its section for good; only a section
         * rejected in the current descriptions may come back under a new one. */
        const rtc_sdp_media *m = s->media[i];
        if (strcmp(m->mid, pc->msecs[i].mid) == 0 || pc__media_msec_recyclable(pc, (int)i)) continue;
        if ((int)i == pc->data_msec && pc->msecs[i].rejected) continue;
        pc__fail(pc, RTC_EACCESS, "media section %zu has mid %.32s, it was %s", i, m->mid, pc->msecs[i].mid);
        rtc_sdp_free(s);
        return RTC_EACCESS;
    }
    for (size_t i = 0; i < s->nmedia; i++) {
        if (!offer && strcmp(s->media[i]->mid, pc->msecs[i].mid) != 0) {
            pc__fail(pc, RTC_EACCESS, "media section %zu has mid %.32s, the offer said %s", i, s->media[i]->mid,
                     pc->msecs[i].mid);
            rtc_sdp_free(s);
            return RTC_EACCESS;
        }
    }
    /* Accepted: from here nothing fails. */
    if (offer && pc->sig == RTC_SIG_STABLE) pc__saved_take(pc);
    if (offer) pc__saved_take_remote(pc);
    pc->remote_lite = s->ice_lite;
    if (offer) {
        for (size_t i = 0; i < s->nmedia; i++) {
            const rtc_sdp_media *m = s->media[i];
            pc_msec *pm = (i < (size_t)pc->nmsecs) ? &pc->msecs[i] : msec_add(pc, m->kind, m->mid);
            if (!pm) break;
            /* Our own new mids never repeat one the session used (RFC 8843 7.2): a
             * recycled section gets a fresh one. */
            char *end;
            long num = strtol(m->mid, &end, 10);
            if (!*end && num >= pc->next_mid && num < 1000000) pc->next_mid = (int)num + 1;
            /* The peer recycled a rejected section (JSEP 5.3.1): it is new under its new mid. */
            if (strcmp(pm->mid, m->mid) != 0) {
                if ((int)i == pc->data_msec) pc->data_msec = -1;
                pc__media_recycle_msec(pc, (int)i, m->kind, m->mid);
            }
            free(pm->media); free(pm->proto); free(pm->fmt);
            pm->media = strdup(m->media ? m->media : "application");
            pm->proto = strdup(m->proto ? m->proto : "UDP/DTLS/SCTP");
            pm->fmt = m->nfmts ? strdup(m->fmts[0]) : NULL;
            pm->pt = -1;
            if (m->ncodecs && m->codecs[0]->name) {
                pm->pt = m->codecs[0]->pt;
                snprintf(pm->codec, sizeof pm->codec, "%s", m->codecs[0]->name);
                pm->clock_rate = m->codecs[0]->clock_rate ? m->codecs[0]->clock_rate : 90000;
                pm->channels = m->codecs[0]->channels;
            }
            pm->kind = m->kind;
            bool data = is_data_section(m) && m->port != 0 && (pc->data_msec < 0 || pc->data_msec == (int)i);
            bool media = !data && (m->kind == RTC_SDP_AUDIO || m->kind == RTC_SDP_VIDEO) &&
                         pc__media_accept_offer_section(pc, (int)i, s, m);
            pm->rejected = !data && !media;
            if (data) pc->data_msec = (int)i;
        }
        pc__ensure_agent(pc, s->ice_lite && !pc->cfg.ice_lite);
        set_ice_role(pc, s->ice_lite && !pc->cfg.ice_lite);
        if (pc->remote_ufrag && pc->remote_ufrag[0] && rp.ufrag && strcmp(pc->remote_ufrag, rp.ufrag) != 0) {
            new_credentials(pc);   /* the peer restarts ICE: so do we, on our answer */
            pc->restart_pending = true;
        }
    }
    if (offer && pc->restart_pending) {
        /* Credentials and candidates go to the agent when our answer restarts it. */
    } else if (rp.ufrag && pc->agent) {
        if (pc->restart_pending && !offer) {
            pc__restart_agent(pc);
            pc->restart_pending = false;
        }
        set_remote_ice(pc, &rp);
    }
    if (rp.nfps > 0) keep_fingerprints(pc, &rp);
    replace(&pc->remote, &pc->prev_remote, s);
    pc->remote_type = type;
    pc__cands_clear(pc->rcands, &pc->nrcands);
    if (!(offer && pc->restart_pending)) add_remote_candidates(pc, s);
    if (offer) {
        pc__set_signaling(pc, RTC_SIG_HAVE_REMOTE_OFFER);
    } else {
        if (pc->data_msec >= 0) {
            const rtc_sdp_media *dm = s->media[pc->data_msec];
            if (dm->port == 0 || !is_data_section(dm)) pc->msecs[pc->data_msec].rejected = true;
            else take_sctp_params(pc, dm);
        }
        if (!pc->dtls) pc->dtls_client = rp.setup != RTC_SDP_SETUP_ACTIVE;
        if (type == RTC_SDP_ANSWER) {
            pc__set_signaling(pc, RTC_SIG_STABLE);
            pc->ice_role_set = true;
            if (rp.tag >= 0) pc__apply_transport(pc);
            pc__media_apply(pc);
            update_nn(pc, true);
        } else {
            pc__set_signaling(pc, RTC_SIG_HAVE_REMOTE_PRANSWER);
        }
    }
    compact_descriptions(pc);
    pc__pump(pc);
    return 0;
}

int rtc_pc_set_local_description(rtc_pc *pc, rtc_pc_sdp_type type, const char *sdp, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (type == RTC_SDP_ROLLBACK) {
        if (pc->sig != RTC_SIG_HAVE_LOCAL_OFFER && pc->sig != RTC_SIG_HAVE_LOCAL_PRANSWER)
            return pc__fail(pc, RTC_ESTATE, "nothing to roll back in state %s", rtc_pc_signaling_state_name(pc->sig));
        rollback_local(pc, true);
        pc__pump(pc);
        return 0;
    }
    bool offer = type == RTC_SDP_OFFER;
    if (offer && pc->sig != RTC_SIG_STABLE && pc->sig != RTC_SIG_HAVE_LOCAL_OFFER)
        return pc__fail(pc, RTC_ESTATE, "cannot set a local offer in state %s", rtc_pc_signaling_state_name(pc->sig));
    if (!offer && pc->sig != RTC_SIG_HAVE_REMOTE_OFFER && pc->sig != RTC_SIG_HAVE_LOCAL_PRANSWER)
        return pc__fail(pc, RTC_ESTATE, "cannot set a local %s in state %s", rtc_pc_sdp_type_name(type),
                        rtc_pc_signaling_state_name(pc->sig));
    char *implicit = NULL;
    if (sdp && *sdp) {
        /* W3C: a description given must be the last offer (or answer) created, as it was. */
        bool want_offer = pc->last_created_type == RTC_SDP_OFFER;
        if (!pc->last_created || want_offer != offer || strcmp(sdp, pc->last_created) != 0)
            return pc__fail(pc, RTC_EMODIFIED, "the %s is not the last one create_%s made", rtc_pc_sdp_type_name(type),
                            offer ? "offer" : "answer");
    }
    if (!sdp || !*sdp) {
        /* setLocalDescription() without an argument creates what the state calls for. */
        int r = offer ? rtc_pc_create_offer(pc, false, &implicit, pc->now) : rtc_pc_create_answer(pc, &implicit, pc->now);
        if (r < 0) return r;
        sdp = implicit;
    }
    rtc_sdp *s;
    int r = parse_desc(pc, sdp, &s);
    free(implicit);
    if (r < 0) return r;
    if ((int)s->nmedia != pc->nmsecs) {
        rtc_sdp_free(s);
        return pc__fail(pc, RTC_EMODIFIED, "the description does not match the last one created");
    }
    if (pc__ensure_agent(pc, offer) < 0) { rtc_sdp_free(s); return RTC_EOPERATION; }
    if (offer) {
        if (pc->sig == RTC_SIG_STABLE) pc__saved_take(pc);
        set_ice_role(pc, true);
    }
    if (pc->restart_pending) {
        pc__restart_agent(pc);
        pc->restart_pending = false;
        /* The agent keeps its candidates across a restart: announce them again, under
         * the new credentials, and end-of-candidates once gathering is (still) done. */
        pc->announced = 0;
        pc->end_announced = false;
        pc->gathering = RTC_GATHER_NEW;
        if (!offer && pc->remote) {
            remote_params rp;
            if (check_remote(pc, pc->remote, &rp) == 0 && rp.ufrag) set_remote_ice(pc, &rp);
            readd_remote_candidates(pc);
        }
    }
    replace(&pc->local, &pc->prev_local, s);
    pc->local_type = type;
    /* W3C: signalingstatechange comes before icegatheringstatechange. */
    if (offer) {
        pc__set_signaling(pc, RTC_SIG_HAVE_LOCAL_OFFER);
        pc__start_gathering(pc);
    } else {
        const rtc_sdp_media *tag = NULL;
        for (size_t i = 0; i < s->nmedia; i++) if (s->media[i]->port != 0) { tag = s->media[i]; break; }
        if (tag && !pc->dtls) pc->dtls_client = rtc_sdp_media_setup(s, tag) == RTC_SDP_SETUP_ACTIVE;
        if (pc->data_msec >= 0 && !pc->msecs[pc->data_msec].rejected)
            take_sctp_params(pc, pc->remote->media[pc->data_msec]);
        if (type == RTC_SDP_ANSWER) {
            pc__set_signaling(pc, RTC_SIG_STABLE);
            pc->ice_role_set = true;
            pc__start_gathering(pc);
            if (tag) pc__apply_transport(pc);
            pc__media_apply(pc);
            update_nn(pc, true);
        } else {
            pc__set_signaling(pc, RTC_SIG_HAVE_LOCAL_PRANSWER);
            pc__start_gathering(pc);
        }
    }
    compact_descriptions(pc);
    pc__pump(pc);
    return 0;
}

/* ---- candidates and current descriptions ----------------------------------------------------- */

int rtc_pc_add_ice_candidate(rtc_pc *pc, const char *candidate, const char *mid, int mline_index, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (!pc->remote) return pc__fail(pc, RTC_ESTATE, "no remote description");
    int idx = mid ? find_msec(pc, mid) : mline_index;
    if (idx < 0 || idx >= pc->nmsecs) {
        if (mid) return pc__fail(pc, RTC_EOPERATION, "no media section with mid %s", mid);
        return pc__fail(pc, RTC_EOPERATION, "no media section at index %d", mline_index);
    }
    if (!candidate || !*candidate) {
        if (pc->agent) rtc_ice_agent_end_of_candidates(pc->agent, pc->now);
        pc__pump(pc);
        return 0;
    }
    rtc_ice_candidate c;
    if (rtc_ice_candidate_parse(&c, candidate, strlen(candidate)) < 0)
        return pc__fail(pc, RTC_EOPERATION, "invalid candidate: %.80s", candidate);
    /* Our answer restarts the agent (pc->restart_pending): until then the agent holds
     * the generation before, and the candidate, of the remote description's, waits. */
    bool deferred = pc->restart_pending && pc->sig == RTC_SIG_HAVE_REMOTE_OFFER;
    const char *ruf = remote_desc_ufrag(pc);
    if (!ruf) ruf = pc->remote_ufrag;
    if (c.ufrag[0] && ruf && ruf[0] && strcmp(c.ufrag, ruf) != 0) {
        /* A candidate of an older ICE generation: harmless, dropped (W3C 4.4.1.5). */
        return 0;
    }
    int kr = pc__cand_keep(&pc->rcands, &pc->nrcands, &pc->caprcands, &c);
    if (kr < 0) return kr;
    if (pc->agent && !deferred) {
        int r = rtc_ice_agent_add_remote_candidate(pc->agent, &c, pc->now);
        if (r < 0 && r != RTC_ENOTSUP && r != RTC_EEXISTS) rtc_debug(TAG, "remote candidate not used: %s", rtc_strerror(r));
    }
    pc__pump(pc);
    return 0;
}

static int describe(rtc_pc *pc, const rtc_sdp *d, bool local, char **out)
{
    rtc_sdp *s;
    int r = rtc_sdp_clone(&s, d);
    if (r < 0) return r;
    if (local) {
        rtc_sdp_media *tag = NULL;
        for (size_t i = 0; i < s->nmedia; i++) if (s->media[i]->port != 0) { tag = s->media[i]; break; }
        if (tag && pc->gathering != RTC_GATHER_NEW) {
            for (int i = 0; i < pc->nlcands; i++) rtc_sdp_media_add_candidate(s, tag, pc->lcands[i].line);
            if (pc->gathering == RTC_GATHER_COMPLETE) tag->end_of_candidates = true;
        }
    }
    r = rtc_sdp_write(s, out, NULL);
    rtc_sdp_free(s);
    return r;
}

int rtc_pc_local_description(rtc_pc *pc, rtc_pc_sdp_type *type, char **sdp)
{
    if (!pc->local) return RTC_ENOTFOUND;
    if (type) *type = pc->local_type;
    return describe(pc, pc->local, true, sdp);
}

int rtc_pc_remote_description(rtc_pc *pc, rtc_pc_sdp_type *type, char **sdp)
{
    if (!pc->remote) return RTC_ENOTFOUND;
    if (type) *type = pc->remote_type;
    return describe(pc, pc->remote, false, sdp);
}

int rtc_pc_restart_ice(rtc_pc *pc, rtc_time now)
{
    if (now > pc->now) pc->now = now;
    if (pc->closed) return pc__fail(pc, RTC_ESTATE, "the peer connection is closed");
    if (!pc->restart_pending && pc->agent) {
        new_credentials(pc);   /* a rolled-back offer keeps the restart asked for */
        pc->restart_pending = true;
    }
    pc__update_negotiation_needed(pc);
    return 0;
}
