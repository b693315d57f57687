/* ICE restarts through the peer connection: the offerer restarts with trickle, as a
 * browser does, and its new candidates reach the answerer between the offer and the
 * answer. The answerer's agent restarts with its answer; candidates trickled before
 * that belong to the new generation and must reach the new checklist (with or without
 * the ufrag extension browsers add), not the one the restart throws away. */
#include "test_pc_harness.h"
#include "ice/ice_candidate.h"
#include <stdio.h>

static bool channel_up(peer *a, peer *b) { return a->opened >= 1 && b->datachannel >= 1; }

static const char *offer_ufrag(const char *sdp, char *out, size_t size)
{
    const char *p = strstr(sdp, "a=ice-ufrag:");
    ASSERT(p != NULL);
    p += strlen("a=ice-ufrag:");
    size_t n = strcspn(p, "\r\n");
    ASSERT(n < size);
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

static void restart_trickled_before_answer(bool with_ufrag)
{
    peer a, b;
    vnet *n = vnet_new(11);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "chat", .max_retransmits = -1, .max_packet_life_time = -1 };
    int dc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT_EQ(dc, 0);
    negotiate(&a, &b, n);
    run_until(&a, &b, n, now + RTC_SEC(10), channel_up);
    ASSERT(channel_up(&a, &b));

    /* a restarts: the offer goes at once, its candidates trickle after it. */
    int before = a.ncand;
    ASSERT_OK(rtc_pc_restart_ice(a.pc, now));
    char *offer, *answer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, offer, now));
    step(&a, &b, n, now + RTC_MS(20));
    ASSERT(a.ncand > before);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, offer, now));
    char ufrag[64];
    offer_ufrag(offer, ufrag, sizeof ufrag);
    free(offer);
    for (int i = before; i < a.ncand; i++) {
        char line[600];
        snprintf(line, sizeof line, "%s%s%s", a.cands[i], with_ufrag ? " ufrag " : "", with_ufrag ? ufrag : "");
        ASSERT_OK(rtc_pc_add_ice_candidate(b.pc, line, "0", 0, now));
    }
    char rc[600];
    ASSERT_OK(rtc_pc_remote_candidate(b.pc, 0, rc, sizeof rc, NULL, NULL));   /* kept, not dropped as stale */
    /* b answers; its agent restarts now. It has a's new credentials and candidate, so
     * it checks a before a has the answer. */
    rtc_pc_stats st;
    rtc_pc_get_stats(b.pc, &st);
    uint64_t b_checks = st.stun_checks_sent;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &answer, now));
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, answer, now));
    int b_before = b.ncand;
    step(&a, &b, n, now + RTC_MS(20));
    rtc_pc_get_stats(b.pc, &st);
    ASSERT(st.stun_checks_sent > b_checks);
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    for (int i = b_before; i < b.ncand; i++) ASSERT_OK(rtc_pc_add_ice_candidate(a.pc, b.cands[i], "0", 0, now));
    step(&a, &b, n, now + RTC_SEC(3));
    ASSERT(connected(&a) && connected(&b));
    rtc_pc_get_stats(b.pc, &st);
    ASSERT(st.has_pair);
    /* The pair b selected has a's trickled host candidate, not one learnt from a's checks. */
    ASSERT_EQ(st.pair_remote_type, RTC_ICE_HOST);
    ASSERT(rtc_addr_eq(&st.pair_remote, &a.addr));
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, "after", 5, false, now));
    step(&a, &b, n, now + RTC_MS(500));
    ASSERT_EQ(a.nmsgs, 1);
    ASSERT_STREQ(a.msgs[0], "after");
    close_peers(&a, &b, n);
}

/* The candidate line names the new generation (a=ice-ufrag of the offer). */
static void test_restart_candidates_with_ufrag_before_answer(void) { restart_trickled_before_answer(true); }
/* No ufrag: the candidate belongs to the remote description it follows, the offer. */
static void test_restart_candidates_before_answer(void) { restart_trickled_before_answer(false); }

int main(void)
{
    harness_begin(0x7e57a7);
    RUN(test_restart_candidates_with_ufrag_before_answer);
    RUN(test_restart_candidates_before_answer);
    harness_end();
    return 0;
}
