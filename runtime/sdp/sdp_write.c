/* Model -> SDP text (CRLF), in the order Chrome writes, so strict parsers accept it. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "sdp/sdp_internal.h"

typedef struct writer {
    char *buf;
    size_t len, cap;
    int err;
} writer;

static void wf(writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wf(writer *w, const char *fmt, ...)
{
    if (w->err)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            w->err = RTC_EINVAL;
            return;
        }
        if ((size_t)n < w->cap - w->len) {
            w->len += (size_t)n;
            return;
        }
        size_t cap = w->cap * 2 + (size_t)n;
        char *nb = realloc(w->buf, cap);
        if (!nb) {
            w->err = RTC_ENOMEM;
            return;
        }
        w->buf = nb;
        w->cap = cap;
    }
}

/* A string placed in a line: present and without line breaks. */
static const char *S(writer *w, const char *s)
{
    if (!s || strpbrk(s, "\r\n")) {
        if (!w->err)
            w->err = RTC_EINVAL;
        return "";
    }
    return s;
}

/* A token in a blank-separated list: also non-empty and without blanks. */
static const char *T(writer *w, const char *s)
{
    s = S(w, s);
    if (!*s || strpbrk(s, " \t")) {
        if (!w->err)
            w->err = RTC_EINVAL;
    }
    return s;
}

static void w_lines(writer *w, const rtc_sdp_line *l, size_t n, bool media, int lo, int hi)
{
    for (size_t i = 0; i < n; i++) {
        int r = sdp__line_rank(l[i].type, media);
        if (r >= lo && r <= hi)
            wf(w, "%c=%s\r\n", l[i].type, S(w, l[i].value));
    }
}

static void w_conn(writer *w, const rtc_sdp_conn *c)
{
    if (c->address)
        wf(w, "c=%s %s %s\r\n", T(w, c->nettype), T(w, c->addrtype), T(w, c->address));
}

static void w_bw(writer *w, const rtc_sdp_bandwidth *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        wf(w, "b=%s:%" PRIu64 "\r\n", T(w, b[i].type), b[i].value);
}

static void w_ice(writer *w, const rtc_sdp_ice *ice)
{
    if (ice->ufrag)
        wf(w, "a=ice-ufrag:%s\r\n", S(w, ice->ufrag));
    if (ice->pwd)
        wf(w, "a=ice-pwd:%s\r\n", S(w, ice->pwd));
    if (ice->options)
        wf(w, "a=ice-options:%s\r\n", S(w, ice->options));
}

static void w_dtls(writer *w, const rtc_sdp_dtls *d)
{
    for (size_t i = 0; i < d->nfingerprints; i++)
        wf(w, "a=fingerprint:%s %s\r\n", T(w, d->fingerprints[i].algorithm), T(w, d->fingerprints[i].value));
    if (d->setup != RTC_SDP_SETUP_UNSET)
        wf(w, "a=setup:%s\r\n", rtc_sdp_setup_name(d->setup));
}

static void w_dir(writer *w, rtc_sdp_direction d)
{
    if (d != RTC_SDP_DIR_UNSET)
        wf(w, "a=%s\r\n", rtc_sdp_direction_name(d));
}

static void w_extmaps(writer *w, const rtc_sdp_extmap *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        wf(w, "a=extmap:%u", e[i].id);
        if (e[i].direction != RTC_SDP_DIR_UNSET)
            wf(w, "/%s", rtc_sdp_direction_name(e[i].direction));
        wf(w, " %s", T(w, e[i].uri));
        if (e[i].attributes)
            wf(w, " %s", S(w, e[i].attributes));
        wf(w, "\r\n");
    }
}

static void w_attrs(writer *w, const rtc_sdp_attr *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i].value)
            wf(w, "a=%s:%s\r\n", S(w, a[i].name), S(w, a[i].value));
        else
            wf(w, "a=%s\r\n", S(w, a[i].name));
        if (a[i].name && strchr(a[i].name, ':') && !w->err)
            w->err = RTC_EINVAL;
    }
}

static void w_params(writer *w, const rtc_sdp_param *p, size_t n, bool first)
{
    for (size_t i = 0; i < n; i++) {
        wf(w, "%s%s", first && i == 0 ? "" : ";", S(w, p[i].key));
        if (p[i].value)
            wf(w, "=%s", S(w, p[i].value));
    }
}

static void w_simulcast_list(writer *w, const char *dir, const rtc_sdp_simulcast_stream *st, size_t n)
{
    if (n == 0)
        return;
    wf(w, "%s%s ", w->buf[w->len - 1] == ':' ? "" : " ", dir);   /* first list follows the colon */
    for (size_t i = 0; i < n; i++) {
        if (st[i].nalts == 0 && !w->err)
            w->err = RTC_EINVAL;
        for (size_t k = 0; k < st[i].nalts; k++)
            wf(w, "%s%s%s", k ? "," : i ? ";" : "", st[i].alts[k].paused ? "~" : "", T(w, st[i].alts[k].rid));
    }
}

static void w_codec(writer *w, const rtc_sdp_codec *c)
{
    if (c->name) {
        wf(w, "a=rtpmap:%d %s/%" PRIu32, c->pt, T(w, c->name), c->clock_rate);
        if (c->channels)
            wf(w, "/%u", c->channels);
        wf(w, "\r\n");
    }
    for (size_t i = 0; i < c->nrtcp_fb; i++)
        wf(w, "a=rtcp-fb:%d %s\r\n", c->pt, S(w, c->rtcp_fb[i]));
    if (c->fmtp)
        wf(w, "a=fmtp:%d%s%s\r\n", c->pt, *c->fmtp ? " " : "", S(w, c->fmtp));
}

static void w_media(writer *w, const rtc_sdp_media *m)
{
    wf(w, "m=%s %u", T(w, m->media), m->port);
    if (m->nports)
        wf(w, "/%u", m->nports);
    wf(w, " %s", T(w, m->proto));
    for (size_t i = 0; i < m->nfmts; i++)
        wf(w, " %s", T(w, m->fmts[i]));
    wf(w, "\r\n");
    if (m->nfmts == 0 && !w->err)
        w->err = RTC_EINVAL;                 /* RFC 8866 needs a format; parsers reject none */
    w_lines(w, m->lines, m->nlines, true, 0, 0);
    w_conn(w, &m->conn);
    w_bw(w, m->bw, m->nbw);
    w_lines(w, m->lines, m->nlines, true, 1, 1);
    w_ice(w, &m->ice);
    w_dtls(w, &m->dtls);
    if (m->mid)
        wf(w, "a=mid:%s\r\n", S(w, m->mid));
    if (m->bundle_only)
        wf(w, "a=bundle-only\r\n");
    if (m->extmap_allow_mixed)
        wf(w, "a=extmap-allow-mixed\r\n");
    w_extmaps(w, m->extmaps, m->nextmaps);
    w_dir(w, m->direction);
    for (size_t i = 0; i < m->nmsids; i++) {
        wf(w, "a=msid:%s", T(w, m->msids[i].stream_id));
        if (m->msids[i].track_id)
            wf(w, " %s", T(w, m->msids[i].track_id));
        wf(w, "\r\n");
    }
    if (m->rtcp_mux)
        wf(w, "a=rtcp-mux\r\n");
    if (m->rtcp_mux_only)
        wf(w, "a=rtcp-mux-only\r\n");
    if (m->rtcp_rsize)
        wf(w, "a=rtcp-rsize\r\n");
    for (size_t i = 0; i < m->ncodecs; i++)
        w_codec(w, m->codecs[i]);
    for (size_t i = 0; i < m->nrtcp_fb_all; i++)
        wf(w, "a=rtcp-fb:* %s\r\n", S(w, m->rtcp_fb_all[i]));
    for (size_t i = 0; i < m->nssrc_groups; i++) {
        const rtc_sdp_ssrc_group *g = &m->ssrc_groups[i];
        wf(w, "a=ssrc-group:%s", T(w, g->semantics));
        for (size_t k = 0; k < g->nssrcs; k++)
            wf(w, " %" PRIu32, g->ssrcs[k]);
        wf(w, "\r\n");
        if (g->nssrcs == 0 && !w->err)
            w->err = RTC_EINVAL;
    }
    for (size_t i = 0; i < m->nssrcs; i++) {
        const rtc_sdp_ssrc *x = &m->ssrcs[i];
        wf(w, "a=ssrc:%" PRIu32 " %s", x->ssrc, S(w, x->attribute));
        if (x->value)
            wf(w, ":%s", S(w, x->value));
        wf(w, "\r\n");
    }
    for (size_t i = 0; i < m->nrids; i++) {
        const rtc_sdp_rid *r = &m->rids[i];
        wf(w, "a=rid:%s %s", T(w, r->id), r->recv ? "recv" : "send");
        if (r->npts || r->nparams)
            wf(w, " ");
        for (size_t k = 0; k < r->npts; k++)
            wf(w, "%s%u", k ? "," : "pt=", r->pts[k]);
        w_params(w, r->params, r->nparams, r->npts == 0);
        wf(w, "\r\n");
    }
    if (m->simulcast.present) {
        if (m->simulcast.nsend + m->simulcast.nrecv == 0 && !w->err)
            w->err = RTC_EINVAL;
        wf(w, "a=simulcast:");
        w_simulcast_list(w, "send", m->simulcast.send, m->simulcast.nsend);
        w_simulcast_list(w, "recv", m->simulcast.recv, m->simulcast.nrecv);
        wf(w, "\r\n");
    }
    if (m->sctp_port >= 0)
        wf(w, "a=sctp-port:%" PRId32 "\r\n", m->sctp_port);
    if (m->max_message_size >= 0)
        wf(w, "a=max-message-size:%" PRId64 "\r\n", m->max_message_size);
    if (m->sctpmap.present) {
        wf(w, "a=sctpmap:%u %s", m->sctpmap.port, T(w, m->sctpmap.app));
        if (m->sctpmap.streams)
            wf(w, " %" PRIu32, m->sctpmap.streams);
        wf(w, "\r\n");
    }
    w_attrs(w, m->attrs, m->nattrs);
    for (size_t i = 0; i < m->ncandidates; i++)
        wf(w, "a=candidate:%s\r\n", S(w, m->candidates[i]));
    if (m->end_of_candidates)
        wf(w, "a=end-of-candidates\r\n");
}

int rtc_sdp_write(const rtc_sdp *s, char **out, size_t *len)
{
    writer w = { .cap = 1024 };
    *out = NULL;
    if (!(w.buf = malloc(w.cap)))
        return RTC_ENOMEM;
    const rtc_sdp_origin *o = &s->origin;
    wf(&w, "v=0\r\no=%s %" PRIu64 " %" PRIu64 " %s %s %s\r\n", T(&w, o->username), o->sess_id,
       o->sess_version, T(&w, o->nettype), T(&w, o->addrtype), T(&w, o->address));
    wf(&w, "s=%s\r\n", s->name && *s->name ? S(&w, s->name) : "-");
    w_lines(&w, s->lines, s->nlines, false, 0, 3);
    w_conn(&w, &s->conn);
    w_bw(&w, s->bw, s->nbw);
    wf(&w, "t=%" PRIu64 " %" PRIu64 "\r\n", s->t_start, s->t_stop);
    w_lines(&w, s->lines, s->nlines, false, 4, 7);
    if (s->ice_lite)
        wf(&w, "a=ice-lite\r\n");
    for (size_t i = 0; i < s->ngroups; i++) {
        wf(&w, "a=group:%s", T(&w, s->groups[i].semantics));
        for (size_t k = 0; k < s->groups[i].nmids; k++)
            wf(&w, " %s", T(&w, s->groups[i].mids[k]));
        wf(&w, "\r\n");
    }
    if (s->extmap_allow_mixed)
        wf(&w, "a=extmap-allow-mixed\r\n");
    if (s->msid_semantic)
        wf(&w, "a=msid-semantic: %s\r\n", S(&w, s->msid_semantic));
    w_ice(&w, &s->ice);
    w_dtls(&w, &s->dtls);
    w_dir(&w, s->direction);
    w_extmaps(&w, s->extmaps, s->nextmaps);
    w_attrs(&w, s->attrs, s->nattrs);
    for (size_t i = 0; i < s->nmedia; i++)
        w_media(&w, s->media[i]);
    if (w.err) {
        free(w.buf);
        return w.err;
    }
    *out = w.buf;
    if (len)
        *len = w.len;
    return 0;
}
