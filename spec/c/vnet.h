/* A virtual network for sans-IO tests (str0m's netem, quicly's transmit()): datagrams
 * between addresses with delay, jitter (which reorders), random loss and an optional
 * NAT, all on a virtual clock and a seeded RNG so runs replay exactly. A bottleneck
 * (a rate limit behind a drop-tail queue, like tbf) can sit in front of an address. */
#ifndef RTC_VNET_H
#define RTC_VNET_H
#include "../../runtime/core/rtc_addr.h"
#include "../../runtime/core/rtc_rng.h"
#include "../../runtime/core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vnet vnet;

typedef struct vnet_link {
    double loss;          /* 0..1 probability a datagram is dropped */
    rtc_time delay;       /* one-way base delay */
    rtc_time jitter;      /* extra uniform delay in [0, jitter): reorders */
} vnet_link;

typedef struct vnet_packet {
    rtc_addr from, to;
    uint8_t *data;        /* owned by the vnet until the next vnet_poll/vnet_free */
    size_t len;
} vnet_packet;

vnet *vnet_new(uint64_t seed);
void vnet_free(vnet *n);
void vnet_set_link(vnet *n, vnet_link link);
/* A NAT: datagrams from `inside_ip` (any port) leave as from `outside_ip` with a
 * port mapped per inside (ip, port) (endpoint-independent); replies to a mapped
 * outside port are translated back. */
void vnet_add_nat(vnet *n, const rtc_addr *inside_ip, const rtc_addr *outside_ip);
/* Datagrams to `to_ip` (any port) are serialised at `rate_bps` behind a drop-tail
 * queue of `queue_bytes`, then get the link's delay and jitter; rate 0 removes it.
 * Up to 8 bottlenecks; setting one again changes its rate and queue and keeps what is
 * already queued. Loss applies before the queue. */
void vnet_set_bottleneck(vnet *n, const rtc_addr *to_ip, uint64_t rate_bps, size_t queue_bytes);
size_t vnet_queue_dropped(const vnet *n);     /* tail drops at bottlenecks */
void vnet_send(vnet *n, const rtc_addr *from, const rtc_addr *to, const void *data, size_t len, rtc_time now);
/* Next datagram due at or before `now`, in delivery order. */
bool vnet_poll(vnet *n, rtc_time now, vnet_packet *out);
rtc_time vnet_next_delivery(const vnet *n);      /* RTC_TIME_NEVER if empty */
size_t vnet_sent(const vnet *n);
size_t vnet_dropped(const vnet *n);

#endif
