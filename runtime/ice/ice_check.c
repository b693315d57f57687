/* ICE checklist (RFC 8445 section 6-8): pairing, pacing, connectivity checks, triggered
 * checks, peer-reflexive candidates, role conflicts, regular nomination, and consent
 * freshness (RFC 7675) on the selected pair. */
#include "ice_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t pair_priority(const rtc_ice_agent *a, uint32_t lp, uint32_t rp)
{
    uint64_t g = a->controlling ? lp : rp, d = a->controlling ? rp : lp;
    uint64_t mn = g < d ? g : d, mx = g < d ? d : g;
    return (mn << 32) + 2 * mx + (g > d ? 1 : 0);
}

void ice__recompute_priorities(rtc_ice_agent *a)
{
    for (int i = 0; i < a->npairs; i++) {
        ice_pair *p = &a->pairs[i];
        p->prio = pair_priority(a, a->locals[p->local].c.priority, a->remotes[p->remote].priority);
    }
}

static bool same_foundation(const rtc_ice_agent *a, const ice_pair *x, const ice_pair *y)
{
    return strcmp(a->locals[x->local].c.foundation, a->locals[y->local].c.foundation) == 0 &&
           strcmp(a->remotes[x->remote].foundation, a->remotes[y->remote].foundation) == 0;
}

/* RFC 8445 6.1.2.6: per foundation, the best frozen pair becomes Waiting unless one of
 * that foundation is already Waiting or In-Progress. */
static void unfreeze_initial(rtc_ice_agent *a)
{
    for (int i = 0; i < a->npairs; i++) {
        ice_pair *p = &a->pairs[i];
        if (p->state != PAIR_FROZEN) continue;
        bool blocked = false;
        for (int k = 0; k < a->npairs && !blocked; k++) {
            ice_pair *q = &a->pairs[k];
            if (k == i || !same_foundation(a, p, q)) continue;
            if (q->state == PAIR_WAITING || q->state == PAIR_IN_PROGRESS) blocked = true;
            if (q->state == PAIR_FROZEN && q->prio > p->prio) blocked = true;
        }
        if (!blocked) p->state = PAIR_WAITING;
    }
}

static int find_pair(const rtc_ice_agent *a, int li, int ri)
{
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].local == li && a->pairs[i].remote == ri) return i;
    return -1;
}

static bool pairable_local(const rtc_ice_agent *a, const ice_local *l)
{
    if (l->c.type == RTC_ICE_RELAY) return true;
    return l->c.type == RTC_ICE_HOST && !a->cfg.relay_only;
}

/* RFC 6544 section 6.2: UDP pairs with UDP; a TCP candidate pairs with one that can
 * make a connection with it, active with passive (simultaneous open is not supported).
 * Our passive candidate cannot connect: its pair with an active remote is formed only
 * for the sender of a check on an accepted connection (a peer-reflexive candidate
 * whose address is that connection's), since an active candidate's signalled port
 * (9, the discard port) is no address anyone listens on. */
static bool compatible(const ice_local *l, const ice_cand *r)
{
    if (l->c.transport != r->transport) return false;
    if (l->c.transport != RTC_ICE_TCP) return true;
    if (l->c.tcptype == RTC_ICE_TCP_ACTIVE) return r->tcptype == RTC_ICE_TCP_PASSIVE;
    if (l->c.tcptype == RTC_ICE_TCP_PASSIVE) return r->tcptype == RTC_ICE_TCP_ACTIVE && r->type == RTC_ICE_PRFLX;
    return false;
}

static int add_pair(rtc_ice_agent *a, int li, int ri)
{
    int i = find_pair(a, li, ri);
    if (i >= 0) return i;
    if (a->npairs == ICE_MAX_PAIRS) return RTC_EQUOTA;
    /* Prune: a pair with the same base and remote already exists (e.g. srflx vs host). */
    const ice_local *l = &a->locals[li];
    for (int k = 0; k < a->npairs; k++) {
        const ice_local *o = &a->locals[a->pairs[k].local];
        if (a->pairs[k].remote == ri && o->turn == l->turn && rtc_addr_eq(&o->base, &l->base)) return k;
    }
    if (!ice__pair_room(a)) return RTC_ENOMEM;
    ice_pair *p = &a->pairs[a->npairs];
    memset(p, 0, sizeof *p);
    p->local = li;
    p->remote = ri;
    p->state = PAIR_FROZEN;
    p->prio = pair_priority(a, l->c.priority, a->remotes[ri].priority);
    return a->npairs++;
}

void ice__form_pairs(rtc_ice_agent *a)
{
    if (a->cfg.lite) return;                  /* lite agents only learn pairs from checks */
    int before = a->npairs;
    for (int li = 0; li < a->nlocal; li++) {
        const ice_local *l = &a->locals[li];
        if (!pairable_local(a, l)) continue;
        for (int ri = 0; ri < a->nremote; ri++) {
            const ice_cand *r = &a->remotes[ri];
            if (!rtc_addr_family(&r->addr) || rtc_addr_family(&r->addr) != rtc_addr_family(&l->c.addr)) continue;
            if (!compatible(l, r)) continue;
            add_pair(a, li, ri);
        }
    }
    if (a->npairs != before) {
        unfreeze_initial(a);
        if (a->next_check_at == RTC_TIME_NEVER) a->next_check_at = a->now;
    }
    a->stats.pairs = (uint32_t)a->npairs;
}

ice_pair_counts *ice__sel_counts(rtc_ice_agent *a)
{
    return a->sel.pair >= 0 && a->sel.pair < a->npairs ? &a->pairs[a->sel.pair].n : &a->sel.n;
}

ice_pair_counts *ice__txn_counts(rtc_ice_agent *a, const ice_txn *t)
{
    if (t->kind == TXN_CHECK) return t->pair >= 0 && t->pair < a->npairs ? &a->pairs[t->pair].n : NULL;
    if (t->kind == TXN_CONSENT && a->sel.set && rtc_addr_eq(&t->remote, &a->sel.remote) && t->turn == a->sel.turn)
        return ice__sel_counts(a);
    return NULL;
}

void ice__reset_checklist(rtc_ice_agent *a)
{
    /* The selected pair lives on until a new one is selected: so do its counters. */
    if (a->sel.set && a->sel.pair >= 0 && a->sel.pair < a->npairs) a->sel.n = a->pairs[a->sel.pair].n;
    a->npairs = 0;
    a->ntrig = a->trig_head = 0;
    for (int i = 0; i < a->ntxn;) {
        ice_txn *t = a->txns[i];
        if (t->kind == TXN_CHECK) { ice__txn_del(a, t); continue; }
        if (t->kind == TXN_CONSENT) t->old_creds = true;
        i++;
    }
    a->sel.pair = -1;
    a->first_valid_at = RTC_TIME_NEVER;
    a->nominating = false;
    a->next_check_at = RTC_TIME_NEVER;
}

static void queue_triggered(rtc_ice_agent *a, int pi)
{
    ice_pair *p = &a->pairs[pi];
    if (p->queued || a->ntrig == ICE_MAX_PAIRS) return;
    p->queued = true;
    a->trig[(a->trig_head + a->ntrig++) % ICE_MAX_PAIRS] = (uint8_t)pi;
    if (a->next_check_at == RTC_TIME_NEVER) a->next_check_at = a->now;
}

static ice_txn *pair_txn(rtc_ice_agent *a, int pi)
{
    for (int i = 0; i < a->ntxn; i++)
        if (a->txns[i]->kind == TXN_CHECK && a->txns[i]->pair == pi) return a->txns[i];
    return NULL;
}

/* RFC 8445 14.3: with N pairs Waiting or In-Progress, a check's first retransmission
 * waits at least Ta * N, so retransmissions of a long checklist do not crowd out its
 * first checks (the configured check_rto is the floor). */
static rtc_time check_rto(const rtc_ice_agent *a)
{
    int n = 0;
    for (int i = 0; i < a->npairs; i++) n += a->pairs[i].state == PAIR_WAITING || a->pairs[i].state == PAIR_IN_PROGRESS;
    rtc_time t = a->cfg.ta * n;
    return t > a->cfg.check_rto ? t : a->cfg.check_rto;
}

/* Build and start a Binding request; `check` selects connectivity check vs consent. */
static void send_binding(rtc_ice_agent *a, int kind, int pi, bool use_cand)
{
    bool old = kind == TXN_CONSENT && a->old;
    const char *ruf = old ? a->old->rufrag : a->rufrag, *luf = old ? a->old->lufrag : a->lufrag;
    const char *key = old ? a->old->rpwd : a->rpwd;
    const rtc_addr *base, *remote;
    int turn, proto;
    uint32_t prflx_prio;
    if (kind == TXN_CONSENT) {
        base = &a->sel.base;
        remote = &a->sel.remote;
        turn = a->sel.turn;
        proto = a->sel.proto;
        prflx_prio = rtc_ice_candidate_priority(RTC_ICE_PRFLX, 65535, 1);
    } else {
        const ice_local *l = &a->locals[a->pairs[pi].local];
        base = &l->base;
        turn = l->turn;
        proto = ice__local_proto(l);
        remote = &a->remotes[a->pairs[pi].remote].addr;
        uint16_t lp = (uint16_t)((l->c.priority >> 8) & 0xFFFF);
        prflx_prio = l->c.transport == RTC_ICE_TCP
            ? rtc_ice_tcp_candidate_priority(RTC_ICE_PRFLX, (rtc_ice_tcptype)l->c.tcptype, lp & 0x1FFF, 1)
            : rtc_ice_candidate_priority(RTC_ICE_PRFLX, lp, 1);
    }
    ice_txn *t = ice__txn_new(a);
    if (!t) return;
    t->kind = kind;
    t->pair = pi;
    t->use_cand = use_cand;
    t->old_creds = old;
    t->sent_controlling = a->controlling;
    t->base = *base;
    t->remote = *remote;
    t->turn = turn;
    t->proto = proto;
    char user[2 * ICE_CRED_MAX + 2];
    int ul = snprintf(user, sizeof user, "%s:%s", ruf, luf);
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, t->msg, sizeof t->msg, RTC_STUN_BINDING, RTC_STUN_REQUEST, t->tid);
    rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, (rtc_str){ user, (size_t)ul });
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_PRIORITY, prflx_prio);
    rtc_stun_put_u64(&w, a->controlling ? RTC_STUN_ATTR_ICE_CONTROLLING : RTC_STUN_ATTR_ICE_CONTROLLED,
                     a->cfg.tie_breaker);
    if (use_cand) rtc_stun_put_flag(&w, RTC_STUN_ATTR_USE_CANDIDATE);
    rtc_stun_put_integrity(&w, (const uint8_t *)key, strlen(key));
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    if (n < 0) { ice__txn_del(a, t); return; }
    t->len = (size_t)n;
    /* RFC 7675 section 5.1: a consent request is sent once, never retransmitted; the
     * next interval sends a new one. A response still counts while consent lasts (to
     * any request of the last failed_after), so the transaction waits that long. */
    rtc_stun_rto_cfg rc = kind == TXN_CONSENT
        ? (rtc_stun_rto_cfg){ .rc = 1, .rto_max = a->cfg.failed_after }
        : (rtc_stun_rto_cfg){ .rto = check_rto(a), .rc = 7, .rto_max = RTC_MS(1600) };
    rtc_stun_txn_start(&t->t, &rc, a->now);
    rtc_stun_txn_poll(&t->t, a->now);
    ice__send(a, &t->base, t->turn, &t->remote, t->proto, t->msg, t->len);
    t->sent_at = a->now;
    if (kind == TXN_CHECK) a->stats.checks_sent++;
    if (kind == TXN_CONSENT) a->stats.consent_sent++;
    ice_pair_counts *c = ice__txn_counts(a, t);
    if (c && kind == TXN_CHECK) c->requests_sent++;
    if (c && kind == TXN_CONSENT) c->consent_sent++;
}

static void kick_txn(rtc_ice_agent *a, ice_txn *t)
{
    /* Already in flight: send it again now instead of waiting out the backoff. */
    rtc_stun_txn_start(&t->t, &t->t.cfg, a->now);
    rtc_stun_txn_poll(&t->t, a->now);
    ice__send(a, &t->base, t->turn, &t->remote, t->proto, t->msg, t->len);
    t->sent_at = a->now;
    t->kicked = true;
    ice_pair_counts *c = ice__txn_counts(a, t);
    if (c) c->requests_sent++;
}

static void start_check(rtc_ice_agent *a, int pi, bool use_cand)
{
    ice_pair *p = &a->pairs[pi];
    ice_txn *t = pair_txn(a, pi);
    if (t && t->use_cand == use_cand && t->sent_controlling == a->controlling) { kick_txn(a, t); return; }
    if (t) ice__txn_del(a, t);
    /* A nomination re-checks a valid pair: it stays Succeeded whatever happens. */
    if (!(use_cand && p->state == PAIR_SUCCEEDED)) p->state = PAIR_IN_PROGRESS;
    send_binding(a, TXN_CHECK, pi, use_cand);
}

static void switch_role(rtc_ice_agent *a, bool controlling)
{
    if (a->cfg.lite || a->controlling == controlling) return;
    a->controlling = controlling;
    a->stats.role_conflicts++;
    ice__recompute_priorities(a);
    a->nominating = false;
    ice__emit(a, &(rtc_ice_event){ .type = RTC_ICE_EV_ROLE, .u.controlling = controlling });
}

int rtc_ice_agent_set_controlling(rtc_ice_agent *a, bool controlling, rtc_time now)
{
    (void)now;
    if (a->cfg.lite || a->controlling == controlling) return 0;
    a->controlling = controlling;
    ice__recompute_priorities(a);
    a->nominating = false;
    return 0;
}

static void select_pair(rtc_ice_agent *a, int pi)
{
    ice_pair *p = &a->pairs[pi];
    p->nominated = true;
    if (a->sel.set && a->sel.pair == pi) return;
    if (a->sel.set && a->sel.pair >= 0 && a->pairs[a->sel.pair].nominated && a->sel.prio > p->prio) return;
    const ice_local *l = &a->locals[p->local];
    const ice_cand *r = &a->remotes[p->remote];
    a->sel = (ice_selected){ .set = true, .pair = pi, .base = l->base, .remote = r->addr, .turn = l->turn,
                             .proto = ice__local_proto(l), .ltype = l->c.type, .rtype = r->type, .prio = p->prio };
    free(a->old);                              /* a restart (if any) is complete */
    a->old = NULL;
    a->nominating = false;
    a->consent_ok_at = a->peer_heard_at = a->now;
    a->next_consent_at = a->now + (rtc_time)((double)a->cfg.consent_interval * (0.8 + 0.4 * rtc_rng_unit(a->cfg.rng)));
    rtc_ice_event e = { .type = RTC_ICE_EV_SELECTED_PAIR };
    rtc_ice_agent_selected_pair(a, &e.u.pair);
    ice__emit(a, &e);
    char ls[RTC_ADDR_STRLEN], rs[RTC_ADDR_STRLEN];
    rtc_debug("ice", "selected %s %s -> %s %s", rtc_ice_cand_type_name(l->c.type), rtc_addr_str(&l->c.addr, ls, sizeof ls),
              rtc_ice_cand_type_name(r->type), rtc_addr_str(&r->addr, rs, sizeof rs));
    if (a->state == RTC_ICE_NEW || a->state == RTC_ICE_CHECKING || a->state == RTC_ICE_DISCONNECTED ||
        a->state == RTC_ICE_FAILED)
        ice__set_state(a, RTC_ICE_CONNECTED);
}

static void respond(rtc_ice_agent *a, const rtc_stun_msg *m, int li, const rtc_addr *remote,
                    const char *key, int err)
{
    uint8_t buf[256];
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, buf, sizeof buf, RTC_STUN_BINDING, err ? RTC_STUN_ERROR : RTC_STUN_SUCCESS, m->tid);
    if (err == 420) {
        rtc_stun_put_error(&w, 420, RTC_STR("Unknown Attribute"));
        rtc_stun_put_unknown(&w, m->unknown, m->nunknown);
    } else if (err == 487) {
        rtc_stun_put_error(&w, 487, RTC_STR("Role Conflict"));
    } else {
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, remote);
    }
    rtc_stun_put_integrity(&w, (const uint8_t *)key, strlen(key));
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    if (n > 0) ice__send(a, &a->locals[li].base, a->locals[li].turn, remote, ice__local_proto(&a->locals[li]), buf, (size_t)n);
}

/* USERNAME is "our ufrag:the sender's". Whether its first part is `ufrag`. */
static bool user_for(rtc_str user, const char *ufrag)
{
    size_t n = 0;
    while (n < user.len && user.p[n] != ':') n++;
    return n == strlen(ufrag) && memcmp(user.p, ufrag, n) == 0;
}

/* Whether the sender's part names the peer's ufrag of that generation (or is absent,
 * or we do not know the peer's ufrag yet: its checks may beat its description). */
static bool user_from(rtc_str user, const char *rufrag)
{
    size_t n = 0;
    while (n < user.len && user.p[n] != ':') n++;
    if (n == user.len || !rufrag[0]) return true;
    return user.len - n - 1 == strlen(rufrag) && memcmp(user.p + n + 1, rufrag, user.len - n - 1) == 0;
}

/* A request that came in on the selected pair: from its remote address, on its relay
 * allocation or (not relayed) on a host socket. The local base is not compared: a
 * wildcard-bound shared port cannot always say which host candidate a datagram came to. */
static bool on_selected_pair(const rtc_ice_agent *a, int li, const rtc_addr *remote)
{
    return a->sel.set && rtc_addr_eq(remote, &a->sel.remote) && a->locals[li].turn == a->sel.turn;
}

int ice__on_request(rtc_ice_agent *a, const rtc_stun_msg *m, int li, const rtc_addr *remote)
{
    rtc_str u;
    if (rtc_stun_get_str(m, RTC_STUN_ATTR_USERNAME, &u) < 0) { a->stats.dropped++; return RTC_EIGNORED; }
    bool old = false;
    const char *key;
    if (user_for(u, a->lufrag)) {
        key = a->lpwd;
    } else if (a->old && user_for(u, a->old->lufrag)) {
        key = a->old->lpwd;
        old = true;
    } else {
        a->stats.dropped++;
        return RTC_EIGNORED;
    }
    if (rtc_stun_check_integrity(m, (const uint8_t *)key, strlen(key)) != 0) {
        a->stats.dropped++;
        return RTC_EIGNORED;
    }
    /* Relay only: a host socket answers nothing of this generation. Consent on the
     * selected pair of the generation before a restart that turned the policy to
     * "relay" is still answered (below), so that pair carries data until the new,
     * relayed one is selected. */
    if (a->cfg.relay_only && a->locals[li].turn < 0 && !old) { a->stats.dropped++; return RTC_EIGNORED; }
    /* A check must belong to one generation, both ufrags of it, and the previous
     * generation lives on for the selected pair alone (consent, and data until the
     * restart selects a new pair). A peer that restarts ICE may check its new
     * candidates against our old ones before we have its offer or it has our answer
     * (libwebrtc pairs its new ports with the remote candidates it has), with its new
     * ufrag; or the old generation from a pair the restart dropped. Answered, such a
     * check makes the pair valid for the peer, and a controlling peer nominates it and
     * moves its traffic there, while we have no such pair, drop what arrives on it and
     * keep sending on the old one. Unanswered, it fails, and the peer stays on the old
     * pair until the new generation's checks succeed. */
    if (!user_from(u, old ? a->old->rufrag : a->rufrag) || (old && !on_selected_pair(a, li, remote))) {
        char rs[RTC_ADDR_STRLEN];
        rtc_debug("ice", "check from %s of another ICE generation not answered", rtc_addr_str(remote, rs, sizeof rs));
        a->stats.dropped++;
        return RTC_EIGNORED;
    }
    if (m->nunknown > 0) { respond(a, m, li, remote, key, 420); return 0; }
    a->stats.checks_received++;
    a->last_activity = a->now;
    if (a->sel.set && rtc_addr_eq(remote, &a->sel.remote)) {
        /* A lite agent sends no consent requests: the full peer's, arriving every few
         * seconds on the selected pair, are its only evidence that the peer is there.
         * A full agent takes them as liveness only (disconnected, not consent): its own
         * requests are sent once per interval and never retransmitted, so one lost
         * response must not make the connection look gone while the peer's keep coming. */
        if (a->cfg.lite) a->consent_ok_at = a->now;
        a->peer_heard_at = a->now;
        if (a->state == RTC_ICE_DISCONNECTED) ice__set_state(a, a->state_before_disc);
    }

    uint64_t theirs;
    if (a->cfg.lite && rtc_stun_get_u64(m, RTC_STUN_ATTR_ICE_CONTROLLED, &theirs) == 0) {
        /* A lite agent is always controlled: make the full peer take control. */
        a->stats.role_conflicts++;
        respond(a, m, li, remote, key, 487);
        return 0;
    }
    if (!a->cfg.lite) {
        if (a->controlling && rtc_stun_get_u64(m, RTC_STUN_ATTR_ICE_CONTROLLING, &theirs) == 0) {
            if (a->cfg.tie_breaker >= theirs) { a->stats.role_conflicts++; respond(a, m, li, remote, key, 487); return 0; }
            switch_role(a, false);
        } else if (!a->controlling && rtc_stun_get_u64(m, RTC_STUN_ATTR_ICE_CONTROLLED, &theirs) == 0) {
            if (a->cfg.tie_breaker >= theirs) switch_role(a, true);
            else { a->stats.role_conflicts++; respond(a, m, li, remote, key, 487); return 0; }
        }
    }
    respond(a, m, li, remote, key, 0);
    if (old) {                                /* consent on the pre-restart pair: answer only */
        ice_pair_counts *c = ice__sel_counts(a);
        c->requests_received++;
        c->responses_sent++;
        return 0;
    }

    const ice_local *lc = &a->locals[li];
    int ri = ice__remote_find_t(a, remote, lc->c.transport);
    if (ri < 0) {
        if (!ice__remote_room(a)) return 0;
        lc = &a->locals[li];
        uint32_t prio = 0;
        if (rtc_stun_get_u32(m, RTC_STUN_ATTR_PRIORITY, &prio) < 0 || prio == 0)
            prio = rtc_ice_candidate_priority(RTC_ICE_PRFLX, 65535, 1);
        ice_cand *c = &a->remotes[a->nremote];
        memset(c, 0, sizeof *c);
        c->transport = lc->c.transport;
        /* A check on a connection to our passive candidate came from the peer's active
         * one (RFC 6544 section 7.2.1). */
        if (c->transport == RTC_ICE_TCP)
            c->tcptype = lc->c.tcptype == RTC_ICE_TCP_PASSIVE ? RTC_ICE_TCP_ACTIVE : RTC_ICE_TCP_PASSIVE;
        c->type = RTC_ICE_PRFLX;
        c->addr = *remote;
        c->port = rtc_addr_port(remote);
        c->priority = prio;
        snprintf(c->foundation, sizeof c->foundation, "prflx%d", a->nremote);
        ri = a->nremote++;
        a->stats.remote_candidates = (uint32_t)a->nremote;
        rtc_ice_event e = { .type = RTC_ICE_EV_PEER_REFLEXIVE };
        ice__cand_full(c, &e.u.cand);
        ice__emit(a, &e);
    }
    a->remotes[ri].checked = true;
    if (a->state == RTC_ICE_NEW) { a->checking_since = a->now; ice__set_state(a, RTC_ICE_CHECKING); }
    bool use_cand = rtc_stun_find(m, RTC_STUN_ATTR_USE_CANDIDATE) != NULL && !a->controlling;
    int pi;
    if (a->cfg.lite) {
        /* A lite agent trusts the check it just answered: the pair is valid at once. */
        if (a->npairs == ICE_MAX_PAIRS && find_pair(a, li, ri) < 0) return 0;
        pi = find_pair(a, li, ri);
        if (pi < 0) {
            if (!ice__pair_room(a)) return 0;
            pi = a->npairs++;
            a->pairs[pi] = (ice_pair){ .local = li, .remote = ri };
        }
        ice_pair *p = &a->pairs[pi];
        p->prio = pair_priority(a, a->locals[li].c.priority, a->remotes[ri].priority);
        p->state = PAIR_SUCCEEDED;
        p->valid = true;
        p->n.requests_received++;
        p->n.responses_sent++;
        if (use_cand) select_pair(a, pi);
        return 0;
    }
    if (!pairable_local(a, &a->locals[li]) || !compatible(&a->locals[li], &a->remotes[ri])) return 0;
    pi = add_pair(a, li, ri);
    if (pi < 0) return 0;
    ice_pair *p = &a->pairs[pi];
    p->n.requests_received++;
    p->n.responses_sent++;
    if (p->state == PAIR_SUCCEEDED) {
        if (use_cand) { select_pair(a, pi); return 0; }
        /* Our check on this pair succeeded before the controlling peer checked it (an
         * answerer's checks often go first). RFC 8445 7.3.1.4 needs no triggered check
         * here, but some controlling agents nominate a valid pair only on their next
         * pacing tick or when a request arrives on it after their own check succeeded
         * (Pion's selector does both): one check back, sent now, lets them nominate at
         * once instead of up to a tick later. Once per pair; the pair stays Succeeded. */
        if (!a->controlling && !a->sel.set && !p->answered_back) {
            p->answered_back = true;
            send_binding(a, TXN_CHECK, pi, false);
        }
        return 0;
    }
    if (use_cand) p->nominate_on_success = true;
    if (p->state == PAIR_IN_PROGRESS) {
        ice_txn *t = pair_txn(a, pi);
        if (t) kick_txn(a, t);
    } else {
        p->state = PAIR_WAITING;
        queue_triggered(a, pi);
    }
    return 0;
}

static void mark_failed(rtc_ice_agent *a, ice_pair *p, bool was_nomination)
{
    p->state = PAIR_FAILED;
    if (was_nomination) a->nominating = false;
}

int ice__on_response(rtc_ice_agent *a, ice_txn *t, const rtc_stun_msg *m, const rtc_addr *base, int turn,
                     const rtc_addr *remote)
{
    if (t->old_creds && !a->old) return RTC_EIGNORED;
    const char *key = t->old_creds ? a->old->rpwd : a->rpwd;
    if (rtc_stun_check_integrity(m, (const uint8_t *)key, strlen(key)) != 0) return RTC_EIGNORED;
    bool symmetric = rtc_addr_eq(remote, &t->remote) && turn == t->turn &&
                     (turn >= 0 || !base || !rtc_addr_family(base) || rtc_addr_eq(base, &t->base));
    a->stats.responses_received++;
    ice_pair_counts *c = ice__txn_counts(a, t);
    if (c) {
        c->responses_received++;
        /* Karn: a response to a request sent more than once cannot say to which */
        if (m->cls == RTC_STUN_SUCCESS && symmetric && t->t.sent == 1 && !t->kicked) {
            c->rtt_last = a->now - t->sent_at;
            c->rtt_total += c->rtt_last;
            c->rtt_n++;
        }
    }
    if (t->kind == TXN_CONSENT) {
        if (m->cls == RTC_STUN_SUCCESS && symmetric && a->sel.set && rtc_addr_eq(&t->remote, &a->sel.remote)) {
            a->consent_ok_at = a->now;
            if (a->state == RTC_ICE_DISCONNECTED) ice__set_state(a, a->state_before_disc);
        }
        return 0;
    }
    if (t->pair < 0 || t->pair >= a->npairs) return 0;
    ice_pair *p = &a->pairs[t->pair];
    int pi = t->pair;
    if (m->cls == RTC_STUN_ERROR) {
        int code = 0;
        rtc_stun_get_error(m, &code, NULL);
        if (code == 487) {
            if (t->sent_controlling == a->controlling) switch_role(a, !a->controlling);
            if (t->use_cand) a->nominating = false;
            p->state = PAIR_WAITING;
            queue_triggered(a, pi);
        } else {
            mark_failed(a, p, t->use_cand);
        }
        return 0;
    }
    if (!symmetric) { mark_failed(a, p, t->use_cand); return 0; }
    rtc_addr mapped;
    const ice_local *l = &a->locals[p->local];
    if (rtc_stun_get_addr(m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &mapped) == 0 &&
        ice__local_find(a, &mapped, l->turn, l->c.transport) < 0 && ice__local_room(a)) {
        /* A local peer-reflexive candidate: learnt, used for priorities, never signalled. */
        l = &a->locals[p->local];
        ice_local *nl = &a->locals[a->nlocal++];
        *nl = *l;
        nl->c.type = RTC_ICE_PRFLX;
        nl->c.addr = mapped;
        nl->c.port = rtc_addr_port(&mapped);
        nl->c.priority = l->c.transport == RTC_ICE_TCP
            ? rtc_ice_tcp_candidate_priority(RTC_ICE_PRFLX, (rtc_ice_tcptype)l->c.tcptype, (uint16_t)((l->c.priority >> 8) & 0x1FFF), 1)
            : rtc_ice_candidate_priority(RTC_ICE_PRFLX, (uint16_t)((l->c.priority >> 8) & 0xFFFF), 1);
        nl->announced = false;
        a->stats.local_candidates = (uint32_t)a->nlocal;
        l = &a->locals[p->local];
    }
    p->state = PAIR_SUCCEEDED;
    p->valid = true;
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == PAIR_FROZEN && same_foundation(a, &a->pairs[i], p)) a->pairs[i].state = PAIR_WAITING;
    if (a->first_valid_at == RTC_TIME_NEVER) a->first_valid_at = a->now;
    if (a->sel.set && a->sel.pair == pi) a->consent_ok_at = a->now;
    if (t->use_cand && a->controlling) select_pair(a, pi);
    else if (p->nominate_on_success && !a->controlling) select_pair(a, pi);
    return 0;
}

void ice__on_txn_timeout(rtc_ice_agent *a, ice_txn *t)
{
    if (t->kind != TXN_CHECK || t->pair < 0 || t->pair >= a->npairs) return;
    ice_pair *p = &a->pairs[t->pair];
    if (p->state == PAIR_IN_PROGRESS) mark_failed(a, p, t->use_cand);
    else if (t->use_cand) a->nominating = false;
}

static int best_valid(const rtc_ice_agent *a)
{
    int best = -1;
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].valid && a->pairs[i].state == PAIR_SUCCEEDED && (best < 0 || a->pairs[i].prio > a->pairs[best].prio))
            best = i;
    return best;
}

static bool better_pending(const rtc_ice_agent *a, uint64_t prio)
{
    for (int i = 0; i < a->npairs; i++) {
        int s = a->pairs[i].state;
        if ((s == PAIR_FROZEN || s == PAIR_WAITING || s == PAIR_IN_PROGRESS) && a->pairs[i].prio > prio) return true;
    }
    return false;
}

static bool checks_pending(const rtc_ice_agent *a)
{
    if (a->ntrig) return true;
    for (int i = 0; i < a->npairs; i++) {
        int s = a->pairs[i].state;
        if (s == PAIR_FROZEN || s == PAIR_WAITING || s == PAIR_IN_PROGRESS) return true;
    }
    return false;
}

static bool gathering_done(const rtc_ice_agent *a)
{
    for (int i = 0; i < a->ngather; i++) if (!a->gathers[i].done) return false;
    for (int i = 0; i < a->nturn; i++) if (!a->turns[i].done) return false;
    return true;
}

static int next_pair_to_check(rtc_ice_agent *a)
{
    while (a->ntrig) {
        int pi = a->trig[a->trig_head];
        a->trig_head = (a->trig_head + 1) % ICE_MAX_PAIRS;
        a->ntrig--;
        if (pi < a->npairs) {
            a->pairs[pi].queued = false;
            if (a->pairs[pi].state == PAIR_WAITING) return pi;
        }
    }
    /* Ordinary checks stop once a nominated pair is in use (RFC 8445 8.1.2). */
    if (a->sel.set && a->sel.pair >= 0) return -1;
    int best = -1;
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == PAIR_WAITING && (best < 0 || a->pairs[i].prio > a->pairs[best].prio)) best = i;
    if (best >= 0) return best;
    for (int i = 0; i < a->npairs; i++)
        if (a->pairs[i].state == PAIR_FROZEN && (best < 0 || a->pairs[i].prio > a->pairs[best].prio)) best = i;
    return best;
}

static rtc_time fail_at(const rtc_ice_agent *a)
{
    return a->last_activity + (a->remote_eoc ? ICE_FAIL_GRACE : a->cfg.failed_after);
}

/* The last sign of the peer on the selected pair: a consent response, or its own
 * authenticated check. Disconnected follows this; failed follows consent alone. */
static rtc_time heard_at(const rtc_ice_agent *a)
{
    return a->peer_heard_at > a->consent_ok_at ? a->peer_heard_at : a->consent_ok_at;
}

void ice__tick(rtc_ice_agent *a)
{
    if (a->state == RTC_ICE_CLOSED || a->state == RTC_ICE_FAILED) return;
    rtc_time now = a->now;
    if (!a->cfg.lite && a->have_remote && now >= a->next_check_at) {
        int pi = next_pair_to_check(a);
        if (pi >= 0) {
            if (a->state == RTC_ICE_NEW) { a->checking_since = now; ice__set_state(a, RTC_ICE_CHECKING); }
            start_check(a, pi, false);
            a->next_check_at = now + a->cfg.ta;
        } else {
            a->next_check_at = RTC_TIME_NEVER;
        }
    }
    /* Regular nomination by the controlling agent. */
    if (!a->cfg.lite && a->controlling && a->have_remote && !a->nominating && !(a->sel.set && a->sel.pair >= 0)) {
        int b = best_valid(a);
        if (b >= 0 && a->first_valid_at != RTC_TIME_NEVER && (now >= a->first_valid_at + a->cfg.nomination_delay || !better_pending(a, a->pairs[b].prio))) {
            a->nominating = true;
            start_check(a, b, true);
        }
    }
    /* Consent freshness (RFC 7675). Lite agents send none: the full peer's checks are
     * what they time out on. */
    if (a->sel.set) {
        if (!a->cfg.lite && now >= a->next_consent_at) {
            send_binding(a, TXN_CONSENT, -1, false);
            a->next_consent_at = now + (rtc_time)((double)a->cfg.consent_interval * (0.8 + 0.4 * rtc_rng_unit(a->cfg.rng)));
        }
        if (now - a->consent_ok_at >= a->cfg.failed_after) {
            ice__set_state(a, RTC_ICE_FAILED);
            return;
        }
        if (now - heard_at(a) >= a->cfg.disconnected_after && (a->state == RTC_ICE_CONNECTED || a->state == RTC_ICE_COMPLETED))
            ice__set_state(a, RTC_ICE_DISCONNECTED);
    }
    if (a->state == RTC_ICE_CONNECTED && a->sel.set && a->sel.pair >= 0 && a->remote_eoc && gathering_done(a))
        ice__set_state(a, RTC_ICE_COMPLETED);
    /* Nothing left to try: fail. After the peer's end-of-candidates a short grace covers
     * late peer-reflexive candidates; without it (an application may drop the browser's
     * null candidate) more may still be trickled, so wait failed_after since the last
     * sign of the peer, valid pairs or not (a controlled agent nobody nominates for). */
    if (!a->cfg.lite && !a->sel.set && a->have_remote && gathering_done(a) && now >= fail_at(a) &&
        !checks_pending(a) && (!a->remote_eoc || best_valid(a) < 0)) {
        bool inflight = false;
        for (int i = 0; i < a->ntxn; i++) if (a->txns[i]->kind == TXN_CHECK) inflight = true;
        if (!inflight) ice__set_state(a, RTC_ICE_FAILED);
    }
}

rtc_time ice__check_timeout(const rtc_ice_agent *a)
{
    if (a->state == RTC_ICE_FAILED) return RTC_TIME_NEVER;
    rtc_time t = RTC_TIME_NEVER;
    if (!a->cfg.lite && a->have_remote) t = a->next_check_at;
    if (!a->cfg.lite && a->controlling && !a->nominating && !(a->sel.set && a->sel.pair >= 0) &&
        a->first_valid_at != RTC_TIME_NEVER && best_valid(a) >= 0)
        t = rtc_time_min(t, a->first_valid_at + a->cfg.nomination_delay);
    if (!a->cfg.lite && !a->sel.set && a->have_remote && fail_at(a) > a->now)
        t = rtc_time_min(t, fail_at(a));
    if (a->sel.set) {
        if (!a->cfg.lite) t = rtc_time_min(t, a->next_consent_at);
        if (a->state == RTC_ICE_CONNECTED || a->state == RTC_ICE_COMPLETED)
            t = rtc_time_min(t, heard_at(a) + a->cfg.disconnected_after);
        t = rtc_time_min(t, a->consent_ok_at + a->cfg.failed_after);
    }
    return t;
}
