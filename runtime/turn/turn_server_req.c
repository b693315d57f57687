/* TURN server requests: long-term authentication (static users, a key callback, TURN
 * REST ephemeral credentials), stateless nonces, Binding, Allocate, Refresh,
 * CreatePermission, ChannelBind, Send indications and ChannelData from clients. */
#include "turn/turn_server_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONCE_LEN 24   /* 8 hex digits of expiry second + 16 hex digits of MAC */

/* One client request being answered. */
typedef struct req {
    const rtc_addr *local, *client;
    int proto;
    const rtc_stun_msg *m;
    bool fp;                      /* the request had FINGERPRINT: so does the answer */
    const uint8_t *key;           /* set once authenticated: answers carry integrity */
    rtc_str user;
} req;

/* ====== answers ====== */

static rtc_buf *begin(rtc_turn_server *s, rtc_stun_writer *w, uint16_t method, uint8_t cls, const uint8_t *tid)
{
    rtc_buf *b = tsv__buf(s, TSV_MSG_MAX);
    if (!b) return NULL;
    rtc_stun_writer_init(w, b->data, b->cap < TSV_MSG_MAX ? b->cap : TSV_MSG_MAX, method, cls, tid);
    return b;
}

static void finish(rtc_turn_server *s, rtc_stun_writer *w, rtc_buf *b, const uint8_t *key, bool fp,
                   const rtc_addr *local, const rtc_addr *client, int proto)
{
    if (s->cfg.software.len) rtc_stun_put_str(w, RTC_STUN_ATTR_SOFTWARE, s->cfg.software);
    if (key) rtc_stun_put_integrity(w, key, 16);
    if (fp) rtc_stun_put_fingerprint(w);
    int n = rtc_stun_finish(w);
    if (n < 0) { rtc_buf_unref(b); return; }
    b->len = (size_t)n;
    tsv__queue_client(s, local, client, proto, b);
}

static void count_error(rtc_turn_server *s, int code)
{
    s->st.responses_err++;
    switch (code) {
    case 400: s->st.err_400++; break;
    case 401: s->st.err_401++; break;
    case 403: s->st.err_403++; break;
    case 420: s->st.err_420++; break;
    case 437: s->st.err_437++; break;
    case 438: s->st.err_438++; break;
    case 440: s->st.err_440++; break;
    case 441: s->st.err_441++; break;
    case 442: s->st.err_442++; break;
    case 443: s->st.err_443++; break;
    case 486: s->st.err_486++; break;
    case 508: s->st.err_508++; break;
    default: break;
    }
}

static const char *reason_for(int code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 420: return "Unknown Attribute";
    case 437: return "Allocation Mismatch";
    case 438: return "Stale Nonce";
    case 440: return "Address Family not Supported";
    case 441: return "Wrong Credentials";
    case 442: return "Unsupported Transport Protocol";
    case 443: return "Peer Address Family Mismatch";
    case 486: return "Allocation Quota Reached";
    case 508: return "Insufficient Capacity";
    default: return "Error";
    }
}

/* A nonce is stateless: its expiry second and a MAC over it and the client's IP, so
 * a flood of unauthenticated requests costs no memory. */
static void make_nonce(rtc_turn_server *s, const rtc_addr *client, uint32_t expiry, char out[NONCE_LEN + 1])
{
    uint8_t msg[4 + 16], mac[EVP_MAX_MD_SIZE];
    unsigned mlen = 0;
    size_t n;
    const uint8_t *ip = rtc_addr_bytes(client, &n);
    rtc_wr32(msg, expiry);
    memcpy(msg + 4, ip, n);
    HMAC(EVP_sha1(), s->nonce_key, sizeof s->nonce_key, msg, 4 + n, mac, &mlen);
    snprintf(out, NONCE_LEN + 1, "%08x%02x%02x%02x%02x%02x%02x%02x%02x", expiry,
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], mac[6], mac[7]);
}

static void fresh_nonce(rtc_turn_server *s, const rtc_addr *client, char out[NONCE_LEN + 1])
{
    make_nonce(s, client, (uint32_t)(s->now / 1000000 + s->cfg.nonce_lifetime), out);
}

/* 1 valid, 0 stale (well-formed and ours, but expired), -1 not ours. */
static int check_nonce(rtc_turn_server *s, const rtc_addr *client, rtc_str nonce)
{
    if (nonce.len != NONCE_LEN) return -1;
    char hex[9], want[NONCE_LEN + 1];
    memcpy(hex, nonce.p, 8);
    hex[8] = 0;
    char *end;
    unsigned long exp = strtoul(hex, &end, 16);
    if (end != hex + 8) return -1;
    make_nonce(s, client, (uint32_t)exp, want);
    if (memcmp(want, nonce.p, NONCE_LEN)) return -1;
    return (int64_t)exp * 1000000 > s->now ? 1 : 0;
}

static void reply_error(rtc_turn_server *s, const req *r, int code)
{
    rtc_stun_writer w;
    rtc_buf *b = begin(s, &w, r->m->method, RTC_STUN_ERROR, r->m->tid);
    if (!b) return;
    count_error(s, code);
    if (rtc_log_enabled("turn", RTC_LOG_DEBUG)) {
        char a[RTC_ADDR_STRLEN];
        rtc_debug("turn", "%s from %s: %d %s", rtc_stun_method_name(r->m->method),
                  rtc_addr_str(r->client, a, sizeof a), code, reason_for(code));
    }
    rtc_stun_put_error(&w, code, rtc_str_c(reason_for(code)));
    if (code == 420) rtc_stun_put_unknown(&w, r->m->unknown, r->m->nunknown);
    const uint8_t *key = r->key;
    if (code == 401 || code == 438) {
        char nonce[NONCE_LEN + 1];
        fresh_nonce(s, r->client, nonce);
        rtc_stun_put_str(&w, RTC_STUN_ATTR_REALM, s->cfg.realm);
        rtc_stun_put_str(&w, RTC_STUN_ATTR_NONCE, (rtc_str){ nonce, NONCE_LEN });
        key = NULL;
    }
    finish(s, &w, b, key, r->fp, r->local, r->client, r->proto);
}

/* A refusal for lack of room (486, 508). The code alone says little -- 508 covers the
 * allocation table, the relay port range, ports other processes hold, permissions and
 * channels -- so the limit that was hit goes to the log: it tells an operator whether
 * to widen the port range, raise a cap, or look for another program on the relay ports. */
static void refuse(rtc_turn_server *s, const req *r, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void refuse(rtc_turn_server *s, const req *r, int code, const char *fmt, ...)
{
    if (rtc_log_enabled("turn", RTC_LOG_INFO)) {
        char a[RTC_ADDR_STRLEN], why[160];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, sizeof why, fmt, ap);
        va_end(ap);
        rtc_info("turn", "%s from %s (%.*s): %d %s: %s", rtc_stun_method_name(r->m->method),
                 rtc_addr_str(r->client, a, sizeof a), (int)r->user.len, r->user.p ? r->user.p : "",
                 code, reason_for(code), why);
    }
    reply_error(s, r, code);
}

/* ====== authentication ====== */

/* "expiry" or "expiry:user" with a decimal expiry: a TURN REST username. */
static bool rest_expiry(rtc_str user, int64_t *expiry)
{
    size_t i = 0;
    int64_t v = 0;
    while (i < user.len && user.p[i] >= '0' && user.p[i] <= '9' && i < 18) v = v * 10 + (user.p[i++] - '0');
    if (i == 0 || (i < user.len && user.p[i] != ':')) return false;
    *expiry = v;
    return true;
}

/* The long-term key for `user`, or a negative value. */
static int lookup_key(rtc_turn_server *s, rtc_str user, uint8_t key[16])
{
    int64_t exp;
    if (s->cfg.rest_secret.len && rest_expiry(user, &exp)) {
        if (exp < s->unix_now) return RTC_ETIMEDOUT;
        char pass[32];
        int n = rtc_turn_rest_password(s->cfg.rest_secret, user, pass, sizeof pass);
        uint8_t k[32];
        if (n < 0 || rtc_stun_long_term_key(user, s->cfg.realm, (rtc_str){ pass, (size_t)n }, RTC_STUN_PWALG_MD5, k) != 16)
            return RTC_EAUTH;
        memcpy(key, k, 16);
        return 0;
    }
    const uint8_t *k = tsv__user_key(s, user);
    if (k) { memcpy(key, k, 16); return 0; }
    if (s->cfg.get_key && s->cfg.get_key(s->cfg.auth_ud, user, s->cfg.realm, key) == 16) return 0;
    return RTC_EAUTH;
}

/* Authenticates r->m; on success sets r->key/r->user and returns 0, otherwise it has
 * answered (400/401/438) and returns a negative value. */
static int authenticate(rtc_turn_server *s, req *r, uint8_t key[16])
{
    const rtc_stun_msg *m = r->m;
    if (m->integrity_at < 0 && m->integrity256_at < 0) { reply_error(s, r, 401); return RTC_EAUTH; }
    rtc_str user, realm, nonce;
    if (rtc_stun_get_str(m, RTC_STUN_ATTR_USERNAME, &user) || rtc_stun_get_str(m, RTC_STUN_ATTR_REALM, &realm) ||
        rtc_stun_get_str(m, RTC_STUN_ATTR_NONCE, &nonce) || user.len == 0 || user.len > RTC_TURN_SRV_NAME_MAX) {
        reply_error(s, r, 400);
        return RTC_EPROTO;
    }
    int nv = check_nonce(s, r->client, nonce);
    if (nv == 0) { reply_error(s, r, 438); return RTC_EAUTH; }
    if (nv < 0 || !rtc_str_eq(realm, s->cfg.realm) || lookup_key(s, user, key) < 0 ||
        rtc_stun_check_integrity(m, key, 16) != 0) {
        reply_error(s, r, 401);
        return RTC_EAUTH;
    }
    r->key = key;
    r->user = user;
    return 0;
}

/* ====== Binding ====== */

static int do_binding(rtc_turn_server *s, req *r)
{
    s->st.binding_requests++;
    rtc_stun_writer w;
    rtc_buf *b = begin(s, &w, RTC_STUN_BINDING, RTC_STUN_SUCCESS, r->m->tid);
    if (!b) return RTC_ENOMEM;
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, r->client);
    s->st.responses_ok++;
    finish(s, &w, b, NULL, r->fp, r->local, r->client, r->proto);
    return 0;
}

/* ====== Allocate ====== */

void tsv__send_allocate_ok(rtc_turn_server *s, tsv_alloc *a)
{
    rtc_stun_writer w;
    rtc_buf *b = begin(s, &w, RTC_STUN_ALLOCATE, RTC_STUN_SUCCESS, a->tid);
    if (!b) return;
    for (int i = 0; i < a->nrelay; i++) rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_RELAYED_ADDRESS, &a->relay[i].addr);
    if (a->v6_error) {
        uint8_t v[4 + 32] = { 2, 0, (uint8_t)(a->v6_error / 100), (uint8_t)(a->v6_error % 100) };
        const char *why = reason_for(a->v6_error);
        size_t n = strlen(why);
        memcpy(v + 4, why, n);
        rtc_stun_put(&w, RTC_STUN_ATTR_ADDRESS_ERROR_CODE, v, 4 + n);
    }
    rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, a->lifetime);
    if (a->has_token) rtc_stun_put(&w, RTC_STUN_ATTR_RESERVATION_TOKEN, a->token, sizeof a->token);
    rtc_stun_put_addr(&w, RTC_STUN_ATTR_XOR_MAPPED_ADDRESS, &a->client);
    s->st.responses_ok++;
    finish(s, &w, b, a->key, a->fp, &a->local, &a->client, a->proto);
}

void tsv__allocate_failed(rtc_turn_server *s, tsv_alloc *a, int code, const char *why)
{
    rtc_stun_msg fake;
    memset(&fake, 0, sizeof fake);
    fake.method = RTC_STUN_ALLOCATE;
    memcpy(fake.tid, a->tid, RTC_STUN_TID_LEN);
    req r = { &a->local, &a->client, a->proto, &fake, a->fp, a->key, { a->user, a->ulen } };
    refuse(s, &r, code, "%s", why);
    tsv__free_alloc(s, a, "failed");
}

static uint32_t lifetime_for(rtc_turn_server *s, const rtc_stun_msg *m)
{
    uint32_t want;
    if (rtc_stun_get_u32(m, RTC_STUN_ATTR_LIFETIME, &want) != 0) want = s->cfg.default_lifetime;
    if (want > s->cfg.max_lifetime) want = s->cfg.max_lifetime;
    if (want < s->cfg.default_lifetime) want = s->cfg.default_lifetime;
    return want;
}

static bool family_ok(const rtc_turn_server *s, int af)
{
    return rtc_addr_family(af == AF_INET6 ? &s->cfg.relay_v6 : &s->cfg.relay_v4) == af;
}

/* REQUESTED-/ADDITIONAL-ADDRESS-FAMILY value: AF_INET, AF_INET6, or -1. */
static int family_attr(const rtc_stun_attr *at)
{
    if (at->len != 4) return -1;
    return at->val[0] == 1 ? AF_INET : at->val[0] == 2 ? AF_INET6 : 0;
}

static int do_allocate(rtc_turn_server *s, req *r, tsv_alloc *a)
{
    const rtc_stun_msg *m = r->m;
    if (a) {
        /* a retransmitted Allocate gets the same answer; anything else is a mismatch */
        if (!memcmp(a->tid, m->tid, RTC_STUN_TID_LEN) && rtc_str_eq(r->user, (rtc_str){ a->user, a->ulen })) {
            if (a->ready) tsv__send_allocate_ok(s, a);
            return 0;
        }
        reply_error(s, r, 437);
        return RTC_EEXISTS;
    }
    const rtc_stun_attr *tr = rtc_stun_find(m, RTC_STUN_ATTR_REQUESTED_TRANSPORT);
    if (!tr || tr->len != 4) { reply_error(s, r, 400); return RTC_EPROTO; }
    if (tr->val[0] != 17) { reply_error(s, r, 442); return RTC_ENOTSUP; }
    if (rtc_stun_find(m, RTC_STUN_ATTR_DONT_FRAGMENT)) {
        /* Relay sockets cannot set DF here: RFC 8656 7.2 says to treat the attribute as
         * an unknown comprehension-required one, so the client may retry without it. */
        rtc_stun_msg df = *m;
        df.unknown[0] = RTC_STUN_ATTR_DONT_FRAGMENT;
        df.nunknown = 1;
        req rdf = *r;
        rdf.m = &df;
        reply_error(s, &rdf, 420);
        return RTC_ENOTSUP;
    }
    const rtc_stun_attr *even = rtc_stun_find(m, RTC_STUN_ATTR_EVEN_PORT);
    const rtc_stun_attr *tok = rtc_stun_find(m, RTC_STUN_ATTR_RESERVATION_TOKEN);
    const rtc_stun_attr *raf = rtc_stun_find(m, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
    const rtc_stun_attr *aaf = rtc_stun_find(m, RTC_STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY);
    if (!aaf) aaf = rtc_stun_find(m, TSV_ATTR_AAF_DRAFT);
    if ((tok && (even || raf || aaf)) || (raf && aaf) || (even && even->len < 1)) { reply_error(s, r, 400); return RTC_EPROTO; }
    uint16_t resv_port = 0;
    int resv_family = 0;
    if (tok) {
        if (tok->len != 8 || !tsv__take_reservation(s, tok->val, &resv_port, &resv_family)) {
            refuse(s, r, 508, "RESERVATION-TOKEN unknown or expired");
            return RTC_ENOTFOUND;
        }
    }
    int fams[2] = { resv_port ? resv_family : AF_INET, 0 }, nf = 1, v6_error = 0;
    if (raf) {
        fams[0] = family_attr(raf);
        if (fams[0] < 0) { reply_error(s, r, 400); return RTC_EPROTO; }
        if (fams[0] == 0) { reply_error(s, r, 440); return RTC_ENOTSUP; }
    }
    if (aaf) {
        if (family_attr(aaf) != AF_INET6) { reply_error(s, r, 400); return RTC_EPROTO; }
        if (family_ok(s, AF_INET6)) { fams[1] = AF_INET6; nf = 2; }
        else v6_error = 440;
    }
    if (!family_ok(s, fams[0])) {
        if (aaf && nf == 2) { fams[0] = AF_INET6; nf = 1; }   /* dual asked, only IPv6 served */
        else { reply_error(s, r, 440); return RTC_ENOTSUP; }
    }
    /* a refused Allocate that took a reservation gives its port back */
#define REFUSE(code, err, ...) do { \
        if (resv_port) s->ports_used[resv_family == AF_INET6][resv_port >> 3] &= (uint8_t)~(1u << (resv_port & 7)); \
        refuse(s, r, code, __VA_ARGS__); return err; } while (0)
    if (s->nfree == 0) REFUSE(508, RTC_EQUOTA, "allocation table full (max_allocations %u)", s->cfg.max_allocations);
    uint32_t held = s->cfg.max_per_user ? tsv__quota_count(s, r->user) : 0;
    if (s->cfg.max_per_user && held >= s->cfg.max_per_user)
        REFUSE(486, RTC_EQUOTA, "user has %u allocations (max_per_user %u)", held, s->cfg.max_per_user);
    if (s->cfg.authorize) {
        rtc_turn_authz q = { RTC_TURN_AUTHZ_ALLOCATE, r->user, r->client, NULL, r->proto, r->local };
        if (s->cfg.authorize(s->cfg.auth_ud, &q) < 0) REFUSE(403, RTC_EACCESS, "refused by policy");
    }
    a = tsv__new_alloc(s, r->local, r->client, r->proto);
    if (!a) REFUSE(508, RTC_ENOMEM, "out of memory");
    memcpy(a->user, r->user.p, r->user.len);
    a->user[r->user.len] = 0;
    a->ulen = r->user.len;
    if (s->cfg.max_per_user) {
        if (tsv__quota_add(s, r->user) < 0) { tsv__free_alloc(s, a, "no memory"); REFUSE(508, RTC_ENOMEM, "out of memory"); }
        a->quota_counted = true;
    }
#undef REFUSE
    memcpy(a->key, r->key, 16);
    memcpy(a->tid, m->tid, RTC_STUN_TID_LEN);
    a->fp = r->fp;
    a->want_even = even != NULL;
    a->reserve_next = even && (even->val[0] & 0x80);
    a->fixed_port = resv_port;
    a->v6_error = v6_error;
    a->lifetime = lifetime_for(s, m);
    a->expires = s->now + RTC_SEC(a->lifetime);
    tsv__schedule(s, a->expires);
    a->nrelay = nf;
    for (int i = 0; i < nf; i++)
        if (tsv__open_relay(s, a, i, fams[i]) < 0) {
            char why[96];
            tsv__no_port_why(s, fams[i], why, sizeof why);
            tsv__allocate_failed(s, a, 508, why);
            return RTC_EAGAIN;
        }
    return 0;
}

/* ====== Refresh, CreatePermission, ChannelBind ====== */

static void reply_ok(rtc_turn_server *s, const req *r, const uint32_t *lifetime)
{
    rtc_stun_writer w;
    rtc_buf *b = begin(s, &w, r->m->method, RTC_STUN_SUCCESS, r->m->tid);
    if (!b) return;
    if (lifetime) rtc_stun_put_u32(&w, RTC_STUN_ATTR_LIFETIME, *lifetime);
    s->st.responses_ok++;
    finish(s, &w, b, r->key, r->fp, r->local, r->client, r->proto);
}

static int do_refresh(rtc_turn_server *s, req *r, tsv_alloc *a)
{
    uint32_t want;
    int has = rtc_stun_get_u32(r->m, RTC_STUN_ATTR_LIFETIME, &want) == 0;
    const rtc_stun_attr *raf = rtc_stun_find(r->m, RTC_STUN_ATTR_REQUESTED_ADDRESS_FAMILY);
    int idx = raf ? tsv__relay_index(a, family_attr(raf)) : -1;
    if (raf && idx < 0) { reply_error(s, r, 443); return RTC_EINVAL; }
    if (has && want == 0) {
        uint32_t zero = 0;
        /* RFC 8656 7.3: with REQUESTED-ADDRESS-FAMILY only that relay of a dual
         * allocation goes; the allocation lives on with the other */
        if (raf && tsv__relay_index(a, family_attr(raf) == AF_INET ? AF_INET6 : AF_INET) >= 0) {
            tsv__release_relay(s, a, idx);
            reply_ok(s, r, &zero);
            return 0;
        }
        tsv__free_alloc(s, a, "refresh 0");
        reply_ok(s, r, &zero);
        return 0;
    }
    a->lifetime = lifetime_for(s, r->m);
    a->expires = s->now + RTC_SEC(a->lifetime);
    tsv__schedule(s, a->expires);
    reply_ok(s, r, &a->lifetime);
    return 0;
}

/* The address in one XOR-PEER-ADDRESS attribute (a message may carry several). */
static int peer_from_attr(const rtc_stun_msg *m, const rtc_stun_attr *at, rtc_addr *out)
{
    if (at->len < 4) return RTC_EPROTO;
    size_t n = at->val[1] == 1 ? 4 : at->val[1] == 2 ? 16 : 0;
    if (!n || at->len != 4 + n) return RTC_EPROTO;
    /* XOR the whole 16-byte buffer, whatever the family: a loop bounded by n made GCC 12
     * at -O3 think ip could overflow (stringop-overflow), though n is 4 or 16. */
    uint8_t ip[16] = {0}, mask[16];
    rtc_wr32(mask, RTC_STUN_MAGIC);
    memcpy(mask + 4, m->tid, RTC_STUN_TID_LEN);
    memcpy(ip, at->val + 4, n);
    for (size_t i = 0; i < sizeof ip; i++) ip[i] ^= mask[i];
    uint16_t port = rtc_rd16(at->val + 2) ^ (uint16_t)(RTC_STUN_MAGIC >> 16);
    rtc_addr_from_bytes(out, n == 4 ? AF_INET : AF_INET6, ip, port);
    return 0;
}

/* Is `peer` one this allocation may talk to? 0, or the error code to answer. */
static int peer_check(rtc_turn_server *s, const req *r, tsv_alloc *a, const rtc_addr *peer)
{
    if (tsv__relay_index(a, rtc_addr_family(peer)) < 0) return 443;
    if (!tsv__peer_allowed(s, peer)) return 403;
    if (s->cfg.authorize && !tsv__find_perm(a, peer, s->now)) {
        rtc_turn_authz q = { RTC_TURN_AUTHZ_PERMISSION, r->user, r->client, peer, r->proto, r->local };
        if (s->cfg.authorize(s->cfg.auth_ud, &q) < 0) return 403;
    }
    return 0;
}

static void install_perm(rtc_turn_server *s, tsv_alloc *a, const rtc_addr *peer)
{
    rtc_time exp = s->now + RTC_SEC(s->cfg.permission_lifetime);
    tsv_perm *p = tsv__find_perm(a, peer, s->now);
    if (!p) {
        /* callers checked capacity; expired entries are reused before growing */
        for (uint32_t i = 0; i < a->nperm && !p; i++)
            if (a->perms[i].expires <= s->now) p = &a->perms[i];
        if (!p) p = &a->perms[a->nperm++];
        p->ip = *peer;
        rtc_addr_set_port(&p->ip, 0);
        rtc_turn_srv_event *e = tsv__push_event(s, RTC_TURN_SRV_EV_PERMISSION);
        if (e) {
            e->alloc_id = a->id;
            memcpy(e->username, a->user, a->ulen + 1);
            e->addr = *peer;
            e->client = a->client;
            e->local = a->local;
            e->proto = a->proto;
        }
    }
    p->expires = exp;
    tsv__schedule(s, exp);
}

static uint32_t live_perms(tsv_alloc *a, rtc_time now)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < a->nperm; i++) n += a->perms[i].expires > now;
    return n;
}

static bool reserve_perms(rtc_turn_server *s, tsv_alloc *a, uint32_t extra)
{
    if (live_perms(a, s->now) + extra > s->cfg.max_permissions) return false;
    if (a->nperm + extra > s->cfg.max_permissions) {
        /* room is there once expired entries go: compact now */
        uint32_t j = 0;
        for (uint32_t i = 0; i < a->nperm; i++)
            if (a->perms[i].expires > s->now) a->perms[j++] = a->perms[i];
        a->nperm = j;
    }
    if (!a->perms) {
        a->perms = malloc(s->cfg.max_permissions * sizeof *a->perms);
        if (!a->perms) return false;
    }
    return true;
}

static int do_create_permission(rtc_turn_server *s, req *r, tsv_alloc *a)
{
    const rtc_stun_msg *m = r->m;
    rtc_addr peers[RTC_STUN_MAX_ATTRS];
    uint32_t n = 0, fresh = 0;
    for (int i = 0; i < m->nattrs; i++) {
        if (m->attrs[i].type != RTC_STUN_ATTR_XOR_PEER_ADDRESS) continue;
        if (peer_from_attr(m, &m->attrs[i], &peers[n]) < 0) { reply_error(s, r, 400); return RTC_EPROTO; }
        int code = peer_check(s, r, a, &peers[n]);
        if (code) { reply_error(s, r, code); return RTC_EACCESS; }
        fresh += tsv__find_perm(a, &peers[n], s->now) == NULL;
        n++;
    }
    if (n == 0) { reply_error(s, r, 400); return RTC_EPROTO; }
    if (!reserve_perms(s, a, fresh)) {
        refuse(s, r, 508, "%u live permissions + %u new > max_permissions %u", live_perms(a, s->now), fresh,
               s->cfg.max_permissions);
        return RTC_EQUOTA;
    }
    for (uint32_t i = 0; i < n; i++) install_perm(s, a, &peers[i]);
    reply_ok(s, r, NULL);
    return 0;
}

static int do_channel_bind(rtc_turn_server *s, req *r, tsv_alloc *a)
{
    uint16_t num;
    rtc_addr peer;
    /* RFC 8656 narrowed channels to 0x4000-0x4FFF; RFC 5766 clients (coturn's among
     * them) still use up to 0x7FFE, and nothing else shares our listener, so both go. */
    if (rtc_stun_get_channel(r->m, &num) || num < 0x4000 || num > 0x7FFE ||
        rtc_stun_get_addr(r->m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer) || rtc_addr_port(&peer) == 0) {
        reply_error(s, r, 400);
        return RTC_EPROTO;
    }
    int code = peer_check(s, r, a, &peer);
    if (code) { reply_error(s, r, code); return RTC_EACCESS; }
    /* live or quarantined bindings of this number or this peer */
    tsv_chan *byn = NULL, *byp = NULL;
    uint32_t held = 0;
    for (uint32_t i = 0; i < a->nchan; i++) {
        tsv_chan *c = &a->chans[i];
        if (c->expires + TSV_CHAN_QUARANTINE <= s->now) continue;
        held++;
        if (c->num == num) byn = c;
        if (rtc_addr_eq(&c->peer, &peer)) byp = c;
    }
    if (byn != byp) { reply_error(s, r, 400); return RTC_EINVAL; }  /* rebinding either side */
    if (!byn && held >= s->cfg.max_channels) {
        refuse(s, r, 508, "%u channels held (max_channels %u)", held, s->cfg.max_channels);
        return RTC_EQUOTA;
    }
    if (!reserve_perms(s, a, tsv__find_perm(a, &peer, s->now) ? 0 : 1)) {
        refuse(s, r, 508, "%u live permissions (max_permissions %u)", live_perms(a, s->now), s->cfg.max_permissions);
        return RTC_EQUOTA;
    }
    if (!byn) {
        if (!a->chans) {
            a->chans = malloc(s->cfg.max_channels * sizeof *a->chans);
            if (!a->chans) { refuse(s, r, 508, "out of memory"); return RTC_ENOMEM; }
        }
        for (uint32_t i = 0; i < a->nchan && !byn; i++)
            if (a->chans[i].expires + TSV_CHAN_QUARANTINE <= s->now) byn = &a->chans[i];
        if (!byn) byn = &a->chans[a->nchan++];
        byn->num = num;
        byn->peer = peer;
    }
    byn->counted = false;
    byn->expires = s->now + RTC_SEC(s->cfg.channel_lifetime);
    tsv__schedule(s, byn->expires);
    install_perm(s, a, &peer);
    reply_ok(s, r, NULL);
    return 0;
}

/* ====== data from clients ====== */

static void relay_out(rtc_turn_server *s, tsv_alloc *a, const rtc_addr *peer, const uint8_t *data, size_t len)
{
    int idx = tsv__relay_index(a, rtc_addr_family(peer));
    if (idx < 0 || rtc_addr_port(peer) == 0 || !tsv__own_port_allowed(s, peer)) {
        s->st.dropped_no_permission++;
        return;
    }
    if (!tsv__take_tokens(s, &a->up, len)) { s->st.dropped_bandwidth++; return; }
    rtc_buf *b = tsv__buf(s, len);
    if (!b) return;
    if (len) memcpy(b->data, data, len);
    b->len = len;
    s->st.relayed_to_peer++;
    s->st.relayed_to_peer_bytes += len;
    tsv__queue_peer(s, a, idx, peer, b);
}

static int do_send(rtc_turn_server *s, req *r)
{
    tsv_alloc *a = tsv__find_alloc(s, r->local, r->client, r->proto);
    if (!a || !a->ready) { s->st.dropped_no_allocation++; return RTC_ENOTFOUND; }
    rtc_addr peer;
    const rtc_stun_attr *d = rtc_stun_find(r->m, RTC_STUN_ATTR_DATA);
    if (!d || rtc_stun_get_addr(r->m, RTC_STUN_ATTR_XOR_PEER_ADDRESS, &peer)) {
        s->st.dropped_malformed++;
        return RTC_EPROTO;
    }
    if (!tsv__find_perm(a, &peer, s->now)) { s->st.dropped_no_permission++; return RTC_EACCESS; }
    relay_out(s, a, &peer, d->val, d->len);
    return 0;
}

int tsv__handle_channel_data(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto,
                             const uint8_t *p, size_t len)
{
    if (len < 4 || (size_t)rtc_rd16(p + 2) + 4 > len) { s->st.dropped_malformed++; return RTC_EPROTO; }
    tsv_alloc *a = tsv__find_alloc(s, local, client, proto);
    if (!a || !a->ready) { s->st.dropped_no_allocation++; return RTC_ENOTFOUND; }
    tsv_chan *ch = tsv__find_chan_num(a, rtc_rd16(p), s->now);
    if (!ch) { s->st.dropped_unknown_channel++; return RTC_ENOTFOUND; }
    relay_out(s, a, &ch->peer, p + 4, rtc_rd16(p + 2));
    return 0;
}

/* ====== dispatch ====== */

int tsv__handle_stun(rtc_turn_server *s, const rtc_addr *local, const rtc_addr *client, int proto,
                     const uint8_t *data, size_t len)
{
    rtc_stun_msg m;
    int rc = rtc_stun_parse(data, len, &m);
    if (rc < 0) { s->st.dropped_malformed++; return rc; }
    req r = { local, client, proto, &m, m.has_fingerprint, NULL, { NULL, 0 } };
    if (m.cls == RTC_STUN_INDICATION && m.method == RTC_STUN_SEND) return do_send(s, &r);
    if (m.cls != RTC_STUN_REQUEST) { s->st.dropped_malformed++; return RTC_EIGNORED; }
    s->st.requests++;
    if (m.nunknown > 0) { reply_error(s, &r, 420); return RTC_ENOTSUP; }
    if (m.method == RTC_STUN_BINDING) return do_binding(s, &r);
    if (m.method != RTC_STUN_ALLOCATE && m.method != RTC_STUN_REFRESH &&
        m.method != RTC_STUN_CREATE_PERMISSION && m.method != RTC_STUN_CHANNEL_BIND) {
        reply_error(s, &r, 400);
        return RTC_ENOTSUP;
    }
    uint8_t key[16];
    rc = authenticate(s, &r, key);
    if (rc < 0) return rc;
    tsv_alloc *a = tsv__find_alloc(s, local, client, proto);
    if (m.method == RTC_STUN_ALLOCATE) return do_allocate(s, &r, a);
    if (!a || !a->ready) { reply_error(s, &r, 437); return RTC_ENOTFOUND; }
    if (!rtc_str_eq(r.user, (rtc_str){ a->user, a->ulen })) { reply_error(s, &r, 441); return RTC_EAUTH; }
    if (m.method == RTC_STUN_REFRESH) return do_refresh(s, &r, a);
    if (m.method == RTC_STUN_CREATE_PERMISSION) return do_create_permission(s, &r, a);
    return do_channel_bind(s, &r, a);
}
