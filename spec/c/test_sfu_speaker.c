/* Active speaker detection (sfu/sfu_speaker.h) on a virtual clock with synthetic
 * RFC 6464 levels: three Opus producers in one observer, each packet 20 ms apart.
 * Checked: the first speaker is named at once; a short interruption (a cough) does
 * not move the speaker, a sustained one does, only after the hold; silence keeps the
 * last speaker; level reports come once per interval, loudest first, and silence is
 * reported once; a removed producer leaves the observer; DTX (no packets in silence)
 * scores as silence; bad configs and video producers are refused. */
#include "rtc_test.h"
#include "codec/codec.h"
#include "core/rtc_errors.h"
#include "rtp/rtp_ext.h"
#include "rtp/rtp_packet.h"
#include "sfu/sfu_router.h"
#include "sfu/sfu_speaker.h"

#define LEVEL_ID 1
#define SILENT 127

static rtc_pool *pool;
static rtc_sfu_router *R;
static rtc_sfu_speaker *S;
static rtc_time now;
static rtc_sfu_producer *P[3];
static uint16_t seq[3];
static uint32_t ts[3];

/* what the observer said */
static int nspeaker, nlevels, nsilent_reports;
static rtc_sfu_producer *last_speaker;
static rtc_time last_speaker_at;
static rtc_sfu_level last_levels[8];
static int last_nlevels;

static void drain(void)
{
    rtc_sfu_transmit t;
    while (rtc_sfu_router_poll_transmit(R, &t)) rtc_sfu_transmit_release(&t);
    rtc_sfu_event ev;
    while (rtc_sfu_router_poll_event(R, &ev)) {
        if (ev.type == RTC_SFU_EV_ACTIVE_SPEAKER) {
            ASSERT(ev.speaker == S);
            ASSERT_EQ((intptr_t)ev.user, 77);
            ASSERT(ev.producer == rtc_sfu_speaker_dominant(S));
            nspeaker++;
            last_speaker = ev.producer;
            last_speaker_at = now;
        } else if (ev.type == RTC_SFU_EV_AUDIO_LEVELS) {
            ASSERT(ev.speaker == S);
            nlevels++;
            last_nlevels = rtc_sfu_speaker_levels(S, last_levels, 8);
            if (!last_nlevels) nsilent_reports++;
        }
    }
}

static void send_level(int i, int level)
{
    rtc_rtp_header h = { .pt = 111, .seq = seq[i]++, .ts = ts[i], .ssrc = 0x100u + (uint32_t)i };
    ts[i] += 960;
    uint8_t lv[1];
    rtc_ext_put_audio_level(lv, level < SILENT, (uint8_t)level);
    rtc_rtp_add_ext(&h, LEVEL_ID, lv, 1);
    uint8_t pay[20] = { 0xf8 };                  /* an Opus TOC byte, then anything */
    rtc_buf *b = rtc_buf_alloc(pool, 1500);
    int n = rtc_rtp_write(b->data, b->cap, &h, pay, sizeof pay, 0);
    ASSERT(n > 0);
    b->len = (size_t)n;
    ASSERT_OK(rtc_sfu_router_handle_rtp(R, P[i], b, now));
    rtc_buf_unref(b);
    drain();
}

/* Advance the clock by ms in 20 ms steps; each step every producer with a level >= 0
 * sends one packet (-1: sends nothing, as with DTX); the router's deadlines are met. */
static void run(int ms, int l0, int l1, int l2)
{
    int lv[3] = { l0, l1, l2 };
    for (int t = 0; t < ms; t += 20) {
        rtc_time step_end = now + RTC_MS(20);
        for (;;) {
            rtc_time due = rtc_sfu_router_poll_timeout(R);
            if (due > step_end) break;
            if (due > now) now = due;
            rtc_sfu_router_handle_timeout(R, now);
            drain();
        }
        now = step_end;
        for (int i = 0; i < 3; i++) if (lv[i] >= 0) send_level(i, lv[i]);
    }
}

static void setup(const rtc_sfu_speaker_config *cfg)
{
    now = RTC_SEC(1000);
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, now));
    for (int i = 0; i < 3; i++) {
        rtc_sfu_producer_config pc = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 0x100u + (uint32_t)i,
                                       .local_ssrc = 1, .mid = "0", .rr_interval = -1,
                                       .user = (void *)(intptr_t)(i + 1) };
        pc.ext_id[RTC_SFU_EXT_AUDIO_LEVEL] = LEVEL_ID;
        ASSERT_OK(rtc_sfu_router_add_producer(R, &pc, &P[i], now));
        seq[i] = (uint16_t)(1000 * i);
        ts[i] = 0;
    }
    rtc_sfu_speaker_config c = cfg ? *cfg : (rtc_sfu_speaker_config){0};
    c.user = (void *)(intptr_t)77;
    ASSERT_OK(rtc_sfu_router_add_speaker(R, &c, &S, now));
    for (int i = 0; i < 3; i++) ASSERT_OK(rtc_sfu_speaker_add_producer(S, P[i]));
    nspeaker = nlevels = nsilent_reports = last_nlevels = 0;
    last_speaker = NULL;
}

static void teardown(void)
{
    rtc_sfu_router_free(R);
    R = NULL;
    S = NULL;
}

static void test_dominant_speaker_with_hysteresis(void)
{
    setup(NULL);                                /* interval 300 ms, window 1 s, hold 500 ms */
    ASSERT_EQ(rtc_sfu_router_poll_timeout(R), RTC_TIME_NEVER);   /* idle until a level arrives */
    run(1000, SILENT, SILENT, SILENT);
    ASSERT_EQ(nspeaker, 0);                     /* silence names nobody */
    ASSERT(rtc_sfu_speaker_dominant(S) == NULL);

    /* A speaks: named at the first decision, no hold needed */
    rtc_time start = now;
    run(400, 20, SILENT, SILENT);
    ASSERT_EQ(nspeaker, 1);
    ASSERT(last_speaker == P[0]);
    ASSERT_LE(last_speaker_at - start, RTC_MS(320));
    run(2000, 20, SILENT, SILENT);
    ASSERT_EQ(nspeaker, 1);                     /* no repeats while A goes on */

    /* C coughs for 200 ms, louder than A: not enough to take over */
    run(200, 20, SILENT, 5);
    run(1500, 20, SILENT, SILENT);
    ASSERT_EQ(nspeaker, 1);
    ASSERT(rtc_sfu_speaker_dominant(S) == P[0]);

    /* A stops, B starts: B leads once its window score beats A's fading one by the
     * margin (about 0.55 s in), and takes over after its lead held 0.5 s more */
    start = now;
    run(3000, SILENT, 25, SILENT);
    ASSERT_EQ(nspeaker, 2);
    ASSERT(last_speaker == P[1]);
    ASSERT_GE(last_speaker_at - start, RTC_MS(1000));
    ASSERT_LE(last_speaker_at - start, RTC_MS(1500));

    /* A and B talk over each other at the same level: B keeps it (no clear lead) */
    run(3000, 25, 25, SILENT);
    ASSERT_EQ(nspeaker, 2);

    /* everyone silent: B stays the dominant speaker */
    run(3000, SILENT, SILENT, SILENT);
    ASSERT_EQ(nspeaker, 2);
    ASSERT(rtc_sfu_speaker_dominant(S) == P[1]);

    /* C talks: it takes over */
    run(3000, SILENT, SILENT, 30);
    ASSERT_EQ(nspeaker, 3);
    ASSERT(last_speaker == P[2]);
    teardown();
}

static void test_level_reports(void)
{
    setup(&(rtc_sfu_speaker_config){ .interval = RTC_MS(200) });
    run(3000, 10, 40, SILENT);
    /* one report per interval: 3 s / 200 ms, give or take the first and last */
    ASSERT_GE(nlevels, 14);
    ASSERT_LE(nlevels, 16);
    ASSERT_EQ(last_nlevels, 2);                 /* C is silent: not named */
    ASSERT(last_levels[0].producer == P[0]);    /* loudest first */
    ASSERT_EQ(last_levels[0].level, 10);
    ASSERT_EQ((intptr_t)last_levels[0].user, 1);
    ASSERT(last_levels[0].voice);
    ASSERT(last_levels[1].producer == P[1]);
    ASSERT_EQ(last_levels[1].level, 40);
    ASSERT_EQ(nsilent_reports, 0);
    int before = nlevels;
    run(3000, SILENT, SILENT, SILENT);
    ASSERT_EQ(nsilent_reports, 1);              /* silence is reported once */
    ASSERT_LE(nlevels, before + 2);             /* at most one more with the last speech in it */
    ASSERT_EQ(last_nlevels, 0);
    /* nothing heard for longer than the window (and the producers' layer idle time):
     * the observer sleeps, so the router does */
    run(2000, -1, -1, -1);
    ASSERT_EQ(rtc_sfu_router_poll_timeout(R), RTC_TIME_NEVER);
    teardown();
}

static void test_dtx_and_removal(void)
{
    setup(NULL);
    run(1500, 30, -1, -1);                      /* B and C send nothing at all (DTX) */
    ASSERT(last_speaker == P[0]);
    run(3000, -1, 30, -1);                      /* A goes quiet by sending nothing */
    ASSERT(last_speaker == P[1]);
    ASSERT_EQ(rtc_sfu_speaker_score(S, P[0], now), 0);
    ASSERT_GE(rtc_sfu_speaker_score(S, P[1], now), 35);

    /* the dominant speaker's producer goes: the observer forgets it, and the next
     * one heard takes over at once */
    rtc_sfu_router_remove_producer(R, P[1]);
    P[1] = NULL;
    ASSERT(rtc_sfu_speaker_dominant(S) == NULL);
    int n = nspeaker;
    rtc_time start = now;
    for (int t = 0; t < 400; t += 20) {        /* run() without P[1] */
        now += RTC_MS(20);
        rtc_sfu_router_handle_timeout(R, now);
        drain();
        send_level(2, 30);
    }
    ASSERT_EQ(nspeaker, n + 1);
    ASSERT(last_speaker == P[2]);
    ASSERT_LE(last_speaker_at - start, RTC_MS(400));
    for (int i = 0; i < last_nlevels; i++) ASSERT(last_levels[i].producer != NULL);

    /* removing the observer leaves the producers forwarding */
    rtc_sfu_router_remove_speaker(R, S);
    S = NULL;
    send_level(0, 20);                         /* still taken (send_level checks) */
    teardown();
}

static void test_bad_config(void)
{
    now = 0;
    ASSERT_OK(rtc_sfu_router_new(&R, &(rtc_sfu_router_config){ .pool = pool }, now));
    rtc_sfu_speaker *s;
    ASSERT_EQ(rtc_sfu_router_add_speaker(R, &(rtc_sfu_speaker_config){ .interval = RTC_MS(5) }, &s, now), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_router_add_speaker(R, &(rtc_sfu_speaker_config){ .interval = -1 }, &s, now), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_router_add_speaker(R, &(rtc_sfu_speaker_config){ .silence_level = 200 }, &s, now), RTC_EINVAL);
    ASSERT_OK(rtc_sfu_router_add_speaker(R, NULL, &s, now));
    rtc_sfu_producer_config vc = { .codec = RTC_CODEC_VP8, .pt = 96, .ssrc = 5, .local_ssrc = 1 };
    rtc_sfu_producer *v;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &vc, &v, now));
    ASSERT_EQ(rtc_sfu_speaker_add_producer(s, v), RTC_EINVAL);
    ASSERT_EQ(rtc_sfu_speaker_score(s, v, now), -1);
    /* a producer moves between observers; freeing the router frees both */
    rtc_sfu_producer_config ac = { .codec = RTC_CODEC_OPUS, .pt = 111, .ssrc = 6, .local_ssrc = 1 };
    rtc_sfu_producer *a;
    ASSERT_OK(rtc_sfu_router_add_producer(R, &ac, &a, now));
    rtc_sfu_speaker *s2;
    ASSERT_OK(rtc_sfu_router_add_speaker(R, NULL, &s2, now));
    ASSERT_OK(rtc_sfu_speaker_add_producer(s, a));
    ASSERT_OK(rtc_sfu_speaker_add_producer(s2, a));
    ASSERT_EQ(rtc_sfu_speaker_score(s, a, now), -1);
    ASSERT_EQ(rtc_sfu_speaker_score(s2, a, now), 0);
    rtc_sfu_router_free(R);
    R = NULL;
}

int main(void)
{
    pool = rtc_pool_new(64);
    ASSERT(pool);
    RUN(test_dominant_speaker_with_hysteresis);
    RUN(test_level_reports);
    RUN(test_dtx_and_removal);
    RUN(test_bad_config);
    rtc_pool_free(pool);
    return 0;
}
