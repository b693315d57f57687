/* JSEP in the peer connection between two peers on the virtual network: rollback of
 * local and remote offers (JSEP 4.1.8.2), glare with media resolved by rollback and by
 * the implicit rollback of perfect negotiation, W3C negotiationneeded, the order of
 * state events, and remote offers the section table cannot hold. */
#include "test_pc_harness.h"
#include "test_sctp_vclock.h"
#include "pc/pc_internal.h"      /* the ICE role and remote transport state a rollback restores */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static void move_vclock(rtc_time t) { test_vclock = RTC_SEC(1000) + t; }

static bool both_connected(peer *a, peer *b) { return connected(a) && connected(b); }

static void count_frame(peer *p, const rtc_pc_event *ev)
{
    if (ev->tr >= 0 && ev->tr < 4) p->frames[ev->tr]++;
}

static int add_tr(peer *p, rtc_media_kind kind)
{
    int h = rtc_pc_add_transceiver(p->pc, &(rtc_transceiver_init){ kind, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT(h >= 0);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(p->pc, h));   /* as W3C addTrack makes them (JSEP 5.10) */
    return h;
}

/* p creates and applies an offer; returns it (with candidates) for the other side. */
static char *set_offer(peer *p, peer *other, vnet *n)
{
    char *sdp;
    ASSERT_OK(rtc_pc_create_offer(p->pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(p->pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    step(p, other, n, now + RTC_MS(50));
    ASSERT_OK(rtc_pc_local_description(p->pc, NULL, &sdp));
    return sdp;
}

/* p answers the offer it has applied; returns the answer (with candidates). */
static char *set_answer(peer *p, peer *other, vnet *n)
{
    char *sdp;
    ASSERT_OK(rtc_pc_create_answer(p->pc, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(p->pc, RTC_SDP_ANSWER, sdp, now));
    free(sdp);
    step(p, other, n, now + RTC_MS(50));
    ASSERT_OK(rtc_pc_local_description(p->pc, NULL, &sdp));
    return sdp;
}

static int count(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) k++;
    return k;
}

/* Send frames both ways on (atr -> b) and (btr -> a) and check some arrive. */
static void media_flows(peer *a, peer *b, vnet *n, int atr, rtc_media_kind akind, int btr, rtc_media_kind bkind)
{
    int fa = 0, fb = 0;
    for (int tr = 0; tr < 4; tr++) { fa += a->frames[tr]; fb += b->frames[tr]; }
    uint8_t frame[200];
    for (int i = 0; i < 20; i++) {
        memset(frame, i, sizeof frame);
        frame[0] = akind == RTC_MEDIA_VIDEO ? (i == 0 ? 0x10 : 0x11) : 0x78;
        if (akind == RTC_MEDIA_VIDEO && i == 0) { frame[3] = 0x9d; frame[4] = 0x01; frame[5] = 0x2a; }
        ASSERT(rtc_pc_send_frame(a->pc, atr, frame, sizeof frame,
                                 (uint32_t)i * (akind == RTC_MEDIA_VIDEO ? 3000 : 960), false, now) > 0);
        frame[0] = bkind == RTC_MEDIA_VIDEO ? (i == 0 ? 0x10 : 0x11) : 0x78;
        if (bkind == RTC_MEDIA_VIDEO && i == 0) { frame[3] = 0x9d; frame[4] = 0x01; frame[5] = 0x2a; }
        ASSERT(rtc_pc_send_frame(b->pc, btr, frame, sizeof frame,
                                 (uint32_t)i * (bkind == RTC_MEDIA_VIDEO ? 3000 : 960), false, now) > 0);
        step(a, b, n, now + RTC_MS(20));
    }
    step(a, b, n, now + RTC_MS(500));
    int ga = 0, gb = 0;
    for (int tr = 0; tr < 4; tr++) { ga += a->frames[tr]; gb += b->frames[tr]; }
    ASSERT_GE(gb - fb, 15);
    ASSERT_GE(ga - fa, 15);
}

static void peers_free(peer *a, peer *b, vnet *n)
{
    rtc_pc_close(a->pc, now);
    rtc_pc_close(b->pc, now);
    drain(a, n);
    drain(b, n);
    rtc_pc_free(a->pc);
    rtc_pc_free(b->pc);
    vnet_free(n);
}

/* Rolling back a local offer gives back the mids it handed out: the next offer has the
 * section again, and the transceiver negotiates under it. */
static void test_rollback_local_offer(void)
{
    peer a, b;
    vnet *n = vnet_new(1);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int atr = add_tr(&a, RTC_MEDIA_AUDIO);
    char *sdp;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, atr, &ti));
    ASSERT_STREQ(ti.mid, "");
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_EQ(count(sdp, "m=audio "), 1);
    ASSERT(strstr(sdp, "a=mid:0\r\n"));
    free(sdp);
    /* An offer created and never applied is forgotten too when the peer's comes. */
    int btr = add_tr(&b, RTC_MEDIA_AUDIO);
    char *boffer = set_offer(&b, &a, n);
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, boffer, now));
    free(boffer);
    char *answer = set_answer(&a, &b, n);
    ASSERT_EQ(count(answer, "m=audio "), 1);
    ASSERT(strstr(answer, "a=sendrecv"));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, atr, &ti));
    ASSERT_STREQ(ti.mid, "0");
    ASSERT_EQ(rtc_pc_transceiver_count(a.pc), 1);    /* a's transceiver took b's section */
    a.on_frame = b.on_frame = count_frame;
    run_until(&a, &b, n, now + RTC_SEC(10), both_connected);
    ASSERT(both_connected(&a, &b));
    media_flows(&a, &b, n, atr, RTC_MEDIA_AUDIO, btr, RTC_MEDIA_AUDIO);
    peers_free(&a, &b, n);
}

/* Glare with media: a adds video, b audio, both apply offers. b gives way (explicitly,
 * or implicitly by applying a's offer over its own), answers a's video with a new
 * transceiver, then offers its audio; media flows both ways on both. */
static void glare(bool implicit)
{
    peer a, b;
    vnet *n = vnet_new(2);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    a.on_frame = b.on_frame = count_frame;
    int avideo = add_tr(&a, RTC_MEDIA_VIDEO);
    int baudio = add_tr(&b, RTC_MEDIA_AUDIO);
    char *aoffer = set_offer(&a, &b, n);
    char *boffer = set_offer(&b, &a, n);
    free(boffer);
    ASSERT_EQ(rtc_pc_signaling_state_get(b.pc), RTC_SIG_HAVE_LOCAL_OFFER);
    ASSERT(rtc_ice_agent_controlling(b.pc->agent));
    int nn_before = b.negotiation_needed;
    if (!implicit) ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, aoffer, now));
    free(aoffer);
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, nn_before);   /* not while a's offer is being answered */
    ASSERT_EQ(rtc_pc_signaling_state_get(b.pc), RTC_SIG_HAVE_REMOTE_OFFER);
    ASSERT(!rtc_ice_agent_controlling(b.pc->agent));   /* a's offer: a controls */
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 2);       /* a recvonly video one for a's section */
    char *answer = set_answer(&b, &a, n);
    ASSERT_EQ(count(answer, "m="), 1);
    ASSERT(strstr(answer, "m=video "));
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, baudio, &ti));
    ASSERT_STREQ(ti.mid, "");
    /* Back in stable, b's audio still needs a section: negotiationneeded, once. */
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, nn_before + 1);
    run_until(&a, &b, n, now + RTC_SEC(10), both_connected);
    ASSERT(both_connected(&a, &b));
    int a_tracks = a.tracks;
    negotiate(&b, &a, n);
    ASSERT_EQ(a.tracks, a_tracks + 1);
    ASSERT_EQ(a.track_kind[a.tracks - 1], RTC_MEDIA_AUDIO);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, baudio, &ti));
    ASSERT_STREQ(ti.mid, "1");
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, nn_before + 1);    /* nothing left to negotiate */
    /* b sends audio on baudio, a video on avideo; b's video receiver and a's audio
     * receiver are the transceivers the offers created. */
    media_flows(&a, &b, n, avideo, RTC_MEDIA_VIDEO, baudio, RTC_MEDIA_AUDIO);
    ASSERT_GE(b.frames[1], 15);      /* b's transceiver for a's video */
    peers_free(&a, &b, n);
}
static void test_glare_with_media(void) { glare(false); }
static void test_glare_implicit_rollback(void) { glare(true); }

/* Rolling back a remote offer returns to the state before it: no sections, no
 * transceivers it created (unless a track was attached), no remote ICE credentials,
 * candidates or fingerprint, and the ICE role is free again. */
static void test_rollback_remote_offer(void)
{
    peer a, b;
    vnet *n = vnet_new(3);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    add_tr(&a, RTC_MEDIA_AUDIO);
    rtc_dc_init init = { .label = "chat", .max_retransmits = -1, .max_packet_life_time = -1 };
    int adc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT(adc >= 0);
    char *aoffer = set_offer(&a, &b, n);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, aoffer, now));
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 1);
    ASSERT_OK(rtc_pc_remote_candidate(b.pc, 0, NULL, 0, NULL, NULL));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_EQ(rtc_pc_signaling_state_get(b.pc), RTC_SIG_STABLE);
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 0);
    char *sdp;
    ASSERT_EQ(rtc_pc_remote_description(b.pc, NULL, &sdp), RTC_ENOTFOUND);
    ASSERT_EQ(rtc_pc_remote_candidate(b.pc, 0, NULL, 0, NULL, NULL), RTC_ENOTFOUND);
    ASSERT(!b.pc->remote_ufrag);
    ASSERT_STREQ(b.pc->rfp, "");
    ASSERT_EQ(b.pc->nmsecs, 0);
    ASSERT_EQ(b.pc->data_msec, -1);
    /* The same offer again, now with a track attached to the transceiver it makes:
     * that one stays (without its mid) through the rollback. */
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, aoffer, now));
    free(aoffer);
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 1);
    ASSERT_OK(rtc_pc_transceiver_set_direction(b.pc, 0, RTC_DIR_SENDRECV, now));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 1);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, 0, &ti));
    ASSERT_STREQ(ti.mid, "");
    ASSERT(!ti.stopped);
    /* b offers instead, and controls ICE although a's offer made its agent first. */
    drain(&b, n);
    a.on_frame = b.on_frame = count_frame;
    char *sdp0;
    ASSERT_OK(rtc_pc_create_offer(b.pc, false, &sdp0, now));
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_OFFER, sdp0, now));
    free(sdp0);
    ASSERT(rtc_ice_agent_controlling(b.pc->agent));
    step(&b, &a, n, now + RTC_MS(50));
    char *boffer;
    ASSERT_OK(rtc_pc_local_description(b.pc, NULL, &boffer));
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, boffer, now));   /* a gives way */
    free(boffer);
    char *answer = set_answer(&a, &b, n);
    ASSERT_EQ(count(answer, "m=audio "), 1);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    /* Until b's offer reached a, both agents controlled and kept checking each other
     * (b's agent keeps the candidates of a's rolled-back offer; a's own offer is still
     * pending there). RFC 8445 7.3.1.1 resolves that by tie-breaker, which may leave a
     * controlling: what must hold is that exactly one side controls. */
    step(&b, &a, n, now + RTC_SEC(1));
    ASSERT(rtc_ice_agent_controlling(b.pc->agent) != rtc_ice_agent_controlling(a.pc->agent));
    run_until(&a, &b, n, now + RTC_SEC(10), both_connected);
    ASSERT(both_connected(&a, &b));
    media_flows(&a, &b, n, 0, RTC_MEDIA_AUDIO, 0, RTC_MEDIA_AUDIO);
    /* a still wants its channel: it offers, b applies the offer and rolls it back
     * while connected; the connection and the earlier description are untouched. */
    drain(&a, n);
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    ASSERT(a.pc->negotiation_needed);
    char *before;
    ASSERT_OK(rtc_pc_remote_description(b.pc, NULL, &before));
    add_tr(&a, RTC_MEDIA_VIDEO);
    b.tracks = 0;
    aoffer = set_offer(&a, &b, n);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, aoffer, now));
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 2);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 1);
    ASSERT_EQ(b.pc->nmsecs, 1);
    ASSERT_EQ(b.pc->data_msec, -1);
    ASSERT_OK(rtc_pc_remote_description(b.pc, NULL, &sdp));
    ASSERT_STREQ(sdp, before);
    free(sdp);
    free(before);
    /* and then takes it for real: video and the channel come up */
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, aoffer, now));
    free(aoffer);
    answer = set_answer(&b, &a, n);
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    for (int i = 0; i < 50 && !(a.opened && b.datachannel); i++) step(&a, &b, n, now + RTC_MS(100));
    ASSERT_EQ(a.opened, 1);
    ASSERT_EQ(b.datachannel, 1);
    ASSERT(both_connected(&a, &b));
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 2);
    ASSERT_EQ(b.tracks, 2);          /* the video track, announced again after the rollback */
    peers_free(&a, &b, n);
}

/* W3C negotiationneeded: only in stable, once per change, checked again on returning to
 * stable, and cleared when an answer covers everything (a peer that only answers). */
static void test_negotiation_needed(void)
{
    peer a, b;
    vnet *n = vnet_new(4);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    add_tr(&a, RTC_MEDIA_AUDIO);
    add_tr(&a, RTC_MEDIA_VIDEO);
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, 1);          /* two changes, one event */
    /* b only answers: its audio transceiver is covered by a's offer. */
    add_tr(&b, RTC_MEDIA_AUDIO);
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, 1);
    char *offer = set_offer(&a, &b, n);
    /* A transceiver added while the offer is out is announced once stable again. */
    add_tr(&a, RTC_MEDIA_AUDIO);
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, 1);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    add_tr(&b, RTC_MEDIA_VIDEO);                  /* in have-remote-offer: not yet */
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, 1);
    ASSERT_OK(rtc_pc_transceiver_set_direction(b.pc, 1, RTC_DIR_SENDRECV, now));  /* the answer has it */
    char *answer = set_answer(&b, &a, n);
    drain(&b, n);
    /* b's video transceiver (added after the offer) has no section: announced now. */
    ASSERT_EQ(b.negotiation_needed, 2);
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, 2);
    ASSERT(a.pc->negotiation_needed);
    /* b negotiates its video; a's audio waits (a answers, it cannot add sections) and
     * is announced again once a is back in stable (W3C: still needed after). */
    negotiate(&b, &a, n);
    drain(&a, n);
    drain(&b, n);
    ASSERT(!b.pc->negotiation_needed);
    ASSERT_EQ(b.negotiation_needed, 2);           /* covered: none */
    ASSERT(a.pc->negotiation_needed);
    ASSERT_EQ(a.negotiation_needed, 3);
    negotiate(&a, &b, n);
    drain(&a, n);
    ASSERT(!a.pc->negotiation_needed);
    /* A peer whose every need an answer covered asks again on the next change. */
    b.negotiation_needed = 0;
    add_tr(&b, RTC_MEDIA_AUDIO);
    drain(&b, n);
    ASSERT_EQ(b.negotiation_needed, 1);
    /* A direction change back to what was negotiated needs nothing. */
    a.negotiation_needed = 0;
    ASSERT_OK(rtc_pc_transceiver_set_direction(a.pc, 0, RTC_DIR_RECVONLY, now));
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, 1);
    ASSERT_OK(rtc_pc_transceiver_set_direction(a.pc, 0, RTC_DIR_SENDRECV, now));
    ASSERT(!a.pc->negotiation_needed);
    peers_free(&a, &b, n);
}

/* W3C: applying a description fires signalingstatechange before icegatheringstatechange. */
static void test_event_order(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    add_tr(&a, RTC_MEDIA_AUDIO);
    rtc_pc_event ev;
    while (rtc_pc_poll_event(a.pc, &ev)) rtc_buf_unref(ev.buf);
    char *sdp;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    int order[8], n = 0;
    while (rtc_pc_poll_event(a.pc, &ev)) {
        if ((ev.type == RTC_PC_EV_SIGNALING_STATE || ev.type == RTC_PC_EV_GATHERING_STATE) && n < 8) order[n++] = ev.type;
        rtc_buf_unref(ev.buf);
    }
    ASSERT_GE(n, 2);
    ASSERT_EQ(order[0], RTC_PC_EV_SIGNALING_STATE);
    ASSERT_EQ(order[1], RTC_PC_EV_GATHERING_STATE);
    rtc_pc_free(a.pc);
}

/* Replace every occurrence of `from` by `to` in a malloc'd string (returns a new one). */
static char *subst(const char *s, const char *from, const char *to)
{
    size_t n = (size_t)count(s, from), lf = strlen(from), lt = strlen(to);
    char *out = malloc(strlen(s) + n * (lt > lf ? lt - lf : 0) + 1), *w = out;
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) { strcpy(w, p); break; }
        memcpy(w, p, (size_t)(q - p)); w += q - p;
        memcpy(w, to, lt); w += lt;
        p = q + lf;
    }
    return out;
}

static void refuse(peer *b, const char *offer, const char *why)
{
    ASSERT_EQ(rtc_pc_set_remote_description(b->pc, RTC_SDP_OFFER, offer, now), RTC_EACCESS);
    if (!strstr(rtc_pc_last_error(b->pc), why)) RTC_TEST_FAIL("error '%s' lacks '%s'", rtc_pc_last_error(b->pc), why);
    ASSERT_EQ(rtc_pc_signaling_state_get(b->pc), RTC_SIG_STABLE);
    ASSERT_EQ(rtc_pc_transceiver_count(b->pc), 0);
}

/* Offers the section table cannot hold are refused with a reason, never cut short. */
static void test_offer_limits(void)
{
    peer a, b;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    add_tr(&a, RTC_MEDIA_AUDIO);
    add_tr(&a, RTC_MEDIA_AUDIO);
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    /* a mid of 40 characters */
    const char *longmid = "m0123456789012345678901234567890123456789";
    char buf[64];
    snprintf(buf, sizeof buf, "a=mid:%s\r\n", longmid);
    char *t1 = subst(offer, "a=mid:0\r\n", buf);
    snprintf(buf, sizeof buf, "BUNDLE %s ", longmid);
    char *t2 = subst(t1, "BUNDLE 0 ", buf);
    refuse(&b, t2, "a=mid must have 1 to 31 characters");
    free(t1); free(t2);
    /* the same mid twice */
    t1 = subst(offer, "a=mid:1\r\n", "a=mid:0\r\n");
    refuse(&b, t1, "the same mid 0");
    free(t1);
    /* two extmaps with one id */
    t1 = subst(offer, "a=extmap:2 ", "a=extmap:1 ");
    refuse(&b, t1, "extmap id 1 is used twice");
    free(t1);
    /* 65 sections: the first section repeated under new mids */
    const char *m0 = strstr(offer, "m=audio "), *m1 = strstr(m0 + 1, "m=audio ");
    size_t sec = (size_t)(m1 - m0);
    char *big = malloc(strlen(offer) + 70 * (sec + 16));
    size_t len = (size_t)(m0 - offer);
    memcpy(big, offer, len);
    for (int i = 0; i < 65; i++) {
        char sect[4096];
        ASSERT(sec < sizeof sect);
        memcpy(sect, m0, sec);
        sect[sec] = 0;
        snprintf(buf, sizeof buf, "a=mid:x%d\r\n", i);
        char *s2 = subst(sect, "a=mid:0\r\n", buf);
        strcpy(big + len, s2);
        len += strlen(s2);
        free(s2);
    }
    big[len] = 0;
    refuse(&b, big, "65 media sections, at most 64");
    free(big);
    /* the offer as made is fine */
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 2);
    /* a max-message-size that does not fit an SDP integer is a configuration error */
    rtc_pc *pc;
    rtc_pc_config cfg = { .rng = &rng, .cert = cert_a, .max_message_size = (size_t)-5 };
    ASSERT_EQ(rtc_pc_new(&pc, &cfg, now), RTC_EINVAL);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
}

/* A remote offer whose mid names a transceiver of another kind: that section is
 * declined, the answer still made (it used to match the transceiver and fail). */
static void test_mid_of_other_kind(void)
{
    peer a, b, c;
    vnet *n = vnet_new(5);
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    peer_init(&c, "10.0.0.3:3000", cert_a);
    add_tr(&a, RTC_MEDIA_AUDIO);
    negotiate(&a, &b, n);
    add_tr(&c, RTC_MEDIA_VIDEO);
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(c.pc, false, &offer, now));
    ASSERT(strstr(offer, "m=video 9 ") && strstr(offer, "a=mid:0\r\n"));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    char *answer;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &answer, now));
    ASSERT(strstr(answer, "m=video 0 "));
    free(answer);
    rtc_pc_free(c.pc);
    peers_free(&a, &b, n);
}

/* a sends `nframes` VP8/Opus frames on its transceiver atr; returns how many b got on btr. */
static int frames_to(peer *a, peer *b, vnet *n, int atr, rtc_media_kind kind, int btr)
{
    int before = b->frames[btr];
    uint8_t frame[200];
    for (int i = 0; i < 20; i++) {
        memset(frame, i, sizeof frame);
        frame[0] = kind == RTC_MEDIA_VIDEO ? (i == 0 ? 0x10 : 0x11) : 0x78;
        if (kind == RTC_MEDIA_VIDEO && i == 0) { frame[3] = 0x9d; frame[4] = 0x01; frame[5] = 0x2a; }
        ASSERT(rtc_pc_send_frame(a->pc, atr, frame, sizeof frame,
                                 (uint32_t)(i + 1000) * (kind == RTC_MEDIA_VIDEO ? 3000 : 960), false, now) > 0);
        step(a, b, n, now + RTC_MS(20));
    }
    step(a, b, n, now + RTC_MS(500));
    return b->frames[btr] - before;
}

/* p's offer applied on both sides, and the other's answer: one full negotiation. */
static void offer_answer(peer *p, peer *o, vnet *n)
{
    char *offer = set_offer(p, o, n);
    ASSERT_OK(rtc_pc_set_remote_description(o->pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    char *answer = set_answer(o, p, n);
    ASSERT_OK(rtc_pc_set_remote_description(p->pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    step(p, o, n, now + RTC_MS(50));
}

/* JSEP 5.2.2 / 5.3.1: once a stopped transceiver's section is rejected in a completed
 * negotiation, the next new transceiver takes its slot under a new mid (the offer does
 * not grow), on either side; the old mid is never used again, and a live section cannot
 * change its mid. */
static void test_section_recycling(void)
{
    peer a, b;
    vnet *n = vnet_new(11);
    harness_default_on_frame = count_frame;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int audio = add_tr(&a, RTC_MEDIA_AUDIO);
    negotiate(&a, &b, n);
    run_until(&a, &b, n, now + RTC_SEC(10), both_connected);
    ASSERT(both_connected(&a, &b));
    ASSERT_OK(rtc_pc_transceiver_stop(a.pc, audio, now));
    offer_answer(&a, &b, n);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, audio, &ti));
    ASSERT(ti.stopped);
    /* a's new video transceiver: the offer still has one section, at index 0, mid 1 */
    int video = add_tr(&a, RTC_MEDIA_VIDEO);
    char *offer = set_offer(&a, &b, n);
    ASSERT_EQ(count(offer, "\r\nm="), 1);
    ASSERT(strstr(offer, "m=video 9 ") && strstr(offer, "a=mid:1\r\n") && !strstr(offer, "a=mid:0\r\n"));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    char *answer = set_answer(&b, &a, n);
    ASSERT_EQ(count(answer, "\r\nm="), 1);
    ASSERT(strstr(answer, "m=video 9 ") && strstr(answer, "a=mid:1\r\n"));
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    step(&a, &b, n, now + RTC_MS(50));
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, video, &ti));
    ASSERT_EQ(strcmp(ti.mid, "1"), 0);
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, audio, &ti));
    ASSERT_EQ(ti.mid[0], 0);              /* the stopped one gave its slot away */
    int bvideo = rtc_pc_transceiver_count(b.pc) - 1;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, bvideo, &ti));
    ASSERT_EQ(strcmp(ti.mid, "1"), 0);
    ASSERT_EQ(ti.kind, RTC_MEDIA_VIDEO);
    ASSERT_GE(frames_to(&a, &b, n, video, RTC_MEDIA_VIDEO, bvideo), 15);

    /* b's turn to offer: it stops the video, then recycles the slot for audio with a
     * mid neither side used before */
    ASSERT_OK(rtc_pc_transceiver_stop(b.pc, bvideo, now));
    offer_answer(&b, &a, n);
    int baudio = add_tr(&b, RTC_MEDIA_AUDIO);
    offer = set_offer(&b, &a, n);
    ASSERT_EQ(count(offer, "\r\nm="), 1);
    ASSERT(strstr(offer, "m=audio 9 ") && strstr(offer, "a=mid:2\r\n"));
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    answer = set_answer(&a, &b, n);
    ASSERT(strstr(answer, "m=audio 9 ") && strstr(answer, "a=mid:2\r\n"));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    step(&a, &b, n, now + RTC_MS(50));
    int aaudio = rtc_pc_transceiver_count(a.pc) - 1;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, aaudio, &ti));
    ASSERT_EQ(strcmp(ti.mid, "2"), 0);
    ASSERT_GE(frames_to(&b, &a, n, baudio, RTC_MEDIA_AUDIO, aaudio), 15);

    /* a live section keeps its mid: an offer that renames it is refused */
    offer = set_offer(&b, &a, n);
    char *p = strstr(offer, "a=mid:2\r\n");
    ASSERT(p);
    p[6] = '7';
    ASSERT_EQ(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, offer, now), RTC_EACCESS);
    ASSERT(strstr(rtc_pc_last_error(a.pc), "has mid 7, it was 2"));
    free(offer);
    harness_default_on_frame = NULL;
    peers_free(&a, &b, n);
}

/* JSEP 5.10: a remote offer's sections go to the transceiver with their mid, and a new
 * one to the first transceiver of its kind made by addTrack that is in no section and
 * not stopping; an addTransceiver one keeps waiting for a section of its own (our next
 * offer adds it), and a section nobody takes gets a new recvonly transceiver. */
static void test_remote_section_matching(void)
{
    peer a, b;
    vnet *n = vnet_new(12);
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    add_tr(&a, RTC_MEDIA_AUDIO);
    add_tr(&a, RTC_MEDIA_VIDEO);
    add_tr(&a, RTC_MEDIA_VIDEO);
    int own = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT_GE(own, 0);
    int gone = add_tr(&b, RTC_MEDIA_VIDEO);
    ASSERT_OK(rtc_pc_transceiver_stop(b.pc, gone, now));
    int vid = add_tr(&b, RTC_MEDIA_VIDEO);
    char *offer = set_offer(&a, &b, n);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, own, &ti));
    ASSERT_STREQ(ti.mid, "");
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, gone, &ti));
    ASSERT_STREQ(ti.mid, "");
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, vid, &ti));
    ASSERT_STREQ(ti.mid, "1");
    /* audio mid 0 and the second video (mid 2): new recvonly transceivers */
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 5);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, 3, &ti));
    ASSERT_EQ(ti.kind, RTC_MEDIA_AUDIO);
    ASSERT_STREQ(ti.mid, "0");
    ASSERT_EQ(ti.direction, RTC_DIR_RECVONLY);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, 4, &ti));
    ASSERT_EQ(ti.kind, RTC_MEDIA_VIDEO);
    ASSERT_STREQ(ti.mid, "2");
    char *answer = set_answer(&b, &a, n);
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    /* b's own audio still needs a section: its next offer adds one, a fourth */
    offer = set_offer(&b, &a, n);
    ASSERT_EQ(count(offer, "\r\nm="), 4);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, own, &ti));
    ASSERT_STREQ(ti.mid, "3");
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, offer, now));
    free(offer);
    /* a renegotiation matched every section by mid: a made one new transceiver, for b's */
    ASSERT_EQ(rtc_pc_transceiver_count(a.pc), 4);
    peers_free(&a, &b, n);
}

int main(void)
{
    harness_on_clock = move_vclock;
    harness_begin(0x15);
    RUN(test_event_order);
    RUN(test_offer_limits);
    RUN(test_rollback_local_offer);
    RUN(test_glare_with_media);
    RUN(test_glare_implicit_rollback);
    RUN(test_rollback_remote_offer);
    RUN(test_negotiation_needed);
    RUN(test_mid_of_other_kind);
    RUN(test_section_recycling);
    RUN(test_remote_section_matching);
    harness_end();
    return 0;
}
