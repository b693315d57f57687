/* sdp/: the corpus of browser descriptions (parse, key fields, round trip) and tolerance. */
#include <dirent.h>
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "sdp/sdp.h"

#define CORPUS RTC_SOURCE_DIR "/spec/sdp/corpus/"

static char *load(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        RTC_TEST_FAIL("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ASSERT(buf);
    ASSERT_EQ(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static rtc_sdp *parse_file(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, CORPUS "%s", name);
    size_t len;
    char *text = load(path, &len);
    rtc_sdp *s = NULL;
    rtc_sdp_error err;
    int rc = rtc_sdp_parse(&s, text, len, &err);
    if (rc < 0)
        RTC_TEST_FAIL("%s: %s (%d)", name, err.msg, rc);
    free(text);
    return s;
}

/* LF -> CRLF, as browsers send it. Caller frees. */
static char *to_crlf(const char *text, size_t len, size_t *out_len)
{
    char *o = malloc(len * 2 + 1);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n')
            o[k++] = '\r';
        o[k++] = text[i];
    }
    o[k] = 0;
    *out_len = k;
    return o;
}

/* parse -> write -> parse gives the same model; writing again gives the same bytes;
 * the CRLF form of the file parses to the same model; clone is equal. */
static void check_round_trip(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, CORPUS "%s", name);
    size_t len;
    char *text = load(path, &len);
    rtc_sdp *a, *b, *c, *d;
    rtc_sdp_error err;
    ASSERT_OK(rtc_sdp_parse(&a, text, len, &err));
    char *w1, *w2;
    size_t l1, l2;
    ASSERT_OK(rtc_sdp_write(a, &w1, &l1));
    ASSERT_EQ(strlen(w1), l1);
    ASSERT(l1 > 2 && w1[l1 - 2] == '\r' && w1[l1 - 1] == '\n');
    for (size_t i = 0; i < l1; i++)                  /* every line ends in CRLF */
        if (w1[i] == '\n')
            ASSERT(i > 0 && w1[i - 1] == '\r');
    ASSERT_OK(rtc_sdp_parse(&b, w1, l1, &err));
    if (!rtc_sdp_equal(a, b))
        RTC_TEST_FAIL("%s: round trip differs:\n%s", name, w1);
    ASSERT_OK(rtc_sdp_write(b, &w2, &l2));
    ASSERT_EQ(l1, l2);
    ASSERT_MEMEQ(w1, w2, l1);
    size_t cl;
    char *crlf = to_crlf(text, len, &cl);
    ASSERT_OK(rtc_sdp_parse(&c, crlf, cl, &err));
    ASSERT(rtc_sdp_equal(a, c));
    ASSERT_OK(rtc_sdp_clone(&d, a));
    ASSERT(rtc_sdp_equal(a, d));
    /* Compacted (unless its blocks were already nearly full): the same model without
     * unused room, so a second pass keeps it, and it can still be built on. */
    ASSERT_OK(rtc_sdp_compact(&d));
    ASSERT(rtc_sdp_equal(a, d));
    rtc_sdp *before = d;
    ASSERT_OK(rtc_sdp_compact(&d));
    ASSERT(d == before);
    ASSERT(rtc_sdp_strdup(d, "more", (size_t)-1) != NULL);
    ASSERT(rtc_sdp_equal(a, d));
    free(crlf);
    free(w1);
    free(w2);
    free(text);
    rtc_sdp_free(a);
    rtc_sdp_free(b);
    rtc_sdp_free(c);
    rtc_sdp_free(d);
}

static void test_corpus_round_trip(void)
{
    DIR *dir = opendir(CORPUS);
    ASSERT(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        size_t l = strlen(de->d_name);
        if (l < 5 || strcmp(de->d_name + l - 4, ".sdp") != 0)
            continue;
        fprintf(stderr, "   %s\n", de->d_name);
        check_round_trip(de->d_name);
        n++;
    }
    closedir(dir);
    ASSERT_GE(n, 10);
}

static void test_chrome_offer(void)
{
    rtc_sdp *s = parse_file("chrome_offer_simulcast.sdp");
    ASSERT_EQ(s->origin.sess_id, 4611731400430051336ULL);
    ASSERT_EQ(s->origin.sess_version, 2);
    ASSERT_STREQ(s->origin.username, "-");
    ASSERT(s->extmap_allow_mixed);
    ASSERT_STREQ(s->msid_semantic, "WMS 5d4c7f0e-7c4e-4d4b-9f6b-1f2c3d4e5f60");
    const rtc_sdp_group *g = rtc_sdp_find_group(s, "BUNDLE");
    ASSERT(g && g->nmids == 3);
    ASSERT_STREQ(g->mids[2], "2");
    ASSERT_EQ(s->nmedia, 3);

    rtc_sdp_media *a = rtc_sdp_find_media(s, "0");
    ASSERT(a && a->kind == RTC_SDP_AUDIO && a->port == 52204);
    ASSERT_STREQ(a->proto, "UDP/TLS/RTP/SAVPF");
    ASSERT_STREQ(a->conn.address, "192.168.1.20");
    ASSERT_EQ(a->ncandidates, 2);
    ASSERT(strncmp(a->candidates[0], "2999745851 1 udp 2122260223 ", 28) == 0);
    ASSERT(rtc_sdp_ice_option(a->ice.options, "trickle"));
    ASSERT(!rtc_sdp_ice_option(a->ice.options, "renomination"));
    ASSERT_STREQ(a->ice.ufrag, "Xq3N");
    ASSERT_EQ(a->dtls.nfingerprints, 1);
    ASSERT_STREQ(a->dtls.fingerprints[0].algorithm, "sha-256");
    ASSERT_EQ(strlen(a->dtls.fingerprints[0].value), 95);
    ASSERT_EQ(a->dtls.setup, RTC_SDP_SETUP_ACTPASS);
    ASSERT(a->rtcp_mux && a->rtcp_rsize);
    ASSERT_EQ(a->direction, RTC_SDP_SENDRECV);
    ASSERT_EQ(a->ncodecs, 8);
    ASSERT_EQ(a->nfmts, 8);
    rtc_sdp_codec *opus = rtc_sdp_media_find_codec(a, "OPUS", NULL);
    ASSERT(opus && opus->pt == 111 && opus->clock_rate == 48000 && opus->channels == 2);
    ASSERT_STREQ(opus->fmtp, "minptime=10;useinbandfec=1");
    ASSERT_STREQ(rtc_sdp_codec_param(opus, "useinbandfec"), "1");
    ASSERT(rtc_sdp_codec_has_fb(opus, a, "transport-cc"));
    ASSERT_STREQ(rtc_sdp_media_codec(a, 0)->name, "PCMU");
    ASSERT_EQ(a->nextmaps, 4);
    ASSERT_EQ(rtc_sdp_media_extmap(a, "urn:ietf:params:rtp-hdrext:sdes:mid")->id, 4);
    ASSERT_EQ(a->nmsids, 1);
    ASSERT_STREQ(a->msids[0].track_id, "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d");
    ASSERT_STREQ(rtc_sdp_media_ssrc_attr(a, 3735928559u, "cname")->value, "p8Yz2QkF0vB1Lw3x");
    ASSERT_STREQ(rtc_sdp_attr_get(s, a, "rtcp"), "9 IN IP4 0.0.0.0");

    rtc_sdp_media *v = rtc_sdp_find_media(s, "1");
    ASSERT(v && v->kind == RTC_SDP_VIDEO && v->port == 9);
    ASSERT_EQ(v->ncodecs, 19);
    ASSERT_EQ(v->nextmaps, 11);
    ASSERT_EQ(rtc_sdp_media_extmap(v, "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id")->id, 10);
    size_t it = 0;
    int h264 = 0;
    while (rtc_sdp_media_find_codec(v, "h264", &it))
        h264++;
    ASSERT_EQ(h264, 4);
    rtc_sdp_codec *vp8 = rtc_sdp_media_codec(v, 96);
    ASSERT_EQ(vp8->nrtcp_fb, 5);
    ASSERT_STREQ(vp8->rtcp_fb[4], "nack pli");
    ASSERT(rtc_sdp_codec_has_fb(vp8, v, "ccm fir"));
    ASSERT_EQ(rtc_sdp_media_rtx_for(v, 96)->pt, 97);
    ASSERT_EQ(rtc_sdp_media_rtx_for(v, 45)->pt, 46);
    ASSERT(rtc_sdp_media_rtx_for(v, 118) == NULL);
    ASSERT_STREQ(rtc_sdp_codec_param(rtc_sdp_media_codec(v, 100), "profile-id"), "2");
    ASSERT_EQ(v->nrids, 3);
    ASSERT_STREQ(v->rids[1].id, "h");
    ASSERT(!v->rids[1].recv);
    ASSERT(v->simulcast.present);
    ASSERT_EQ(v->simulcast.nsend, 3);
    ASSERT_EQ(v->simulcast.nrecv, 0);
    ASSERT_STREQ(v->simulcast.send[2].alts[0].rid, "f");
    ASSERT_EQ(v->nssrcs, 0);

    rtc_sdp_media *d = rtc_sdp_find_media(s, "2");
    ASSERT(d && d->kind == RTC_SDP_APPLICATION);
    ASSERT_STREQ(d->proto, "UDP/DTLS/SCTP");
    ASSERT_EQ(d->nfmts, 1);
    ASSERT_STREQ(d->fmts[0], "webrtc-datachannel");
    ASSERT_EQ(d->ncodecs, 0);
    ASSERT_EQ(d->sctp_port, 5000);
    ASSERT_EQ(d->max_message_size, 262144);
    ASSERT(!d->sctpmap.present);
    ASSERT(rtc_sdp_find_media(s, "3") == NULL);
    rtc_sdp_free(s);
}

static void test_chrome_answer(void)
{
    rtc_sdp *s = parse_file("chrome_answer.sdp");
    ASSERT_STREQ(s->msid_semantic, "WMS");
    for (size_t i = 0; i < s->nmedia; i++) {
        ASSERT_EQ(rtc_sdp_media_setup(s, s->media[i]), RTC_SDP_SETUP_ACTIVE);
        ASSERT_EQ(s->media[i]->ncandidates, 0);
    }
    ASSERT_EQ(rtc_sdp_media_direction(s, s->media[0]), RTC_SDP_RECVONLY);
    ASSERT_EQ(rtc_sdp_direction_reverse(s->media[1]->direction), RTC_SDP_SENDONLY);
    rtc_sdp_media *d = s->media[2];
    ASSERT_EQ(d->nbw, 1);
    ASSERT_STREQ(d->bw[0].type, "AS");
    ASSERT_EQ(d->bw[0].value, 30);
    ASSERT_STREQ(rtc_sdp_codec_param(rtc_sdp_media_codec(s->media[1], 126), "profile-level-id"), "42e01f");
    rtc_sdp_free(s);
}

static void test_firefox_offer(void)
{
    rtc_sdp *s = parse_file("firefox_offer.sdp");
    ASSERT_STREQ(s->origin.username, "mozilla...THIS_IS_SDPARTA-120.0");
    ASSERT_EQ(s->origin.sess_id, 5046521381546380815ULL);
    ASSERT_EQ(s->dtls.nfingerprints, 1);           /* session level */
    ASSERT_STREQ(s->ice.options, "trickle");
    ASSERT_STREQ(s->msid_semantic, "WMS *");
    rtc_sdp_media *a = s->media[0];
    ASSERT_EQ(a->dtls.nfingerprints, 0);
    ASSERT(rtc_sdp_media_dtls(s, a) == &s->dtls);   /* inherited */
    ASSERT_STREQ(rtc_sdp_media_ice(s, a)->ufrag, "9f2e41a7");
    ASSERT_EQ(a->ncandidates, 3);
    ASSERT(a->end_of_candidates);
    ASSERT_EQ(a->extmaps[1].direction, RTC_SDP_RECVONLY);
    ASSERT_STREQ(a->extmaps[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
    rtc_sdp_codec *g722 = rtc_sdp_media_codec(a, 9);
    ASSERT(g722->channels == 1 && g722->clock_rate == 8000);
    ASSERT_STREQ(rtc_sdp_media_codec(a, 101)->fmtp, "0-15");
    ASSERT_STREQ(rtc_sdp_media_codec(a, 101)->params[0].key, "0-15");
    rtc_sdp_media *v = s->media[1];
    ASSERT_EQ(v->ncodecs, 8);
    /* fmtp and rtcp-fb came before rtpmap: all still land on the right codec */
    rtc_sdp_codec *h = rtc_sdp_media_codec(v, 126);
    ASSERT_STREQ(h->name, "H264");
    ASSERT_EQ(h->nrtcp_fb, 5);
    ASSERT_STREQ(rtc_sdp_codec_param(h, "packetization-mode"), "1");
    ASSERT_EQ(rtc_sdp_media_rtx_for(v, 97)->pt, 98);
    const rtc_sdp_ssrc_group *fid = rtc_sdp_media_ssrc_group(v, "FID");
    ASSERT(fid && fid->nssrcs == 2 && fid->ssrcs[0] == 1349655310u && fid->ssrcs[1] == 3190410734u);
    ASSERT_STREQ(v->msids[0].stream_id, "{6e6a0ad2-5b55-4a5f-9f39-2c8a3f0b1d77}");
    ASSERT_EQ(s->media[2]->max_message_size, 1073741823);
    rtc_sdp_free(s);
}

static void test_safari_offer(void)
{
    rtc_sdp *s = parse_file("safari_offer.sdp");
    rtc_sdp_media *v = s->media[1];
    rtc_sdp_codec *first = v->codecs[0];
    ASSERT_STREQ(first->name, "H264");
    ASSERT_EQ(rtc_sdp_h264_profile(rtc_sdp_codec_param(first, "profile-level-id"), NULL),
              RTC_H264_CONSTRAINED_HIGH);
    const rtc_sdp_ssrc_group *fid = rtc_sdp_media_ssrc_group(v, "FID");
    ASSERT(fid && fid->nssrcs == 2);
    ASSERT_EQ(v->nssrcs, 4);
    ASSERT_STREQ(rtc_sdp_media_ssrc_attr(v, 901452316u, "msid")->value,
                 "3F1C9A7E-52B4-4E0A-9C1D-6A2B8E4F0D13 F0E1D2C3-B4A5-4697-8879-6A5B4C3D2E1F");
    ASSERT_STREQ(rtc_sdp_media_codec(s->media[0], 63)->fmtp, "111/111");
    rtc_sdp_free(s);
}

static void test_datachannel_mdns(void)
{
    rtc_sdp *s = parse_file("chrome_datachannel_mdns.sdp");
    ASSERT_EQ(s->nmedia, 1);
    rtc_sdp_media *d = s->media[0];
    ASSERT_EQ(d->port, 56143);
    ASSERT_EQ(d->ncandidates, 4);
    int local = 0;
    for (size_t i = 0; i < d->ncandidates; i++)
        if (strstr(d->candidates[i], ".local "))
            local++;
    ASSERT_EQ(local, 3);
    ASSERT_EQ(d->sctp_port, 5000);
    ASSERT(rtc_sdp_group_has(rtc_sdp_find_group(s, "bundle"), "0"));
    rtc_sdp_free(s);
}

static void test_ice_lite_answer(void)
{
    rtc_sdp *s = parse_file("ice_lite_server_answer.sdp");
    ASSERT(s->ice_lite);
    ASSERT_STREQ(s->dtls.fingerprints[0].algorithm, "sha-512");
    ASSERT_EQ(strlen(s->dtls.fingerprints[0].value), 64 * 3 - 1);
    for (size_t i = 0; i < 3; i++) {
        rtc_sdp_media *m = s->media[i];
        ASSERT_EQ(m->port, 7);
        ASSERT(rtc_sdp_ice_option(m->ice.options, "renomination"));
        ASSERT_EQ(m->ncandidates, 2);
        ASSERT(m->end_of_candidates);
        ASSERT_EQ(rtc_sdp_media_setup(s, m), RTC_SDP_SETUP_ACTIVE);
    }
    rtc_sdp_media *v = s->media[1];
    ASSERT_EQ(v->nrids, 3);
    ASSERT(v->rids[0].recv);
    ASSERT(v->simulcast.present && v->simulcast.nrecv == 3 && v->simulcast.nsend == 0);
    ASSERT_EQ(rtc_sdp_media_direction(s, v), RTC_SDP_RECVONLY);
    rtc_sdp_free(s);
}

static void test_legacy_sctp(void)
{
    rtc_sdp *s = parse_file("legacy_dtls_sctp.sdp");
    rtc_sdp_media *d = rtc_sdp_find_media(s, "data");
    ASSERT(d);
    ASSERT_STREQ(d->proto, "DTLS/SCTP");
    ASSERT_STREQ(d->fmts[0], "5000");
    ASSERT_EQ(d->ncodecs, 0);
    ASSERT(d->sctpmap.present);
    ASSERT_EQ(d->sctpmap.port, 5000);
    ASSERT_STREQ(d->sctpmap.app, "webrtc-datachannel");
    ASSERT_EQ(d->sctpmap.streams, 1024);
    ASSERT_EQ(d->sctp_port, -1);
    ASSERT_EQ(d->max_message_size, -1);
    ASSERT(rtc_sdp_media_is_sctp(d));
    ASSERT_EQ(rtc_sdp_media_sctp_port(d), 5000);           /* from a=sctpmap */
    d->sctpmap.present = false;
    ASSERT_EQ(rtc_sdp_media_sctp_port(d), 5000);           /* from the m= format */
    ASSERT_EQ(rtc_sdp_media_max_message_size(d), 65536);   /* RFC 8841 default */
    rtc_sdp_free(s);
}

static void test_planb(void)
{
    rtc_sdp *s = parse_file("planb_simulcast.sdp");
    rtc_sdp_media *v = rtc_sdp_find_media(s, "video");
    const rtc_sdp_ssrc_group *sim = rtc_sdp_media_ssrc_group(v, "SIM");
    ASSERT(sim && sim->nssrcs == 3 && sim->ssrcs[2] == 1003);
    ASSERT_EQ(v->nssrc_groups, 4);
    ASSERT_EQ(v->ssrc_groups[3].ssrcs[1], 2003);
    ASSERT_EQ(v->nssrcs, 12);
    ASSERT_STREQ(rtc_sdp_attr_get(s, v, "x-google-flag"), "conference");
    rtc_sdp_media *a = rtc_sdp_find_media(s, "audio");
    ASSERT_STREQ(rtc_sdp_media_ssrc_attr(a, 1172614440u, "mslabel")->value, "9qNk2dFz");
    ASSERT_EQ(rtc_sdp_media_codec(a, 105)->clock_rate, 16000);
    rtc_sdp_free(s);
}

static void test_janus_offer(void)
{
    rtc_sdp *s = parse_file("janus_offer.sdp");
    ASSERT_STREQ(s->name, "VideoRoom 1234");
    const rtc_sdp_group *g = rtc_sdp_find_group(s, "BUNDLE");
    ASSERT(g && g->nmids == 3);
    for (size_t i = 0; i < g->nmids; i++) {
        rtc_sdp_media *m = rtc_sdp_find_media(s, g->mids[i]);
        ASSERT(m && m == s->media[i]);
        ASSERT_EQ(m->ncandidates, 2);
        ASSERT(m->end_of_candidates);
        ASSERT_EQ(rtc_sdp_media_dtls(s, m)->nfingerprints, 1);   /* session level */
        ASSERT_STREQ(rtc_sdp_media_ice(s, m)->pwd, "q8Wm2Nx7Rt4Ky1Lp6Zs9Vb3C");
    }
    rtc_sdp_media *v = rtc_sdp_find_media(s, "v1");
    ASSERT_EQ(rtc_sdp_media_direction(s, v), RTC_SDP_SENDONLY);
    ASSERT_EQ(rtc_sdp_media_ssrc_group(v, "FID")->ssrcs[1], 3960118325u);
    ASSERT_STREQ(v->msids[0].stream_id, "janus");
    ASSERT_EQ(rtc_sdp_media_extmap(v, "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id")->id, 3);
    ASSERT_EQ(rtc_sdp_media_sctp_port(rtc_sdp_find_media(s, "d2")), 5000);
    rtc_sdp_free(s);
}

static void test_rfc_features(void)
{
    rtc_sdp *s = parse_file("rfc_features.sdp");
    ASSERT_STREQ(s->name, "SDP Seminar");
    ASSERT_STREQ(s->origin.addrtype, "IP6");
    ASSERT_STREQ(s->conn.address, "2001:db8::2");
    ASSERT_EQ(s->t_start, 2873397496ULL);
    ASSERT_EQ(s->nlines, 4);                       /* i u e r */
    ASSERT_EQ(s->lines[3].type, 'r');
    ASSERT_STREQ(s->bw[0].type, "CT");
    ASSERT_EQ(s->dtls.nfingerprints, 2);
    ASSERT_STREQ(s->dtls.fingerprints[1].algorithm, "sha-1");
    ASSERT_EQ(s->dtls.setup, RTC_SDP_SETUP_PASSIVE);
    ASSERT(rtc_sdp_ice_option(s->ice.options, "renomination"));
    ASSERT_EQ(s->direction, RTC_SDP_RECVONLY);
    ASSERT_EQ(s->nextmaps, 1);
    ASSERT_EQ(s->extmaps[0].direction, RTC_SDP_SENDONLY);
    ASSERT_STREQ(s->extmaps[0].attributes, "some-attr");
    ASSERT_EQ(s->ngroups, 2);
    ASSERT_STREQ(rtc_sdp_find_group(s, "BUNDLE")->mids[2], "3");
    ASSERT_STREQ(rtc_sdp_attr_get(s, NULL, "tool"), "handwritten");
    ASSERT_STREQ(rtc_sdp_attr_get(s, NULL, "x-flag"), "");
    ASSERT(rtc_sdp_attr_get(s, NULL, "nope") == NULL);

    rtc_sdp_media *a = s->media[0];
    ASSERT_EQ(a->nports, 2);
    ASSERT_EQ(a->nlines, 1);
    ASSERT_EQ(a->nbw, 2);
    ASSERT_EQ(a->bw[1].value, 64000);
    ASSERT(a->conn.address == NULL);
    ASSERT(a->rtcp_mux_only && a->bundle_only);
    ASSERT_EQ(a->direction, RTC_SDP_INACTIVE);
    ASSERT_EQ(a->nrtcp_fb_all, 1);
    ASSERT(rtc_sdp_codec_has_fb(rtc_sdp_media_codec(a, 96), a, "nack"));
    ASSERT(rtc_sdp_codec_has_fb(rtc_sdp_media_codec(a, 96), a, "nack pli"));
    ASSERT(!rtc_sdp_codec_has_fb(rtc_sdp_media_codec(a, 0), a, "nack pli"));
    ASSERT_STREQ(rtc_sdp_attr_get(s, a, "ptime"), "20");

    rtc_sdp_media *v = s->media[1];
    ASSERT(v->extmap_allow_mixed);
    ASSERT_EQ(v->extmaps[0].direction, RTC_SDP_SENDRECV);
    ASSERT_STREQ(v->extmaps[1].attributes, "with two-attrs");
    ASSERT_EQ(v->nmsids, 2);
    ASSERT(v->msids[1].track_id == NULL);
    ASSERT_STREQ(rtc_sdp_codec_param(rtc_sdp_media_codec(v, 97), "sprop-parameter-sets"),
                 "Z0LAH9oBQBbpUgAAAwACAAADAGQeMGVA,aM4yyA==");
    ASSERT_STREQ(rtc_sdp_codec_param(rtc_sdp_media_codec(v, 99), "rtx-time"), "3000");
    const rtc_sdp_rid *r1 = rtc_sdp_media_rid(v, "1");
    ASSERT(r1 && r1->npts == 2 && r1->pts[0] == 97 && r1->pts[1] == 98);
    ASSERT_STREQ(rtc_sdp_param_get(r1->params, r1->nparams, "max-height"), "720");
    const rtc_sdp_rid *r3 = rtc_sdp_media_rid(v, "3");
    ASSERT(r3->npts == 0 && r3->nparams == 1);
    ASSERT(rtc_sdp_media_rid(v, "4")->recv);
    ASSERT_EQ(v->simulcast.nsend, 2);
    ASSERT_EQ(v->simulcast.send[0].nalts, 2);
    ASSERT_STREQ(v->simulcast.send[0].alts[1].rid, "2");
    ASSERT(!v->simulcast.send[0].alts[1].paused);
    ASSERT(v->simulcast.send[1].alts[0].paused);
    ASSERT_STREQ(v->simulcast.send[1].alts[0].rid, "3");
    ASSERT_EQ(v->simulcast.nrecv, 1);
    ASSERT_STREQ(rtc_sdp_media_ssrc_attr(v, 12345, "cname")->value, "a:b");
    ASSERT(v->end_of_candidates);

    rtc_sdp_media *d = s->media[2];
    ASSERT_EQ(d->port, 0);
    ASSERT(rtc_sdp_media_rejected(d));
    ASSERT(!rtc_sdp_media_rejected(a));
    ASSERT(!rtc_sdp_media_is_sctp(a));
    ASSERT_EQ(rtc_sdp_media_sctp_port(a), -1);
    ASSERT_EQ(rtc_sdp_media_sctp_port(d), 6000);
    ASSERT_EQ(rtc_sdp_media_max_message_size(d), 0);
    ASSERT_STREQ(rtc_sdp_kind_name(d->kind), "application");
    ASSERT_EQ(d->sctp_port, 6000);
    ASSERT_EQ(d->max_message_size, 0);
    rtc_sdp_free(s);
}

/* What browsers differ on is accepted. */
/* Every a=fingerprint is kept in order, at its level, whatever its hash name (the
 * peer connection chooses among them: test_pc_fingerprint.c); a media section's own
 * lines replace the session's for it. */
static void test_every_fingerprint_kept(void)
{
    const char *t =
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "a=fingerprint:sha-256 AA:BB\r\n"
        "a=fingerprint:SHA-512 CC:DD\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:0\r\n"
        "a=fingerprint:sha-3-256 01:02\r\n"
        "a=fingerprint:sha-384 EE:FF\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\n";
    rtc_sdp *s = NULL;
    rtc_sdp_error err;
    ASSERT_OK(rtc_sdp_parse(&s, t, strlen(t), &err));
    ASSERT_EQ(s->dtls.nfingerprints, 2);
    ASSERT_STREQ(s->dtls.fingerprints[1].algorithm, "SHA-512");
    const rtc_sdp_dtls *d0 = rtc_sdp_media_dtls(s, s->media[0]);
    ASSERT_EQ(d0->nfingerprints, 2);
    ASSERT_STREQ(d0->fingerprints[0].algorithm, "sha-3-256");
    ASSERT_STREQ(d0->fingerprints[1].algorithm, "sha-384");
    ASSERT_STREQ(d0->fingerprints[1].value, "EE:FF");
    const rtc_sdp_dtls *d1 = rtc_sdp_media_dtls(s, s->media[1]);
    ASSERT(d1 == &s->dtls);
    rtc_sdp_free(s);
}

static void test_tolerance(void)
{
    const char *t =
        "v=0  \n"
        "o=- 1 1 IN IP4 0.0.0.0\r\n"
        "\n"
        "s=\t\n"
        "a=msid-semantic:WMS\n"
        "a=x-no-value\n"
        "a=x-empty:\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 0 8\r\n"
        "a=rtcp-mux:ignored\r\n"
        "a=rtpmap:8 PCMA/8000   \r\n"
        "a=unknown-thing:with:colons\n"
        "a=mid:  a0\n"
        "\n";
    rtc_sdp *s;
    rtc_sdp_error err;
    ASSERT_OK(rtc_sdp_parse(&s, t, strlen(t), &err));
    ASSERT_STREQ(s->name, "-");
    ASSERT_EQ(s->t_start, 0);
    ASSERT_STREQ(rtc_sdp_attr_get(s, NULL, "x-no-value"), "");
    ASSERT(s->attrs[0].value == NULL);
    ASSERT_STREQ(s->attrs[1].value, "");
    rtc_sdp_media *m = s->media[0];
    ASSERT(m->rtcp_mux);
    ASSERT_STREQ(m->mid, "a0");
    ASSERT_STREQ(rtc_sdp_media_codec(m, 8)->name, "PCMA");
    ASSERT_STREQ(rtc_sdp_media_codec(m, 0)->name, "PCMU");   /* static PT */
    ASSERT_STREQ(rtc_sdp_attr_get(s, m, "unknown-thing"), "with:colons");
    ASSERT_EQ(rtc_sdp_media_direction(s, m), RTC_SDP_SENDRECV);
    rtc_sdp_free(s);

    /* No trailing newline and no s=/t= at all. */
    const char *u = "v=0\no=- 1 1 IN IP4 0.0.0.0";
    ASSERT_OK(rtc_sdp_parse(&s, u, strlen(u), &err));
    ASSERT_EQ(s->nmedia, 0);
    rtc_sdp_free(s);
}

int main(void)
{
    RUN(test_corpus_round_trip);
    RUN(test_chrome_offer);
    RUN(test_chrome_answer);
    RUN(test_firefox_offer);
    RUN(test_safari_offer);
    RUN(test_datachannel_mdns);
    RUN(test_ice_lite_answer);
    RUN(test_legacy_sctp);
    RUN(test_planb);
    RUN(test_janus_offer);
    RUN(test_rfc_features);
    RUN(test_tolerance);
    RUN(test_every_fingerprint_kept);
    return 0;
}
