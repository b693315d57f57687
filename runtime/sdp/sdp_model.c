/* The description model: arena, lifecycle, lookups and programmatic building. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "sdp/sdp_internal.h"

/* One arena per description: the model is many small strings and lists that all die
 * together, so they share blocks and rtc_sdp_free is one walk. */
struct sdp__arena {
    struct sdp__arena *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

/* A data-channel session parses into about 2 KiB and a peer connection keeps two
 * descriptions for its lifetime: small blocks keep idle connections small; big
 * descriptions just take more blocks. */
#define ARENA_BLOCK 2048

void *sdp__alloc(rtc_sdp *s, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct sdp__arena *a = s->arena;
    if (!a || a->cap - a->used < n) {
        size_t cap = n > ARENA_BLOCK / 2 ? n : ARENA_BLOCK;
        if (!a && s->arena_first >= n)
            cap = s->arena_first;
        if (s->arena_limit && (cap > s->arena_limit || s->arena_bytes > s->arena_limit - cap)) {
            s->arena_over = true;
            return NULL;
        }
        s->arena_bytes += cap;
        struct sdp__arena *b = malloc(sizeof *b + cap);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        if (a && n > ARENA_BLOCK / 2) {
            /* a large block goes behind the current one so its free space stays usable */
            b->next = a->next;
            a->next = b;
        } else {
            b->next = a;
            s->arena = b;
        }
        a = b;
    }
    void *p = a->data + a->used;
    a->used += n;
    memset(p, 0, n);
    return p;
}

void *sdp__push(rtc_sdp *s, void **arr, size_t *n, size_t elem)
{
    size_t k = *n;
    if (k == 0 || (k >= 4 && (k & (k - 1)) == 0)) {
        size_t cap = k == 0 ? 4 : k * 2;
        if (cap > SIZE_MAX / elem)
            return NULL;
        void *na = sdp__alloc(s, cap * elem);
        if (!na)
            return NULL;
        if (k)
            memcpy(na, *arr, k * elem);
        *arr = na;
    }
    void *slot = (unsigned char *)*arr + k * elem;
    memset(slot, 0, elem);
    *n = k + 1;
    return slot;
}

char *rtc_sdp_strdup(rtc_sdp *s, const char *str, size_t n)
{
    if (!str)
        return NULL;
    if (n == (size_t)-1)
        n = strlen(str);
    char *p = sdp__alloc(s, n + 1);
    if (p) {
        memcpy(p, str, n);
        p[n] = 0;
    }
    return p;
}

int rtc_sdp_new(rtc_sdp **out)
{
    rtc_sdp *s = calloc(1, sizeof *s);
    if (!s)
        return RTC_ENOMEM;
    s->origin.username = "-";            /* static defaults: never freed, never written to */
    s->origin.nettype = "IN";
    s->origin.addrtype = "IP4";
    s->origin.address = "127.0.0.1";
    s->name = "-";
    *out = s;
    return 0;
}

void rtc_sdp_free(rtc_sdp *s)
{
    if (!s)
        return;
    struct sdp__arena *a = s->arena;
    while (a) {
        struct sdp__arena *next = a->next;
        free(a);
        a = next;
    }
    free(s);
}

int rtc_sdp_clone(rtc_sdp **out, const rtc_sdp *s)
{
    char *text;
    size_t len;
    int rc = rtc_sdp_write(s, &text, &len);
    if (rc < 0)
        return rc;
    rc = rtc_sdp_parse(out, text, len, NULL);
    free(text);
    return rc;
}

/* Unused room in a description's blocks worth a second parse to drop. */
#define COMPACT_SLACK 256

int rtc_sdp_compact(rtc_sdp **sp)
{
    rtc_sdp *s = *sp;
    size_t used = 0, cap = 0;
    for (const struct sdp__arena *a = s->arena; a; a = a->next) {
        used += a->used;
        cap += a->cap;
    }
    if (cap - used <= COMPACT_SLACK)
        return 0;
    char *text;
    size_t len;
    int rc = rtc_sdp_write(s, &text, &len);
    if (rc < 0)
        return rc;
    rtc_sdp *c;
    /* Parsing the written text makes the same allocations again, so `used` fits them. */
    rc = sdp__parse(&c, text, len, NULL, used);
    free(text);
    if (rc < 0)
        return rc;
    rtc_sdp_free(s);
    *sp = c;
    return 0;
}

/* ---- lookups ---- */

rtc_sdp_media *rtc_sdp_find_media(const rtc_sdp *s, const char *mid)
{
    for (size_t i = 0; mid && i < s->nmedia; i++)
        if (s->media[i]->mid && strcmp(s->media[i]->mid, mid) == 0)
            return s->media[i];
    return NULL;
}

const rtc_sdp_group *rtc_sdp_find_group(const rtc_sdp *s, const char *semantics)
{
    for (size_t i = 0; i < s->ngroups; i++)
        if (sdp__ieq(s->groups[i].semantics, semantics))
            return &s->groups[i];
    return NULL;
}

bool rtc_sdp_group_has(const rtc_sdp_group *g, const char *mid)
{
    for (size_t i = 0; g && mid && i < g->nmids; i++)
        if (strcmp(g->mids[i], mid) == 0)
            return true;
    return false;
}

rtc_sdp_codec *rtc_sdp_media_codec(const rtc_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->ncodecs; i++)
        if (m->codecs[i]->pt == pt)
            return m->codecs[i];
    return NULL;
}

rtc_sdp_codec *rtc_sdp_media_find_codec(const rtc_sdp_media *m, const char *name, size_t *from)
{
    for (size_t i = from ? *from : 0; i < m->ncodecs; i++)
        if (m->codecs[i]->name && sdp__ieq(m->codecs[i]->name, name)) {
            if (from)
                *from = i + 1;
            return m->codecs[i];
        }
    if (from)
        *from = m->ncodecs;
    return NULL;
}

const char *rtc_sdp_param_get(const rtc_sdp_param *p, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (sdp__ieq(p[i].key, key))
            return p[i].value ? p[i].value : "";
    return NULL;
}

const char *rtc_sdp_codec_param(const rtc_sdp_codec *c, const char *key)
{
    return rtc_sdp_param_get(c->params, c->nparams, key);
}

static int apt_of(const rtc_sdp_codec *c)
{
    const char *apt = rtc_sdp_codec_param(c, "apt");
    uint64_t v;
    return apt && sdp__u64(apt, strlen(apt), 127, &v) ? (int)v : -1;
}

rtc_sdp_codec *rtc_sdp_media_rtx_for(const rtc_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->ncodecs; i++) {
        rtc_sdp_codec *c = m->codecs[i];
        if (c->name && sdp__ieq(c->name, "rtx") && apt_of(c) == pt)
            return c;
    }
    return NULL;
}

bool rtc_sdp_codec_has_fb(const rtc_sdp_codec *c, const rtc_sdp_media *m, const char *fb)
{
    for (size_t i = 0; c && i < c->nrtcp_fb; i++)
        if (strcmp(c->rtcp_fb[i], fb) == 0)
            return true;
    for (size_t i = 0; m && i < m->nrtcp_fb_all; i++)
        if (strcmp(m->rtcp_fb_all[i], fb) == 0)
            return true;
    return false;
}

const char *rtc_sdp_attr_get(const rtc_sdp *s, const rtc_sdp_media *m, const char *name)
{
    const rtc_sdp_attr *a = m ? m->attrs : s->attrs;
    size_t n = m ? m->nattrs : s->nattrs;
    for (size_t i = 0; i < n; i++)
        if (strcmp(a[i].name, name) == 0)
            return a[i].value ? a[i].value : "";
    return NULL;
}

rtc_sdp_direction rtc_sdp_media_direction(const rtc_sdp *s, const rtc_sdp_media *m)
{
    if (m && m->direction != RTC_SDP_DIR_UNSET)
        return m->direction;
    return s && s->direction != RTC_SDP_DIR_UNSET ? s->direction : RTC_SDP_SENDRECV;
}

const rtc_sdp_ice *rtc_sdp_media_ice(const rtc_sdp *s, const rtc_sdp_media *m)
{
    return m && m->ice.ufrag ? &m->ice : &s->ice;
}

const rtc_sdp_dtls *rtc_sdp_media_dtls(const rtc_sdp *s, const rtc_sdp_media *m)
{
    return m && m->dtls.nfingerprints ? &m->dtls : &s->dtls;
}

rtc_sdp_setup rtc_sdp_media_setup(const rtc_sdp *s, const rtc_sdp_media *m)
{
    return m && m->dtls.setup != RTC_SDP_SETUP_UNSET ? m->dtls.setup : s->dtls.setup;
}

bool rtc_sdp_ice_option(const char *options, const char *opt)
{
    size_t ol = strlen(opt);
    const char *p = options;
    while (p && *p) {
        while (sdp__blank(*p)) p++;
        const char *w = p;
        while (*p && !sdp__blank(*p)) p++;
        if ((size_t)(p - w) == ol && ol && memcmp(w, opt, ol) == 0)
            return true;
    }
    return false;
}

const rtc_sdp_ssrc *rtc_sdp_media_ssrc_attr(const rtc_sdp_media *m, uint32_t ssrc, const char *attribute)
{
    for (size_t i = 0; i < m->nssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc && strcmp(m->ssrcs[i].attribute, attribute) == 0)
            return &m->ssrcs[i];
    return NULL;
}

const rtc_sdp_ssrc_group *rtc_sdp_media_ssrc_group(const rtc_sdp_media *m, const char *semantics)
{
    for (size_t i = 0; i < m->nssrc_groups; i++)
        if (strcmp(m->ssrc_groups[i].semantics, semantics) == 0)
            return &m->ssrc_groups[i];
    return NULL;
}

const rtc_sdp_extmap *rtc_sdp_media_extmap(const rtc_sdp_media *m, const char *uri)
{
    for (size_t i = 0; i < m->nextmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return &m->extmaps[i];
    return NULL;
}

const rtc_sdp_rid *rtc_sdp_media_rid(const rtc_sdp_media *m, const char *id)
{
    for (size_t i = 0; i < m->nrids; i++)
        if (strcmp(m->rids[i].id, id) == 0)
            return &m->rids[i];
    return NULL;
}

bool rtc_sdp_media_rejected(const rtc_sdp_media *m)
{
    return m->port == 0 && !m->bundle_only;
}

bool rtc_sdp_media_is_sctp(const rtc_sdp_media *m)
{
    size_t n = m->proto ? strlen(m->proto) : 0;
    return n >= 4 && strcmp(m->proto + n - 4, "SCTP") == 0;
}

int rtc_sdp_media_sctp_port(const rtc_sdp_media *m)
{
    uint64_t v;
    if (!rtc_sdp_media_is_sctp(m))
        return -1;
    if (m->sctp_port >= 0)
        return m->sctp_port;
    if (m->sctpmap.present)
        return m->sctpmap.port;
    if (m->nfmts && sdp__u64(m->fmts[0], strlen(m->fmts[0]), 65535, &v))
        return (int)v;              /* "m=application 9 DTLS/SCTP 5000" */
    return 5000;
}

int64_t rtc_sdp_media_max_message_size(const rtc_sdp_media *m)
{
    return m->max_message_size >= 0 ? m->max_message_size : 65536;
}

const char *rtc_sdp_kind_name(rtc_sdp_kind k)
{
    return k == RTC_SDP_AUDIO ? "audio" : k == RTC_SDP_VIDEO ? "video"
         : k == RTC_SDP_APPLICATION ? "application" : "";
}

const char *rtc_sdp_direction_name(rtc_sdp_direction d)
{
    switch (d) {
    case RTC_SDP_SENDRECV: return "sendrecv";
    case RTC_SDP_SENDONLY: return "sendonly";
    case RTC_SDP_RECVONLY: return "recvonly";
    case RTC_SDP_INACTIVE: return "inactive";
    default: return "";
    }
}

const char *rtc_sdp_setup_name(rtc_sdp_setup s)
{
    switch (s) {
    case RTC_SDP_SETUP_ACTPASS: return "actpass";
    case RTC_SDP_SETUP_ACTIVE: return "active";
    case RTC_SDP_SETUP_PASSIVE: return "passive";
    case RTC_SDP_SETUP_HOLDCONN: return "holdconn";
    default: return "";
    }
}

rtc_sdp_direction rtc_sdp_direction_reverse(rtc_sdp_direction d)
{
    return d == RTC_SDP_SENDONLY ? RTC_SDP_RECVONLY : d == RTC_SDP_RECVONLY ? RTC_SDP_SENDONLY : d;
}

/* ---- building ---- */

/* A string a builder may store: non-NULL, and no byte that would break the line. */
static bool line_safe(const char *v, bool allow_empty)
{
    if (!v || (!allow_empty && !*v))
        return false;
    return strpbrk(v, "\r\n") == NULL;
}

/* Token-like values (mid, ids) must also not contain blanks: they are list items. */
static bool token_safe(const char *v)
{
    return line_safe(v, false) && strpbrk(v, " \t") == NULL;
}

#define DUP(s, v) rtc_sdp_strdup((s), (v), (size_t)-1)

int rtc_sdp_add_media(rtc_sdp *s, rtc_sdp_kind kind, const char *proto, rtc_sdp_media **out)
{
    static const char *const names[] = { "audio", "video", "application" };
    if ((unsigned)kind > RTC_SDP_APPLICATION || (proto && !token_safe(proto)))
        return RTC_EINVAL;
    if (s->nmedia >= RTC_SDP_MAX_MEDIA)
        return RTC_ETOOBIG;
    rtc_sdp_media *m = sdp__alloc(s, sizeof *m);
    rtc_sdp_media **slot = m ? SDP__PUSH(s, s->media, s->nmedia) : NULL;
    if (!slot)
        return RTC_ENOMEM;
    *slot = m;
    m->kind = kind;
    m->media = names[kind];
    m->port = 9;                          /* JSEP's placeholder port with trickle ICE */
    m->conn = (rtc_sdp_conn){ "IN", "IP4", "0.0.0.0" };
    m->sctp_port = -1;
    m->max_message_size = -1;
    if (proto)
        m->proto = DUP(s, proto);
    else
        m->proto = kind == RTC_SDP_APPLICATION ? "UDP/DTLS/SCTP" : "UDP/TLS/RTP/SAVPF";
    if (!m->proto)
        return RTC_ENOMEM;
    if (rtc_sdp_media_is_sctp(m)) {
        /* the format is fixed for data channels; only the old form names the port */
        const char **f = SDP__PUSH(s, m->fmts, m->nfmts);
        if (!f)
            return RTC_ENOMEM;
        *f = strcmp(m->proto, "DTLS/SCTP") == 0 ? "5000" : "webrtc-datachannel";
    }
    if (out)
        *out = m;
    return 0;
}

int rtc_sdp_set_origin(rtc_sdp *s, const char *username, uint64_t sess_id, uint64_t sess_version)
{
    if (username) {
        if (!token_safe(username))
            return RTC_EINVAL;
        if (!(s->origin.username = DUP(s, username)))
            return RTC_ENOMEM;
    }
    s->origin.sess_id = sess_id;
    s->origin.sess_version = sess_version;
    return 0;
}

int rtc_sdp_add_group(rtc_sdp *s, const char *semantics, const char *const *mids, size_t nmids)
{
    if (!token_safe(semantics))
        return RTC_EINVAL;
    for (size_t i = 0; i < nmids; i++)
        if (!token_safe(mids[i]))
            return RTC_EINVAL;
    rtc_sdp_group *g = SDP__PUSH(s, s->groups, s->ngroups);
    if (!g || !(g->semantics = DUP(s, semantics)))
        return RTC_ENOMEM;
    for (size_t i = 0; i < nmids; i++) {
        const char **slot = SDP__PUSH(s, g->mids, g->nmids);
        if (!slot || !(*slot = DUP(s, mids[i])))
            return RTC_ENOMEM;
    }
    return 0;
}

int rtc_sdp_group_add_mid(rtc_sdp *s, const char *semantics, const char *mid)
{
    if (!token_safe(semantics) || !token_safe(mid))
        return RTC_EINVAL;
    rtc_sdp_group *g = (rtc_sdp_group *)rtc_sdp_find_group(s, semantics);
    if (!g)
        return rtc_sdp_add_group(s, semantics, &mid, 1);
    const char **slot = SDP__PUSH(s, g->mids, g->nmids);
    if (!slot || !(*slot = DUP(s, mid)))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_add_attr(rtc_sdp *s, rtc_sdp_media *m, const char *name, const char *value)
{
    if (!line_safe(name, false) || strchr(name, ':') || (value && !line_safe(value, true)))
        return RTC_EINVAL;
    rtc_sdp_attr *a = m ? SDP__PUSH(s, m->attrs, m->nattrs) : SDP__PUSH(s, s->attrs, s->nattrs);
    if (!a || !(a->name = DUP(s, name)) || (value && !(a->value = DUP(s, value))))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_add_fingerprint(rtc_sdp *s, rtc_sdp_media *m, const char *algorithm, const char *value)
{
    if (!token_safe(algorithm) || !token_safe(value))
        return RTC_EINVAL;
    rtc_sdp_dtls *d = m ? &m->dtls : &s->dtls;
    rtc_sdp_fingerprint *f = SDP__PUSH(s, d->fingerprints, d->nfingerprints);
    if (!f || !(f->algorithm = DUP(s, algorithm)) || !(f->value = DUP(s, value)))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_add_extmap(rtc_sdp *s, rtc_sdp_media *m, uint16_t id, const char *uri)
{
    if (id < 1 || id > 255 || !token_safe(uri))
        return RTC_EINVAL;
    rtc_sdp_extmap **list = m ? &m->extmaps : &s->extmaps;
    size_t *n = m ? &m->nextmaps : &s->nextmaps;
    for (size_t i = 0; i < *n; i++)
        if ((*list)[i].id == id)
            return RTC_EEXISTS;
    rtc_sdp_extmap *e = SDP__PUSH(s, *list, *n);
    if (!e || !(e->uri = DUP(s, uri)))
        return RTC_ENOMEM;
    e->id = id;
    return 0;
}

int rtc_sdp_add_bandwidth(rtc_sdp *s, rtc_sdp_media *m, const char *type, uint64_t value)
{
    if (!token_safe(type) || strchr(type, ':'))
        return RTC_EINVAL;
    rtc_sdp_bandwidth *b = m ? SDP__PUSH(s, m->bw, m->nbw) : SDP__PUSH(s, s->bw, s->nbw);
    if (!b || !(b->type = DUP(s, type)))
        return RTC_ENOMEM;
    b->value = value;
    return 0;
}

int rtc_sdp_set_ice(rtc_sdp *s, rtc_sdp_media *m, const char *ufrag, const char *pwd, const char *options)
{
    if ((ufrag && !token_safe(ufrag)) || (pwd && !token_safe(pwd)) ||
        (options && !line_safe(options, false)))
        return RTC_EINVAL;
    rtc_sdp_ice *ice = m ? &m->ice : &s->ice;
    rtc_sdp_ice n = { ufrag ? DUP(s, ufrag) : NULL, pwd ? DUP(s, pwd) : NULL,
                      options ? DUP(s, options) : NULL };
    if ((ufrag && !n.ufrag) || (pwd && !n.pwd) || (options && !n.options))
        return RTC_ENOMEM;
    *ice = n;
    return 0;
}

int rtc_sdp_media_set_mid(rtc_sdp *s, rtc_sdp_media *m, const char *mid)
{
    if (!token_safe(mid))
        return RTC_EINVAL;
    return (m->mid = DUP(s, mid)) ? 0 : RTC_ENOMEM;
}

int rtc_sdp_codec_add_fb(rtc_sdp *s, rtc_sdp_codec *c, const char *fb)
{
    if (!line_safe(fb, false))
        return RTC_EINVAL;
    const char **slot = SDP__PUSH(s, c->rtcp_fb, c->nrtcp_fb);
    if (!slot || !(*slot = DUP(s, fb)))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_media_add_codec(rtc_sdp *s, rtc_sdp_media *m, int pt, const char *name,
                            uint32_t clock_rate, uint16_t channels, const char *fmtp,
                            const char *const *rtcp_fb, rtc_sdp_codec **out)
{
    if (pt < 0 || pt > 127 || !token_safe(name) || strchr(name, '/') || clock_rate == 0 ||
        (fmtp && !line_safe(fmtp, true)))
        return RTC_EINVAL;
    for (size_t i = 0; rtcp_fb && rtcp_fb[i]; i++)
        if (!line_safe(rtcp_fb[i], false))
            return RTC_EINVAL;
    if (rtc_sdp_media_codec(m, pt))
        return RTC_EEXISTS;
    if (m->nfmts >= RTC_SDP_MAX_FORMATS)
        return RTC_ETOOBIG;
    char num[4];
    snprintf(num, sizeof num, "%d", pt);
    rtc_sdp_codec *c = sdp__alloc(s, sizeof *c);
    rtc_sdp_codec **slot = c ? SDP__PUSH(s, m->codecs, m->ncodecs) : NULL;
    if (!slot)
        return RTC_ENOMEM;
    *slot = c;
    const char **f = SDP__PUSH(s, m->fmts, m->nfmts);
    if (!f || !(*f = DUP(s, num)) || !(c->name = DUP(s, name)))
        return RTC_ENOMEM;
    c->pt = pt;
    c->clock_rate = clock_rate;
    c->channels = channels;
    if (fmtp) {
        if (!(c->fmtp = DUP(s, fmtp)))
            return RTC_ENOMEM;
        int rc = sdp__parse_params(s, c->fmtp, &c->params, &c->nparams);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; rtcp_fb && rtcp_fb[i]; i++) {
        int rc = rtc_sdp_codec_add_fb(s, c, rtcp_fb[i]);
        if (rc < 0)
            return rc;
    }
    if (out)
        *out = c;
    return 0;
}

int rtc_sdp_media_add_codec_copy(rtc_sdp *s, rtc_sdp_media *m, const rtc_sdp_codec *src, int pt,
                                 rtc_sdp_codec **out)
{
    rtc_sdp_codec *c;
    if (!src->name)
        return RTC_EINVAL;
    int rc = rtc_sdp_media_add_codec(s, m, pt >= 0 ? pt : src->pt, src->name, src->clock_rate,
                                     src->channels, src->fmtp, NULL, &c);
    for (size_t i = 0; rc == 0 && i < src->nrtcp_fb; i++)
        rc = rtc_sdp_codec_add_fb(s, c, src->rtcp_fb[i]);
    if (rc == 0 && out)
        *out = c;
    return rc;
}

int rtc_sdp_media_remove_codec(rtc_sdp_media *m, int pt)
{
    size_t i = 0;
    while (i < m->ncodecs && m->codecs[i]->pt != pt)
        i++;
    if (i == m->ncodecs)
        return RTC_ENOTFOUND;
    memmove(&m->codecs[i], &m->codecs[i + 1], (m->ncodecs - i - 1) * sizeof m->codecs[0]);
    m->ncodecs--;
    for (size_t k = 0; k < m->nfmts; k++) {
        uint64_t v;
        if (sdp__u64(m->fmts[k], strlen(m->fmts[k]), 127, &v) && (int)v == pt) {
            memmove(&m->fmts[k], &m->fmts[k + 1], (m->nfmts - k - 1) * sizeof m->fmts[0]);
            m->nfmts--;
            break;
        }
    }
    return 0;
}

int rtc_sdp_media_add_candidate(rtc_sdp *s, rtc_sdp_media *m, const char *candidate)
{
    if (candidate && strncmp(candidate, "candidate:", 10) == 0)
        candidate += 10;
    if (!line_safe(candidate, false))
        return RTC_EINVAL;
    const char **slot = SDP__PUSH(s, m->candidates, m->ncandidates);
    if (!slot || !(*slot = DUP(s, candidate)))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_media_add_msid(rtc_sdp *s, rtc_sdp_media *m, const char *stream_id, const char *track_id)
{
    if (!token_safe(stream_id) || (track_id && !token_safe(track_id)))
        return RTC_EINVAL;
    rtc_sdp_msid *x = SDP__PUSH(s, m->msids, m->nmsids);
    if (!x || !(x->stream_id = DUP(s, stream_id)) || (track_id && !(x->track_id = DUP(s, track_id))))
        return RTC_ENOMEM;
    return 0;
}

int rtc_sdp_media_add_ssrc(rtc_sdp *s, rtc_sdp_media *m, uint32_t ssrc, const char *attribute, const char *value)
{
    if (!token_safe(attribute) || strchr(attribute, ':') || (value && !line_safe(value, true)))
        return RTC_EINVAL;
    rtc_sdp_ssrc *x = SDP__PUSH(s, m->ssrcs, m->nssrcs);
    if (!x || !(x->attribute = DUP(s, attribute)) || (value && !(x->value = DUP(s, value))))
        return RTC_ENOMEM;
    x->ssrc = ssrc;
    return 0;
}

int rtc_sdp_media_add_ssrc_group(rtc_sdp *s, rtc_sdp_media *m, const char *semantics,
                                 const uint32_t *ssrcs, size_t n)
{
    if (!token_safe(semantics) || n == 0)
        return RTC_EINVAL;
    rtc_sdp_ssrc_group *g = SDP__PUSH(s, m->ssrc_groups, m->nssrc_groups);
    if (!g || !(g->semantics = DUP(s, semantics)) || !(g->ssrcs = sdp__alloc(s, n * sizeof *ssrcs)))
        return RTC_ENOMEM;
    memcpy(g->ssrcs, ssrcs, n * sizeof *ssrcs);
    g->nssrcs = n;
    return 0;
}

int rtc_sdp_media_add_rid(rtc_sdp *s, rtc_sdp_media *m, const char *id, bool recv,
                          const uint16_t *pts, size_t npts, const char *restrictions)
{
    if (!token_safe(id) || (restrictions && !line_safe(restrictions, true)) ||
        npts > RTC_SDP_MAX_FORMATS)
        return RTC_EINVAL;
    for (size_t i = 0; i < npts; i++)
        if (pts[i] > 127)
            return RTC_EINVAL;
    rtc_sdp_rid *r = SDP__PUSH(s, m->rids, m->nrids);
    if (!r || !(r->id = DUP(s, id)))
        return RTC_ENOMEM;
    r->recv = recv;
    for (size_t i = 0; i < npts; i++) {
        uint16_t *p = SDP__PUSH(s, r->pts, r->npts);
        if (!p)
            return RTC_ENOMEM;
        *p = pts[i];
    }
    if (restrictions) {
        int rc = sdp__parse_rid_restrictions(s, r, restrictions);
        if (rc < 0) {
            m->nrids--;
            return rc == RTC_EPROTO ? RTC_EINVAL : rc;
        }
    }
    return 0;
}

int rtc_sdp_media_set_simulcast(rtc_sdp *s, rtc_sdp_media *m, const char *value)
{
    if (!line_safe(value, false))
        return RTC_EINVAL;
    rtc_sdp_simulcast sc;
    int rc = sdp__parse_simulcast(s, &sc, value);
    if (rc < 0)
        return rc;
    m->simulcast = sc;
    return 0;
}
