/* sdp/: building descriptions in code (as JSEP does), codec matching rules, equality. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sdp/sdp.h"

static rtc_sdp *reparse(const rtc_sdp *s, char **text)
{
    size_t len;
    ASSERT_OK(rtc_sdp_write(s, text, &len));
    rtc_sdp *r;
    rtc_sdp_error err;
    int rc = rtc_sdp_parse(&r, *text, len, &err);
    if (rc < 0)
        RTC_TEST_FAIL("%s\n%s", err.msg, *text);
    return r;
}

static const char *const video_fb[] = { "goog-remb", "transport-cc", "ccm fir", "nack", "nack pli", NULL };
#define FP "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

/* An offer built the way the peer connection will: three sections, bundle, simulcast. */
static rtc_sdp *build_offer(void)
{
    rtc_sdp *s;
    ASSERT_OK(rtc_sdp_new(&s));
    ASSERT_OK(rtc_sdp_set_origin(s, NULL, 7243556712348765ULL, 2));
    s->extmap_allow_mixed = true;
    s->msid_semantic = RTC_SDP_STR(s, "WMS *");

    rtc_sdp_media *a, *v, *d;
    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_AUDIO, NULL, &a));
    ASSERT_OK(rtc_sdp_media_set_mid(s, a, "0"));
    ASSERT_OK(rtc_sdp_set_ice(s, a, "uf01", "passwordpasswordpassword", "trickle"));
    ASSERT_OK(rtc_sdp_add_fingerprint(s, a, "sha-256", FP));
    a->dtls.setup = RTC_SDP_SETUP_ACTPASS;
    a->direction = RTC_SDP_SENDRECV;
    a->rtcp_mux = a->rtcp_rsize = true;
    const char *const audio_fb[] = { "transport-cc", NULL };
    rtc_sdp_codec *opus;
    ASSERT_OK(rtc_sdp_media_add_codec(s, a, 111, "opus", 48000, 2, "minptime=10;useinbandfec=1", audio_fb, &opus));
    ASSERT_OK(rtc_sdp_media_add_codec(s, a, 0, "PCMU", 8000, 0, NULL, NULL, NULL));
    ASSERT_OK(rtc_sdp_add_extmap(s, a, 1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"));
    ASSERT_OK(rtc_sdp_add_extmap(s, a, 4, "urn:ietf:params:rtp-hdrext:sdes:mid"));
    ASSERT_OK(rtc_sdp_media_add_msid(s, a, "stream", "audiotrack"));
    ASSERT_OK(rtc_sdp_media_add_ssrc(s, a, 1111, "cname", "c1"));
    ASSERT_OK(rtc_sdp_media_add_candidate(s, a, "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"));
    a->end_of_candidates = true;

    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_VIDEO, NULL, &v));
    ASSERT_OK(rtc_sdp_media_set_mid(s, v, "1"));
    ASSERT_OK(rtc_sdp_set_ice(s, v, "uf01", "passwordpasswordpassword", "trickle"));
    ASSERT_OK(rtc_sdp_add_fingerprint(s, v, "sha-256", FP));
    v->dtls.setup = RTC_SDP_SETUP_ACTPASS;
    v->direction = RTC_SDP_SENDONLY;
    v->rtcp_mux = true;
    ASSERT_OK(rtc_sdp_media_add_codec(s, v, 96, "VP8", 90000, 0, NULL, video_fb, NULL));
    ASSERT_OK(rtc_sdp_media_add_codec(s, v, 97, "rtx", 90000, 0, "apt=96", NULL, NULL));
    ASSERT_OK(rtc_sdp_media_add_codec(s, v, 102, "H264", 90000, 0,
                                      "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                                      video_fb, NULL));
    ASSERT_OK(rtc_sdp_media_add_codec(s, v, 103, "rtx", 90000, 0, "apt=102", NULL, NULL));
    ASSERT_OK(rtc_sdp_add_extmap(s, v, 4, "urn:ietf:params:rtp-hdrext:sdes:mid"));
    ASSERT_OK(rtc_sdp_add_extmap(s, v, 10, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"));
    ASSERT_OK(rtc_sdp_media_add_msid(s, v, "stream", "videotrack"));
    const uint16_t vp8[] = { 96 };
    ASSERT_OK(rtc_sdp_media_add_rid(s, v, "lo", false, vp8, 1, "max-width=320;max-height=180"));
    ASSERT_OK(rtc_sdp_media_add_rid(s, v, "hi", false, NULL, 0, NULL));
    ASSERT_OK(rtc_sdp_media_set_simulcast(s, v, "send lo;~hi"));
    const uint32_t fid[] = { 2222, 3333 };
    ASSERT_OK(rtc_sdp_media_add_ssrc_group(s, v, "FID", fid, 2));
    ASSERT_OK(rtc_sdp_media_add_ssrc(s, v, 2222, "cname", "c1"));
    ASSERT_OK(rtc_sdp_media_add_ssrc(s, v, 3333, "cname", "c1"));
    ASSERT_OK(rtc_sdp_add_bandwidth(s, v, "TIAS", 2500000));

    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_APPLICATION, NULL, &d));
    ASSERT_OK(rtc_sdp_media_set_mid(s, d, "2"));
    ASSERT_OK(rtc_sdp_set_ice(s, d, "uf01", "passwordpasswordpassword", NULL));
    ASSERT_OK(rtc_sdp_add_fingerprint(s, d, "sha-256", FP));
    d->dtls.setup = RTC_SDP_SETUP_ACTPASS;
    d->sctp_port = 5000;
    d->max_message_size = 262144;

    for (size_t i = 0; i < s->nmedia; i++)
        ASSERT_OK(rtc_sdp_group_add_mid(s, "BUNDLE", s->media[i]->mid));
    ASSERT_OK(rtc_sdp_add_attr(s, v, "x-custom", "value with spaces"));
    ASSERT_OK(rtc_sdp_add_attr(s, NULL, "x-flag", NULL));
    return s;
}

static void test_build_and_parse_back(void)
{
    rtc_sdp *s = build_offer();
    char *text;
    rtc_sdp *r = reparse(s, &text);
    ASSERT(rtc_sdp_equal(s, r));
    /* spot-check the text: browser line order and CRLF */
    ASSERT(strncmp(text, "v=0\r\no=- 7243556712348765 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", 56) == 0);
    ASSERT(strstr(text, "a=group:BUNDLE 0 1 2\r\n"));
    ASSERT(strstr(text, "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n"));
    ASSERT(strstr(text, "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    ASSERT(strstr(text, "a=candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host\r\na=end-of-candidates\r\n"));
    ASSERT(strstr(text, "a=rid:lo send pt=96;max-width=320;max-height=180\r\n"));
    ASSERT(strstr(text, "a=rid:hi send\r\n"));
    ASSERT(strstr(text, "a=simulcast:send lo;~hi\r\n"));
    ASSERT(strstr(text, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    ASSERT(strstr(text, "a=ssrc-group:FID 2222 3333\r\n"));
    ASSERT(strstr(text, "b=TIAS:2500000\r\n"));
    ASSERT(strstr(text, "a=x-custom:value with spaces\r\n"));
    ASSERT(strstr(text, "a=msid-semantic: WMS *\r\n"));
    ASSERT(strstr(text, "a=extmap-allow-mixed\r\n"));
    /* ... and the parsed fields */
    const rtc_sdp_group *g = rtc_sdp_find_group(r, "BUNDLE");
    ASSERT(g && g->nmids == 3 && rtc_sdp_group_has(g, "2") && !rtc_sdp_group_has(g, "3"));
    rtc_sdp_media *v = rtc_sdp_find_media(r, "1");
    ASSERT_EQ(v->ncodecs, 4);
    ASSERT_EQ(rtc_sdp_media_rtx_for(v, 102)->pt, 103);
    ASSERT_EQ(v->rids[0].npts, 1);
    ASSERT(v->simulcast.send[1].alts[0].paused);
    ASSERT_EQ(rtc_sdp_media_direction(r, v), RTC_SDP_SENDONLY);
    rtc_sdp_media *a = rtc_sdp_find_media(r, "0");
    ASSERT_STREQ(a->candidates[0], "1 1 udp 2122260223 127.0.0.1 50000 typ host");
    ASSERT_EQ(rtc_sdp_find_media(r, "2")->sctp_port, 5000);
    free(text);

    /* equality notices one changed field anywhere */
    rtc_sdp_media_codec(v, 96)->clock_rate = 48000;
    ASSERT(!rtc_sdp_equal(s, r));
    rtc_sdp_media_codec(v, 96)->clock_rate = 90000;
    ASSERT(rtc_sdp_equal(s, r));
    v->simulcast.send[1].alts[0].paused = false;
    ASSERT(!rtc_sdp_equal(s, r));
    v->simulcast.send[1].alts[0].paused = true;
    r->origin.sess_version++;
    ASSERT(!rtc_sdp_equal(s, r));
    rtc_sdp_free(r);
    rtc_sdp_free(s);
}

static void test_build_edits(void)
{
    rtc_sdp *s = build_offer();
    rtc_sdp_media *v = rtc_sdp_find_media(s, "1");
    ASSERT_EQ(rtc_sdp_media_add_codec(s, v, 96, "VP9", 90000, 0, NULL, NULL, NULL), RTC_EEXISTS);
    ASSERT_EQ(rtc_sdp_add_extmap(s, v, 4, "urn:other"), RTC_EEXISTS);
    /* drop H264 and its RTX: both leave the m= line too */
    ASSERT_OK(rtc_sdp_media_remove_codec(v, 103));
    ASSERT_OK(rtc_sdp_media_remove_codec(v, 102));
    ASSERT_EQ(rtc_sdp_media_remove_codec(v, 102), RTC_ENOTFOUND);
    ASSERT_EQ(v->ncodecs, 2);
    ASSERT_EQ(v->nfmts, 2);
    ASSERT_STREQ(v->fmts[1], "97");
    /* lists keep growing after removals (implied capacity is recomputed) */
    for (int pt = 100; pt < 120; pt++)
        ASSERT_OK(rtc_sdp_media_add_codec(s, v, pt, "VP9", 90000, 0, "profile-id=0", video_fb, NULL));
    ASSERT_EQ(v->ncodecs, 22);
    ASSERT_OK(rtc_sdp_codec_add_fb(s, rtc_sdp_media_codec(v, 119), "nack"));
    ASSERT_EQ(rtc_sdp_media_codec(v, 119)->nrtcp_fb, 6);
    char *text;
    rtc_sdp *r = reparse(s, &text);
    ASSERT(rtc_sdp_equal(s, r));
    ASSERT(strstr(text, "m=video 9 UDP/TLS/RTP/SAVPF 96 97 100 101 "));
    ASSERT(!strstr(text, "H264"));
    free(text);
    rtc_sdp_free(r);
    rtc_sdp_free(s);
}

static void test_build_rejects(void)
{
    rtc_sdp *s;
    rtc_sdp_media *m;
    ASSERT_OK(rtc_sdp_new(&s));
    ASSERT_EQ(rtc_sdp_add_media(s, (rtc_sdp_kind)7, NULL, &m), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_add_media(s, RTC_SDP_AUDIO, "RTP/ AVP", &m), RTC_EINVAL);
    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_AUDIO, "RTP/AVP", &m));
    ASSERT_EQ(rtc_sdp_media_set_mid(s, m, "a b"), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_set_mid(s, m, ""), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_codec(s, m, 128, "x", 8000, 0, NULL, NULL, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_codec(s, m, 96, "x/y", 8000, 0, NULL, NULL, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_codec(s, m, 96, "x", 0, 0, NULL, NULL, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_codec(s, m, 96, "x", 8000, 0, "a=1\r\nb=2", NULL, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_add_extmap(s, m, 0, "urn:x"), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_add_attr(s, m, "a:b", "x"), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_add_attr(s, m, "ok", "x\ny"), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_candidate(s, m, "candidate:"), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_ssrc_group(s, m, "FID", NULL, 0), RTC_EINVAL);
    const uint16_t bad_pt[] = { 200 };
    ASSERT_EQ(rtc_sdp_media_add_rid(s, m, "r", false, bad_pt, 1, NULL), RTC_EINVAL);
    ASSERT_EQ(rtc_sdp_media_add_rid(s, m, "r", false, NULL, 0, "pt=x"), RTC_EINVAL);
    ASSERT_EQ(m->nrids, 0);
    ASSERT_EQ(rtc_sdp_media_set_simulcast(s, m, "both a"), RTC_EPROTO);
    ASSERT(!m->simulcast.present);
    /* a model with a line break in a string is refused by the writer, not written */
    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_VIDEO, NULL, &m));
    m->mid = "1\r\na=injected";
    char *text = (char *)1;
    ASSERT_EQ(rtc_sdp_write(s, &text, NULL), RTC_EINVAL);
    ASSERT(text == NULL);
    m->mid = "1";
    m->proto = NULL;                           /* required field missing */
    ASSERT_EQ(rtc_sdp_write(s, &text, NULL), RTC_EINVAL);
    m->proto = "UDP/TLS/RTP/SAVPF";
    ASSERT_EQ(rtc_sdp_write(s, &text, NULL), RTC_EINVAL);   /* m= lines without formats */
    ASSERT_OK(rtc_sdp_media_add_codec(s, s->media[0], 0, "PCMU", 8000, 0, NULL, NULL, NULL));
    ASSERT_OK(rtc_sdp_media_add_codec(s, m, 96, "VP8", 90000, 0, NULL, NULL, NULL));
    ASSERT_OK(rtc_sdp_write(s, &text, NULL));
    free(text);
    rtc_sdp_free(s);
    rtc_sdp_free(NULL);
}

static void test_h264_profiles(void)
{
    int level = 0;
    ASSERT_EQ(rtc_sdp_h264_profile("42e01f", &level), RTC_H264_CONSTRAINED_BASELINE);
    ASSERT_EQ(level, 31);
    ASSERT_EQ(rtc_sdp_h264_profile("42E034", &level), RTC_H264_CONSTRAINED_BASELINE);
    ASSERT_EQ(level, 52);
    ASSERT_EQ(rtc_sdp_h264_profile("42001f", NULL), RTC_H264_BASELINE);
    ASSERT_EQ(rtc_sdp_h264_profile("4d001f", NULL), RTC_H264_MAIN);
    ASSERT_EQ(rtc_sdp_h264_profile("4d801f", NULL), RTC_H264_CONSTRAINED_BASELINE);
    ASSERT_EQ(rtc_sdp_h264_profile("58c01f", NULL), RTC_H264_CONSTRAINED_BASELINE);
    ASSERT_EQ(rtc_sdp_h264_profile("58801f", NULL), RTC_H264_BASELINE);
    ASSERT_EQ(rtc_sdp_h264_profile("58001f", NULL), RTC_H264_EXTENDED);
    ASSERT_EQ(rtc_sdp_h264_profile("640032", NULL), RTC_H264_HIGH);
    ASSERT_EQ(rtc_sdp_h264_profile("640c1f", NULL), RTC_H264_CONSTRAINED_HIGH);
    ASSERT_EQ(rtc_sdp_h264_profile("6e001f", NULL), RTC_H264_HIGH10);
    ASSERT_EQ(rtc_sdp_h264_profile("7a001f", NULL), RTC_H264_HIGH422);
    ASSERT_EQ(rtc_sdp_h264_profile("f4001f", NULL), RTC_H264_HIGH444);
    ASSERT_EQ(rtc_sdp_h264_profile(NULL, &level), RTC_H264_CONSTRAINED_BASELINE);
    ASSERT_EQ(level, 31);
    ASSERT_EQ(rtc_sdp_h264_profile("zz001f", NULL), RTC_H264_UNKNOWN);
    ASSERT_EQ(rtc_sdp_h264_profile("42e01", NULL), RTC_H264_UNKNOWN);
    ASSERT_EQ(rtc_sdp_h264_profile("42e01f0", NULL), RTC_H264_UNKNOWN);
    ASSERT_EQ(rtc_sdp_h264_profile("", NULL), RTC_H264_UNKNOWN);
    ASSERT_EQ(rtc_sdp_h264_profile("99001f", NULL), RTC_H264_UNKNOWN);
}

/* Two one-codec media sections to compare codecs across "offer" and "answer". */
static bool match(const char *name_a, uint32_t rate_a, uint16_t ch_a, const char *fmtp_a,
                  const char *name_b, uint32_t rate_b, uint16_t ch_b, const char *fmtp_b)
{
    rtc_sdp *s;
    rtc_sdp_media *m;
    rtc_sdp_codec *a, *b;
    ASSERT_OK(rtc_sdp_new(&s));
    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_VIDEO, NULL, &m));
    ASSERT_OK(rtc_sdp_media_add_codec(s, m, 96, name_a, rate_a, ch_a, fmtp_a, NULL, &a));
    ASSERT_OK(rtc_sdp_media_add_codec(s, m, 97, name_b, rate_b, ch_b, fmtp_b, NULL, &b));
    bool r = rtc_sdp_codec_match(a, b);
    ASSERT_EQ(rtc_sdp_codec_match(b, a), r);          /* symmetric */
    rtc_sdp_free(s);
    return r;
}

static void test_codec_match(void)
{
    const char *cb31 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f";
    /* same profile, level may differ */
    ASSERT(match("H264", 90000, 0, cb31, "h264", 90000, 0, "profile-level-id=42e034;packetization-mode=1"));
    /* constrained baseline written as Main with constraint_set0 is still constrained baseline */
    ASSERT(match("H264", 90000, 0, cb31, "H264", 90000, 0, "profile-level-id=4d801f;packetization-mode=1"));
    ASSERT(!match("H264", 90000, 0, cb31, "H264", 90000, 0, "profile-level-id=42001f;packetization-mode=1"));
    ASSERT(!match("H264", 90000, 0, cb31, "H264", 90000, 0, "profile-level-id=640c1f;packetization-mode=1"));
    ASSERT(!match("H264", 90000, 0, cb31, "H264", 90000, 0, "profile-level-id=42e01f;packetization-mode=0"));
    ASSERT(!match("H264", 90000, 0, cb31, "H264", 90000, 0, "profile-level-id=42e01f"));
    /* packetization-mode absent means 0; profile-level-id absent means constrained baseline */
    ASSERT(match("H264", 90000, 0, "profile-level-id=42e01f", "H264", 90000, 0, "packetization-mode=0"));
    ASSERT(match("H264", 90000, 0, NULL, "H264", 90000, 0, "profile-level-id=42e00a"));
    ASSERT(!match("H264", 90000, 0, "profile-level-id=xyz", "H264", 90000, 0, "profile-level-id=xyz"));
    ASSERT(!match("H264", 90000, 0, cb31, "H264", 48000, 0, cb31));
    /* VP9 profile-id (default 0), AV1 profile (default 0) */
    ASSERT(match("VP9", 90000, 0, "profile-id=0", "VP9", 90000, 0, NULL));
    ASSERT(!match("VP9", 90000, 0, "profile-id=0", "VP9", 90000, 0, "profile-id=2"));
    ASSERT(match("AV1", 90000, 0, "level-idx=5;profile=0;tier=0", "AV1", 90000, 0, NULL));
    ASSERT(!match("AV1", 90000, 0, "profile=1", "AV1", 90000, 0, "profile=0"));
    /* others by name, rate and channels (absent = 1) */
    ASSERT(match("opus", 48000, 2, "minptime=10", "OPUS", 48000, 2, "useinbandfec=1"));
    ASSERT(!match("opus", 48000, 2, NULL, "opus", 48000, 0, NULL));
    ASSERT(match("PCMU", 8000, 1, NULL, "PCMU", 8000, 0, NULL));
    ASSERT(!match("VP8", 90000, 0, NULL, "VP9", 90000, 0, NULL));
    ASSERT(match("rtx", 90000, 0, "apt=96", "rtx", 90000, 0, "apt=100"));
}

static void answer_plid(const char *offer_fmtp, const char *local_fmtp, int want_rc, const char *want)
{
    rtc_sdp *s;
    rtc_sdp_media *m;
    rtc_sdp_codec *o, *l;
    ASSERT_OK(rtc_sdp_new(&s));
    ASSERT_OK(rtc_sdp_add_media(s, RTC_SDP_VIDEO, NULL, &m));
    ASSERT_OK(rtc_sdp_media_add_codec(s, m, 96, "H264", 90000, 0, offer_fmtp, NULL, &o));
    ASSERT_OK(rtc_sdp_media_add_codec(s, m, 97, "H264", 90000, 0, local_fmtp, NULL, &l));
    char out[7] = "";
    ASSERT_EQ(rtc_sdp_h264_answer_plid(o, l, out), want_rc);
    if (want)
        ASSERT_STREQ(out, want);
    rtc_sdp_free(s);
}

static void test_h264_answer_level(void)
{
    /* both allow asymmetry: the answerer keeps its own level */
    answer_plid("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034", 0, "42e034");
    /* otherwise the lower one */
    answer_plid("packetization-mode=1;profile-level-id=42e01f",
                "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034", 0, "42e01f");
    answer_plid("packetization-mode=1;profile-level-id=42e034",
                "packetization-mode=1;profile-level-id=42e01f", 0, "42e01f");
    /* the answer speaks in the local profile bytes, the offer's form may differ */
    answer_plid("packetization-mode=1;profile-level-id=4d8028",
                "packetization-mode=1;profile-level-id=42e01f", 0, "42e01f");
    /* 1b (level_idc 11 + constraint_set3) is below 1.1 */
    answer_plid("packetization-mode=1;profile-level-id=42f00b",
                "packetization-mode=1;profile-level-id=42e00c", 0, "42f00b");
    answer_plid("packetization-mode=1;profile-level-id=42e00b",
                "packetization-mode=1;profile-level-id=42f00b", 0, "42f00b");
    /* absent profile-level-id is 42e01f */
    answer_plid("packetization-mode=1", "packetization-mode=1;profile-level-id=42e028", 0, "42e01f");
    /* not a match: refused */
    answer_plid("packetization-mode=1;profile-level-id=42e01f",
                "packetization-mode=0;profile-level-id=42e01f", RTC_EINVAL, NULL);
    answer_plid("profile-level-id=640c1f", "profile-level-id=42e01f", RTC_EINVAL, NULL);
}

/* How JSEP answers: for each offered codec that matches a local one, copy it (keeping
 * the offerer's PT) and the RTX that repairs it. */
static void test_answer_from_offer(void)
{
    FILE *f = fopen(RTC_SOURCE_DIR "/spec/sdp/corpus/chrome_offer_simulcast.sdp", "rb");
    ASSERT(f);
    static char text[65536];
    size_t len = fread(text, 1, sizeof text, f);
    fclose(f);
    rtc_sdp *offer, *local, *answer;
    ASSERT_OK(rtc_sdp_parse(&offer, text, len, NULL));

    /* what this side supports, as a description of its own */
    rtc_sdp_media *lv;
    ASSERT_OK(rtc_sdp_new(&local));
    ASSERT_OK(rtc_sdp_add_media(local, RTC_SDP_VIDEO, NULL, &lv));
    ASSERT_OK(rtc_sdp_media_add_codec(local, lv, 100, "VP8", 90000, 0, NULL, NULL, NULL));
    ASSERT_OK(rtc_sdp_media_add_codec(local, lv, 101, "H264", 90000, 0,
                                      "packetization-mode=1;profile-level-id=42e033", NULL, NULL));

    ASSERT_OK(rtc_sdp_new(&answer));
    for (size_t i = 0; i < offer->nmedia; i++) {
        const rtc_sdp_media *om = offer->media[i];
        rtc_sdp_media *am;
        ASSERT_OK(rtc_sdp_add_media(answer, om->kind, om->proto, &am));
        ASSERT_OK(rtc_sdp_media_set_mid(answer, am, om->mid));
        am->direction = rtc_sdp_direction_reverse(rtc_sdp_media_direction(offer, om));
        if (rtc_sdp_media_is_sctp(om)) {
            am->sctp_port = rtc_sdp_media_sctp_port(om);
            am->max_message_size = 262144;
            continue;
        }
        if (om->kind != RTC_SDP_VIDEO) {
            /* nothing to offer back: rejected, with one format so the line stays valid */
            ASSERT_OK(rtc_sdp_media_add_codec_copy(answer, am, om->codecs[0], -1, NULL));
            am->port = 0;
            am->direction = RTC_SDP_INACTIVE;
            continue;
        }
        for (size_t k = 0; k < om->ncodecs; k++) {
            const rtc_sdp_codec *oc = om->codecs[k];
            for (size_t l = 0; l < lv->ncodecs; l++) {
                if (!rtc_sdp_codec_match(oc, lv->codecs[l]))
                    continue;
                ASSERT_OK(rtc_sdp_media_add_codec_copy(answer, am, oc, -1, NULL));
                const rtc_sdp_codec *rtx = rtc_sdp_media_rtx_for(om, oc->pt);
                if (rtx)
                    ASSERT_OK(rtc_sdp_media_add_codec_copy(answer, am, rtx, -1, NULL));
                break;
            }
        }
    }
    rtc_sdp_media *av = rtc_sdp_find_media(answer, "1");
    ASSERT_EQ(av->ncodecs, 4);
    ASSERT_EQ(av->codecs[0]->pt, 96);
    ASSERT_EQ(av->codecs[1]->pt, 97);
    ASSERT_EQ(av->codecs[2]->pt, 106);          /* 42e01f mode 1; 102 is baseline, 104 mode 0 */
    ASSERT_EQ(av->codecs[3]->pt, 107);
    ASSERT_EQ(av->codecs[0]->nrtcp_fb, 5);
    ASSERT_STREQ(av->codecs[3]->fmtp, "apt=106");
    ASSERT_EQ(av->direction, RTC_SDP_SENDRECV);
    rtc_sdp_media *ad = rtc_sdp_find_media(answer, "2");
    ASSERT_EQ(ad->sctp_port, 5000);
    ASSERT_STREQ(ad->fmts[0], "webrtc-datachannel");
    ASSERT(rtc_sdp_media_rejected(answer->media[0]));
    ASSERT(!rtc_sdp_media_rejected(av));
    char *out;
    ASSERT_OK(rtc_sdp_write(answer, &out, NULL));
    free(out);
    rtc_sdp_free(offer);
    rtc_sdp_free(local);
    rtc_sdp_free(answer);
}

int main(void)
{
    RUN(test_answer_from_offer);
    RUN(test_build_and_parse_back);
    RUN(test_build_edits);
    RUN(test_build_rejects);
    RUN(test_h264_profiles);
    RUN(test_codec_match);
    RUN(test_h264_answer_level);
    return 0;
}
