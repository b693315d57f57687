/* Frame transforms in the peer connection: two peers over the virtual network (with
 * loss, so frames are reassembled from retransmissions) run VP8 and Opus through the
 * built-in XOR and AES-GCM transforms. The receiver with the matching transform gets the
 * sender's exact frames; without it, it gets the documented wire format; with the wrong
 * key every frame fails and none is reported. Custom transforms drop, grow and overrun;
 * hostile ciphertext is refused; every ud is released. */
#include "test_pc_harness.h"
#include "pc/pc_transform.h"
#include <openssl/evp.h>

#define MAX_FRAME 12000

typedef enum { EXPECT_PLAIN, EXPECT_XOR, EXPECT_GCM } expect_mode;

typedef struct rx {
    expect_mode mode;
    const uint8_t *key;          /* to check the wire format independently */
    size_t keylen;
} rx;

static const uint8_t xor_key[] = { 0x5a, 0xa7, 0x13, 0xc4, 0x99 };
static const uint8_t gcm_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t gcm_salt[4] = { 0xde, 0xad, 0xbe, 0xef };

/* Frame i of a stream: VP8 (keyframe or delta) or Opus, content from (video, i). */
static size_t make_frame(uint8_t *out, bool video, int i, bool key)
{
    key = video && key;
    size_t len = video ? (key ? 9000 : 800 + (size_t)(i * 53 % 3000)) : 40 + (size_t)(i % 60);
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 17 + (size_t)i * 5 + video);
    if (video) {
        out[0] = key ? 0x10 : 0x11;        /* VP8 frame tag: bit 0 clear on keyframes */
        if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; }
    } else {
        out[0] = 0x78;                      /* Opus TOC: one 20 ms CELT frame */
    }
    return len;
}

/* The documented clear prefix, computed here from the spec rather than the library. */
static size_t clear_of(bool video, const uint8_t *f) { return video ? ((f[0] & 1) ? 3 : 10) : 1; }

/* Independent AES-GCM decryption of the documented wire format; returns the plaintext
 * length or -1. */
static int gcm_open(const uint8_t *key, const uint8_t *in, size_t len, size_t clear, uint8_t *out)
{
    if (len < clear + 28) return -1;
    size_t body = len - 28;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int n, ok = EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
                EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
                EVP_DecryptInit_ex(c, NULL, NULL, key, in + body + 16) == 1 &&
                EVP_DecryptUpdate(c, NULL, &n, in, (int)clear) == 1 &&
                EVP_DecryptUpdate(c, out + clear, &n, in + clear, (int)(body - clear)) == 1 &&
                EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + body)) == 1 &&
                EVP_DecryptFinal_ex(c, out + clear + n, &n) == 1;
    EVP_CIPHER_CTX_free(c);
    memcpy(out, in, clear);
    return ok ? (int)body : -1;
}

static uint8_t expect_buf[MAX_FRAME + 64], open_buf[MAX_FRAME + 64];

static void check_frame(peer *p, const rtc_pc_event *ev)
{
    int tr = ev->tr;
    ASSERT(tr >= 0 && tr < 4);
    const rx *want = p->ud;
    bool video = ev->kind == RTC_MEDIA_VIDEO;
    int i = (int)(ev->ts / (video ? 3000 : 960));
    bool key = video && ev->buf->len > 0 && !(ev->buf->data[0] & 1);   /* the tag byte is always clear */
    size_t len = make_frame(expect_buf, video, i, key);
    const uint8_t *got = ev->buf->data;
    size_t glen = ev->buf->len;
    if (want->mode == EXPECT_GCM) {
        size_t clear = clear_of(video, expect_buf);
        if (memcmp(got, expect_buf, clear) != 0) p->bad[tr]++;          /* header stays readable */
        int n = gcm_open(want->key, got, glen, clear, open_buf);
        if (n < 0) { p->bad[tr]++; p->frames[tr]++; return; }
        if (memcmp(got + glen - 12, gcm_salt, 4) != 0) p->bad[tr]++;      /* IV = salt || counter */
        got = open_buf;
        glen = (size_t)n;
    } else if (want->mode == EXPECT_XOR) {
        size_t clear = clear_of(video, expect_buf);
        for (size_t k = clear; k < len; k++) expect_buf[k] ^= want->key[(k - clear) % want->keylen];
    }
    if (glen != len || memcmp(got, expect_buf, len) != 0) p->bad[tr]++;
    if (p->frames[tr] > 0 && ev->ts <= p->last_ts[tr]) p->bad[tr]++;
    p->last_ts[tr] = ev->ts;
    if (ev->keyframe) p->keyframes[tr]++;
    p->frames[tr]++;
}

typedef struct call {
    peer a, b;
    vnet *n;
    int vtr, atr;                 /* a's senders */
    int rv, ra;                   /* b's receivers */
    bool audio_fails;
    int requests_seen;
    double loss;                  /* starts once the first keyframe is through */             /* a's audio transform refuses every frame */
    rx want;
} call;

static void call_start(call *c, double loss)
{
    memset(c, 0, sizeof *c);
    c->n = vnet_new(7);
    c->loss = loss;
    vnet_set_link(c->n, (vnet_link){ .delay = RTC_MS(15), .jitter = RTC_MS(2) });
    peer_init(&c->a, "10.0.0.1:1000", cert_a);
    peer_init(&c->b, "10.0.0.2:2000", cert_b);
    c->b.ud = &c->want;
    c->vtr = rtc_pc_add_transceiver(c->a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    c->atr = rtc_pc_add_transceiver(c->a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDONLY, -1 }, now);
    ASSERT_OK(c->vtr);
    ASSERT_OK(c->atr);
    connect_peers(&c->a, &c->b, c->n);
    ASSERT_EQ(c->b.tracks, 2);
    c->rv = c->b.track_tr[0];
    c->ra = c->b.track_tr[1];
}

static void call_end(call *c)
{
    rtc_pc_free(c->a.pc);
    rtc_pc_free(c->b.pc);
    vnet_free(c->n);
}

static void reset_counts(peer *p)
{
    memset(p->frames, 0, sizeof p->frames);
    memset(p->bad, 0, sizeof p->bad);
    memset(p->keyframes, 0, sizeof p->keyframes);
}

/* Send `count` video frames (30 fps, from index `first`) and 1.5 times as many audio
 * frames (50 fps), then let repairs settle. */
static void send_media(call *c, int first, int count)
{
    static uint8_t f[MAX_FRAME];
    int v = first, a = first * 3 / 2;
    for (int ms = 0; ms < count * 30; ms += 10) {
        if (ms % 20 == 0) {
            size_t len = make_frame(f, false, a, false);
            int r = rtc_pc_send_frame(c->a.pc, c->atr, f, len, (uint32_t)a * 960, false, now);
            if (c->audio_fails) ASSERT_EQ(r, RTC_EOVERFLOW);
            else ASSERT_OK(r);
            a++;
        }
        if (ms % 30 == 0) {
            /* every 30 frames, and when the receiver asks (it may lose the first one) */
            bool key = v % 30 == 0 || c->a.keyframe_requests > c->requests_seen;
            c->requests_seen = c->a.keyframe_requests;
            size_t len = make_frame(f, true, v, key);
            /* keyframe flag left false: the transform reads it from the VP8 frame tag */
            ASSERT_OK(rtc_pc_send_frame(c->a.pc, c->vtr, f, len, (uint32_t)v * 3000, false, now));
            v++;
        }
        step(&c->a, &c->b, c->n, now + RTC_MS(10));
        /* A receiver that loses a stream's very first packet cannot tell it was the
         * start and waits for the next keyframe: loss starts after the first frame. */
        if (ms == 30) vnet_set_link(c->n, (vnet_link){ .delay = RTC_MS(15), .jitter = RTC_MS(2), .loss = c->loss });
    }
    step(&c->a, &c->b, c->n, now + RTC_SEC(1));
}

static void install(rtc_pc *pc, int tr, int dirs, rtc_frame_crypto *k)
{
    if (dirs & RTC_PC_SEND) ASSERT_OK(rtc_pc_set_frame_transform(pc, tr, RTC_PC_SEND, rtc_frame_crypto_transform,
                                                                 rtc_frame_crypto_ref(k), rtc_frame_crypto_release));
    if (dirs & RTC_PC_RECV) ASSERT_OK(rtc_pc_set_frame_transform(pc, tr, RTC_PC_RECV, rtc_frame_crypto_transform,
                                                                 rtc_frame_crypto_ref(k), rtc_frame_crypto_release));
}

static void test_clear_bytes(void)
{
    uint8_t key[10] = { 0x10 }, delta[10] = { 0x11 };
    rtc_frame_info v = { .kind = RTC_MEDIA_VIDEO, .codec = RTC_CODEC_VP8 };
    rtc_frame_info a = { .kind = RTC_MEDIA_AUDIO, .codec = RTC_CODEC_OPUS };
    rtc_frame_info h = { .kind = RTC_MEDIA_VIDEO, .codec = RTC_CODEC_H264 };
    ASSERT_EQ(rtc_frame_clear_bytes(&v, key, 10), 10);
    ASSERT_EQ(rtc_frame_clear_bytes(&v, delta, 10), 3);
    ASSERT_EQ(rtc_frame_clear_bytes(&v, key, 4), 4);        /* never past the end */
    ASSERT_EQ(rtc_frame_clear_bytes(&a, key, 10), 1);
    ASSERT_EQ(rtc_frame_clear_bytes(&h, key, 10), 0);
}

/* XOR on both sides: exact frames through 5% loss; then b drops its transform and sees
 * the XOR image on the wire. */
static void test_xor_call(void)
{
    call c;
    call_start(&c, 0.05);
    rtc_frame_crypto *k;
    ASSERT_OK(rtc_frame_crypto_new_xor(&k, xor_key, sizeof xor_key));
    install(c.a.pc, c.vtr, RTC_PC_SEND, k);
    install(c.a.pc, c.atr, RTC_PC_SEND, k);
    install(c.b.pc, c.rv, RTC_PC_RECV, k);
    install(c.b.pc, c.ra, RTC_PC_RECV, k);
    c.want.mode = EXPECT_PLAIN;
    send_media(&c, 0, 90);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(c.b.pc, c.rv, &ti));
    fprintf(stderr, "xor: video %d (key %d, dropped %llu, skipped %llu) audio %d\n", c.b.frames[c.rv], c.b.keyframes[c.rv],
            (unsigned long long)ti.frames_dropped, (unsigned long long)ti.frames_skipped, c.b.frames[c.ra]);
    ASSERT_EQ(c.b.bad[c.rv], 0);
    ASSERT_EQ(c.b.bad[c.ra], 0);
    ASSERT(c.b.frames[c.rv] >= 89);
    ASSERT(c.b.frames[c.ra] >= 134);
    ASSERT(c.b.keyframes[c.rv] >= 3);        /* the keyframe bit stayed in the clear */
    rtc_frame_transform_stats st;
    ASSERT_OK(rtc_pc_frame_transform_stats(c.a.pc, c.vtr, RTC_PC_SEND, &st));
    ASSERT_EQ(st.frames, 90);
    ASSERT_EQ(st.bytes_in, st.bytes_out);
    ASSERT_EQ(st.dropped + st.failed, 0);
    ASSERT_OK(rtc_pc_frame_transform_stats(c.b.pc, c.rv, RTC_PC_RECV, &st));
    ASSERT_EQ(st.frames, (uint64_t)c.b.frames[c.rv]);

    ASSERT_OK(rtc_pc_set_frame_transform(c.b.pc, c.rv, RTC_PC_RECV, NULL, NULL, NULL));
    ASSERT_OK(rtc_pc_set_frame_transform(c.b.pc, c.ra, RTC_PC_RECV, NULL, NULL, NULL));
    reset_counts(&c.b);
    c.want = (rx){ EXPECT_XOR, xor_key, sizeof xor_key };
    send_media(&c, 90, 60);
    ASSERT_EQ(c.b.bad[c.rv], 0);
    ASSERT_EQ(c.b.bad[c.ra], 0);
    ASSERT(c.b.frames[c.rv] >= 59);
    ASSERT(c.b.keyframes[c.rv] >= 2);
    rtc_frame_crypto_unref(k);
    call_end(&c);
}

/* AES-GCM: exact frames; the wire format opens with an independent decryption; a
 * receiver with another key reports nothing and counts every frame as failed. */
static void test_aes_gcm_call(void)
{
    call c;
    call_start(&c, 0.05);
    rtc_frame_crypto *k, *wrong;
    ASSERT_OK(rtc_frame_crypto_new_aes_gcm(&k, gcm_key, sizeof gcm_key, gcm_salt));
    uint8_t other[16];
    memcpy(other, gcm_key, 16);
    other[15] ^= 1;
    ASSERT_OK(rtc_frame_crypto_new_aes_gcm(&wrong, other, sizeof other, gcm_salt));
    install(c.a.pc, c.vtr, RTC_PC_SEND, k);
    install(c.a.pc, c.atr, RTC_PC_SEND, k);
    install(c.b.pc, c.rv, RTC_PC_RECV, k);
    install(c.b.pc, c.ra, RTC_PC_RECV, k);
    c.want.mode = EXPECT_PLAIN;
    send_media(&c, 0, 60);
    ASSERT_EQ(c.b.bad[c.rv], 0);
    ASSERT_EQ(c.b.bad[c.ra], 0);
    ASSERT(c.b.frames[c.rv] >= 59);
    ASSERT(c.b.frames[c.ra] >= 89);
    rtc_frame_transform_stats st;
    ASSERT_OK(rtc_pc_frame_transform_stats(c.a.pc, c.vtr, RTC_PC_SEND, &st));
    ASSERT_EQ(st.bytes_out, st.bytes_in + 28 * st.frames);

    /* the wire: clear header, ciphertext, tag, salt || counter */
    ASSERT_OK(rtc_pc_set_frame_transform(c.b.pc, c.rv, RTC_PC_RECV, NULL, NULL, NULL));
    ASSERT_OK(rtc_pc_set_frame_transform(c.b.pc, c.ra, RTC_PC_RECV, NULL, NULL, NULL));
    reset_counts(&c.b);
    c.want = (rx){ EXPECT_GCM, gcm_key, sizeof gcm_key };
    send_media(&c, 60, 30);
    ASSERT_EQ(c.b.bad[c.rv], 0);
    ASSERT_EQ(c.b.bad[c.ra], 0);
    ASSERT(c.b.frames[c.rv] >= 29);

    /* the wrong key: nothing reaches the application */
    install(c.b.pc, c.rv, RTC_PC_RECV, wrong);
    install(c.b.pc, c.ra, RTC_PC_RECV, wrong);
    reset_counts(&c.b);
    c.want.mode = EXPECT_PLAIN;
    send_media(&c, 90, 30);
    ASSERT_EQ(c.b.frames[c.rv] + c.b.frames[c.ra], 0);
    ASSERT_OK(rtc_pc_frame_transform_stats(c.b.pc, c.rv, RTC_PC_RECV, &st));
    ASSERT(st.failed >= 29);
    ASSERT_EQ(st.failed, st.frames);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(c.b.pc, c.rv, &ti));
    ASSERT(ti.frames_received >= 29 + 29 + 59);     /* the jitter buffer still assembled them */
    rtc_frame_crypto_unref(k);
    rtc_frame_crypto_unref(wrong);
    call_end(&c);
}

/* Hostile ciphertext given straight to the receive side. */
static void test_aes_gcm_hostile(void)
{
    rtc_frame_crypto *k;
    ASSERT_OK(rtc_frame_crypto_new_aes_gcm(&k, gcm_key, 16, gcm_salt));
    rtc_frame_info snd = { .direction = RTC_PC_SEND, .kind = RTC_MEDIA_VIDEO, .codec = RTC_CODEC_VP8 };
    rtc_frame_info rcv = snd;
    rcv.direction = RTC_PC_RECV;
    static uint8_t f[MAX_FRAME], enc[MAX_FRAME + 64], dec[MAX_FRAME + 64], rnd[512];
    size_t len = make_frame(f, true, 0, true);
    int n = rtc_frame_crypto_transform(k, &snd, f, len, enc, sizeof enc);
    ASSERT_EQ(n, (int)len + 28);
    ASSERT_EQ(rtc_frame_crypto_transform(k, &rcv, enc, (size_t)n, dec, sizeof dec), (int)len);
    ASSERT_MEMEQ(dec, f, len);
    /* a flipped bit anywhere (clear header: authenticated; body; tag; IV) fails */
    size_t spots[] = { 5, 100, len - 1, len + 3, len + 20 };
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++) {
        enc[spots[s]] ^= 0x40;
        ASSERT_EQ(rtc_frame_crypto_transform(k, &rcv, enc, (size_t)n, dec, sizeof dec), RTC_EAUTH);
        enc[spots[s]] ^= 0x40;
    }
    /* every truncation is refused without reading past the end */
    for (size_t cut = 0; cut < 40; cut++) {
        int r = rtc_frame_crypto_transform(k, &rcv, enc, cut, dec, sizeof dec);
        ASSERT(r <= 0);
    }
    /* random frames of every small size */
    for (int i = 0; i < 2000; i++) {
        size_t rl = 1 + rtc_rng_u32(&rng) % 300;
        for (size_t j = 0; j < rl; j++) rnd[j] = (uint8_t)rtc_rng_u32(&rng);
        ASSERT(rtc_frame_crypto_transform(k, &rcv, rnd, rl, dec, sizeof dec) < 0);
    }
    /* after all those failures the same object still opens a genuine frame */
    ASSERT_EQ(rtc_frame_crypto_transform(k, &rcv, enc, (size_t)n, dec, sizeof dec), (int)len);
    ASSERT_MEMEQ(dec, f, len);
    /* two encryptions of one frame differ (the IV counts) and both open */
    static uint8_t enc2[MAX_FRAME + 64];
    ASSERT_EQ(rtc_frame_crypto_transform(k, &snd, f, len, enc2, sizeof enc2), (int)len + 28);
    ASSERT(memcmp(enc, enc2, len + 28) != 0);
    ASSERT_EQ(rtc_frame_crypto_transform(k, &rcv, enc2, len + 28, dec, sizeof dec), (int)len);
    /* an output buffer too small for tag and IV */
    ASSERT_EQ(rtc_frame_crypto_transform(k, &snd, f, len, enc, len + 27), RTC_EOVERFLOW);
    ASSERT_EQ(rtc_frame_crypto_new_aes_gcm(&(rtc_frame_crypto *){ NULL }, gcm_key, 15, gcm_salt), RTC_EINVAL);
    /* AES-256-GCM: a round trip, and a 128-bit object cannot open its frames */
    uint8_t key256[32];
    for (int i = 0; i < 32; i++) key256[i] = (uint8_t)(i * 9 + 1);
    rtc_frame_crypto *k256;
    ASSERT_OK(rtc_frame_crypto_new_aes_gcm(&k256, key256, 32, gcm_salt));
    n = rtc_frame_crypto_transform(k256, &snd, f, len, enc, sizeof enc);
    ASSERT_EQ(n, (int)len + 28);
    ASSERT_EQ(rtc_frame_crypto_transform(k256, &rcv, enc, (size_t)n, dec, sizeof dec), (int)len);
    ASSERT_MEMEQ(dec, f, len);
    ASSERT_EQ(rtc_frame_crypto_transform(k, &rcv, enc, (size_t)n, dec, sizeof dec), RTC_EAUTH);
    rtc_frame_crypto_unref(k256);
    ASSERT_EQ(rtc_frame_crypto_new_xor(&(rtc_frame_crypto *){ NULL }, xor_key, 0), RTC_EINVAL);
    rtc_frame_crypto_unref(k);
}

/* Custom transforms: one that drops every other frame, one that appends the most it may,
 * one that claims more than it was given; every ud is released exactly once per slot. */
typedef struct custom { int mode, calls, released; } custom;

static int custom_fn(void *ud, const rtc_frame_info *info, const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    custom *c = ud;
    c->calls++;
    ASSERT(cap >= len + RTC_FRAME_TRANSFORM_GROWTH);
    if (c->mode == 0) {                          /* drop odd frames */
        if (c->calls % 2 == 0) return 0;
        memcpy(out, in, len);
        return (int)len;
    }
    if (c->mode == 1) {                          /* grow on send, shrink back on receive */
        if (info->direction == RTC_PC_SEND) {
            memcpy(out, in, len);
            memset(out + len, 0xee, RTC_FRAME_TRANSFORM_GROWTH);
            return (int)(len + RTC_FRAME_TRANSFORM_GROWTH);
        }
        if (len < RTC_FRAME_TRANSFORM_GROWTH) return RTC_EPROTO;
        for (size_t k = len - RTC_FRAME_TRANSFORM_GROWTH; k < len; k++)
            if (in[k] != 0xee) return RTC_EPROTO;
        memcpy(out, in, len - RTC_FRAME_TRANSFORM_GROWTH);
        return (int)(len - RTC_FRAME_TRANSFORM_GROWTH);
    }
    return (int)cap + 1;                         /* a buggy transform */
}

static void custom_release(void *ud) { ((custom *)ud)->released++; }

static void test_custom_transforms(void)
{
    call c;
    call_start(&c, 0.0);
    custom drop = { 0, 0, 0 }, grow = { 1, 0, 0 }, bad = { 2, 0, 0 };
    c.want.mode = EXPECT_PLAIN;

    ASSERT_OK(rtc_pc_set_frame_transform(c.a.pc, c.atr, RTC_PC_SEND, custom_fn, &drop, custom_release));
    static uint8_t f[MAX_FRAME];
    int sent = 0, dropped = 0;
    for (int i = 0; i < 20; i++) {
        size_t len = make_frame(f, false, i, false);
        int r = rtc_pc_send_frame(c.a.pc, c.atr, f, len, (uint32_t)i * 960, false, now);
        if (r == 0) dropped++;              /* no packets: the transform dropped it */
        else { ASSERT(r > 0); sent++; }
        step(&c.a, &c.b, c.n, now + RTC_MS(20));
    }
    step(&c.a, &c.b, c.n, now + RTC_MS(500));
    ASSERT_EQ(sent, 10);
    ASSERT_EQ(dropped, 10);
    ASSERT_EQ(c.b.frames[c.ra], 10);
    ASSERT_EQ(c.b.bad[c.ra], 0);
    rtc_frame_transform_stats st;
    ASSERT_OK(rtc_pc_frame_transform_stats(c.a.pc, c.atr, RTC_PC_SEND, &st));
    ASSERT_EQ(st.frames, 20);
    ASSERT_EQ(st.dropped, 10);

    /* replacing releases the old ud; one ud on two directions is released twice */
    ASSERT_OK(rtc_pc_set_frame_transform(c.a.pc, c.vtr, RTC_PC_SEND, custom_fn, &grow, custom_release));
    ASSERT_OK(rtc_pc_set_frame_transform(c.b.pc, c.rv, RTC_PC_SEND | RTC_PC_RECV, custom_fn, &grow, custom_release));
    ASSERT_OK(rtc_pc_set_frame_transform(c.a.pc, c.atr, RTC_PC_SEND, custom_fn, &bad, custom_release));
    ASSERT_EQ(drop.released, 1);
    c.audio_fails = true;
    reset_counts(&c.b);
    send_media(&c, 0, 31);
    ASSERT_EQ(c.b.bad[c.rv], 0);
    ASSERT(c.b.frames[c.rv] >= 30);
    ASSERT(c.b.keyframes[c.rv] >= 2);
    ASSERT_EQ(c.b.frames[c.ra], 0);            /* every audio frame overran: none sent */
    ASSERT_OK(rtc_pc_frame_transform_stats(c.a.pc, c.atr, RTC_PC_SEND, &st));
    ASSERT_EQ(st.failed, st.frames);
    ASSERT(st.frames >= 46);
    ASSERT_OK(rtc_pc_frame_transform_stats(c.a.pc, c.vtr, RTC_PC_SEND, &st));
    ASSERT_EQ(st.bytes_out, st.bytes_in + RTC_FRAME_TRANSFORM_GROWTH * st.frames);

    ASSERT_EQ(rtc_pc_set_frame_transform(c.a.pc, 99, RTC_PC_SEND, custom_fn, &bad, custom_release), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_pc_set_frame_transform(c.a.pc, c.atr, 0, custom_fn, &bad, custom_release), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_set_frame_transform(c.a.pc, c.atr, 4, custom_fn, &bad, custom_release), RTC_EINVAL);
    ASSERT_EQ(bad.released, 0);
    call_end(&c);
    ASSERT_EQ(drop.released, 1);
    ASSERT_EQ(grow.released, 3);
    ASSERT_EQ(bad.released, 1);
}

int main(void)
{
    harness_default_on_frame = check_frame;
    harness_begin(9);
    RUN(test_clear_bytes);
    RUN(test_aes_gcm_hostile);
    RUN(test_xor_call);
    RUN(test_aes_gcm_call);
    RUN(test_custom_transforms);
    harness_end();
    return 0;
}
