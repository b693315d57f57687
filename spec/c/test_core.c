/* core/: buffers and pool, error table, addresses, log filter, rng, virtual network. */
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_addr.h"
#include "core/rtc_buf.h"
#include "core/rtc_errors.h"
#include "core/rtc_demux.h"
#include "core/rtc_log.h"
#include "core/rtc_rng.h"

static void test_pool_reuse_and_refs(void)
{
    rtc_pool *p = rtc_pool_new(4);
    rtc_buf *a = rtc_buf_alloc(p, 100);
    ASSERT(a && a->len == 0 && a->cap >= 100 && a->refs == 1);
    memcpy(a->data, "hello", 5); a->len = 5;
    rtc_buf_ref(a);
    rtc_buf_unref(a);
    ASSERT_MEMEQ(a->data, "hello", 5);                /* still alive: one ref left */
    rtc_pool_stats st; rtc_pool_get_stats(p, &st);
    ASSERT_EQ(st.in_use, 1);
    rtc_buf_unref(a);
    rtc_pool_get_stats(p, &st);
    ASSERT_EQ(st.in_use, 0); ASSERT_EQ(st.free, 1);
    rtc_buf *b = rtc_buf_alloc(p, 10);
    ASSERT(b == a);                                   /* recycled, not reallocated */
    ASSERT_EQ(rtc_buf_push_front(b, 12), 0);
    ASSERT_EQ(b->len, 12);
    ASSERT_EQ(rtc_buf_push_front(b, 4096), RTC_EOVERFLOW);
    rtc_buf *big = rtc_buf_alloc(p, 100000);          /* larger than the pool's size: heap */
    ASSERT(big && big->pool == NULL && big->cap >= 100000);
    rtc_buf_unref(big);
    rtc_pool_free(p);                                 /* b still out: freed on its unref */
    rtc_buf_unref(b);
}

static void test_pool_caps_free_list(void)
{
    rtc_pool *p = rtc_pool_new(2);
    rtc_buf *v[5];
    for (int i = 0; i < 5; i++) v[i] = rtc_buf_alloc(p, 10);
    for (int i = 0; i < 5; i++) rtc_buf_unref(v[i]);
    rtc_pool_stats st; rtc_pool_get_stats(p, &st);
    ASSERT_EQ(st.free, 2); ASSERT_EQ(st.allocated, 2);
    rtc_pool_free(p);
}

static void test_bufq(void)
{
    rtc_bufq q = {0};
    rtc_bufq_push(&q, rtc_buf_from("ab", 2));
    rtc_bufq_push(&q, rtc_buf_from("cde", 3));
    ASSERT_EQ(q.count, 2); ASSERT_EQ(q.bytes, 5);
    rtc_buf *b = rtc_bufq_pop(&q);
    ASSERT_MEMEQ(b->data, "ab", 2);
    rtc_buf_unref(b);
    rtc_bufq_clear(&q);
    ASSERT_EQ(q.count, 0); ASSERT(q.head == NULL && q.tail == NULL);
}

static void test_errors(void)
{
    ASSERT_STREQ(rtc_err_name(RTC_EPROTO), "EPROTO");
    ASSERT_STREQ(rtc_err_domname(RTC_ESTATE), "InvalidStateError");
    ASSERT_STREQ(rtc_strerror(RTC_ETIMEDOUT), "timed out");
    ASSERT_STREQ(rtc_err_name(-9999), "EUNKNOWN");
}

static void test_addr(void)
{
    rtc_addr a, b;
    char s[RTC_ADDR_STRLEN];
    ASSERT_EQ(rtc_addr_parse(&a, "127.0.0.1:5000"), 0);
    ASSERT_STREQ(rtc_addr_str(&a, s, sizeof s), "127.0.0.1:5000");
    ASSERT(rtc_addr_is_loopback(&a));
    ASSERT_EQ(rtc_addr_parse(&b, "[::1]:9"), 0);
    ASSERT_STREQ(rtc_addr_str(&b, s, sizeof s), "[::1]:9");
    ASSERT(rtc_addr_is_loopback(&b));
    ASSERT(!rtc_addr_eq(&a, &b));
    ASSERT_EQ(rtc_addr_parse(&b, "127.0.0.1:5000"), 0);
    ASSERT(rtc_addr_eq(&a, &b));
    ASSERT_EQ(rtc_addr_hash(&a), rtc_addr_hash(&b));
    ASSERT_EQ(rtc_addr_parse(&a, "1.2.3.4"), RTC_EINVAL);
    ASSERT_EQ(rtc_addr_parse(&a, "1.2.3.4:99999"), RTC_EINVAL);
    ASSERT_EQ(rtc_addr_parse(&a, "[::1:5"), RTC_EINVAL);
    ASSERT_EQ(rtc_addr_parse(&a, "host.local:5"), RTC_EINVAL);
    ASSERT_EQ(rtc_addr_set(&a, "192.168.1.2", 1), 0); ASSERT(rtc_addr_is_private(&a));
    ASSERT_EQ(rtc_addr_set(&a, "172.20.1.2", 1), 0); ASSERT(rtc_addr_is_private(&a));
    ASSERT_EQ(rtc_addr_set(&a, "172.32.1.2", 1), 0); ASSERT(!rtc_addr_is_private(&a));
    ASSERT_EQ(rtc_addr_set(&a, "169.254.3.3", 1), 0); ASSERT(rtc_addr_is_link_local(&a));
    ASSERT_EQ(rtc_addr_set(&a, "fe80::1", 1), 0); ASSERT(rtc_addr_is_link_local(&a));
}

static int sink_count;
static char sink_last[256];
static void sink(rtc_log_level l, const char *tag, const char *line, void *ud)
{
    sink_count++;
    snprintf(sink_last, sizeof sink_last, "%s:%s", tag, line);
}

static void test_log_filter(void)
{
    rtc_log_set_sink(sink, NULL);
    ASSERT_EQ(rtc_log_set_filter("info,ice=debug,dtls=off"), 0);
    ASSERT(rtc_log_enabled("ice", RTC_LOG_DEBUG));
    ASSERT(!rtc_log_enabled("ice", RTC_LOG_TRACE));
    ASSERT(!rtc_log_enabled("sctp", RTC_LOG_DEBUG));
    ASSERT(rtc_log_enabled("sctp", RTC_LOG_INFO));
    ASSERT(!rtc_log_enabled("dtls", RTC_LOG_ERROR));
    rtc_debug("ice", "pair %d", 7);
    rtc_debug("sctp", "hidden");
    ASSERT_EQ(sink_count, 1);
    ASSERT_STREQ(sink_last, "ice:pair 7");
    ASSERT_EQ(rtc_log_set_filter("loud"), RTC_EINVAL);   /* unknown level: unchanged */
    ASSERT(rtc_log_enabled("ice", RTC_LOG_DEBUG));
    ASSERT_EQ(rtc_log_set_filter("ice=shout"), RTC_EINVAL);
    ASSERT_EQ(rtc_log_set_filter(""), 0);
    ASSERT(!rtc_log_enabled("ice", RTC_LOG_INFO));        /* default is warn */
    rtc_log_set_sink(NULL, NULL);
}

static void test_rng(void)
{
    rtc_rng a, b;
    rtc_rng_init_seed(&a, 42);
    rtc_rng_init_seed(&b, 42);
    for (int i = 0; i < 100; i++) ASSERT_EQ(rtc_rng_u64(&a), rtc_rng_u64(&b));
    for (int i = 0; i < 1000; i++) ASSERT(rtc_rng_below(&a, 7) < 7);
    char ice[23];
    rtc_rng_ice_chars(&a, ice, 22);
    ASSERT_EQ(strlen(ice), 22);
    rtc_rng_init_crypto(&a);
    uint8_t x[16] = {0}, z[16] = {0};
    rtc_rng_bytes(&a, x, sizeof x);
    ASSERT(memcmp(x, z, 16) != 0);
}

static void test_vnet(void)
{
    vnet *n = vnet_new(1);
    rtc_addr a, b, nat_out;
    rtc_addr_parse(&a, "10.0.0.1:1000");
    rtc_addr_parse(&b, "192.0.2.9:2000");
    rtc_addr_parse(&nat_out, "203.0.113.1:0");
    vnet_add_nat(n, &a, &nat_out);
    vnet_set_link(n, (vnet_link){ .delay = 1000, .jitter = 0 });
    vnet_send(n, &a, &b, "x", 1, 0);
    vnet_packet p;
    ASSERT(!vnet_poll(n, 999, &p));
    ASSERT_EQ(vnet_next_delivery(n), 1000);
    ASSERT(vnet_poll(n, 1000, &p));
    ASSERT(rtc_addr_ip_eq(&p.from, &nat_out));        /* source rewritten by the NAT */
    ASSERT(rtc_addr_eq(&p.to, &b));
    rtc_addr mapped = p.from;
    vnet_send(n, &b, &mapped, "y", 1, 2000);          /* the reply goes back inside */
    ASSERT(vnet_poll(n, 5000, &p));
    ASSERT(rtc_addr_eq(&p.to, &a));
    vnet_set_link(n, (vnet_link){ .loss = 0.3 });
    for (int i = 0; i < 1000; i++) vnet_send(n, &b, &a, "z", 1, 0);
    ASSERT(vnet_dropped(n) > 200 && vnet_dropped(n) < 400);
    vnet_free(n);
}

static void test_demux(void)
{
    uint8_t stun[] = { 0x00, 0x01 }, dtls[] = { 22, 254 }, rtp[] = { 0x80, 96 }, rtcp[] = { 0x81, 200 },
            chan[] = { 0x40, 0x00 }, junk[] = { 200, 0 };
    ASSERT_EQ(rtc_demux(stun, 2), RTC_PKT_STUN);
    ASSERT_EQ(rtc_demux(dtls, 2), RTC_PKT_DTLS);
    ASSERT_EQ(rtc_demux(rtp, 2), RTC_PKT_RTP);
    ASSERT_EQ(rtc_demux(rtcp, 2), RTC_PKT_RTCP);
    ASSERT_EQ(rtc_demux(chan, 2), RTC_PKT_TURN_CHANNEL);
    ASSERT_EQ(rtc_demux(junk, 2), RTC_PKT_UNKNOWN);
    ASSERT_EQ(rtc_demux(stun, 0), RTC_PKT_UNKNOWN);
}

int main(void)
{
    RUN(test_demux);
    RUN(test_pool_reuse_and_refs);
    RUN(test_pool_caps_free_list);
    RUN(test_bufq);
    RUN(test_errors);
    RUN(test_addr);
    RUN(test_log_filter);
    RUN(test_rng);
    RUN(test_vnet);
    return 0;
}
