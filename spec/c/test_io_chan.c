/* The worker channel (io/rtc_chan.h) between two real threads with their own loops:
 * order kept, the bound enforced (RTC_EAGAIN when full, nothing taken), the sender
 * woken once the receiver takes, control frames past the bound, and closing. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "io/rtc_chan.h"
#include "io/rtc_thread.h"
#include <stdlib.h>
#include <string.h>

static void *msg(int v)
{
    int *p = malloc(sizeof *p);
    *p = v;
    return p;
}

static void test_bound_on_one_thread(void)
{
    rtc_chan *c;
    ASSERT_EQ(rtc_chan_new(&c, 0, 10), RTC_EINVAL);
    ASSERT_OK(rtc_chan_new(&c, 3, 1000));
    for (int i = 0; i < 3; i++) ASSERT_OK(rtc_chan_send(c, 0, msg(i), sizeof(int)));
    ASSERT(rtc_chan_writable(c, 0));
    void *m4 = msg(3);
    ASSERT_EQ(rtc_chan_send(c, 0, m4, sizeof(int)), RTC_EAGAIN);   /* full: not taken */
    ASSERT(!rtc_chan_writable(c, 0));
    ASSERT_OK(rtc_chan_send_control(c, 0, msg(99), sizeof(int), 0));   /* control passes */
    ASSERT_OK(rtc_chan_send_control(c, 0, msg(-1), sizeof(int), 1));  /* urgent: first */
    void *big = malloc(2000);
    ASSERT_EQ(rtc_chan_send(c, 1, big, 2000), RTC_ETOOBIG);
    free(big);
    void *d;
    size_t n;
    const void *peek;
    ASSERT(rtc_chan_peek(c, 1, &peek, &n));
    ASSERT_EQ(*(const int *)peek, -1);
    /* Control frames count once they are in: three must go before there is room. */
    int first[] = { -1, 0, 1 };
    for (int i = 0; i < 3; i++) {
        ASSERT(rtc_chan_recv(c, 1, &d, &n));
        ASSERT_EQ(*(int *)d, first[i]);
        free(d);
    }
    ASSERT(rtc_chan_writable(c, 0));                                  /* room again */
    ASSERT_OK(rtc_chan_send(c, 0, m4, sizeof(int)));
    int want[] = { 2, 99, 3 };
    for (int i = 0; i < 3; i++) {
        ASSERT(rtc_chan_recv(c, 1, &d, &n));
        ASSERT_EQ(*(int *)d, want[i]);
        free(d);
    }
    ASSERT(!rtc_chan_recv(c, 1, &d, &n));
    ASSERT_OK(rtc_chan_send(c, 1, msg(7), sizeof(int)));              /* left in side 0's inbox */
    rtc_chan_close(c, 0);
    ASSERT(rtc_chan_peer_closed(c, 1));
    void *late = msg(8);
    ASSERT_EQ(rtc_chan_send(c, 1, late, sizeof(int)), RTC_ECLOSED);
    free(late);
    rtc_chan_close(c, 0);                                             /* idempotent */
    rtc_chan_close(c, 1);                                             /* frees it */
}

/* A consumer thread with its own loop takes N messages; the producer (this thread,
 * its own loop) sends as fast as the bound lets it and waits for its wake callback
 * whenever the inbox is full. */
#define N 20000
typedef struct consumer { rtc_chan *c; uv_loop_t loop; int got, in_order, wakes; } consumer;
typedef struct producer { rtc_chan *c; int next, full, drains, done; } producer;

static void consumer_wake(rtc_chan *c, int side, void *ud)
{
    consumer *k = ud;
    k->wakes++;
    void *d;
    size_t n;
    while (rtc_chan_recv(c, side, &d, &n)) {
        if (*(int *)d != k->got) k->in_order = 0;
        k->got++;
        free(d);
    }
    if (k->got == N || rtc_chan_peer_closed(c, side)) rtc_chan_unbind(c, side);
}

static void consumer_main(void *arg)
{
    consumer *k = arg;
    ASSERT_OK(rtc_chan_bind(k->c, 1, &k->loop, consumer_wake, k, 1));
    uv_run(&k->loop, UV_RUN_DEFAULT);
}

static void pump(producer *p)
{
    while (p->next < N) {
        void *m = msg(p->next);
        int r = rtc_chan_send(p->c, 0, m, sizeof(int));
        if (r == RTC_EAGAIN) { free(m); p->full++; return; }
        ASSERT_OK(r);
        p->next++;
    }
    p->done = 1;
}

static void producer_wake(rtc_chan *c, int side, void *ud)
{
    producer *p = ud;
    if (!p->done && rtc_chan_writable(c, side)) { p->drains++; pump(p); }
    if (p->done) rtc_chan_unbind(c, side);
}

static void test_backpressure_across_threads(void)
{
    consumer k = { .in_order = 1 };
    producer p = { 0 };
    ASSERT_OK(rtc_chan_new(&k.c, 16, 1 << 20));
    p.c = k.c;
    ASSERT_OK(uv_loop_init(&k.loop));
    uv_loop_t loop;
    ASSERT_OK(uv_loop_init(&loop));
    ASSERT_OK(rtc_chan_bind(p.c, 0, &loop, producer_wake, &p, 1));
    rtc_thread *t;
    ASSERT_OK(rtc_thread_start(&t, consumer_main, &k));
    pump(&p);
    uv_run(&loop, UV_RUN_DEFAULT);
    rtc_thread_join(t);
    ASSERT_EQ(k.got, N);
    ASSERT(k.in_order);
    ASSERT(p.full > 0);            /* the bound was reached ... */
    ASSERT_EQ(p.drains, p.full);   /* ... and every full send was followed by a wake */
    rtc_chan_close(p.c, 0);
    rtc_chan_close(p.c, 1);
    ASSERT_OK(uv_loop_close(&loop));
    ASSERT_OK(uv_loop_close(&k.loop));
}

int main(void)
{
    RUN(test_bound_on_one_thread);
    RUN(test_backpressure_across_threads);
    return 0;
}
