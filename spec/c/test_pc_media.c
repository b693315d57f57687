/* Media in the peer connection: two peers over the virtual network negotiate audio and
 * video, the offerer sends VP8 and Opus frames through 10% loss both ways, and NACK/RTX
 * repair every one; JSEP answers to Chrome's offer pick the right codecs, ids and
 * feedback; our own offers answer back into the same parameters. */
#include "test_pc_harness.h"
#include "sdp/sdp.h"
#include "rtp/rtp_ext.h"
#include "pc/pc_internal.h"      /* hostile input: the offerer's SRTP session protects it */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define CORPUS RTC_SOURCE_DIR "/spec/sdp/corpus/"
#define NFRAMES 300

/* Drop every a=ssrc and a=ssrc-group line (in place). */
static void remove_ssrc_lines(char *sdp)
{
    char *w = sdp;
    for (char *r = sdp; *r;) {
        char *eol = strchr(r, '\n');
        size_t n = eol ? (size_t)(eol - r + 1) : strlen(r);
        if (strncmp(r, "a=ssrc", 6) != 0) { memmove(w, r, n); w += n; }
        r += n;
    }
    *w = 0;
}
static peer *g_sender;

/* Deterministic frame content from (kind, index) so the receiver can check each byte. */
static size_t make_frame(uint8_t *out, int video, int i, bool key)
{
    size_t len = video ? (key ? 9000 : 1200 + (size_t)(i * 37 % 2500)) : 60 + (size_t)(i % 40);
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i * 7 + (size_t)video);
    if (video) {
        /* VP8 frame tag: bit 0 clear on keyframes (RFC 6386 9.1); the start code after it. */
        out[0] = key ? 0x10 : 0x11;
        if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; }
    } else {
        out[0] = 0x78;   /* an Opus TOC byte: one 20 ms CELT frame */
    }
    return len;
}

static uint8_t expect_buf[16000];
/* Audio frames skipped over: an audio hole holds later packets back for about two
 * round trips only (rtp_receiver.h), so a repair that needs more retries than that
 * leaves a gap for the decoder to conceal. */
static int audio_gaps[4];

static void check_frame(peer *p, const rtc_pc_event *ev)
{
    int tr = ev->tr;
    ASSERT(tr >= 0 && tr < 4);
    if (ev->codec == RTC_CODEC_H264) {         /* renegotiated stream: Annex B with an IDR or a P slice */
        ASSERT(ev->buf->len > 5 && ev->buf->data[3] == 1);
        if (ev->keyframe) p->keyframes[tr]++;
        p->frames[tr]++;
        return;
    }
    bool video = ev->kind == RTC_MEDIA_VIDEO;
    uint32_t step = video ? 3000 : 960;
    int i = (int)(ev->ts / step);
    if (p->frames[tr] > 0 && ev->ts <= p->last_ts[tr]) p->bad[tr]++;     /* out of order */
    bool gap = p->frames[tr] == 0 ? i != 0 : ev->ts != p->last_ts[tr] + step;   /* a frame is missing */
    if (gap && !video && ev->ts > p->last_ts[tr]) audio_gaps[tr] += (int)((ev->ts - p->last_ts[tr]) / step) - 1;
    else if (gap) p->bad[tr]++;
    p->last_ts[tr] = ev->ts;
    bool key = video && (ev->buf->data[0] & 1) == 0;
    size_t len = make_frame(expect_buf, video, i, key);
    if (ev->buf->len != len || memcmp(ev->buf->data, expect_buf, len) != 0) p->bad[tr]++;
    if (ev->keyframe) p->keyframes[tr]++;
    p->frames[tr]++;
}


/* A second offer/answer in the other direction during the call: the answerer adds a
 * video sender, offers, and its frames reach the first offerer; the first streams
 * keep flowing. */
static void renegotiate_and_send_back(peer *a, peer *b, vnet *n, int atr)
{
    int btr = rtc_pc_add_transceiver(b->pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_H264 }, now);
    ASSERT_OK(btr);
    int tracks_before = a->tracks;
    negotiate(b, a, n);
    step(a, b, n, now + RTC_MS(200));
    ASSERT_EQ(a->tracks, tracks_before + 1);
    int rt = a->track_tr[a->tracks - 1];
    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a->pc, rt, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b->pc, btr, &ib));
    ASSERT_EQ(ia.codec, RTC_CODEC_H264);
    ASSERT_EQ(ib.codec, RTC_CODEC_H264);
    ASSERT_EQ(ia.current_direction, RTC_DIR_RECVONLY);
    ASSERT_STREQ(ia.mid, ib.mid);
    /* H264: an IDR access unit, then P slices (Annex B, 4-byte start codes). */
    static uint8_t au[6000];
    int got_before = a->frames[rt], audio_before = b->frames[b->track_tr[1]];
    for (int i = 0; i < 60; i++) {
        size_t len = 0;
        static const uint8_t sc[4] = { 0, 0, 0, 1 };
        if (i % 30 == 0) {
            static const uint8_t sps[] = { 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40 }, pps[] = { 0x68, 0xce, 0x3c, 0x80 };
            memcpy(au + len, sc, 4); len += 4; memcpy(au + len, sps, sizeof sps); len += sizeof sps;
            memcpy(au + len, sc, 4); len += 4; memcpy(au + len, pps, sizeof pps); len += sizeof pps;
            memcpy(au + len, sc, 4); len += 4; au[len++] = 0x65; au[len++] = 0x88;
            for (int k = 0; k < 4000; k++) au[len++] = (uint8_t)(k * 13 + i) | 1;
        } else {
            memcpy(au + len, sc, 4); len += 4; au[len++] = 0x41; au[len++] = 0x9a;
            for (int k = 0; k < 900 + i * 10; k++) au[len++] = (uint8_t)(k * 7 + i) | 1;
        }
        ASSERT(rtc_pc_send_frame(b->pc, btr, au, len, (uint32_t)i * 3000, i % 30 == 0, now) > 0);
        if (i % 3 == 0) {
            static uint8_t opus[128];       /* make_frame writes up to 99 audio bytes */
            size_t ol = make_frame(opus, 0, 500 + i, false);
            ASSERT_OK(rtc_pc_send_frame(a->pc, atr, opus, ol, (uint32_t)(500 + i) * 960, false, now));
        }
        step(a, b, n, now + RTC_MS(33));
    }
    step(a, b, n, now + RTC_SEC(2));
    fprintf(stderr, "back: %d frames, %d keyframes\n", a->frames[rt] - got_before, a->keyframes[rt]);
    ASSERT(a->frames[rt] - got_before >= 59);
    ASSERT_EQ(a->keyframes[rt], 2);
    ASSERT(b->frames[b->track_tr[1]] - audio_before >= 19);   /* the first audio stream still flows */
}

static void exchange_with_loss(bool unsignaled, rtc_red_mode red)
{
    memset(audio_gaps, 0, sizeof audio_gaps);
    harness_munge_offer = unsignaled ? remove_ssrc_lines : NULL;   /* streams are then found by MID */
    peer a, b;
    vnet *n = vnet_new(11);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20), .jitter = RTC_MS(2), .loss = 0.10 });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    g_sender = &a;
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    int atr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDONLY, -1 }, now);
    ASSERT_EQ(vtr, 0);
    ASSERT_EQ(atr, 1);
    ASSERT_OK(rtc_pc_transceiver_set_red(a.pc, atr, red));
    negotiate(&a, &b, n);
    for (int i = 0; i < 200 && !(connected(&a) && connected(&b)); i++) step(&a, &b, n, now + RTC_MS(100));
    ASSERT(connected(&a) && connected(&b));
    ASSERT_EQ(b.tracks, 2);
    ASSERT_EQ(b.track_kind[0], RTC_MEDIA_VIDEO);
    ASSERT_EQ(b.track_kind[1], RTC_MEDIA_AUDIO);

    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, b.track_tr[0], &ib));
    ASSERT_EQ(ia.codec, RTC_CODEC_VP8);
    ASSERT_EQ(ib.codec, RTC_CODEC_VP8);
    ASSERT_EQ(ia.pt, ib.pt);
    ASSERT(ia.rtx_pt != 0 && ia.rtx_pt == ib.rtx_pt);
    ASSERT(ib.fb_nack && ib.fb_pli && ib.fb_twcc);
    ASSERT_EQ(ia.current_direction, RTC_DIR_SENDONLY);
    ASSERT_EQ(ib.current_direction, RTC_DIR_RECVONLY);
    if (unsignaled) ASSERT_EQ(ib.remote_ssrc, 0);                       /* known at the first packet */
    else ASSERT_EQ(ib.remote_ssrc, ia.local_ssrc);

    /* 10 s of 30 fps video and 50 fps audio, keyframes every 2 s and on request. */
    static uint8_t frame[16000];
    int sent_v = 0, sent_a = 0, requests_seen = 0;
    for (int ms = 0; ms < 10000; ms += 10) {
        if (ms % 20 == 0) {
            size_t len = make_frame(frame, 0, sent_a, false);
            ASSERT_OK(rtc_pc_send_frame(a.pc, atr, frame, len, (uint32_t)sent_a * 960, false, now));
            sent_a++;
        }
        if (ms % 30 == 0 && ms < 10000 - 30) {
            bool key = sent_v % 60 == 0 || a.keyframe_requests > requests_seen;
            requests_seen = a.keyframe_requests;
            size_t len = make_frame(frame, 1, sent_v, key);
            ASSERT_OK(rtc_pc_send_frame(a.pc, vtr, frame, len, (uint32_t)sent_v * 3000, key, now));
            sent_v++;
        }
        step(&a, &b, n, now + RTC_MS(10));
    }
    step(&a, &b, n, now + RTC_SEC(2));
    int rv = b.track_tr[0], ra = b.track_tr[1];
    fprintf(stderr, "video %d/%d audio %d/%d (%d concealed), keyframe requests %d\n", b.frames[rv], sent_v, b.frames[ra],
            sent_a, audio_gaps[ra], a.keyframe_requests);
    ASSERT_EQ(b.bad[rv], 0);
    ASSERT_EQ(b.bad[ra], 0);
    /* No frame is missing: a loss only shows when a later packet arrives, so the very
     * last packet of each stream may stay lost (a live stream never ends there). */
    ASSERT(b.frames[rv] >= sent_v - 1);
    ASSERT(b.frames[ra] + audio_gaps[ra] >= sent_a - 1);
    ASSERT(audio_gaps[ra] <= sent_a / 100);             /* 10% loss both ways: repairs mostly in time */
    ASSERT(b.keyframes[rv] >= sent_v / 60);

    ASSERT_OK(rtc_pc_transceiver_info(b.pc, rv, &ib));
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &ia));
    fprintf(stderr, "video: received %llu packets, %llu rtx, %llu repaired, %llu nacks; sender rtx %llu, rtt %.3f\n",
            (unsigned long long)ib.packets_received, (unsigned long long)ib.rtx_received,
            (unsigned long long)ib.packets_repaired, (unsigned long long)ib.nack_count,
            (unsigned long long)ia.retransmitted_packets, ia.round_trip_time);
    ASSERT(ib.packets_repaired > 50);
    ASSERT(ib.rtx_received > 50);                       /* repairs came as RTX, not as the originals */
    ASSERT(ia.retransmitted_packets >= ib.rtx_received);
    ASSERT(ib.nack_count > 0);
    ASSERT_EQ(ib.frames_received, (uint64_t)b.frames[rv]);
    ASSERT(ia.round_trip_time > 0.035 && ia.round_trip_time < 0.2);
    ASSERT(ia.packets_sent > 0 && ia.bytes_sent > ia.packets_sent * 100);
    rtc_pc_media_stats ms;
    rtc_pc_media_get_stats(b.pc, &ms);
    ASSERT(ms.twcc_feedback_sent > 50);
    ASSERT_EQ(ms.unroutable, 0);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, ra, &ib));
    ASSERT_EQ(ib.codec, RTC_CODEC_OPUS);
    /* Both sides offer and answer RED for Opus, so either may send it. b answers Opus
     * first, so by default a sends plain Opus (as Chromium would); with "on" it sends
     * RED and most audio holes are filled from the next packet's copy before NACK gets
     * to them. */
    ASSERT_EQ(ib.red_pt, 63);
    rtc_transceiver_info sa;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, atr, &sa));
    ASSERT_EQ(sa.red_pt, 63);
    ASSERT_EQ(sa.red_send, red == RTC_RED_ON);
    fprintf(stderr, "audio: %llu RED packets, %llu from RED, %llu repaired\n", (unsigned long long)ib.red_packets_received,
            (unsigned long long)ib.red_recovered, (unsigned long long)ib.packets_repaired);
    if (red == RTC_RED_ON) {
        ASSERT(ib.red_recovered > 20);
        ASSERT(ib.red_packets_received > ib.packets_received / 2);
    } else {
        ASSERT_EQ(ib.red_recovered, 0);
        ASSERT_EQ(ib.red_packets_received, 0);
    }

    /* Hostile input after SRTP: validly protected RTP and RTCP with random headers,
     * extensions, payloads and SSRCs (known and unknown) reach b's streams. Each is
     * dropped or counted; the session keeps working. */
    rtc_transceiver_info vb;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, rv, &vb));
    rtc_pc_media_stats before;
    rtc_pc_media_get_stats(b.pc, &before);
    int protected_ok = 0;
    for (int i = 0; i < 3000; i++) {
        rtc_buf *p = rtc_buf_alloc(NULL, 1500);
        size_t len = 12 + rtc_rng_u32(&rng) % 300;
        for (size_t k = 0; k < len; k++) p->data[k] = (uint8_t)rtc_rng_u32(&rng);
        bool rtcp = i % 3 == 0;
        p->data[0] = (uint8_t)(0x80 | (p->data[0] & 0x3f));
        if (rtcp) {
            static const uint8_t types[] = { 200, 201, 202, 203, 205, 206 };
            p->data[1] = types[i % 6];
            size_t words = rtc_rng_u32(&rng) % 2 ? len / 4 - 1 : rtc_rng_u32(&rng) % 80;
            p->data[2] = (uint8_t)(words >> 8); p->data[3] = (uint8_t)words;
            len &= ~(size_t)3;
        } else {
            p->data[0] &= 0xef;           /* no extension bit half the time: libsrtp must parse it */
            if (i % 2) p->data[0] |= 0x10;
            p->data[1] = (uint8_t)((p->data[1] & 0x80) | (i % 4 ? vb.pt : vb.rtx_pt));
        }
        uint32_t ssrc = i % 5 == 0 ? rtc_rng_u32(&rng) : (i % 2 ? vb.remote_ssrc : vb.remote_rtx_ssrc);
        size_t at = rtcp ? 8 : 8;         /* RTP SSRC; RTCP feedback media SSRC */
        if (len >= at + 4) { p->data[at] = (uint8_t)(ssrc >> 24); p->data[at + 1] = (uint8_t)(ssrc >> 16);
                             p->data[at + 2] = (uint8_t)(ssrc >> 8); p->data[at + 3] = (uint8_t)ssrc; }
        p->len = len;
        int r = rtcp ? rtc_srtp_session_protect_rtcp(a.pc->srtp, p) : rtc_srtp_session_protect_rtp(a.pc->srtp, p);
        if (r == 0) {
            protected_ok++;
            rtc_pc_handle_datagram(b.pc, &b.addr, &a.addr, p->data, p->len, now);
        }
        rtc_buf_unref(p);
        if (i % 100 == 0) step(&a, &b, n, now + RTC_MS(5));
    }
    step(&a, &b, n, now + RTC_SEC(1));
    rtc_pc_media_stats after;
    rtc_pc_media_get_stats(b.pc, &after);
    ASSERT(protected_ok > 1000);
    /* Random sequence numbers on a known SSRC are often replays to libsrtp: counted there. */
    ASSERT(after.rtp_received + after.rtcp_received + after.srtp_errors >=
           before.rtp_received + before.rtcp_received + before.srtp_errors + (uint64_t)protected_ok / 2);
    ASSERT(after.rtp_received > before.rtp_received + 100);
    ASSERT(after.unroutable > before.unroutable);
    ASSERT(connected(&a) && connected(&b));

    if (unsignaled) {
        ASSERT_OK(rtc_pc_transceiver_info(b.pc, rv, &ib));
        ASSERT_EQ(ib.remote_ssrc, ia.local_ssrc);
        ASSERT_EQ(ib.remote_rtx_ssrc, ia.local_rtx_ssrc);
        harness_munge_offer = NULL;
    } else {
        renegotiate_and_send_back(&a, &b, n, atr);
    }
    close_peers(&a, &b, n);
}

static void test_exchange_with_loss(void) { exchange_with_loss(false, RTC_RED_ON); }
static void test_unsignaled_streams_with_loss(void) { exchange_with_loss(true, RTC_RED_AUTO); }

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* Answering Chrome's offer (audio, video with VP8/VP9/H264/AV1 + RTX and simulcast
 * rids, data): the codec, RTX, ids and feedback we accept. */
static void check_chrome_answer(int pref, const char *want, int want_pt, int want_rtx, rtc_media_direction vdir)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int pre = -1;
    if (pref >= 0 || vdir != RTC_DIR_RECVONLY)
        pre = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, vdir, pref }, now);
    if (pre >= 0) ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, pre));   /* the offer's section takes it (JSEP 5.10) */
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, read_file(CORPUS "chrome_offer_simulcast.sdp"), now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    ASSERT_EQ(s->nmedia, 3);
    const rtc_sdp_media *au = s->media[0], *vi = s->media[1], *da = s->media[2];
    ASSERT(au->port != 0 && vi->port != 0 && da->port != 0);
    ASSERT_STREQ(au->mid, "0");
    ASSERT_STREQ(vi->mid, "1");
    ASSERT(au->rtcp_mux && vi->rtcp_mux && vi->rtcp_rsize);
    /* audio: Opus with Chrome's PT, transport-cc, and RED carrying it */
    ASSERT_EQ(au->ncodecs, 2);
    ASSERT_STREQ(au->codecs[1]->name, "red");
    ASSERT_STREQ(au->codecs[1]->fmtp, "111/111");
    ASSERT_STREQ(au->codecs[0]->name, "opus");
    ASSERT_EQ(au->codecs[0]->pt, 111);
    ASSERT_STREQ(rtc_sdp_codec_param(au->codecs[0], "useinbandfec"), "1");
    ASSERT(rtc_sdp_codec_has_fb(au->codecs[0], au, "transport-cc"));
    ASSERT_EQ(rtc_sdp_media_direction(s, au), RTC_SDP_RECVONLY);
    ASSERT_EQ(rtc_sdp_media_extmap(au, "urn:ietf:params:rtp-hdrext:ssrc-audio-level")->id, 1);
    ASSERT_EQ(rtc_sdp_media_extmap(au, "urn:ietf:params:rtp-hdrext:sdes:mid")->id, 4);
    /* video: one codec + its RTX, Chrome's PTs, every feedback type we act on */
    ASSERT_EQ(vi->ncodecs, 2);
    ASSERT_STREQ(vi->codecs[0]->name, want);
    ASSERT_EQ(vi->codecs[0]->pt, want_pt);
    ASSERT_STREQ(vi->codecs[1]->name, "rtx");
    ASSERT_EQ(vi->codecs[1]->pt, want_rtx);
    char apt[8];
    snprintf(apt, sizeof apt, "%d", want_pt);
    ASSERT_STREQ(rtc_sdp_codec_param(vi->codecs[1], "apt"), apt);
    const char *fbs[] = { "nack", "nack pli", "ccm fir", "transport-cc", "goog-remb" };
    for (int i = 0; i < 5; i++) ASSERT(rtc_sdp_codec_has_fb(vi->codecs[0], vi, fbs[i]));
    ASSERT_EQ(rtc_sdp_media_extmap(vi, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time")->id, 2);
    ASSERT_EQ(rtc_sdp_media_extmap(vi, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01")->id, 3);
    ASSERT_EQ(rtc_sdp_media_extmap(vi, "urn:ietf:params:rtp-hdrext:sdes:mid")->id, 4);
    ASSERT_EQ(rtc_sdp_media_extmap(vi, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->id, 10);
    ASSERT(rtc_sdp_media_extmap(vi, "urn:3gpp:video-orientation") == NULL);
    /* Chrome offers three simulcast layers: we receive them all */
    ASSERT(vi->simulcast.present);
    ASSERT_EQ(vi->simulcast.nrecv, 3);
    ASSERT_EQ(vi->simulcast.nsend, 0);
    ASSERT_STREQ(vi->simulcast.recv[0].alts[0].rid, "q");
    ASSERT_STREQ(vi->simulcast.recv[2].alts[0].rid, "f");
    ASSERT_EQ(vi->nrids, 3);
    ASSERT(vi->rids[0].recv && vi->rids[1].recv && vi->rids[2].recv);
    ASSERT_EQ(rtc_sdp_media_extmap(vi, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")->id, 11);
    ASSERT(!au->simulcast.present);
    ASSERT(rtc_sdp_media_extmap(vi, "urn:ietf:params:rtp-hdrext:toffset") == NULL);
    ASSERT_EQ(rtc_sdp_media_direction(s, vi), vdir == RTC_DIR_SENDRECV ? RTC_SDP_SENDRECV : RTC_SDP_RECVONLY);
    if (vdir == RTC_DIR_SENDRECV) {
        /* we send: msid, SSRCs with cname, FID group pairing media and RTX */
        ASSERT_EQ(vi->nmsids, 1);
        const rtc_sdp_ssrc_group *g = rtc_sdp_media_ssrc_group(vi, "FID");
        ASSERT(g && g->nssrcs == 2);
        ASSERT(rtc_sdp_media_ssrc_attr(vi, g->ssrcs[0], "cname") != NULL);
        ASSERT(rtc_sdp_media_ssrc_attr(vi, g->ssrcs[1], "cname") != NULL);
    } else {
        ASSERT_EQ(vi->nssrcs, 0);
    }
    ASSERT(rtc_sdp_media_is_sctp(da));
    const rtc_sdp_group *bundle = rtc_sdp_find_group(s, "BUNDLE");
    ASSERT(bundle && bundle->nmids == 3);
    rtc_sdp_free(s);
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, text, now));
    free(text);
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), pre >= 0 ? 2 : 2);
    rtc_transceiver_info vi_info;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, pre >= 0 ? pre : 1, &vi_info));
    ASSERT_STREQ(vi_info.mid, "1");
    ASSERT_EQ(vi_info.pt, want_pt);
    ASSERT_EQ(vi_info.rtx_pt, want_rtx);
    ASSERT(vi_info.fb_nack && vi_info.fb_pli && vi_info.fb_fir && vi_info.fb_twcc && vi_info.fb_remb);
    ASSERT_EQ(vi_info.remote_ssrc, 0);   /* Chrome's simulcast offer signals no SSRC: routed by MID */
    rtc_pc_event ev;
    int tracks = 0;
    while (rtc_pc_poll_event(b.pc, &ev)) { if (ev.type == RTC_PC_EV_TRACK) tracks++; rtc_buf_unref(ev.buf); }
    ASSERT_EQ(tracks, 2);
    rtc_pc_free(b.pc);
}

static void test_chrome_offer(void)
{
    check_chrome_answer(-1, "VP8", 96, 97, RTC_DIR_RECVONLY);
    check_chrome_answer(RTC_CODEC_H264, "H264", 102, 103, RTC_DIR_SENDRECV);   /* 102: packetization-mode 1 */
    check_chrome_answer(RTC_CODEC_VP9, "VP9", 98, 99, RTC_DIR_RECVONLY);
    check_chrome_answer(RTC_CODEC_AV1, "AV1", 45, 46, RTC_DIR_SENDRECV);
}

/* An audio-only offer from a stack without RTP sections we know gets rejected sections. */
static void test_unsupported_codecs_rejected(void)
{
    static const char *offer =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
        "11:8F:98:37:73:B7:7B:57:51:DD:B7:48:45:3A:12:73:1A:26:34:1C:CB:EF:9C:0D:E2:91:7A:C7:21:1E:3F:7F\r\n"
        "a=setup:actpass\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 104\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=rtcp-mux\r\n"
        "a=rtpmap:104 H264/90000\r\na=fmtp:104 packetization-mode=0;profile-level-id=42001f\r\n";
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    ASSERT_EQ(s->nmedia, 2);
    ASSERT_EQ(s->media[0]->port, 0);
    ASSERT_EQ(s->media[1]->port, 0);
    rtc_sdp_free(s);
    free(text);
    ASSERT_EQ(rtc_pc_transceiver_count(b.pc), 0);
    rtc_pc_free(b.pc);

    /* Found by fuzz_pc_media: a data section whose proto leaves no format, with the
     * legacy sctpmap, and an audio section whose proto reads as RTP and SCTP. */
    static const char *odd =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=application 9 UDP/DTLS/SCTP/X 5000\r\nc=IN IP4 0.0.0.0\r\na=mid:d\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
        "11:8F:98:37:73:B7:7B:57:51:DD:B7:48:45:3A:12:73:1A:26:34:1C:CB:EF:9C:0D:E2:91:7A:C7:21:1E:3F:7F\r\n"
        "a=setup:actpass\r\na=sctpmap:5000 webrtc-datachannel 1024\r\n"
        "m=audio 0 UDP/TLS/RTP/SSCTP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n";
    peer_init(&b, "10.0.0.2:2000", cert_b);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, odd, now));
    /* No answer can describe such a data section: a clean error, not a crash. */
    ASSERT(rtc_pc_create_answer(b.pc, &text, now) < 0);
    ASSERT(strstr(rtc_pc_last_error(b.pc), "cannot write the description") != NULL);
    rtc_pc_free(b.pc);
    static const char *odd_audio =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "m=audio 0 UDP/TLS/RTP/SSCTP 0\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:d\r\na=ice-ufrag:abcd\r\n"
        "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 "
        "11:8F:98:37:73:B7:7B:57:51:DD:B7:48:45:3A:12:73:1A:26:34:1C:CB:EF:9C:0D:E2:91:7A:C7:21:1E:3F:7F\r\n"
        "a=setup:actpass\r\na=sctp-port:5000\r\n";
    peer_init(&b, "10.0.0.2:2000", cert_b);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, odd_audio, now));
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));     /* the declined section is valid SDP */
    ASSERT_EQ(s->nmedia, 2);
    ASSERT_EQ(s->media[0]->port, 0);
    rtc_sdp_free(s);
    free(text);
    rtc_pc_free(b.pc);
}

/* Our offer lists every codec (preferred first) and Chrome's answer picks one. */
static void test_our_offer(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    ASSERT_OK(rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDRECV, RTC_CODEC_H264 }, now));
    ASSERT_OK(rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_RECVONLY, -1 }, now));
    ASSERT_EQ(rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_RECVONLY, RTC_CODEC_VP8 }, now),
              RTC_EINVAL);
    char *text;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    ASSERT_EQ(s->nmedia, 2);
    const rtc_sdp_media *v = s->media[0], *au = s->media[1];
    ASSERT_STREQ(v->codecs[0]->name, "H264");
    ASSERT_STREQ(rtc_sdp_codec_param(v->codecs[0], "packetization-mode"), "1");
    ASSERT(rtc_sdp_media_find_codec(v, "VP8", NULL) != NULL);
    ASSERT(rtc_sdp_media_rtx_for(v, v->codecs[0]->pt) != NULL);
    ASSERT_EQ(rtc_sdp_media_direction(s, v), RTC_SDP_SENDRECV);
    ASSERT(rtc_sdp_media_ssrc_group(v, "FID") != NULL);
    ASSERT_STREQ(au->codecs[0]->name, "opus");
    ASSERT_EQ(rtc_sdp_media_direction(s, au), RTC_SDP_RECVONLY);
    ASSERT_EQ(au->nssrcs, 0);
    rtc_sdp_free(s);
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, text, now));
    free(text);
    rtc_pc_free(a.pc);
}

/* Answer Chrome's offer (its audio m-line reordered when red_first) with an audio
 * transceiver in `mode`; returns what was negotiated. */
static rtc_transceiver_info answer_red(rtc_red_mode mode, bool red_first, bool *answered_red)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int tr = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, tr));      /* the offer's section takes it (JSEP 5.10) */
    ASSERT_OK(rtc_pc_transceiver_set_red(b.pc, tr, mode));
    char *offer = read_file(CORPUS "chrome_offer_simulcast.sdp");
    char *ml = strstr(offer, "SAVPF 111 63 ");
    ASSERT(ml != NULL);
    if (red_first) memcpy(ml, "SAVPF 63 111 ", 13);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    *answered_red = rtc_sdp_media_find_codec(s->media[0], "red", NULL) != NULL;
    rtc_sdp_free(s);
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, text, now));
    free(text);
    rtc_transceiver_info info;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, tr, &info));
    ASSERT_STREQ(info.mid, "0");
    rtc_pc_free(b.pc);
    return info;
}

/* RED is a choice made as Chromium makes it: offered after Opus, sent only when the
 * peer lists it first or the application turns it on, neither offered nor answered
 * when turned off. */
static void test_red_choice(void)
{
    bool red;
    rtc_transceiver_info i = answer_red(RTC_RED_AUTO, false, &red);
    ASSERT(red && i.red_pt == 63 && !i.red_send);        /* Chrome lists Opus first: plain Opus */
    i = answer_red(RTC_RED_AUTO, true, &red);
    ASSERT(red && i.red_pt == 63 && i.red_send);         /* the peer prefers RED */
    i = answer_red(RTC_RED_ON, false, &red);
    ASSERT(red && i.red_pt == 63 && i.red_send);
    i = answer_red(RTC_RED_OFF, true, &red);
    ASSERT(!red && i.red_pt == 0 && !i.red_send);

    for (int mode = RTC_RED_AUTO; mode <= RTC_RED_OFF; mode++) {
        peer a;
        peer_init(&a, "10.0.0.1:1000", cert_a);
        int tr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
        ASSERT_OK(rtc_pc_transceiver_set_red(a.pc, tr, (rtc_red_mode)mode));
        char *text;
        ASSERT_OK(rtc_pc_create_offer(a.pc, false, &text, now));
        rtc_sdp *s;
        ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
        const rtc_sdp_media *au = s->media[0];
        ASSERT_STREQ(au->codecs[0]->name, "opus");
        if (mode == RTC_RED_OFF) {
            ASSERT(rtc_sdp_media_find_codec(au, "red", NULL) == NULL);
        } else {
            ASSERT_EQ(au->ncodecs, 2);
            ASSERT_STREQ(au->codecs[1]->name, "red");
            ASSERT_STREQ(au->codecs[1]->fmtp, "111/111");
        }
        rtc_sdp_free(s);
        free(text);
        rtc_pc_free(a.pc);
    }
    /* Bad input: a video transceiver, an unknown mode, an unknown handle. */
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    int v = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDRECV, -1 }, now);
    int au = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT_EQ(rtc_pc_transceiver_set_red(a.pc, v, RTC_RED_ON), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_red(a.pc, au, (rtc_red_mode)7), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_red(a.pc, 99, RTC_RED_ON), RTC_ENOTFOUND);
    rtc_pc_free(a.pc);
}

int main(void)
{
    harness_default_on_frame = check_frame;
    harness_begin(42);
    RUN(test_chrome_offer);
    RUN(test_unsupported_codecs_rejected);
    RUN(test_our_offer);
    RUN(test_red_choice);
    RUN(test_exchange_with_loss);
    RUN(test_unsignaled_streams_with_loss);
    harness_end();
    return 0;
}
