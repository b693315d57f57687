/* io/: batched UDP on loopback (sendmmsg batches, RECVMMSG receive, IPv4 and IPv6),
 * and the machine driver (drain until quiet, one timer, nested drains). */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "io/rtc_driver.h"
#include "io/rtc_loop.h"
#include "io/rtc_udp.h"

typedef struct rx { int count, closed; size_t bytes; int bad; rtc_loop *lp; int want; } rx;

static void on_rx(rtc_udp *u, const uint8_t *data, size_t len, const rtc_addr *from, void *ud)
{
    rx *r = ud;
    (void)u; (void)from;
    /* each datagram carries its index: checks order and content */
    if (len != 100 || data[0] != (uint8_t)r->count || data[99] != 0xAB) r->bad++;
    r->count++;
    r->bytes += len;
    if (r->count == r->want) rtc_loop_stop(r->lp);
}

static void guard_cb(uv_timer_t *t) { rtc_loop_stop(t->data); }

static void on_close(rtc_udp *u, void *ud) { (void)u; ((rx *)ud)->closed++; }

static void udp_batch(const char *ip)
{
    rtc_loop *lp;
    ASSERT_OK(rtc_loop_new(&lp));
    rtc_addr any;
    ASSERT_OK(rtc_addr_set(&any, ip, 0));
    rx ra = { .lp = lp, .want = 150 }, rb = { .lp = lp };
    rtc_udp *a, *b;
    ASSERT_OK(rtc_udp_new(&a, lp, &any, NULL, on_rx, &ra));
    ASSERT_OK(rtc_udp_new(&b, lp, &any, NULL, NULL, &rb));
    rtc_addr aaddr;
    ASSERT_OK(rtc_udp_local_addr(a, &aaddr));
    ASSERT(rtc_addr_port(&aaddr) != 0);
    uint8_t msg[100];
    memset(msg, 0xAB, sizeof msg);
    for (int i = 0; i < 150; i++) {
        msg[0] = (uint8_t)i;
        ASSERT_OK(rtc_udp_send(b, &aaddr, msg, sizeof msg));
    }
    uint8_t big[70000] = {0};
    ASSERT_EQ(rtc_udp_send(b, &aaddr, big, sizeof big), RTC_ETOOBIG);
    rtc_udp_stats st;
    rtc_udp_get_stats(b, &st);
    ASSERT_EQ(st.tx_packets, 0);                 /* nothing sent before the loop turns */
    uv_timer_t guard;                            /* a lost datagram fails the test, not hangs it */
    uv_timer_init(rtc_loop_uv(lp), &guard);
    guard.data = lp;
    uv_timer_start(&guard, guard_cb, 5000, 0);
    uv_unref((uv_handle_t *)&guard);
    rtc_loop_run(lp, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    ASSERT_EQ(ra.count, 150);
    ASSERT_EQ(ra.bad, 0);
    rtc_udp_get_stats(b, &st);
    ASSERT_EQ(st.tx_packets, 150);
    ASSERT_EQ(st.tx_deferred, 0);
    ASSERT_EQ(st.tx_batches, 3);                 /* 150 in sendmmsg calls of at most 64 */
    rtc_udp_close(a, on_close);
    rtc_udp_close(b, on_close);
    rtc_udp_close(b, on_close);                  /* idempotent */
    ASSERT_EQ(rtc_udp_send(a, &aaddr, msg, 1), RTC_ECLOSED);
    rtc_loop_run(lp, UV_RUN_DEFAULT);
    ASSERT_EQ(ra.closed, 1);
    ASSERT_EQ(rb.closed, 1);
    rtc_loop_free(lp);
}

static void test_udp_batch_v4(void) { udp_batch("127.0.0.1"); }
static void test_udp_batch_v6(void) { udp_batch("::1"); }

static void test_udp_bind_conflict(void)
{
    rtc_loop *lp;
    ASSERT_OK(rtc_loop_new(&lp));
    rtc_addr any, got;
    ASSERT_OK(rtc_addr_set(&any, "127.0.0.1", 0));
    rtc_udp *a, *b;
    ASSERT_OK(rtc_udp_new(&a, lp, &any, NULL, NULL, NULL));
    ASSERT_OK(rtc_udp_local_addr(a, &got));
    ASSERT(rtc_udp_new(&b, lp, &got, NULL, NULL, NULL) < 0);
    ASSERT(b == NULL);
    rtc_udp_close(a, NULL);
    rtc_loop_free(lp);                            /* runs the pending closes */
}

/* A toy machine: emits `left` transmits, one every 2 ms, and an event with each. */
typedef struct toy { int left; rtc_time next; int pending_tx, pending_ev; rtc_pool *pool; } toy;
static int toy_timeout(void *m, rtc_time now)
{
    toy *t = m;
    if (t->left > 0 && now >= t->next) { t->left--; t->pending_tx++; t->pending_ev++; t->next = now + 2000; }
    return 0;
}
static bool toy_tx(void *m, rtc_transmit *out)
{
    toy *t = m;
    if (!t->pending_tx) return false;
    t->pending_tx--;
    memset(out, 0, sizeof *out);
    out->buf = rtc_buf_alloc(t->pool, 10);
    return true;
}
static bool toy_ev(void *m, void *ev)
{
    toy *t = m;
    if (!t->pending_ev) return false;
    t->pending_ev--;
    *(int *)ev = t->left;
    return true;
}
static rtc_time toy_poll_timeout(void *m) { toy *t = m; return t->left > 0 ? t->next : RTC_TIME_NEVER; }
static const rtc_machine_ops toy_ops = { toy_timeout, toy_tx, toy_ev, toy_poll_timeout };

static int n_tx, n_ev, n_closed, n_nested;
static void on_tx(rtc_driver *d, rtc_transmit *t) { (void)d; n_tx++; rtc_buf_unref(t->buf); }
static void on_ev(rtc_driver *d, void *ev)
{
    n_ev++;
    if (*(int *)ev == 2) {                       /* feed the machine from inside an event */
        toy *t = d->machine;
        t->pending_tx++;
        n_nested++;
        rtc_driver_drain(d);
    }
}
static void on_drv_close(rtc_driver *d) { (void)d; n_closed++; }

static void test_driver(void)
{
    rtc_loop *lp;
    ASSERT_OK(rtc_loop_new(&lp));
    toy t = { .left = 5, .pool = rtc_loop_pool(lp) };
    int ev;
    rtc_driver d = {0};
    rtc_driver_init(&d, lp, &toy_ops, &t, on_tx, on_ev, &ev);
    t.next = rtc_driver_now(&d);
    rtc_driver_drain(&d);                        /* arms for t.next */
    ASSERT(d.armed == t.next);
    rtc_loop_run(lp, UV_RUN_DEFAULT);            /* returns once the machine is idle */
    ASSERT_EQ(t.left, 0);
    ASSERT_EQ(n_ev, 5);
    ASSERT_EQ(n_nested, 1);
    ASSERT_EQ(n_tx, 6);
    ASSERT(d.armed == RTC_TIME_NEVER);
    ASSERT_GE(d.wakeups, 5);
    rtc_driver_close(&d, on_drv_close);
    rtc_driver_close(&d, on_drv_close);
    rtc_loop_run(lp, UV_RUN_DEFAULT);
    ASSERT_EQ(n_closed, 1);
    rtc_pool_stats st;
    rtc_pool_get_stats(rtc_loop_pool(lp), &st);
    ASSERT_EQ(st.in_use, 0);
    rtc_loop_free(lp);
}

/* Socket buffer options, and a burst larger than several sendmmsg batches arriving
 * complete and in order. */
static void test_udp_buffers_and_burst(void)
{
    rtc_loop *lp;
    ASSERT_OK(rtc_loop_new(&lp));
    rtc_addr any;
    ASSERT_OK(rtc_addr_set(&any, "127.0.0.1", 0));
    rx ra = { .lp = lp, .want = 400 };
    rtc_udp_opts small = { .sndbuf = 4096 }, big = { .rcvbuf = 4 << 20 };
    rtc_udp *a, *b;
    ASSERT_OK(rtc_udp_new(&a, lp, &any, &big, on_rx, &ra));
    ASSERT_OK(rtc_udp_new(&b, lp, &any, &small, NULL, NULL));
    rtc_addr aaddr;
    ASSERT_OK(rtc_udp_local_addr(a, &aaddr));
    uint8_t msg[100];
    memset(msg, 0xAB, sizeof msg);
    for (int i = 0; i < 400; i++) {
        msg[0] = (uint8_t)i;
        ASSERT_OK(rtc_udp_send(b, &aaddr, msg, sizeof msg));
    }
    uv_timer_t guard;
    uv_timer_init(rtc_loop_uv(lp), &guard);
    guard.data = lp;
    uv_timer_start(&guard, guard_cb, 5000, 0);
    uv_unref((uv_handle_t *)&guard);
    rtc_loop_run(lp, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&guard, NULL);
    rtc_udp_stats st;
    rtc_udp_get_stats(b, &st);
    ASSERT_EQ(st.tx_packets, 400);
    ASSERT_GE(st.tx_batches, 7);                 /* 400 / 64 */
    ASSERT_EQ(ra.count, 400);
    ASSERT_EQ(ra.bad, 0);                        /* same order as sent */
    rtc_udp_close(a, NULL);
    rtc_udp_close(b, NULL);
    rtc_loop_free(lp);
}

int main(void)
{
    RUN(test_udp_batch_v4);
    RUN(test_udp_batch_v6);
    RUN(test_udp_bind_conflict);
    RUN(test_udp_buffers_and_burst);
    RUN(test_driver);
    return 0;
}
