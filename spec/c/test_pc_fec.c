/* Video ULPFEC in the peer connection: an answer to Chromium's offer keeps its
 * red/ulpfec types when asked to; two peers on the virtual network negotiate
 * red/90000 + ulpfec/90000 when both ask for it, NACK is taken out of the offer, and
 * VP8 goes through random loss. With FEC the receiver rebuilds lost packets before
 * the jitter buffer and most frames arrive whole; the same run without FEC loses
 * twice as many. PLI stays on, so a frame FEC cannot save costs up to a keyframe. */
#include "test_pc_harness.h"
#include "sdp/sdp.h"
#include <stdio.h>
#include <string.h>

/* Drop every plain `nack` rtcp-fb line (keeping `nack pli`): nothing is retransmitted,
 * keyframes may still be asked for. */
static void remove_nack(char *sdp)
{
    char *w = sdp;
    for (char *r = sdp; *r;) {
        char *eol = strchr(r, '\n');
        size_t n = eol ? (size_t)(eol - r + 1) : strlen(r);
        bool drop = false;
        if (strncmp(r, "a=rtcp-fb:", 10) == 0)
            for (size_t k = 10; k + 6 <= n && !drop; k++) drop = memcmp(r + k, " nack\r", 6) == 0 || memcmp(r + k, " nack\n", 6) == 0;
        if (!drop) { memmove(w, r, n); w += n; }
        r += n;
    }
    *w = 0;
}

static size_t make_frame(uint8_t *out, int i, bool key)
{
    size_t len = key ? 6000 : 1500 + (size_t)(i * 37 % 2000);
    for (size_t k = 0; k < len; k++) out[k] = (uint8_t)(k * 31 + (size_t)i * 7);
    out[0] = key ? 0x10 : 0x11;                          /* VP8 frame tag (RFC 6386 9.1) */
    if (key) { out[3] = 0x9d; out[4] = 0x01; out[5] = 0x2a; }
    return len;
}

static uint8_t expect_buf[8000];
static void check_frame(peer *p, const rtc_pc_event *ev)
{
    int tr = ev->tr;
    ASSERT(tr >= 0 && tr < 4);
    int i = (int)(ev->ts / 3000);
    size_t len = make_frame(expect_buf, i, (ev->buf->data[0] & 1) == 0);
    if (ev->buf->len != len || memcmp(ev->buf->data, expect_buf, len) != 0) p->bad[tr]++;
    p->frames[tr]++;
}

typedef struct run_result { int sent, received, bad; rtc_transceiver_info rx, tx; } run_result;

static run_result run(bool fec)
{
    harness_munge_offer = remove_nack;
    peer a, b;
    vnet *n = vnet_new(5);
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int vtr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDONLY, RTC_CODEC_VP8 }, now);
    int btr = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_RECVONLY, RTC_CODEC_VP8 }, now);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, btr));     /* the offer's section takes it */
    if (fec) {
        ASSERT_OK(rtc_pc_transceiver_set_fec(a.pc, vtr, RTC_FEC_ULPFEC, 2));
        ASSERT_OK(rtc_pc_transceiver_set_fec(b.pc, btr, RTC_FEC_ULPFEC, 0));
    }
    connect_peers(&a, &b, n);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(20), .jitter = RTC_MS(1), .loss = 0.05 });
    run_result res = {0};
    static uint8_t frame[8000];
    int requests_seen = 0;
    for (int i = 0; i < 600; i++) {                      /* 20 s at 30 fps, a keyframe every 2 s and on request */
        bool key = i % 60 == 0 || a.keyframe_requests > requests_seen;
        requests_seen = a.keyframe_requests;
        size_t len = make_frame(frame, i, key);
        ASSERT(rtc_pc_send_frame(a.pc, vtr, frame, len, (uint32_t)i * 3000, key, now) > 0);
        res.sent++;
        step(&a, &b, n, now + RTC_MS(33));
    }
    step(&a, &b, n, now + RTC_SEC(2));
    ASSERT_EQ(b.tracks, 1);
    int rv = b.track_tr[0];
    res.received = b.frames[rv];
    res.bad = b.bad[rv];
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, rv, &res.rx));
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, vtr, &res.tx));
    ASSERT(!res.rx.fb_nack);
    ASSERT(res.rx.fb_pli);
    fprintf(stderr, "fec %d: %d/%d frames, %llu fec packets (%llu discarded), %llu rebuilt, %llu lost, fec sent %llu\n", fec,
            res.received, res.sent, (unsigned long long)res.rx.fec_packets_received,
            (unsigned long long)res.rx.fec_packets_discarded, (unsigned long long)res.rx.fec_recovered,
            (unsigned long long)res.rx.packets_lost, (unsigned long long)res.tx.fec_packets_sent);
    close_peers(&a, &b, n);
    harness_munge_offer = NULL;
    return res;
}

static void test_fec_over_loss(void)
{
    run_result on = run(true), off = run(false);
    ASSERT_EQ(on.bad, 0);
    ASSERT_EQ(off.bad, 0);
    ASSERT_EQ(on.rx.ulpfec_pt, 117);                     /* negotiated on both sides */
    ASSERT_EQ(on.tx.ulpfec_pt, 117);
    ASSERT_EQ(on.rx.red_pt, 116);
    ASSERT_EQ(off.rx.ulpfec_pt, 0);
    ASSERT(on.rx.fec_packets_received > 800);
    ASSERT(on.rx.fec_packets_received <= on.tx.fec_packets_sent);
    ASSERT(on.rx.fec_packets_discarded > 0 && on.rx.fec_packets_discarded < on.rx.fec_packets_received);
    ASSERT(on.rx.fec_recovered > 100);
    ASSERT(on.rx.packets_lost > 100);                    /* the loss was real: FEC hid it from the decoder */
    /* A group losing two packets still breaks the chain until the keyframe asked for. */
    ASSERT(on.received >= on.sent * 3 / 4);
    ASSERT(off.received < on.received - on.sent / 4);    /* without FEC many more frames are lost */
    ASSERT_EQ(off.rx.fec_packets_received, 0);
}

/* Audio transceivers take no video FEC; bad modes and groups are refused. */
static void test_fec_config(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    int v = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_SENDRECV, -1 }, now);
    int au = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT_EQ(rtc_pc_transceiver_set_fec(a.pc, au, RTC_FEC_ULPFEC, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_fec(a.pc, v, (rtc_fec_mode)5, 0), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_fec(a.pc, v, RTC_FEC_ULPFEC, 49), RTC_EINVAL);
    ASSERT_EQ(rtc_pc_transceiver_set_fec(a.pc, 99, RTC_FEC_ULPFEC, 0), RTC_ENOTFOUND);
    /* Offered with Chromium's payload types only when asked for. */
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT(strstr(offer, "ulpfec") == NULL);
    free(offer);
    ASSERT_OK(rtc_pc_transceiver_set_fec(a.pc, v, RTC_FEC_ULPFEC, 3));
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT(strstr(offer, "a=rtpmap:116 red/90000") && strstr(offer, "a=rtpmap:117 ulpfec/90000"));
    free(offer);
    rtc_pc_free(a.pc);
}

static char *read_corpus(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/spec/sdp/corpus/%s", RTC_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* Chromium's offer lists red/90000 (116, with its RTX 117) and ulpfec/90000 (118): an
 * answer with fec on keeps red and ulpfec with those types (not the RTX for RED,
 * which the receiver does not unwrap), and the transceiver receives with them. */
static void check_chrome(bool fec)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int tr = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_RECVONLY, -1 }, now);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, tr));
    if (fec) ASSERT_OK(rtc_pc_transceiver_set_fec(b.pc, tr, RTC_FEC_ULPFEC, 0));
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, read_corpus("chrome_offer_simulcast.sdp"), now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    const rtc_sdp_media *vi = s->media[1];
    int red = -1, ulp = -1, others = 0;
    for (size_t i = 0; i < vi->ncodecs; i++) {
        if (!strcmp(vi->codecs[i]->name, "red")) red = vi->codecs[i]->pt;
        else if (!strcmp(vi->codecs[i]->name, "ulpfec")) ulp = vi->codecs[i]->pt;
        else if (i == 0) ASSERT_STREQ(vi->codecs[i]->name, "VP8");   /* still the media codec first */
        else others++;
    }
    ASSERT_EQ(red, fec ? 116 : -1);
    ASSERT_EQ(ulp, fec ? 118 : -1);
    ASSERT_EQ(others, 1);                                /* VP8's RTX */
    rtc_sdp_free(s);
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, text, now));
    free(text);
    rtc_transceiver_info ti;
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, tr, &ti));
    ASSERT_EQ(ti.ulpfec_pt, fec ? 118 : 0);
    ASSERT_EQ(ti.red_pt, fec ? 116 : 0);
    rtc_pc_free(b.pc);
}

static void test_chrome_offer(void)
{
    check_chrome(true);
    check_chrome(false);
}

int main(void)
{
    harness_default_on_frame = check_frame;
    harness_begin(7);
    RUN(test_fec_config);
    RUN(test_chrome_offer);
    RUN(test_fec_over_loss);
    harness_end();
    return 0;
}
