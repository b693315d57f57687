/* ICE candidate attribute parsing and formatting (RFC 8839 section 5.1). */
#include "ice_candidate.h"
#include "core/rtc_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void rtc_ice_candidate_init(rtc_ice_candidate *c)
{
    memset(c, 0, sizeof *c);
    c->component = 1;
    c->generation = c->network_id = c->network_cost = -1;
}

uint8_t rtc_ice_type_preference(rtc_ice_cand_type type)
{
    switch (type) {
    case RTC_ICE_HOST: return 126;
    case RTC_ICE_PRFLX: return 110;
    case RTC_ICE_SRFLX: return 100;
    default: return 0;
    }
}

uint32_t rtc_ice_candidate_priority(rtc_ice_cand_type type, uint16_t local_pref, uint16_t component)
{
    return ((uint32_t)rtc_ice_type_preference(type) << 24) | ((uint32_t)local_pref << 8) |
           (uint32_t)(256 - (component > 256 ? 256 : component));
}

uint32_t rtc_ice_tcp_candidate_priority(rtc_ice_cand_type type, rtc_ice_tcptype tcptype, uint16_t other_pref,
                                        uint16_t component)
{
    static const uint8_t type_pref[4] = { 90, 65, 80, 0 };      /* host, srflx, prflx, relay */
    uint32_t dir;
    if (type == RTC_ICE_HOST) dir = tcptype == RTC_ICE_TCP_ACTIVE ? 6 : tcptype == RTC_ICE_TCP_PASSIVE ? 4 : 2;
    else dir = tcptype == RTC_ICE_TCP_ACTIVE ? 6 : tcptype == RTC_ICE_TCP_PASSIVE ? 2 : 4;
    uint32_t local_pref = (dir << 13) | (other_pref & 0x1FFFu);
    return ((uint32_t)type_pref[(unsigned)type < 4 ? type : 3] << 24) | (local_pref << 8) |
           (uint32_t)(256 - (component > 256 ? 256 : component));
}

rtc_ice_tcptype rtc_ice_tcptype_parse(const char *s)
{
    if (!s) return RTC_ICE_TCP_NONE;
    if (strcasecmp(s, "active") == 0) return RTC_ICE_TCP_ACTIVE;
    if (strcasecmp(s, "passive") == 0) return RTC_ICE_TCP_PASSIVE;
    if (strcasecmp(s, "so") == 0) return RTC_ICE_TCP_SO;
    return RTC_ICE_TCP_NONE;
}

const char *rtc_ice_tcptype_name(rtc_ice_tcptype t)
{
    static const char *n[] = { "", "active", "passive", "so" };
    return (unsigned)t < 4 ? n[t] : "";
}

const char *rtc_ice_cand_type_name(rtc_ice_cand_type t)
{
    static const char *n[] = { "host", "srflx", "prflx", "relay" };
    return (unsigned)t < 4 ? n[t] : "?";
}

bool rtc_ice_candidate_is_mdns(const rtc_ice_candidate *c)
{
    size_t n = strlen(c->hostname);
    return n > 6 && strcasecmp(c->hostname + n - 6, ".local") == 0;
}

/* A token cursor over a borrowed, not NUL-terminated line. */
typedef struct tok { const char *p, *end; } tok;

static bool next_tok(tok *t, const char **s, size_t *n)
{
    while (t->p < t->end && (*t->p == ' ' || *t->p == '\t')) t->p++;
    if (t->p >= t->end) return false;
    *s = t->p;
    while (t->p < t->end && *t->p != ' ' && *t->p != '\t') t->p++;
    *n = (size_t)(t->p - *s);
    return true;
}

static bool tok_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static bool to_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > max) return false;
    }
    *out = v;
    return true;
}

static int copy_tok(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap) return RTC_ETOOBIG;
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

static bool is_ice_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/'))
            return false;
    }
    return n > 0;
}

/* An IP literal or a hostname; hostnames are kept, unresolved. */
static int parse_conn_addr(rtc_ice_candidate *c, const char *s, size_t n, uint16_t port)
{
    char ip[RTC_ICE_HOSTNAME_MAX];
    int r = copy_tok(ip, sizeof ip, s, n);
    if (r) return r;
    if (rtc_addr_set(&c->addr, ip, port) == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_'))
            return RTC_EPROTO;
    }
    memset(&c->addr, 0, sizeof c->addr);
    memcpy(c->hostname, ip, n + 1);
    return 0;
}

int rtc_ice_candidate_parse(rtc_ice_candidate *c, const char *s, size_t len)
{
    rtc_ice_candidate_init(c);
    while (len && (s[len - 1] == '\r' || s[len - 1] == '\n' || s[len - 1] == ' ')) len--;
    if (len >= 2 && strncmp(s, "a=", 2) == 0) { s += 2; len -= 2; }
    if (len >= 10 && strncasecmp(s, "candidate:", 10) == 0) { s += 10; len -= 10; }
    tok t = { s, s + len };
    const char *f[8];
    size_t fl[8];
    for (int i = 0; i < 8; i++)
        if (!next_tok(&t, &f[i], &fl[i])) return RTC_EPROTO;
    uint64_t v;
    if (!is_ice_chars(f[0], fl[0]) || fl[0] > 32) return RTC_EPROTO;
    memcpy(c->foundation, f[0], fl[0]);
    c->foundation[fl[0]] = 0;
    if (!to_u64(f[1], fl[1], 256, &v) || v == 0) return RTC_EPROTO;
    c->component = (uint16_t)v;
    if (tok_eq(f[2], fl[2], "udp")) c->transport = RTC_ICE_UDP;
    else if (tok_eq(f[2], fl[2], "tcp")) c->transport = RTC_ICE_TCP;
    else return RTC_EPROTO;
    if (!to_u64(f[3], fl[3], 0xFFFFFFFFu, &v) || v == 0) return RTC_EPROTO;
    c->priority = (uint32_t)v;
    uint64_t port;
    if (!to_u64(f[5], fl[5], 65535, &port)) return RTC_EPROTO;
    c->port = (uint16_t)port;
    int r = parse_conn_addr(c, f[4], fl[4], c->port);
    if (r) return r;
    if (!tok_eq(f[6], fl[6], "typ")) return RTC_EPROTO;
    if (tok_eq(f[7], fl[7], "host")) c->type = RTC_ICE_HOST;
    else if (tok_eq(f[7], fl[7], "srflx")) c->type = RTC_ICE_SRFLX;
    else if (tok_eq(f[7], fl[7], "prflx")) c->type = RTC_ICE_PRFLX;
    else if (tok_eq(f[7], fl[7], "relay")) c->type = RTC_ICE_RELAY;
    else return RTC_EPROTO;

    const char *name, *val;
    size_t nl, vl;
    char rip[RTC_ICE_HOSTNAME_MAX] = "";
    int64_t rport = -1;
    size_t extlen = 0;
    while (next_tok(&t, &name, &nl)) {
        if (!next_tok(&t, &val, &vl)) return RTC_EPROTO;     /* extensions come in pairs */
        if (tok_eq(name, nl, "raddr")) {
            if ((r = copy_tok(rip, sizeof rip, val, vl))) return r;
        } else if (tok_eq(name, nl, "rport")) {
            if (!to_u64(val, vl, 65535, &v)) return RTC_EPROTO;
            rport = (int64_t)v;
        } else if (tok_eq(name, nl, "generation") && to_u64(val, vl, INT32_MAX, &v)) {
            c->generation = (int64_t)v;
        } else if (tok_eq(name, nl, "network-id") && to_u64(val, vl, INT32_MAX, &v)) {
            c->network_id = (int64_t)v;
        } else if (tok_eq(name, nl, "network-cost") && to_u64(val, vl, INT32_MAX, &v)) {
            c->network_cost = (int64_t)v;
        } else if (tok_eq(name, nl, "ufrag")) {
            if ((r = copy_tok(c->ufrag, sizeof c->ufrag, val, vl))) return r;
        } else if (tok_eq(name, nl, "tcptype")) {
            if ((r = copy_tok(c->tcptype, sizeof c->tcptype, val, vl))) return r;
        } else {
            if (extlen + nl + vl + 3 > sizeof c->ext) return RTC_ETOOBIG;
            if (extlen) c->ext[extlen++] = ' ';
            memcpy(c->ext + extlen, name, nl); extlen += nl;
            c->ext[extlen++] = ' ';
            memcpy(c->ext + extlen, val, vl); extlen += vl;
            c->ext[extlen] = 0;
        }
    }
    /* raddr may be an mDNS name or 0.0.0.0 (browsers hide it); keep it only if numeric. */
    if (rip[0] && rport >= 0 && rtc_addr_set(&c->related, rip, (uint16_t)rport) == 0) c->has_related = true;
    return 0;
}

int rtc_ice_candidate_format(const rtc_ice_candidate *c, char *buf, size_t size)
{
    char ip[RTC_ADDR_STRLEN], rip[RTC_ADDR_STRLEN];
    const char *host = c->hostname[0] ? c->hostname : rtc_addr_ip_str(&c->addr, ip, sizeof ip);
    int n = snprintf(buf, size, "candidate:%s %u %s %u %s %u typ %s", c->foundation, c->component,
                     c->transport == RTC_ICE_TCP ? "tcp" : "udp", c->priority, host, c->port,
                     rtc_ice_cand_type_name(c->type));
    size_t off;
#define APPEND(...) do { \
        if (n < 0 || (size_t)n >= size) return RTC_EOVERFLOW; \
        off = (size_t)n; \
        int k_ = snprintf(buf + off, size - off, __VA_ARGS__); \
        n = k_ < 0 ? -1 : (int)off + k_; } while (0)
    if (c->has_related)
        APPEND(" raddr %s rport %u", rtc_addr_ip_str(&c->related, rip, sizeof rip), rtc_addr_port(&c->related));
    if (c->tcptype[0]) APPEND(" tcptype %s", c->tcptype);
    if (c->generation >= 0) APPEND(" generation %lld", (long long)c->generation);
    if (c->ufrag[0]) APPEND(" ufrag %s", c->ufrag);
    if (c->network_id >= 0) APPEND(" network-id %lld", (long long)c->network_id);
    if (c->network_cost >= 0) APPEND(" network-cost %lld", (long long)c->network_cost);
    if (c->ext[0]) APPEND(" %s", c->ext);
#undef APPEND
    if (n < 0 || (size_t)n >= size) return RTC_EOVERFLOW;
    return n;
}
