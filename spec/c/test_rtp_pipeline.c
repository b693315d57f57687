/* The RTP pieces together, as a peer connection will wire them: a VP8 sender
 * (packetizer, RTP write with a transport-wide seq, history, SR) and a receiver
 * (RTX unwrap, NACK generator, jitter buffer, TWCC receiver, RR) over a virtual
 * network with loss, delay and reordering in both directions. Every frame must come
 * out whole and in order, and RTT from SR/RR must match the network. */
#include "rtc_test.h"
#include "vnet.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "rtp/jitter_buffer.h"
#include "rtp/nack.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_stats.h"
#include "rtp/rtx.h"
#include "rtp/twcc.h"

enum { NFRAMES = 600, PT = 96, RTX_PT = 97, SSRC = 0x1000, RTX_SSRC = 0x2000, RECV_SSRC = 0x3000, TWCC_ID = 5 };
#define WALL_OFFSET (1700000000LL * 1000000)   /* wall clock = virtual clock + this */

typedef struct sender {
    rtc_rtp_history *hist;
    rtc_rtp_send_stats stats;
    uint16_t seq, rtx_seq, tw_seq;
    int64_t rtt;
    size_t twcc_reported, twcc_received, rtx_sent;
} sender;

typedef struct receiver {
    rtc_nack_generator *nack;
    rtc_jitter_buffer *jb;
    rtc_twcc_receiver *twcc;
    rtc_rtp_recv_stats stats;
    int next_frame, keyframe_events;
} receiver;

static vnet *net;
static rtc_addr A, B;                           /* sender, receiver */
static uint8_t *frames[NFRAMES];
static size_t frame_len[NFRAMES];

static void send_media(sender *s, int fi, rtc_time now)
{
    rtc_packetizer pk;
    rtc_pack_params pp = { .picture_id = fi };
    ASSERT_EQ(rtc_packetizer_init(&pk, RTC_CODEC_VP8, frames[fi], frame_len[fi], 1100, &pp), 0);
    for (;;) {
        rtc_buf *b = rtc_buf_alloc(NULL, 1300);
        uint8_t tw[2];
        rtc_ext_put_twcc_seq(tw, s->tw_seq++);
        rtc_rtp_header h = { .pt = PT, .seq = s->seq, .ts = (uint32_t)fi * 3000, .ssrc = SSRC };
        rtc_rtp_add_ext(&h, TWCC_ID, tw, 2);
        size_t hl = rtc_rtp_header_size(&h);
        bool last;
        int n = rtc_packetizer_next(&pk, b->data + hl, b->cap - hl, &last);
        if (n == 0) { rtc_buf_unref(b); s->tw_seq--; break; }
        ASSERT(n > 0);
        h.marker = last;
        ASSERT_EQ(rtc_rtp_write_header(b->data, b->cap, &h), (int)hl);
        b->len = hl + (size_t)n;
        rtc_rtp_history_put(s->hist, s->seq, b, now);
        rtc_rtp_send_stats_on_packet(&s->stats, h.ts, (size_t)n, now);
        vnet_send(net, &A, &B, b->data, b->len, now);
        rtc_buf_unref(b);
        s->seq++;
    }
}

static void sender_rtcp(sender *s, const uint8_t *p, size_t len, rtc_time now)
{
    rtc_rtcp_view v[8];
    int n = rtc_rtcp_parse_compound(p, len, v, 8);
    ASSERT(n > 0);
    for (int i = 0; i < n; i++) {
        if (v[i].pt == RTC_RTCP_RR) {
            rtc_rtcp_rr rr;
            ASSERT_EQ(rtc_rtcp_read_rr(&v[i], &rr), 0);
            ASSERT_EQ(rr.ssrc, RECV_SSRC);
            for (int k = 0; k < rr.rb_count; k++) {
                int64_t rtt = rtc_rtp_send_stats_rtt(&s->stats, &rr.rb[k], now);
                if (rtt >= 0) s->rtt = rtt;
            }
        } else if (v[i].pt == RTC_RTCP_RTPFB && v[i].count == RTC_RTCP_FMT_NACK) {
            uint16_t seqs[256];
            int k = rtc_rtcp_read_nack(&v[i], seqs, 256);
            for (int j = 0; j < k; j++) {
                rtc_buf *b = rtc_rtp_history_get(s->hist, seqs[j], now, RTC_MS(20));
                if (!b) continue;
                uint8_t out[1500];
                int w = rtc_rtx_wrap(b->data, b->len, RTX_PT, RTX_SSRC, s->rtx_seq++, out, sizeof out);
                ASSERT(w > 0);
                /* A retransmission is a new packet on the transport: give it its own seq. */
                uint8_t tw[2];
                rtc_ext_put_twcc_seq(tw, s->tw_seq++);
                ASSERT_EQ(rtc_rtp_rewrite_ext(out, (size_t)w, TWCC_ID, tw, 2), 0);
                vnet_send(net, &A, &B, out, (size_t)w, now);
                s->rtx_sent++;
            }
        } else if (v[i].pt == RTC_RTCP_RTPFB && v[i].count == RTC_RTCP_FMT_TWCC) {
            static rtc_twcc_status st[4096];
            rtc_twcc_feedback fb;
            int k = rtc_twcc_parse(&v[i], &fb, st, 4096);
            ASSERT(k > 0);
            ASSERT_EQ(fb.sender_ssrc, RECV_SSRC);
            for (int j = 0; j < k; j++) {
                ASSERT(rtc_seq_newer(s->tw_seq, st[j].seq));   /* only seqs we sent */
                s->twcc_received += st[j].received;
            }
            s->twcc_reported += (size_t)k;
        }
    }
}

static void receiver_media(receiver *r, const uint8_t *p, size_t len, rtc_time now)
{
    rtc_rtp_packet pk;
    ASSERT_EQ(rtc_rtp_parse(&pk, p, len), 0);
    uint16_t tw;
    ASSERT_EQ(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&pk.h, TWCC_ID), &tw), 0);
    rtc_twcc_receiver_handle_packet(r->twcc, tw, now);
    rtc_buf *b;
    if (pk.h.ssrc == RTX_SSRC) {
        b = rtc_buf_alloc(NULL, len);
        int n = rtc_rtx_unwrap(p, len, PT, SSRC, b->data, b->cap);
        ASSERT(n > 0);
        b->len = (size_t)n;
        ASSERT_EQ(rtc_rtp_parse(&pk, b->data, b->len), 0);
    } else {
        b = rtc_buf_from(p, len);
    }
    ASSERT_EQ(pk.h.ssrc, SSRC);
    rtc_rtp_recv_stats_on_packet(&r->stats, pk.h.seq, pk.h.ts, pk.payload_len, now);
    rtc_nack_generator_handle_packet(r->nack, pk.h.seq, now);
    rtc_jitter_buffer_handle_packet(r->jb, b, now);
    rtc_buf_unref(b);
}

static void receiver_drain(receiver *r, rtc_time now)
{
    uint8_t out[1500];
    uint16_t seqs[64];
    size_t k;
    while ((k = rtc_nack_generator_poll_nack(r->nack, seqs, 64)) > 0) {
        int n = rtc_rtcp_write_nack(out, sizeof out, RECV_SSRC, SSRC, seqs, k);
        ASSERT(n > 0);
        vnet_send(net, &B, &A, out, (size_t)n, now);
    }
    int n;
    while ((n = rtc_twcc_receiver_poll_transmit(r->twcc, out, sizeof out)) > 0)
        vnet_send(net, &B, &A, out, (size_t)n, now);
    rtc_nack_event ne;
    while (rtc_nack_generator_poll_event(r->nack, &ne)) r->keyframe_events++;
    rtc_jb_event je;
    while (rtc_jitter_buffer_poll_event(r->jb, &je)) r->keyframe_events++;
    rtc_jb_frame f;
    while (rtc_jitter_buffer_poll_frame(r->jb, &f)) {
        ASSERT(r->next_frame < NFRAMES);
        ASSERT_EQ(f.ts, (uint32_t)r->next_frame * 3000);
        ASSERT_EQ(f.data->len, frame_len[r->next_frame]);
        ASSERT_MEMEQ(f.data->data, frames[r->next_frame], f.data->len);
        r->next_frame++;
        rtc_buf_unref(f.data);
    }
}

static void test_pipeline(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 77);
    for (int i = 0; i < NFRAMES; i++) {
        frame_len[i] = i % 100 == 0 ? 30000 : 300 + rtc_rng_below(&rng, 8000);
        frames[i] = malloc(frame_len[i]);
        rtc_rng_bytes(&rng, frames[i], frame_len[i]);
        frames[i][0] = (uint8_t)(i % 100 == 0 ? frames[i][0] & ~1 : frames[i][0] | 1);
    }
    net = vnet_new(4242);
    vnet_set_link(net, (vnet_link){ .loss = 0.05, .delay = RTC_MS(30), .jitter = RTC_MS(10) });
    rtc_addr_parse(&A, "10.0.0.1:1000");
    rtc_addr_parse(&B, "10.0.0.2:2000");

    sender s = {0};
    ASSERT_EQ(rtc_rtp_history_new(&s.hist, 2048), 0);
    rtc_rtp_send_stats_init(&s.stats, SSRC, 90000);
    s.seq = 65000; s.tw_seq = 65300;                     /* both wrap during the run */
    s.rtt = -1;
    receiver r = {0};
    /* Jitter reorders packets by up to 10 ms: wait that long before the first NACK. */
    ASSERT_EQ(rtc_nack_generator_new(&r.nack, &(rtc_nack_config){ .reorder_delay = RTC_MS(12) }, 0), 0);
    rtc_jitter_buffer_config jc = { .codec = RTC_CODEC_VP8, .latency = RTC_SEC(1), .wait_keyframe = true };
    ASSERT_EQ(rtc_jitter_buffer_new(&r.jb, &jc, 0), 0);
    rtc_twcc_receiver_config tc = { .sender_ssrc = RECV_SSRC, .media_ssrc = SSRC };
    ASSERT_EQ(rtc_twcc_receiver_new(&r.twcc, &tc, 0), 0);
    rtc_rtp_recv_stats_init(&r.stats, SSRC, 90000);

    rtc_time now = 0, next_frame = 0, next_sr = RTC_MS(250), next_rr = RTC_MS(500);
    int sent_frames = 0;
    while (now < RTC_SEC(26)) {
        if (sent_frames < NFRAMES && now >= next_frame) {
            send_media(&s, sent_frames++, now);
            next_frame += RTC_MS(33);
        }
        if (now >= next_sr) {                              /* sender report */
            uint8_t out[64];
            rtc_rtcp_sr sr;
            rtc_rtp_send_stats_sr(&s.stats, now, now + WALL_OFFSET, &sr);
            int n = rtc_rtcp_write_sr(out, sizeof out, &sr);
            vnet_send(net, &A, &B, out, (size_t)n, now);
            next_sr += RTC_MS(500);
        }
        if (now >= next_rr) {                              /* receiver report + CNAME */
            uint8_t out[128];
            rtc_rtcp_rr rr = { .ssrc = RECV_SSRC, .rb_count = 1 };
            rtc_rtp_recv_stats_report(&r.stats, now, &rr.rb[0]);
            int n = rtc_rtcp_write_rr(out, sizeof out, &rr);
            rtc_rtcp_sdes_chunk c = { RECV_SSRC, RTC_STR("receiver") };
            n += rtc_rtcp_write_sdes(out + n, sizeof out - (size_t)n, &c, 1);
            vnet_send(net, &B, &A, out, (size_t)n, now);
            next_rr += RTC_MS(500);
        }
        vnet_packet vp;
        while (vnet_poll(net, now, &vp)) {
            if (rtc_addr_eq(&vp.to, &A)) {
                sender_rtcp(&s, vp.data, vp.len, now);
            } else if (rtc_rtcp_is_rtcp(vp.data, vp.len)) {
                rtc_rtcp_view v[4];
                ASSERT_EQ(rtc_rtcp_parse_compound(vp.data, vp.len, v, 4), 1);
                rtc_rtcp_sr sr;
                ASSERT_EQ(rtc_rtcp_read_sr(&v[0], &sr), 0);
                rtc_rtp_recv_stats_on_sr(&r.stats, sr.ntp, now);
            } else {
                receiver_media(&r, vp.data, vp.len, now);
            }
        }
        if (rtc_nack_generator_poll_timeout(r.nack) <= now) rtc_nack_generator_handle_timeout(r.nack, now);
        if (rtc_jitter_buffer_poll_timeout(r.jb) <= now) rtc_jitter_buffer_handle_timeout(r.jb, now);
        if (rtc_twcc_receiver_poll_timeout(r.twcc) <= now) rtc_twcc_receiver_handle_timeout(r.twcc, now);
        receiver_drain(&r, now);
        rtc_time t = vnet_next_delivery(net);
        t = rtc_time_min(t, rtc_nack_generator_poll_timeout(r.nack));
        t = rtc_time_min(t, rtc_jitter_buffer_poll_timeout(r.jb));
        t = rtc_time_min(t, rtc_twcc_receiver_poll_timeout(r.twcc));
        t = rtc_time_min(t, rtc_time_min(next_sr, next_rr));
        if (sent_frames < NFRAMES) t = rtc_time_min(t, next_frame);
        now = t > now ? t : now + 1;
    }
    ASSERT_EQ(r.next_frame, NFRAMES);                      /* all of them, whole, in order */
    ASSERT_EQ(r.keyframe_events, 0);
    ASSERT(vnet_dropped(net) > 100);
    ASSERT(s.rtx_sent > 50);
    ASSERT(s.rtx_sent < vnet_dropped(net) * 2);            /* repairs, not a flood */
    ASSERT(s.rtt >= RTC_MS(60) && s.rtt <= RTC_MS(85));    /* 2 x 30 ms + up to 2 x 10 ms jitter */
    ASSERT(s.twcc_reported > 0);
    ASSERT(s.twcc_received <= s.twcc_reported);
    ASSERT(s.twcc_received > (size_t)(uint16_t)(s.tw_seq - 65300) * 8 / 10);
    rtc_nack_stats ns;
    rtc_nack_generator_get_stats(r.nack, &ns);
    ASSERT(ns.recovered > 50); ASSERT_EQ(ns.given_up, 0);
    rtc_jb_stats js;
    rtc_jitter_buffer_get_stats(r.jb, &js);
    ASSERT_EQ(js.frames_out, NFRAMES); ASSERT_EQ(js.frames_dropped, 0);
    rtc_rtcp_report_block rb;
    rtc_rtp_recv_stats_report(&r.stats, now, &rb);
    fprintf(stderr, "dropped %zu sent %zu rtx %zu nacked %llu recovered %llu reordered %llu lost %d rtt %lld\n",
            vnet_dropped(net), vnet_sent(net), s.rtx_sent, (unsigned long long)ns.nacked,
            (unsigned long long)ns.recovered, (unsigned long long)ns.reordered, rb.cumulative_lost, (long long)s.rtt);
    ASSERT_EQ(rb.cumulative_lost, 0);                      /* retransmissions filled every hole */
    ASSERT(rb.jitter > 0);

    rtc_twcc_receiver_free(r.twcc);
    rtc_jitter_buffer_free(r.jb);
    rtc_nack_generator_free(r.nack);
    rtc_rtp_history_free(s.hist);
    vnet_free(net);
    for (int i = 0; i < NFRAMES; i++) free(frames[i]);
}

int main(void)
{
    RUN(test_pipeline);
    return 0;
}
