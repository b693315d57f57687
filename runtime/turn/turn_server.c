/* TURN server machine: allocation tables, relay ports, expiry, the relay data path and
 * the output queues. Requests are in turn_server_req.c. */
#include "turn/turn_server_internal.h"
#include "core/rtc_errors.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(rtc_str s)
{
    char *p = malloc(s.len + 1);
    if (!p) return NULL;
    if (s.len) memcpy(p, s.p, s.len);
    p[s.len] = 0;
    return p;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 16;
    while (p < n) p <<= 1;
    return p;
}

int rtc_turn_server_new(rtc_turn_server **out, const rtc_turn_server_config *cfg, rtc_time now)
{
    if (!out || !cfg || !cfg->rng) return RTC_EINVAL;
    if (cfg->realm.len == 0 || cfg->realm.len > RTC_TURN_SRV_NAME_MAX) return RTC_EINVAL;
    if (cfg->min_port > cfg->max_port) return RTC_EINVAL;
    rtc_turn_server *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->cfg = *cfg;
    rtc_turn_server_config *c = &s->cfg;
    if (!c->default_lifetime) c->default_lifetime = 600;
    if (!c->max_lifetime) c->max_lifetime = 3600;
    if (c->default_lifetime > c->max_lifetime) c->default_lifetime = c->max_lifetime;
    if (!c->permission_lifetime) c->permission_lifetime = 300;
    if (!c->channel_lifetime) c->channel_lifetime = 600;
    if (!c->nonce_lifetime) c->nonce_lifetime = 600;
    if (!c->max_allocations || c->max_allocations > TSV_MAX_SLOTS) c->max_allocations = c->max_allocations ? TSV_MAX_SLOTS : 10000;
    if (!c->max_permissions) c->max_permissions = 64;
    if (!c->max_channels) c->max_channels = 64;
    if (!c->max_tcp_conns) c->max_tcp_conns = 1024;
    if (!c->max_tcp_per_ip) c->max_tcp_per_ip = 64;
    s->realm = dup_str(cfg->realm);
    s->software = dup_str(cfg->software);
    s->rest_secret = dup_str(cfg->rest_secret);
    s->nslots = c->max_allocations;
    s->slots = calloc(s->nslots, sizeof *s->slots);
    s->free_slots = malloc(s->nslots * sizeof *s->free_slots);
    s->ahash_mask = pow2_at_least(s->nslots * 2) - 1;
    s->ahash = calloc(s->ahash_mask + 1, sizeof *s->ahash);
    s->chash_mask = pow2_at_least(c->max_tcp_conns * 2) - 1;
    s->chash = calloc(s->chash_mask + 1, sizeof *s->chash);
    s->ports_used[0] = calloc(1, 65536 / 8);
    s->ports_used[1] = calloc(1, 65536 / 8);
    s->ev_cap = 64;
    s->ev = malloc(s->ev_cap * sizeof *s->ev);
    int qr = c->max_per_user ? tsv__quota_init(s) : 0;
    if (!s->realm || !s->software || !s->rest_secret || !s->slots || !s->free_slots || !s->ahash ||
        !s->chash || !s->ports_used[0] || !s->ports_used[1] || !s->ev || qr < 0) {
        rtc_turn_server_free(s);
        return RTC_ENOMEM;
    }
    c->realm = (rtc_str){ s->realm, cfg->realm.len };
    c->software = (rtc_str){ s->software, cfg->software.len };
    c->rest_secret = (rtc_str){ s->rest_secret, cfg->rest_secret.len };
    for (uint32_t i = 0; i < s->nslots; i++) s->free_slots[i] = s->nslots - 1 - i;
    s->nfree = s->nslots;
    s->gen = 1;
    rtc_rng_bytes(c->rng, s->nonce_key, sizeof s->nonce_key);
    rtc_rng_bytes(c->rng, s->ind_tid, sizeof s->ind_tid);
    s->now = now;
    s->next_check = RTC_TIME_NEVER;
    *out = s;
    return 0;
}

void rtc_turn_server_free(rtc_turn_server *s)
{
    if (!s) return;
    if (s->slots)
        for (uint32_t i = 0; i < s->nslots; i++)
            if (s->slots[i]) { free(s->slots[i]->perms); free(s->slots[i]->chans); free(s->slots[i]); }
    if (s->chash)
        for (uint32_t i = 0; i <= s->chash_mask; i++)
            for (tsv_conn *c = s->chash[i], *n; c; c = n) { n = c->hnext; free(c->buf); free(c); }
    while (s->tx_count) {
        rtc_buf_unref(s->tx[s->tx_head].t.buf);
        s->tx_head = (s->tx_head + 1) % TSV_TX_RING;
        s->tx_count--;
    }
    free(s->resv);
    tsv__quota_free(s);
    tsv__users_free(s);
    free(s->rules); free(s->own);
    free(s->slots); free(s->free_slots); free(s->ahash); free(s->chash);
    free(s->ports_used[0]); free(s->ports_used[1]); free(s->ev);
    free(s->realm); free(s->software); free(s->rest_secret);
    free(s);
}

/* ====== configuration after creation ====== */

int rtc_turn_server_add_user(rtc_turn_server *s, rtc_str user, rtc_str pass)
{
    if (!s || user.len == 0 || user.len > RTC_TURN_SRV_NAME_MAX) return RTC_EINVAL;
    uint8_t key[32];
    if (rtc_stun_long_term_key(user, s->cfg.realm, pass, RTC_STUN_PWALG_MD5, key) != 16) return RTC_EINVAL;
    return tsv__user_set(s, user, key);
}

int rtc_turn_server_add_own_address(rtc_turn_server *s, const rtc_addr *a)
{
    if (!s || !a || !rtc_addr_family(a)) return RTC_EINVAL;
    rtc_addr *n = realloc(s->own, (s->nown + 1) * sizeof *n);
    if (!n) return RTC_ENOMEM;
    s->own = n;
    s->own[s->nown++] = *a;
    return 0;
}

int rtc_turn_server_add_peer_rule(rtc_turn_server *s, const rtc_addr *net, int prefix, bool allow)
{
    int fam = net ? rtc_addr_family(net) : 0;
    if (!s || !fam || prefix < 0 || prefix > (fam == AF_INET ? 32 : 128)) return RTC_EINVAL;
    tsv_rule *r = realloc(s->rules, (s->nrules + 1) * sizeof *r);
    if (!r) return RTC_ENOMEM;
    s->rules = r;
    s->rules[s->nrules++] = (tsv_rule){ *net, prefix, allow };
    return 0;
}

void rtc_turn_server_set_unix_time(rtc_turn_server *s, int64_t unix_sec) { if (s) s->unix_now = unix_sec; }

/* ====== peer policy ====== */

static bool prefix_match(const rtc_addr *a, const rtc_addr *net, int prefix)
{
    if (rtc_addr_family(a) != rtc_addr_family(net)) return false;
    size_t n;
    const uint8_t *x = rtc_addr_bytes(a, &n), *y = rtc_addr_bytes(net, &n);
    int full = prefix / 8, rest = prefix % 8;
    if (memcmp(x, y, (size_t)full)) return false;
    if (rest == 0) return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (x[full] & mask) == (y[full] & mask);
}

/* Addresses no one relays to, whatever the configuration: unspecified, multicast,
 * broadcast, reserved, and IPv4-mapped IPv6 (which would dodge the IPv4 rules). The
 * port is not looked at: permissions are per IP and often asked for with port 0. */
static bool always_bad(const rtc_addr *p)
{
    size_t n;
    const uint8_t *b = rtc_addr_bytes(p, &n);
    if (rtc_addr_is_any(p)) return true;
    if (n == 4) return b[0] == 0 || b[0] >= 224;
    static const uint8_t mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xFF,0xFF };
    return b[0] == 0xFF || memcmp(b, mapped, 12) == 0;
}

/* Datagrams to the server's own IPs may only go to relay ports: that is how two
 * clients of one server reach each other, while the host's other services (and its
 * listeners) stay out of reach of relayed traffic. Without a configured range the
 * relay ports are the OS's choice, so only the listeners are refused. allow_loopback
 * and explicit allow rules lift the restriction. */
bool tsv__own_port_allowed(const rtc_turn_server *s, const rtc_addr *peer)
{
    bool own = rtc_addr_ip_eq(peer, &s->cfg.relay_v4) || rtc_addr_ip_eq(peer, &s->cfg.relay_v6);
    for (size_t i = 0; i < s->nown && !own; i++) own = rtc_addr_ip_eq(peer, &s->own[i]);
    if (!own) return true;
    /* asked for in so many words: loopback relaying (tests) or an allow rule */
    if (s->cfg.allow_loopback && rtc_addr_is_loopback(peer)) return true;
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rules[i].allow && prefix_match(peer, &s->rules[i].net, s->rules[i].prefix)) return true;
    uint16_t port = rtc_addr_port(peer);
    if (s->cfg.min_port || s->cfg.max_port)
        return port >= (s->cfg.min_port ? s->cfg.min_port : 1) && port <= s->cfg.max_port;
    for (size_t i = 0; i < s->nown; i++)
        if (rtc_addr_port(&s->own[i]) == port) return false;
    return true;
}

/* The IPv4 address inside a NAT64 (64:ff9b::/96 well-known, 64:ff9b:1::/48 local use;
 * RFC 6052, 8215) or 6to4 (2002::/16, RFC 3056) address: a gateway delivers to it, so
 * it is vetted as that IPv4 address (a relay to 64:ff9b::7f00:1 is a relay to
 * 127.0.0.1). */
static bool embedded_v4(const rtc_addr *p, rtc_addr *v4)
{
    size_t n;
    const uint8_t *b = rtc_addr_bytes(p, &n);
    if (n != 16) return false;
    static const uint8_t wkp[12] = { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
    if (memcmp(b, wkp, 12) == 0) { rtc_addr_from_bytes(v4, AF_INET, b + 12, rtc_addr_port(p)); return true; }
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01) {
        /* RFC 6052 /48: the IPv4 bytes sit at 6..8 and 10 (byte 9 is the u octet) */
        uint8_t ip[4] = { b[6], b[7], b[10], b[11] };
        rtc_addr_from_bytes(v4, AF_INET, ip, rtc_addr_port(p));
        return true;
    }
    if (b[0] == 0x20 && b[1] == 0x02) { rtc_addr_from_bytes(v4, AF_INET, b + 2, rtc_addr_port(p)); return true; }
    return false;
}

bool tsv__peer_allowed(const rtc_turn_server *s, const rtc_addr *peer)
{
    for (size_t i = 0; i < s->nown; i++)
        if (rtc_addr_eq(&s->own[i], peer)) return false;
    if (always_bad(peer)) return false;
    for (size_t i = 0; i < s->nrules; i++)
        if (s->rules[i].allow && prefix_match(peer, &s->rules[i].net, s->rules[i].prefix)) return true;
    for (size_t i = 0; i < s->nrules; i++)
        if (!s->rules[i].allow && prefix_match(peer, &s->rules[i].net, s->rules[i].prefix)) return false;
    if (!s->cfg.allow_loopback && rtc_addr_is_loopback(peer)) return false;
    if (!s->cfg.allow_private && rtc_addr_is_private(peer)) return false;
    if (!s->cfg.allow_link_local && rtc_addr_is_link_local(peer)) return false;
    rtc_addr v4;
    if (embedded_v4(peer, &v4)) return tsv__peer_allowed(s, &v4);   /* once: v4 embeds nothing */
    return true;
}

/* ====== output queues ====== */

rtc_buf *tsv__buf(rtc_turn_server *s, size_t size)
{
    return rtc_buf_alloc(s->cfg.pool, size);
}

static void queue_tx(rtc_turn_server *s, const rtc_transmit *t, uint32_t relay_id)
{
    if (s->tx_count == TSV_TX_RING) {
        s->st.dropped_queue++;
        rtc_buf_unref(t->buf);
        return;
    }
    tsv_tx *x = &s->tx[(s->tx_head + s->tx_count) % TSV_TX_RING];
    x->t = *t;
    x->relay_id = relay_id;
    s->tx_count++;
}

void tsv__queue_client(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto, rtc_buf *b)
{
    rtc_transmit t = { .local = *local, .remote = *client, .buf = b,
                       .proto = proto == RTC_PROTO_UDP ? RTC_PROTO_UDP : RTC_PROTO_TCP_RAW };
    queue_tx(s, &t, 0);
}

void tsv__queue_peer(rtc_turn_server *s, tsv_alloc *a, int idx, const rtc_addr *peer, rtc_buf *b)
{
    rtc_transmit t = { .local = a->relay[idx].addr, .remote = *peer, .buf = b, .proto = RTC_PROTO_UDP };
    queue_tx(s, &t, a->id | (uint32_t)idx);
}

rtc_turn_srv_event *tsv__push_event(rtc_turn_server *s, rtc_turn_srv_ev_type type)
{
    if (s->ev_count == s->ev_cap) {
        /* Events are never dropped (a lost RELAY_CLOSE leaks a socket); their number is
         * bounded by the allocation table, so growing is bounded too. */
        uint32_t ncap = s->ev_cap * 2;
        rtc_turn_srv_event *n = malloc(ncap * sizeof *n);
        if (!n) return NULL;
        for (uint32_t i = 0; i < s->ev_count; i++) n[i] = s->ev[(s->ev_head + i) % s->ev_cap];
        free(s->ev);
        s->ev = n; s->ev_cap = ncap; s->ev_head = 0;
    }
    rtc_turn_srv_event *e = &s->ev[(s->ev_head + s->ev_count) % s->ev_cap];
    s->ev_count++;
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

void tsv__event_alloc(rtc_turn_server *s, rtc_turn_srv_ev_type type, tsv_alloc *a, const char *reason)
{
    rtc_turn_srv_event *e = tsv__push_event(s, type);
    if (!e) return;
    e->alloc_id = a->id;
    memcpy(e->username, a->user, a->ulen + 1);
    e->local = a->local;
    e->client = a->client;
    e->proto = a->proto;
    if (a->nrelay > 0) e->addr = a->relay[0].addr;
    if (a->nrelay > 1) e->addr2 = a->relay[1].addr;
    e->reason = reason;
}

bool rtc_turn_server_poll_transmit2(rtc_turn_server *s, rtc_transmit *out, uint32_t *relay_id)
{
    if (!s->tx_count) return false;
    tsv_tx *x = &s->tx[s->tx_head];
    *out = x->t;
    if (relay_id) *relay_id = x->relay_id;
    s->tx_head = (s->tx_head + 1) % TSV_TX_RING;
    s->tx_count--;
    return true;
}

bool rtc_turn_server_poll_transmit(rtc_turn_server *s, rtc_transmit *out)
{
    return rtc_turn_server_poll_transmit2(s, out, NULL);
}

bool rtc_turn_server_poll_event(rtc_turn_server *s, rtc_turn_srv_event *out)
{
    if (!s->ev_count) return false;
    *out = s->ev[s->ev_head];
    s->ev_head = (s->ev_head + 1) % s->ev_cap;
    s->ev_count--;
    return true;
}

/* ====== allocation table ====== */

uint32_t tsv__tuple_hash(const rtc_addr *local, const rtc_addr *client, int proto)
{
    uint32_t h = rtc_addr_hash(client) * 2654435761u;
    h ^= rtc_addr_hash(local) + 0x9E3779B9u + (h << 6) + (h >> 2);
    return h ^ (uint32_t)proto;
}

tsv_alloc *tsv__find_alloc(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto)
{
    for (tsv_alloc *a = s->ahash[tsv__tuple_hash(local, client, proto) & s->ahash_mask]; a; a = a->hnext)
        if (a->proto == proto && rtc_addr_eq(&a->client, client) && rtc_addr_eq(&a->local, local)) return a;
    return NULL;
}

static tsv_alloc *alloc_by_relay(rtc_turn_server *s, uint32_t relay_id)
{
    uint32_t slot = (relay_id >> 1) & 0xFFFF;
    if (slot >= s->nslots) return NULL;
    tsv_alloc *a = s->slots[slot];
    if (!a || a->id != (relay_id & ~1u)) return NULL;
    return a;
}

tsv_alloc *tsv__new_alloc(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto)
{
    if (!s->nfree) return NULL;
    tsv_alloc *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    uint32_t slot = s->free_slots[--s->nfree];
    if (++s->gen > 0x3FFF) s->gen = 1;        /* bit 31 of a relay id is TSV_RESV_ID */
    a->slot = slot;
    a->id = (uint32_t)s->gen << 17 | slot << 1;
    a->local = *local;
    a->client = *client;
    a->proto = proto;
    uint32_t h = tsv__tuple_hash(local, client, proto) & s->ahash_mask;
    a->hnext = s->ahash[h];
    s->ahash[h] = a;
    s->slots[slot] = a;
    a->up.last = a->down.last = s->now;
    a->up.tokens = a->down.tokens = (double)s->cfg.bandwidth;
    s->st.allocations++;
    return a;
}

static void port_mark(rtc_turn_server *s, int fi, uint16_t port, bool used)
{
    uint8_t *bm = s->ports_used[fi];
    if (used) bm[port >> 3] |= (uint8_t)(1u << (port & 7));
    else bm[port >> 3] &= (uint8_t)~(1u << (port & 7));
}

static bool port_used(const rtc_turn_server *s, int fi, uint16_t port)
{
    return s->ports_used[fi][port >> 3] & (1u << (port & 7));
}

/* ====== reservations ====== */

static tsv_resv *resv_by_id(rtc_turn_server *s, uint32_t relay_id)
{
    for (uint32_t i = 0; i < s->nresv; i++)
        if (s->resv[i].relay_id == relay_id) return &s->resv[i];
    return NULL;
}

/* The reservation still waiting for `a` to become ready, if any. */
static tsv_resv *resv_pending(rtc_turn_server *s, const tsv_alloc *a)
{
    for (uint32_t i = 0; i < s->nresv; i++)
        if (s->resv[i].owner == a->id) return &s->resv[i];
    return NULL;
}

/* Removes `v`: its socket is closed (when one was asked for) and, unless `keep_port`,
 * its port goes back to the range. */
static void resv_drop(rtc_turn_server *s, tsv_resv *v, bool keep_port)
{
    if (!keep_port) port_mark(s, v->family == AF_INET6, v->port, false);
    if (v->state == TSV_RELAY_OPENING || v->state == TSV_RELAY_BOUND) {
        rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_RELAY_CLOSE);
        if (e) {
            e->relay_id = v->relay_id;
            e->addr = v->family == AF_INET6 ? s->cfg.relay_v6 : s->cfg.relay_v4;
            rtc_addr_set_port(&e->addr, v->port);
        }
    }
    *v = s->resv[--s->nresv];
}

/* Every relay bound, and the reserved port too when one was asked for: answer. */
static void maybe_ready(rtc_turn_server *s, tsv_alloc *a)
{
    for (int i = 0; i < a->nrelay; i++)
        if (a->relay[i].state != TSV_RELAY_BOUND) return;
    tsv_resv *v = resv_pending(s, a);
    if (v && v->state != TSV_RELAY_BOUND) return;
    if (v) v->owner = 0;                       /* from now on the token's, not a's */
    a->ready = true;
    s->st.allocations_total++;
    tsv__send_allocate_ok(s, a);
    tsv__event_alloc(s, RTC_TURN_SRV_EV_ALLOCATED, a, "allocated");
}

void tsv__release_relay(rtc_turn_server *s, tsv_alloc *a, int idx)
{
    tsv_relay *r = &a->relay[idx];
    if (r->port_reserved) {
        port_mark(s, rtc_addr_family(&r->addr) == AF_INET6, rtc_addr_port(&r->addr), false);
        r->port_reserved = false;
    }
    if (r->state == TSV_RELAY_OPENING || r->state == TSV_RELAY_BOUND) {
        rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_RELAY_CLOSE);
        if (e) { e->relay_id = a->id | (uint32_t)idx; e->alloc_id = a->id; e->addr = r->addr; }
    }
    r->state = TSV_RELAY_NONE;
}

void tsv__free_alloc(rtc_turn_server *s, tsv_alloc *a, const char *reason)
{
    uint32_t h = tsv__tuple_hash(&a->local, &a->client, a->proto) & s->ahash_mask;
    for (tsv_alloc **pp = &s->ahash[h]; *pp; pp = &(*pp)->hnext)
        if (*pp == a) { *pp = a->hnext; break; }
    for (int i = 0; i < a->nrelay; i++) tsv__release_relay(s, a, i);
    tsv_resv *v = a->ready ? NULL : resv_pending(s, a);   /* its token was never handed out */
    if (v) resv_drop(s, v, false);
    if (a->ready) tsv__event_alloc(s, RTC_TURN_SRV_EV_DEALLOCATED, a, reason);
    if (a->quota_counted) tsv__quota_del(s, (rtc_str){ a->user, a->ulen });
    s->slots[a->slot] = NULL;
    s->free_slots[s->nfree++] = a->slot;
    s->st.allocations--;
    free(a->perms);
    free(a->chans);
    free(a);
}

int tsv__relay_index(const tsv_alloc *a, int family)
{
    for (int i = 0; i < a->nrelay; i++)
        if (a->relay[i].state == TSV_RELAY_BOUND && rtc_addr_family(&a->relay[i].addr) == family) return i;
    return -1;
}

void tsv__no_port_why(const rtc_turn_server *s, int family, char *out, size_t size)
{
    if (!s->cfg.min_port && !s->cfg.max_port) { snprintf(out, size, "no relay socket (out of memory)"); return; }
    uint32_t lo = s->cfg.min_port ? s->cfg.min_port : 1, used = 0;
    for (uint32_t p = lo; p <= s->cfg.max_port; p++) used += port_used(s, family == AF_INET6, (uint16_t)p);
    snprintf(out, size, "no free relay port: %u of %u-%u in use or reserved", used, lo, s->cfg.max_port);
}

/* A port another socket holds is likely still held a moment later: each try of one
 * relay asks for a port not tried before. */
static bool failed_before(const tsv_relay *r, uint16_t port)
{
    for (int i = 0; i < r->tries && i < TSV_PORT_TRIES; i++)
        if (r->failed[i] == port) return true;
    return false;
}

/* Pick a free port in the range (even when asked) and ask the driver to bind it. */
int tsv__open_relay(rtc_turn_server *s, tsv_alloc *a, int idx, int family)
{
    tsv_relay *r = &a->relay[idx];
    const rtc_addr *ip = family == AF_INET6 ? &s->cfg.relay_v6 : &s->cfg.relay_v4;
    int fi = family == AF_INET6;
    r->addr = *ip;
    rtc_addr_set_port(&r->addr, 0);
    r->port_reserved = false;
    if (a->fixed_port) {
        rtc_addr_set_port(&r->addr, a->fixed_port);   /* marked since its reservation */
        r->port_reserved = true;
    } else if (s->cfg.min_port || s->cfg.max_port) {
        uint32_t lo = s->cfg.min_port ? s->cfg.min_port : 1, n = s->cfg.max_port - lo + 1;
        uint32_t start = rtc_rng_below(s->cfg.rng, n);
        bool pair = a->reserve_next && idx == 0 && s->nresv < TSV_MAX_RESV;
        int found = -1;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t p = lo + (start + i) % n;
            if (a->want_even && (p & 1)) continue;
            if (port_used(s, fi, (uint16_t)p) || failed_before(r, (uint16_t)p)) continue;
            if (pair && (p + 1 > s->cfg.max_port || port_used(s, fi, (uint16_t)(p + 1)))) continue;
            found = (int)p;
            break;
        }
        if (found < 0) return RTC_EAGAIN;
        if (pair && !s->resv && !(s->resv = malloc(TSV_MAX_RESV * sizeof *s->resv))) return RTC_ENOMEM;
        port_mark(s, fi, (uint16_t)found, true);
        rtc_addr_set_port(&r->addr, (uint16_t)found);
        r->port_reserved = true;
        if (pair) {
            /* keep port + 1 for the RESERVATION-TOKEN handed out with this allocation,
             * held by a socket of its own; the allocation waits for both binds */
            tsv_resv *v = &s->resv[s->nresv++];
            rtc_rng_bytes(s->cfg.rng, v->token, sizeof v->token);
            v->port = (uint16_t)(found + 1);
            v->family = family;
            v->expires = s->now + TSV_RESV_LIFETIME;
            if (++s->resv_seq > 0x7FFFFFFF) s->resv_seq = 1;
            v->relay_id = TSV_RESV_ID | s->resv_seq;
            v->owner = a->id;
            v->state = TSV_RELAY_NONE;
            port_mark(s, fi, v->port, true);
            tsv__schedule(s, v->expires);
            memcpy(a->token, v->token, sizeof a->token);
            a->has_token = true;
        }
    }
    r->state = TSV_RELAY_OPENING;
    rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_RELAY_OPEN);
    if (!e) return RTC_ENOMEM;
    e->relay_id = a->id | (uint32_t)idx;
    e->alloc_id = a->id;
    e->addr = r->addr;
    tsv_resv *v = a->has_token && idx == 0 ? resv_pending(s, a) : NULL;
    if (v && v->state == TSV_RELAY_NONE) {
        e = tsv__push_event(s, RTC_TURN_SRV_EV_RELAY_OPEN);
        if (!e) return RTC_ENOMEM;
        v->state = TSV_RELAY_OPENING;
        e->relay_id = v->relay_id;
        e->alloc_id = a->id;
        e->addr = r->addr;
        rtc_addr_set_port(&e->addr, v->port);
    }
    return 0;
}

/* The driver's answer for a reservation's socket. A port + 1 that cannot be bound makes
 * the pair useless: the allocation gives up its even port as well and tries another pair. */
static int resv_bound(rtc_turn_server *s, uint32_t relay_id, int status, const rtc_addr *bound)
{
    tsv_resv *v = resv_by_id(s, relay_id);
    if (!v || v->state != TSV_RELAY_OPENING) return RTC_ENOTFOUND;
    tsv_alloc *a = v->owner ? alloc_by_relay(s, v->owner) : NULL;
    if (status == 0 && bound && rtc_addr_family(bound) == v->family && rtc_addr_port(bound) == v->port) {
        v->state = TSV_RELAY_BOUND;
        if (a) maybe_ready(s, a);
        return 0;
    }
    uint16_t port = v->port;
    v->state = TSV_RELAY_NONE;                 /* nothing bound: nothing to close */
    resv_drop(s, v, false);
    if (!a) return status == 0 ? RTC_ENOTFOUND : 0;   /* a bound socket we cannot use: the driver closes it */
    int fam = rtc_addr_family(&a->relay[0].addr);
    tsv_relay *r = &a->relay[0];
    if (r->tries < TSV_PORT_TRIES) r->failed[r->tries] = rtc_addr_port(&r->addr);   /* the pair's even port */
    tsv__release_relay(s, a, 0);
    a->has_token = false;
    if (++a->relay[0].tries < TSV_PORT_TRIES && tsv__open_relay(s, a, 0, fam) == 0) return status == 0 ? RTC_ENOTFOUND : 0;
    char why[128];
    if (a->relay[0].tries < TSV_PORT_TRIES) tsv__no_port_why(s, fam, why, sizeof why);
    else snprintf(why, sizeof why, "%d relay binds failed, the last on reserved port %u: %s", a->relay[0].tries, port,
                  status < 0 ? rtc_err_name(status) : "wrong address");
    tsv__allocate_failed(s, a, 508, why);
    return status == 0 ? RTC_ENOTFOUND : 0;
}

int rtc_turn_server_relay_bound(rtc_turn_server *s, uint32_t relay_id, int status,
                                const rtc_addr *bound, rtc_time now)
{
    if (now > s->now) s->now = now;
    if (relay_id & TSV_RESV_ID) return resv_bound(s, relay_id, status, bound);
    tsv_alloc *a = alloc_by_relay(s, relay_id);
    int idx = (int)(relay_id & 1);
    if (!a || idx >= a->nrelay || a->relay[idx].state != TSV_RELAY_OPENING) return RTC_ENOTFOUND;
    tsv_relay *r = &a->relay[idx];
    if (status < 0 || !bound || rtc_addr_family(bound) != rtc_addr_family(&r->addr)) {
        if (r->port_reserved) port_mark(s, rtc_addr_family(&r->addr) == AF_INET6, rtc_addr_port(&r->addr), false);
        r->port_reserved = false;
        r->state = TSV_RELAY_NONE;
        uint16_t port = rtc_addr_port(&r->addr);
        int fam = rtc_addr_family(&r->addr);
        tsv_resv *v = idx == 0 && a->has_token ? resv_pending(s, a) : NULL;
        if (v) { resv_drop(s, v, false); a->has_token = false; }   /* a new pair is picked */
        if (r->tries < TSV_PORT_TRIES) r->failed[r->tries] = port;
        if (++r->tries < TSV_PORT_TRIES && tsv__open_relay(s, a, idx, fam) == 0) return 0;
        char why[128];
        if (r->tries < TSV_PORT_TRIES) tsv__no_port_why(s, fam, why, sizeof why);
        else snprintf(why, sizeof why, "%d relay binds failed, the last on port %u: %s", r->tries, port,
                      status < 0 ? rtc_err_name(status) : "wrong address family");
        tsv__allocate_failed(s, a, 508, why);
        return 0;
    }
    r->addr = *bound;
    r->state = TSV_RELAY_BOUND;
    maybe_ready(s, a);
    return 0;
}

bool tsv__take_reservation(rtc_turn_server *s, const uint8_t token[8], uint16_t *port, int *family)
{
    for (uint32_t i = 0; i < s->nresv; i++) {
        tsv_resv *v = &s->resv[i];
        if (v->owner || v->state != TSV_RELAY_BOUND || v->expires <= s->now || memcmp(v->token, token, 8)) continue;
        *port = v->port;
        *family = v->family;
        /* the holding socket is closed now and the port reopened as the new relay: the
         * driver handles the two events in order, so the port is free when asked for */
        resv_drop(s, v, true);
        return true;
    }
    return false;
}

/* ====== permissions, channels, bandwidth ====== */

tsv_perm *tsv__find_perm(tsv_alloc *a, const rtc_addr *peer, rtc_time now)
{
    for (uint32_t i = 0; i < a->nperm; i++)
        if (a->perms[i].expires > now && rtc_addr_ip_eq(&a->perms[i].ip, peer)) return &a->perms[i];
    return NULL;
}

tsv_chan *tsv__find_chan_num(tsv_alloc *a, uint16_t num, rtc_time now)
{
    for (uint32_t i = 0; i < a->nchan; i++)
        if (a->chans[i].num == num && a->chans[i].expires > now) return &a->chans[i];
    return NULL;
}

tsv_chan *tsv__find_chan_peer(tsv_alloc *a, const rtc_addr *peer, rtc_time now)
{
    for (uint32_t i = 0; i < a->nchan; i++)
        if (a->chans[i].expires > now && rtc_addr_eq(&a->chans[i].peer, peer)) return &a->chans[i];
    return NULL;
}

bool tsv__take_tokens(rtc_turn_server *s, tsv_bucket *b, size_t n)
{
    if (!s->cfg.bandwidth) return true;
    double cap = (double)s->cfg.bandwidth;   /* one second of burst */
    if (s->now > b->last) {
        b->tokens += (double)(s->now - b->last) * cap / 1e6;
        if (b->tokens > cap) b->tokens = cap;
        b->last = s->now;
    }
    if (b->tokens < (double)n) return false;
    b->tokens -= (double)n;
    return true;
}

void tsv__schedule(rtc_turn_server *s, rtc_time t)
{
    if (t < s->next_check) s->next_check = t;
}

/* ====== inputs ====== */

static uint32_t conn_hash(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client)
{
    return tsv__tuple_hash(local, client, RTC_PROTO_TCP) & s->chash_mask;
}

static tsv_conn *find_conn(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client)
{
    for (tsv_conn *c = s->chash[conn_hash(s, local, client)]; c; c = c->hnext)
        if (rtc_addr_eq(&c->client, client) && rtc_addr_eq(&c->local, local)) return c;
    return NULL;
}

static void drop_conn(rtc_turn_server *s, tsv_conn *c, const char *reason, bool tell_driver)
{
    tsv_alloc *a = tsv__find_alloc(s, &c->local, &c->client, RTC_PROTO_TCP_RAW);
    if (a) tsv__free_alloc(s, a, reason);
    for (tsv_conn **pp = &s->chash[conn_hash(s, &c->local, &c->client)]; *pp; pp = &(*pp)->hnext)
        if (*pp == c) { *pp = c->hnext; break; }
    if (tell_driver) {
        rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_CLOSE_CONN);
        if (e) { e->local = c->local; e->client = c->client; e->proto = RTC_PROTO_TCP_RAW; e->reason = reason; }
    }
    s->nconns--;
    s->st.tcp_conns = s->nconns;
    free(c->buf);
    free(c);
}

/* Like rtc_stun_frame_len, but with the RFC 5766 channel range (first byte 0x40-0x7F). */
static int frame_len(const uint8_t *p, size_t len)
{
    if (len < 4) return 0;
    uint16_t l = rtc_rd16(p + 2);
    if (p[0] < 4) return l & 3 ? RTC_EPROTO : RTC_STUN_HDR + l;
    if (p[0] >= 0x40 && p[0] <= 0x7F) return 4 + ((l + 3) & ~3);
    return RTC_EPROTO;
}

static int handle_frame(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto,
                        const uint8_t *p, size_t len)
{
    if (len == 0) { s->st.dropped_malformed++; return RTC_EPROTO; }
    if (p[0] < 4) return tsv__handle_stun(s, local, client, proto, p, len);
    if (p[0] >= 0x40 && p[0] <= 0x7F) return tsv__handle_channel_data(s, local, client, proto, p, len);
    s->st.dropped_malformed++;
    return RTC_EPROTO;
}

/* A new TCP connection: counted against max_tcp_conns and closed if it stays without
 * an allocation for TSV_TCP_IDLE. */
static int conn_open(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, tsv_conn **out)
{
    if (s->nconns >= s->cfg.max_tcp_conns) return RTC_EQUOTA;
    /* One address may not take every slot. A scan of the open connections, at open
     * time only (at most max_tcp_conns). */
    uint32_t same = 0;
    for (uint32_t i = 0; i <= s->chash_mask; i++)
        for (tsv_conn *o = s->chash[i]; o; o = o->hnext) same += rtc_addr_ip_eq(&o->client, client);
    if (same >= s->cfg.max_tcp_per_ip) return RTC_EQUOTA;
    tsv_conn *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    c->local = *local;
    c->client = *client;
    c->last_rx = s->now;
    uint32_t h = conn_hash(s, local, client);
    c->hnext = s->chash[h];
    s->chash[h] = c;
    s->nconns++;
    s->st.tcp_conns = s->nconns;
    tsv__schedule(s, s->now + TSV_TCP_IDLE);
    *out = c;
    return 0;
}

int rtc_turn_server_handle_tcp_open(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                    rtc_time now)
{
    if (!s || !local || !client) return RTC_EINVAL;
    if (now > s->now) s->now = now;
    tsv_conn *c = find_conn(s, local, client);
    if (c) return RTC_EEXISTS;
    return conn_open(s, local, client, &c);
}

/* Frames from a TCP stream. Whole frames are handled straight from the input; only
 * a partial frame at the end is copied into the connection's buffer. */
static int handle_stream(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                         const uint8_t *data, size_t len)
{
    tsv_conn *c = find_conn(s, local, client);
    if (!c) {
        int r = conn_open(s, local, client, &c);
        if (r < 0) {
            rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_CLOSE_CONN);
            if (e) { e->local = *local; e->client = *client; e->proto = RTC_PROTO_TCP_RAW; e->reason = "too many connections"; }
            s->st.dropped_malformed++;
            return r;
        }
    }
    /* Bytes do not extend an unallocated connection's life (one byte a minute would
     * hold a slot forever): it has TSV_TCP_IDLE from opening to allocate. */
    while (len > 0) {
        const uint8_t *p;
        size_t avail;
        if (c->len) {
            /* complete the buffered frame: first its 4-byte header, then its body */
            size_t need = 4;
            if (c->len >= 4) {
                int f = frame_len(c->buf, c->len);
                if (f < 0) goto broken;
                need = (size_t)f;
            }
            size_t take = need > c->len ? need - c->len : 0;
            if (take > len) take = len;
            if (c->len + take > c->cap) {
                size_t ncap = c->len + take < 256 ? 256 : c->len + take;
                if (ncap > TSV_TCP_MAX_FRAME + 20) goto broken;
                uint8_t *nb = realloc(c->buf, ncap);
                if (!nb) goto broken;
                c->buf = nb; c->cap = ncap;
            }
            memcpy(c->buf + c->len, data, take);
            c->len += take; data += take; len -= take;
            if (c->len < 4) return 0;
            int f = frame_len(c->buf, c->len);
            if (f < 0) goto broken;
            if (c->len < (size_t)f) continue;
            size_t flen = (size_t)f;
            if (c->buf[0] >= 0x40) flen = 4 + rtc_rd16(c->buf + 2);   /* without the padding */
            handle_frame(s, local, client, RTC_PROTO_TCP_RAW, c->buf, flen);
            if (!find_conn(s, local, client)) return 0;
            c->len = 0;
            continue;
        }
        p = data; avail = len;
        int f = frame_len(p, avail);
        if (f < 0) goto broken;
        if (f == 0 || (size_t)f > avail) {
            /* partial: keep it (the loop above completes it) */
            size_t ncap = avail < 256 ? 256 : avail;
            if (ncap > c->cap) {
                uint8_t *nb = realloc(c->buf, ncap);
                if (!nb) goto broken;
                c->buf = nb; c->cap = ncap;
            }
            memcpy(c->buf, p, avail);
            c->len = avail;
            return 0;
        }
        size_t flen = (size_t)f;
        if (p[0] >= 0x40) flen = 4 + rtc_rd16(p + 2);
        handle_frame(s, local, client, RTC_PROTO_TCP_RAW, p, flen);
        if (!find_conn(s, local, client)) return 0;
        data += f; len -= (size_t)f;
    }
    return 0;
broken:
    s->st.dropped_malformed++;
    drop_conn(s, c, "bad framing", true);
    return RTC_EPROTO;
}

int rtc_turn_server_handle_packet(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                  int proto, const uint8_t *data, size_t len, rtc_time now)
{
    if (!s || !local || !client || (!data && len)) return RTC_EINVAL;
    if (now > s->now) s->now = now;
    if (proto == RTC_PROTO_TCP || proto == RTC_PROTO_TCP_RAW) return handle_stream(s, local, client, data, len);
    return handle_frame(s, local, client, RTC_PROTO_UDP, data, len);
}

int rtc_turn_server_handle_tcp_closed(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client,
                                      rtc_time now)
{
    if (now > s->now) s->now = now;
    tsv_conn *c = find_conn(s, local, client);
    if (!c) return RTC_ENOTFOUND;
    drop_conn(s, c, "tcp closed", false);
    return 0;
}

/* A datagram from a peer: only from peers with a permission, as ChannelData when the
 * peer has a channel, else as a Data indication. */
int rtc_turn_server_handle_relay(rtc_turn_server *s, uint32_t relay_id, const rtc_addr *peer,
                                 const uint8_t *data, size_t len, rtc_time now)
{
    if (!s || !peer || (!data && len)) return RTC_EINVAL;
    if (now > s->now) s->now = now;
    tsv_alloc *a = alloc_by_relay(s, relay_id);
    if (!a || !a->ready) { s->st.dropped_no_allocation++; return RTC_ENOTFOUND; }
    if (!tsv__find_perm(a, peer, s->now)) { s->st.dropped_no_permission++; return RTC_EACCESS; }
    if (len > 65535 - 64) { s->st.dropped_malformed++; return RTC_ETOOBIG; }
    if (!tsv__take_tokens(s, &a->down, len)) { s->st.dropped_bandwidth++; return RTC_EAGAIN; }
    tsv_chan *ch = tsv__find_chan_peer(a, peer, s->now);
    rtc_buf *b;
    if (ch) {
        size_t pad = a->proto == RTC_PROTO_UDP ? 0 : (4 - (len & 3)) & 3;
        b = tsv__buf(s, 4 + len + pad);
        if (!b) return RTC_ENOMEM;
        rtc_wr16(b->data, ch->num);
        rtc_wr16(b->data + 2, (uint16_t)len);
        if (len) memcpy(b->data + 4, data, len);
        if (pad) memset(b->data + 4 + len, 0, pad);
        b->len = 4 + len + pad;
    } else {
        b = tsv__buf(s, len + 64);
        if (!b) return RTC_ENOMEM;
        /* indications need unique ids, not secret ones: a counter over a random base
         * spares a crypto RNG call per relayed packet */
        uint8_t *tid = s->ind_tid;
        rtc_wr64(tid + 4, rtc_rd64(tid + 4) + 1);
        rtc_stun_writer w;
        rtc_stun_writer_init(&w, b->data, b->cap, RTC_STUN_DATA, RTC_STUN_INDICATION, tid);
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
        rtc_stun_put(&w, RTC_STUN_ATTR_DATA, data, len);
        int n = rtc_stun_finish(&w);
        if (n < 0) { rtc_buf_unref(b); return n; }
        b->len = (size_t)n;
    }
    s->st.relayed_to_client++;
    s->st.relayed_to_client_bytes += len;
    tsv__queue_client(s, &a->local, &a->client, a->proto, b);
    return 0;
}

/* ====== time ====== */

static rtc_time prune(rtc_turn_server *s, tsv_alloc *a)
{
    rtc_time next = a->expires;
    uint32_t j = 0;
    for (uint32_t i = 0; i < a->nperm; i++) {
        if (a->perms[i].expires <= s->now) { s->st.expired_permissions++; continue; }
        next = rtc_time_min(next, a->perms[i].expires);
        a->perms[j++] = a->perms[i];
    }
    a->nperm = j;
    j = 0;
    for (uint32_t i = 0; i < a->nchan; i++) {
        tsv_chan *c = &a->chans[i];
        if (c->expires <= s->now) {
            if (!c->counted) { s->st.expired_channels++; c->counted = true; }
            if (c->expires + TSV_CHAN_QUARANTINE <= s->now) continue;
            next = rtc_time_min(next, c->expires + TSV_CHAN_QUARANTINE);
        } else {
            next = rtc_time_min(next, c->expires);
        }
        a->chans[j++] = *c;
    }
    a->nchan = j;
    return next;
}

int rtc_turn_server_handle_timeout(rtc_turn_server *s, rtc_time now)
{
    if (now > s->now) s->now = now;
    if (s->now < s->next_check) return 0;
    /* One pass over everything: expiries are rare events next to packets, and a pass
     * keeps the tables free of a second ordering structure. */
    rtc_time next = RTC_TIME_NEVER;
    for (uint32_t i = 0; i < s->nslots; i++) {
        tsv_alloc *a = s->slots[i];
        if (!a) continue;
        if (a->expires <= s->now) {
            s->st.expired_allocations++;
            tsv__free_alloc(s, a, "expired");
            continue;
        }
        next = rtc_time_min(next, prune(s, a));
    }
    for (uint32_t i = 0; i < s->nresv;) {
        /* one still waiting for its allocation goes with that allocation */
        if (s->resv[i].expires <= s->now && !s->resv[i].owner) {
            resv_drop(s, &s->resv[i], false);
            continue;
        }
        if (!s->resv[i].owner) next = rtc_time_min(next, s->resv[i].expires);
        i++;
    }
    for (uint32_t i = 0; i <= s->chash_mask; i++) {
        for (tsv_conn *c = s->chash[i], *n; c; c = n) {
            n = c->hnext;
            if (tsv__find_alloc(s, &c->local, &c->client, RTC_PROTO_TCP_RAW)) continue;
            if (c->last_rx + TSV_TCP_IDLE <= s->now) drop_conn(s, c, "idle", true);
            else next = rtc_time_min(next, c->last_rx + TSV_TCP_IDLE);
        }
    }
    s->next_check = next;
    return 0;
}

rtc_time rtc_turn_server_poll_timeout(const rtc_turn_server *s)
{
    if (s->tx_count || s->ev_count) return s->now;
    return s->next_check;
}

void rtc_turn_server_get_stats(const rtc_turn_server *s, rtc_turn_server_stats *out)
{
    *out = s->st;
}

int rtc_turn_rest_password(rtc_str secret, rtc_str username, char *out, size_t size)
{
    if (!out || size < 29) return RTC_EINVAL;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    if (!HMAC(EVP_sha1(), secret.p ? secret.p : "", (int)secret.len, (const unsigned char *)(username.p ? username.p : ""),
              username.len, mac, &mlen) || mlen != 20)
        return RTC_EINVAL;
    return EVP_EncodeBlock((unsigned char *)out, mac, 20);
}
