/* rtp/rtp_sender + rtp/rtp_receiver: two stream machines over a lossy virtual network.
 * Frames arrive whole and in order with NACK/RTX repairing loss; an outage that
 * cannot be repaired ends in a PLI, a keyframe and recovery; SR/RR give the sender an
 * RTT; FIR, REMB and BYE reach the right side; transmit buffers may be scribbled on
 * (as SRTP does in place) without corrupting retransmissions. */
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"

enum { PT = 96, RTX_PT = 97, SSRC = 0xAAA, RTX_SSRC = 0xBBB, RECV_SSRC = 0xCCC, NF = 400 };

static vnet *net;
static rtc_addr A, B;
static uint8_t *frames[NF];
static size_t flen[NF];
static bool fkey[NF];
static int got[NF];

static void make_frame(rtc_rng *rng, int i, bool key)
{
    flen[i] = 200 + rtc_rng_below(rng, key ? 20000 : 5000);
    frames[i] = malloc(flen[i]);
    rtc_rng_bytes(rng, frames[i], flen[i]);
    frames[i][0] = (uint8_t)(key ? frames[i][0] & ~1 : frames[i][0] | 1);
    fkey[i] = key;
}

typedef struct peers {
    rtc_rtp_sender *s;
    rtc_rtp_receiver *r;
    int keyframe_requests, rtt_events, remb_events, recv_kf_events, byes;
    rtc_time rtt;
    uint64_t remb;
    int last_frame;
    bool outage;
} peers;

static void pump(peers *p, rtc_time now)
{
    rtc_rtp_out o;
    while (rtc_rtp_sender_poll_transmit(p->s, &o)) {
        ASSERT(o.buf->len >= 12);
        if (!p->outage) vnet_send(net, &A, &B, o.buf->data, o.buf->len, now);
        memset(o.buf->data, 0xEE, o.buf->len);          /* like SRTP protecting in place */
        rtc_buf_unref(o.buf);
    }
    rtc_rtp_sender_event se;
    while (rtc_rtp_sender_poll_event(p->s, &se)) {
        if (se.type == RTC_RTP_SEND_EV_KEYFRAME_REQUESTED) p->keyframe_requests++;
        if (se.type == RTC_RTP_SEND_EV_RTT) { p->rtt_events++; p->rtt = se.u.rtt; }
        if (se.type == RTC_RTP_SEND_EV_REMB) { p->remb_events++; p->remb = se.u.bitrate; }
    }
    uint8_t out[1500];
    int n;
    while ((n = rtc_rtp_receiver_poll_rtcp(p->r, out, sizeof out)) > 0)
        if (!p->outage) vnet_send(net, &B, &A, out, (size_t)n, now);
    ASSERT(n == 0);
    rtc_jb_frame f;
    while (rtc_rtp_receiver_poll_frame(p->r, &f)) {
        int i = (int)(f.ts / 3000);
        ASSERT(i > p->last_frame && i < NF);           /* in order, never twice */
        ASSERT_EQ(f.data->len, flen[i]);
        ASSERT_MEMEQ(f.data->data, frames[i], flen[i]);
        ASSERT_EQ(f.keyframe, fkey[i]);
        got[i] = 1;
        p->last_frame = i;
        rtc_buf_unref(f.data);
    }
    rtc_rtp_receiver_event re;
    while (rtc_rtp_receiver_poll_event(p->r, &re)) {
        if (re.type == RTC_RTP_RECV_EV_KEYFRAME_REQUESTED) p->recv_kf_events++;
        if (re.type == RTC_RTP_RECV_EV_BYE) p->byes++;
    }
}

static void deliver(peers *p, rtc_time now)
{
    vnet_packet vp;
    while (vnet_poll(net, now, &vp)) {
        rtc_rtcp_view v[8];
        if (rtc_rtcp_is_rtcp(vp.data, vp.len)) {
            int n = rtc_rtcp_parse_compound(vp.data, vp.len, v, 8);
            ASSERT(n > 0);
            for (int i = 0; i < n; i++) {
                if (rtc_addr_eq(&vp.to, &A)) rtc_rtp_sender_handle_rtcp(p->s, &v[i], now);
                else rtc_rtp_receiver_handle_rtcp(p->r, &v[i], now);
            }
        } else {
            ASSERT(rtc_addr_eq(&vp.to, &B));
            rtc_rtp_packet rp;
            ASSERT_EQ(rtc_rtp_parse(&rp, vp.data, vp.len), 0);
            rtc_str mid;
            ASSERT_EQ(rtc_ext_read_sdes(rtc_rtp_find_ext(&rp.h, 1), &mid), 0);   /* every packet names its MID */
            ASSERT(rtc_str_eq(mid, RTC_STR("v0")));
            rtc_buf *b = rtc_buf_from(vp.data, vp.len);
            rtc_rtp_receiver_handle_rtp(p->r, b, now);
            rtc_buf_unref(b);
        }
    }
}

static void test_session(void)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 9);
    net = vnet_new(31);
    vnet_set_link(net, (vnet_link){ .loss = 0.04, .delay = RTC_MS(25), .jitter = RTC_MS(6) });
    rtc_addr_parse(&A, "10.1.0.1:1");
    rtc_addr_parse(&B, "10.1.0.2:2");
    rtc_pool *pool = rtc_pool_new(256);
    peers p = { .last_frame = -1, .rtt = -1 };
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = PT, .ssrc = SSRC, .rtx_pt = RTX_PT,
                                 .rtx_ssrc = RTX_SSRC, .initial_seq = 65200, .initial_rtx_seq = 7,
                                 .mid_id = 1, .mid = "v0", .abs_send_time_id = 2, .twcc_id = 3,
                                 .cname = "sender", .unix_offset_us = 1700000000LL * 1000000, .pool = pool };
    ASSERT_EQ(rtc_rtp_sender_new(&p.s, &sc, 0), 0);
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_VP8, .pt = PT, .ssrc = SSRC, .rtx_pt = RTX_PT,
                                   .rtx_ssrc = RTX_SSRC, .local_ssrc = RECV_SSRC, .cname = "receiver",
                                   .nack = true, .pli = true, .nack_cfg = { .reorder_delay = RTC_MS(8) },
                                   .latency = RTC_MS(600), .wait_keyframe = true };
    ASSERT_EQ(rtc_rtp_receiver_new(&p.r, &rc, 0), 0);
    rtc_time now = 0, next_frame = 0;
    int sent = 0, outage_frames = 0;
    bool force_key = false;
    while (now < RTC_SEC(20)) {
        if (sent < NF && now >= next_frame) {
            /* An outage of 1.2 s in the middle: the frames in it are lost for good. */
            p.outage = sent >= 150 && sent < 186;
            outage_frames += p.outage;
            bool key = sent == 0 || force_key;
            force_key = false;
            make_frame(&rng, sent, key);
            rtc_pack_params pp = { .picture_id = sent, .keyframe = key };
            ASSERT(rtc_rtp_sender_send_frame(p.s, frames[sent], flen[sent], (uint32_t)sent * 3000, &pp, now) > 0);
            sent++;
            next_frame += RTC_MS(33);
        }
        deliver(&p, now);
        if (rtc_rtp_sender_poll_timeout(p.s) <= now) rtc_rtp_sender_handle_timeout(p.s, now);
        if (rtc_rtp_receiver_poll_timeout(p.r) <= now) rtc_rtp_receiver_handle_timeout(p.r, now);
        int before = p.keyframe_requests;
        pump(&p, now);
        if (p.keyframe_requests > before) force_key = true;   /* the encoder answers a PLI */
        if (p.rtt > 0) rtc_rtp_receiver_handle_rtt(p.r, p.rtt);
        rtc_time t = rtc_time_min(vnet_next_delivery(net), rtc_rtp_sender_poll_timeout(p.s));
        t = rtc_time_min(t, rtc_rtp_receiver_poll_timeout(p.r));
        if (sent < NF) t = rtc_time_min(t, next_frame);
        now = t > now ? t : now + 1;
    }
    /* Every frame well before the outage arrived (the last ones may lose packets whose
     * repair the outage swallows); after it, every frame from the keyframe sent in
     * answer to the PLI on. */
    for (int i = 0; i < 140; i++) if (!got[i]) RTC_TEST_FAIL("frame %d missing", i);
    int key_after = -1;
    for (int i = 186; i < NF; i++) if (fkey[i]) { key_after = i; break; }
    ASSERT(key_after > 0 && key_after < 215);          /* PLIs repeat until one gets through */
    for (int i = key_after; i < NF; i++) if (!got[i]) RTC_TEST_FAIL("frame %d missing after recovery", i);
    for (int i = 150; i < 186; i++) ASSERT(!got[i]);
    ASSERT(p.keyframe_requests >= 1 && p.keyframe_requests <= 3);   /* rate-limited PLIs */
    ASSERT_LE(p.keyframe_requests, p.recv_kf_events);             /* a PLI may be lost too */
    ASSERT(p.rtt_events > 10);
    ASSERT(p.rtt >= RTC_MS(50) && p.rtt <= RTC_MS(64));
    rtc_rtp_sender_stats ss;
    rtc_rtp_receiver_stats rs;
    rtc_rtp_sender_get_stats(p.s, &ss);
    rtc_rtp_receiver_get_stats(p.r, &rs);
    ASSERT(ss.rtx_packets > 20); ASSERT(rs.rtx_packets > 10);
    ASSERT(ss.srs_sent >= 18); ASSERT(rs.rrs_sent >= 18);
    ASSERT(rs.plis_sent >= 1); ASSERT_EQ(p.recv_kf_events, (int)rs.plis_sent);
    ASSERT_EQ(ss.plis_received, (uint64_t)p.keyframe_requests);
    int got_count = 0;
    for (int i = 0; i < NF; i++) got_count += got[i];
    ASSERT_EQ(rs.jb.frames_out, (uint64_t)got_count);
    ASSERT(got_count >= 140 + (NF - key_after));
    ASSERT_EQ(ss.frames, NF);
    (void)outage_frames;

    /* FIR and REMB reach the sender; BYE reaches the receiver. */
    uint8_t buf[128];
    rtc_rtcp_view v[2];
    rtc_rtcp_fir_entry fe = { SSRC, 1 };
    int n = rtc_rtcp_write_fir(buf, sizeof buf, RECV_SSRC, &fe, 1);
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, (size_t)n, v, 2), 1);
    ASSERT_EQ(rtc_rtp_sender_handle_rtcp(p.s, &v[0], now), 0);
    uint32_t ss1 = SSRC;
    n = rtc_rtcp_write_remb(buf, sizeof buf, RECV_SSRC, 1500000, &ss1, 1);
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, (size_t)n, v, 2), 1);
    ASSERT_EQ(rtc_rtp_sender_handle_rtcp(p.s, &v[0], now), 0);
    n = rtc_rtcp_write_bye(buf, sizeof buf, &ss1, 1, (rtc_str){ NULL, 0 });
    ASSERT_EQ(rtc_rtcp_parse_compound(buf, (size_t)n, v, 2), 1);
    ASSERT_EQ(rtc_rtp_receiver_handle_rtcp(p.r, &v[0], now), 0);
    int kr = p.keyframe_requests;
    pump(&p, now);
    ASSERT_EQ(p.keyframe_requests, kr + 1);
    ASSERT_EQ(p.remb_events, 1);
    ASSERT(p.remb <= 1500000 && p.remb > 1490000);
    ASSERT_EQ(p.byes, 1);
    /* Packets of other streams and RTX padding probes are ignored. */
    rtc_rtp_header oh = { .pt = PT, .seq = 1, .ssrc = 0x999 };
    rtc_buf *ob = rtc_buf_alloc(NULL, 100);
    ob->len = (size_t)rtc_rtp_write(ob->data, ob->cap, &oh, (const uint8_t *)"\x10", 1, 0);
    ASSERT_EQ(rtc_rtp_receiver_handle_rtp(p.r, ob, now), RTC_EIGNORED);
    oh.ssrc = RTX_SSRC; oh.pt = RTX_PT;
    ob->len = (size_t)rtc_rtp_write(ob->data, ob->cap, &oh, NULL, 0, 40);
    ASSERT_EQ(rtc_rtp_receiver_handle_rtp(p.r, ob, now), RTC_EIGNORED);
    ob->len = 5;
    ASSERT_EQ(rtc_rtp_receiver_handle_rtp(p.r, ob, now), RTC_ETRUNC);
    rtc_buf_unref(ob);

    rtc_rtp_sender_free(p.s);
    rtc_rtp_receiver_free(p.r);
    rtc_pool_free(pool);
    vnet_free(net);
    for (int i = 0; i < NF; i++) free(frames[i]);
}

/* Audio: Opus packets up to the largest size go through unsplit, without markers,
 * and come out as they went in. */
static void test_audio(void)
{
    rtc_rtp_sender *snd;
    rtc_rtp_receiver *rcv;
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 5, .mid_id = 1, .mid = "a0" };
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 5, .local_ssrc = 6, .latency = RTC_MS(60) };
    ASSERT_EQ(rtc_rtp_sender_new(&snd, &sc, 0), 0);
    ASSERT_EQ(rtc_rtp_receiver_new(&rcv, &rc, 0), 0);
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 4);
    static uint8_t pk[100][1275];
    size_t len[100];
    int out = 0;
    for (int i = 0; i < 100; i++) {
        rtc_time now = (rtc_time)i * RTC_MS(20);
        len[i] = i == 50 ? 1275 : 1 + rtc_rng_below(&rng, 400);
        rtc_rng_bytes(&rng, pk[i], len[i]);
        ASSERT_EQ(rtc_rtp_sender_send_frame(snd, pk[i], len[i], (uint32_t)i * 960, NULL, now), 1);
        rtc_rtp_out o;
        while (rtc_rtp_sender_poll_transmit(snd, &o)) {
            rtc_rtp_packet p;
            ASSERT_EQ(rtc_rtp_parse(&p, o.buf->data, o.buf->len), 0);
            ASSERT(!p.h.marker);
            if (!o.rtcp) rtc_rtp_receiver_handle_rtp(rcv, o.buf, now);
            rtc_buf_unref(o.buf);
        }
        rtc_rtp_receiver_handle_timeout(rcv, now);
        rtc_jb_frame f;
        while (rtc_rtp_receiver_poll_frame(rcv, &f)) {
            ASSERT_EQ(f.ts, (uint32_t)out * 960);
            ASSERT_EQ(f.data->len, len[out]);
            ASSERT_MEMEQ(f.data->data, pk[out], len[out]);
            out++;
            rtc_buf_unref(f.data);
        }
    }
    ASSERT_EQ(out, 100);
    rtc_rtp_receiver_stats rs;
    rtc_rtp_receiver_get_stats(rcv, &rs);
    ASSERT_EQ(rs.packets, 100); ASSERT_EQ(rs.plis_sent, 0); ASSERT_EQ(rs.lost, 0);
    rtc_rtp_sender_free(snd);
    rtc_rtp_receiver_free(rcv);
}

/* Two senders share one transport-wide counter: each new packet takes the next value,
 * in order across both. A NACK answered without RTX gives the first packet back byte
 * for byte (same transport-wide seq: SRTP then repeats its ciphertext); with RTX the
 * repair is a new packet and takes a new value. */
static void test_twcc_counter_and_resends(void)
{
    uint16_t counter = 65534;                    /* wraps within the test */
    rtc_rtp_sender *plain, *rtx;
    rtc_rtp_sender_config a = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0x1111, .initial_seq = 100,
                                .twcc_id = 3, .twcc_seq = &counter };
    rtc_rtp_sender_config b = { .codec = RTC_CODEC_VP8, .pt = PT, .ssrc = 0x2222, .rtx_pt = RTX_PT,
                                .rtx_ssrc = 0x3333, .initial_seq = 500, .twcc_id = 3, .twcc_seq = &counter };
    ASSERT_OK(rtc_rtp_sender_new(&plain, &a, 0));
    ASSERT_OK(rtc_rtp_sender_new(&rtx, &b, 0));
    uint8_t frame[300];
    memset(frame, 0x5a, sizeof frame);
    frame[0] = 0x78;
    static uint8_t first[2][1500];
    size_t first_len[2] = { 0, 0 };
    uint16_t want = 65534;
    for (int i = 0; i < 4; i++) {
        rtc_rtp_sender *s = i % 2 ? rtx : plain;
        if (i % 2) frame[0] = 0x10;              /* a VP8 keyframe tag */
        else frame[0] = 0x78;
        ASSERT(rtc_rtp_sender_send_frame(s, frame, sizeof frame, (uint32_t)i * 960, NULL, RTC_MS(20 * i)) == 1);
        rtc_rtp_out o;
        ASSERT(rtc_rtp_sender_poll_transmit(s, &o) > 0);
        rtc_rtp_packet p;
        ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
        uint16_t tw;
        ASSERT_OK(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 3), &tw));
        ASSERT_EQ(tw, want);
        want++;
        if (i < 2) { memcpy(first[i], o.buf->data, o.buf->len); first_len[i] = o.buf->len; }
        rtc_buf_unref(o.buf);
    }
    uint8_t buf[64];
    rtc_rtcp_view v[1];
    struct { rtc_rtp_sender *s; uint32_t ssrc; uint16_t seq; } nk[2] = { { plain, 0x1111, 100 }, { rtx, 0x2222, 500 } };
    for (int k = 0; k < 2; k++) {
        int n = rtc_rtcp_write_nack(buf, sizeof buf, RECV_SSRC, nk[k].ssrc, &nk[k].seq, 1);
        ASSERT_EQ(rtc_rtcp_parse_compound(buf, (size_t)n, v, 1), 1);
        ASSERT_OK(rtc_rtp_sender_handle_rtcp(nk[k].s, &v[0], RTC_SEC(1)));
        rtc_rtp_out o;
        ASSERT(rtc_rtp_sender_poll_transmit(nk[k].s, &o) > 0);
        if (k == 0) {
            ASSERT_EQ(o.buf->len, first_len[0]);
            ASSERT(memcmp(o.buf->data, first[0], first_len[0]) == 0);
        } else {
            rtc_rtp_packet p;
            ASSERT_OK(rtc_rtp_parse(&p, o.buf->data, o.buf->len));
            ASSERT_EQ(p.h.ssrc, 0x3333u);
            uint16_t tw;
            ASSERT_OK(rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 3), &tw));
            ASSERT_EQ(tw, want);
            want++;
        }
        rtc_buf_unref(o.buf);
    }
    ASSERT_EQ(counter, want);
    rtc_rtp_sender_free(plain);
    rtc_rtp_sender_free(rtx);
}

int main(void)
{
    RUN(test_session);
    RUN(test_audio);
    RUN(test_twcc_counter_and_resends);
    return 0;
}
