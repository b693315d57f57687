/* libFuzzer target: the SFU consumer rewrite. The input is a script of operations
 * (one op byte, one length byte, then that many bytes): RTP from either of two
 * publishers, RTCP from a subscriber (NACK/PLI/RR or garbage), pause, resume, mute,
 * source switch, simulcast layers (set, preferred, bandwidth), time passing. Every datagram the router hands out must flatten and
 * parse as RTP/RTCP, every RTP one must carry its consumer's SSRC, and every buffer
 * ref must come back (ASan's leak check). */
#include "core/rtc_errors.h"
#include "rtp/rtcp.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"
#include <stdlib.h>
#include <string.h>

static void drain(rtc_sfu_router *r)
{
    rtc_sfu_transmit t;
    uint8_t d[2048];
    while (rtc_sfu_router_poll_transmit(r, &t)) {
        int n = rtc_sfu_transmit_flatten(&t, d, sizeof d);
        if (n < 0) abort();
        if (t.kind == RTC_SFU_TX_RTP) {
            rtc_rtp_packet p;
            if (rtc_rtp_parse(&p, d, (size_t)n) < 0) abort();
            if (p.h.ssrc != (t.rtx ? 2000u : 1000u) + (uint32_t)(intptr_t)t.user) abort();
        } else {
            rtc_rtcp_view v[8];
            if (rtc_rtcp_parse_compound(d, (size_t)n, v, 8) <= 0) abort();
        }
        rtc_sfu_transmit_release(&t);
    }
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(r, &ev)) {}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_pool *pool = rtc_pool_new(64);
    rtc_sfu_router *r;
    if (rtc_sfu_router_new(&r, &(rtc_sfu_router_config){ .pool = pool }, 0) < 0) abort();
    rtc_sfu_producer *p[2];
    for (int i = 0; i < 2; i++) {
        rtc_sfu_producer_config pc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 10u + (uint32_t)i, .local_ssrc = 1,
                                       .cache = { .slots = 64, .max_bytes = 40000 } };
        pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 1;
        pc.ext_id[RTC_SFU_EXT_VIDEO_ORIENTATION] = 2;
        if (rtc_sfu_router_add_producer(r, &pc, &p[i], 0) < 0) abort();
    }
    rtc_sfu_consumer *c[2];
    for (int i = 0; i < 2; i++) {
        rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_VP8, .pt = 100, .ssrc = 1000u + (uint32_t)i,
                                       .rtx_pt = i ? 101 : 0, .rtx_ssrc = 2000u + (uint32_t)i, .mid = "abcdefghijklmnop",
                                       .cname = "x", .user = (void *)(intptr_t)i };
        for (int k = 0; k < RTC_SFU_EXT__COUNT; k++) cc.ext_id[k] = (uint8_t)(k + 3 + i * 8);
        if (rtc_sfu_router_add_consumer(r, &cc, p[0], &c[i], 0) < 0) abort();
    }
    rtc_time now = 1000;
    size_t o = 0;
    while (o + 2 <= size) {
        uint8_t op = data[o], n = data[o + 1];
        o += 2;
        if (n > size - o) n = (uint8_t)(size - o);
        const uint8_t *b = data + o;
        o += n;
        int who = op & 1;
        switch ((op >> 1) % 8) {
        case 0: case 1: {
            rtc_buf *pk = rtc_buf_alloc(pool, n);
            if (n) memcpy(pk->data, b, n);
            pk->len = n;
            if (n >= 12) {                          /* aim at the producer: v2, its PT and SSRC */
                pk->data[0] = (uint8_t)((pk->data[0] & 0x3f) | 0x80);
                pk->data[1] = (uint8_t)((pk->data[1] & 0x80) | 96);
                pk->data[8] = pk->data[9] = pk->data[10] = 0;
                pk->data[11] = (uint8_t)(10 + who);
            }
            rtc_sfu_router_handle_rtp(r, p[who], pk, now);
            rtc_buf_unref(pk);
            break;
        }
        case 2: rtc_sfu_router_handle_consumer_rtcp(r, c[who], b, n, now); break;
        case 3: rtc_sfu_router_handle_producer_rtcp(r, p[who], b, n, now); break;
        case 4: if (op & 2) rtc_sfu_consumer_pause(c[who], now); else rtc_sfu_consumer_resume(c[who], now); break;
        case 5:
            if (op & 32) {                          /* the two producers as layers, either order */
                rtc_sfu_producer *ls[2] = { p[(op >> 4) & 1], p[!((op >> 4) & 1)] };
                rtc_sfu_consumer_set_layers(c[who], ls, (op & 64) ? 2 : 1, now);
            } else {
                rtc_sfu_consumer_set_source(c[who], p[(op >> 4) & 1], now);
            }
            break;
        case 6:
            if (op & 32) rtc_sfu_consumer_set_preferred_layers(c[who], ((op >> 6) & 3) - 1, n ? b[0] % 5 - 1 : -1, now);
            else if (op & 64) rtc_sfu_consumer_set_bandwidth(c[who], (uint64_t)n * 4000, now);
            else rtc_sfu_consumer_set_muted(c[who], op & 16, now);
            break;
        case 7: now += (rtc_time)n * 997; rtc_sfu_router_handle_timeout(r, now); break;
        }
        drain(r);
    }
    rtc_sfu_router_free(r);
    rtc_pool_stats ps;
    rtc_pool_get_stats(pool, &ps);
    if (ps.in_use) abort();
    rtc_pool_free(pool);
    return 0;
}
