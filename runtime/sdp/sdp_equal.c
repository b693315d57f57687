/* Deep equality of two descriptions: the round-trip property parse(write(x)) == x is
 * checked with it, and JSEP uses it to tell a changed remote description from a
 * repeated one. */
#include <string.h>
#include "sdp/sdp_internal.h"

static bool eqs(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool eq_strs(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!eqs(a[i], b[i]))
            return false;
    return true;
}

static bool eq_params(const rtc_sdp_param *a, size_t na, const rtc_sdp_param *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!eqs(a[i].key, b[i].key) || !eqs(a[i].value, b[i].value))
            return false;
    return true;
}

static bool eq_attrs(const rtc_sdp_attr *a, size_t na, const rtc_sdp_attr *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!eqs(a[i].name, b[i].name) || !eqs(a[i].value, b[i].value))
            return false;
    return true;
}

static bool eq_lines(const rtc_sdp_line *a, size_t na, const rtc_sdp_line *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].type != b[i].type || !eqs(a[i].value, b[i].value))
            return false;
    return true;
}

static bool eq_conn(const rtc_sdp_conn *a, const rtc_sdp_conn *b)
{
    if (!a->address || !b->address)
        return !a->address && !b->address;
    return eqs(a->nettype, b->nettype) && eqs(a->addrtype, b->addrtype) && eqs(a->address, b->address);
}

static bool eq_bw(const rtc_sdp_bandwidth *a, size_t na, const rtc_sdp_bandwidth *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (!eqs(a[i].type, b[i].type) || a[i].value != b[i].value)
            return false;
    return true;
}

static bool eq_ice(const rtc_sdp_ice *a, const rtc_sdp_ice *b)
{
    return eqs(a->ufrag, b->ufrag) && eqs(a->pwd, b->pwd) && eqs(a->options, b->options);
}

static bool eq_dtls(const rtc_sdp_dtls *a, const rtc_sdp_dtls *b)
{
    if (a->setup != b->setup || a->nfingerprints != b->nfingerprints)
        return false;
    for (size_t i = 0; i < a->nfingerprints; i++)
        if (!eqs(a->fingerprints[i].algorithm, b->fingerprints[i].algorithm) ||
            !eqs(a->fingerprints[i].value, b->fingerprints[i].value))
            return false;
    return true;
}

static bool eq_extmaps(const rtc_sdp_extmap *a, size_t na, const rtc_sdp_extmap *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (a[i].id != b[i].id || a[i].direction != b[i].direction || !eqs(a[i].uri, b[i].uri) ||
            !eqs(a[i].attributes, b[i].attributes))
            return false;
    return true;
}

static bool eq_codec(const rtc_sdp_codec *a, const rtc_sdp_codec *b)
{
    return a->pt == b->pt && eqs(a->name, b->name) && a->clock_rate == b->clock_rate &&
           a->channels == b->channels && eqs(a->fmtp, b->fmtp) &&
           eq_params(a->params, a->nparams, b->params, b->nparams) &&
           eq_strs(a->rtcp_fb, a->nrtcp_fb, b->rtcp_fb, b->nrtcp_fb);
}

static bool eq_simulcast_list(const rtc_sdp_simulcast_stream *a, size_t na,
                              const rtc_sdp_simulcast_stream *b, size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].nalts != b[i].nalts)
            return false;
        for (size_t k = 0; k < a[i].nalts; k++)
            if (a[i].alts[k].paused != b[i].alts[k].paused || !eqs(a[i].alts[k].rid, b[i].alts[k].rid))
                return false;
    }
    return true;
}

static bool eq_media(const rtc_sdp_media *a, const rtc_sdp_media *b)
{
    if (a->kind != b->kind || !eqs(a->media, b->media) || a->port != b->port ||
        a->nports != b->nports || !eqs(a->proto, b->proto) ||
        !eq_strs(a->fmts, a->nfmts, b->fmts, b->nfmts) ||
        !eq_lines(a->lines, a->nlines, b->lines, b->nlines) || !eq_conn(&a->conn, &b->conn) ||
        !eq_bw(a->bw, a->nbw, b->bw, b->nbw) || !eqs(a->mid, b->mid) ||
        a->direction != b->direction || a->rtcp_mux != b->rtcp_mux ||
        a->rtcp_mux_only != b->rtcp_mux_only || a->rtcp_rsize != b->rtcp_rsize ||
        a->bundle_only != b->bundle_only || a->end_of_candidates != b->end_of_candidates ||
        a->extmap_allow_mixed != b->extmap_allow_mixed || !eq_ice(&a->ice, &b->ice) ||
        !eq_dtls(&a->dtls, &b->dtls) ||
        !eq_strs(a->candidates, a->ncandidates, b->candidates, b->ncandidates) ||
        !eq_strs(a->rtcp_fb_all, a->nrtcp_fb_all, b->rtcp_fb_all, b->nrtcp_fb_all) ||
        !eq_extmaps(a->extmaps, a->nextmaps, b->extmaps, b->nextmaps) ||
        a->ncodecs != b->ncodecs || a->nmsids != b->nmsids || a->nssrcs != b->nssrcs ||
        a->nssrc_groups != b->nssrc_groups || a->nrids != b->nrids ||
        a->sctp_port != b->sctp_port || a->max_message_size != b->max_message_size ||
        a->sctpmap.present != b->sctpmap.present ||
        !eq_attrs(a->attrs, a->nattrs, b->attrs, b->nattrs))
        return false;
    for (size_t i = 0; i < a->ncodecs; i++)
        if (!eq_codec(a->codecs[i], b->codecs[i]))
            return false;
    for (size_t i = 0; i < a->nmsids; i++)
        if (!eqs(a->msids[i].stream_id, b->msids[i].stream_id) || !eqs(a->msids[i].track_id, b->msids[i].track_id))
            return false;
    for (size_t i = 0; i < a->nssrcs; i++)
        if (a->ssrcs[i].ssrc != b->ssrcs[i].ssrc || !eqs(a->ssrcs[i].attribute, b->ssrcs[i].attribute) ||
            !eqs(a->ssrcs[i].value, b->ssrcs[i].value))
            return false;
    for (size_t i = 0; i < a->nssrc_groups; i++) {
        const rtc_sdp_ssrc_group *x = &a->ssrc_groups[i], *y = &b->ssrc_groups[i];
        if (!eqs(x->semantics, y->semantics) || x->nssrcs != y->nssrcs ||
            memcmp(x->ssrcs, y->ssrcs, x->nssrcs * sizeof *x->ssrcs) != 0)
            return false;
    }
    for (size_t i = 0; i < a->nrids; i++) {
        const rtc_sdp_rid *x = &a->rids[i], *y = &b->rids[i];
        if (!eqs(x->id, y->id) || x->recv != y->recv || x->npts != y->npts ||
            (x->npts && memcmp(x->pts, y->pts, x->npts * sizeof *x->pts) != 0) ||
            !eq_params(x->params, x->nparams, y->params, y->nparams))
            return false;
    }
    if (a->simulcast.present != b->simulcast.present ||
        !eq_simulcast_list(a->simulcast.send, a->simulcast.nsend, b->simulcast.send, b->simulcast.nsend) ||
        !eq_simulcast_list(a->simulcast.recv, a->simulcast.nrecv, b->simulcast.recv, b->simulcast.nrecv))
        return false;
    if (a->sctpmap.present && (a->sctpmap.port != b->sctpmap.port || !eqs(a->sctpmap.app, b->sctpmap.app) ||
                               a->sctpmap.streams != b->sctpmap.streams))
        return false;
    return true;
}

bool rtc_sdp_equal(const rtc_sdp *a, const rtc_sdp *b)
{
    const rtc_sdp_origin *x = &a->origin, *y = &b->origin;
    if (!eqs(x->username, y->username) || x->sess_id != y->sess_id ||
        x->sess_version != y->sess_version || !eqs(x->nettype, y->nettype) ||
        !eqs(x->addrtype, y->addrtype) || !eqs(x->address, y->address) || !eqs(a->name, b->name) ||
        a->t_start != b->t_start || a->t_stop != b->t_stop ||
        !eq_lines(a->lines, a->nlines, b->lines, b->nlines) || !eq_conn(&a->conn, &b->conn) ||
        !eq_bw(a->bw, a->nbw, b->bw, b->nbw) || a->ngroups != b->ngroups ||
        !eqs(a->msid_semantic, b->msid_semantic) || a->ice_lite != b->ice_lite ||
        a->extmap_allow_mixed != b->extmap_allow_mixed || !eq_ice(&a->ice, &b->ice) ||
        !eq_dtls(&a->dtls, &b->dtls) || a->direction != b->direction ||
        !eq_extmaps(a->extmaps, a->nextmaps, b->extmaps, b->nextmaps) ||
        !eq_attrs(a->attrs, a->nattrs, b->attrs, b->nattrs) || a->nmedia != b->nmedia)
        return false;
    for (size_t i = 0; i < a->ngroups; i++)
        if (!eqs(a->groups[i].semantics, b->groups[i].semantics) ||
            !eq_strs(a->groups[i].mids, a->groups[i].nmids, b->groups[i].mids, b->groups[i].nmids))
            return false;
    for (size_t i = 0; i < a->nmedia; i++)
        if (!eq_media(a->media[i], b->media[i]))
            return false;
    return true;
}
