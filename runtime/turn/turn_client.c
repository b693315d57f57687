/* TURN client allocation machine (RFC 8656). */
#include "turn_client.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "core/rtc_ring.h"
#include "stun/stun.h"
#include "stun/stun_txn.h"
#include <stdlib.h>
#include <string.h>

#define MAX_PERMS 32
#define MAX_CHANS 32
#define MAX_TXNS 24
#define MAX_PENDING 32
#define MAX_OUT 512
#define MAX_EVENTS 256
/* Output and events sit in rings that start inside the object and grow on the heap
 * only for a burst, back inside once drained: a relayed datagram costs no allocation,
 * and an idle client a few KB instead of the full 512 + 256 slots (116 KB). */
#define INLINE_OUT 8
#define INLINE_EVENTS 4
#define MAX_STREAM (65536 + 64)
#define PERM_REFRESH RTC_SEC(240)       /* permissions last 300 s */
#define CHAN_REFRESH RTC_SEC(540)       /* channel bindings last 600 s */

enum { K_ALLOCATE, K_REFRESH, K_PERM, K_CHAN };
enum { S_NONE, S_PENDING, S_OK };

/* last_used: data sent to or received from the peer. An entry unused since it was last
 * granted is not refreshed: it expires on the server and its slot is free again (ICE
 * checks every candidate pair once; only the pairs in use keep their permissions). */
typedef struct perm { rtc_addr ip; int state; rtc_time refresh_at, granted_at, last_used; } perm;
typedef struct chan { rtc_addr peer; uint16_t num; int state; rtc_time refresh_at, granted_at, last_used; } chan;
typedef struct txn {
    bool used;
    int kind, idx, stale;
    bool authed;
    uint8_t tid[RTC_STUN_TID_LEN];
    rtc_stun_txn t;
    uint8_t msg[512];
    size_t len;
} txn;
typedef struct pending { rtc_addr peer; rtc_buf *b; } pending;

struct rtc_turn_client {
    rtc_turn_config cfg;
    char *user, *pass;
    char realm[256], nonce[256];
    bool have_key, closing;
    uint8_t key[32];           /* MD5 uses the first 16 */
    rtc_turn_state state;
    rtc_addr relayed, mapped;
    uint32_t lifetime;
    rtc_time refresh_at, last_now;
    perm perms[MAX_PERMS];
    chan chans[MAX_CHANS];
    txn *txns[MAX_TXNS];       /* heap, on first use; NULL or !used = free (freed when drained) */
    pending pend[MAX_PENDING];
    int npend;
    uint16_t next_channel;
    rtc_transmit *out;         /* out_inline or the heap; out_cap slots */
    int out_head, out_n, out_cap;
    rtc_turn_event *ev;        /* ev_inline or the heap; ev_cap slots */
    int ev_head, ev_n, ev_cap;
    rtc_transmit out_inline[INLINE_OUT];
    rtc_turn_event ev_inline[INLINE_EVENTS];
    uint8_t *sbuf;
    size_t slen;
    rtc_turn_stats stats;
};

static rtc_time clamp_now(rtc_turn_client *c, rtc_time now)
{
    if (now < c->last_now) now = c->last_now;
    c->last_now = now;
    return now;
}

static void push_event(rtc_turn_client *c, const rtc_turn_event *e)
{
    if (c->ev_n == c->ev_cap &&
        !rtc_ring_grow((void **)&c->ev, c->ev_inline, &c->ev_head, c->ev_n, &c->ev_cap, MAX_EVENTS, sizeof *c->ev)) {
        /* bounded: a stalled caller loses data, not memory */
        if (e->type == RTC_TURN_EV_DATA) rtc_buf_unref(e->data);
        c->stats.dropped++;
        return;
    }
    c->ev[(c->ev_head + c->ev_n++) % c->ev_cap] = *e;
}

static void push_out(rtc_turn_client *c, const uint8_t *p, size_t len)
{
    if (c->out_n == c->out_cap &&
        !rtc_ring_grow((void **)&c->out, c->out_inline, &c->out_head, c->out_n, &c->out_cap, MAX_OUT, sizeof *c->out)) {
        c->stats.dropped++;
        return;
    }
    size_t padded = len;
    if (c->cfg.transport != RTC_TURN_UDP) padded = (len + 3) & ~(size_t)3;
    rtc_buf *b = rtc_buf_alloc(c->cfg.pool, padded);
    if (!b) { c->stats.dropped++; return; }
    memcpy(b->data, p, len);
    memset(b->data + len, 0, padded - len);
    b->len = padded;
    rtc_transmit *t = &c->out[(c->out_head + c->out_n++) % c->out_cap];
    t->local = c->cfg.local;
    t->remote = c->cfg.server;
    t->buf = b;
    t->proto = c->cfg.transport != RTC_TURN_UDP ? RTC_PROTO_TCP_RAW : RTC_PROTO_UDP;
}

static void fail(rtc_turn_client *c, int err, int code, const char *reason, size_t rlen)
{
    if (c->state == RTC_TURN_FAILED || c->state == RTC_TURN_CLOSED) return;
    c->state = RTC_TURN_FAILED;
    rtc_turn_event e = { .type = RTC_TURN_EV_FAILED, .error = err, .code = code };
    if (rlen >= sizeof e.reason) rlen = sizeof e.reason - 1;
    memcpy(e.reason, reason, rlen);
    e.reason[rlen] = 0;
    push_event(c, &e);
    for (int i = 0; i < MAX_TXNS; i++) if (c->txns[i]) c->txns[i]->used = false;
    for (int i = 0; i < c->npend; i++) rtc_buf_unref(c->pend[i].b);
    c->npend = 0;
    rtc_warn("turn", "allocation failed: %d %s", code, e.reason);
}

void rtc_turn_client_transport_failed(rtc_turn_client *c, int error, const char *reason, rtc_time now)
{
    (void)now;
    if (!reason || !*reason) reason = "connection to the TURN server failed";
    fail(c, error < 0 ? error : RTC_EIO, 0, reason, strlen(reason));
}

/* (Re)build the request of a transaction with a fresh id and current credentials. */
static int build_request(rtc_turn_client *c, txn *t)
{
    static const uint16_t methods[] = { RTC_STUN_ALLOCATE, RTC_STUN_REFRESH, RTC_STUN_CREATE_PERMISSION,
                                        RTC_STUN_CHANNEL_BIND };
    rtc_rng_bytes(c->cfg.rng, t->tid, sizeof t->tid);
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, t->msg, sizeof t->msg, methods[t->kind], RTC_STUN_REQUEST, t->tid);
    switch (t->kind) {
    case K_ALLOCATE:
        rtc_stun_put_transport(&w, 17);
        rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, c->cfg.lifetime);
        if (c->cfg.family == AF_INET6) rtc_stun_put_family(&w, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY, AF_INET6);
        break;
    case K_REFRESH:
        rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, c->closing ? 0 : c->cfg.lifetime);
        break;
    case K_PERM:
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &c->perms[t->idx].ip);
        break;
    case K_CHAN:
        rtc_stun_put_channel(&w, c->chans[t->idx].num);
        rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &c->chans[t->idx].peer);
        break;
    }
    t->authed = c->have_key;
    if (c->have_key) {
        rtc_stun_put_str(&w, RTC_STUN_ATTR_USERNAME, rtc_str_c(c->user));
        rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, rtc_str_c(c->realm));
        rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, rtc_str_c(c->nonce));
        rtc_stun_put_integrity(&w, c->key, 16);
    }
    rtc_stun_put_fingerprint(&w);
    int n = rtc_stun_finish(&w);
    if (n < 0) return n;
    t->len = (size_t)n;
    return 0;
}

static int start_txn(rtc_turn_client *c, int kind, int idx, rtc_time now)
{
    for (int i = 0; i < MAX_TXNS; i++) {
        if (c->txns[i] && c->txns[i]->used) continue;
        if (!c->txns[i] && !(c->txns[i] = malloc(sizeof *c->txns[i]))) break;
        txn *t = c->txns[i];
        memset(t, 0, sizeof *t);
        t->used = true;
        t->kind = kind;
        t->idx = idx;
        int r = build_request(c, t);
        if (r < 0) { t->used = false; return r; }
        rtc_stun_rto_cfg rc = { .rto = c->cfg.rto, .reliable = c->cfg.transport != RTC_TURN_UDP };
        rtc_stun_txn_start(&t->t, &rc, now);
        return 0;
    }
    c->stats.dropped++;
    return RTC_EAGAIN;
}

static void run_txns(rtc_turn_client *c, rtc_time now);

int rtc_turn_client_new(rtc_turn_client **out, const rtc_turn_config *cfg, rtc_time now)
{
    if (!out || !cfg || !cfg->rng || rtc_addr_family(&cfg->server) == 0) return RTC_EINVAL;
    rtc_turn_client *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    c->cfg = *cfg;
    if (!c->cfg.lifetime) c->cfg.lifetime = 600;
    c->user = strndup(cfg->username.p ? cfg->username.p : "", cfg->username.len);
    c->pass = strndup(cfg->password.p ? cfg->password.p : "", cfg->password.len);
    c->cfg.username = rtc_str_c(c->user);
    c->cfg.password = rtc_str_c(c->pass);
    c->next_channel = 0x4000;
    c->last_now = now;
    c->out = c->out_inline;
    c->out_cap = INLINE_OUT;
    c->ev = c->ev_inline;
    c->ev_cap = INLINE_EVENTS;
    if (!c->user || !c->pass) { rtc_turn_client_free(c); return RTC_ENOMEM; }
    if (cfg->transport != RTC_TURN_UDP && !(c->sbuf = malloc(MAX_STREAM))) {
        rtc_turn_client_free(c);
        return RTC_ENOMEM;
    }
    c->state = RTC_TURN_ALLOCATING;
    start_txn(c, K_ALLOCATE, 0, now);
    run_txns(c, now);
    *out = c;
    return 0;
}

void rtc_turn_client_free(rtc_turn_client *c)
{
    if (!c) return;
    for (int i = 0; i < c->out_n; i++) rtc_buf_unref(c->out[(c->out_head + i) % c->out_cap].buf);
    for (int i = 0; i < c->ev_n; i++) {
        rtc_turn_event *e = &c->ev[(c->ev_head + i) % c->ev_cap];
        if (e->type == RTC_TURN_EV_DATA) rtc_buf_unref(e->data);
    }
    if (c->out != c->out_inline) free(c->out);
    if (c->ev != c->ev_inline) free(c->ev);
    for (int i = 0; i < MAX_TXNS; i++) free(c->txns[i]);
    for (int i = 0; i < c->npend; i++) rtc_buf_unref(c->pend[i].b);
    free(c->user);
    free(c->pass);
    free(c->sbuf);
    free(c);
}

static perm *find_perm(rtc_turn_client *c, const rtc_addr *peer)
{
    for (int i = 0; i < MAX_PERMS; i++)
        if (c->perms[i].state != S_NONE && rtc_addr_ip_eq(&c->perms[i].ip, peer)) return &c->perms[i];
    return NULL;
}

static chan *find_chan(rtc_turn_client *c, const rtc_addr *peer)
{
    for (int i = 0; i < MAX_CHANS; i++)
        if (c->chans[i].state != S_NONE && rtc_addr_eq(&c->chans[i].peer, peer)) return &c->chans[i];
    return NULL;
}

static void request_perm(rtc_turn_client *c, const rtc_addr *peer, rtc_time now)
{
    if (find_perm(c, peer)) return;
    for (int i = 0; i < MAX_PERMS; i++) {
        if (c->perms[i].state != S_NONE) continue;
        c->perms[i].ip = *peer;
        rtc_addr_set_port(&c->perms[i].ip, 0);
        c->perms[i].state = S_PENDING;
        if (start_txn(c, K_PERM, i, now) < 0) c->perms[i].state = S_NONE;
        return;
    }
}

static void request_chan(rtc_turn_client *c, const rtc_addr *peer, rtc_time now)
{
    if (find_chan(c, peer) || c->next_channel > 0x4FFF) return;
    for (int i = 0; i < MAX_CHANS; i++) {
        if (c->chans[i].state != S_NONE) continue;
        c->chans[i].peer = *peer;
        c->chans[i].num = c->next_channel++;
        c->chans[i].state = S_PENDING;
        if (start_txn(c, K_CHAN, i, now) < 0) c->chans[i].state = S_NONE;
        return;
    }
}

static void mark_used(rtc_turn_client *c, const rtc_addr *peer)
{
    perm *pm = find_perm(c, peer);
    if (pm) pm->last_used = c->last_now;
    chan *ch = find_chan(c, peer);
    if (ch) ch->last_used = c->last_now;
}

/* Wrap and queue without checking permission state. */
static void send_wrapped(rtc_turn_client *c, const rtc_addr *peer, const uint8_t *data, size_t len)
{
    mark_used(c, peer);
    chan *ch = find_chan(c, peer);
    if (ch && ch->state == S_OK && len <= 0xFFFF) {
        uint8_t stackbuf[1600];
        uint8_t *p = len + 4 <= sizeof stackbuf ? stackbuf : malloc(len + 4);
        if (!p) { c->stats.dropped++; return; }
        rtc_wr16(p, ch->num);
        rtc_wr16(p + 2, (uint16_t)len);
        memcpy(p + 4, data, len);
        push_out(c, p, len + 4);               /* push_out pads for TCP */
        if (p != stackbuf) free(p);
        c->stats.sent_channel++;
        return;
    }
    size_t cap = len + 64;
    uint8_t stackbuf[1700];
    uint8_t *p = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
    if (!p) { c->stats.dropped++; return; }
    uint8_t tid[RTC_STUN_TID_LEN];
    rtc_rng_bytes(c->cfg.rng, tid, sizeof tid);
    rtc_stun_writer w;
    rtc_stun_writer_init(&w, p, cap, RTC_STUN_SEND, RTC_STUN_INDICATION, tid);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_PEER_ADDRESS, peer);
    rtc_stun_put(&w, RTC_STUN_ATTR_DATA, data, len);
    int n = rtc_stun_finish(&w);
    if (n > 0) { push_out(c, p, (size_t)n); c->stats.sent_indications++; }
    else c->stats.dropped++;
    if (p != stackbuf) free(p);
}

static void flush_pending(rtc_turn_client *c, rtc_time now)
{
    int k = 0;
    for (int i = 0; i < c->npend; i++) {
        pending *pd = &c->pend[i];
        perm *pm = c->state == RTC_TURN_READY ? find_perm(c, &pd->peer) : NULL;
        if (c->state == RTC_TURN_READY && !pm) { request_perm(c, &pd->peer, now); pm = find_perm(c, &pd->peer); }
        if (pm && pm->state == S_OK) {
            send_wrapped(c, &pd->peer, pd->b->data, pd->b->len);
            /* Bind a channel for each peer we relay to: 4 bytes of overhead instead of 36. */
            request_chan(c, &pd->peer, now);
            rtc_buf_unref(pd->b);
        } else if (c->state == RTC_TURN_READY && !pm) {
            rtc_buf_unref(pd->b);              /* no room for a permission */
            c->stats.dropped++;
        } else {
            c->pend[k++] = *pd;
        }
    }
    c->npend = k;
}

int rtc_turn_client_send(rtc_turn_client *c, const rtc_addr *peer, const uint8_t *data, size_t len, rtc_time now)
{
    now = clamp_now(c, now);
    if (c->state == RTC_TURN_FAILED || c->state == RTC_TURN_CLOSED || c->closing) return RTC_ESTATE;
    if (len > 0xFFFF) return RTC_ETOOBIG;
    perm *pm = c->state == RTC_TURN_READY ? find_perm(c, peer) : NULL;
    if (pm && pm->state == S_OK) {
        send_wrapped(c, peer, data, len);
        if (!find_chan(c, peer)) request_chan(c, peer, now);
        run_txns(c, now);
        return 0;
    }
    if (c->npend == MAX_PENDING) { c->stats.dropped++; return RTC_EAGAIN; }
    rtc_buf *b = rtc_buf_alloc(c->cfg.pool, len);
    if (!b) return RTC_ENOMEM;
    memcpy(b->data, data, len);
    b->len = len;
    c->pend[c->npend++] = (pending){ *peer, b };
    if (c->state == RTC_TURN_READY) request_perm(c, peer, now);
    run_txns(c, now);
    return 0;
}

int rtc_turn_client_close(rtc_turn_client *c, rtc_time now)
{
    now = clamp_now(c, now);
    if (c->closing || c->state == RTC_TURN_CLOSED) return 0;
    c->closing = true;
    if (c->state != RTC_TURN_READY) {
        c->state = RTC_TURN_CLOSED;
        push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_CLOSED });
        return 0;
    }
    for (int i = 0; i < MAX_TXNS; i++) if (c->txns[i]) c->txns[i]->used = false;
    start_txn(c, K_REFRESH, 0, now);
    run_txns(c, now);
    return 0;
}

static void emit_data(rtc_turn_client *c, const rtc_addr *peer, const uint8_t *p, size_t len)
{
    mark_used(c, peer);
    rtc_buf *b = rtc_buf_alloc(c->cfg.pool, len);
    if (!b) { c->stats.dropped++; return; }
    memcpy(b->data, p, len);
    b->len = len;
    c->stats.recv_data++;
    push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_DATA, .peer = *peer, .data = b });
}

static void on_success(rtc_turn_client *c, txn *t, const rtc_stun_msg *m, rtc_time now)
{
    uint32_t lt = 0;
    switch (t->kind) {
    case K_ALLOCATE:
        if (rtc_stun_get_addr(m, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &c->relayed) < 0) {
            fail(c, RTC_EPROTO, 0, "no relayed address", 18);
            return;
        }
        rtc_stun_get_addr(m, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &c->mapped);
        if (rtc_stun_get_u32(m, RTC_STUN_ATTR_LIFETIME, &lt) < 0 || lt == 0) lt = c->cfg.lifetime;
        c->lifetime = lt;
        c->refresh_at = now + (lt > 120 ? RTC_SEC(lt - 60) : RTC_SEC(lt) / 2);
        c->state = RTC_TURN_READY;
        push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_ALLOCATED, .relayed = c->relayed, .mapped = c->mapped });
        flush_pending(c, now);
        break;
    case K_REFRESH:
        if (c->closing) {
            c->state = RTC_TURN_CLOSED;
            push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_CLOSED });
            return;
        }
        if (rtc_stun_get_u32(m, RTC_STUN_ATTR_LIFETIME, &lt) < 0 || lt == 0) lt = c->lifetime;
        c->refresh_at = now + (lt > 120 ? RTC_SEC(lt - 60) : RTC_SEC(lt) / 2);
        break;
    case K_PERM:
        c->perms[t->idx].state = S_OK;
        c->perms[t->idx].refresh_at = now + PERM_REFRESH;
        c->perms[t->idx].granted_at = now;
        flush_pending(c, now);
        break;
    case K_CHAN:
        c->chans[t->idx].state = S_OK;
        c->chans[t->idx].refresh_at = now + CHAN_REFRESH;
        c->chans[t->idx].granted_at = now;
        break;
    }
}

static void on_error(rtc_turn_client *c, txn *t, const rtc_stun_msg *m, rtc_time now)
{
    int code = 0;
    rtc_str reason = { "", 0 };
    rtc_stun_get_error(m, &code, &reason);
    rtc_str realm, nonce;
    bool has_nonce = rtc_stun_get_str(m, RTC_STUN_ATTR_NONCE, &nonce) == 0 && nonce.len < sizeof c->nonce;
    bool has_realm = rtc_stun_get_str(m, RTC_STUN_ATTR_REALM, &realm) == 0 && realm.len < sizeof c->realm;
    if ((code == 401 && !t->authed && has_nonce && has_realm) || (code == 438 && has_nonce && t->stale < 3)) {
        if (has_realm) { memcpy(c->realm, realm.p, realm.len); c->realm[realm.len] = 0; }
        memcpy(c->nonce, nonce.p, nonce.len);
        c->nonce[nonce.len] = 0;
        if (rtc_stun_long_term_key(rtc_str_c(c->user), rtc_str_c(c->realm), rtc_str_c(c->pass),
                                   RTC_STUN_PWALG_MD5, c->key) != 16) {
            fail(c, RTC_EAUTH, code, "key derivation failed", 21);
            return;
        }
        c->have_key = true;
        if (code == 438) t->stale++;
        c->stats.auth_retries++;
        if (build_request(c, t) < 0) { t->used = false; return; }
        rtc_stun_rto_cfg rc = { .rto = c->cfg.rto, .reliable = c->cfg.transport != RTC_TURN_UDP };
        rtc_stun_txn_start(&t->t, &rc, now);
        return;
    }
    t->used = false;
    if (t->kind == K_ALLOCATE || t->kind == K_REFRESH || code == 401 || code == 441) {
        if (c->closing) {
            c->state = RTC_TURN_CLOSED;
            push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_CLOSED });
            return;
        }
        fail(c, (code == 401 || code == 441) ? RTC_EAUTH : RTC_EACCESS, code, reason.p, reason.len);
        return;
    }
    if (t->kind == K_PERM) c->perms[t->idx].state = S_NONE;
    if (t->kind == K_CHAN) c->chans[t->idx].state = S_NONE;
    rtc_debug("turn", "%s failed: %d", t->kind == K_PERM ? "CreatePermission" : "ChannelBind", code);
}

static int handle_stun(rtc_turn_client *c, const uint8_t *p, size_t len, rtc_time now)
{
    rtc_stun_msg m;
    int r = rtc_stun_parse(p, len, &m);
    if (r < 0) { c->stats.dropped++; return r; }
    if (m.cls == RTC_STUN_INDICATION) {
        if (m.method != RTC_STUN_DATA) return RTC_EIGNORED;
        rtc_addr peer;
        rtc_str d;
        if (rtc_stun_get_addr(&m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) < 0 ||
            rtc_stun_get_str(&m, RTC_STUN_ATTR_DATA, &d) < 0) { c->stats.dropped++; return RTC_EPROTO; }
        emit_data(c, &peer, (const uint8_t *)d.p, d.len);
        return 0;
    }
    if (m.cls == RTC_STUN_REQUEST) { c->stats.dropped++; return RTC_EIGNORED; }
    for (int i = 0; i < MAX_TXNS; i++) {
        txn *t = c->txns[i];
        if (!t || !t->used || memcmp(t->tid, m.tid, RTC_STUN_TID_LEN) != 0) continue;
        /* Responses to authenticated requests must carry valid integrity; a 401 may not. */
        if (t->authed && m.cls == RTC_STUN_SUCCESS && rtc_stun_check_integrity(&m, c->key, 16) != 0) {
            c->stats.dropped++;
            return RTC_EIGNORED;
        }
        if (m.cls == RTC_STUN_SUCCESS) {
            t->used = false;
            on_success(c, t, &m, now);
        } else {
            on_error(c, t, &m, now);
        }
        run_txns(c, now);
        return 0;
    }
    c->stats.dropped++;
    return RTC_EIGNORED;
}

static int handle_channel(rtc_turn_client *c, const uint8_t *p, size_t len)
{
    if (len < 4) { c->stats.dropped++; return RTC_ETRUNC; }
    uint16_t num = rtc_rd16(p), dl = rtc_rd16(p + 2);
    if ((size_t)dl + 4 > len) { c->stats.dropped++; return RTC_ETRUNC; }
    for (int i = 0; i < MAX_CHANS; i++) {
        if (c->chans[i].state != S_NONE && c->chans[i].num == num) {
            emit_data(c, &c->chans[i].peer, p + 4, dl);
            return 0;
        }
    }
    c->stats.dropped++;
    return RTC_EIGNORED;
}

static int handle_frame(rtc_turn_client *c, const uint8_t *p, size_t len, rtc_time now)
{
    if (len == 0) return RTC_ETRUNC;
    if (p[0] >= 0x40 && p[0] <= 0x4F) return handle_channel(c, p, len);
    return handle_stun(c, p, len, now);
}

int rtc_turn_client_handle_packet(rtc_turn_client *c, const uint8_t *data, size_t len, rtc_time now)
{
    now = clamp_now(c, now);
    if (c->state == RTC_TURN_CLOSED) return RTC_ECLOSED;
    if (c->cfg.transport == RTC_TURN_UDP) return handle_frame(c, data, len, now);
    while (len > 0) {
        size_t take = MAX_STREAM - c->slen;
        if (take > len) take = len;
        memcpy(c->sbuf + c->slen, data, take);
        c->slen += take;
        data += take;
        len -= take;
        size_t off = 0;
        for (;;) {
            int fl = rtc_stun_frame_len(c->sbuf + off, c->slen - off);
            if (fl < 0) {                      /* lost framing: the stream is useless now */
                c->slen = 0;
                fail(c, RTC_EPROTO, 0, "bad TCP framing", 15);
                return RTC_EPROTO;
            }
            if (fl == 0 || (size_t)fl > c->slen - off) break;
            size_t flen = (size_t)fl;
            /* ChannelData frames are padded on streams; hand over the unpadded message. */
            const uint8_t *f = c->sbuf + off;
            size_t mlen = (f[0] & 0xC0) == 0 ? flen : 4 + (size_t)rtc_rd16(f + 2);
            handle_frame(c, f, mlen, now);
            off += flen;
        }
        memmove(c->sbuf, c->sbuf + off, c->slen - off);
        c->slen -= off;
    }
    return 0;
}

static void run_txns(rtc_turn_client *c, rtc_time now)
{
    for (int i = 0; i < MAX_TXNS; i++) {
        txn *t = c->txns[i];
        if (!t || !t->used) continue;
        int r = rtc_stun_txn_poll(&t->t, now);
        if (r == RTC_STUN_TXN_SEND) {
            push_out(c, t->msg, t->len);
        } else if (r == RTC_STUN_TXN_TIMEOUT) {
            t->used = false;
            if (t->kind == K_ALLOCATE || t->kind == K_REFRESH) {
                if (c->closing) {
                    c->state = RTC_TURN_CLOSED;
                    push_event(c, &(rtc_turn_event){ .type = RTC_TURN_EV_CLOSED });
                } else {
                    fail(c, RTC_ETIMEDOUT, 0, "no response from TURN server", 28);
                }
                return;
            }
            if (t->kind == K_PERM) c->perms[t->idx].state = S_NONE;
            if (t->kind == K_CHAN) c->chans[t->idx].state = S_NONE;
        }
    }
}

static bool txn_active(rtc_turn_client *c, int kind, int idx)
{
    for (int i = 0; i < MAX_TXNS; i++)
        if (c->txns[i] && c->txns[i]->used && c->txns[i]->kind == kind && c->txns[i]->idx == idx) return true;
    return false;
}

int rtc_turn_client_handle_timeout(rtc_turn_client *c, rtc_time now)
{
    now = clamp_now(c, now);
    if (c->state == RTC_TURN_READY && !c->closing) {
        if (now >= c->refresh_at && !txn_active(c, K_REFRESH, 0)) {
            c->refresh_at = RTC_TIME_NEVER;
            start_txn(c, K_REFRESH, 0, now);
        }
        for (int i = 0; i < MAX_PERMS; i++) {
            perm *p = &c->perms[i];
            if (p->state == S_OK && now >= p->refresh_at && !txn_active(c, K_PERM, i)) {
                if (p->last_used < p->granted_at) { p->state = S_NONE; continue; }
                p->refresh_at = now + PERM_REFRESH;
                /* Every transaction slot busy: try again in a second, not at the next refresh. */
                if (start_txn(c, K_PERM, i, now) < 0) p->refresh_at = now + RTC_SEC(1);
            }
        }
        for (int i = 0; i < MAX_CHANS; i++) {
            chan *ch = &c->chans[i];
            if (ch->state == S_OK && now >= ch->refresh_at && !txn_active(c, K_CHAN, i)) {
                if (ch->last_used < ch->granted_at) { ch->state = S_NONE; continue; }
                ch->refresh_at = now + CHAN_REFRESH;
                /* Every transaction slot busy: try again in a second, not at the next refresh. */
                if (start_txn(c, K_CHAN, i, now) < 0) ch->refresh_at = now + RTC_SEC(1);
            }
        }
    }
    run_txns(c, now);
    return 0;
}

bool rtc_turn_client_poll_transmit(rtc_turn_client *c, rtc_transmit *out)
{
    if (!c->out_n) {
        /* drained: heap ring and finished transactions go */
        if (c->out != c->out_inline) rtc_ring_shrink((void **)&c->out, c->out_inline, &c->out_head, &c->out_cap, INLINE_OUT);
        for (int i = 0; i < MAX_TXNS; i++)
            if (c->txns[i] && !c->txns[i]->used) { free(c->txns[i]); c->txns[i] = NULL; }
        return false;
    }
    *out = c->out[c->out_head];
    c->out_head = (c->out_head + 1) % c->out_cap;
    c->out_n--;
    return true;
}

bool rtc_turn_client_poll_event(rtc_turn_client *c, rtc_turn_event *out)
{
    if (!c->ev_n) return false;
    *out = c->ev[c->ev_head];
    c->ev_head = (c->ev_head + 1) % c->ev_cap;
    if (--c->ev_n == 0 && c->ev != c->ev_inline)
        rtc_ring_shrink((void **)&c->ev, c->ev_inline, &c->ev_head, &c->ev_cap, INLINE_EVENTS);
    return true;
}

rtc_time rtc_turn_client_poll_timeout(const rtc_turn_client *c)
{
    if (c->out_n) return c->last_now;
    rtc_time t = RTC_TIME_NEVER;
    for (int i = 0; i < MAX_TXNS; i++)
        if (c->txns[i] && c->txns[i]->used) t = rtc_time_min(t, rtc_stun_txn_timeout(&c->txns[i]->t));
    if (c->state == RTC_TURN_READY && !c->closing) {
        t = rtc_time_min(t, c->refresh_at);
        for (int i = 0; i < MAX_PERMS; i++) if (c->perms[i].state == S_OK) t = rtc_time_min(t, c->perms[i].refresh_at);
        for (int i = 0; i < MAX_CHANS; i++) if (c->chans[i].state == S_OK) t = rtc_time_min(t, c->chans[i].refresh_at);
    }
    return t;
}

rtc_turn_state rtc_turn_client_state(const rtc_turn_client *c) { return c->state; }

int rtc_turn_client_relayed(const rtc_turn_client *c, rtc_addr *out)
{
    if (c->state != RTC_TURN_READY) return RTC_ESTATE;
    *out = c->relayed;
    return 0;
}

const rtc_addr *rtc_turn_client_server(const rtc_turn_client *c) { return &c->cfg.server; }
const rtc_addr *rtc_turn_client_local(const rtc_turn_client *c) { return &c->cfg.local; }
int rtc_turn_client_transport(const rtc_turn_client *c) { return c->cfg.transport; }
void rtc_turn_client_get_stats(const rtc_turn_client *c, rtc_turn_stats *out) { *out = c->stats; }
