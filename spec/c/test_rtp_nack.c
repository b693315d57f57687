/* rtp/nack + rtp/rtx: NACK generation timing and limits, packet history, RTX
 * wrap/unwrap vectors, and recovery of every lost packet under 10% loss in both
 * directions on the virtual network. */
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/nack.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"

static void test_gap_and_retries(void)
{
    rtc_nack_generator *g;
    rtc_nack_config cfg = { .max_retries = 3, .max_age = RTC_MS(500) };
    ASSERT_EQ(rtc_nack_generator_new(&g, &cfg, 0), 0);
    rtc_nack_generator_handle_rtt(g, RTC_MS(40));
    uint16_t s[64];
    rtc_time now = 0;
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 65533, now), 0);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 65534, now), 0);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 2, now), 0);       /* 65535, 0, 1 missing */
    ASSERT_EQ(rtc_nack_generator_poll_timeout(g), 0);
    rtc_nack_generator_handle_timeout(g, now);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 3);
    ASSERT_EQ(s[0], 65535); ASSERT_EQ(s[1], 0); ASSERT_EQ(s[2], 1);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);             /* not again before an RTT */
    ASSERT_EQ(rtc_nack_generator_poll_timeout(g), RTC_MS(40));
    now = RTC_MS(39);
    rtc_nack_generator_handle_timeout(g, now);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 0, now), 1);       /* recovered */
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 0, now), RTC_EIGNORED);
    now = RTC_MS(40);
    rtc_nack_generator_handle_timeout(g, now);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 1), 1);              /* bounded by max */
    ASSERT_EQ(s[0], 65535);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 1);
    ASSERT_EQ(s[0], 1);
    now = RTC_MS(80);
    rtc_nack_generator_handle_timeout(g, now);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 2);             /* third and last try */
    now = RTC_MS(120);
    rtc_nack_generator_handle_timeout(g, now);
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);             /* retries exhausted: given up */
    rtc_nack_event ev;
    ASSERT_EQ(rtc_nack_generator_poll_event(g, &ev), 1);
    ASSERT_EQ(ev.type, RTC_NACK_EV_KEYFRAME_NEEDED); ASSERT_EQ(ev.lost, 2);
    ASSERT_EQ(rtc_nack_generator_poll_event(g, &ev), 0);
    rtc_nack_stats st;
    rtc_nack_generator_get_stats(g, &st);
    ASSERT_EQ(st.nacked, 3 + 2 + 2); ASSERT_EQ(st.recovered, 1); ASSERT_EQ(st.given_up, 2);
    ASSERT_EQ(st.missing, 0); ASSERT_EQ(st.duplicates, 1);
    ASSERT_EQ(rtc_nack_generator_poll_timeout(g), RTC_TIME_NEVER);
    rtc_nack_generator_free(g);
}

static void test_reorder_age_and_jumps(void)
{
    rtc_nack_generator *g;
    rtc_nack_config cfg = { .window = 64, .reorder_delay = RTC_MS(5), .max_age = RTC_MS(100) };
    ASSERT_EQ(rtc_nack_generator_new(&g, &cfg, 0), 0);
    uint16_t s[64];
    rtc_nack_event ev;
    rtc_nack_stats st;
    rtc_nack_generator_handle_packet(g, 10, 0);
    rtc_nack_generator_handle_packet(g, 12, 0);
    rtc_nack_generator_handle_timeout(g, RTC_MS(1));
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);             /* reorder delay */
    rtc_nack_generator_handle_packet(g, 11, RTC_MS(2));              /* just reordered */
    rtc_nack_generator_handle_packet(g, 14, RTC_MS(2));
    rtc_nack_generator_handle_timeout(g, RTC_MS(7));
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 1); ASSERT_EQ(s[0], 13);
    rtc_nack_generator_handle_timeout(g, RTC_MS(103));               /* older than max_age */
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);
    ASSERT_EQ(rtc_nack_generator_poll_event(g, &ev), 1); ASSERT_EQ(ev.lost, 1);
    rtc_nack_generator_get_stats(g, &st);
    ASSERT_EQ(st.reordered, 1); ASSERT_EQ(st.given_up, 1);
    /* Too old for the window; a jump past it asks for a keyframe. */
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, (uint16_t)(14 - 64), RTC_MS(104)), RTC_EIGNORED);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 14 + 200, RTC_MS(104)), 0);
    ASSERT_EQ(rtc_nack_generator_poll_event(g, &ev), 1); ASSERT_EQ(ev.lost, 199);
    rtc_nack_generator_get_stats(g, &st);
    ASSERT_EQ(st.missing, 0); ASSERT_EQ(st.too_old, 1);
    /* More missing than max_missing (window / 2 = 32): keyframe, nothing left to NACK. */
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 14 + 200 + 40, RTC_MS(105)), 0);
    ASSERT_EQ(rtc_nack_generator_poll_event(g, &ev), 1); ASSERT_EQ(ev.lost, 39);
    rtc_nack_generator_handle_timeout(g, RTC_MS(200));
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 0);
    /* A keyframe makes older losses irrelevant. */
    rtc_nack_generator_handle_packet(g, 300, RTC_MS(300));
    rtc_nack_generator_handle_packet(g, 305, RTC_MS(300));
    rtc_nack_generator_handle_keyframe(g, 303);
    rtc_nack_generator_handle_timeout(g, RTC_MS(310));
    ASSERT_EQ(rtc_nack_generator_poll_nack(g, s, 64), 2);
    ASSERT_EQ(s[0], 303); ASSERT_EQ(s[1], 304);
    rtc_nack_generator_free(g);
    rtc_nack_config bad = { .window = 100 };
    ASSERT_EQ(rtc_nack_generator_new(&g, &bad, 0), RTC_EINVAL);
}

static void test_history(void)
{
    rtc_rtp_history *h;
    ASSERT_EQ(rtc_rtp_history_new(&h, 100), RTC_EINVAL);
    ASSERT_EQ(rtc_rtp_history_new(&h, 16), 0);
    rtc_buf *b[20];
    for (int i = 0; i < 20; i++) {
        uint8_t x = (uint8_t)i;
        b[i] = rtc_buf_from(&x, 1);
        rtc_rtp_history_put(h, (uint16_t)(65530 + i), b[i], i);
    }
    ASSERT_EQ(b[0]->refs, 1);                           /* pushed out: our ref only */
    ASSERT_EQ(b[19]->refs, 2);
    ASSERT(rtc_rtp_history_get(h, 65530, 100, 0) == NULL);            /* overwritten */
    rtc_buf *p = rtc_rtp_history_get(h, 3, 100, RTC_MS(10));          /* 65530 + 9 */
    ASSERT(p == b[9]);
    ASSERT(rtc_rtp_history_get(h, 3, 105, RTC_MS(10)) == NULL);       /* resent too recently */
    ASSERT(rtc_rtp_history_get(h, 3, 100 + RTC_MS(10), RTC_MS(10)) == b[9]);
    rtc_rtp_history_stats st;
    rtc_rtp_history_get_stats(h, &st);
    ASSERT_EQ(st.stored, 20); ASSERT_EQ(st.hits, 2); ASSERT_EQ(st.misses, 1); ASSERT_EQ(st.too_soon, 1);
    for (int i = 0; i < 20; i++) rtc_buf_unref(b[i]);
    rtc_rtp_history_free(h);                            /* releases the last refs */
}

static void test_rtx_vectors(void)
{
    rtc_rtp_header h = { .marker = true, .pt = 96, .seq = 0x1234, .ts = 99, .ssrc = 0xAAAA, .csrc_count = 1 };
    h.csrc[0] = 7;
    uint8_t mid = '1';
    rtc_rtp_add_ext(&h, 1, &mid, 1);
    uint8_t pkt[64], rtx[64], back[64];
    int n = rtc_rtp_write(pkt, sizeof pkt, &h, (const uint8_t *)"payload", 7, 3);
    ASSERT(n > 0);
    int rn = rtc_rtx_wrap(pkt, (size_t)n, 97, 0xBBBB, 500, rtx, sizeof rtx);
    ASSERT_EQ(rn, n - 3 + 2);                           /* padding dropped, OSN added */
    rtc_rtp_packet p;
    ASSERT_EQ(rtc_rtp_parse(&p, rtx, (size_t)rn), 0);
    ASSERT_EQ(p.h.pt, 97); ASSERT_EQ(p.h.seq, 500); ASSERT_EQ(p.h.ssrc, 0xBBBB);
    ASSERT(p.h.marker && !p.h.padding); ASSERT_EQ(p.h.ts, 99); ASSERT_EQ(p.h.csrc[0], 7);
    ASSERT(rtc_rtp_find_ext(&p.h, 1) != NULL);
    ASSERT_EQ(p.payload[0], 0x12); ASSERT_EQ(p.payload[1], 0x34);
    ASSERT_MEMEQ(p.payload + 2, "payload", 7);
    int bn = rtc_rtx_unwrap(rtx, (size_t)rn, 96, 0xAAAA, back, sizeof back);
    ASSERT_EQ(bn, n - 3);
    ASSERT_MEMEQ(back + 1, pkt + 1, (size_t)bn - 1);    /* same but for the P bit */
    ASSERT_EQ(back[0], pkt[0] & ~0x20);
    ASSERT_EQ(rtc_rtx_wrap(pkt, (size_t)n, 97, 1, 1, rtx, 20), RTC_EOVERFLOW);
    /* Padding-only probe and a cut OSN. */
    rtc_rtp_header ph = { .pt = 97, .seq = 1, .ssrc = 0xBBBB };
    n = rtc_rtp_write(pkt, sizeof pkt, &ph, NULL, 0, 200 > 50 ? 50 : 1);
    ASSERT_EQ(rtc_rtx_unwrap(pkt, (size_t)n, 96, 1, back, sizeof back), RTC_EIGNORED);
    n = rtc_rtp_write(pkt, sizeof pkt, &ph, (const uint8_t *)"x", 1, 0);
    ASSERT_EQ(rtc_rtx_unwrap(pkt, (size_t)n, 96, 1, back, sizeof back), RTC_ETRUNC);
    ASSERT_EQ(rtc_rtx_unwrap(pkt, 5, 96, 1, back, sizeof back), RTC_ETRUNC);
}

/* A sender and a receiver over a lossy virtual network: media, NACKs and RTX all
 * suffer 10% loss; every media packet must reach the receiver in the end. */
static void test_recovery_under_loss(void)
{
    enum { N = 3000, MEDIA_PT = 96, RTX_PT = 97, SSRC = 0x1111, RTX_SSRC = 0x2222 };
    vnet *net = vnet_new(2024);
    vnet_set_link(net, (vnet_link){ .loss = 0.10, .delay = RTC_MS(20), .jitter = RTC_MS(4) });
    rtc_addr snd, rcv;
    rtc_addr_parse(&snd, "10.0.0.1:5000");
    rtc_addr_parse(&rcv, "10.0.0.2:5000");
    rtc_rtp_history *hist;
    ASSERT_EQ(rtc_rtp_history_new(&hist, 1024), 0);
    rtc_nack_generator *gen;
    ASSERT_EQ(rtc_nack_generator_new(&gen, &(rtc_nack_config){ .max_retries = 15 }, 0), 0);
    rtc_nack_generator_handle_rtt(gen, RTC_MS(45));
    static uint8_t got[N + 64];
    memset(got, 0, sizeof got);
    rtc_pool *pool = rtc_pool_new(64);
    uint16_t seq0 = 65000, rtx_seq = 0;
    int sent = 0, keyframe_events = 0, rtx_sent = 0, rtx_recv = 0;
    rtc_time now = 0, next_send = 0, end = RTC_SEC(20);
    while (now < end) {
        if (sent < N + 40 && now >= next_send) {        /* 40 tail packets expose final losses */
            rtc_buf *b = rtc_buf_alloc(pool, 200);
            rtc_rtp_header h = { .pt = MEDIA_PT, .seq = (uint16_t)(seq0 + sent), .ts = (uint32_t)sent * 3000, .ssrc = SSRC };
            uint8_t body[100];
            memset(body, (uint8_t)sent, sizeof body);
            int n = rtc_rtp_write(b->data, b->cap, &h, body, sizeof body, 0);
            b->len = (size_t)n;
            rtc_rtp_history_put(hist, h.seq, b, now);
            vnet_send(net, &snd, &rcv, b->data, b->len, now);
            rtc_buf_unref(b);
            sent++;
            next_send = now + RTC_MS(5);
        }
        vnet_packet vp;
        while (vnet_poll(net, now, &vp)) {
            if (rtc_addr_eq(&vp.to, &rcv)) {            /* receiver: media or RTX */
                rtc_rtp_packet p;
                ASSERT_EQ(rtc_rtp_parse(&p, vp.data, vp.len), 0);
                uint8_t orig[1500];
                if (p.h.ssrc == RTX_SSRC) {
                    int n = rtc_rtx_unwrap(vp.data, vp.len, MEDIA_PT, SSRC, orig, sizeof orig);
                    ASSERT(n > 0);
                    ASSERT_EQ(rtc_rtp_parse(&p, orig, (size_t)n), 0);
                    rtx_recv++;
                }
                ASSERT_EQ(p.h.ssrc, SSRC);
                int idx = (uint16_t)(p.h.seq - seq0);
                ASSERT(idx >= 0 && idx < N + 64);
                ASSERT_EQ(p.payload[0], (uint8_t)idx);  /* the right payload came back */
                got[idx] = 1;
                rtc_nack_generator_handle_packet(gen, p.h.seq, now);
            } else {                                    /* sender: RTCP NACK */
                rtc_rtcp_view v[4];
                int k = rtc_rtcp_parse_compound(vp.data, vp.len, v, 4);
                ASSERT_EQ(k, 1);
                uint16_t seqs[256];
                int m = rtc_rtcp_read_nack(&v[0], seqs, 256);
                ASSERT(m > 0);
                for (int i = 0; i < m; i++) {
                    rtc_buf *b = rtc_rtp_history_get(hist, seqs[i], now, RTC_MS(10));
                    if (!b) continue;
                    uint8_t out[1500];
                    int n = rtc_rtx_wrap(b->data, b->len, RTX_PT, RTX_SSRC, rtx_seq++, out, sizeof out);
                    ASSERT(n > 0);
                    vnet_send(net, &snd, &rcv, out, (size_t)n, now);
                    rtx_sent++;
                }
            }
        }
        rtc_nack_generator_handle_timeout(gen, now);
        uint16_t seqs[64];
        size_t k;
        while ((k = rtc_nack_generator_poll_nack(gen, seqs, 64)) > 0) {
            uint8_t out[512];
            int n = rtc_rtcp_write_nack(out, sizeof out, 0x3333, SSRC, seqs, k);
            ASSERT(n > 0);
            vnet_send(net, &rcv, &snd, out, (size_t)n, now);
        }
        rtc_nack_event ev;
        while (rtc_nack_generator_poll_event(gen, &ev)) keyframe_events++;
        /* Advance to the earliest thing that can happen. */
        rtc_time t = rtc_nack_generator_poll_timeout(gen);
        t = rtc_time_min(t, vnet_next_delivery(net));
        if (sent < N + 40) t = rtc_time_min(t, next_send);
        if (t == RTC_TIME_NEVER) break;
        now = t > now ? t : now + 1;
    }
    /* Nothing can ask for packets lost before the first one that arrives. */
    int first = 0;
    while (!got[first]) first++;
    ASSERT(first < 5);
    for (int i = first; i < N; i++) if (!got[i]) RTC_TEST_FAIL("seq index %d never recovered", i);
    ASSERT_EQ(keyframe_events, 0);
    rtc_nack_stats st;
    rtc_nack_generator_get_stats(gen, &st);
    ASSERT(vnet_dropped(net) > 300);                    /* the loss really happened */
    ASSERT(st.recovered >= 250); ASSERT_EQ(st.given_up, 0); ASSERT_EQ(st.missing, 0);
    ASSERT(rtx_recv <= rtx_sent);
    ASSERT(rtx_sent < N / 4);                           /* repairs, not a flood */
    rtc_nack_generator_free(gen);
    rtc_rtp_history_free(hist);
    rtc_pool_free(pool);
    vnet_free(net);
}

/* A packet reordered ahead of the very first one: the seqs between them are missing
 * and get NACKed (they are often the start of the first keyframe); across the wrap. */
static void test_before_first(void)
{
    rtc_nack_generator *g;
    ASSERT_OK(rtc_nack_generator_new(&g, NULL, 0));
    ASSERT_OK(rtc_nack_generator_handle_packet(g, 3, 0));
    ASSERT_OK(rtc_nack_generator_handle_packet(g, 4, 0));
    ASSERT_OK(rtc_nack_generator_handle_packet(g, 65534, 1000));     /* 5 before the first */
    uint16_t seqs[16];
    size_t n = rtc_nack_generator_poll_nack(g, seqs, 16);
    ASSERT_EQ(n, 4);
    ASSERT_EQ(seqs[0], 65535); ASSERT_EQ(seqs[1], 0); ASSERT_EQ(seqs[2], 1); ASSERT_EQ(seqs[3], 2);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 0, 2000), 1);       /* repaired */
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 0, 2000), RTC_EIGNORED);
    rtc_nack_stats st;
    rtc_nack_generator_get_stats(g, &st);
    ASSERT_EQ(st.missing, 3);
    ASSERT_EQ(st.recovered, 1);
    /* Far on, an old seq no longer counts as "before the first". */
    for (uint16_t s = 5; s < 40000; s++) rtc_nack_generator_handle_packet(g, s, 3000 + s);
    ASSERT_EQ(rtc_nack_generator_handle_packet(g, 20000, 50000), RTC_EIGNORED);
    rtc_nack_generator_get_stats(g, &st);
    ASSERT_EQ(st.missing, 0);
    rtc_nack_generator_free(g);
}

/* ====== reference model ======
 * The generator's rules written the plain way: per-seq state in the window, and
 * every question answered by scanning the whole window in sequence order (what the
 * generator did before it kept its missing seqs ordered). */
enum { REF_W = 1024 };
typedef struct ref_slot { rtc_time since, next; uint16_t seq; bool missing; uint8_t retries; } ref_slot;
typedef struct ref_gen {
    rtc_time now, rtt;
    bool init, key_due;
    uint16_t highest, lowest;
    uint32_t lost;
    rtc_nack_stats st;
    ref_slot slot[REF_W];
} ref_gen;
static const rtc_time REF_AGE = RTC_SEC(1), REF_MIN = RTC_MS(10);
enum { REF_RETRIES = 10, REF_MAX_MISSING = REF_W / 2 };

static ref_slot *ref_at(ref_gen *g, uint16_t s) { return &g->slot[s % REF_W]; }
static void ref_give_up(ref_gen *g, ref_slot *s) { s->missing = false; g->st.missing--; g->st.given_up++; g->lost++; g->key_due = true; }
static void ref_clear(ref_gen *g)
{
    for (int i = 0; i < REF_W; i++) if (g->slot[i].missing) ref_give_up(g, &g->slot[i]);
    g->key_due = true;
}
static void ref_mark(ref_gen *g, uint16_t s) { *ref_at(g, s) = (ref_slot){ g->now, g->now, s, true, 0 }; g->st.missing++; }

static int ref_packet(ref_gen *g, uint16_t seq, rtc_time now)
{
    if (now > g->now) g->now = now;
    if (!g->init) { g->init = true; g->highest = g->lowest = seq; g->st.received++; return 0; }
    uint16_t ahead = (uint16_t)(seq - g->highest);
    if (ahead == 0) { g->st.duplicates++; return RTC_EIGNORED; }
    if (ahead < 0x8000) {
        if (ahead > REF_W) {
            ref_clear(g);
            memset(g->slot, 0, sizeof g->slot);
            g->lost += ahead - 1u;
            g->st.given_up += ahead - 1u;
        } else {
            for (uint16_t s = (uint16_t)(g->highest + 1); s != seq; s++) {
                if (ref_at(g, s)->missing) ref_give_up(g, ref_at(g, s));
                ref_mark(g, s);
            }
            if (ref_at(g, seq)->missing) ref_give_up(g, ref_at(g, seq));
            ref_at(g, seq)->missing = false;
            if (g->st.missing > REF_MAX_MISSING) ref_clear(g);
        }
        g->highest = seq;
        if ((uint16_t)(g->highest - g->lowest) >= REF_W) g->lowest = (uint16_t)(g->highest - REF_W + 1);
        g->st.received++;
        return 0;
    }
    if ((uint16_t)(g->highest - seq) >= REF_W) { g->st.too_old++; return RTC_EIGNORED; }
    if (rtc_seq_newer(g->lowest, seq)) {
        for (uint16_t s = (uint16_t)(seq + 1); s != g->lowest; s++) ref_mark(g, s);
        g->lowest = seq;
        ref_at(g, seq)->missing = false;
        g->st.received++;
        g->st.reordered++;
        if (g->st.missing > REF_MAX_MISSING) ref_clear(g);
        return 0;
    }
    ref_slot *sl = ref_at(g, seq);
    if (!sl->missing) { g->st.duplicates++; return RTC_EIGNORED; }
    sl->missing = false;
    g->st.missing--;
    g->st.received++;
    if (!sl->retries) { g->st.reordered++; return 0; }
    g->st.recovered++;
    return 1;
}

static void ref_timeout(ref_gen *g, rtc_time now)
{
    if (now > g->now) g->now = now;
    for (int i = 0; i < REF_W; i++) {
        ref_slot *s = &g->slot[i];
        if (s->missing && (g->now - s->since > REF_AGE || (s->retries >= REF_RETRIES && g->now >= s->next))) ref_give_up(g, s);
    }
}

static size_t ref_poll_nack(ref_gen *g, uint16_t *seqs, size_t max)
{
    size_t n = 0;
    if (!g->st.missing || !g->init) return 0;
    rtc_time spacing = g->rtt > REF_MIN ? g->rtt : REF_MIN;
    uint16_t s = (uint16_t)(g->highest - REF_W + 1);
    for (int i = 0; i < REF_W && n < max; i++, s++) {
        ref_slot *sl = ref_at(g, s);
        if (!sl->missing || sl->next > g->now || sl->retries >= REF_RETRIES || g->now - sl->since > REF_AGE) continue;
        seqs[n++] = s;
        sl->retries++;
        sl->next = g->now + spacing;
        g->st.nacked++;
    }
    return n;
}

static rtc_time ref_deadline(ref_gen *g)
{
    if (g->key_due) return g->now;
    rtc_time t = RTC_TIME_NEVER;
    for (int i = 0; i < REF_W; i++)
        if (g->slot[i].missing) t = rtc_time_min(t, rtc_time_min(g->slot[i].next, g->slot[i].since + REF_AGE + 1));
    return t;
}

static void ref_keyframe(ref_gen *g, uint16_t seq)
{
    if (!g->init || !g->st.missing) return;
    uint16_t s = (uint16_t)(g->highest - REF_W + 1);
    for (int i = 0; i < REF_W; i++, s++) {
        if (!rtc_seq_newer(seq, s)) break;
        if (ref_at(g, s)->missing) { ref_at(g, s)->missing = false; g->st.missing--; }
    }
}

/* The ordered missing set gives the same NACKs as the full scan: random loss (bursts
 * too), reordering, duplicates, old packets, jumps, keyframes, RTT changes and
 * timeouts, with the outputs compared at every step. */
static void test_ordered_matches_scan(void)
{
    for (uint32_t seed = 1; seed <= 6; seed++) {
        rtc_rng rng;
        rtc_rng_init_seed(&rng, seed);
        rtc_nack_generator *g;
        ASSERT_OK(rtc_nack_generator_new(&g, &(rtc_nack_config){ .default_rtt = RTC_MS(100) }, 0));
        static ref_gen ref;
        memset(&ref, 0, sizeof ref);
        ref.rtt = RTC_MS(100);
        uint16_t next = (uint16_t)rtc_rng_u32(&rng), held[8];
        int nheld = 0;
        rtc_time now = 0;
        size_t nacked = 0;
        for (int step = 0; step < 30000; step++) {
            now += RTC_MS(1) + rtc_rng_below(&rng, 3000);
            uint32_t r = rtc_rng_below(&rng, 1000);
            uint16_t seq;
            if (r < 80) { next++; continue; }                                   /* lost */
            if (r < 90) { next = (uint16_t)(next + 2 + rtc_rng_below(&rng, 30)); continue; }  /* burst */
            if (r < 130 && nheld < 8) { held[nheld++] = next++; continue; }     /* delayed */
            if (r < 200 && nheld) seq = held[--nheld];                          /* late / repair */
            else if (r < 210) seq = (uint16_t)(next - 1 - rtc_rng_below(&rng, 2000));   /* old or duplicate */
            else if (r < 212) seq = next = (uint16_t)(next + 500 + rtc_rng_below(&rng, 3000));  /* jump */
            else seq = next++;
            int a = rtc_nack_generator_handle_packet(g, seq, now), b = ref_packet(&ref, seq, now);
            ASSERT_EQ(a, b);
            if (r % 97 == 0) {
                rtc_time rtt = RTC_MS(5) + rtc_rng_below(&rng, 200000);
                rtc_nack_generator_handle_rtt(g, rtt);
                ref.rtt = rtt;
            }
            if (r % 211 == 0) {
                uint16_t k = (uint16_t)(seq - rtc_rng_below(&rng, 50));
                rtc_nack_generator_handle_keyframe(g, k);
                ref_keyframe(&ref, k);
            }
            rtc_time t = rtc_nack_generator_poll_timeout(g);
            if (t <= now) {
                rtc_nack_generator_handle_timeout(g, now);
                ref_timeout(&ref, now);
            }
            uint16_t s1[64], s2[64];
            size_t max = 1 + rtc_rng_below(&rng, 64);
            size_t n1 = rtc_nack_generator_poll_nack(g, s1, max), n2 = ref_poll_nack(&ref, s2, max);
            ASSERT_EQ(n1, n2);
            ASSERT_MEMEQ(s1, s2, n1 * sizeof s1[0]);
            nacked += n1;
            rtc_nack_event ev;
            bool e1 = rtc_nack_generator_poll_event(g, &ev) == 1, e2 = ref.key_due;
            ASSERT_EQ(e1, e2);
            if (e1) { ASSERT_EQ(ev.lost, ref.lost); ref.key_due = false; ref.lost = 0; ref.st.keyframe_requests++; }
            /* The generator's deadline may be early, never late. */
            ASSERT_LE(rtc_nack_generator_poll_timeout(g), ref_deadline(&ref));
            rtc_nack_stats st;
            rtc_nack_generator_get_stats(g, &st);
            ASSERT_MEMEQ(&st, &ref.st, sizeof st);
        }
        ASSERT(nacked > 1000);
        rtc_nack_generator_free(g);
    }
}

int main(void)
{
    RUN(test_gap_and_retries);
    RUN(test_reorder_age_and_jumps);
    RUN(test_history);
    RUN(test_rtx_vectors);
    RUN(test_recovery_under_loss);
    RUN(test_before_first);
    RUN(test_ordered_matches_scan);
    return 0;
}
