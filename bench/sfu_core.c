/* SFU core micro-benchmark: one VP8 publisher fanned out to N consumers inside one
 * router (no SRTP, no sockets). Prints ns per forwarded packet per consumer for the
 * rewrite alone (poll_transmit + release: what the core costs) and with the copy
 * into one contiguous datagram (what an inject path adds before SRTP), and the heap one
 * consumer takes in the core (malloc'd bytes with N consumers less those without, over N;
 * the producer's cache is shared and not counted).
 * Figures only; nothing asserts on time. */
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>

static rtc_buf *make_packet(rtc_pool *pool, uint16_t seq, uint32_t ts, int pic, bool kf, bool begin, bool marker)
{
    rtc_rtp_header h = { .pt = 96, .seq = seq, .ts = ts, .ssrc = 0xABC, .marker = marker };
    uint8_t lv[1], tw[2] = { 0, 0 };
    rtc_ext_put_audio_level(lv, false, 127);
    rtc_rtp_add_ext(&h, 1, lv, 1);
    rtc_rtp_add_ext(&h, 5, tw, 2);
    uint8_t pay[1100] = { (uint8_t)(0x80 | (begin ? 0x10 : 0)), 0xC0, (uint8_t)(0x80 | (pic >> 8)), (uint8_t)pic, 0, kf ? 0x10 : 0x11 };
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    b->len = (size_t)rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
    return b;
}

static double run(int n, bool flatten, double *bytes_per_consumer)
{
    rtc_pool *pool = rtc_pool_new(1024);
    rtc_sfu_router *r;
    rtc_sfu_router_new(&r, &(rtc_sfu_router_config){ .pool = pool }, 0);
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 0xABC, .local_ssrc = 1, .rr_interval = -1 };
    pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 1;
    rtc_sfu_producer *p;
    rtc_sfu_router_add_producer(r, &pc, &p, 0);
    size_t heap0 = mallinfo2().uordblks;
    for (int i = 0; i < n; i++) {
        rtc_sfu_consumer_config cc = { .codec = RTC_CODEC_VP8, .pt = 100, .ssrc = 1000u + (uint32_t)i, .rtx_pt = 101,
                                       .rtx_ssrc = 5000u + (uint32_t)i, .initial_seq = (uint16_t)(i * 7), .mid = "1" };
        cc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 3;
        cc.ext_id[RTC_SFU_EXT_MID] = 4;
        cc.ext_id[RTC_SFU_EXT_TWCC] = 5;
        rtc_sfu_consumer *c;
        rtc_sfu_router_add_consumer(r, &cc, p, &c, 0);
    }
    if (bytes_per_consumer) *bytes_per_consumer = (double)(mallinfo2().uordblks - heap0) / n;
    long packets = 2000000 / n;
    if (packets < 4000) packets = 4000;
    static uint8_t out[2048];
    volatile size_t sink = 0;
    rtc_time t0 = 0, now = 0;
    uint64_t forwarded = 0;
    for (long i = 0; i < packets + 1000; i++) {
        if (i == 1000) { t0 = rtc_clock_now(); forwarded = 0; }   /* after the warm-up */
        now += 5000;
        int frame = (int)(i / 5);
        rtc_buf *b = make_packet(pool, (uint16_t)i, (uint32_t)frame * 3000, frame & 0x7fff, i == 0, i % 5 == 0, i % 5 == 4);
        rtc_sfu_router_handle_rtp(r, p, b, now);
        rtc_buf_unref(b);
        rtc_sfu_transmit t;
        while (rtc_sfu_router_poll_transmit(r, &t)) {
            if (flatten) sink += (size_t)rtc_sfu_transmit_flatten(&t, out, sizeof out);
            forwarded += t.kind == RTC_SFU_TX_RTP;
            rtc_sfu_transmit_release(&t);
        }
        rtc_sfu_event ev;
        while (rtc_sfu_router_poll_event(r, &ev)) {}
        if (rtc_sfu_router_poll_timeout(r) <= now) rtc_sfu_router_handle_timeout(r, now);
    }
    rtc_time dt = rtc_clock_now() - t0;
    rtc_sfu_router_free(r);
    rtc_pool_free(pool);
    (void)sink;
    return (double)dt * 1000.0 / (double)forwarded;
}

int main(void)
{
    printf("| consumers | ns/packet/consumer (rewrite) | ns/packet/consumer (rewrite + copy) | core KB/consumer |\n");
    printf("| --------- | ---------------------------- | ----------------------------------- | ---------------- |\n");
    int ns[] = { 1, 10, 100, 500 };
    for (int i = 0; i < 4; i++) {
        double bytes = 0, a = run(ns[i], false, &bytes), b = run(ns[i], true, NULL);
        printf("| %9d | %28.1f | %35.1f | %16.2f |\n", ns[i], a, b, bytes / 1024);
    }
    return 0;
}
