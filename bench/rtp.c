/* RTP hot-path benchmark: prints packets/s for the receive path (parse, extension
 * lookup, NACK tracking, depacketizer parse, jitter buffer assembly), the send path
 * (packetize + RTP write + history), RTX wrap, and TWCC feedback generation.
 * Figures only; nothing asserts on time. */
#include "codec/codec.h"
#include "core/rtc_buf.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "rtp/jitter_buffer.h"
#include "rtp/nack.h"
#include "rtp/rtp_receiver.h"
#include "rtp/rtp_sender.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "rtp/rtx.h"
#include "rtp/twcc.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FRAMES = 3000, FRAME_BYTES = 12000, MTU = 1200 };

/* Heap allocations made through malloc, counted by wrapping glibc's (the RTX receive
 * bench prints them per packet). Not under the sanitizers, which own malloc. */
static uint64_t heap_allocs, heap_bytes;
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t n);
void *malloc(size_t n)
{
    heap_allocs++;
    heap_bytes += n;
    return __libc_malloc(n);
}
#define HEAP_COUNTED 1
#else
#define HEAP_COUNTED 0
#endif

static rtc_buf **pkts;
static size_t npkts;
static volatile uint64_t sink;

static void report(const char *what, size_t n, rtc_time us, size_t bytes)
{
    double s = (double)us / 1e6;
    printf("| %-44s | %12.0f | %9.1f |\n", what, (double)n / s, bytes ? (double)bytes * 8 / s / 1e6 : 0.0);
}

/* Send path: packetize VP8 frames, write RTP headers with two extensions, keep history. */
static void bench_send(rtc_codec_id c, const char *name, bool print)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    uint8_t *frame = malloc(FRAME_BYTES + 64);
    rtc_rng_bytes(&rng, frame, FRAME_BYTES);
    if (c == RTC_CODEC_H264) {                        /* one big NAL: FU-A */
        memcpy(frame, "\0\0\0\1\x65\x88", 6);
        for (size_t i = 6; i < FRAME_BYTES; i++) if (!frame[i]) frame[i] = 1;
    }
    if (c == RTC_CODEC_AV1) { frame[0] = 0x30; }      /* one frame OBU without size field */
    rtc_pool *pool = rtc_pool_new(4096);
    rtc_rtp_history *hist;
    rtc_rtp_history_new(&hist, 4096);
    size_t cap = (size_t)FRAMES * (FRAME_BYTES / (MTU - 100) + 2);
    if (!pkts) pkts = calloc(cap, sizeof *pkts);
    for (size_t i = 0; i < npkts; i++) rtc_buf_unref(pkts[i]);
    npkts = 0;
    uint16_t seq = 0, tw = 0;
    size_t bytes = 0;
    rtc_time t0 = rtc_clock_now();
    for (int f = 0; f < FRAMES; f++) {
        rtc_packetizer pk;
        rtc_pack_params pp = { .picture_id = f, .keyframe = f == 0 };
        rtc_packetizer_init(&pk, c, frame, FRAME_BYTES, MTU - 40, &pp);
        for (;;) {
            rtc_buf *b = rtc_buf_alloc(pool, MTU);
            rtc_rtp_header h = { .pt = 96, .seq = seq, .ts = (uint32_t)f * 3000, .ssrc = 7 };
            uint8_t ast[3], tws[2];
            rtc_ext_put_abs_send_time(ast, (uint32_t)f);
            rtc_ext_put_twcc_seq(tws, tw++);
            rtc_rtp_add_ext(&h, 3, ast, 3);
            rtc_rtp_add_ext(&h, 5, tws, 2);
            int hl = (int)rtc_rtp_header_size(&h);
            bool last;
            int n = rtc_packetizer_next(&pk, b->data + hl, b->cap - (size_t)hl, &last);
            if (n <= 0) { rtc_buf_unref(b); break; }
            h.marker = last;
            rtc_rtp_write_header(b->data, b->cap, &h);
            b->len = (size_t)(hl + n);
            bytes += b->len;
            rtc_rtp_history_put(hist, seq, b, 0);
            pkts[npkts++] = b;
            seq++;
        }
    }
    rtc_time dt = rtc_clock_now() - t0;
    char label[64];
    snprintf(label, sizeof label, "send: packetize+write+history (%s)", name);
    if (print) report(label, npkts, dt, bytes);
    rtc_rtp_history_free(hist);
    rtc_pool_free(pool);
    free(frame);
}

/* Receive path over the packets made by bench_send. */
static void bench_recv(rtc_codec_id c, const char *name)
{
    rtc_nack_generator *g;
    rtc_nack_generator_new(&g, NULL, 0);
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = c, .capacity = 8192 };
    rtc_jitter_buffer_new(&jb, &cfg, 0);
    size_t frames = 0, bytes = 0;
    rtc_time t0 = rtc_clock_now();
    for (size_t i = 0; i < npkts; i++) {
        rtc_time now = (rtc_time)i * 100;
        rtc_rtp_packet p;
        if (rtc_rtp_parse(&p, pkts[i]->data, pkts[i]->len) < 0) abort();
        uint16_t tw;
        rtc_ext_read_twcc_seq(rtc_rtp_find_ext(&p.h, 5), &tw);
        rtc_nack_generator_handle_packet(g, p.h.seq, now);
        uint16_t seqs[16];
        rtc_nack_generator_poll_nack(g, seqs, 16);
        rtc_jitter_buffer_handle_packet(jb, pkts[i], now);
        rtc_jb_frame f;
        while (rtc_jitter_buffer_poll_frame(jb, &f)) { frames++; bytes += f.data->len; rtc_buf_unref(f.data); }
        rtc_jitter_buffer_handle_timeout(jb, now + RTC_SEC(1));
        while (rtc_jitter_buffer_poll_frame(jb, &f)) { frames++; bytes += f.data->len; rtc_buf_unref(f.data); }
    }
    rtc_time dt = rtc_clock_now() - t0;
    char label[64];
    snprintf(label, sizeof label, "recv: parse+nack+jitter+assemble (%s)", name);
    report(label, npkts, dt, bytes);
    sink += frames;
    rtc_jitter_buffer_free(jb);
    rtc_nack_generator_free(g);
}

static void bench_rtx_twcc(void)
{
    uint8_t out[1500];
    size_t bytes = 0;
    rtc_time t0 = rtc_clock_now();
    for (size_t i = 0; i < npkts; i++) {
        int n = rtc_rtx_wrap(pkts[i]->data, pkts[i]->len, 97, 8, (uint16_t)i, out, sizeof out);
        bytes += (size_t)n;
    }
    report("rtx wrap", npkts, rtc_clock_now() - t0, bytes);
    rtc_twcc_receiver *r;
    rtc_twcc_receiver_new(&r, &(rtc_twcc_receiver_config){ .sender_ssrc = 1 }, 0);
    size_t fb = 0;
    t0 = rtc_clock_now();
    for (size_t i = 0; i < npkts; i++) {
        rtc_time now = (rtc_time)i * 100;
        rtc_twcc_receiver_handle_packet(r, (uint16_t)i, now);
        if (rtc_twcc_receiver_poll_timeout(r) <= now) rtc_twcc_receiver_handle_timeout(r, now);
        while (rtc_twcc_receiver_poll_transmit(r, out, sizeof out) > 0) fb++;
    }
    report("twcc: record + feedback every 50 ms", npkts, rtc_clock_now() - t0, 0);
    sink += fb;
    rtc_twcc_receiver_free(r);
}

/* The stream machines end to end: sender (packetize, history, transmit copy) into
 * receiver (stats, NACK, jitter buffer, assembly), VP8. */
static void bench_streams(void)
{
    rtc_pool *pool = rtc_pool_new(1024);
    rtc_rtp_sender *snd;
    rtc_rtp_receiver *rcv;
    rtc_rtp_sender_config sc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 1, .rtx_pt = 97, .rtx_ssrc = 2,
                                 .mid_id = 1, .mid = "0", .twcc_id = 3, .abs_send_time_id = 2, .pool = pool };
    rtc_rtp_receiver_config rc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 1, .rtx_pt = 97, .rtx_ssrc = 2,
                                   .local_ssrc = 3, .nack = true, .pli = true, .wait_keyframe = true };
    rtc_rtp_sender_new(&snd, &sc, 0);
    rtc_rtp_receiver_new(&rcv, &rc, 0);
    uint8_t *frame = calloc(1, FRAME_BYTES);
    size_t packets = 0, bytes = 0;
    rtc_time t0 = rtc_clock_now();
    for (int f = 0; f < FRAMES; f++) {
        rtc_time now = (rtc_time)f * RTC_MS(33);
        frame[0] = f % 100 == 0 ? 0x10 : 0x11;
        rtc_rtp_sender_send_frame(snd, frame, FRAME_BYTES, (uint32_t)f * 3000, NULL, now);
        rtc_rtp_out o;
        while (rtc_rtp_sender_poll_transmit(snd, &o)) {
            if (!o.rtcp) { rtc_rtp_receiver_handle_rtp(rcv, o.buf, now); packets++; }
            rtc_buf_unref(o.buf);
        }
        rtc_rtp_receiver_handle_timeout(rcv, now);
        rtc_jb_frame jf;
        while (rtc_rtp_receiver_poll_frame(rcv, &jf)) { bytes += jf.data->len; rtc_buf_unref(jf.data); }
        uint8_t rtcp[1500];
        while (rtc_rtp_receiver_poll_rtcp(rcv, rtcp, sizeof rtcp) > 0) {}
    }
    report("streams: sender -> receiver (VP8)", packets, rtc_clock_now() - t0, bytes);
    free(frame);
    rtc_rtp_sender_free(snd);
    rtc_rtp_receiver_free(rcv);
    rtc_pool_free(pool);
}

/* NACK tracking per packet with `holes` packets missing at any time (1 s max age,
 * one packet a ms, every (1000 / holes)th lost and never repaired), and the lossless
 * case: handle_packet, one poll_nack per packet (the receiver drains after each
 * packet), handle_timeout when due. */
static void bench_nack(int holes)
{
    rtc_nack_generator *g;
    rtc_nack_generator_new(&g, NULL, 0);
    enum { N = 2000000 };
    size_t nacks = 0;
    int every = holes ? 1000 / holes : 0;
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < N; i++) {
        rtc_time now = (rtc_time)i * RTC_MS(1);
        if (every && i % every == every / 2) continue;
        rtc_nack_generator_handle_packet(g, (uint16_t)i, now);
        if (rtc_nack_generator_poll_timeout(g) <= now) rtc_nack_generator_handle_timeout(g, now);
        uint16_t seqs[128];
        nacks += rtc_nack_generator_poll_nack(g, seqs, 128);
        rtc_nack_event ev;
        while (rtc_nack_generator_poll_event(g, &ev)) {}
    }
    rtc_time dt = rtc_clock_now() - t0;
    rtc_nack_stats st;
    rtc_nack_generator_get_stats(g, &st);
    char label[64];
    snprintf(label, sizeof label, "nack: %d holes in the window", holes);
    report(label, N, dt, 0);
    printf("|   %-42s | %12.1f | %9s |\n", "ns per packet", (double)dt * 1000 / N, "");
    sink += nacks + st.missing;
    rtc_nack_generator_free(g);
}

/* The receive path when every packet is a repair: RTX unwrap, stats, NACK, jitter
 * buffer and frame assembly, Opus (a frame per packet) and VP8 (3-packet frames), with
 * the receiver on a pool as the peer connection runs it. Prints ns per packet and the
 * pool's buffer count at the end (what it had to allocate, reused ever after). */
static void bench_rtx_receive(rtc_codec_id c)
{
    rtc_pool *pool = rtc_pool_new(1024);
    rtc_rtp_receiver_config rc = { .codec = c, .pt = 96, .ssrc = 1, .rtx_pt = 97, .rtx_ssrc = 2, .local_ssrc = 3,
                                   .nack = true, .pool = pool };
    rtc_rtp_receiver *r;
    rtc_rtp_receiver_new(&r, &rc, 0);
    enum { N = 300000 };
    int per_frame = c == RTC_CODEC_OPUS ? 1 : 3;
    size_t plen = c == RTC_CODEC_OPUS ? 120 : 1100, frames = 0;
    uint8_t pay[1100], pkt[1500], rtx[1500];
    memset(pay, 0x42, sizeof pay);
    uint64_t allocs0 = 0, bytes0 = 0;
    rtc_time t0 = rtc_clock_now();
    for (int i = 0; i < N; i++) {
        rtc_time now = (rtc_time)i * RTC_MS(1);
        int k = i % per_frame;
        if (c != RTC_CODEC_OPUS) { pay[0] = k == 0 ? 0x10 : 0x00; pay[1] = 0x01; }
        rtc_rtp_header h = { .pt = 96, .seq = (uint16_t)i, .ts = (uint32_t)(i / per_frame) * 3000u, .ssrc = 1,
                             .marker = k == per_frame - 1 };
        int n = rtc_rtp_write(pkt, sizeof pkt, &h, pay, plen, 0);
        int m = rtc_rtx_wrap(pkt, (size_t)n, 97, 2, (uint16_t)i, rtx, sizeof rtx);
        rtc_buf *b = rtc_buf_alloc(pool, (size_t)m);
        memcpy(b->data, rtx, (size_t)m);
        b->len = (size_t)m;
        rtc_rtp_receiver_handle_rtp(r, b, now);
        rtc_buf_unref(b);
        rtc_jb_frame f;
        while (rtc_rtp_receiver_poll_frame(r, &f)) { frames++; rtc_buf_unref(f.data); }
        if (i == 999) { allocs0 = heap_allocs; bytes0 = heap_bytes; }   /* past the warm-up */
    }
    rtc_time dt = rtc_clock_now() - t0;
    uint64_t na = heap_allocs - allocs0, nb = heap_bytes - bytes0;
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    char label[64];
    snprintf(label, sizeof label, "recv: all RTX, %s (pool buffers %zu)", rtc_codec_name(c), ps.allocated);
    report(label, N, dt, 0);
    printf("|   %-42s | %12.1f | %9s |\n", "ns per packet", (double)dt * 1000 / N, "");
    if (HEAP_COUNTED) {
        double per = (double)(N - 1000);
        printf("|   %-42s | %12.2f | %9s |\n", "heap allocations per packet", (double)na / per, "");
        printf("|   %-42s | %12.0f | %9s |\n", "heap bytes per frame", (double)nb / (per / per_frame), "");
    }
    sink += frames;
    rtc_rtp_receiver_free(r);
    rtc_pool_free(pool);
}

int main(void)
{
    printf("| %-44s | %12s | %9s |\n", "stage", "packets/s", "Mbit/s");
    printf("|%s|%s|%s|\n", "----------------------------------------------", "--------------", "-----------");
    rtc_codec_id cs[] = { RTC_CODEC_VP8, RTC_CODEC_H264, RTC_CODEC_AV1 };
    for (int i = 0; i < 3; i++) {
        bench_send(cs[i], rtc_codec_name(cs[i]), false);   /* warm the allocator */
        bench_send(cs[i], rtc_codec_name(cs[i]), true);
        bench_recv(cs[i], rtc_codec_name(cs[i]));
    }
    bench_rtx_twcc();
    bench_streams();
    bench_nack(0);
    bench_nack(10);
    bench_nack(50);
    bench_rtx_receive(RTC_CODEC_OPUS);
    bench_rtx_receive(RTC_CODEC_VP8);
    for (size_t i = 0; i < npkts; i++) rtc_buf_unref(pkts[i]);
    free(pkts);
    printf("(%zu packets per run, %d frames of %d bytes)\n", npkts, FRAMES, FRAME_BYTES);
    return 0;
}
