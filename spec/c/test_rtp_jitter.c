/* rtp/jitter_buffer: reordering with random permutations and duplicates, loss and
 * late packets, keyframe waits, wraparound of seq and timestamp, padding, overflow,
 * and frames of every codec coming out byte-identical. */
#include "rtc_test.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "core/rtc_rng.h"
#include "rtp/jitter_buffer.h"
#include "rtp/rtp_packet.h"

typedef struct tpkt { rtc_buf *b; int frame; } tpkt;
typedef struct tframe { uint8_t *data; size_t len; bool key; uint32_t ts; } tframe;

static rtc_rng rng;

/* Packetize frame `fi` into RTP packets appended to out[*n]. */
static void make_packets(rtc_codec_id c, const tframe *f, int fi, uint16_t *seq, tpkt *out, size_t *n)
{
    rtc_packetizer pk;
    rtc_pack_params pp = { .picture_id = fi, .keyframe = f->key };
    ASSERT_EQ(rtc_packetizer_init(&pk, c, f->data, f->len, 1100, &pp), 0);
    uint8_t pl[1200];
    bool last;
    int len;
    while ((len = rtc_packetizer_next(&pk, pl, sizeof pl, &last)) > 0) {
        rtc_rtp_header h = { .marker = last, .pt = 96, .seq = (*seq)++, .ts = f->ts, .ssrc = 5 };
        rtc_buf *b = rtc_buf_alloc(NULL, 1300);
        int w = rtc_rtp_write(b->data, b->cap, &h, pl, (size_t)len, 0);
        ASSERT(w > 0);
        b->len = (size_t)w;
        out[(*n)++] = (tpkt){ b, fi };
    }
}

static void make_frame(rtc_codec_id c, tframe *f, size_t len, bool key, uint32_t ts)
{
    f->len = len; f->key = key; f->ts = ts;
    f->data = malloc(len + 32);
    rtc_rng_bytes(&rng, f->data, len);
    if (c == RTC_CODEC_VP8) f->data[0] = (uint8_t)(key ? f->data[0] & ~1 : f->data[0] | 1);
    if (c == RTC_CODEC_VP9) f->data[0] = key ? 0x80 : 0x84;   /* uncompressed header frame_type */
    if (c == RTC_CODEC_H264) {                        /* [SPS] + one slice, 4-byte start codes */
        size_t o = 0;
        if (key) { static const uint8_t sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0x1F }; memcpy(f->data, sps, 7); o = 7; }
        f->data[o++] = 0; f->data[o++] = 0; f->data[o++] = 0; f->data[o++] = 1;
        f->data[o++] = key ? 0x65 : 0x41;
        f->data[o++] = 0x88;                          /* first_mb_in_slice = 0 */
        while (o < len + 6) f->data[o++] = (uint8_t)(rtc_rng_below(&rng, 255) + 1);
        f->len = o;
    }
}

typedef struct sink { int next; int got; int keys; tframe *frames; int nframes; } sink;

static void drain(rtc_jitter_buffer *jb, sink *s, bool exact)
{
    rtc_jb_frame f;
    while (rtc_jitter_buffer_poll_frame(jb, &f)) {
        /* Frames come out in order; find which one this is by timestamp. */
        int i = s->next;
        while (i < s->nframes && s->frames[i].ts != f.ts) i++;
        ASSERT(i < s->nframes);
        if (exact) ASSERT_EQ(i, s->next);
        ASSERT_EQ(f.data->len, s->frames[i].len);
        ASSERT_MEMEQ(f.data->data, s->frames[i].data, f.data->len);
        ASSERT_EQ(f.keyframe, s->frames[i].key);
        ASSERT(f.first_arrival <= f.last_arrival);
        s->next = i + 1;
        s->got++;
        s->keys += f.keyframe;
        rtc_buf_unref(f.data);
    }
}

static void free_all(tpkt *p, size_t n, tframe *f, int nf)
{
    for (size_t i = 0; i < n; i++) rtc_buf_unref(p[i].b);
    for (int i = 0; i < nf; i++) free(f[i].data);
}

/* Every codec: frames, packets shuffled locally and duplicated, all out in order. */
static void test_reorder_all_codecs(void)
{
    enum { NF = 150 };
    rtc_codec_id codecs[] = { RTC_CODEC_VP8, RTC_CODEC_VP9, RTC_CODEC_H264, RTC_CODEC_AV1, RTC_CODEC_OPUS };
    static tpkt p[NF * 12];
    static tframe fr[NF];
    for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
        rtc_codec_id c = codecs[ci];
        size_t n = 0;
        uint16_t seq = 65300;                          /* wraps */
        uint32_t ts = 0xFFFF0000u;                     /* wraps too */
        for (int i = 0; i < NF; i++, ts += 3000) {
            size_t len = c == RTC_CODEC_OPUS ? 1 + rtc_rng_below(&rng, 300) : 1 + rtc_rng_below(&rng, 9000);
            if (c == RTC_CODEC_AV1) {                  /* one frame OBU with a size field */
                fr[i].len = len + 4; fr[i].key = false; fr[i].ts = ts;
                fr[i].data = malloc(len + 8);
                size_t o = 0;
                fr[i].data[o++] = 0x12; fr[i].data[o++] = 0;
                fr[i].data[o++] = 0x32;
                o += (size_t)rtc_leb128_write(fr[i].data + o, len);
                rtc_rng_bytes(&rng, fr[i].data + o, len);
                fr[i].len = o + len;
            } else {
                make_frame(c, &fr[i], len, c == RTC_CODEC_OPUS || i % 40 == 0, ts);
            }
            make_packets(c, &fr[i], i, &seq, p, &n);
        }
        for (size_t i = 0; i < n; i++) {               /* local shuffle: displacement < 24 */
            size_t j = i + rtc_rng_below(&rng, 24);
            if (j < n) { tpkt t = p[i]; p[i] = p[j]; p[j] = t; }
        }
        rtc_jitter_buffer *jb;
        rtc_jitter_buffer_config cfg = { .codec = c, .latency = RTC_MS(300), .wait_keyframe = c != RTC_CODEC_AV1 };
        ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
        sink s = { 0, 0, 0, fr, NF };
        rtc_time now = 0;
        uint64_t dups = 0;
        for (size_t i = 0; i < n; i++, now += 500) {
            if (rtc_jitter_buffer_poll_timeout(jb) <= now) rtc_jitter_buffer_handle_timeout(jb, now);
            ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, p[i].b, now), 0);
            if (rtc_rng_below(&rng, 20) == 0) {
                ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, p[i].b, now), RTC_EIGNORED);
                dups++;
            }
            drain(jb, &s, true);
        }
        if (s.got < NF) {                              /* the start delay may still hold frames */
            rtc_jitter_buffer_handle_timeout(jb, rtc_jitter_buffer_poll_timeout(jb));
            drain(jb, &s, true);
        }
        ASSERT_EQ(rtc_jitter_buffer_poll_timeout(jb), RTC_TIME_NEVER);
        ASSERT_EQ(s.got, NF);
        rtc_jb_stats st;
        rtc_jitter_buffer_get_stats(jb, &st);
        ASSERT_EQ(st.frames_out, NF); ASSERT_EQ(st.frames_dropped, 0);
        ASSERT_EQ(st.late + st.duplicates, dups);      /* a copy after its frame left is late */
        ASSERT_EQ(st.packets, n);
        rtc_jitter_buffer_free(jb);
        free_all(p, n, fr, NF);
    }
}

/* A full random permutation of all packets delivered at once. */
static void test_global_permutation(void)
{
    enum { NF = 60 };
    static tpkt p[NF * 8];
    static tframe fr[NF];
    for (int round = 0; round < 5; round++) {
        size_t n = 0;
        uint16_t seq = (uint16_t)rtc_rng_u32(&rng);
        uint32_t ts = rtc_rng_u32(&rng);
        for (int i = 0; i < NF; i++, ts += 3000) {
            make_frame(RTC_CODEC_VP8, &fr[i], 1 + rtc_rng_below(&rng, 5000), i == 0, ts);
            make_packets(RTC_CODEC_VP8, &fr[i], i, &seq, p, &n);
        }
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rtc_rng_below(&rng, (uint32_t)(i + 1));
            tpkt t = p[i]; p[i] = p[j]; p[j] = t;
        }
        rtc_jitter_buffer *jb;
        rtc_jitter_buffer_config cfg = { .codec = RTC_CODEC_VP8, .wait_keyframe = true };
        ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
        sink s = { 0, 0, 0, fr, NF };
        for (size_t i = 0; i < n; i++) {
            ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, p[i].b, 0), 0);
            drain(jb, &s, true);
        }
        ASSERT_EQ(s.got, 0);                           /* held for the start delay */
        ASSERT_EQ(rtc_jitter_buffer_poll_timeout(jb), RTC_MS(50));
        rtc_jitter_buffer_handle_timeout(jb, RTC_MS(50));
        drain(jb, &s, true);
        ASSERT_EQ(s.got, NF);
        rtc_jitter_buffer_free(jb);
        free_all(p, n, fr, NF);
    }
}

/* A lost packet: its frame is dropped after the latency, inter frames wait for the
 * next keyframe (one keyframe request), and the packet arriving later is late. */
static void test_loss_late_and_keyframe_wait(void)
{
    enum { NF = 12 };
    static tpkt p[NF * 8];
    static tframe fr[NF];
    size_t n = 0;
    uint16_t seq = 100;
    for (int i = 0; i < NF; i++) {
        make_frame(RTC_CODEC_VP8, &fr[i], 2500, i == 0 || i == 7, 90000u * (uint32_t)i);
        make_packets(RTC_CODEC_VP8, &fr[i], i, &seq, p, &n);
    }
    ASSERT_EQ(n, NF * 3);
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = RTC_CODEC_VP8, .latency = RTC_SEC(1), .wait_keyframe = true };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
    sink s = { 0, 0, 0, fr, NF };
    rtc_time now = 0;
    int events = 0;
    rtc_jb_event ev;
    for (size_t i = 0; i < n; i++) {
        now = (rtc_time)(i / 3) * RTC_MS(33);
        if (i == 3 * 3 + 1) continue;                  /* frame 3 loses its middle packet */
        rtc_jitter_buffer_handle_timeout(jb, now);
        ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, p[i].b, now), 0);
        drain(jb, &s, false);
        while (rtc_jitter_buffer_poll_event(jb, &ev)) { ASSERT_EQ(ev.type, RTC_JB_EV_KEYFRAME_NEEDED); events++; }
    }
    ASSERT_EQ(s.got, 3);                               /* 0, 1, 2; the rest wait behind frame 3 */
    ASSERT_EQ(rtc_jitter_buffer_poll_timeout(jb), 3 * RTC_MS(33) + RTC_SEC(1));
    now = rtc_jitter_buffer_poll_timeout(jb);
    rtc_jitter_buffer_handle_timeout(jb, now);
    drain(jb, &s, false);
    while (rtc_jitter_buffer_poll_event(jb, &ev)) events++;
    ASSERT_EQ(events, 1);
    ASSERT_EQ(s.got, 3 + 5);                           /* keyframe 7 and 8..11 */
    ASSERT_EQ(s.keys, 2);
    rtc_jb_stats st;
    rtc_jitter_buffer_get_stats(jb, &st);
    ASSERT_EQ(st.frames_dropped, 1); ASSERT_EQ(st.frames_skipped, 3);
    ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, p[10].b, now), RTC_EIGNORED);
    rtc_jitter_buffer_get_stats(jb, &st);
    ASSERT_EQ(st.late, 1);
    rtc_jitter_buffer_free(jb);
    free_all(p, n, fr, NF);
}

/* Joining mid-frame; padding between frames; Opus gaps; capacity overflow. */
static void test_edges(void)
{
    static tpkt p[64];
    static tframe fr[8];
    size_t n = 0;
    uint16_t seq = 1;
    for (int i = 0; i < 4; i++) {
        make_frame(RTC_CODEC_VP8, &fr[i], 2500, true, 3000u * (uint32_t)i);
        make_packets(RTC_CODEC_VP8, &fr[i], i, &seq, p, &n);
    }
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = RTC_CODEC_VP8, .latency = RTC_MS(50) };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &cfg, 0), 0);
    sink s = { 0, 0, 0, fr, 4 };
    for (size_t i = 1; i < 6; i++) {                   /* the first packet of frame 0 never came */
        rtc_jitter_buffer_handle_packet(jb, p[i].b, 0);
        drain(jb, &s, false);
    }
    ASSERT_EQ(s.got, 0);                               /* frame 1 waits behind the partial frame 0 */
    rtc_jitter_buffer_handle_timeout(jb, RTC_MS(50));
    drain(jb, &s, false);
    ASSERT_EQ(s.got, 1); ASSERT_EQ(s.next, 2);         /* frame 0 dropped, frame 1 out */
    /* Padding-only packet (a probe) between frames: skipped without waiting. */
    rtc_rtp_header ph = { .pt = 96, .seq = 0, .ts = 1, .ssrc = 5 };
    uint16_t pad_seq = rtc_rd16(p[6].b->data + 2);
    for (size_t i = 6; i < n; i++) rtc_rtp_set_seq(p[i].b->data, (uint16_t)(rtc_rd16(p[i].b->data + 2) + 1));
    ph.seq = pad_seq;
    rtc_buf *pad = rtc_buf_alloc(NULL, 300);
    pad->len = (size_t)rtc_rtp_write(pad->data, pad->cap, &ph, NULL, 0, 200);
    ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, pad, RTC_MS(60)), RTC_EIGNORED);
    for (size_t i = 6; i < n; i++) rtc_jitter_buffer_handle_packet(jb, p[i].b, RTC_MS(60));
    drain(jb, &s, true);
    ASSERT_EQ(s.got, 3);
    rtc_jb_stats st;
    rtc_jitter_buffer_get_stats(jb, &st);
    ASSERT_EQ(st.padding, 1); ASSERT_EQ(st.frames_dropped, 1);
    rtc_buf_unref(pad);
    rtc_jitter_buffer_free(jb);
    free_all(p, n, fr, 4);

    /* Overflow: capacity 64, head packet lost, 300 one-packet Opus frames behind it. */
    rtc_jitter_buffer_config oc = { .codec = RTC_CODEC_OPUS, .capacity = 64, .latency = RTC_SEC(10) };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &oc, 0), 0);
    static tframe of[300];
    static tpkt op[300];
    n = 0; seq = 0;
    for (int i = 0; i < 300; i++) {
        make_frame(RTC_CODEC_OPUS, &of[i], 40, true, 960u * (uint32_t)i);
        make_packets(RTC_CODEC_OPUS, &of[i], i, &seq, op, &n);
    }
    sink os = { 0, 0, 0, of, 300 };
    ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, op[0].b, 0), 0);
    drain(jb, &os, true);
    for (int i = 2; i < 300; i++) {                    /* #1 lost; no timer runs */
        if (i % 50 == 0) continue;                     /* and a few more */
        ASSERT_EQ(rtc_jitter_buffer_handle_packet(jb, op[i].b, 0), 0);
        drain(jb, &os, false);
    }
    rtc_jitter_buffer_get_stats(jb, &st);
    ASSERT(st.overflow > 0);
    /* Each forced skip of a lost packet lets the complete frames behind it out; only
     * those behind the last loss (#250) still wait. */
    ASSERT_EQ(os.got, 300 - 6 - 49);
    rtc_jitter_buffer_handle_timeout(jb, RTC_SEC(11));
    drain(jb, &os, false);
    ASSERT_EQ(os.got, 300 - 6);
    rtc_jitter_buffer_free(jb);
    free_all(op, n, of, 300);
    rtc_jitter_buffer_config bad = { .codec = RTC_CODEC_VP8, .capacity = 100 };
    ASSERT_EQ(rtc_jitter_buffer_new(&jb, &bad, 0), RTC_EINVAL);
}

int main(void)
{
    rtc_rng_init_seed(&rng, 1234);
    RUN(test_reorder_all_codecs);
    RUN(test_global_permutation);
    RUN(test_loss_late_and_keyframe_wait);
    RUN(test_edges);
    return 0;
}
