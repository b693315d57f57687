/* Single-port routing (many ICE sessions behind one UDP socket): which owner a datagram
 * belongs to, in O(1) per datagram whatever the number of owners. A pure table: no
 * sockets, no clock; the owner is an opaque pointer (a peer connection host).
 *
 * Two hash tables:
 *  - learnt senders: remote transport address -> owner. The caller learns an address
 *    only after the owner's ICE agent accepted an authenticated check from it (or a
 *    check to it succeeded): the ufrag travels in clear, so a check that merely names
 *    it proves nothing and must not move routing (rtc_pc_checked says when);
 *  - local ufrags: ufrag -> owner, kept current by the owner (rtc_pc_local_ufrags:
 *    the current one and, during an ICE restart, the previous one).
 *
 * rtc_ice_router_route() classifies a datagram: a Binding request goes by the ufrag in
 * its USERNAME (so a new session from an address another owner once used still reaches
 * the right owner); anything else from a learnt sender goes to that sender's owner.
 * A STUN response or indication from an unknown sender (the answer to a check sent to
 * an address that has not sent anything yet) cannot be routed from the table: `how`
 * says RTC_ICE_ROUTE_ASK, and the caller may ask the owners (rtc_pc_accepts). Other
 * datagrams from unknown senders (DTLS, SRTP, junk) are dropped after one lookup. */
#ifndef RTC_ICE_ROUTER_H
#define RTC_ICE_ROUTER_H
#include "core/rtc_addr.h"
#include "core/rtc_bytes.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_ice_router rtc_ice_router;

typedef enum {
    RTC_ICE_ROUTE_NONE,           /* nobody: drop */
    RTC_ICE_ROUTE_SENDER,         /* a learnt sender's owner */
    RTC_ICE_ROUTE_UFRAG,          /* a Binding request for an owner's ufrag */
    RTC_ICE_ROUTE_ASK,            /* STUN response/indication from an unknown sender */
} rtc_ice_route;

typedef struct rtc_ice_router_stats {
    uint32_t senders, ufrags;
    uint64_t learn_refused;       /* learn() beyond max_senders */
} rtc_ice_router_stats;

/* `max_senders`: cap on learnt addresses (0 = 1,048,576). RTC_ENOMEM. */
int rtc_ice_router_new(rtc_ice_router **out, uint32_t max_senders);
void rtc_ice_router_free(rtc_ice_router *r);          /* NULL-safe */

/* ufrag (copied) -> owner. RTC_EEXISTS when another owner holds it (ufrags are random:
 * a clash is a bug or an attack), RTC_EINVAL for an empty one, RTC_ENOMEM. */
int rtc_ice_router_add_ufrag(rtc_ice_router *r, rtc_str ufrag, void *owner);
/* Removes ufrag if `owner` holds it. */
void rtc_ice_router_remove_ufrag(rtc_ice_router *r, rtc_str ufrag, void *owner);
/* `from` (copied) -> owner, replacing an earlier owner. RTC_EQUOTA at max_senders. */
int rtc_ice_router_learn(rtc_ice_router *r, const rtc_addr *from, void *owner);
/* Removes `from` if `owner` holds it (an owner that leaves removes what it learnt). */
void rtc_ice_router_forget(rtc_ice_router *r, const rtc_addr *from, void *owner);
/* The owner of a learnt sender, or NULL. */
void *rtc_ice_router_sender(const rtc_ice_router *r, const rtc_addr *from);

/* Whose datagram this is (see above); `data`, `from` borrowed. Sets *how (may be
 * NULL) and returns the owner, or NULL for NONE and ASK. Pure. */
void *rtc_ice_router_route(const rtc_ice_router *r, const uint8_t *data, size_t len, const rtc_addr *from,
                           rtc_ice_route *how);

void rtc_ice_router_get_stats(const rtc_ice_router *r, rtc_ice_router_stats *out);

#endif
