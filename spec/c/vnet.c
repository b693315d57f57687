#include "vnet.h"
#include <stdlib.h>
#include <string.h>

typedef struct vpkt { rtc_time due; uint64_t seq; vnet_packet p; } vpkt;
typedef struct nat { rtc_addr in_ip, out_ip; } nat;
typedef struct mapping { rtc_addr inside, outside; } mapping;
typedef struct bottleneck { rtc_addr ip; uint64_t rate; size_t queue; rtc_time free_at; } bottleneck;

struct vnet {
    rtc_rng rng;
    vnet_link link;
    vpkt *q; size_t nq, capq;
    nat nats[8]; int nnat;
    mapping maps[256]; int nmaps;
    uint16_t next_port;
    uint64_t seq;
    uint8_t *last;        /* data handed out by the last poll */
    size_t sent, dropped, queue_dropped;
    bottleneck bn[8]; int nbn;
};

vnet *vnet_new(uint64_t seed)
{
    vnet *n = calloc(1, sizeof *n);
    rtc_rng_init_seed(&n->rng, seed);
    n->next_port = 40000;
    return n;
}

void vnet_free(vnet *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->nq; i++) free(n->q[i].p.data);
    free(n->q);
    free(n->last);
    free(n);
}

void vnet_set_link(vnet *n, vnet_link link) { n->link = link; }

void vnet_add_nat(vnet *n, const rtc_addr *inside_ip, const rtc_addr *outside_ip)
{
    if (n->nnat < 8) { n->nats[n->nnat].in_ip = *inside_ip; n->nats[n->nnat].out_ip = *outside_ip; n->nnat++; }
}

void vnet_set_bottleneck(vnet *n, const rtc_addr *to_ip, uint64_t rate_bps, size_t queue_bytes)
{
    bottleneck *b = NULL;
    for (int i = 0; i < n->nbn; i++) if (rtc_addr_ip_eq(&n->bn[i].ip, to_ip)) b = &n->bn[i];
    if (!b) {
        if (n->nbn == 8) return;
        b = &n->bn[n->nbn++];
        *b = (bottleneck){ .ip = *to_ip };
    }
    b->rate = rate_bps;
    b->queue = queue_bytes;
}

size_t vnet_queue_dropped(const vnet *n) { return n->queue_dropped; }

/* When the datagram leaves the bottleneck in front of `to`, or `now` if there is none;
 * -1 when the queue is full. */
static rtc_time through_bottleneck(vnet *n, const rtc_addr *to, size_t len, rtc_time now)
{
    for (int i = 0; i < n->nbn; i++) {
        bottleneck *b = &n->bn[i];
        if (!b->rate || !rtc_addr_ip_eq(&b->ip, to)) continue;
        rtc_time start = b->free_at > now ? b->free_at : now;
        double backlog = (double)(start - now) * (double)b->rate / 8e6;
        if (backlog + (double)len > (double)b->queue) return -1;
        b->free_at = start + (rtc_time)((double)len * 8e6 / (double)b->rate);
        return b->free_at;
    }
    return now;
}

static void translate(vnet *n, rtc_addr *from, rtc_addr *to)
{
    for (int i = 0; i < n->nmaps; i++)          /* inbound: outside -> inside */
        if (rtc_addr_eq(to, &n->maps[i].outside)) { *to = n->maps[i].inside; break; }
    for (int i = 0; i < n->nnat; i++) {
        if (!rtc_addr_ip_eq(from, &n->nats[i].in_ip)) continue;
        for (int k = 0; k < n->nmaps; k++)
            if (rtc_addr_eq(from, &n->maps[k].inside)) { *from = n->maps[k].outside; return; }
        if (n->nmaps == 256) return;
        mapping *m = &n->maps[n->nmaps++];
        m->inside = *from;
        m->outside = n->nats[i].out_ip;
        rtc_addr_set_port(&m->outside, n->next_port++);
        *from = m->outside;
        return;
    }
}

void vnet_send(vnet *n, const rtc_addr *from, const rtc_addr *to, const void *data, size_t len, rtc_time now)
{
    n->sent++;
    if (n->link.loss > 0 && rtc_rng_unit(&n->rng) < n->link.loss) { n->dropped++; return; }
    rtc_time leave = through_bottleneck(n, to, len, now);
    if (leave < 0) { n->dropped++; n->queue_dropped++; return; }
    if (n->nq == n->capq) {
        n->capq = n->capq ? n->capq * 2 : 64;
        n->q = realloc(n->q, n->capq * sizeof *n->q);
    }
    vpkt *v = &n->q[n->nq++];
    v->due = leave + n->link.delay + (n->link.jitter ? (rtc_time)rtc_rng_below(&n->rng, (uint32_t)n->link.jitter) : 0);
    v->seq = n->seq++;
    v->p.from = *from;
    v->p.to = *to;
    translate(n, &v->p.from, &v->p.to);
    v->p.data = malloc(len ? len : 1);
    memcpy(v->p.data, data, len);
    v->p.len = len;
}

static long earliest(const vnet *n)
{
    long best = -1;
    for (size_t i = 0; i < n->nq; i++)
        if (best < 0 || n->q[i].due < n->q[best].due ||
            (n->q[i].due == n->q[best].due && n->q[i].seq < n->q[best].seq))
            best = (long)i;
    return best;
}

bool vnet_poll(vnet *n, rtc_time now, vnet_packet *out)
{
    free(n->last);
    n->last = NULL;
    long i = earliest(n);
    if (i < 0 || n->q[i].due > now) return false;
    *out = n->q[i].p;
    n->last = out->data;
    n->q[i] = n->q[--n->nq];
    return true;
}

rtc_time vnet_next_delivery(const vnet *n)
{
    long i = earliest(n);
    return i < 0 ? RTC_TIME_NEVER : n->q[i].due;
}

size_t vnet_sent(const vnet *n) { return n->sent; }
size_t vnet_dropped(const vnet *n) { return n->dropped; }
