/* Two peer connections over the virtual network on one virtual clock, for the media
 * tests: each peer drains its transmits into the vnet and its events into counters,
 * handing every RTC_PC_EV_FRAME to the peer's on_frame (the test checks the bytes).
 * Include once per test file (the state below is the file's own). */
#ifndef TEST_PC_HARNESS_H
#define TEST_PC_HARNESS_H
#include "rtc_test.h"
#include "vnet.h"
#include "core/rtc_errors.h"
#include "pc/pc_media.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct peer peer;
struct peer {
    rtc_pc *pc;
    rtc_addr addr;
    int tracks, track_tr[4], track_kind[4];
    int keyframe_requests;
    /* received frames per transceiver, checked against what was sent */
    int frames[4], bad[4], keyframes[4];
    uint32_t last_ts[4];
    void (*on_frame)(peer *p, const rtc_pc_event *ev);   /* ev->buf borrowed for the call */
    void *ud;
};

static rtc_time now;
static rtc_rng rng;
static rtc_dtls_cert *cert_a, *cert_b;
/* Applied to each offer on its way to the answerer (NULL: none). */
static void (*harness_munge_offer)(char *sdp);
/* The on_frame every new peer starts with. */
static void (*harness_default_on_frame)(peer *p, const rtc_pc_event *ev);

static void peer_init(peer *p, const char *addr, rtc_dtls_cert *cert)
{
    memset(p, 0, sizeof *p);
    p->on_frame = harness_default_on_frame;
    rtc_pc_config cfg = { .rng = &rng, .cert = cert, .unix_now = 1700000000 };
    ASSERT_OK(rtc_pc_new(&p->pc, &cfg, now));
    ASSERT_OK(rtc_addr_parse(&p->addr, addr));
    ASSERT_OK(rtc_pc_add_local_address(p->pc, &p->addr, 65535, now));
}

static void drain(peer *p, vnet *n)
{
    rtc_transmit tx;
    while (rtc_pc_poll_transmit(p->pc, &tx)) {
        const rtc_addr *from = rtc_addr_family(&tx.local) ? &tx.local : &p->addr;
        vnet_send(n, from, &tx.remote, tx.buf->data, tx.buf->len, now);
        rtc_buf_unref(tx.buf);
    }
    rtc_pc_event ev;
    while (rtc_pc_poll_event(p->pc, &ev)) {
        switch (ev.type) {
        case RTC_PC_EV_TRACK:
            ASSERT(p->tracks < 4);
            p->track_tr[p->tracks] = ev.tr;
            p->track_kind[p->tracks++] = ev.kind;
            break;
        case RTC_PC_EV_FRAME:
            if (p->on_frame) p->on_frame(p, &ev);
            break;
        case RTC_PC_EV_KEYFRAME_REQUEST: p->keyframe_requests++; break;
        default: break;
        }
        rtc_buf_unref(ev.buf);
    }
}

/* Run both peers and the network until `until`, always to the earliest deadline. */
static void step(peer *a, peer *b, vnet *n, rtc_time until)
{
    long spins = 0;
    while (now < until) {
        drain(a, n);
        drain(b, n);
        rtc_time t = rtc_time_min(rtc_pc_poll_timeout(a->pc), rtc_pc_poll_timeout(b->pc));
        t = rtc_time_min(t, vnet_next_delivery(n));
        t = rtc_time_min(t, until);
        if (t > now) now = t;
        else ASSERT(++spins < 100000);     /* a deadline in the past that handle_timeout never clears */
        vnet_packet pkt;
        while (vnet_poll(n, now, &pkt)) {
            peer *to = rtc_addr_eq(&pkt.to, &a->addr) ? a : rtc_addr_eq(&pkt.to, &b->addr) ? b : NULL;
            if (to) rtc_pc_handle_datagram(to->pc, &pkt.to, &pkt.from, pkt.data, pkt.len, now);
        }
        if (rtc_pc_poll_timeout(a->pc) <= now) rtc_pc_handle_timeout(a->pc, now);
        if (rtc_pc_poll_timeout(b->pc) <= now) rtc_pc_handle_timeout(b->pc, now);
    }
    drain(a, n);
    drain(b, n);
}

/* a offers, b answers (non-trickle: each description is read after gathering). */
static void negotiate(peer *a, peer *b, vnet *n)
{
    char *offer, *answer;
    ASSERT_OK(rtc_pc_create_offer(a->pc, false, &offer, now));
    ASSERT_OK(rtc_pc_set_local_description(a->pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    step(a, b, n, now + RTC_MS(50));
    ASSERT_OK(rtc_pc_local_description(a->pc, NULL, &offer));
    if (harness_munge_offer) harness_munge_offer(offer);
    ASSERT_OK(rtc_pc_set_remote_description(b->pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    ASSERT_OK(rtc_pc_create_answer(b->pc, &answer, now));
    ASSERT_OK(rtc_pc_set_local_description(b->pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    step(a, b, n, now + RTC_MS(50));
    ASSERT_OK(rtc_pc_local_description(b->pc, NULL, &answer));
    ASSERT_OK(rtc_pc_set_remote_description(a->pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
}

static bool connected(peer *p) { return rtc_pc_connection_state_get(p->pc) == RTC_CONN_CONNECTED; }

/* Negotiate and run until both peers are connected. */
static inline void connect_peers(peer *a, peer *b, vnet *n)
{
    negotiate(a, b, n);
    for (int i = 0; i < 200 && !(connected(a) && connected(b)); i++) step(a, b, n, now + RTC_MS(100));
    ASSERT(connected(a) && connected(b));
}

#endif
