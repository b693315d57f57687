/* Peer connection machine: two peers over the virtual network, offer/answer, trickle
 * and non-trickle, data channels both ways, rollback, wrong-state calls and bad SDP. */
#include "test_pc_harness.h"
#include "test_sctp_vclock.h"
#include "ice/ice_candidate.h"
#include "turn/turn_client.h"

/* usrsctp reads gettimeofday(): keep it on the virtual clock. */
static void move_vclock(rtc_time t) { test_vclock = RTC_SEC(1000) + t; }

static bool both_connected(peer *a, peer *b)
{
    return rtc_pc_connection_state_get(a->pc) == RTC_CONN_CONNECTED &&
           rtc_pc_connection_state_get(b->pc) == RTC_CONN_CONNECTED;
}
static bool channel_up(peer *a, peer *b) { return a->opened >= 1 && b->datachannel >= 1; }

static void test_datachannel(bool trickle, double loss)
{
    peer a, b;
    vnet *n = vnet_new(7);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5), .jitter = loss > 0 ? RTC_MS(4) : 0, .loss = loss });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "chat", .max_retransmits = -1, .max_packet_life_time = -1 };
    int dc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT_EQ(dc, 0);
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, 1);
    negotiate_ex(&a, &b, n, trickle);
    run_until(&a, &b, n, now + RTC_SEC(20), channel_up);
    ASSERT(both_connected(&a, &b) || channel_up(&a, &b));
    ASSERT_EQ(a.opened, 1);
    ASSERT_EQ(b.datachannel, 1);
    ASSERT(a.end_of_cand >= 1 && b.end_of_cand >= 1);
    rtc_dc_info info;
    ASSERT_OK(rtc_pc_dc_info(b.pc, b.last_dc, &info));
    ASSERT_STREQ(info.label, "chat");
    ASSERT_STREQ(info.state, "open");
    ASSERT_OK(rtc_pc_dc_info(a.pc, dc, &info));
    ASSERT_EQ(info.id % 2, 1);   /* the answerer took setup:active, so the offerer is the DTLS server: odd ids */

    ASSERT_OK(rtc_pc_dc_send(a.pc, dc, "hello", 5, false, now));
    run_until(&a, &b, n, now + RTC_SEC(5), NULL);
    ASSERT_EQ(b.nmsgs, 1);
    ASSERT_STREQ(b.msgs[0], "hello");
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, "world", 5, true, now));
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, "", 0, true, now));
    static uint8_t big[200000];
    memset(big, 'x', sizeof big);
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, big, sizeof big, true, now));
    run_until(&a, &b, n, now + RTC_SEC(20), NULL);
    ASSERT_STREQ(a.msgs[0], "world");
    ASSERT(a.binary_seen && a.empty_seen);
    ASSERT_EQ(a.big_len, sizeof big);

    rtc_pc_stats st;
    rtc_pc_get_stats(a.pc, &st);
    ASSERT(st.has_pair);
    ASSERT_STREQ(st.dtls_state, "connected");
    ASSERT(st.bytes_sent > 0 && st.bytes_received > sizeof big);
    ASSERT_STREQ(st.remote_fingerprint, rtc_pc_local_fingerprint(b.pc));

    /* Candidates as kept for stats: the local one as gathered, the peer's as signalled
     * (trickled or in the description), the same text on both sides. */
    char lc[512], rc[512], small[10];
    int type = -1;
    rtc_addr addr, want;
    ASSERT_OK(rtc_addr_parse(&want, "10.0.0.1:1000"));
    ASSERT_OK(rtc_pc_local_candidate(a.pc, 0, lc, sizeof lc, &type, &addr));
    ASSERT(strncmp(lc, "candidate:", 10) == 0 && strstr(lc, " 10.0.0.1 1000 typ host"));
    ASSERT_EQ(type, RTC_ICE_HOST);
    ASSERT(rtc_addr_eq(&addr, &want));
    ASSERT_EQ(rtc_pc_local_candidate(a.pc, 1, NULL, 0, NULL, NULL), RTC_ENOTFOUND);
    ASSERT_OK(rtc_pc_remote_candidate(b.pc, 0, rc, sizeof rc, &type, &addr));
    ASSERT_STREQ(rc, lc);
    ASSERT_EQ(type, RTC_ICE_HOST);
    ASSERT(rtc_addr_eq(&addr, &want));
    ASSERT_OK(rtc_pc_remote_candidate(b.pc, 0, small, sizeof small, NULL, NULL));
    ASSERT_STREQ(small, "candidate");

    ASSERT_OK(rtc_pc_dc_close(a.pc, dc, now));
    run_until(&a, &b, n, now + RTC_SEC(5), NULL);
    ASSERT_EQ(a.closed, 1);
    ASSERT_EQ(b.closed, 1);
    rtc_pc_close(a.pc, now);
    rtc_pc_close(b.pc, now);
    drain(&a, n); drain(&b, n);
    ASSERT_EQ(rtc_pc_connection_state_get(a.pc), RTC_CONN_CLOSED);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

static void test_clean(void) { test_datachannel(false, 0); }
static void test_trickle(void) { test_datachannel(true, 0); }
static void test_lossy(void) { test_datachannel(true, 0.1); }

/* Audio only first; a later offer adds the first data channel (an m=application
 * section after the audio one): the association starts over the DTLS transport that is
 * already up, and the audio section keeps its place. */
static void test_renegotiate_first_channel(void)
{
    peer a, b;
    vnet *n = vnet_new(11);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    int atr = rtc_pc_add_transceiver(a.pc, &(rtc_transceiver_init){ RTC_MEDIA_AUDIO, RTC_DIR_SENDRECV, -1 }, now);
    ASSERT(atr >= 0);
    negotiate_ex(&a, &b, n, false);
    char *sdp;
    ASSERT_OK(rtc_pc_local_description(a.pc, NULL, &sdp));
    ASSERT(strstr(sdp, "m=audio "));
    ASSERT(!strstr(sdp, "m=application"));
    free(sdp);
    run_until(&a, &b, n, now + RTC_SEC(10), both_connected);
    ASSERT(both_connected(&a, &b));
    ASSERT_EQ(b.tracks, 1);
    ASSERT_EQ(b.track_kind[0], RTC_MEDIA_AUDIO);
    rtc_pc_stats st;
    rtc_pc_get_stats(a.pc, &st);
    ASSERT_STREQ(st.dtls_state, "connected");

    int before = a.negotiation_needed;
    rtc_dc_init init = { .label = "late", .max_retransmits = -1, .max_packet_life_time = -1 };
    int dc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT(dc >= 0);
    drain(&a, n);
    ASSERT_EQ(a.negotiation_needed, before + 1);
    run_until(&a, &b, n, now + RTC_MS(200), NULL);
    ASSERT_EQ(a.opened, 0);              /* no association before the section is negotiated */
    ASSERT_EQ(b.datachannel, 0);

    negotiate_ex(&a, &b, n, false);
    ASSERT_OK(rtc_pc_local_description(a.pc, NULL, &sdp));
    char *audio = strstr(sdp, "m=audio "), *app = strstr(sdp, "m=application ");
    ASSERT(audio && app && audio < app);
    ASSERT(strstr(app, "a=sctp-port:"));
    ASSERT(strstr(sdp, "a=group:BUNDLE 0 1\r\n"));
    free(sdp);
    ASSERT_OK(rtc_pc_remote_description(a.pc, NULL, &sdp));
    ASSERT(strstr(sdp, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));   /* accepted */
    free(sdp);
    run_until(&a, &b, n, now + RTC_SEC(10), channel_up);
    ASSERT_EQ(a.opened, 1);
    ASSERT_EQ(b.datachannel, 1);
    rtc_dc_info info;
    ASSERT_OK(rtc_pc_dc_info(b.pc, b.last_dc, &info));
    ASSERT_STREQ(info.label, "late");
    ASSERT_OK(rtc_pc_dc_send(a.pc, dc, "ping", 4, false, now));
    run_until(&a, &b, n, now + RTC_SEC(2), NULL);
    ASSERT_OK(rtc_pc_dc_send(b.pc, b.last_dc, "pong", 4, false, now));
    run_until(&a, &b, n, now + RTC_SEC(2), NULL);
    ASSERT_EQ(b.nmsgs, 1);
    ASSERT_STREQ(b.msgs[0], "ping");
    ASSERT_EQ(a.nmsgs, 1);
    ASSERT_STREQ(a.msgs[0], "pong");
    /* The same transport carries both: still one connection, and the audio track
     * was not announced again. */
    ASSERT(both_connected(&a, &b));
    ASSERT_EQ(b.tracks, 1);
    rtc_pc_close(a.pc, now);
    rtc_pc_close(b.pc, now);
    drain(&a, n); drain(&b, n);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
    vnet_free(n);
}

static void test_wrong_state_and_bad_sdp(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    char *sdp;
    ASSERT_EQ(rtc_pc_create_answer(a.pc, &sdp, now), RTC_ESTATE);
    ASSERT(strncmp(rtc_pc_last_error(a.pc), "InvalidStateError:", 18) == 0);
    ASSERT_EQ(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, "v=0\r\n", now), RTC_ESTATE);
    /* SDP that does not parse: W3C's sdp-syntax-error RTCError, an OperationError */
    ASSERT_EQ(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, "v=0\r\nbogus\r\n", now), RTC_EOPERATION);
    ASSERT(strstr(rtc_pc_last_error(a.pc), "OperationError: line") == rtc_pc_last_error(a.pc));
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    /* No fingerprint: refused, state unchanged. */
    const char *nofp =
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n";
    ASSERT_EQ(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, nofp, now), RTC_EACCESS);
    ASSERT(strstr(rtc_pc_last_error(a.pc), "fingerprint"));
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    ASSERT_EQ(rtc_pc_add_ice_candidate(a.pc, "candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0, now), RTC_ESTATE);
    /* Offer then roll back. */
    rtc_dc_init init = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_HAVE_LOCAL_OFFER);
    /* A remote offer now would roll ours back (perfect negotiation), but not one that
     * cannot be applied: ours stays. */
    ASSERT_EQ(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, nofp, now), RTC_EACCESS);
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_HAVE_LOCAL_OFFER);
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    rtc_pc_free(a.pc);
}

/* What Chrome offers for a data channel, with an mDNS host candidate: parsed, answered. */
static void test_answer_browser_offer(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    const char *chrome =
        "v=0\r\no=- 4138838243769989614 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
        "a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
        "a=ice-ufrag:Qm9v\r\na=ice-pwd:p8v7CJ0f6hxfTQhNfGnJkkJq\r\na=ice-options:trickle\r\n"
        "a=fingerprint:sha-256 9B:2C:FA:76:41:3E:38:AB:85:D0:F5:3A:E5:81:5C:92:19:2D:1B:09:4C:0D:96:B5:46:BE:05:6E:0B:0F:6A:2B\r\n"
        "a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
        "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
        "a=candidate:1057975763 1 udp 2122194687 8c3e7a3c-6c4e-4d6e-9f0d-2a1b3c4d5e6f.local 41833 typ host generation 0 network-id 1\r\n"
        "a=ice-ufrag:Qm9v\r\na=ice-pwd:p8v7CJ0f6hxfTQhNfGnJkkJq\r\na=ice-options:trickle\r\n"
        "a=fingerprint:sha-256 9B:2C:FA:76:41:3E:38:AB:85:D0:F5:3A:E5:81:5C:92:19:2D:1B:09:4C:0D:96:B5:46:BE:05:6E:0B:0F:6A:2B\r\n"
        "a=setup:actpass\r\na=mid:1\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_OFFER, chrome, now));
    char *answer;
    ASSERT_OK(rtc_pc_create_answer(a.pc, &answer, now));
    ASSERT(strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));      /* Opus accepted, red not */
    ASSERT(strstr(answer, "a=recvonly\r\n"));                          /* nothing to send on it */
    ASSERT(strstr(answer, "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    ASSERT(strstr(answer, "a=setup:active\r\n"));
    ASSERT(strstr(answer, "a=mid:1\r\n"));
    ASSERT(strstr(answer, "a=group:BUNDLE 0 1\r\n"));
    ASSERT(strstr(answer, "a=sctp-port:5000\r\n"));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_ANSWER, NULL, now));
    ASSERT_EQ(rtc_pc_signaling_state_get(a.pc), RTC_SIG_STABLE);
    ASSERT_EQ(rtc_pc_add_ice_candidate(a.pc, "candidate:1 1 udp 1 1.2.3.4 5 typ host", "7", 0, now), RTC_EOPERATION);
    ASSERT_EQ(rtc_pc_add_ice_candidate(a.pc, "candidate:garbage", "1", 1, now), RTC_EOPERATION);
    free(answer);
    rtc_pc_free(a.pc);
}

/* Binding requests a sends to `srv` from now until `until` (transmits drained). */
static int requests_to(peer *a, const rtc_addr *srv, rtc_time until)
{
    int k = 0;
    for (; now <= until; now += RTC_MS(10)) {
        rtc_pc_handle_timeout(a->pc, now);
        rtc_transmit tx;
        while (rtc_pc_poll_transmit(a->pc, &tx)) {
            if (rtc_addr_eq(&tx.remote, srv) && tx.buf->len >= 20 && tx.buf->data[0] == 0 && tx.buf->data[1] == 1) k++;
            rtc_buf_unref(tx.buf);
        }
        rtc_pc_event ev;
        while (rtc_pc_poll_event(a->pc, &ev)) rtc_buf_unref(ev.buf);
    }
    return k;
}

/* setConfiguration's ICE servers: before the agent exists the new list replaces the
 * old one; once it runs, servers added after rtc_pc_replace_servers wait for the next
 * ICE restart (nothing is sent to them before), and a dropped one is not asked again. */
static void test_replace_servers(void)
{
    peer a;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    rtc_addr old_srv, new_srv, late_srv;
    ASSERT_OK(rtc_addr_parse(&old_srv, "10.9.0.1:3478"));
    ASSERT_OK(rtc_addr_parse(&new_srv, "10.9.0.2:3478"));
    ASSERT_OK(rtc_addr_parse(&late_srv, "10.9.0.3:3478"));
    ASSERT_OK(rtc_pc_add_stun_server(a.pc, &a.addr, &old_srv, now));
    ASSERT_OK(rtc_pc_replace_servers(a.pc, now));
    ASSERT_OK(rtc_pc_add_stun_server(a.pc, &a.addr, &new_srv, now));
    rtc_dc_init init = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT_GE(rtc_pc_create_data_channel(a.pc, &init, now), 0);
    char *sdp;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    ASSERT_GE(requests_to(&a, &new_srv, now + RTC_MS(100)), 1);
    ASSERT_EQ(requests_to(&a, &old_srv, now + RTC_MS(100)), 0);
    /* the agent runs: the next list waits for a restart */
    ASSERT_OK(rtc_pc_replace_servers(a.pc, now));
    ASSERT_OK(rtc_pc_add_stun_server(a.pc, &a.addr, &late_srv, now));
    ASSERT_OK(rtc_pc_add_turn_server(a.pc, &a.addr, &old_srv, RTC_TURN_UDP, "u", "p", now));   /* freed unused */
    ASSERT_OK(rtc_pc_replace_servers(a.pc, now));                                              /* replaced again */
    ASSERT_OK(rtc_pc_add_stun_server(a.pc, &a.addr, &late_srv, now));
    ASSERT_EQ(requests_to(&a, &late_srv, now + RTC_SEC(1)), 0);
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_ROLLBACK, NULL, now));
    ASSERT_OK(rtc_pc_restart_ice(a.pc, now));
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &sdp, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, sdp, now));
    free(sdp);
    ASSERT_GE(requests_to(&a, &late_srv, now + RTC_MS(100)), 1);
    ASSERT_EQ(requests_to(&a, &old_srv, now + RTC_MS(100)), 0);
    /* a server kept across the change is not added twice; closed: refused */
    rtc_pc_close(a.pc, now);
    ASSERT_EQ(rtc_pc_replace_servers(a.pc, now), RTC_ESTATE);
    rtc_pc_free(a.pc);
}

int main(void)
{
    harness_on_clock = move_vclock;
    harness_begin(99);
    RUN(test_wrong_state_and_bad_sdp);
    RUN(test_answer_browser_offer);
    RUN(test_clean);
    RUN(test_trickle);
    RUN(test_lossy);
    RUN(test_renegotiate_first_channel);
    RUN(test_replace_servers);
    harness_end();
    return 0;
}
