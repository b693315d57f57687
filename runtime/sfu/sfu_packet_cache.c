/* Producer packet cache: a seq-indexed ring plus an arrival-ordered list through the
 * same slots, so eviction by age and by bytes takes the oldest arrival, and eviction
 * by window takes the slot the new seq reuses. */
#include "sfu/sfu_packet_cache.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

#define RESTART_AFTER 16

typedef struct cache_slot {
    rtc_sfu_packet p;            /* p.buf NULL = empty */
    int32_t prev, next;          /* arrival list; -1 = none */
} cache_slot;

struct rtc_sfu_cache {
    rtc_sfu_cache_config cfg;
    uint32_t mask;
    cache_slot *slot;
    int32_t head, tail;          /* oldest and newest arrival */
    rtc_seq_unwrapper uw;
    int64_t high;                /* highest ext seq stored; -1 = none */
    int64_t base;                /* added to unwrapped values: keeps ext seqs growing across restarts */
    unsigned far_old;            /* consecutive packets far behind the window */
    rtc_sfu_cache_stats st;
};

static size_t cache__footprint(const rtc_buf *b)
{
    return sizeof *b + RTC_BUF_HEADROOM + b->cap;
}

int rtc_sfu_cache_new(rtc_sfu_cache **out, const rtc_sfu_cache_config *cfg)
{
    rtc_sfu_cache_config c = cfg ? *cfg : (rtc_sfu_cache_config){ 0 };
    if (!c.slots) c.slots = 1024;
    if (!c.max_bytes) c.max_bytes = 1u << 20;
    if (!c.max_age) c.max_age = RTC_SEC(1);
    if (c.slots < 16 || c.slots > 32768 || (c.slots & (c.slots - 1))) return RTC_EINVAL;
    rtc_sfu_cache *k = calloc(1, sizeof *k);
    if (!k) return RTC_ENOMEM;
    k->slot = calloc(c.slots, sizeof *k->slot);
    if (!k->slot) { free(k); return RTC_ENOMEM; }
    k->cfg = c;
    k->mask = c.slots - 1;
    k->head = k->tail = -1;
    k->high = -1;
    *out = k;
    return 0;
}

static void cache__evict(rtc_sfu_cache *k, int32_t i)
{
    cache_slot *s = &k->slot[i];
    if (!s->p.buf) return;
    if (s->prev >= 0) k->slot[s->prev].next = s->next; else k->head = s->next;
    if (s->next >= 0) k->slot[s->next].prev = s->prev; else k->tail = s->prev;
    k->st.bytes -= cache__footprint(s->p.buf);
    k->st.packets--;
    rtc_buf_unref(s->p.buf);
    s->p.buf = NULL;
}

static void cache__clear(rtc_sfu_cache *k)
{
    while (k->head >= 0) cache__evict(k, k->head);
}

void rtc_sfu_cache_free(rtc_sfu_cache *k)
{
    if (!k) return;
    cache__clear(k);
    free(k->slot);
    free(k);
}

void rtc_sfu_cache_expire(rtc_sfu_cache *k, rtc_time now)
{
    while (k->head >= 0 && k->slot[k->head].p.arrival + k->cfg.max_age < now) {
        cache__evict(k, k->head);
        k->st.evicted_age++;
    }
}

int rtc_sfu_cache_put(rtc_sfu_cache *k, rtc_sfu_packet *pkt, rtc_time now)
{
    int64_t ext = k->base + rtc_seq_unwrap(&k->uw, pkt->seq);
    if (k->high >= 0 && ext <= k->high - (int64_t)k->cfg.slots) {
        if (++k->far_old < RESTART_AFTER) { k->st.too_old++; return RTC_EIGNORED; }
        /* The sender renumbered: continue above everything seen, same low 16 bits. */
        cache__clear(k);
        k->st.resets++;
        int64_t next = k->high + 1 + (uint16_t)(pkt->seq - (uint16_t)(k->high + 1));
        k->uw = (rtc_seq_unwrapper){ 0 };
        k->base = next - rtc_seq_unwrap(&k->uw, pkt->seq);
        ext = next;
    }
    k->far_old = 0;
    if (k->high >= 0 && ext > k->high) {
        if (ext - k->high >= (int64_t)k->cfg.slots) {
            k->st.evicted_window += k->st.packets;
            cache__clear(k);
        } else {
            for (int64_t s = k->high + 1; s <= ext; s++) {
                int32_t i = (int32_t)(s & k->mask);
                if (k->slot[i].p.buf) { cache__evict(k, i); k->st.evicted_window++; }
            }
        }
    }
    int32_t i = (int32_t)(ext & k->mask);
    cache_slot *s = &k->slot[i];
    if (s->p.buf) {                     /* within the window, so it holds this very seq */
        k->st.duplicates++;
        return RTC_EIGNORED;
    }
    if (ext > k->high) k->high = ext;
    pkt->ext_seq = ext;
    s->p = *pkt;
    s->p.arrival = now;
    rtc_buf_ref(pkt->buf);
    s->prev = k->tail;
    s->next = -1;
    if (k->tail >= 0) k->slot[k->tail].next = i; else k->head = i;
    k->tail = i;
    k->st.bytes += cache__footprint(pkt->buf);
    k->st.packets++;
    k->st.stored++;
    while (k->st.bytes > k->cfg.max_bytes && k->head >= 0 && k->head != i) {
        cache__evict(k, k->head);
        k->st.evicted_bytes++;
    }
    rtc_sfu_cache_expire(k, now);
    return 0;
}

const rtc_sfu_packet *rtc_sfu_cache_get(rtc_sfu_cache *k, uint16_t seq, rtc_time now)
{
    cache_slot *s = &k->slot[seq & k->mask];
    if (!s->p.buf || s->p.seq != seq || s->p.arrival + k->cfg.max_age < now) return NULL;
    return &s->p;
}

rtc_time rtc_sfu_cache_next_expiry(const rtc_sfu_cache *k)
{
    return k->head >= 0 ? k->slot[k->head].p.arrival + k->cfg.max_age + 1 : RTC_TIME_NEVER;
}

int64_t rtc_sfu_cache_highest(const rtc_sfu_cache *k) { return k->high; }

void rtc_sfu_cache_get_stats(const rtc_sfu_cache *k, rtc_sfu_cache_stats *out) { *out = k->st; }
