/* Data channel delivery modes and flow: partial reliability under loss, 1000 channels,
 * and a 16 MiB transfer through backpressure with bounded memory. */
#include "test_sctp_harness.h"

/* {====== partial reliability ======} */

typedef struct pr_ctx {
    uint8_t seen[1000];
    int dup, reordered, last, done;
} pr_ctx;

static void pr_hook(pair *p, int who, const rtc_sctp_event *ev)
{
    pr_ctx *c = p->ud;
    if (who != 1 || ev->type != RTC_SCTP_EV_MESSAGE) return;
    if (ev->buf->len == 4 && !memcmp(ev->buf->data, "done", 4)) {
        c->done++;
        return;
    }
    ASSERT_EQ(ev->buf->len, 200);
    uint32_t seq = (uint32_t)ev->buf->data[0] << 8 | ev->buf->data[1];
    ASSERT(seq < 1000);
    ASSERT(check_pattern(ev->buf->data + 2, 198, seq));
    if (c->seen[seq]) c->dup++;
    c->seen[seq] = 1;
    if ((int)seq < c->last) c->reordered++;
    c->last = (int)seq;
}

static bool pr_done(pair *p) { return ((pr_ctx *)p->ud)->done > 0; }

static void run_partial(bool by_lifetime, uint64_t seed)
{
    pair p;
    pr_ctx ctx = { .last = -1 };
    pair_init(&p, seed, NULL, NULL);
    p.ud = &ctx;
    p.hook = pr_hook;
    p.s[1].keep = false;
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    rtc_data_channel_init in = { .label = "lossy", .unordered = true };
    if (by_lifetime) {
        in.has_max_packet_life_time = true;
        in.max_packet_life_time = 40;   /* ms: below the minimum RTO, so a lost message is never resent */
    } else {
        in.has_max_retransmits = true;
        in.max_retransmits = 0;
    }
    int sid = rtc_data_channel_create(p.s[0].a, &in, p.now);
    int rel = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "reliable" }, p.now);
    ASSERT_OK(sid);
    ASSERT_OK(rel);
    pair_run(&p, NULL, RTC_MS(100));              /* the ACK is back: sends are unordered from here */
    rtc_data_channel_info info;
    ASSERT_OK(rtc_data_channel_get_info(p.s[1].a, (uint16_t)sid, &info));
    ASSERT(info.unordered);
    ASSERT_EQ(by_lifetime ? info.max_packet_life_time : info.max_retransmits, by_lifetime ? 40 : 0);
    vnet_set_link(p.net, (vnet_link){ .loss = 0.10, .delay = RTC_MS(20), .jitter = RTC_MS(30) });
    uint8_t msg[200];
    for (uint32_t i = 0; i < 1000; i++) {
        msg[0] = (uint8_t)(i >> 8);
        msg[1] = (uint8_t)i;
        fill_pattern(msg + 2, 198, i);
        ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)sid, msg, sizeof msg, true, p.now));
        pair_run(&p, NULL, RTC_MS(4));
    }
    /* The reliable channel is not held up by what the lossy one abandoned. */
    ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)rel, "done", 4, false, p.now));
    ASSERT(pair_run(&p, pr_done, RTC_SEC(30)));
    pair_run(&p, NULL, RTC_SEC(2));
    int got = 0;
    for (int i = 0; i < 1000; i++) got += ctx.seen[i];
    fprintf(stderr, "   %s: %d of 1000 delivered, %d out of order, %zu of %zu packets dropped\n",
            by_lifetime ? "lifetime 40 ms" : "max_retransmits 0", got, ctx.reordered,
            vnet_dropped(p.net), vnet_sent(p.net));
    ASSERT_EQ(ctx.dup, 0);
    ASSERT(got < 1000);                  /* some were given up on ... */
    ASSERT(got > 700);                   /* ... but most arrived */
    ASSERT(ctx.reordered > 0);           /* unordered: jitter shows through */
    ASSERT_EQ(rtc_data_channel_buffered_amount(p.s[0].a, (uint16_t)sid), 0);   /* nothing stuck */
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[1].a, &st);
    ASSERT_EQ(st.unknown_stream, 0);
    pair_free(&p);
}

static void test_unordered_max_retransmits_0(void) { run_partial(false, 21); }
static void test_unordered_lifetime(void) { run_partial(true, 22); }

/* {====== many channels ======} */

#define NCHAN 1000

static bool all_open(pair *p) { return p->s[1].datachannel >= NCHAN; }
static bool all_msgs(pair *p) { return p->s[0].messages >= NCHAN && p->s[1].messages >= NCHAN; }

static void test_thousand_channels(void)
{
    pair p;
    pair_init(&p, 23, NULL, NULL);
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    char label[32];
    for (int i = 0; i < NCHAN; i++) {
        snprintf(label, sizeof label, "ch%d", i);
        ASSERT_EQ(rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = label }, p.now), 2 * i);
    }
    ASSERT(pair_run(&p, all_open, RTC_SEC(30)));
    for (int i = 0; i < NCHAN; i++) {
        rtc_data_channel_info info;
        ASSERT_OK(rtc_data_channel_get_info(p.s[1].a, (uint16_t)(2 * i), &info));
        snprintf(label, sizeof label, "ch%d", i);
        ASSERT_STREQ(info.label, label);
        ASSERT_OK(rtc_data_channel_send(p.s[1].a, (uint16_t)(2 * i), label, strlen(label), false, p.now));
        ASSERT_OK(rtc_data_channel_send(p.s[0].a, (uint16_t)(2 * i), label, strlen(label), true, p.now));
    }
    ASSERT(pair_run(&p, all_msgs, RTC_SEC(30)));
    for (int s = 0; s < 2; s++) {
        ASSERT_EQ(p.s[s].nmsgs, NCHAN);
        static uint8_t seen[2 * NCHAN];
        memset(seen, 0, sizeof seen);
        for (size_t i = 0; i < p.s[s].nmsgs; i++) {
            msg_rec *m = &p.s[s].msgs[i];
            snprintf(label, sizeof label, "ch%d", m->sid / 2);
            ASSERT_EQ(m->buf->len, strlen(label));
            ASSERT_MEMEQ(m->buf->data, label, m->buf->len);
            ASSERT_EQ(m->binary, s == 1);
            ASSERT(!seen[m->sid]);
            seen[m->sid] = 1;
        }
    }
    rtc_sctp_stats st;
    rtc_sctp_assoc_get_stats(p.s[0].a, &st);
    ASSERT_EQ(st.channels, NCHAN);
    pair_free(&p);
}

/* {====== bulk transfer through backpressure ======} */

#define BULK_TOTAL (16u * 1024 * 1024)
#define BULK_MSG (16 * 1024)
#define BULK_HIGH (1024 * 1024)
#define BULK_LOW (256 * 1024)

typedef struct bulk_ctx {
    uint16_t sid;
    uint32_t next_send, next_recv;
    size_t max_buffered, max_queue_packets;
    uint64_t received;
    int lows;
    uint8_t msg[BULK_MSG];
} bulk_ctx;

static void bulk_write(pair *p, bulk_ctx *c)
{
    /* A well-behaved sender: write while under the high-water mark, then wait for LOW. */
    while (c->next_send < BULK_TOTAL / BULK_MSG &&
           rtc_data_channel_buffered_amount(p->s[0].a, c->sid) < BULK_HIGH) {
        fill_pattern(c->msg, BULK_MSG, c->next_send);
        ASSERT_OK(rtc_data_channel_send(p->s[0].a, c->sid, c->msg, BULK_MSG, true, p->now));
        c->next_send++;
        size_t b = rtc_data_channel_buffered_amount(p->s[0].a, c->sid);
        if (b > c->max_buffered) c->max_buffered = b;
    }
}

static void bulk_hook(pair *p, int who, const rtc_sctp_event *ev)
{
    bulk_ctx *c = p->ud;
    if (who == 0 && ev->type == RTC_SCTP_EV_BUFFERED_AMOUNT_LOW && ev->sid == c->sid) {
        c->lows++;
        ASSERT(rtc_data_channel_buffered_amount(p->s[0].a, c->sid) <= BULK_LOW);
        bulk_write(p, c);
    }
    if (who == 1 && ev->type == RTC_SCTP_EV_MESSAGE) {
        ASSERT_EQ(ev->buf->len, BULK_MSG);
        ASSERT(check_pattern(ev->buf->data, BULK_MSG, c->next_recv));
        c->next_recv++;
        c->received += ev->buf->len;
    }
}

static bool bulk_done(pair *p) { return ((bulk_ctx *)p->ud)->received >= BULK_TOTAL; }

static void test_bulk_backpressure(void)
{
    pair p;
    static bulk_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    pair_init(&p, 24, NULL, NULL);
    p.ud = &ctx;
    p.hook = bulk_hook;
    p.s[0].keep = p.s[1].keep = false;
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "bulk" }, p.now);
    ASSERT_OK(sid);
    ctx.sid = (uint16_t)sid;
    ASSERT_OK(rtc_data_channel_set_buffered_amount_low_threshold(p.s[0].a, ctx.sid, BULK_LOW));
    rtc_time start = p.now;
    bulk_write(&p, &ctx);
    ASSERT(pair_run(&p, bulk_done, RTC_SEC(600)));
    pair_run(&p, NULL, RTC_SEC(1));
    double secs = (double)(p.now - start) / 1e6;
    fprintf(stderr, "   16 MiB in %.2f virtual s, %d LOW events, max buffered %zu, max packets queued %zu\n",
            secs, ctx.lows, ctx.max_buffered, p.s[0].max_out_queue);
    ASSERT_EQ(ctx.next_recv, BULK_TOTAL / BULK_MSG);
    ASSERT(ctx.lows > 0);
    /* Memory stays bounded: what the sender holds never exceeds the high-water mark
     * plus one message, and one drain never has more than a window of packets. */
    ASSERT_LE(ctx.max_buffered, BULK_HIGH + BULK_MSG);
    ASSERT_LE(p.s[0].max_out_queue, 2048);
    ASSERT_EQ(rtc_data_channel_buffered_amount(p.s[0].a, ctx.sid), 0);
    rtc_data_channel_info info;
    ASSERT_OK(rtc_data_channel_get_info(p.s[1].a, ctx.sid, &info));
    ASSERT_EQ(info.bytes_received, BULK_TOTAL);
    ASSERT_OK(rtc_data_channel_get_info(p.s[0].a, ctx.sid, &info));
    ASSERT_EQ(info.bytes_sent, BULK_TOTAL);
    ASSERT_EQ(info.messages_sent, BULK_TOTAL / BULK_MSG);
    pair_free(&p);
}

static void test_send_quota(void)
{
    /* A sender that ignores buffered_amount is stopped at max_buffered, not by memory. */
    rtc_sctp_config c = { .max_buffered = 512 * 1024 };
    pair p;
    pair_init(&p, 25, &c, NULL);
    p.s[1].keep = false;
    ASSERT(pair_run(&p, both_connected, RTC_SEC(10)));
    int sid = rtc_data_channel_create(p.s[0].a, &(rtc_data_channel_init){ .label = "q" }, p.now);
    static uint8_t buf[64 * 1024];
    int r = 0, n = 0;
    while ((r = rtc_data_channel_send(p.s[0].a, (uint16_t)sid, buf, sizeof buf, true, p.now)) == 0) n++;
    ASSERT_EQ(r, RTC_EQUOTA);
    ASSERT_EQ(n, 8);
    ASSERT_LE(rtc_data_channel_buffered_amount(p.s[0].a, (uint16_t)sid), 512 * 1024);
    pair_run(&p, NULL, RTC_SEC(2));
    ASSERT_EQ(rtc_data_channel_buffered_amount(p.s[0].a, (uint16_t)sid), 0);
    ASSERT_EQ(p.s[1].messages, 8);
    pair_free(&p);
}

int main(void)
{
    RUN(test_unordered_max_retransmits_0);
    RUN(test_unordered_lifetime);
    RUN(test_thousand_channels);
    RUN(test_bulk_backpressure);
    RUN(test_send_quota);
    ASSERT_OK(rtc_sctp_global_shutdown());
    return 0;
}
