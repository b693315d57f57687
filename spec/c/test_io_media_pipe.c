/* Media pipes (io/rtc_media_pipe.h) and the SFU hosts joined by them: the lock-free
 * ring between two real threads keeps every packet in order; a pipe refuses what does
 * not fit; through a pipe into a host and out of it again, keyframe requests and NACKs
 * cross back: a NACK is answered from the sending host's cache, or asked further
 * upstream when that lacks the packet too; two hosts in a chain pass frames, PLI and
 * NACK end to end; closing an end removes the other end's leg. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "core/rtc_spsc.h"
#include "io/rtc_media_pipe.h"
#include "io/rtc_sfu_host.h"
#include "io/rtc_thread.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* {====== the ring between two threads ====== */
#define RING_N 200000
typedef struct ring_reader { rtc_spsc *q; int got, in_order; } ring_reader;

static void ring_reader_main(void *arg)
{
    ring_reader *r = arg;
    while (r->got < RING_N) {
        const uint8_t *d;
        size_t len;
        uint8_t tag;
        if (!rtc_spsc_peek(r->q, &d, &len, &tag)) continue;
        uint32_t v;
        memcpy(&v, d, sizeof v);
        if (v != (uint32_t)r->got || len != 5 + (v % 50) || tag != (uint8_t)v || d[len - 1] != (uint8_t)(v * 7)) r->in_order = 0;
        r->got++;
        rtc_spsc_pop(r->q);
    }
}

static void test_spsc_across_threads(void)
{
    rtc_spsc q;
    ASSERT(rtc_spsc_init(&q, 60, 64));
    ASSERT_EQ(q.cap, 64);
    uint8_t big[65] = { 0 };
    ASSERT(!rtc_spsc_push(&q, 0, big, 32, big, 33));      /* larger than a slot */
    ring_reader r = { &q, 0, 1 };
    rtc_thread *t;
    ASSERT_OK(rtc_thread_start(&t, ring_reader_main, &r));
    int full = 0;
    for (uint32_t v = 0; v < RING_N;) {
        uint8_t body[64];
        size_t len = 5 + (v % 50);
        memcpy(body, &v, 4);
        memset(body + 4, 0, len - 4);
        body[len - 1] = (uint8_t)(v * 7);
        if (rtc_spsc_push(&q, (uint8_t)v, body, 2, body + 2, len - 2)) v++;
        else full++;
    }
    rtc_thread_join(t);
    ASSERT_EQ(r.got, RING_N);
    ASSERT(r.in_order);
    ASSERT_EQ(rtc_spsc_count(&q), 0);
    (void)full;                    /* how often the reader lagged depends on scheduling */
    rtc_spsc_destroy(&q);
}
/* }====== */

/* {====== a pipe's ends ====== */
static void test_pipe_names_and_bounds(void)
{
    rtc_media_pipe_desc d = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 5, .clock_rate = 90000 }, got;
    rtc_media_pipe *tx, *rx, *again;
    char name[RTC_MEDIA_PIPE_NAME_MAX];
    ASSERT_OK(rtc_media_pipe_new(&tx, &d, name));
    ASSERT_EQ(rtc_media_pipe_open(&rx, "pipe-none", &got), RTC_ENOTFOUND);
    ASSERT_OK(rtc_media_pipe_open(&rx, name, &got));
    ASSERT_EQ(got.ssrc, 5);
    ASSERT_EQ(got.pt, 96);
    ASSERT_EQ(rtc_media_pipe_open(&again, name, &got), RTC_ENOTFOUND);   /* one receiving end */
    uint8_t pkt[RTC_MEDIA_PIPE_SLOT + 1] = { 0 };
    ASSERT_EQ(rtc_media_pipe_send(tx, RTC_MEDIA_PIPE_RTP, NULL, 0, pkt, sizeof pkt), RTC_ETOOBIG);
    int sent = 0;
    while (rtc_media_pipe_send(tx, RTC_MEDIA_PIPE_RTP, NULL, 0, pkt, 100) == 0) sent++;
    ASSERT_GE(sent, 1000);                                   /* then full: dropped and counted */
    rtc_media_pipe_stats st;
    rtc_media_pipe_get_stats(tx, &st);
    ASSERT_EQ(st.sent, (uint64_t)sent);
    ASSERT_EQ(st.dropped, 1);
    int kind;
    const uint8_t *p;
    size_t n;
    ASSERT(rtc_media_pipe_peek(rx, &kind, &p, &n));
    ASSERT_EQ(kind, RTC_MEDIA_PIPE_RTP);
    ASSERT_EQ(n, 100);
    rtc_media_pipe_pop(rx);
    ASSERT(!rtc_media_pipe_peer_closed(rx));
    rtc_media_pipe_close(tx);
    ASSERT(rtc_media_pipe_peer_closed(rx));
    ASSERT_EQ(rtc_media_pipe_send(rx, RTC_MEDIA_PIPE_RTCP, NULL, 0, pkt, 8), RTC_ECLOSED);
    rtc_media_pipe_close(rx);
    /* A pipe nobody opened is forgotten when its sending end closes. */
    ASSERT_OK(rtc_media_pipe_new(&tx, &d, name));
    rtc_media_pipe_close(tx);
    ASSERT_EQ(rtc_media_pipe_open(&rx, name, &got), RTC_ENOTFOUND);
}
/* }====== */

/* {====== hosts joined by pipes, the test at both ends ====== */
static rtc_loop *lp;
static rtc_pool *pool;

/* What one of the test's ends saw. */
typedef struct end {
    rtc_media_pipe *p;
    int rtp, plis, nacks;
    uint16_t seqs[512];            /* RTP seqs, in arrival order */
    uint8_t fill[512];             /* each one's last payload byte */
    uint16_t nacked[64];
    int nnacked;
    uint32_t ssrc;                 /* of the RTP seen */
} end;

static void on_end(rtc_media_pipe *p, void *ud)
{
    end *e = ud;
    int kind;
    const uint8_t *d;
    size_t n;
    while (rtc_media_pipe_peek(p, &kind, &d, &n)) {
        if (kind == RTC_MEDIA_PIPE_RTP) {
            rtc_rtp_packet rp;
            if (rtc_rtp_parse(&rp, d, n) == 0 && e->rtp < 512) {
                e->ssrc = rp.h.ssrc;
                e->fill[e->rtp] = rp.payload_len ? rp.payload[rp.payload_len - 1] : 0;
                e->seqs[e->rtp++] = rp.h.seq;
            }
        } else {
            rtc_rtcp_view v[16];
            int k = rtc_rtcp_parse_compound(d, n, v, 16);
            for (int i = 0; i < k; i++) {
                if (v[i].pt == RTC_RTCP_PSFB && v[i].count == RTC_RTCP_FMT_PLI) e->plis++;
                if (v[i].pt == RTC_RTCP_RTPFB && v[i].count == RTC_RTCP_FMT_NACK) {
                    uint16_t s[64];
                    int m = rtc_rtcp_read_nack(&v[i], s, 64);
                    e->nacks++;
                    for (int j = 0; j < m && e->nnacked < 64; j++) e->nacked[e->nnacked++] = s[j];
                }
            }
        }
        rtc_media_pipe_pop(p);
    }
}

static int removed[8];
static void host_cb(rtc_sfu_host *h, rtc_sfu_host_event_type type, void *user, void *ud)
{
    (void)h; (void)ud;
    if (type == RTC_SFU_HOST_EV_REMOVED) removed[(intptr_t)user]++;
}

/* Turns the loop until cond holds; the router's own timer (a throttled keyframe
 * request) may be what it waits for, so this waits in real time, with a bound. */
#define RUN_UNTIL(cond) do { \
    for (int _i = 0; _i < 5000 && !(cond); _i++) { rtc_loop_run(lp, UV_RUN_NOWAIT); usleep(1000); } \
    ASSERT(cond); } while (0)

static void send_vp8(end *pub, uint16_t seq, bool begin, bool kf, bool marker, uint8_t fill)
{
    rtc_rtp_header h = { .pt = 96, .seq = seq, .ts = 1000u * (seq / 3), .ssrc = 0x1111, .marker = marker };
    uint8_t pay[200];
    size_t o = 0;
    pay[o++] = (uint8_t)(0x80 | (begin ? 0x10 : 0));
    pay[o++] = 0x80;                                  /* picture id present */
    pay[o++] = (uint8_t)(0x80 | ((seq / 3) >> 8)); pay[o++] = (uint8_t)(seq / 3);
    pay[o++] = kf ? 0x10 : 0x11;
    while (o < sizeof pay) pay[o++] = fill;
    uint8_t b[400];
    int n = rtc_rtp_write(b, sizeof b, &h, pay, o, 0);
    ASSERT(n > 0);
    ASSERT_OK(rtc_media_pipe_send(pub->p, RTC_MEDIA_PIPE_RTP, NULL, 0, b, (size_t)n));
}

/* Frame f (3 packets, seqs 3f..3f+2), a keyframe when kf; `skip` is left out. */
static void send_frame(end *pub, int f, bool kf, int skip)
{
    for (int i = 0; i < 3; i++) {
        int seq = 3 * f + i;
        if (seq != skip) send_vp8(pub, (uint16_t)seq, i == 0, kf, i == 2, (uint8_t)seq);
    }
}

static void nack_at(end *sub, uint16_t seq)
{
    uint8_t b[64];
    int n = rtc_rtcp_write_nack(b, sizeof b, 77, sub->ssrc, &seq, 1);
    ASSERT_OK(rtc_media_pipe_send(sub->p, RTC_MEDIA_PIPE_RTCP, NULL, 0, b, (size_t)n));
}

static void pli_at(end *sub)
{
    uint8_t b[64];
    int n = rtc_rtcp_write_pli(b, sizeof b, 77, sub->ssrc);
    ASSERT_OK(rtc_media_pipe_send(sub->p, RTC_MEDIA_PIPE_RTCP, NULL, 0, b, (size_t)n));
}

/* The out seq of the packet whose payload ends with `fill` (each source packet's is its seq). */
static int out_seq(const end *e, uint8_t fill)
{
    for (int i = 0; i < e->rtp; i++)
        if (e->fill[i] == fill) return e->seqs[i];
    return -1;
}

static int count_fill(const end *e, uint8_t fill)
{
    int k = 0;
    for (int i = 0; i < e->rtp; i++) k += e->fill[i] == fill;
    return k;
}

/* The publisher's pipe into host h: pub is the test's sending end, *p the host's producer. */
static void publisher_into(end *pub, rtc_sfu_host *h, intptr_t user, rtc_sfu_producer **p)
{
    rtc_media_pipe_desc d = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 0x1111, .clock_rate = 90000 }, got;
    char name[RTC_MEDIA_PIPE_NAME_MAX];
    ASSERT_OK(rtc_media_pipe_new(&pub->p, &d, name));
    ASSERT_OK(rtc_media_pipe_bind(pub->p, rtc_loop_uv(lp), on_end, pub));
    ASSERT_OK(rtc_sfu_host_pipe_in(h, name, (void *)user, p, &got));
    ASSERT_EQ(got.ssrc, 0x1111);
}

/* Host h's producer p piped out to the test's receiving end sub (or into host `into`). */
static rtc_sfu_consumer *pipe_out(rtc_sfu_host *h, rtc_sfu_producer *p, intptr_t user, end *sub,
                                  rtc_sfu_host *into, intptr_t into_user, rtc_sfu_producer **into_p)
{
    rtc_sfu_consumer *c;
    char name[RTC_MEDIA_PIPE_NAME_MAX];
    rtc_media_pipe_desc got;
    ASSERT_OK(rtc_sfu_host_pipe_out(h, p, (void *)user, &c, name));
    if (sub) {
        ASSERT_OK(rtc_media_pipe_open(&sub->p, name, &got));
        ASSERT_OK(rtc_media_pipe_bind(sub->p, rtc_loop_uv(lp), on_end, sub));
        ASSERT_EQ(got.codec, RTC_CODEC_VP8);
    } else {
        ASSERT_OK(rtc_sfu_host_pipe_in(into, name, (void *)into_user, into_p, &got));
    }
    return c;
}

static void test_feedback_across_one_host(void)
{
    rtc_sfu_host *h;
    ASSERT_OK(rtc_sfu_host_new(&h, lp, host_cb, NULL));
    static end pub, sub;
    memset(&pub, 0, sizeof pub); memset(&sub, 0, sizeof sub);
    rtc_sfu_producer *p;
    publisher_into(&pub, h, 1, &p);
    rtc_sfu_consumer *c = pipe_out(h, p, 2, &sub, NULL, 0, NULL);
    /* The pipe's consumer starts at a keyframe and asks for one: a PLI reaches the publisher. */
    RUN_UNTIL(pub.plis >= 1);
    send_frame(&pub, 10, true, -1);                  /* seqs 30..32 */
    send_frame(&pub, 11, false, 34);                 /* 33, 35: 34 never sent */
    send_frame(&pub, 12, false, -1);
    RUN_UNTIL(sub.rtp == 8);
    ASSERT_EQ(sub.ssrc != 0x1111, 1);                /* the pipe's own SSRC */
    /* A NACK for a packet the host has: answered from its cache, nothing goes upstream. */
    nack_at(&sub, (uint16_t)out_seq(&sub, 31));
    RUN_UNTIL(count_fill(&sub, 31) == 2);
    ASSERT_EQ(pub.nacks, 0);
    rtc_sfu_consumer_stats cs;
    rtc_sfu_consumer_get_stats(c, &cs);
    ASSERT_EQ(cs.nack_answered, 1);
    /* A NACK for one the host never got (the seq between 33's and 35's): asked upstream. */
    nack_at(&sub, (uint16_t)(out_seq(&sub, 33) + 1));
    RUN_UNTIL(pub.nnacked >= 1);
    ASSERT_EQ(pub.nacked[0], 34);
    /* The publisher resends it: it reaches the far end under the seq it was missing as. */
    send_vp8(&pub, 34, false, false, false, 34);
    RUN_UNTIL(count_fill(&sub, 34) == 1);
    ASSERT_EQ(out_seq(&sub, 34), out_seq(&sub, 33) + 1);
    /* A PLI at the far end reaches the publisher (after the request interval). */
    int plis = pub.plis;
    pli_at(&sub);
    RUN_UNTIL(pub.plis > plis);
    /* The publisher's end closes: the host's producer goes (REMOVED); its pipe consumer
     * stays without a source until removed, which closes the far end. */
    memset(removed, 0, sizeof removed);
    rtc_media_pipe_close(pub.p);
    RUN_UNTIL(removed[1] == 1);
    ASSERT_EQ(removed[2], 0);
    rtc_sfu_host_remove_consumer(h, c);
    RUN_UNTIL(rtc_media_pipe_peer_closed(sub.p));
    rtc_media_pipe_close(sub.p);
    rtc_sfu_host_close(h);
    rtc_loop_run(lp, UV_RUN_NOWAIT);
}

static void test_two_hosts_in_a_chain(void)
{
    rtc_sfu_host *a, *b;
    ASSERT_OK(rtc_sfu_host_new(&a, lp, host_cb, NULL));
    ASSERT_OK(rtc_sfu_host_new(&b, lp, host_cb, NULL));
    static end pub, sub;
    memset(&pub, 0, sizeof pub); memset(&sub, 0, sizeof sub);
    memset(removed, 0, sizeof removed);
    rtc_sfu_producer *pa, *pb;
    publisher_into(&pub, a, 1, &pa);
    pipe_out(a, pa, 2, NULL, b, 3, &pb);
    rtc_sfu_consumer *cb = pipe_out(b, pb, 4, &sub, NULL, 0, NULL);
    RUN_UNTIL(pub.plis >= 1);                        /* b's consumer's request, through a */
    send_frame(&pub, 20, true, -1);                  /* 60..62 */
    send_frame(&pub, 21, false, 64);                 /* 63, 65 */
    RUN_UNTIL(sub.rtp == 5);
    for (int i = 0; i < sub.rtp; i++) ASSERT_EQ(sub.fill[i], (uint8_t)(i < 4 ? 60 + i : 65));
    /* Neither host has 64: b asks a, a asks the publisher. */
    nack_at(&sub, (uint16_t)(out_seq(&sub, 63) + 1));
    RUN_UNTIL(pub.nnacked >= 1);
    ASSERT_EQ(pub.nacked[0], 64);
    send_vp8(&pub, 64, false, false, false, 64);
    RUN_UNTIL(count_fill(&sub, 64) == 1);
    /* b has 61: b answers it alone. */
    int nacks = pub.nacks;
    nack_at(&sub, (uint16_t)out_seq(&sub, 61));
    RUN_UNTIL(count_fill(&sub, 61) == 2);
    rtc_sfu_consumer_stats cs;
    rtc_sfu_consumer_get_stats(cb, &cs);
    ASSERT_EQ(cs.nack_answered, 1);
    ASSERT_EQ(pub.nacks, nacks);
    /* Host a closes: its pipe to b closes, and b's piped producer is removed. */
    rtc_sfu_host_close(a);
    RUN_UNTIL(removed[3] == 1);
    rtc_media_pipe_close(pub.p);
    rtc_media_pipe_close(sub.p);
    rtc_sfu_host_close(b);
    rtc_loop_run(lp, UV_RUN_NOWAIT);
}
/* }====== */

static void keep_cb(uv_timer_t *t) { (void)t; }

int main(void)
{
    RUN(test_spsc_across_threads);
    RUN(test_pipe_names_and_bounds);
    ASSERT_OK(rtc_loop_new(&lp));
    pool = rtc_loop_pool(lp);
    /* Pipe watches and router timers do not keep a loop alive (connections do): this
     * timer stands in for them, so UV_RUN_NOWAIT polls. */
    uv_timer_t keep;
    uv_timer_init(rtc_loop_uv(lp), &keep);
    ASSERT_OK(uv_timer_start(&keep, keep_cb, 1000000, 0));
    RUN(test_feedback_across_one_host);
    RUN(test_two_hosts_in_a_chain);
    uv_close((uv_handle_t *)&keep, NULL);
    rtc_loop_run(lp, UV_RUN_NOWAIT);
    rtc_loop_free(lp);
    return 0;
}
