/* SDP text -> model. One pass over the lines; each line is copied into a scratch
 * buffer so value parsers work on NUL-terminated strings, and every stored string is
 * copied into the description's arena. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "sdp/sdp_internal.h"

typedef struct parser {
    rtc_sdp *s;
    rtc_sdp_error *err;
    int line;
    rtc_sdp_media *m;            /* current section; NULL at session level */
    size_t section_lines;
    bool seen_v, seen_o, seen_t, seen_c;
} parser;

static int fail(parser *P, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(parser *P, int rc, const char *fmt, ...)
{
    if (P->err) {
        char what[96];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        P->err->line = P->line;
        snprintf(P->err->msg, sizeof P->err->msg, "line %d: %s", P->line, what);
    }
    return rc;
}

#define DUP(P, v) rtc_sdp_strdup((P)->s, (v), (size_t)-1)
#define NOMEM(P) oom(P)

/* An allocation failed: past the parse budget (hostile input) or really out of memory. */
static int oom(parser *P)
{
    if (P->s->arena_over)
        return fail(P, RTC_ETOOBIG, "description too complex");
    return fail(P, RTC_ENOMEM, "out of memory");
}

/* Next blank-separated token from *p; false at end of string. */
static bool tok(const char **p, const char **t, size_t *n)
{
    const char *q = *p;
    while (sdp__blank(*q)) q++;
    if (!*q) {
        *p = q;
        return false;
    }
    *t = q;
    while (*q && !sdp__blank(*q)) q++;
    *n = (size_t)(q - *t);
    *p = q;
    return true;
}

static const char *skip_blanks(const char *p)
{
    while (sdp__blank(*p)) p++;
    return p;
}

static bool num_tok(const char **p, uint64_t max, uint64_t *out)
{
    const char *t;
    size_t n;
    return tok(p, &t, &n) && sdp__u64(t, n, max, out);
}

static bool at_end(const char *p)
{
    return *skip_blanks(p) == 0;
}

/* A required token copied into the arena; NULL when missing (or on ENOMEM, which the
 * caller tells apart with *nomem). */
static const char *dup_tok(parser *P, const char **p, bool *nomem)
{
    const char *t;
    size_t n;
    *nomem = false;
    if (!tok(p, &t, &n))
        return NULL;
    const char *r = rtc_sdp_strdup(P->s, t, n);
    *nomem = r == NULL;
    return r;
}

/* ---- lines other than a= ---- */

static int parse_origin(parser *P, const char *v)
{
    rtc_sdp_origin *o = &P->s->origin;
    bool nomem = false;
    if (!(o->username = dup_tok(P, &v, &nomem)) || !num_tok(&v, UINT64_MAX, &o->sess_id) ||
        !num_tok(&v, UINT64_MAX, &o->sess_version) || !(o->nettype = dup_tok(P, &v, &nomem)) ||
        !(o->addrtype = dup_tok(P, &v, &nomem)) || !(o->address = dup_tok(P, &v, &nomem)) ||
        !at_end(v))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid o= line");
    return 0;
}

static int parse_conn(parser *P, rtc_sdp_conn *c, const char *v)
{
    bool nomem = false;
    if (!(c->nettype = dup_tok(P, &v, &nomem)) || !(c->addrtype = dup_tok(P, &v, &nomem)) ||
        !(c->address = dup_tok(P, &v, &nomem)) || !at_end(v))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid c= line");
    return 0;
}

static int parse_bw(parser *P, const char *v)
{
    const char *colon = strchr(v, ':');
    uint64_t val;
    if (!colon || colon == v || strcspn(v, " \t") < (size_t)(colon - v) ||
        !sdp__u64(colon + 1, strlen(colon + 1), UINT64_MAX, &val))
        return fail(P, RTC_EPROTO, "invalid b= line");
    rtc_sdp_bandwidth *b = P->m ? SDP__PUSH(P->s, P->m->bw, P->m->nbw)
                                : SDP__PUSH(P->s, P->s->bw, P->s->nbw);
    if (!b || !(b->type = rtc_sdp_strdup(P->s, v, (size_t)(colon - v))))
        return NOMEM(P);
    b->value = val;
    return 0;
}

/* Other lines are kept in RFC 8866 order (sdp__line_rank), stable among equals, so
 * the writer can put each where browsers' strict parsers expect it and a reparse of
 * the output gives the same list. */
static int add_line(parser *P, char type, const char *v)
{
    if ((P->m ? P->m->nlines : P->s->nlines) >= RTC_SDP_MAX_LINES)
        return fail(P, RTC_ETOOBIG, "too many %c= lines", type);
    rtc_sdp_line **list = P->m ? &P->m->lines : &P->s->lines;
    size_t *n = P->m ? &P->m->nlines : &P->s->nlines;
    const char *val = DUP(P, v);
    if (!val || !sdp__push(P->s, (void **)list, n, sizeof **list))
        return NOMEM(P);
    int rank = sdp__line_rank(type, P->m != NULL);
    size_t at = *n - 1;
    while (at > 0 && sdp__line_rank((*list)[at - 1].type, P->m != NULL) > rank) {
        (*list)[at] = (*list)[at - 1];
        at--;
    }
    (*list)[at] = (rtc_sdp_line){ type, val };
    return 0;
}

static bool is_rtp_proto(const char *proto)
{
    return strstr(proto, "RTP/") != NULL;
}

static rtc_sdp_codec *codec_for(parser *P, int pt)
{
    rtc_sdp_codec *c = rtc_sdp_media_codec(P->m, pt);
    if (c)
        return c;
    if (!(c = sdp__alloc(P->s, sizeof *c)))
        return NULL;
    rtc_sdp_codec **slot = SDP__PUSH(P->s, P->m->codecs, P->m->ncodecs);
    if (!slot)
        return NULL;
    *slot = c;
    c->pt = pt;
    sdp__static_codec(c);
    return c;
}

static int parse_media(parser *P, const char *v)
{
    rtc_sdp *s = P->s;
    if (s->nmedia >= RTC_SDP_MAX_MEDIA)
        return fail(P, RTC_ETOOBIG, "too many m= sections");
    rtc_sdp_media *m = sdp__alloc(s, sizeof *m);
    rtc_sdp_media **slot = m ? SDP__PUSH(s, s->media, s->nmedia) : NULL;
    if (!slot)
        return NOMEM(P);
    *slot = m;
    P->m = m;
    m->sctp_port = -1;
    m->max_message_size = -1;
    bool nomem = false;
    const char *t;
    size_t n;
    if (!(m->media = dup_tok(P, &v, &nomem)) || !tok(&v, &t, &n))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid m= line");
    m->kind = strcmp(m->media, "audio") == 0 ? RTC_SDP_AUDIO
            : strcmp(m->media, "video") == 0 ? RTC_SDP_VIDEO
            : strcmp(m->media, "application") == 0 ? RTC_SDP_APPLICATION : RTC_SDP_OTHER;
    const char *slash = memchr(t, '/', n);
    size_t pl = slash ? (size_t)(slash - t) : n;
    uint64_t port, nports = 0;
    if (!sdp__u64(t, pl, 65535, &port) ||
        (slash && (!sdp__u64(slash + 1, n - pl - 1, 65535, &nports) || nports == 0)))
        return fail(P, RTC_EPROTO, "invalid port in m= line");
    m->port = (uint16_t)port;
    m->nports = (uint16_t)nports;
    if (!(m->proto = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid m= line");
    bool rtp = is_rtp_proto(m->proto);
    while (tok(&v, &t, &n)) {
        if (m->nfmts >= RTC_SDP_MAX_FORMATS)
            return fail(P, RTC_ETOOBIG, "too many formats in m= line");
        const char **f = SDP__PUSH(s, m->fmts, m->nfmts);
        if (!f || !(*f = rtc_sdp_strdup(s, t, n)))
            return NOMEM(P);
        if (rtp) {
            uint64_t pt;
            if (!sdp__u64(t, n, 127, &pt))
                return fail(P, RTC_EPROTO, "invalid payload type in m= line");
            if (!codec_for(P, (int)pt))
                return NOMEM(P);
        }
    }
    if (m->nfmts == 0)
        return fail(P, RTC_EPROTO, "invalid m= line");
    return 0;
}

/* ---- a= lines ---- */

static int want_value(parser *P, const char *name, const char *v)
{
    if (!v || !*skip_blanks(v))
        return fail(P, RTC_EPROTO, "a=%s needs a value", name);
    return 0;
}

static bool parse_dir(const char *p, size_t n, rtc_sdp_direction *d)
{
    static const char *const names[] = { "sendrecv", "sendonly", "recvonly", "inactive" };
    for (int i = 0; i < 4; i++)
        if (strlen(names[i]) == n && memcmp(p, names[i], n) == 0) {
            *d = (rtc_sdp_direction)(RTC_SDP_SENDRECV + i);
            return true;
        }
    return false;
}

static int parse_fingerprint(parser *P, rtc_sdp_dtls *d, const char *v)
{
    bool nomem = false;
    rtc_sdp_fingerprint f;
    if (!(f.algorithm = dup_tok(P, &v, &nomem)) || !(f.value = dup_tok(P, &v, &nomem)) || !at_end(v))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=fingerprint");
    rtc_sdp_fingerprint *slot = SDP__PUSH(P->s, d->fingerprints, d->nfingerprints);
    if (!slot)
        return NOMEM(P);
    *slot = f;
    return 0;
}

static int parse_setup(parser *P, rtc_sdp_dtls *d, const char *v)
{
    for (int i = RTC_SDP_SETUP_ACTPASS; i <= RTC_SDP_SETUP_HOLDCONN; i++)
        if (strcmp(v, rtc_sdp_setup_name((rtc_sdp_setup)i)) == 0) {
            d->setup = (rtc_sdp_setup)i;
            return 0;
        }
    return fail(P, RTC_EPROTO, "invalid a=setup");
}

static int parse_extmap(parser *P, rtc_sdp_extmap **list, size_t *n, const char *v)
{
    const char *t;
    size_t tl;
    rtc_sdp_extmap e = { 0 };
    if (!tok(&v, &t, &tl))
        return fail(P, RTC_EPROTO, "invalid a=extmap");
    const char *slash = memchr(t, '/', tl);
    size_t il = slash ? (size_t)(slash - t) : tl;
    uint64_t id;
    if (!sdp__u64(t, il, 255, &id) || id == 0)
        return fail(P, RTC_EPROTO, "invalid a=extmap id");
    if (slash && !parse_dir(slash + 1, tl - il - 1, &e.direction))
        return fail(P, RTC_EPROTO, "invalid a=extmap direction");
    e.id = (uint16_t)id;
    bool nomem = false;
    if (!(e.uri = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=extmap");
    v = skip_blanks(v);
    if (*v && !(e.attributes = DUP(P, v)))
        return NOMEM(P);
    rtc_sdp_extmap *slot = SDP__PUSH(P->s, *list, *n);
    if (!slot)
        return NOMEM(P);
    *slot = e;
    return 0;
}

static int parse_group(parser *P, const char *v)
{
    bool nomem = false;
    rtc_sdp_group *g = SDP__PUSH(P->s, P->s->groups, P->s->ngroups);
    if (!g)
        return NOMEM(P);
    if (!(g->semantics = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=group");
    const char *mid;
    while ((mid = dup_tok(P, &v, &nomem))) {
        const char **slot = SDP__PUSH(P->s, g->mids, g->nmids);
        if (!slot)
            return NOMEM(P);
        *slot = mid;
    }
    return nomem ? NOMEM(P) : 0;
}

/* "<pt> rest" with pt 0..127 (or '*' when star is allowed, giving -1). */
static bool pt_prefix(const char **v, bool star, int *pt)
{
    const char *t;
    size_t n;
    uint64_t x;
    if (!tok(v, &t, &n))
        return false;
    if (star && n == 1 && *t == '*') {
        *pt = -1;
        return true;
    }
    if (!sdp__u64(t, n, 127, &x))
        return false;
    *pt = (int)x;
    return true;
}

static int parse_rtpmap(parser *P, const char *v)
{
    int pt;
    const char *t;
    size_t n;
    if (!pt_prefix(&v, false, &pt) || !tok(&v, &t, &n) || !at_end(v))
        return fail(P, RTC_EPROTO, "invalid a=rtpmap");
    const char *s1 = memchr(t, '/', n);
    if (!s1 || s1 == t)
        return fail(P, RTC_EPROTO, "invalid a=rtpmap");
    const char *rate = s1 + 1;
    const char *s2 = memchr(rate, '/', (size_t)(t + n - rate));
    size_t rl = s2 ? (size_t)(s2 - rate) : (size_t)(t + n - rate);
    uint64_t r, ch = 0;
    if (!sdp__u64(rate, rl, UINT32_MAX, &r) || r == 0 ||
        (s2 && (!sdp__u64(s2 + 1, (size_t)(t + n - s2 - 1), 65535, &ch) || ch == 0)))
        return fail(P, RTC_EPROTO, "invalid a=rtpmap clock rate or channels");
    rtc_sdp_codec *c = codec_for(P, pt);
    if (!c || !(c->name = rtc_sdp_strdup(P->s, t, (size_t)(s1 - t))))
        return NOMEM(P);
    c->clock_rate = (uint32_t)r;
    c->channels = (uint16_t)ch;
    return 0;
}

static int parse_fmtp(parser *P, const char *v)
{
    int pt;
    if (!pt_prefix(&v, false, &pt))
        return fail(P, RTC_EPROTO, "invalid a=fmtp");
    rtc_sdp_codec *c = codec_for(P, pt);
    if (!c || !(c->fmtp = DUP(P, skip_blanks(v))))
        return NOMEM(P);
    c->params = NULL;
    c->nparams = 0;
    return sdp__parse_params(P->s, c->fmtp, &c->params, &c->nparams) < 0 ? NOMEM(P) : 0;
}

static int parse_rtcp_fb(parser *P, const char *v)
{
    int pt;
    if (!pt_prefix(&v, true, &pt) || !*(v = skip_blanks(v)))
        return fail(P, RTC_EPROTO, "invalid a=rtcp-fb");
    const char *fb = DUP(P, v);
    if (!fb)
        return NOMEM(P);
    const char **slot;
    if (pt < 0) {
        slot = SDP__PUSH(P->s, P->m->rtcp_fb_all, P->m->nrtcp_fb_all);
    } else {
        rtc_sdp_codec *c = codec_for(P, pt);
        slot = c ? SDP__PUSH(P->s, c->rtcp_fb, c->nrtcp_fb) : NULL;
    }
    if (!slot)
        return NOMEM(P);
    *slot = fb;
    return 0;
}

static int parse_msid(parser *P, const char *v)
{
    bool nomem = false;
    rtc_sdp_msid x = { 0 };
    if (!(x.stream_id = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=msid");
    x.track_id = dup_tok(P, &v, &nomem);
    if (nomem)
        return NOMEM(P);
    if (!at_end(v))
        return fail(P, RTC_EPROTO, "invalid a=msid");
    rtc_sdp_msid *slot = SDP__PUSH(P->s, P->m->msids, P->m->nmsids);
    if (!slot)
        return NOMEM(P);
    *slot = x;
    return 0;
}

static int parse_ssrc(parser *P, const char *v)
{
    uint64_t ssrc;
    if (!num_tok(&v, UINT32_MAX, &ssrc) || !*(v = skip_blanks(v)))
        return fail(P, RTC_EPROTO, "invalid a=ssrc");
    rtc_sdp_ssrc *x = SDP__PUSH(P->s, P->m->ssrcs, P->m->nssrcs);
    if (!x)
        return NOMEM(P);
    x->ssrc = (uint32_t)ssrc;
    const char *colon = strchr(v, ':');
    if (colon == v)
        return fail(P, RTC_EPROTO, "invalid a=ssrc");
    if (!(x->attribute = rtc_sdp_strdup(P->s, v, colon ? (size_t)(colon - v) : strlen(v))) ||
        (colon && !(x->value = DUP(P, colon + 1))))
        return NOMEM(P);
    return 0;
}

static int parse_ssrc_group(parser *P, const char *v)
{
    bool nomem = false;
    rtc_sdp_ssrc_group *g = SDP__PUSH(P->s, P->m->ssrc_groups, P->m->nssrc_groups);
    if (!g)
        return NOMEM(P);
    if (!(g->semantics = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=ssrc-group");
    const char *t;
    size_t n;
    while (tok(&v, &t, &n)) {
        uint64_t x;
        if (!sdp__u64(t, n, UINT32_MAX, &x))
            return fail(P, RTC_EPROTO, "invalid ssrc in a=ssrc-group");
        uint32_t *slot = SDP__PUSH(P->s, g->ssrcs, g->nssrcs);
        if (!slot)
            return NOMEM(P);
        *slot = (uint32_t)x;
    }
    if (g->nssrcs == 0)
        return fail(P, RTC_EPROTO, "invalid a=ssrc-group");
    return 0;
}

static int parse_rid(parser *P, const char *v)
{
    bool nomem = false;
    const char *t;
    size_t n;
    rtc_sdp_rid *r = SDP__PUSH(P->s, P->m->rids, P->m->nrids);
    if (!r)
        return NOMEM(P);
    if (!(r->id = dup_tok(P, &v, &nomem)) || !tok(&v, &t, &n))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=rid");
    if (n == 4 && memcmp(t, "send", 4) == 0)
        r->recv = false;
    else if (n == 4 && memcmp(t, "recv", 4) == 0)
        r->recv = true;
    else
        return fail(P, RTC_EPROTO, "invalid a=rid direction");
    int rc = sdp__parse_rid_restrictions(P->s, r, skip_blanks(v));
    if (rc == RTC_EPROTO)
        return fail(P, rc, "invalid a=rid restrictions");
    return rc < 0 ? NOMEM(P) : 0;
}

static int parse_sctpmap(parser *P, const char *v)
{
    rtc_sdp_sctpmap *x = &P->m->sctpmap;
    uint64_t port, streams = 0;
    bool nomem = false;
    if (!num_tok(&v, 65535, &port) || !(x->app = dup_tok(P, &v, &nomem)))
        return nomem ? NOMEM(P) : fail(P, RTC_EPROTO, "invalid a=sctpmap");
    if (!at_end(v) && (!num_tok(&v, UINT32_MAX, &streams) || !at_end(v)))
        return fail(P, RTC_EPROTO, "invalid a=sctpmap");
    x->present = true;
    x->port = (uint16_t)port;
    x->streams = (uint32_t)streams;
    return 0;
}

static int add_unknown(parser *P, const char *name, size_t nl, const char *v)
{
    rtc_sdp_attr *a = P->m ? SDP__PUSH(P->s, P->m->attrs, P->m->nattrs)
                           : SDP__PUSH(P->s, P->s->attrs, P->s->nattrs);
    if (!a || !(a->name = rtc_sdp_strdup(P->s, name, nl)) || (v && !(a->value = DUP(P, v))))
        return NOMEM(P);
    return 0;
}

#define IS(lit) (nl == sizeof(lit) - 1 && memcmp(name, lit, nl) == 0)

/* Attributes allowed at both levels; 1 when not one of them. */
static int attr_shared(parser *P, const char *name, size_t nl, const char *v)
{
    rtc_sdp *s = P->s;
    rtc_sdp_media *m = P->m;
    rtc_sdp_ice *ice = m ? &m->ice : &s->ice;
    rtc_sdp_dtls *dtls = m ? &m->dtls : &s->dtls;
    rtc_sdp_direction dir;
    int rc;
    if (parse_dir(name, nl, &dir)) {
        *(m ? &m->direction : &s->direction) = dir;
        return 0;
    }
    if (IS("extmap-allow-mixed")) {
        *(m ? &m->extmap_allow_mixed : &s->extmap_allow_mixed) = true;
        return 0;
    }
    const char **icef = IS("ice-ufrag") ? &ice->ufrag : IS("ice-pwd") ? &ice->pwd
                      : IS("ice-options") ? &ice->options : NULL;
    if (icef) {
        if ((rc = want_value(P, icef == &ice->ufrag ? "ice-ufrag" : icef == &ice->pwd ? "ice-pwd"
                                                                                 : "ice-options", v)) < 0)
            return rc;
        return (*icef = DUP(P, skip_blanks(v))) ? 0 : NOMEM(P);
    }
    if (IS("fingerprint"))
        return (rc = want_value(P, "fingerprint", v)) < 0 ? rc : parse_fingerprint(P, dtls, v);
    if (IS("setup"))
        return (rc = want_value(P, "setup", v)) < 0 ? rc : parse_setup(P, dtls, skip_blanks(v));
    if (IS("extmap"))
        return (rc = want_value(P, "extmap", v)) < 0 ? rc
             : m ? parse_extmap(P, &m->extmaps, &m->nextmaps, v)
                 : parse_extmap(P, &s->extmaps, &s->nextmaps, v);
    return 1;
}

static int attr_session(parser *P, const char *name, size_t nl, const char *v)
{
    rtc_sdp *s = P->s;
    int rc;
    if (IS("group"))
        return (rc = want_value(P, "group", v)) < 0 ? rc : parse_group(P, v);
    if (IS("msid-semantic"))
        return (s->msid_semantic = DUP(P, v ? skip_blanks(v) : "")) ? 0 : NOMEM(P);
    if (IS("ice-lite")) {
        s->ice_lite = true;
        return 0;
    }
    return 1;
}

static int parse_mid(parser *P, const char *v)
{
    return (P->m->mid = DUP(P, skip_blanks(v))) ? 0 : NOMEM(P);
}

static int parse_candidate(parser *P, const char *v)
{
    const char **slot = SDP__PUSH(P->s, P->m->candidates, P->m->ncandidates);
    return slot && (*slot = DUP(P, skip_blanks(v))) ? 0 : NOMEM(P);
}

static int parse_simulcast(parser *P, const char *v)
{
    int rc = sdp__parse_simulcast(P->s, &P->m->simulcast, v);
    return rc == RTC_EPROTO ? fail(P, rc, "invalid a=simulcast") : rc < 0 ? NOMEM(P) : 0;
}

static int parse_sctp_port(parser *P, const char *v)
{
    uint64_t x;
    if (!num_tok(&v, 65535, &x) || !at_end(v))
        return fail(P, RTC_EPROTO, "invalid a=sctp-port");
    P->m->sctp_port = (int32_t)x;
    return 0;
}

static int parse_max_message_size(parser *P, const char *v)
{
    uint64_t x;
    if (!num_tok(&v, INT64_MAX, &x) || !at_end(v))
        return fail(P, RTC_EPROTO, "invalid a=max-message-size");
    P->m->max_message_size = (int64_t)x;
    return 0;
}

/* Media-level attributes that need a value. */
static const struct {
    const char *name;
    int (*parse)(parser *P, const char *v);
} media_attrs[] = {
    { "mid", parse_mid },             { "candidate", parse_candidate },
    { "rtpmap", parse_rtpmap },       { "fmtp", parse_fmtp },
    { "rtcp-fb", parse_rtcp_fb },     { "msid", parse_msid },
    { "ssrc", parse_ssrc },           { "ssrc-group", parse_ssrc_group },
    { "rid", parse_rid },             { "simulcast", parse_simulcast },
    { "sctp-port", parse_sctp_port }, { "max-message-size", parse_max_message_size },
    { "sctpmap", parse_sctpmap },
};

static int attr_media(parser *P, const char *name, size_t nl, const char *v)
{
    rtc_sdp_media *m = P->m;
    bool *flag = IS("rtcp-mux") ? &m->rtcp_mux : IS("rtcp-mux-only") ? &m->rtcp_mux_only
               : IS("rtcp-rsize") ? &m->rtcp_rsize : IS("bundle-only") ? &m->bundle_only
               : IS("end-of-candidates") ? &m->end_of_candidates : NULL;
    if (flag) {
        *flag = true;
        return 0;
    }
    for (size_t k = 0; k < sizeof media_attrs / sizeof media_attrs[0]; k++) {
        if (strlen(media_attrs[k].name) != nl || memcmp(media_attrs[k].name, name, nl) != 0)
            continue;
        int rc = want_value(P, media_attrs[k].name, v);
        return rc < 0 ? rc : media_attrs[k].parse(P, v);
    }
    return 1;
}

static int parse_attr(parser *P, const char *line)
{
    const char *colon = strchr(line, ':');
    size_t nl = colon ? (size_t)(colon - line) : strlen(line);
    const char *v = colon ? colon + 1 : NULL;
    int rc = attr_shared(P, line, nl, v);
    if (rc == 1)
        rc = P->m ? attr_media(P, line, nl, v) : attr_session(P, line, nl, v);
    if (rc == 1)
        rc = add_unknown(P, line, nl, v);
    return rc;
}

/* ---- driver ---- */

static int parse_line(parser *P, char type, const char *v)
{
    rtc_sdp *s = P->s;
    if (!P->seen_v) {
        if (type != 'v')
            return fail(P, RTC_EPROTO, "missing v= line");
        if (strcmp(v, "0") != 0)
            return fail(P, RTC_EPROTO, "unsupported version in v= line");
        P->seen_v = true;
        return 0;
    }
    if (++P->section_lines > RTC_SDP_MAX_ATTRS)
        return fail(P, RTC_ETOOBIG, "too many lines in section");
    switch (type) {
    case 'm':
        if (!P->seen_o)
            return fail(P, RTC_EPROTO, "m= line before o= line");
        P->section_lines = 0;
        P->seen_c = false;
        return parse_media(P, v);
    case 'a':
        return parse_attr(P, v);
    case 'c':
        if (P->seen_c)
            return fail(P, RTC_EPROTO, "duplicate c= line");
        P->seen_c = true;
        return parse_conn(P, P->m ? &P->m->conn : &s->conn, v);
    case 'b':
        return parse_bw(P, v);
    case 'v': case 'o': case 's': case 't':
        if (P->m)
            return fail(P, RTC_EPROTO, "%c= line in a media section", type);
        break;
    default:
        return add_line(P, type, v);
    }
    switch (type) {
    case 'v':
        return fail(P, RTC_EPROTO, "duplicate v= line");
    case 'o':
        if (P->seen_o)
            return fail(P, RTC_EPROTO, "duplicate o= line");
        P->seen_o = true;
        return parse_origin(P, v);
    case 's':
        return (s->name = DUP(P, *v ? v : "-")) ? 0 : NOMEM(P);
    default: /* 't' */
        if (P->seen_t)
            return add_line(P, 't', v);
        P->seen_t = true;
        if (!num_tok(&v, UINT64_MAX, &s->t_start) || !num_tok(&v, UINT64_MAX, &s->t_stop) || !at_end(v))
            return fail(P, RTC_EPROTO, "invalid t= line");
        return 0;
    }
}

int rtc_sdp_parse(rtc_sdp **out, const char *text, size_t len, rtc_sdp_error *err)
{
    return sdp__parse(out, text, len, err, 0);
}

int sdp__parse(rtc_sdp **out, const char *text, size_t len, rtc_sdp_error *err, size_t first_block)
{
    parser P = { .err = err };
    if (err) {
        err->line = 0;
        err->msg[0] = 0;
    }
    *out = NULL;
    if (len > RTC_SDP_MAX_SIZE)
        return fail(&P, RTC_ETOOBIG, "description too large");
    if (!text && len)
        return RTC_EINVAL;
    int rc = rtc_sdp_new(&P.s);
    if (rc < 0)
        return rc;
    P.s->arena_limit = len * RTC_SDP_MEM_FACTOR + 65536;
    P.s->arena_first = first_block;
    char *buf = malloc(len + 1);
    if (!buf) {
        rtc_sdp_free(P.s);
        return RTC_ENOMEM;
    }
    size_t pos = 0;
    rc = 0;
    while (pos < len && rc == 0) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - (text + pos)) : len - pos;
        memcpy(buf, text + pos, ll);
        pos += ll + (nl ? 1 : 0);
        P.line++;
        while (ll && (buf[ll - 1] == '\r' || sdp__blank(buf[ll - 1])))
            ll--;
        buf[ll] = 0;
        if (ll == 0)
            continue;               /* blank lines (a trailing one is common) */
        if (memchr(buf, 0, ll))
            rc = fail(&P, RTC_EPROTO, "NUL byte in line");
        else if (memchr(buf, '\r', ll))     /* the writer could not reproduce it */
            rc = fail(&P, RTC_EPROTO, "CR inside line");
        else if (ll < 2 || buf[1] != '=' || buf[0] < 'a' || buf[0] > 'z')
            rc = fail(&P, RTC_EPROTO, "invalid line");
        else
            rc = parse_line(&P, buf[0], buf + 2);
    }
    free(buf);
    if (rc == 0 && !P.seen_v)
        rc = fail(&P, RTC_EPROTO, "missing v= line");
    if (rc == 0 && !P.seen_o)
        rc = fail(&P, RTC_EPROTO, "missing o= line");
    if (rc < 0) {
        rtc_sdp_free(P.s);
        return rc;
    }
    P.s->arena_limit = 0;             /* the caller may build on it freely */
    P.s->arena_first = 0;
    *out = P.s;
    return 0;
}
