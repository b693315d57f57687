/* Header extensions and CSRCs through the SFU core, on hand-built packets: a
 * publisher's CSRC list is kept, its extensions the core does not know are dropped
 * (however many there are, in either form) without hiding the ones it knows, and
 * each subscriber gets its own ids: the one-byte form (RFC 8285 section 4.2), or the
 * two-byte form (4.3) when it negotiated an id above 14. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "codec/red.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"

static rtc_pool *pool;
static rtc_sfu_router *R;

static const uint8_t PAYLOAD[6] = { 0x78, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint32_t CSRC[3] = { 0x11111111, 0x22222222, 0x33333333 };

/* An Opus packet with 3 CSRCs and the given extension block (profile, body). */
static rtc_buf *packet(uint16_t seq, uint16_t profile, const uint8_t *ext, size_t ext_len)
{
    ASSERT(ext_len % 4 == 0);
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    uint8_t *d = b->data;
    d[0] = 0x80 | 0x10 | 3;
    d[1] = 111;
    rtc_wr16(d + 2, seq);
    rtc_wr32(d + 4, (uint32_t)seq * 960);
    rtc_wr32(d + 8, 0xA0);
    size_t o = 12;
    for (int i = 0; i < 3; i++, o += 4) rtc_wr32(d + o, CSRC[i]);
    rtc_wr16(d + o, profile);
    rtc_wr16(d + o + 2, (uint16_t)(ext_len / 4));
    memcpy(d + o + 4, ext, ext_len);
    o += 4 + ext_len;
    memcpy(d + o, PAYLOAD, sizeof PAYLOAD);
    b->len = o + sizeof PAYLOAD;
    return b;
}

typedef struct got { int n; uint8_t d[4][300]; size_t len[4]; } got;

static void drain(got *g)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(R, &t)) {
        if (t.kind == RTC_SFU_TX_RTP) {
            got *x = &g[(intptr_t)t.user];
            ASSERT(x->n < 4);
            int n = rtc_sfu_transmit_flatten(&t, x->d[x->n], sizeof x->d[0]);
            ASSERT(n > 0);
            x->len[x->n++] = (size_t)n;
        }
        rtc_sfu_transmit_release(&t);
    }
}

/* The forwarded packet: CSRCs and payload as sent, the level at `level_id`, the mid at
 * `mid_id`, nothing else but abs-send-time at `ast_id` (0: none). */
static void check(const uint8_t *d, size_t len, uint16_t profile, uint8_t level_id, uint8_t mid_id, uint8_t ast_id,
                  uint8_t level)
{
    rtc_rtp_packet p;
    ASSERT_OK(rtc_rtp_parse(&p, d, len));
    ASSERT_EQ(p.h.csrc_count, 3);
    for (int i = 0; i < 3; i++) ASSERT_EQ(p.h.csrc[i], CSRC[i]);
    ASSERT_EQ(p.payload_len, sizeof PAYLOAD);
    ASSERT_MEMEQ(p.payload, PAYLOAD, sizeof PAYLOAD);
    ASSERT_EQ(p.h.ext_profile, profile);
    ASSERT_EQ(p.h.ext_count, ast_id ? 3 : 2);
    const rtc_rtp_ext *lv = rtc_rtp_find_ext(&p.h, level_id);
    ASSERT(lv);
    bool voice; uint8_t l;
    ASSERT_OK(rtc_ext_read_audio_level(lv, &voice, &l));
    ASSERT(voice);
    ASSERT_EQ(l, level);
    const rtc_rtp_ext *mid = rtc_rtp_find_ext(&p.h, mid_id);
    ASSERT(mid && mid->len == 1 && mid->data[0] == 'a');
    if (ast_id) { const rtc_rtp_ext *a = rtc_rtp_find_ext(&p.h, ast_id); ASSERT(a && a->len == 3); }
}

static void test_forwarding_maps_ids(void)
{
    pool = rtc_pool_new(64);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, 0));
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0xA0, .local_ssrc = 1, .rr_interval = -1 };
    pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 1;
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, 0));
    /* consumer 1: one-byte ids; consumer 2: ids above 14 (two-byte form) */
    rtc_sfu_consumer *c;
    rtc_sfu_consumer_config one = { .codec = RTC_CODEC_OPUS, .pt = 109, .ssrc = 1001, .mid = "a", .user = (void *)1 };
    one.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 5;
    one.ext_id[RTC_SFU_EXT_MID] = 3;
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &one, p, &c, 0));
    rtc_sfu_consumer_config two = { .codec = RTC_CODEC_OPUS, .pt = 100, .ssrc = 1002, .mid = "a", .user = (void *)2 };
    two.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 20;
    two.ext_id[RTC_SFU_EXT_MID] = 200;
    two.ext_id[RTC_SFU_EXT_ABS_SEND_TIME] = 3;
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &two, p, &c, 0));
    got g[3] = { 0 };

    /* 1: one-byte block, 18 unknown elements (more than a parsed header keeps) before
     * the audio level, padding between them. */
    uint8_t e1[64] = { 0 };
    size_t n = 0;
    for (int i = 0; i < 18; i++) { e1[n++] = 7 << 4 | 0; e1[n++] = (uint8_t)i; }
    e1[n++] = 0;                                            /* padding */
    uint8_t lv[1];
    rtc_ext_put_audio_level(lv, true, 33);
    e1[n++] = 1 << 4 | 0; e1[n++] = lv[0];
    while (n % 4) n++;
    rtc_buf *b = packet(10, RTC_RTP_EXT_PROFILE_ONE_BYTE, e1, n);
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, p, b, RTC_MS(20)));
    rtc_buf_unref(b);
    drain(g);

    /* 2: two-byte block (extmap-allow-mixed), appbits set: an empty element, one of
     * 40 bytes (too long for the one-byte form), the level, padding. */
    uint8_t e2[64] = { 0 };
    n = 0;
    e2[n++] = 2; e2[n++] = 0;
    e2[n++] = 100; e2[n++] = 40; n += 40;
    e2[n++] = 0;
    rtc_ext_put_audio_level(lv, true, 44);
    e2[n++] = 1; e2[n++] = 1; e2[n++] = lv[0];
    while (n % 4) n++;
    b = packet(11, RTC_RTP_EXT_PROFILE_TWO_BYTE | 0x5, e2, n);
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, p, b, RTC_MS(40)));
    rtc_buf_unref(b);
    drain(g);

    ASSERT_EQ(g[1].n, 2);
    ASSERT_EQ(g[2].n, 2);
    check(g[1].d[0], g[1].len[0], RTC_RTP_EXT_PROFILE_ONE_BYTE, 5, 3, 0, 33);
    check(g[1].d[1], g[1].len[1], RTC_RTP_EXT_PROFILE_ONE_BYTE, 5, 3, 0, 44);
    check(g[2].d[0], g[2].len[0], RTC_RTP_EXT_PROFILE_TWO_BYTE, 20, 200, 3, 33);
    check(g[2].d[1], g[2].len[1], RTC_RTP_EXT_PROFILE_TWO_BYTE, 20, 200, 3, 44);
    /* the header is 4-aligned and the block ends where the payload starts */
    ASSERT_EQ((g[2].len[0] - sizeof PAYLOAD) % 4, 0);

    /* 3: a block that runs past the packet is malformed and forwarded to nobody */
    b = packet(12, RTC_RTP_EXT_PROFILE_TWO_BYTE, e2, 8);
    b->data[12 + 12 + 3] = 200;                              /* 800 bytes of extension */
    ASSERT(rtc_sfu_router_handle_rtp(R, p, b, RTC_MS(60)) < 0);
    rtc_buf_unref(b);
    drain(g);
    ASSERT_EQ(g[1].n, 2);
    rtc_sfu_router_free(R);
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    ASSERT_EQ(ps.in_use, 0);
    rtc_pool_free(pool);
}

/* RED (RFC 2198): a consumer with red_pt gets each packet wrapped with the one before
 * it, both blocks under its own Opus type; one without gets the plain Opus packet. */
static void test_red_for_one_plain_for_other(void)
{
    pool = rtc_pool_new(64);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, 0));
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0xA0, .local_ssrc = 1, .rr_interval = -1 };
    rtc_sfu_producer *p;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &p, 0));
    rtc_sfu_consumer *c;
    rtc_sfu_consumer_config red = { .codec = RTC_CODEC_OPUS, .pt = 109, .red_pt = 63, .ssrc = 1001, .user = (void *)1 };
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &red, p, &c, 0));
    rtc_sfu_consumer_config plain = { .codec = RTC_CODEC_OPUS, .pt = 100, .ssrc = 1002, .user = (void *)2 };
    ASSERT_OK(rtc_sfu_router_add_consumer(R, &plain, p, &c, 0));
    rtc_sfu_consumer_config bad = { .codec = RTC_CODEC_OPUS, .pt = 96, .red_pt = 200, .ssrc = 1003 };
    ASSERT_EQ(rtc_sfu_router_add_consumer(R, &bad, p, &c, 0), RTC_EINVAL);
    got g[3] = { 0 };
    uint8_t none[4] = { 0 };
    for (uint16_t k = 0; k < 2; k++) {
        rtc_buf *b = packet((uint16_t)(20 + k), RTC_RTP_EXT_PROFILE_ONE_BYTE, none, 4);
        b->data[b->len - 1] = (uint8_t)k;                   /* payloads differ */
        ASSERT_OK(rtc_sfu_router_handle_rtp(R, p, b, RTC_MS(20) * (k + 1)));
        rtc_buf_unref(b);
        drain(g);
    }
    ASSERT_EQ(g[1].n, 2);
    ASSERT_EQ(g[2].n, 2);
    uint8_t want[2][sizeof PAYLOAD];
    for (int k = 0; k < 2; k++) { memcpy(want[k], PAYLOAD, sizeof PAYLOAD); want[k][sizeof PAYLOAD - 1] = (uint8_t)k; }
    for (int k = 0; k < 2; k++) {
        rtc_rtp_packet rp;
        ASSERT_OK(rtc_rtp_parse(&rp, g[2].d[k], g[2].len[k]));
        ASSERT_EQ(rp.h.pt, 100);
        ASSERT_EQ(rp.payload_len, sizeof PAYLOAD);
        ASSERT_MEMEQ(rp.payload, want[k], sizeof PAYLOAD);
        ASSERT_OK(rtc_rtp_parse(&rp, g[1].d[k], g[1].len[k]));
        ASSERT_EQ(rp.h.pt, 63);
        ASSERT_EQ(rp.h.csrc_count, 3);
        rtc_red_block blk[4];
        size_t n;
        ASSERT_OK(rtc_red_parse(rp.payload, rp.payload_len, blk, 4, &n));
        ASSERT_EQ(n, (size_t)k + 1);                        /* the first has nothing before it */
        for (size_t i = 0; i < n; i++) ASSERT_EQ(blk[i].pt, 109);
        ASSERT_EQ(blk[n - 1].len, sizeof PAYLOAD);
        ASSERT_MEMEQ(blk[n - 1].data, want[k], sizeof PAYLOAD);
        if (k == 1) {
            ASSERT_EQ(blk[0].ts_offset, 960);
            ASSERT_EQ(blk[0].len, sizeof PAYLOAD);
            ASSERT_MEMEQ(blk[0].data, want[0], sizeof PAYLOAD);
        }
    }
    rtc_sfu_router_free(R);
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    ASSERT_EQ(ps.in_use, 0);
    rtc_pool_free(pool);
}

int main(void)
{
    RUN(test_forwarding_maps_ids);
    RUN(test_red_for_one_plain_for_other);
    return 0;
}
