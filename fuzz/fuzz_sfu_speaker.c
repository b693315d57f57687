/* libFuzzer target: the active speaker observer. The input is a script of operations
 * (one op byte, one length byte, then that many bytes): RTP (with any audio level
 * byte) from one of three Opus publishers, time passing, a producer leaving and a new
 * one joining, the observer replaced. Every event must name a live producer of the
 * observer, every level report must be sorted and hold live producers, and every
 * buffer ref must come back. */
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"
#include "sfu/sfu_speaker.h"
#include <stdlib.h>
#include <string.h>

static rtc_sfu_producer *P[3];
static rtc_sfu_speaker *S;

static bool live(const rtc_sfu_producer *p)
{
    for (int i = 0; i < 3; i++) if (p && P[i] == p) return true;
    return false;
}

static void drain(rtc_sfu_router *r)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(r, &t)) rtc_sfu_transmit_release(&t);
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(r, &ev)) {
        if (ev.type == RTC_SFU_EV_ACTIVE_SPEAKER && (ev.speaker != S || !live(ev.producer))) abort();
        if (ev.type == RTC_SFU_EV_AUDIO_LEVELS) {
            if (ev.speaker != S) abort();
            rtc_sfu_level lv[8];
            int n = rtc_sfu_speaker_levels(S, lv, 8);
            for (int i = 0; i < n; i++) {
                if (!live(lv[i].producer) || lv[i].level > 127) abort();
                if (i && lv[i].level < lv[i - 1].level) abort();
            }
        }
    }
}

static rtc_sfu_producer *add(rtc_sfu_router *r, int i)
{
    rtc_sfu_producer_config pc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 10u + (uint32_t)i, .local_ssrc = 1,
                                   .cache = { .slots = 16, .max_bytes = 20000 } };
    pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = 1;
    rtc_sfu_producer *p;
    if (rtc_sfu_router_add_producer(r, &pc, &p, 0) < 0) abort();
    if (rtc_sfu_speaker_add_producer(S, p) < 0) abort();
    return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_pool *pool = rtc_pool_new(64);
    rtc_sfu_router *r;
    if (rtc_sfu_router_new(&r, &(rtc_sfu_router_config){ .pool = pool }, 0) < 0) abort();
    if (rtc_sfu_router_add_speaker(r, &(rtc_sfu_speaker_config){ .interval = RTC_MS(20), .hold = RTC_MS(40) }, &S, 0) < 0)
        abort();
    for (int i = 0; i < 3; i++) P[i] = add(r, i);
    rtc_time now = 1000;
    uint16_t seq[3] = { 0, 0, 0 };
    size_t o = 0;
    while (o + 2 <= size) {
        uint8_t op = data[o], n = data[o + 1];
        o += 2;
        if (n > size - o) n = (uint8_t)(size - o);
        const uint8_t *b = data + o;
        o += n;
        int who = (op >> 2) % 3;
        switch (op & 3) {
        case 0: {                                   /* a packet with the fuzzer's level byte and payload */
            if (!P[who]) break;
            rtc_rtp_header h = { .pt = 111, .seq = seq[who]++, .ts = (uint32_t)now, .ssrc = 10u + (uint32_t)who };
            uint8_t lv = n ? b[0] : 0;
            rtc_rtp_add_ext(&h, 1, &lv, 1);
            rtc_buf *pk = rtc_buf_alloc(pool, 1500);
            int len = rtc_rtp_write(pk->data, pk->cap, &h, n > 1 ? b + 1 : (const uint8_t *)"\xf8", n > 1 ? n - 1u : 1u, 0);
            if (len < 0) abort();
            pk->len = (size_t)len;
            rtc_sfu_router_handle_rtp(r, P[who], pk, now);
            rtc_buf_unref(pk);
            break;
        }
        case 1: now += (rtc_time)(n + 1) * 997; rtc_sfu_router_handle_timeout(r, now); break;
        case 2:                                     /* leave, or join again */
            if (P[who]) { rtc_sfu_router_remove_producer(r, P[who]); P[who] = NULL; }
            else P[who] = add(r, who);
            break;
        case 3:                                     /* a new observer takes every producer */
            rtc_sfu_router_remove_speaker(r, S);
            if (rtc_sfu_router_add_speaker(r, &(rtc_sfu_speaker_config){ .interval = RTC_MS(20 + n) }, &S, now) < 0)
                abort();
            for (int i = 0; i < 3; i++) if (P[i] && rtc_sfu_speaker_add_producer(S, P[i]) < 0) abort();
            break;
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
