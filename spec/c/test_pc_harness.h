/* Two peer connections over the virtual network on one virtual clock, for the peer
 * connection tests: each peer drains its transmits into the vnet and its events into
 * counters (candidates, data channels and their messages, tracks), handing every
 * RTC_PC_EV_FRAME to the peer's on_frame (the test checks the bytes).
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
    /* signalling and data channels */
    int ncand, end_of_cand, opened, datachannel, closed, negotiation_needed;
    int last_dc, conn_state;
    char msgs[16][64];                   /* short messages as text, in order */
    int nmsgs;
    bool binary_seen, empty_seen;
    size_t big_len;                      /* length of the last message over 1000 bytes */
    char cands[32][512];                 /* trickled local candidates */
};

static rtc_time now;
static rtc_rng rng;
static rtc_dtls_cert *cert_a, *cert_b;
/* Applied to each offer on its way to the answerer (NULL: none); it may grow the text
 * by up to 4 KiB. */
static void (*harness_munge_offer)(char *sdp);
/* The on_frame every new peer starts with. */
static void (*harness_default_on_frame)(peer *p, const rtc_pc_event *ev);
/* Told each time the virtual clock moves (NULL: nobody), e.g. to move a virtual wall
 * clock along (test_sctp_vclock.h). */
static void (*harness_on_clock)(rtc_time now);
/* Shown every datagram a peer sends, before the network may drop it (NULL: nobody). */
static void (*harness_on_send)(peer *p, const uint8_t *data, size_t len);
/* Shown every event the counters above do not take, and keyframe requests (NULL: nobody). */
static void (*harness_on_event)(peer *p, const rtc_pc_event *ev);

static void peer_init(peer *p, const char *addr, rtc_dtls_cert *cert)
{
    memset(p, 0, sizeof *p);
    p->on_frame = harness_default_on_frame;
    p->last_dc = -1;
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
        if (harness_on_send) harness_on_send(p, tx.buf->data, tx.buf->len);
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
        case RTC_PC_EV_KEYFRAME_REQUEST:
            p->keyframe_requests++;
            if (harness_on_event) harness_on_event(p, &ev);     /* its rid names the encoding */
            break;
        case RTC_PC_EV_ICE_CANDIDATE:
            if (ev.candidate[0]) { ASSERT(p->ncand < 32); strcpy(p->cands[p->ncand++], ev.candidate); }
            else p->end_of_cand++;
            break;
        case RTC_PC_EV_DATACHANNEL: p->datachannel++; p->last_dc = ev.dc; break;
        case RTC_PC_EV_DC_OPEN: p->opened++; break;
        case RTC_PC_EV_DC_CLOSE: p->closed++; break;
        case RTC_PC_EV_NEGOTIATION_NEEDED: p->negotiation_needed++; break;
        case RTC_PC_EV_CONNECTION_STATE: p->conn_state = ev.state; break;
        case RTC_PC_EV_DC_MESSAGE:
            if (ev.binary) p->binary_seen = true;
            if (ev.buf->len == 0) p->empty_seen = true;
            if (ev.buf->len > 1000) p->big_len = ev.buf->len;
            else if (p->nmsgs < 16)
                snprintf(p->msgs[p->nmsgs++], 64, "%.*s", (int)ev.buf->len, (const char *)ev.buf->data);
            break;
        default: if (harness_on_event) harness_on_event(p, &ev); break;
        }
        rtc_buf_unref(ev.buf);
    }
}

/* Run both peers and the network until `until` or until done(a, b) holds (checked
 * after each drain; NULL: never), always to the earliest deadline. */
static void run_until(peer *a, peer *b, vnet *n, rtc_time until, bool (*done)(peer *, peer *))
{
    long spins = 0;
    while (now < until) {
        drain(a, n);
        drain(b, n);
        if (done && done(a, b)) return;
        rtc_time t = rtc_time_min(rtc_pc_poll_timeout(a->pc), rtc_pc_poll_timeout(b->pc));
        t = rtc_time_min(t, vnet_next_delivery(n));
        t = rtc_time_min(t, until);
        if (t > now) now = t;
        else ASSERT(++spins < 100000);     /* a deadline in the past that handle_timeout never clears */
        if (harness_on_clock) harness_on_clock(now);
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

static void step(peer *a, peer *b, vnet *n, rtc_time until) { run_until(a, b, n, until, NULL); }

/* a offers, b answers. Without trickle each description is read after gathering (it
 * carries the candidates); with trickle the descriptions go as created and each side's
 * trickled candidates follow, then end-of-candidates to a. */
static void negotiate_ex(peer *a, peer *b, vnet *n, bool trickle)
{
    char *offer, *answer;
    ASSERT_OK(rtc_pc_create_offer(a->pc, false, &offer, now));
    ASSERT_OK(rtc_pc_set_local_description(a->pc, RTC_SDP_OFFER, offer, now));
    ASSERT_EQ(rtc_pc_signaling_state_get(a->pc), RTC_SIG_HAVE_LOCAL_OFFER);
    step(a, b, n, now + RTC_MS(50));
    if (!trickle) { free(offer); ASSERT_OK(rtc_pc_local_description(a->pc, NULL, &offer)); }
    if (harness_munge_offer) {
        char *roomy = realloc(offer, strlen(offer) + 4096);     /* a munger may add up to 4 KiB */
        ASSERT(roomy != NULL);
        offer = roomy;
        harness_munge_offer(offer);
    }
    ASSERT_OK(rtc_pc_set_remote_description(b->pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    ASSERT_EQ(rtc_pc_signaling_state_get(b->pc), RTC_SIG_HAVE_REMOTE_OFFER);
    ASSERT_OK(rtc_pc_create_answer(b->pc, &answer, now));
    ASSERT_OK(rtc_pc_set_local_description(b->pc, RTC_SDP_ANSWER, answer, now));
    step(a, b, n, now + RTC_MS(50));
    if (!trickle) { free(answer); ASSERT_OK(rtc_pc_local_description(b->pc, NULL, &answer)); }
    ASSERT_OK(rtc_pc_set_remote_description(a->pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    ASSERT_EQ(rtc_pc_signaling_state_get(a->pc), RTC_SIG_STABLE);
    ASSERT_EQ(rtc_pc_signaling_state_get(b->pc), RTC_SIG_STABLE);
    if (trickle) {
        for (int i = 0; i < a->ncand; i++) ASSERT_OK(rtc_pc_add_ice_candidate(b->pc, a->cands[i], "0", 0, now));
        for (int i = 0; i < b->ncand; i++) ASSERT_OK(rtc_pc_add_ice_candidate(a->pc, b->cands[i], "0", 0, now));
        ASSERT_OK(rtc_pc_add_ice_candidate(a->pc, "", "0", 0, now));
    }
}

static void negotiate(peer *a, peer *b, vnet *n) { negotiate_ex(a, b, n, false); }

static bool connected(peer *p) { return rtc_pc_connection_state_get(p->pc) == RTC_CONN_CONNECTED; }

/* Negotiate and run until both peers are connected. */
static inline void connect_peers(peer *a, peer *b, vnet *n)
{
    negotiate(a, b, n);
    for (int i = 0; i < 200 && !(connected(a) && connected(b)); i++) step(a, b, n, now + RTC_MS(100));
    ASSERT(connected(a) && connected(b));
}

/* main()'s first and last steps: the seeded RNG and both peers' certificates. */
/* Close both peers, let the closing packets out, free both and the network. */
static inline void close_peers(peer *a, peer *b, vnet *n)
{
    rtc_pc_close(a->pc, now);
    rtc_pc_close(b->pc, now);
    drain(a, n);
    drain(b, n);
    rtc_pc_free(a->pc);
    rtc_pc_free(b->pc);
    vnet_free(n);
}

static inline void harness_begin(uint64_t seed)
{
    rtc_rng_init_seed(&rng, seed);
    ASSERT_OK(rtc_dtls_cert_generate(&cert_a, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000));
    ASSERT_OK(rtc_dtls_cert_generate(&cert_b, RTC_DTLS_KEY_ECDSA_P256, &rng, 1700000000));
}

static inline void harness_end(void)
{
    rtc_dtls_cert_unref(cert_a);
    rtc_dtls_cert_unref(cert_b);
}

#endif
