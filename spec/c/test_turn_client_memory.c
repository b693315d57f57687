/* What a TURN client (turn/turn_client.h) costs in memory: the object is sized to use
 * (its output and event rings start small inside it and grow only for a burst; its
 * transactions are allocated while in flight). Bytes are read from the allocator
 * (spec/c/test_heap.h), never timed. The relayed datagram path is measured through
 * the ICE agent in test_ice_topology.c. */
#include "rtc_test.h"
#include "test_heap.h"
#include "core/rtc_errors.h"
#include "turn/turn_client.h"

#include <stdio.h>

#define M 32

static rtc_rng rng;

static void drain_out(rtc_turn_client *c)
{
    rtc_transmit t;
    while (rtc_turn_client_poll_transmit(c, &t)) rtc_buf_unref(t.buf);
}

static void new_client(rtc_turn_client **c, int transport, rtc_time now)
{
    rtc_turn_config tc = { .transport = transport, .username = RTC_STR("alice"), .password = RTC_STR("pw"), .rng = &rng };
    rtc_addr_set(&tc.server, "192.0.2.1", 3478);
    rtc_addr_set(&tc.local, "192.0.2.2", 4000);
    ASSERT_OK(rtc_turn_client_new(c, &tc, now));
    drain_out(*c);
}

/* A client waiting for its Allocate answer: was 116 KB (512 transmit and 256 event
 * slots, 24 transaction buffers, all inside the object). */
static void test_client_size(void)
{
    rtc_turn_client *c[M];
    size_t before = heap_in_use();
    for (int i = 0; i < M; i++) new_client(&c[i], RTC_TURN_UDP, 0);
    size_t per = (heap_in_use() - before) / M;
    fprintf(stderr, "TURN client (UDP, Allocate in flight): %zu bytes\n", per);
    ASSERT_LE(per, 12 * 1024);
    /* The Allocate's retransmission reuses its transaction: nothing more is held. */
    size_t b1 = heap_in_use();
    for (int i = 0; i < M; i++) {
        rtc_turn_client_handle_timeout(c[i], RTC_SEC(2));
        drain_out(c[i]);
    }
    ASSERT_LE(heap_in_use(), b1);
    for (int i = 0; i < M; i++) rtc_turn_client_free(c[i]);
}

int main(void)
{
    rtc_rng_init_seed(&rng, 3);
    RUN(test_client_size);
    return 0;
}
