/* ICE agent: lifecycle, local candidates and their gathering (host, server-reflexive,
 * relay through turn_client), input routing, output queues and timers. The checklist
 * itself lives in ice_check.c. */
#include "ice_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "core/rtc_ring.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- queues -------------------------------------------------------------------------- */

static bool big_event(rtc_ice_ev_type t)
{
    return t == RTC_ICE_EV_LOCAL_CANDIDATE || t == RTC_ICE_EV_PEER_REFLEXIVE || t == RTC_ICE_EV_TURN_FAILED;
}

void ice__emit(rtc_ice_agent *a, const rtc_ice_event *e)
{
    ice_qev q = { .type = e->type };
    switch (e->type) {
    case RTC_ICE_EV_STATE: q.u.state = e->u.state; break;
    case RTC_ICE_EV_SELECTED_PAIR: q.u.pair = e->u.pair; break;
    case RTC_ICE_EV_ROLE: q.u.controlling = e->u.controlling; break;
    case RTC_ICE_EV_DATA: q.u.data.from = e->u.data.from; q.u.data.buf = e->u.data.buf; break;
    default:
        if (big_event(e->type)) {
            q.u.big = malloc(sizeof *q.u.big);
            if (!q.u.big) { a->stats.dropped++; return; }
            *q.u.big = *e;
        }
        break;
    }
    if (a->ev_n == a->ev_cap &&
        !rtc_ring_grow((void **)&a->ev, a->ev_inline, &a->ev_head, a->ev_n, &a->ev_cap, ICE_MAX_EVENTS, sizeof *a->ev)) {
        /* bounded: a caller that never drains loses events */
        if (e->type == RTC_ICE_EV_DATA) rtc_buf_unref(e->u.data.buf);
        if (big_event(e->type)) free(q.u.big);
        a->stats.dropped++;
        return;
    }
    a->ev[(a->ev_head + a->ev_n++) % a->ev_cap] = q;
}

static void push_transmit(rtc_ice_agent *a, const rtc_transmit *t)
{
    if (a->out_n == a->out_cap &&
        !rtc_ring_grow((void **)&a->out, a->out_inline, &a->out_head, a->out_n, &a->out_cap, ICE_MAX_OUT, sizeof *a->out)) {
        rtc_buf_unref(t->buf);
        a->stats.dropped++;
        return;
    }
    a->out[(a->out_head + a->out_n++) % a->out_cap] = *t;
}

void ice__set_state(rtc_ice_agent *a, rtc_ice_state s)
{
    if (a->state == s || a->state == RTC_ICE_CLOSED) return;
    if (s == RTC_ICE_DISCONNECTED) a->state_before_disc = a->state;
    rtc_debug("ice", "state %s -> %s", rtc_ice_state_name(a->state), rtc_ice_state_name(s));
    a->state = s;
    if (s == RTC_ICE_FAILED) {
        /* consent is gone: its requests (each waits out failed_after) wait for nothing */
        for (int i = a->ntxn - 1; i >= 0; i--)
            if (a->txns[i]->kind == TXN_CONSENT) ice__txn_del(a, a->txns[i]);
    }
    ice__emit(a, &(rtc_ice_event){ .type = RTC_ICE_EV_STATE, .u.state = s });
}

static void drain_turn_out(rtc_ice_agent *a, int i)
{
    rtc_transmit t;
    while (rtc_turn_client_poll_transmit(a->turns[i].tc, &t)) push_transmit(a, &t);
}

void ice__send(rtc_ice_agent *a, const rtc_addr *base, int turn, const rtc_addr *remote, int proto,
               const uint8_t *p, size_t len)
{
    if (turn >= 0) {
        if (turn < a->nturn && a->turns[turn].tc) {
            rtc_turn_client_send(a->turns[turn].tc, remote, p, len, a->now);
            drain_turn_out(a, turn);
        }
        return;
    }
    rtc_buf *b = rtc_buf_alloc(a->cfg.pool, len);
    if (!b) { a->stats.dropped++; return; }
    memcpy(b->data, p, len);
    b->len = len;
    push_transmit(a, &(rtc_transmit){ .local = *base, .remote = *remote, .buf = b, .proto = proto });
}

/* ---- transactions (heap objects: pointers stay valid while the table changes) -------- */

ice_txn *ice__txn_new(rtc_ice_agent *a)
{
    if (a->ntxn == ICE_MAX_TXNS) { a->stats.dropped++; return NULL; }
    if (a->ntxn == a->captxn) {
        int ncap = a->captxn ? a->captxn * 2 : 16;
        ice_txn **nv = realloc(a->txns, (size_t)ncap * sizeof *nv);
        if (!nv) return NULL;
        a->txns = nv;
        a->captxn = ncap;
    }
    ice_txn *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->turn = -1;
    t->pair = t->gather = -1;
    rtc_rng_bytes(a->cfg.rng, t->tid, sizeof t->tid);
    a->txns[a->ntxn++] = t;
    return t;
}

ice_txn *ice__txn_find(const rtc_ice_agent *a, const uint8_t *tid)
{
    for (int i = 0; i < a->ntxn; i++)
        if (memcmp(a->txns[i]->tid, tid, RTC_STUN_TID_LEN) == 0) return a->txns[i];
    return NULL;
}

void ice__txn_del(rtc_ice_agent *a, ice_txn *t)
{
    for (int i = 0; i < a->ntxn; i++) {
        if (a->txns[i] != t) continue;
        a->txns[i] = a->txns[--a->ntxn];
        free(t);
        return;
    }
}

/* ---- lifecycle --------------------------------------------------------------------- */

static bool valid_cred(rtc_str s, size_t min)
{
    if (s.len < min || s.len >= ICE_CRED_MAX || !s.p) return false;
    for (size_t i = 0; i < s.len; i++) if (s.p[i] == ':' || s.p[i] <= ' ') return false;
    return true;
}

static int set_cred(char **dst, rtc_str s)
{
    char *p = malloc(s.len + 1);
    if (!p) return RTC_ENOMEM;
    if (s.len) memcpy(p, s.p, s.len);
    p[s.len] = 0;
    free(*dst);
    *dst = p;
    return 0;
}

int rtc_ice_agent_new(rtc_ice_agent **out, const rtc_ice_config *cfg, rtc_time now)
{
    if (!out || !cfg || !cfg->rng || !valid_cred(cfg->local_ufrag, 4) || !valid_cred(cfg->local_pwd, 22))
        return RTC_EINVAL;
    rtc_ice_agent *a = calloc(1, sizeof *a);
    if (!a) return RTC_ENOMEM;
    a->cfg = *cfg;
    a->cfg.local_ufrag = a->cfg.local_pwd = (rtc_str){ 0 };
    if (!a->cfg.ta) a->cfg.ta = RTC_MS(50);
    if (!a->cfg.check_rto) a->cfg.check_rto = RTC_MS(250);
    if (!a->cfg.consent_interval) a->cfg.consent_interval = RTC_SEC(5);
    if (!a->cfg.disconnected_after) a->cfg.disconnected_after = RTC_SEC(7);
    if (!a->cfg.failed_after) a->cfg.failed_after = RTC_SEC(30);
    if (!a->cfg.nomination_delay) a->cfg.nomination_delay = RTC_MS(200);
    if (set_cred(&a->lufrag, cfg->local_ufrag) < 0 || set_cred(&a->lpwd, cfg->local_pwd) < 0 ||
        set_cred(&a->rufrag, rtc_str_c("")) < 0 || set_cred(&a->rpwd, rtc_str_c("")) < 0) {
        rtc_ice_agent_free(a);
        return RTC_ENOMEM;
    }
    a->controlling = cfg->lite ? false : cfg->controlling;
    a->state = RTC_ICE_NEW;
    a->now = now;
    a->next_check_at = a->first_valid_at = RTC_TIME_NEVER;
    a->consent_ok_at = a->next_consent_at = RTC_TIME_NEVER;
    a->sel.pair = -1;
    a->out = a->out_inline;
    a->out_cap = ICE_INLINE_OUT;
    a->ev = a->ev_inline;
    a->ev_cap = ICE_INLINE_EVENTS;
    *out = a;
    return 0;
}

void rtc_ice_agent_free(rtc_ice_agent *a)
{
    if (!a) return;
    for (int i = 0; i < a->nturn; i++) {
        rtc_turn_client_free(a->turns[i].tc);
        free(a->turns[i].user);
        free(a->turns[i].pass);
    }
    for (int i = 0; i < a->out_n; i++) rtc_buf_unref(a->out[(a->out_head + i) % a->out_cap].buf);
    for (int i = 0; i < a->ev_n; i++) {
        ice_qev *e = &a->ev[(a->ev_head + i) % a->ev_cap];
        if (e->type == RTC_ICE_EV_DATA) rtc_buf_unref(e->u.data.buf);
        if (big_event(e->type)) free(e->u.big);
    }
    for (int i = 0; i < a->ntxn; i++) free(a->txns[i]);
    for (int i = 0; i < a->nremote; i++) free(a->remotes[i].hostname);
    free(a->txns);
    if (a->out != a->out_inline) free(a->out);
    if (a->ev != a->ev_inline) free(a->ev);
    free(a->remotes);
    free(a->locals);
    free(a->pairs);
    free(a->old);
    free(a->lufrag);
    free(a->lpwd);
    free(a->rufrag);
    free(a->rpwd);
    free(a);
}

static rtc_time clamp(rtc_ice_agent *a, rtc_time now)
{
    if (now > a->now) a->now = now;
    return a->now;
}

/* ---- local candidates ------------------------------------------------------------- */

static int local_find_t(const rtc_ice_agent *a, const rtc_addr *addr, int turn, int transport)
{
    for (int i = 0; i < a->nlocal; i++)
        if (a->locals[i].turn == turn && a->locals[i].c.transport == transport &&
            rtc_addr_eq(&a->locals[i].c.addr, addr))
            return i;
    return -1;
}

int ice__local_find(const rtc_ice_agent *a, const rtc_addr *addr, int turn, int transport)
{
    return local_find_t(a, addr, turn, transport);
}

int ice__remote_find(const rtc_ice_agent *a, const rtc_addr *addr)
{
    for (int i = 0; i < a->nremote; i++)
        if (rtc_addr_family(&a->remotes[i].addr) && rtc_addr_eq(&a->remotes[i].addr, addr)) return i;
    return -1;
}

int ice__remote_find_t(const rtc_ice_agent *a, const rtc_addr *addr, int transport)
{
    for (int i = 0; i < a->nremote; i++)
        if (a->remotes[i].transport == transport && rtc_addr_family(&a->remotes[i].addr) &&
            rtc_addr_eq(&a->remotes[i].addr, addr))
            return i;
    return -1;
}

/* Same type, base IP, server and transport give the same foundation (RFC 8445 5.1.1.3). */
static void make_foundation(char *out, rtc_ice_cand_type type, const rtc_addr *base, const rtc_addr *server, int transport)
{
    uint32_t h = 2166136261u;
    rtc_addr b = *base, s = server ? *server : (rtc_addr){ 0 };
    rtc_addr_set_port(&b, 0);
    uint32_t parts[4] = { (uint32_t)type, rtc_addr_hash(&b),
                          rtc_addr_family(&s) ? (rtc_addr_set_port(&s, 0), rtc_addr_hash(&s)) : 0, (uint32_t)transport };
    for (int i = 0; i < 4; i++) { h ^= parts[i]; h *= 16777619u; }
    snprintf(out, RTC_ICE_FOUNDATION_MAX, "%u", h);
}

/* The next capacity for a table of `n` used slots, or 0 when it is full at `max`. */
static int next_cap(int n, int cap, int max)
{
    if (n < cap) return cap;
    if (n >= max) return 0;
    return cap * 2 > max ? max : cap ? cap * 2 : 2;
}

bool ice__local_room(rtc_ice_agent *a)
{
    int ncap = next_cap(a->nlocal, a->caplocal, ICE_MAX_LOCAL);
    if (ncap == a->caplocal) return ncap > 0;
    if (!ncap) return false;
    ice_local *nt = realloc(a->locals, (size_t)ncap * sizeof *nt);
    if (!nt) return false;
    a->locals = nt;
    a->caplocal = ncap;
    return true;
}

bool ice__pair_room(rtc_ice_agent *a)
{
    int ncap = next_cap(a->npairs, a->cappairs, ICE_MAX_PAIRS);
    if (ncap == a->cappairs) return ncap > 0;
    if (!ncap) return false;
    ice_pair *nt = realloc(a->pairs, (size_t)ncap * sizeof *nt);
    if (!nt) return false;
    a->pairs = nt;
    a->cappairs = ncap;
    return true;
}

bool ice__remote_room(rtc_ice_agent *a)
{
    int ncap = next_cap(a->nremote, a->capremote, ICE_MAX_REMOTE);
    if (ncap == a->capremote) return ncap > 0;
    if (!ncap) return false;
    ice_cand *nt = realloc(a->remotes, (size_t)ncap * sizeof *nt);
    if (!nt) return false;
    a->remotes = nt;
    a->capremote = ncap;
    return true;
}

static int add_local_t(rtc_ice_agent *a, rtc_ice_cand_type type, const rtc_addr *addr, const rtc_addr *base,
                       const rtc_addr *related, const rtc_addr *server, uint16_t local_pref, int turn, bool announce,
                       rtc_ice_tcptype tcptype)
{
    int transport = tcptype != RTC_ICE_TCP_NONE ? RTC_ICE_TCP : RTC_ICE_UDP;
    if (local_find_t(a, addr, turn, transport) >= 0) return RTC_EEXISTS;
    if (!ice__local_room(a)) return a->nlocal == ICE_MAX_LOCAL ? RTC_EQUOTA : RTC_ENOMEM;
    ice_local *l = &a->locals[a->nlocal];
    memset(&l->c, 0, sizeof l->c);
    l->c.type = type;
    l->c.addr = *addr;
    l->c.port = rtc_addr_port(addr);
    l->c.transport = (uint8_t)transport;
    l->c.tcptype = (uint8_t)tcptype;
    l->c.priority = transport == RTC_ICE_TCP ? rtc_ice_tcp_candidate_priority(type, tcptype, local_pref >> 3, 1)
                                             : rtc_ice_candidate_priority(type, local_pref, 1);
    if (related && rtc_addr_family(related)) { l->c.related = *related; l->c.has_related = true; }
    /* The foundation's transport part: 0 UDP, 1 TCP (TURN or ICE-TCP). */
    make_foundation(l->c.foundation, type, base, server,
                    transport == RTC_ICE_TCP ? 1 : turn >= 0 ? a->turns[turn].transport : RTC_ICE_UDP);
    l->base = *base;
    l->turn = turn;
    l->announced = announce;
    a->nlocal++;
    a->stats.local_candidates = (uint32_t)a->nlocal;
    if (announce) {
        rtc_ice_event e = { .type = RTC_ICE_EV_LOCAL_CANDIDATE };
        ice__cand_full(&l->c, &e.u.cand);
        ice__emit(a, &e);
    }
    return a->nlocal - 1;
}

static int add_local(rtc_ice_agent *a, rtc_ice_cand_type type, const rtc_addr *addr, const rtc_addr *base,
                     const rtc_addr *related, const rtc_addr *server, uint16_t local_pref, int turn, bool announce)
{
    return add_local_t(a, type, addr, base, related, server, local_pref, turn, announce, RTC_ICE_TCP_NONE);
}

int rtc_ice_agent_add_tcp_host_candidate(rtc_ice_agent *a, const rtc_addr *base, uint16_t local_pref,
                                         rtc_ice_tcptype tcptype, rtc_ice_candidate *out, rtc_time now)
{
    clamp(a, now);
    if (!base || !rtc_addr_family(base) || !rtc_addr_port(base)) return RTC_EINVAL;
    if (tcptype != RTC_ICE_TCP_PASSIVE) return RTC_ENOTSUP;
    int i = add_local_t(a, RTC_ICE_HOST, base, base, NULL, NULL, local_pref, -1, !a->cfg.relay_only, tcptype);
    if (i < 0) return i;
    if (out) ice__cand_full(&a->locals[i].c, out);
    ice__form_pairs(a);
    return 0;
}

int rtc_ice_agent_add_host_candidate(rtc_ice_agent *a, const rtc_addr *base, uint16_t local_pref,
                                     rtc_ice_candidate *out, rtc_time now)
{
    clamp(a, now);
    if (!base || !rtc_addr_family(base)) return RTC_EINVAL;
    int i = add_local(a, RTC_ICE_HOST, base, base, NULL, NULL, local_pref, -1, !a->cfg.relay_only);
    if (i < 0) return i;
    if (out) ice__cand_full(&a->locals[i].c, out);
    ice__form_pairs(a);
    return 0;
}

static int local_pref_of(const rtc_ice_agent *a, const rtc_addr *base)
{
    for (int i = 0; i < a->nlocal; i++)
        if (a->locals[i].c.type == RTC_ICE_HOST && a->locals[i].c.transport == RTC_ICE_UDP &&
            rtc_addr_eq(&a->locals[i].base, base))
            return (int)((a->locals[i].c.priority >> 8) & 0xFFFF);
    return 65535;
}

static void send_gather(rtc_ice_agent *a, int g)
{
    ice_txn *t = ice__txn_new(a);
    if (!t) { a->gathers[g].done = true; return; }
    t->kind = TXN_GATHER;
    t->gather = g;
    t->base = a->gathers[g].base;
    t->remote = a->gathers[g].server;
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, t->msg, sizeof t->msg, RTC_STUN_BINDING, RTC_STUN_REQUEST, t->tid);
    rtc_stun_put_fingerprint(&w);
    t->len = (size_t)rtc_stun_finish(&w);
    rtc_stun_txn_start(&t->t, &(rtc_stun_rto_cfg){ .rto = RTC_MS(500), .rc = 5, .rm = 4 }, a->now);
}

static bool servers_ok(const rtc_addr *base, const rtc_addr *servers, int n)
{
    if (!base || !servers || n < 1 || n > RTC_ICE_MAX_ALT) return false;
    for (int i = 0; i < n; i++)
        if (!rtc_addr_family(&servers[i]) || (i > 0 && rtc_addr_family(&servers[i]) != rtc_addr_family(&servers[0])))
            return false;
    return true;
}

int rtc_ice_agent_add_stun_servers(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *servers, int n,
                                   rtc_time now)
{
    clamp(a, now);
    if (!servers_ok(base, servers, n)) return RTC_EINVAL;
    if (a->ngather == ICE_MAX_GATHER) return RTC_EQUOTA;
    int g = a->ngather++;
    a->gathers[g] = (ice_gather){ .base = *base, .server = servers[0], .nalt = (uint8_t)(n - 1) };
    for (int i = 1; i < n; i++) a->gathers[g].alt[i - 1] = servers[i];
    a->gathering_done_sent = false;   /* a server added later: GATHERING_DONE again once it answers */
    send_gather(a, g);
    return 0;
}

int rtc_ice_agent_add_stun_server(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server, rtc_time now)
{
    return rtc_ice_agent_add_stun_servers(a, base, server, 1, now);
}

static int turn_client_for(rtc_ice_agent *a, const ice_turn *t, const rtc_addr *server, rtc_turn_client **out)
{
    rtc_turn_config tc = {
        .server = *server, .local = t->base, .transport = t->transport, .username = rtc_str_c(t->user),
        .password = rtc_str_c(t->pass), .rng = a->cfg.rng, .pool = a->cfg.pool, .family = rtc_addr_family(server),
    };
    return rtc_turn_client_new(out, &tc, a->now);
}

int rtc_ice_agent_add_turn_servers(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *servers, int n,
                                   int transport, rtc_str user, rtc_str pass, rtc_time now)
{
    clamp(a, now);
    if (!servers_ok(base, servers, n) || transport < RTC_TURN_UDP || transport > RTC_TURN_TLS) return RTC_EINVAL;
    if (a->nturn == ICE_MAX_TURN) return RTC_EQUOTA;
    ice_turn *t = &a->turns[a->nturn];
    *t = (ice_turn){ .base = *base, .server = servers[0], .transport = transport, .nalt = (uint8_t)(n - 1) };
    for (int i = 1; i < n; i++) t->alt[i - 1] = servers[i];
    t->user = strndup(user.p ? user.p : "", user.len);
    t->pass = strndup(pass.p ? pass.p : "", pass.len);
    int r = t->user && t->pass ? turn_client_for(a, t, &t->server, &t->tc) : RTC_ENOMEM;
    if (r < 0) {
        free(t->user);
        free(t->pass);
        *t = (ice_turn){ 0 };
        return r;
    }
    a->nturn++;
    a->gathering_done_sent = false;
    drain_turn_out(a, a->nturn - 1);
    return 0;
}

int rtc_ice_agent_add_turn_server(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server,
                                  int transport, rtc_str user, rtc_str pass, rtc_time now)
{
    return rtc_ice_agent_add_turn_servers(a, base, server, 1, transport, user, pass, now);
}

/* The allocation failed without an answer from the server (no response, or the
 * connection to it failed): on to the next address of its name, if any. */
static bool turn_next_address(rtc_ice_agent *a, int i, const rtc_turn_event *e)
{
    ice_turn *t = &a->turns[i];
    if ((e->error != RTC_ETIMEDOUT && e->error != RTC_EIO) || t->next_alt >= t->nalt) return false;
    rtc_turn_client *nc;
    const rtc_addr *next = &t->alt[t->next_alt++];
    if (turn_client_for(a, t, next, &nc) < 0) return false;
    char was[RTC_ADDR_STRLEN], now_s[RTC_ADDR_STRLEN];
    rtc_info("ice", "TURN server %s: %s; trying %s", rtc_addr_str(&t->server, was, sizeof was), e->reason,
             rtc_addr_str(next, now_s, sizeof now_s));
    rtc_turn_client_free(t->tc);
    t->tc = nc;
    t->server = *next;
    return true;
}

static void on_relay_stun(rtc_ice_agent *a, int ti, const rtc_addr *peer, const uint8_t *p, size_t len);

/* Pull everything a TURN client produced: transmits into our queue, events into state. */
static void drain_turn(rtc_ice_agent *a, int i)
{
    drain_turn_out(a, i);
    rtc_turn_event e;
    while (a->turns[i].tc && rtc_turn_client_poll_event(a->turns[i].tc, &e)) {
        switch (e.type) {
        case RTC_TURN_EV_ALLOCATED: {
            a->turns[i].done = true;
            int li = add_local(a, RTC_ICE_RELAY, &e.relayed, &e.relayed, &e.mapped, &a->turns[i].server,
                               rtc_ice_relay_local_pref(a->turns[i].transport), i, true);
            if (li >= 0) ice__form_pairs(a);
            /* The server also told us our reflexive address: worth signalling. */
            if (rtc_addr_family(&e.mapped) && !rtc_addr_eq(&e.mapped, &a->turns[i].base) &&
                a->turns[i].transport == RTC_TURN_UDP)
                add_local(a, RTC_ICE_SRFLX, &e.mapped, &a->turns[i].base, &a->turns[i].base, &a->turns[i].server,
                          (uint16_t)local_pref_of(a, &a->turns[i].base), -1, !a->cfg.relay_only);
            break;
        }
        case RTC_TURN_EV_FAILED: {
            if (turn_next_address(a, i, &e)) break;     /* a new client: its output below */
            a->turns[i].done = true;
            rtc_ice_event ev = { .type = RTC_ICE_EV_TURN_FAILED };
            ev.u.turn.server = a->turns[i].server;
            ev.u.turn.error = e.error;
            ev.u.turn.code = e.code;
            memcpy(ev.u.turn.reason, e.reason, sizeof ev.u.turn.reason);
            ice__emit(a, &ev);
            break;
        }
        case RTC_TURN_EV_DATA:
            if (rtc_stun_is_stun(e.data->data, e.data->len)) {
                on_relay_stun(a, i, &e.peer, e.data->data, e.data->len);
                rtc_buf_unref(e.data);
            } else {
                rtc_ice_event ev = { .type = RTC_ICE_EV_DATA };
                ev.u.data.from = e.peer;
                ev.u.data.buf = e.data;
                ice__emit(a, &ev);
            }
            break;
        case RTC_TURN_EV_CLOSED:
            break;
        }
        drain_turn_out(a, i);
    }
}

int rtc_ice_agent_turn_transport_failed(rtc_ice_agent *a, const rtc_addr *base, const rtc_addr *server,
                                        int transport, int error, const char *reason, rtc_time now)
{
    clamp(a, now);
    for (int i = 0; i < a->nturn; i++) {
        ice_turn *t = &a->turns[i];
        if (t->transport != transport || !rtc_addr_eq(&t->server, server) || !rtc_addr_eq(&t->base, base)) continue;
        rtc_turn_client_transport_failed(t->tc, error, reason, a->now);
        drain_turn(a, i);
        a->dirty = true;
        return 0;
    }
    return RTC_ENOTFOUND;
}

/* Relay candidates prefer UDP, then TCP, then TLS to the server (RFC 8445 section
 * 5.1.2.2: the local preference may reflect the relay's transport; browsers rank them
 * the same way). The stats read the transport back from it (rtc_ice_relay_protocol). */
uint16_t rtc_ice_relay_local_pref(int transport)
{
    return transport == RTC_TURN_UDP ? 65535 : transport == RTC_TURN_TCP ? 32767 : 16383;
}

const char *rtc_ice_relay_protocol(uint32_t priority)
{
    uint16_t lp = (uint16_t)((priority >> 8) & 0xffff);
    return lp == rtc_ice_relay_local_pref(RTC_TURN_UDP) ? "udp"
         : lp == rtc_ice_relay_local_pref(RTC_TURN_TCP) ? "tcp"
         : lp == rtc_ice_relay_local_pref(RTC_TURN_TLS) ? "tls" : NULL;
}

/* ---- remote side ----------------------------------------------------------------- */

int rtc_ice_agent_set_remote_credentials(rtc_ice_agent *a, rtc_str ufrag, rtc_str pwd, rtc_time now)
{
    clamp(a, now);
    if (!valid_cred(ufrag, 1) || !valid_cred(pwd, 1)) return RTC_EINVAL;
    if (set_cred(&a->rufrag, ufrag) < 0 || set_cred(&a->rpwd, pwd) < 0) return RTC_ENOMEM;
    a->have_remote = true;
    a->dirty = true;
    a->last_activity = a->now;
    ice__form_pairs(a);
    return 0;
}

int rtc_ice_agent_add_remote_candidate(rtc_ice_agent *a, const rtc_ice_candidate *c, rtc_time now)
{
    clamp(a, now);
    if (!c) return RTC_EINVAL;
    if (c->component != 1) return RTC_ENOTSUP;
    rtc_ice_tcptype tt = RTC_ICE_TCP_NONE;
    if (c->transport == RTC_ICE_TCP) {
        /* Simultaneous open needs both sides to connect at once: not supported. */
        tt = rtc_ice_tcptype_parse(c->tcptype);
        if (tt != RTC_ICE_TCP_ACTIVE && tt != RTC_ICE_TCP_PASSIVE) return RTC_ENOTSUP;
    } else if (c->transport != RTC_ICE_UDP) {
        return RTC_ENOTSUP;
    }
    bool resolved = rtc_addr_family(&c->addr) != 0;
    for (int i = 0; i < a->nremote; i++) {
        ice_cand *r = &a->remotes[i];
        if (r->transport != c->transport) continue;
        if (resolved && rtc_addr_family(&r->addr) && rtc_addr_eq(&r->addr, &c->addr)) {
            /* A signalled candidate replaces a peer-reflexive one learnt from checks. */
            if (r->type == RTC_ICE_PRFLX && c->type != RTC_ICE_PRFLX) {
                memcpy(r->foundation, c->foundation, sizeof r->foundation);
                r->type = c->type;
                r->priority = c->priority;
            }
            return RTC_EEXISTS;
        }
        bool same_name = c->hostname[0] && r->hostname && strcmp(r->hostname, c->hostname) == 0;
        if (!resolved && same_name && r->port == c->port)
            return RTC_EEXISTS;
        if (resolved && same_name && !rtc_addr_family(&r->addr) && r->port == c->port) {
            r->addr = c->addr;                 /* the driver resolved an mDNS name */
            rtc_addr_set_port(&r->addr, c->port);
            ice__form_pairs(a);
            return 0;
        }
    }
    if (!ice__remote_room(a)) return a->nremote == ICE_MAX_REMOTE ? RTC_EQUOTA : RTC_ENOMEM;
    ice_cand *r = &a->remotes[a->nremote];
    *r = (ice_cand){ .type = c->type, .priority = c->priority, .addr = c->addr, .port = c->port,
                     .has_related = c->has_related, .related = c->related,
                     .transport = (uint8_t)c->transport, .tcptype = (uint8_t)tt };
    memcpy(r->foundation, c->foundation, sizeof r->foundation);
    if (c->hostname[0] && !(r->hostname = strdup(c->hostname))) return RTC_ENOMEM;
    if (resolved) rtc_addr_set_port(&a->remotes[a->nremote].addr, c->port);
    a->nremote++;
    a->stats.remote_candidates = (uint32_t)a->nremote;
    a->dirty = true;
    a->last_activity = a->now;
    ice__form_pairs(a);
    return 0;
}

int rtc_ice_agent_end_of_candidates(rtc_ice_agent *a, rtc_time now)
{
    clamp(a, now);
    a->remote_eoc = true;
    a->dirty = true;
    a->last_activity = a->now;
    return 0;
}

int rtc_ice_agent_restart(rtc_ice_agent *a, rtc_str ufrag, rtc_str pwd, rtc_time now)
{
    clamp(a, now);
    if (!valid_cred(ufrag, 4) || !valid_cred(pwd, 22)) return RTC_EINVAL;
    if (a->state == RTC_ICE_CLOSED) return RTC_ESTATE;
    if (a->sel.set && !a->old) {
        /* Keep answering and sending consent with the old credentials until a new pair is
         * selected, so data keeps flowing on the old one. A second restart before that
         * keeps them: they are the selected pair's, not the generation in between. */
        if (!(a->old = malloc(sizeof *a->old))) return RTC_ENOMEM;
        snprintf(a->old->rufrag, ICE_CRED_MAX, "%s", a->rufrag);
        snprintf(a->old->rpwd, ICE_CRED_MAX, "%s", a->rpwd);
        snprintf(a->old->lufrag, ICE_CRED_MAX, "%s", a->lufrag);
        snprintf(a->old->lpwd, ICE_CRED_MAX, "%s", a->lpwd);
    }
    if (set_cred(&a->lufrag, ufrag) < 0 || set_cred(&a->lpwd, pwd) < 0) return RTC_ENOMEM;
    a->have_remote = false;
    a->rufrag[0] = a->rpwd[0] = 0;
    a->remote_eoc = false;
    for (int i = 0; i < a->nremote; i++) free(a->remotes[i].hostname);
    a->nremote = 0;
    /* Peer-reflexive local candidates belong to the old checklist. */
    int k = 0;
    for (int i = 0; i < a->nlocal; i++)
        if (a->locals[i].c.type != RTC_ICE_PRFLX) a->locals[k++] = a->locals[i];
    a->nlocal = k;
    ice__reset_checklist(a);
    a->dirty = true;
    a->last_activity = a->now;
    if (a->state == RTC_ICE_FAILED) {
        /* A restart is the way out of failed: start over without the dead pair. */
        a->sel.set = false;
        free(a->old);
        a->old = NULL;
        ice__set_state(a, RTC_ICE_CHECKING);
    }
    return 0;
}

int rtc_ice_agent_set_relay_only(rtc_ice_agent *a, bool relay_only, rtc_time now)
{
    clamp(a, now);
    if (a->state == RTC_ICE_CLOSED) return RTC_ESTATE;
    if (a->cfg.relay_only == relay_only) return 0;
    a->cfg.relay_only = relay_only;
    /* Host and server-reflexive candidates are gathered under either policy (the
     * sockets exist, a TURN server reports the mapped address anyway); the policy only
     * says whether they are signalled and paired. Peer-reflexive ones are never signalled. */
    for (int i = 0; i < a->nlocal; i++) {
        ice_local *l = &a->locals[i];
        if (l->c.type != RTC_ICE_HOST && l->c.type != RTC_ICE_SRFLX) continue;
        if (relay_only) { l->announced = false; continue; }
        if (l->announced) continue;
        l->announced = true;
        rtc_ice_event e = { .type = RTC_ICE_EV_LOCAL_CANDIDATE };
        ice__cand_full(&l->c, &e.u.cand);
        ice__emit(a, &e);
    }
    ice__form_pairs(a);
    a->dirty = true;
    return 0;
}

/* ---- input ------------------------------------------------------------------------- */

static int find_host_local(const rtc_ice_agent *a, const rtc_addr *local, const rtc_addr *remote, int transport)
{
    if (local && rtc_addr_family(local)) {
        for (int i = 0; i < a->nlocal; i++)
            if (a->locals[i].turn < 0 && a->locals[i].c.type == RTC_ICE_HOST && a->locals[i].c.transport == transport &&
                rtc_addr_eq(&a->locals[i].base, local))
                return i;
    }
    /* ICE-TCP input names its listener: no guessing. */
    if (transport == RTC_ICE_TCP) return -1;
    /* No (known) local address given: one socket per family. */
    for (int i = 0; i < a->nlocal; i++)
        if (a->locals[i].turn < 0 && a->locals[i].c.type == RTC_ICE_HOST && a->locals[i].c.transport == transport &&
            rtc_addr_family(&a->locals[i].base) == rtc_addr_family(remote))
            return i;
    return -1;
}

static int on_gather_response(rtc_ice_agent *a, ice_txn *t, const rtc_stun_msg *m)
{
    int g = t->gather;
    if (g < 0 || g >= a->ngather) return RTC_EIGNORED;
    a->gathers[g].done = true;
    rtc_addr mapped;
    if (m->cls == RTC_STUN_SUCCESS &&
        (rtc_stun_get_addr(m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) == 0 ||
         rtc_stun_get_addr(m, RTC_STUN_ATTR_MAPPED_ADDRESS, &mapped) == 0) &&
        !rtc_addr_eq(&mapped, &a->gathers[g].base)) {
        add_local(a, RTC_ICE_SRFLX, &mapped, &a->gathers[g].base, &a->gathers[g].base, &a->gathers[g].server,
                  (uint16_t)local_pref_of(a, &a->gathers[g].base), -1, !a->cfg.relay_only);
    }
    return 0;
}

static int dispatch_stun(rtc_ice_agent *a, const rtc_stun_msg *m, int local_idx, const rtc_addr *base,
                         int turn, const rtc_addr *remote)
{
    if (m->cls == RTC_STUN_REQUEST) {
        if (m->method != RTC_STUN_BINDING || local_idx < 0) { a->stats.dropped++; return RTC_EIGNORED; }
        return ice__on_request(a, m, local_idx, remote);
    }
    if (m->cls == RTC_STUN_INDICATION) return 0;          /* keepalive */
    ice_txn *t = ice__txn_find(a, m->tid);
    if (!t) { a->stats.dropped++; return RTC_EIGNORED; }
    int r = t->kind == TXN_GATHER ? on_gather_response(a, t, m) : ice__on_response(a, t, m, base, turn, remote);
    if (r == RTC_EIGNORED) { a->stats.dropped++; return r; }
    ice__txn_del(a, t);
    return r;
}

static void on_relay_stun(rtc_ice_agent *a, int ti, const rtc_addr *peer, const uint8_t *p, size_t len)
{
    rtc_stun_msg m;
    if (rtc_stun_parse(p, len, &m) < 0) { a->stats.dropped++; return; }
    int li = -1;
    for (int i = 0; i < a->nlocal; i++)
        if (a->locals[i].turn == ti && a->locals[i].c.type == RTC_ICE_RELAY) { li = i; break; }
    dispatch_stun(a, &m, li, li >= 0 ? &a->locals[li].base : NULL, ti, peer);
}

static int handle_stun_on(rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *local,
                          const rtc_addr *remote, int transport, rtc_time now);

int rtc_ice_agent_handle_stun(rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *local,
                              const rtc_addr *remote, rtc_time now)
{
    return handle_stun_on(a, m, local, remote, RTC_ICE_UDP, now);
}

static int handle_stun_on(rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *local,
                          const rtc_addr *remote, int transport, rtc_time now)
{
    clamp(a, now);
    if (a->state == RTC_ICE_CLOSED) return RTC_ECLOSED;
    int li = find_host_local(a, local, remote, transport);
    /* A TCP frame for no listener of ours: nothing to answer it on. */
    if (transport == RTC_ICE_TCP && li < 0) { a->stats.dropped++; return RTC_EIGNORED; }
    /* A socket whose address is no host candidate's (a wildcard-bound shared port that
     * announces interface or public addresses) cannot say which candidate a response
     * came back to: then the response's symmetry is judged by the remote side only. */
    const rtc_addr *base = li >= 0 ? &a->locals[li].base : local;
    if (li >= 0 && local && rtc_addr_family(local) && !rtc_addr_eq(local, base)) base = NULL;
    int r = dispatch_stun(a, m, li, base, -1, remote);
    ice__tick(a);
    return r;
}

/* A TURN client is one allocation: (local base, server, transport). Two clients may
 * share a server (one per interface, or TCP and UDP), so the server address alone does
 * not say whose packet it is. `local` unset: one socket per family, the first match. */
static int find_turn(const rtc_ice_agent *a, const rtc_addr *local, const rtc_addr *remote, int proto)
{
    if (proto == RTC_PROTO_TCP) return -1;      /* ICE-TCP frames come from peers, not servers */
    bool tcp = proto == RTC_PROTO_TCP_RAW;
    bool have_local = local && rtc_addr_family(local);
    for (int i = 0; i < a->nturn; i++)
        if (rtc_addr_eq(&a->turns[i].server, remote) && (a->turns[i].transport != RTC_TURN_UDP) == tcp &&
            (!have_local || rtc_addr_eq(&a->turns[i].base, local)))
            return i;
    return -1;
}

/* A STUN response to one of the agent's own transactions (a Binding request to a STUN
 * server that is also our TURN server: stun: and turn: on one host:port). Transaction
 * ids are 96 random bits, so a TURN client's response is never mistaken for ours. */
static bool own_response(const rtc_ice_agent *a, const uint8_t *data, size_t len, rtc_stun_msg *m)
{
    if (!rtc_stun_is_stun(data, len) || rtc_stun_parse(data, len, m) < 0) return false;
    return (m->cls == RTC_STUN_SUCCESS || m->cls == RTC_STUN_ERROR) && ice__txn_find(a, m->tid) != NULL;
}

int rtc_ice_agent_handle_packet(rtc_ice_agent *a, const rtc_addr *local, const rtc_addr *remote,
                                const uint8_t *data, size_t len, int proto, rtc_time now)
{
    clamp(a, now);
    rtc_stun_msg m;
    int ti = find_turn(a, local, remote, proto);
    if (ti >= 0 && !(proto == RTC_PROTO_UDP && own_response(a, data, len, &m))) {
        int r = rtc_turn_client_handle_packet(a->turns[ti].tc, data, len, a->now);
        drain_turn(a, ti);
        ice__tick(a);
        return r;
    }
    if ((proto != RTC_PROTO_UDP && proto != RTC_PROTO_TCP) || !rtc_stun_is_stun(data, len)) {
        a->stats.dropped++;
        return RTC_EIGNORED;
    }
    int r = rtc_stun_parse(data, len, &m);
    if (r < 0) { a->stats.dropped++; return r; }
    return handle_stun_on(a, &m, local, remote, proto == RTC_PROTO_TCP ? RTC_ICE_TCP : RTC_ICE_UDP, now);
}

bool rtc_ice_agent_accepts_stun(const rtc_ice_agent *a, const rtc_stun_msg *m, const rtc_addr *remote)
{
    if (m->cls == RTC_STUN_REQUEST) {
        rtc_str u;
        if (rtc_stun_get_str(m, RTC_STUN_ATTR_USERNAME, &u) < 0) return false;
        size_t n = 0;
        while (n < u.len && u.p[n] != ':') n++;
        if (n == strlen(a->lufrag) && memcmp(u.p, a->lufrag, n) == 0) return true;
        return a->old && n == strlen(a->old->lufrag) && memcmp(u.p, a->old->lufrag, n) == 0;
    }
    if (m->cls == RTC_STUN_INDICATION) return ice__remote_find(a, remote) >= 0;
    return ice__txn_find(a, m->tid) != NULL;
}

bool rtc_ice_agent_accepts(const rtc_ice_agent *a, const rtc_addr *local, const uint8_t *data, size_t len,
                           const rtc_addr *remote)
{
    /* TURN traffic only on the socket that allocation uses: on a shared port every agent
     * with the same TURN server would claim it otherwise. */
    if (local && rtc_addr_family(local)) {
        for (int i = 0; i < a->nturn; i++)
            if (a->turns[i].transport == RTC_TURN_UDP && rtc_addr_eq(&a->turns[i].server, remote) &&
                rtc_addr_eq(&a->turns[i].base, local))
                return true;
    }
    if (rtc_stun_is_stun(data, len)) {
        rtc_stun_msg m;
        if (rtc_stun_parse(data, len, &m) < 0) return false;
        return rtc_ice_agent_accepts_stun(a, &m, remote);
    }
    return rtc_ice_agent_validated(a, remote);
}

bool rtc_ice_agent_validated(const rtc_ice_agent *a, const rtc_addr *remote)
{
    if (a->sel.set && rtc_addr_eq(&a->sel.remote, remote)) return true;
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].valid && rtc_addr_eq(&a->remotes[a->pairs[i].remote].addr, remote)) return true;
    return false;
}

bool rtc_ice_agent_checked(const rtc_ice_agent *a, const rtc_addr *remote)
{
    if (rtc_ice_agent_validated(a, remote)) return true;
    int ri = ice__remote_find(a, remote);
    return ri >= 0 && a->remotes[ri].checked;
}

int rtc_ice_agent_local_ufrags(const rtc_ice_agent *a, rtc_str out[2])
{
    out[0] = rtc_str_c(a->lufrag);
    if (!a->old) return 1;
    out[1] = rtc_str_c(a->old->lufrag);
    return 2;
}

/* ---- timers and output ---------------------------------------------------------------- */

static bool gathering_pending(const rtc_ice_agent *a)
{
    for (int i = 0; i < a->ngather; i++) if (!a->gathers[i].done) return true;
    for (int i = 0; i < a->nturn; i++) if (!a->turns[i].done) return true;
    return false;
}

int rtc_ice_agent_handle_timeout(rtc_ice_agent *a, rtc_time now)
{
    clamp(a, now);
    if (!a->out_n && a->out != a->out_inline)       /* drained after a burst */
        rtc_ring_shrink((void **)&a->out, a->out_inline, &a->out_head, &a->out_cap, ICE_INLINE_OUT);
    for (int i = 0; i < a->nturn; i++) {
        rtc_turn_client_handle_timeout(a->turns[i].tc, a->now);
        drain_turn(a, i);
    }
    for (int i = 0; i < a->ntxn;) {
        ice_txn *t = a->txns[i];
        int r = rtc_stun_txn_poll(&t->t, a->now);
        if (r == RTC_STUN_TXN_SEND) {
            ice__send(a, &t->base, t->turn, &t->remote, t->proto, t->msg, t->len);
            t->sent_at = a->now;
            if (t->kind == TXN_CONSENT) a->stats.consent_sent++;
            ice_pair_counts *c = t->kind == TXN_GATHER ? NULL : ice__txn_counts(a, t);
            if (c && t->kind == TXN_CHECK) c->requests_sent++;
            if (c && t->kind == TXN_CONSENT) c->consent_sent++;
        } else if (r == RTC_STUN_TXN_TIMEOUT) {
            a->txns[i] = a->txns[--a->ntxn];   /* out of the table before the handler runs */
            if (t->kind == TXN_GATHER) {
                if (t->gather >= 0 && t->gather < a->ngather) {
                    ice_gather *g = &a->gathers[t->gather];
                    if (g->next_alt < g->nalt) {          /* no answer: the name's next address */
                        g->server = g->alt[g->next_alt++];
                        send_gather(a, t->gather);
                    } else {
                        g->done = true;
                    }
                }
            } else {
                ice__on_txn_timeout(a, t);
            }
            free(t);
            continue;
        }
        i++;
    }
    a->dirty = false;
    if (a->state != RTC_ICE_CLOSED) ice__tick(a);
    if (!a->gathering_done_sent && !gathering_pending(a) && a->nlocal > 0) {
        a->gathering_done_sent = true;
        ice__emit(a, &(rtc_ice_event){ .type = RTC_ICE_EV_GATHERING_DONE });
    }
    return 0;
}

int rtc_ice_agent_send(rtc_ice_agent *a, const uint8_t *data, size_t len, rtc_time now)
{
    clamp(a, now);
    if (!a->sel.set || a->state == RTC_ICE_FAILED || a->state == RTC_ICE_CLOSED) return RTC_ESTATE;
    ice__send(a, &a->sel.base, a->sel.turn, &a->sel.remote, a->sel.proto, data, len);
    return 0;
}

int rtc_ice_agent_close(rtc_ice_agent *a, rtc_time now)
{
    clamp(a, now);
    if (a->state == RTC_ICE_CLOSED) return 0;
    ice__set_state(a, RTC_ICE_CLOSED);
    for (int i = 0; i < a->ntxn; i++) free(a->txns[i]);
    a->ntxn = 0;
    for (int i = 0; i < a->nturn; i++) {
        rtc_turn_client_close(a->turns[i].tc, a->now);
        drain_turn_out(a, i);
    }
    a->sel.set = false;
    return 0;
}

bool rtc_ice_agent_poll_transmit(rtc_ice_agent *a, rtc_transmit *out)
{
    if (!a->out_n) return false;
    *out = a->out[a->out_head];
    a->out_head = (a->out_head + 1) % a->out_cap;
    a->out_n--;
    return true;
}

bool rtc_ice_agent_poll_event(rtc_ice_agent *a, rtc_ice_event *out)
{
    if (!a->ev_n) return false;
    ice_qev *q = &a->ev[a->ev_head];
    if (big_event(q->type)) {
        *out = *q->u.big;
        free(q->u.big);
    } else {
        out->type = q->type;
        switch (q->type) {
        case RTC_ICE_EV_STATE: out->u.state = q->u.state; break;
        case RTC_ICE_EV_SELECTED_PAIR: out->u.pair = q->u.pair; break;
        case RTC_ICE_EV_ROLE: out->u.controlling = q->u.controlling; break;
        case RTC_ICE_EV_DATA: out->u.data.from = q->u.data.from; out->u.data.buf = q->u.data.buf; break;
        default: break;
        }
    }
    a->ev_head = (a->ev_head + 1) % a->ev_cap;
    if (--a->ev_n == 0 && a->ev != a->ev_inline)    /* events come in bursts (gathering, connect) */
        rtc_ring_shrink((void **)&a->ev, a->ev_inline, &a->ev_head, &a->ev_cap, ICE_INLINE_EVENTS);
    return true;
}

rtc_time rtc_ice_agent_poll_timeout(const rtc_ice_agent *a)
{
    if (a->out_n || a->ev_n || a->dirty) return a->now;
    if (!a->gathering_done_sent && !gathering_pending(a) && a->nlocal > 0) return a->now;
    rtc_time t = RTC_TIME_NEVER;
    for (int i = 0; i < a->ntxn; i++) t = rtc_time_min(t, rtc_stun_txn_timeout(&a->txns[i]->t));
    for (int i = 0; i < a->nturn; i++) t = rtc_time_min(t, rtc_turn_client_poll_timeout(a->turns[i].tc));
    if (a->state != RTC_ICE_CLOSED) t = rtc_time_min(t, ice__check_timeout(a));
    return t < a->now ? a->now : t;
}

rtc_ice_state rtc_ice_agent_state(const rtc_ice_agent *a) { return a->state; }
bool rtc_ice_agent_controlling(const rtc_ice_agent *a) { return a->controlling; }

int rtc_ice_agent_selected_pair(const rtc_ice_agent *a, rtc_ice_pair_info *out)
{
    if (!a->sel.set) return RTC_ENOTFOUND;
    memset(out, 0, sizeof *out);
    out->local = a->sel.turn >= 0 ? a->turns[a->sel.turn].base : a->sel.base;
    out->remote = a->sel.remote;
    out->relayed = a->sel.turn >= 0;
    if (out->relayed) out->relay_server = a->turns[a->sel.turn].server;
    out->local_type = a->sel.ltype;
    out->remote_type = a->sel.rtype;
    out->proto = a->sel.proto;
    return 0;
}

static void pair_stats_from(rtc_ice_pair_stats *out, const ice_pair_counts *n)
{
    out->requests_sent = n->requests_sent;
    out->requests_received = n->requests_received;
    out->responses_sent = n->responses_sent;
    out->responses_received = n->responses_received;
    out->consent_requests_sent = n->consent_sent;
    out->rtt_measurements = n->rtt_n;
    out->total_rtt = n->rtt_total;
    out->current_rtt = n->rtt_n ? n->rtt_last : -1;
}

int rtc_ice_agent_pair_stats(const rtc_ice_agent *a, int i, rtc_ice_pair_stats *out)
{
    static const rtc_ice_pair_state states[] = { RTC_ICE_PAIR_FROZEN, RTC_ICE_PAIR_WAITING, RTC_ICE_PAIR_IN_PROGRESS,
                                                 RTC_ICE_PAIR_SUCCEEDED, RTC_ICE_PAIR_FAILED };
    if (i < 0) return RTC_ENOTFOUND;
    memset(out, 0, sizeof *out);
    if (i < a->npairs) {
        const ice_pair *p = &a->pairs[i];
        const ice_local *l = &a->locals[p->local];
        const ice_cand *r = &a->remotes[p->remote];
        out->local = l->c.addr;
        out->local_type = l->c.type;
        out->remote = r->addr;
        out->remote_type = r->type;
        out->state = states[p->state];
        out->nominated = p->nominated;
        out->selected = a->sel.set && a->sel.pair == i;
        out->tcp = l->c.transport == RTC_ICE_TCP;
        out->priority = p->prio;
        pair_stats_from(out, &p->n);
        return 0;
    }
    /* The pair selected before an ICE restart, still carrying data. */
    if (i > a->npairs || !a->sel.set || a->sel.pair >= 0) return RTC_ENOTFOUND;
    out->local = a->sel.base;
    out->local_type = a->sel.ltype;
    out->remote = a->sel.remote;
    out->remote_type = a->sel.rtype;
    out->state = RTC_ICE_PAIR_SUCCEEDED;
    out->nominated = out->selected = out->previous = true;
    out->tcp = a->sel.proto == RTC_PROTO_TCP;
    out->priority = a->sel.prio;
    pair_stats_from(out, &a->sel.n);
    return 0;
}

void ice__cand_full(const ice_cand *c, rtc_ice_candidate *out)
{
    rtc_ice_candidate_init(out);
    memcpy(out->foundation, c->foundation, sizeof out->foundation);
    out->type = c->type;
    out->priority = c->priority;
    out->addr = c->addr;
    out->port = c->port;
    out->has_related = c->has_related;
    out->related = c->related;
    out->transport = c->transport;
    snprintf(out->tcptype, sizeof out->tcptype, "%s", rtc_ice_tcptype_name((rtc_ice_tcptype)c->tcptype));
    if (c->hostname) snprintf(out->hostname, sizeof out->hostname, "%s", c->hostname);
}

int rtc_ice_agent_local_candidate(const rtc_ice_agent *a, int i, rtc_ice_candidate *out)
{
    int k = 0;
    for (int j = 0; j < a->nlocal; j++) {
        if (!a->locals[j].announced) continue;
        if (k++ == i) { ice__cand_full(&a->locals[j].c, out); return 0; }
    }
    return RTC_ENOTFOUND;
}

void rtc_ice_agent_get_stats(const rtc_ice_agent *a, rtc_ice_stats *out)
{
    *out = a->stats;
    out->pairs = (uint32_t)a->npairs;
}

const char *rtc_ice_state_name(rtc_ice_state s)
{
    static const char *n[] = { "new", "checking", "connected", "completed", "disconnected", "failed", "closed" };
    return (unsigned)s < 7 ? n[s] : "?";
}
