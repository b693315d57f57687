/* Opus fmtp in our descriptions: parameters are receive preferences (RFC 7587 7.1), so
 * our answers state our own (minptime=10;useinbandfec=1, stereo=1 only for a
 * transceiver that asks for it) instead of echoing the offer's, while what the peer
 * asked for (its fmtp) is what our encoder is given. Video fmtp is still copied. */
#include "test_pc_harness.h"
#include "sdp/sdp.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CORPUS RTC_SOURCE_DIR "/spec/sdp/corpus/"
#define OURS "minptime=10;useinbandfec=1"

static char corpus_buf[65536];

static const char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    size_t n = fread(corpus_buf, 1, sizeof corpus_buf - 1, f);
    fclose(f);
    corpus_buf[n] = 0;
    return corpus_buf;
}

/* The text with every occurrence of `from` replaced by `to` (caller frees). */
static char *replace(const char *text, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), n = 0;
    for (const char *p = strstr(text, from); p; p = strstr(p + fl, from)) n++;
    char *out = malloc(strlen(text) + n * (tl > fl ? tl - fl : 0) + 1);
    ASSERT(out != NULL);
    char *o = out;
    const char *p = text, *q;
    while ((q = strstr(p, from))) {
        memcpy(o, p, (size_t)(q - p));
        o += q - p;
        memcpy(o, to, tl);
        o += tl;
        p = q + fl;
    }
    strcpy(o, p);
    return out;
}

/* b answers `offer` (with an audio transceiver wanting stereo when asked); returns the
 * parsed answer (caller frees) and b's audio transceiver info after applying it. */
static rtc_sdp *answer_offer(const char *offer, bool stereo, rtc_transceiver_info *audio)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int h = -1;
    if (stereo) {
        h = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ .kind = RTC_MEDIA_AUDIO, .direction = RTC_DIR_RECVONLY,
                                                                   .codec = -1 }, now);
        ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, h));   /* the offer's section takes it (JSEP 5.10) */
        ASSERT_OK(rtc_pc_transceiver_set_stereo(b.pc, h, true));
    }
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, text, now));
    free(text);
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, h >= 0 ? h : 0, audio));
    ASSERT_EQ(audio->kind, RTC_MEDIA_AUDIO);
    rtc_pc_free(b.pc);
    return s;
}

/* Chrome offers Opus with usedtx, stereo and a bitrate cap it wants to receive: our
 * answer says only what we want; the encoder gets Chrome's wishes. */
static void test_answer_states_our_preferences(void)
{
    char *offer = replace(read_file(CORPUS "chrome_offer_simulcast.sdp"), "a=fmtp:111 minptime=10;useinbandfec=1",
                          "a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;stereo=1;sprop-stereo=1;maxaveragebitrate=24000");
    rtc_transceiver_info au;
    rtc_sdp *s = answer_offer(offer, false, &au);
    const rtc_sdp_media *m = s->media[0];
    ASSERT_EQ(m->ncodecs, 2);                           /* opus and the offer's red/48000/2 */
    ASSERT_STREQ(m->codecs[1]->name, "red");
    ASSERT_STREQ(m->codecs[0]->name, "opus");
    ASSERT_EQ(m->codecs[0]->pt, 111);
    ASSERT_STREQ(m->codecs[0]->fmtp, OURS);
    ASSERT(rtc_sdp_codec_param(m->codecs[0], "usedtx") == NULL);
    ASSERT(rtc_sdp_codec_param(m->codecs[0], "stereo") == NULL);
    ASSERT(rtc_sdp_codec_param(m->codecs[0], "maxaveragebitrate") == NULL);
    /* Video parameters describe the stream itself: copied from the offer. */
    const rtc_sdp_media *v = s->media[1];
    ASSERT_STREQ(v->codecs[0]->name, "VP8");
    rtc_sdp_free(s);
    /* negotiated: our fmtp for the codec, the offerer's as what our sender must honour */
    ASSERT_EQ(au.codec, RTC_CODEC_OPUS);
    ASSERT_STREQ(au.fmtp, OURS);
    ASSERT_STREQ(au.remote_fmtp, "minptime=10;useinbandfec=1;usedtx=1;stereo=1;sprop-stereo=1;maxaveragebitrate=24000");
    free(offer);

    /* A transceiver that wants stereo says so, whatever the offer says. */
    s = answer_offer(read_file(CORPUS "chrome_offer_simulcast.sdp"), true, &au);
    ASSERT_STREQ(s->media[0]->codecs[0]->fmtp, OURS ";stereo=1");
    ASSERT_STREQ(au.remote_fmtp, "minptime=10;useinbandfec=1");
    rtc_sdp_free(s);
}

/* H264's profile must match the offer: still copied. */
static void test_video_fmtp_copied(void)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int h = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_VIDEO, RTC_DIR_RECVONLY, RTC_CODEC_H264 }, now);
    ASSERT_GE(h, 0);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, h));       /* the offer's section takes it (JSEP 5.10) */
    ASSERT_EQ(rtc_pc_transceiver_set_stereo(b.pc, h, true), RTC_EINVAL);     /* video has no stereo */
    ASSERT_EQ(rtc_pc_transceiver_set_stereo(b.pc, 9, true), RTC_ENOTFOUND);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, read_file(CORPUS "chrome_offer_simulcast.sdp"), now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_parse(&s, text, strlen(text), NULL));
    const rtc_sdp_media *v = s->media[1];
    ASSERT_STREQ(v->codecs[0]->name, "H264");
    ASSERT_STREQ(v->codecs[0]->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f");
    rtc_sdp_free(s);
    free(text);
    rtc_pc_free(b.pc);
}

/* Firefox offers Opus as PT 109 and asks for stereo: the answer keeps its PT, states
 * ours, and Firefox's wishes go to our encoder. */
static void test_firefox_offer(void)
{
    rtc_transceiver_info au;
    rtc_sdp *s = answer_offer(read_file(CORPUS "firefox_offer.sdp"), false, &au);
    const rtc_sdp_media *m = s->media[0];
    ASSERT_EQ(m->ncodecs, 1);
    ASSERT_EQ(m->codecs[0]->pt, 109);
    ASSERT_STREQ(m->codecs[0]->fmtp, OURS);
    ASSERT_EQ(au.pt, 109);
    ASSERT_STREQ(au.remote_fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
    rtc_sdp_free(s);
}

/* Two of our peers: each offer and answer carries its own side's preferences, and each
 * side's remote_fmtp is the other's. */
static void munge_offer_dtx(char *sdp)
{
    /* Same length in place: the offerer asks for DTX instead of FEC. */
    char *p = strstr(sdp, "useinbandfec=1");
    ASSERT(p != NULL);
    memcpy(p, "usedtx=1;fec=0", 14);
}

static void test_between_our_peers(void)
{
    vnet *n = vnet_new(7);
    peer a, b;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int ta = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    int tb = rtc_pc_add_transceiver(b.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT_GE(ta, 0);
    ASSERT_OK(rtc_pc_transceiver_set_stereo(a.pc, ta, true));
    ASSERT_GE(tb, 0);
    ASSERT_OK(rtc_pc_transceiver_set_add_track(b.pc, tb));      /* the offer's section takes it (JSEP 5.10) */
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT(strstr(offer, "a=fmtp:111 " OURS ";stereo=1\r\n") != NULL);
    free(offer);
    harness_munge_offer = munge_offer_dtx;
    connect_peers(&a, &b, n);
    harness_munge_offer = NULL;
    rtc_transceiver_info ia, ib;
    ASSERT_OK(rtc_pc_transceiver_info(a.pc, ta, &ia));
    ASSERT_OK(rtc_pc_transceiver_info(b.pc, tb, &ib));
    ASSERT_STREQ(ia.remote_fmtp, OURS);                                 /* b's answer: b's own wishes */
    ASSERT_STREQ(ib.remote_fmtp, "minptime=10;usedtx=1;fec=0;stereo=1");  /* a's offer as b got it */
    ASSERT_STREQ(ib.fmtp, OURS);
    ASSERT_EQ(ia.pt, 111);
    ASSERT_EQ(ib.pt, 111);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

int main(void)
{
    harness_begin(7);
    RUN(test_answer_states_our_preferences);
    RUN(test_video_fmtp_copied);
    RUN(test_firefox_offer);
    RUN(test_between_our_peers);
    harness_end();
    return 0;
}
