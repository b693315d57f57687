/* Parsers for attribute values shared by the SDP parser and the builders: numbers,
 * fmtp/rid parameter lists, simulcast stream lists. */
#include <ctype.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "sdp/sdp_internal.h"

bool sdp__u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool sdp__ieq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
    return *a == *b;
}

/* Trim blanks from [*p, *p+*n). */
static void trim(const char **p, size_t *n)
{
    while (*n && sdp__blank(**p)) { (*p)++; (*n)--; }
    while (*n && sdp__blank((*p)[*n - 1])) (*n)--;
}

int sdp__parse_params(rtc_sdp *s, const char *str, rtc_sdp_param **out, size_t *n)
{
    const char *p = str;
    while (*p) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *item = p;
        size_t ilen = len;
        p += len + (end ? 1 : 0);
        trim(&item, &ilen);
        if (ilen == 0)
            continue;
        rtc_sdp_param *prm = SDP__PUSH(s, *out, *n);
        if (!prm)
            return RTC_ENOMEM;
        const char *eq = memchr(item, '=', ilen);
        if (eq) {
            const char *k = item, *v = eq + 1;
            size_t kl = (size_t)(eq - item), vl = ilen - kl - 1;
            trim(&k, &kl);
            trim(&v, &vl);
            prm->key = rtc_sdp_strdup(s, k, kl);
            prm->value = rtc_sdp_strdup(s, v, vl);
        } else {
            prm->key = rtc_sdp_strdup(s, item, ilen);
        }
        if (!prm->key || (eq && !prm->value))
            return RTC_ENOMEM;
    }
    return 0;
}

static int rid_pts(rtc_sdp *s, rtc_sdp_rid *r, const char *p, size_t n)
{
    while (n) {
        const char *c = memchr(p, ',', n);
        size_t len = c ? (size_t)(c - p) : n;
        const char *t = p;
        size_t tl = len;
        trim(&t, &tl);
        uint64_t pt;
        if (!sdp__u64(t, tl, 127, &pt) || r->npts >= RTC_SDP_MAX_FORMATS)
            return RTC_EPROTO;
        uint16_t *slot = SDP__PUSH(s, r->pts, r->npts);
        if (!slot)
            return RTC_ENOMEM;
        *slot = (uint16_t)pt;
        if (!c)
            break;
        p = c + 1;
        n -= len + 1;
        if (n == 0)
            return RTC_EPROTO;          /* trailing comma */
    }
    return 0;
}

int sdp__parse_rid_restrictions(rtc_sdp *s, rtc_sdp_rid *r, const char *str)
{
    rtc_sdp_param *all = NULL;
    size_t nall = 0;
    int rc = sdp__parse_params(s, str, &all, &nall);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < nall; i++) {
        if (sdp__ieq(all[i].key, "pt")) {
            if (!all[i].value || !*all[i].value)
                return RTC_EPROTO;
            if ((rc = rid_pts(s, r, all[i].value, strlen(all[i].value))) < 0)
                return rc;
            continue;
        }
        rtc_sdp_param *prm = SDP__PUSH(s, r->params, r->nparams);
        if (!prm)
            return RTC_ENOMEM;
        *prm = all[i];
    }
    return 0;
}

/* One direction's list: "a;b,~c" -> streams separated by ';', alternatives by ','. */
static int simulcast_list(rtc_sdp *s, const char *p, size_t n,
                          rtc_sdp_simulcast_stream **out, size_t *nout)
{
    /* draft-ietf-mmusic-sdp-simulcast-03 (older Firefox) wrote "rid=a;b" */
    if (n > 4 && memcmp(p, "rid=", 4) == 0) {
        p += 4;
        n -= 4;
    }
    if (n == 0)
        return RTC_EPROTO;
    rtc_sdp_simulcast_stream *st = NULL;
    for (size_t i = 0; i <= n; i++) {
        if (!st && !(st = SDP__PUSH(s, *out, *nout)))
            return RTC_ENOMEM;
        size_t start = i;
        while (i < n && p[i] != ',' && p[i] != ';')
            i++;
        const char *id = p + start;
        size_t il = i - start;
        bool paused = il && *id == '~';
        if (paused) { id++; il--; }
        if (il == 0)
            return RTC_EPROTO;
        for (size_t k = 0; k < il; k++)
            if (!isalnum((unsigned char)id[k]) && id[k] != '-' && id[k] != '_')
                return RTC_EPROTO;
        rtc_sdp_simulcast_alt *alt = SDP__PUSH(s, st->alts, st->nalts);
        if (!alt || !(alt->rid = rtc_sdp_strdup(s, id, il)))
            return RTC_ENOMEM;
        alt->paused = paused;
        if (i < n && p[i] == ';')
            st = NULL;
    }
    return 0;
}

int sdp__parse_simulcast(rtc_sdp *s, rtc_sdp_simulcast *sc, const char *value)
{
    memset(sc, 0, sizeof *sc);
    const char *p = value;
    bool seen_send = false, seen_recv = false;
    for (;;) {
        while (sdp__blank(*p)) p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && !sdp__blank(*p)) p++;
        size_t wl = (size_t)(p - w);
        bool recv;
        if (wl == 4 && memcmp(w, "send", 4) == 0 && !seen_send)
            recv = false, seen_send = true;
        else if (wl == 4 && memcmp(w, "recv", 4) == 0 && !seen_recv)
            recv = true, seen_recv = true;
        else
            return RTC_EPROTO;
        while (sdp__blank(*p)) p++;
        const char *l = p;
        while (*p && !sdp__blank(*p)) p++;
        int rc = recv ? simulcast_list(s, l, (size_t)(p - l), &sc->recv, &sc->nrecv)
                      : simulcast_list(s, l, (size_t)(p - l), &sc->send, &sc->nsend);
        if (rc < 0)
            return rc;
    }
    if (!seen_send && !seen_recv)
        return RTC_EPROTO;
    sc->present = true;
    return 0;
}

void sdp__static_codec(rtc_sdp_codec *c)
{
    static const struct { int pt; const char *name; uint32_t rate; } tab[] = {
        { 0, "PCMU", 8000 }, { 8, "PCMA", 8000 }, { 9, "G722", 8000 }, { 13, "CN", 8000 },
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (tab[i].pt == c->pt) {
            c->name = tab[i].name;     /* static storage outlives every description */
            c->clock_rate = tab[i].rate;
        }
}
