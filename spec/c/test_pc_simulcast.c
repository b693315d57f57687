/* Receiving simulcast: a peer that offers three layers gets one incoming stream per
 * layer, named for the SFU's producers: by RID from a=simulcast send (Chrome's unified
 * plan offer), or "sim0".."sim2" from the SSRCs of an a=ssrc-group:SIM with each
 * one's FID repair SSRC (older Chrome, munged SDP). Without either, one stream. */
#include "test_pc_harness.h"
#include <stdio.h>
#include <string.h>

#define CORPUS RTC_SOURCE_DIR "/spec/sdp/corpus/"

static char corpus_buf[65536];
static char names[4][16];            /* info.simulcast, copied before the pc goes */

static const char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    ASSERT(f != NULL);
    size_t n = fread(corpus_buf, 1, sizeof corpus_buf - 1, f);
    fclose(f);
    corpus_buf[n] = 0;
    return corpus_buf;
}

/* b answers `offer`; the info of its video transceiver after that. */
static void answer_offer(const char *offer, rtc_transceiver_info *video)
{
    peer b;
    peer_init(&b, "10.0.0.2:2000", cert_b);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    char *text;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &text, now));
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, text, now));
    free(text);
    bool found = false;
    for (int h = 0; h < 8 && !found; h++) {
        if (rtc_pc_transceiver_info(b.pc, h, video) < 0) continue;
        found = video->kind == RTC_MEDIA_VIDEO;
    }
    ASSERT(found);
    for (int k = 0; k < video->nsimulcast && k < 4; k++) {
        snprintf(names[k], sizeof names[k], "%s", video->simulcast[k]);
        video->simulcast[k] = names[k];
    }
    rtc_pc_free(b.pc);
}

static void test_ssrc_group_sim(void)
{
    rtc_transceiver_info v;
    answer_offer(read_file(CORPUS "planb_simulcast.sdp"), &v);
    ASSERT_EQ(v.layers, 3);                            /* a receiver per SIM SSRC */
    ASSERT_EQ(v.nsimulcast, 3);
    ASSERT_STREQ(v.simulcast[0], "sim0");
    ASSERT_STREQ(v.simulcast[2], "sim2");
    ASSERT_EQ(v.remote_ssrc, 1001);                    /* the first layer, with its FID pair */
    ASSERT_EQ(v.remote_rtx_ssrc, 2001);
}

static void test_no_sim_group_one_stream(void)
{
    char *o = strdup(read_file(CORPUS "planb_simulcast.sdp"));
    char *g = strstr(o, "a=ssrc-group:SIM");
    ASSERT(g != NULL);
    memcpy(g, "a=x-nothing-here", 16);                 /* same length: the group is gone */
    rtc_transceiver_info v;
    answer_offer(o, &v);
    free(o);
    ASSERT_EQ(v.layers, 1);
    ASSERT_EQ(v.nsimulcast, 0);
}

static void test_rid_simulcast(void)
{
    rtc_transceiver_info v;
    answer_offer(read_file(CORPUS "chrome_offer_simulcast.sdp"), &v);
    ASSERT_EQ(v.nsimulcast, 3);                        /* streams start with their first packet (RID) */
    ASSERT_STREQ(v.simulcast[0], "q");
    ASSERT_STREQ(v.simulcast[1], "h");
    ASSERT_STREQ(v.simulcast[2], "f");
}

int main(void)
{
    harness_begin(11);
    RUN(test_ssrc_group_sim);
    RUN(test_no_sim_group_one_stream);
    RUN(test_rid_simulcast);
    harness_end();
    return 0;
}
