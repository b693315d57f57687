/* NACK generator: a window of per-seq state with retry timers, and the missing seqs
 * in sequence order beside it, so each NACK round, timeout and deadline looks at the
 * holes only, not at every slot of the window (1024 of them for about ten holes). */
#include "rtp/nack.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>

typedef struct nack__slot {
    rtc_time since;              /* when it was found missing */
    rtc_time next;               /* when to NACK it (again) */
    uint16_t seq;                /* the seq this state is for (the slot is seq & (window-1)) */
    uint8_t missing;
    uint8_t retries;
} nack__slot;

struct rtc_nack_generator {
    rtc_nack_config cfg;
    rtc_time now, rtt;
    bool init, keyframe_due;
    uint16_t highest;            /* highest seq seen; window covers (highest - window, highest] */
    uint16_t lowest;             /* lowest seq seen: nothing older is known missing */
    uint32_t lost_since_event;
    rtc_time earliest;           /* no missing packet needs us before this (may be early) */
    rtc_nack_stats stats;
    nack__slot *slot;
    /* Missing seqs, oldest first: a ring of `window` entries. An entry whose slot was
     * filled, given up or left the window is stale and skipped (and dropped when
     * stale ones are half of them); live entries are at most `window`. */
    uint16_t *order;
    size_t order_head, order_count, order_stale;
};

int rtc_nack_generator_new(rtc_nack_generator **out, const rtc_nack_config *cfg, rtc_time now)
{
    if (!out) return RTC_EINVAL;
    rtc_nack_config c = cfg ? *cfg : (rtc_nack_config){0};
    if (!c.window) c.window = 1024;
    if (c.window < 16 || c.window > 32768 || (c.window & (c.window - 1))) return RTC_EINVAL;
    if (!c.max_retries) c.max_retries = 10;
    if (c.max_retries > 255) c.max_retries = 255;
    if (c.max_age <= 0) c.max_age = RTC_SEC(1);
    if (c.min_interval <= 0) c.min_interval = RTC_MS(10);
    if (c.default_rtt <= 0) c.default_rtt = RTC_MS(100);
    if (!c.max_missing || c.max_missing > c.window / 2) c.max_missing = c.window / 2;
    rtc_nack_generator *g = calloc(1, sizeof *g);
    if (!g) return RTC_ENOMEM;
    g->slot = calloc(c.window, sizeof *g->slot);
    g->order = calloc(c.window, sizeof *g->order);
    if (!g->slot || !g->order) { free(g->slot); free(g->order); free(g); return RTC_ENOMEM; }
    g->cfg = c;
    g->now = now;
    g->rtt = c.default_rtt;
    g->earliest = RTC_TIME_NEVER;
    *out = g;
    return 0;
}

void rtc_nack_generator_free(rtc_nack_generator *g)
{
    if (!g) return;
    free(g->slot);
    free(g->order);
    free(g);
}

static void nack__recompute(rtc_nack_generator *g);

static nack__slot *nack__at(rtc_nack_generator *g, uint16_t seq) { return &g->slot[seq & (g->cfg.window - 1)]; }

static uint16_t *order__at(rtc_nack_generator *g, size_t i) { return &g->order[(g->order_head + i) & (g->cfg.window - 1)]; }

/* Is this entry of the ordered list still a missing packet in the window? */
static bool order__live(rtc_nack_generator *g, uint16_t s)
{
    const nack__slot *sl = nack__at(g, s);
    return sl->missing && sl->seq == s;
}

/* Drop stale entries, keeping the order. */
static void order__compact(rtc_nack_generator *g)
{
    size_t k = 0;
    for (size_t i = 0; i < g->order_count; i++) {
        uint16_t s = *order__at(g, i);
        if (order__live(g, s)) *order__at(g, k++) = s;
    }
    g->order_count = k;
    g->order_stale = 0;
}

static void order__stale(rtc_nack_generator *g)
{
    if (++g->order_stale * 2 > g->order_count) order__compact(g);
}

static void order__push_back(rtc_nack_generator *g, uint16_t s)
{
    if (g->order_count == g->cfg.window) order__compact(g);
    *order__at(g, g->order_count++) = s;
}

static void order__push_front(rtc_nack_generator *g, uint16_t s)
{
    if (g->order_count == g->cfg.window) order__compact(g);
    g->order_head = (g->order_head - 1) & (g->cfg.window - 1);
    g->order[g->order_head] = s;
    g->order_count++;
}

static void nack__give_up(rtc_nack_generator *g, nack__slot *s)
{
    s->missing = 0;
    g->stats.missing--;
    g->stats.given_up++;
    g->lost_since_event++;
    g->keyframe_due = true;
}

static void nack__clear_all(rtc_nack_generator *g)
{
    for (size_t i = 0; i < g->order_count; i++) {
        uint16_t s = *order__at(g, i);
        if (order__live(g, s)) nack__give_up(g, nack__at(g, s));
    }
    g->order_count = g->order_stale = 0;
    g->keyframe_due = true;
}

/* A seq found missing now. */
static void nack__mark(rtc_nack_generator *g, uint16_t s, bool front)
{
    nack__slot *sl = nack__at(g, s);
    *sl = (nack__slot){ g->now, g->now + g->cfg.reorder_delay, s, 1, 0 };
    g->stats.missing++;
    g->earliest = rtc_time_min(g->earliest, sl->next);
    if (front) order__push_front(g, s); else order__push_back(g, s);
}

static void nack__set_now(rtc_nack_generator *g, rtc_time now) { if (now > g->now) g->now = now; }

int rtc_nack_generator_handle_packet(rtc_nack_generator *g, uint16_t seq, rtc_time now)
{
    nack__set_now(g, now);
    if (!g->init) {
        g->init = true;
        g->highest = g->lowest = seq;
        g->stats.received++;
        return 0;
    }
    uint16_t ahead = (uint16_t)(seq - g->highest);
    if (ahead == 0) { g->stats.duplicates++; return RTC_EIGNORED; }
    if (ahead < 0x8000) {                                  /* newer */
        if (ahead > g->cfg.window) {
            /* Jumped past everything we track: retransmissions cannot catch up. */
            nack__clear_all(g);
            memset(g->slot, 0, g->cfg.window * sizeof *g->slot);
            g->highest = seq;
            g->lost_since_event += ahead - 1u;
            g->stats.given_up += ahead - 1u;
        } else {
            for (uint16_t s = (uint16_t)(g->highest + 1); s != (uint16_t)(seq + 1); s++) {
                nack__slot *sl = nack__at(g, s);
                if (sl->missing) { nack__give_up(g, sl); g->order_stale++; }   /* falls out of the window */
                if (s != seq) nack__mark(g, s, false);
                else sl->missing = 0;
            }
            if (g->stats.missing > g->cfg.max_missing) nack__clear_all(g);
        }
        g->highest = seq;
        if ((uint16_t)(g->highest - g->lowest) >= g->cfg.window) g->lowest = (uint16_t)(g->highest - g->cfg.window + 1);
        g->stats.received++;
        return 0;
    }
    uint16_t behind = (uint16_t)(g->highest - seq);
    if (behind >= g->cfg.window) { g->stats.too_old++; return RTC_EIGNORED; }
    if (rtc_seq_newer(g->lowest, seq)) {
        /* Reordered ahead of the first packet: what lies between it and the oldest
         * packet seen is missing too (the start of the first frame, often). */
        for (uint16_t s = (uint16_t)(g->lowest - 1); s != seq; s--) nack__mark(g, s, true);
        g->lowest = seq;
        nack__at(g, seq)->missing = 0;
        g->stats.received++;
        g->stats.reordered++;
        if (g->stats.missing > g->cfg.max_missing) nack__clear_all(g);
        return 0;
    }
    nack__slot *sl = nack__at(g, seq);
    if (!sl->missing) { g->stats.duplicates++; return RTC_EIGNORED; }
    sl->missing = 0;
    g->stats.missing--;
    order__stale(g);
    g->stats.received++;
    if (!sl->retries) { g->stats.reordered++; return 0; }
    g->stats.recovered++;
    return 1;
}

void rtc_nack_generator_handle_rtt(rtc_nack_generator *g, rtc_time rtt) { if (rtt > 0) g->rtt = rtt; }

void rtc_nack_generator_handle_timeout(rtc_nack_generator *g, rtc_time now)
{
    nack__set_now(g, now);
    if (!g->stats.missing) { g->earliest = RTC_TIME_NEVER; return; }
    for (size_t i = 0; i < g->order_count; i++) {
        uint16_t seq = *order__at(g, i);
        if (!order__live(g, seq)) continue;
        nack__slot *s = nack__at(g, seq);
        if (g->now - s->since > g->cfg.max_age || (s->retries >= g->cfg.max_retries && g->now >= s->next)) {
            nack__give_up(g, s);
            g->order_stale++;
        }
    }
    if (g->order_stale * 2 > g->order_count) order__compact(g);
    nack__recompute(g);
}

size_t rtc_nack_generator_poll_nack(rtc_nack_generator *g, uint16_t *seqs, size_t max)
{
    size_t n = 0;
    if (!g->stats.missing || !g->init) return 0;
    rtc_time spacing = g->rtt > g->cfg.min_interval ? g->rtt : g->cfg.min_interval;
    for (size_t i = 0; i < g->order_count && n < max; i++) {
        uint16_t s = *order__at(g, i);
        if (!order__live(g, s)) continue;
        nack__slot *sl = nack__at(g, s);
        if (sl->next > g->now || sl->retries >= g->cfg.max_retries) continue;
        if (g->now - sl->since > g->cfg.max_age) continue;  /* handle_timeout gives it up */
        seqs[n++] = s;
        sl->retries++;
        sl->next = g->now + spacing;
        g->stats.nacked++;
    }
    if (n) nack__recompute(g);
    return n;
}

int rtc_nack_generator_poll_event(rtc_nack_generator *g, rtc_nack_event *ev)
{
    if (!g->keyframe_due) return 0;
    g->keyframe_due = false;
    g->stats.keyframe_requests++;
    *ev = (rtc_nack_event){ RTC_NACK_EV_KEYFRAME_NEEDED, g->lost_since_event };
    g->lost_since_event = 0;
    return 1;
}

/* Earliest retry or expiry among missing packets: a walk over the holes, done once
 * per timeout or NACK round rather than on every poll_timeout. */
static void nack__recompute(rtc_nack_generator *g)
{
    rtc_time t = RTC_TIME_NEVER;
    if (g->stats.missing)
        for (size_t i = 0; i < g->order_count; i++) {
            uint16_t seq = *order__at(g, i);
            if (!order__live(g, seq)) continue;
            const nack__slot *s = nack__at(g, seq);
            rtc_time expire = s->since + g->cfg.max_age + 1;
            t = rtc_time_min(t, rtc_time_min(s->next, expire));
        }
    g->earliest = t;
}

rtc_time rtc_nack_generator_poll_timeout(const rtc_nack_generator *g)
{
    if (g->keyframe_due) return g->now;
    if (!g->stats.missing) return RTC_TIME_NEVER;
    return g->earliest;
}

void rtc_nack_generator_get_stats(const rtc_nack_generator *g, rtc_nack_stats *out) { *out = g->stats; }

void rtc_nack_generator_handle_keyframe(rtc_nack_generator *g, uint16_t seq)
{
    if (!g->init || !g->stats.missing) return;
    while (g->order_count) {                            /* oldest first: stop at the keyframe */
        uint16_t s = *order__at(g, 0);
        if (order__live(g, s)) {
            if (!rtc_seq_newer(seq, s)) break;
            nack__at(g, s)->missing = 0;
            g->stats.missing--;
        } else if (g->order_stale) {
            g->order_stale--;
        }
        g->order_head = (g->order_head + 1) & (g->cfg.window - 1);
        g->order_count--;
    }
}
