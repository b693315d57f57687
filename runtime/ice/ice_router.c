/* Single-port routing tables: open addressing with linear probing (load at most 1/2)
 * and backward-shift deletion, so lookups stay a probe or two and no tombstones pile
 * up as connections come and go. */
#include "ice_router.h"
#include "core/rtc_errors.h"
#include "stun/stun.h"
#include <stdlib.h>
#include <string.h>

#define ROUTER_DEFAULT_MAX (1u << 20)

typedef struct sender_slot { rtc_addr from; void *owner; } sender_slot;     /* owner NULL: empty */
typedef struct ufrag_slot { char *ufrag; size_t len; uint32_t hash; void *owner; } ufrag_slot;

struct rtc_ice_router {
    sender_slot *senders;
    uint32_t scap, nsenders, max_senders;
    ufrag_slot *ufrags;
    uint32_t ucap, nufrags;
    uint64_t learn_refused;
};

static uint32_t str_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)p[i]; h *= 16777619u; }
    return h;
}

/* Spread the address hash: ports and IPs differ in few bits. */
static uint32_t addr_hash(const rtc_addr *a)
{
    uint32_t h = rtc_addr_hash(a);
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

int rtc_ice_router_new(rtc_ice_router **out, uint32_t max_senders)
{
    rtc_ice_router *r = calloc(1, sizeof *r);
    if (!r) return RTC_ENOMEM;
    r->max_senders = max_senders ? max_senders : ROUTER_DEFAULT_MAX;
    *out = r;
    return 0;
}

void rtc_ice_router_free(rtc_ice_router *r)
{
    if (!r) return;
    for (uint32_t i = 0; i < r->ucap; i++) free(r->ufrags[i].ufrag);
    free(r->ufrags);
    free(r->senders);
    free(r);
}

/* ---- senders ---------------------------------------------------------------------- */

static int sender_find(const rtc_ice_router *r, const rtc_addr *from)
{
    if (!r->scap) return -1;
    uint32_t m = r->scap - 1;
    for (uint32_t i = addr_hash(from) & m;; i = (i + 1) & m) {
        if (!r->senders[i].owner) return -1;
        if (rtc_addr_eq(&r->senders[i].from, from)) return (int)i;
    }
}

static void sender_put(sender_slot *t, uint32_t cap, const sender_slot *s)
{
    uint32_t m = cap - 1;
    uint32_t i = addr_hash(&s->from) & m;
    while (t[i].owner) i = (i + 1) & m;
    t[i] = *s;
}

static int sender_grow(rtc_ice_router *r)
{
    uint32_t ncap = r->scap ? r->scap * 2 : 16;
    sender_slot *nt = calloc(ncap, sizeof *nt);
    if (!nt) return RTC_ENOMEM;
    for (uint32_t i = 0; i < r->scap; i++)
        if (r->senders[i].owner) sender_put(nt, ncap, &r->senders[i]);
    free(r->senders);
    r->senders = nt;
    r->scap = ncap;
    return 0;
}

int rtc_ice_router_learn(rtc_ice_router *r, const rtc_addr *from, void *owner)
{
    if (!owner || !from || !rtc_addr_family(from)) return RTC_EINVAL;
    int i = sender_find(r, from);
    if (i >= 0) { r->senders[i].owner = owner; return 0; }
    if (r->nsenders >= r->max_senders) { r->learn_refused++; return RTC_EQUOTA; }
    if ((r->nsenders + 1) * 2 > r->scap) {
        int e = sender_grow(r);
        if (e < 0) return e;
    }
    sender_put(r->senders, r->scap, &(sender_slot){ *from, owner });
    r->nsenders++;
    return 0;
}

void rtc_ice_router_forget(rtc_ice_router *r, const rtc_addr *from, void *owner)
{
    int f = sender_find(r, from);
    if (f < 0 || r->senders[f].owner != owner) return;
    /* Backward-shift: pull later members of the cluster into the hole. */
    uint32_t m = r->scap - 1, hole = (uint32_t)f;
    r->senders[hole].owner = NULL;
    for (uint32_t j = (hole + 1) & m; r->senders[j].owner; j = (j + 1) & m) {
        uint32_t home = addr_hash(&r->senders[j].from) & m;
        /* j may move to the hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        r->senders[hole] = r->senders[j];
        r->senders[j].owner = NULL;
        hole = j;
    }
    r->nsenders--;
}

void *rtc_ice_router_sender(const rtc_ice_router *r, const rtc_addr *from)
{
    int i = sender_find(r, from);
    return i >= 0 ? r->senders[i].owner : NULL;
}

/* ---- ufrags ----------------------------------------------------------------------- */

static int ufrag_find(const rtc_ice_router *r, const char *p, size_t n, uint32_t h)
{
    if (!r->ucap) return -1;
    uint32_t m = r->ucap - 1;
    for (uint32_t i = h & m;; i = (i + 1) & m) {
        const ufrag_slot *s = &r->ufrags[i];
        if (!s->owner) return -1;
        if (s->hash == h && s->len == n && memcmp(s->ufrag, p, n) == 0) return (int)i;
    }
}

static void ufrag_put(ufrag_slot *t, uint32_t cap, const ufrag_slot *s)
{
    uint32_t m = cap - 1;
    uint32_t i = s->hash & m;
    while (t[i].owner) i = (i + 1) & m;
    t[i] = *s;
}

int rtc_ice_router_add_ufrag(rtc_ice_router *r, rtc_str ufrag, void *owner)
{
    if (!owner || !ufrag.p || !ufrag.len) return RTC_EINVAL;
    uint32_t h = str_hash(ufrag.p, ufrag.len);
    int i = ufrag_find(r, ufrag.p, ufrag.len, h);
    if (i >= 0) return r->ufrags[i].owner == owner ? 0 : RTC_EEXISTS;
    if ((r->nufrags + 1) * 2 > r->ucap) {
        uint32_t ncap = r->ucap ? r->ucap * 2 : 16;
        ufrag_slot *nt = calloc(ncap, sizeof *nt);
        if (!nt) return RTC_ENOMEM;
        for (uint32_t k = 0; k < r->ucap; k++)
            if (r->ufrags[k].owner) ufrag_put(nt, ncap, &r->ufrags[k]);
        free(r->ufrags);
        r->ufrags = nt;
        r->ucap = ncap;
    }
    char *copy = malloc(ufrag.len);
    if (!copy) return RTC_ENOMEM;
    memcpy(copy, ufrag.p, ufrag.len);
    ufrag_put(r->ufrags, r->ucap, &(ufrag_slot){ copy, ufrag.len, h, owner });
    r->nufrags++;
    return 0;
}

void rtc_ice_router_remove_ufrag(rtc_ice_router *r, rtc_str ufrag, void *owner)
{
    if (!ufrag.p || !ufrag.len) return;
    int f = ufrag_find(r, ufrag.p, ufrag.len, str_hash(ufrag.p, ufrag.len));
    if (f < 0 || r->ufrags[f].owner != owner) return;
    uint32_t m = r->ucap - 1, hole = (uint32_t)f;
    free(r->ufrags[hole].ufrag);
    r->ufrags[hole] = (ufrag_slot){ 0 };
    for (uint32_t j = (hole + 1) & m; r->ufrags[j].owner; j = (j + 1) & m) {
        uint32_t home = r->ufrags[j].hash & m;
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (stays) continue;
        r->ufrags[hole] = r->ufrags[j];
        r->ufrags[j] = (ufrag_slot){ 0 };
        hole = j;
    }
    r->nufrags--;
}

/* ---- routing ---------------------------------------------------------------------- */

/* The ufrag (USERNAME up to ':') of a Binding request; false for anything else. Only
 * the framing is checked: the owner's agent verifies the whole message. */
static bool request_ufrag(const uint8_t *p, size_t len, rtc_str *out)
{
    if (len < 20 || (len & 3) || p[0] != 0x00 || p[1] != 0x01) return false;
    if (rtc_rd32(p + 4) != RTC_STUN_MAGIC || (size_t)rtc_rd16(p + 2) + 20 != len) return false;
    for (size_t off = 20; off + 4 <= len;) {
        uint16_t type = rtc_rd16(p + off), alen = rtc_rd16(p + off + 2);
        if (off + 4 + alen > len) return false;
        if (type == RTC_STUN_ATTR_USERNAME) {
            size_t n = 0;
            while (n < alen && p[off + 4 + n] != ':') n++;
            if (!n) return false;
            *out = (rtc_str){ (const char *)p + off + 4, n };
            return true;
        }
        off += 4 + (((size_t)alen + 3) & ~(size_t)3);
    }
    return false;
}

void *rtc_ice_router_route(const rtc_ice_router *r, const uint8_t *data, size_t len, const rtc_addr *from,
                           rtc_ice_route *how)
{
    rtc_ice_route k = RTC_ICE_ROUTE_NONE;
    void *owner = NULL;
    rtc_str u;
    if (len >= 20 && data[0] < 4 && request_ufrag(data, len, &u)) {
        int i = ufrag_find(r, u.p, u.len, str_hash(u.p, u.len));
        if (i >= 0) { owner = r->ufrags[i].owner; k = RTC_ICE_ROUTE_UFRAG; }
    } else {
        int i = sender_find(r, from);
        if (i >= 0) { owner = r->senders[i].owner; k = RTC_ICE_ROUTE_SENDER; }
        else if (rtc_stun_is_stun(data, len)) k = RTC_ICE_ROUTE_ASK;
    }
    if (how) *how = k;
    return owner;
}

void rtc_ice_router_get_stats(const rtc_ice_router *r, rtc_ice_router_stats *out)
{
    out->senders = r->nsenders;
    out->ufrags = r->nufrags;
    out->learn_refused = r->learn_refused;
}
