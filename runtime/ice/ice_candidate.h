/* ICE candidates (RFC 8445 section 5.1) and the SDP candidate-attribute grammar
 * (RFC 8839 section 5.1):
 *   candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type>
 *             [raddr <ip> rport <port>] [<ext-name> <ext-value>]...
 * The address may be an mDNS name (<uuid>.local): the name is kept and `addr` stays
 * unset until someone resolves it. Extensions we know (generation, ufrag, network-id,
 * network-cost, tcptype) are decoded; the others are kept verbatim so that a candidate
 * serialises back unchanged. */
#ifndef RTC_ICE_CANDIDATE_H
#define RTC_ICE_CANDIDATE_H
#include "core/rtc_addr.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { RTC_ICE_HOST = 0, RTC_ICE_SRFLX, RTC_ICE_PRFLX, RTC_ICE_RELAY } rtc_ice_cand_type;
enum { RTC_ICE_UDP = 0, RTC_ICE_TCP = 1 };
/* ICE-TCP connection direction (RFC 6544 section 4.5): an active candidate connects
 * out, a passive one listens, simultaneous-open ("so") does both. */
typedef enum { RTC_ICE_TCP_NONE = 0, RTC_ICE_TCP_ACTIVE, RTC_ICE_TCP_PASSIVE, RTC_ICE_TCP_SO } rtc_ice_tcptype;

#define RTC_ICE_FOUNDATION_MAX 33
#define RTC_ICE_HOSTNAME_MAX 256
#define RTC_ICE_EXT_MAX 256

typedef struct rtc_ice_candidate {
    char foundation[RTC_ICE_FOUNDATION_MAX];   /* 1*32 ice-char */
    uint16_t component;                        /* 1 = RTP (the only one with BUNDLE + rtcp-mux) */
    int transport;                             /* RTC_ICE_UDP / RTC_ICE_TCP */
    uint32_t priority;
    rtc_ice_cand_type type;
    rtc_addr addr;                             /* family 0 while `hostname` is unresolved */
    uint16_t port;                             /* also in addr when resolved */
    char hostname[RTC_ICE_HOSTNAME_MAX];       /* non-empty for an FQDN / mDNS address */
    bool has_related;
    rtc_addr related;                          /* raddr/rport */
    char tcptype[8];                           /* "active"/"passive"/"so" or empty */
    int64_t generation, network_id, network_cost;   /* -1 when absent */
    char ufrag[RTC_ICE_EXT_MAX];               /* empty when absent */
    char ext[RTC_ICE_EXT_MAX];                 /* other extensions, "name value ..." */
} rtc_ice_candidate;

void rtc_ice_candidate_init(rtc_ice_candidate *c);

/* Parse one candidate attribute. Accepts an optional leading "a=" and "candidate:"
 * prefix and trailing CR/LF. `s` is borrowed. Returns 0, RTC_EPROTO (bad grammar) or
 * RTC_ETOOBIG (a field longer than the struct holds). */
int rtc_ice_candidate_parse(rtc_ice_candidate *c, const char *s, size_t len);

/* Serialise as "candidate:..." (no "a=" prefix) into buf. Returns the length written
 * (excluding NUL) or RTC_EOVERFLOW. */
int rtc_ice_candidate_format(const rtc_ice_candidate *c, char *buf, size_t size);

/* RFC 8445 5.1.2.1: (2^24)*type_pref + (2^8)*local_pref + (256 - component). */
uint32_t rtc_ice_candidate_priority(rtc_ice_cand_type type, uint16_t local_pref, uint16_t component);
/* RFC 6544 section 4.2 for a TCP candidate: the type preference is below every UDP
 * candidate of the same type (host 90, prflx 80, srflx 65, relay 0; so a UDP path is
 * chosen whenever one works) and the local preference is
 * (2^13) * direction-pref + other-pref, direction-pref by tcptype (host: active 6,
 * passive 4, so 2; other types: active 6, passive 2, so 4); other_pref uses its low 13
 * bits (interface order). */
uint32_t rtc_ice_tcp_candidate_priority(rtc_ice_cand_type type, rtc_ice_tcptype tcptype, uint16_t other_pref,
                                        uint16_t component);
/* "active"/"passive"/"so" (case-insensitive) or RTC_ICE_TCP_NONE; and back ("" for NONE). */
rtc_ice_tcptype rtc_ice_tcptype_parse(const char *s);
const char *rtc_ice_tcptype_name(rtc_ice_tcptype t);
/* Default type preferences: host 126, prflx 110, srflx 100, relay 0. */
uint8_t rtc_ice_type_preference(rtc_ice_cand_type type);
const char *rtc_ice_cand_type_name(rtc_ice_cand_type type);
bool rtc_ice_candidate_is_mdns(const rtc_ice_candidate *c);

#endif
