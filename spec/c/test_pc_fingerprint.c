/* The peer's a=fingerprint lines (RFC 8122 section 5): every line of the remote
 * description counts, session or media level; the strongest hash we compute decides
 * (a hash we do not know, wherever it stands, is skipped); the peer is accepted when
 * its certificate matches one value of that hash. Once DTLS is up, a description
 * naming another certificate is refused with InvalidModificationError and changes
 * nothing. */
#include "test_pc_harness.h"
#include <stdio.h>

static char g_block[2048];        /* replaces the offer's a=fingerprint lines */
static bool g_session_level;      /* put g_block at session level instead */

static void munge_fingerprints(char *sdp)
{
    static char out[65536];
    size_t w = 0;
    bool placed = false;
    for (const char *r = sdp; *r;) {
        const char *eol = strchr(r, '\n');
        size_t n = eol ? (size_t)(eol - r + 1) : strlen(r);
        if (strncmp(r, "a=fingerprint:", 14) == 0) {
            if (!g_session_level) { memcpy(out + w, g_block, strlen(g_block)); w += strlen(g_block); }
        } else {
            memcpy(out + w, r, n);
            w += n;
            if (g_session_level && !placed && strncmp(r, "t=", 2) == 0) {
                memcpy(out + w, g_block, strlen(g_block));
                w += strlen(g_block);
                placed = true;
            }
        }
        r += n;
        ASSERT(w < sizeof out - 4096);
    }
    out[w] = 0;
    ASSERT(w < strlen(sdp) + 4096);   /* what the harness leaves room for */
    strcpy(sdp, out);
}

static char *fp_of(rtc_dtls_cert *c, const char *algo)
{
    static char bufs[4][RTC_DTLS_FINGERPRINT_MAX];
    static int k;
    char *b = bufs[k++ % 4];
    ASSERT(rtc_dtls_cert_fingerprint_algo(c, algo, b, RTC_DTLS_FINGERPRINT_MAX) > 0);
    return b;
}

/* A fingerprint of the right length that is nobody's. */
static const char *wrong(const char *algo)
{
    static char b[2][RTC_DTLS_FINGERPRINT_MAX];
    static int k;
    char *o = b[k++ % 2];
    snprintf(o, RTC_DTLS_FINGERPRINT_MAX, "%s", fp_of(cert_b, algo));   /* b's own: never a's */
    return o;
}

/* Connect with the offer's fingerprints replaced by `block`; true if both connected. */
static bool connect_with(const char *block, bool session_level, const char *want_stats_fp)
{
    snprintf(g_block, sizeof g_block, "%s", block);
    g_session_level = session_level;
    harness_munge_offer = munge_fingerprints;
    peer a, b;
    vnet *n = vnet_new(5);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT(rtc_pc_create_data_channel(a.pc, &init, now) >= 0);
    negotiate(&a, &b, n);
    for (int i = 0; i < 50 && !(connected(&a) && connected(&b)); i++) step(&a, &b, n, now + RTC_MS(100));
    bool ok = connected(&a) && connected(&b);
    if (ok && want_stats_fp) {
        rtc_pc_stats st;
        rtc_pc_get_stats(b.pc, &st);
        ASSERT_STREQ(st.remote_fingerprint, want_stats_fp);
    }
    if (!ok) ASSERT_EQ(rtc_pc_connection_state_get(b.pc), RTC_CONN_FAILED);
    harness_munge_offer = NULL;
    close_peers(&a, &b, n);
    return ok;
}

static void test_strongest_supported_hash_decides(void)
{
    char block[2048];
    /* An unknown hash first must not hide a later sha-384. */
    snprintf(block, sizeof block, "a=fingerprint:sha-3-256 01:02:03\r\na=fingerprint:sha-384 %s\r\n", fp_of(cert_a, "sha-384"));
    ASSERT(connect_with(block, false, fp_of(cert_a, "sha-256")));   /* stats: the certificate in use */
    /* sha-384 outranks sha-256: a right sha-384 wins over a wrong sha-256 ... */
    snprintf(block, sizeof block, "a=fingerprint:sha-256 %s\r\na=fingerprint:sha-384 %s\r\n", wrong("sha-256"),
             fp_of(cert_a, "sha-384"));
    ASSERT(connect_with(block, false, NULL));
    /* ... and a wrong sha-384 is not rescued by a right sha-256. */
    snprintf(block, sizeof block, "a=fingerprint:sha-256 %s\r\na=fingerprint:sha-384 %s\r\n", fp_of(cert_a, "sha-256"),
             wrong("sha-384"));
    ASSERT(!connect_with(block, false, NULL));
    /* Hash names are case-insensitive; sha-512 beats sha-1. */
    snprintf(block, sizeof block, "a=fingerprint:SHA-1 %s\r\na=fingerprint:SHA-512 %s\r\n", wrong("sha-1"), fp_of(cert_a, "sha-512"));
    ASSERT(connect_with(block, false, NULL));
}

static void test_any_value_of_the_hash_may_match(void)
{
    char block[2048];
    /* Two certificates' sha-256 values: the peer uses the first one here. */
    snprintf(block, sizeof block, "a=fingerprint:sha-256 %s\r\na=fingerprint:sha-256 %s\r\n", fp_of(cert_a, "sha-256"),
             wrong("sha-256"));
    ASSERT(connect_with(block, false, fp_of(cert_a, "sha-256")));
    snprintf(block, sizeof block, "a=fingerprint:sha-256 %s\r\na=fingerprint:sha-256 %s\r\n", wrong("sha-256"),
             fp_of(cert_a, "sha-256"));
    ASSERT(connect_with(block, false, NULL));
    /* None of them: refused. */
    snprintf(block, sizeof block, "a=fingerprint:sha-256 %s\r\n", wrong("sha-256"));
    ASSERT(!connect_with(block, false, NULL));
}

static void test_session_level_fingerprints(void)
{
    char block[2048];
    snprintf(block, sizeof block, "a=fingerprint:md5 00:11\r\na=fingerprint:sha-384 %s\r\n", fp_of(cert_a, "sha-384"));
    ASSERT(connect_with(block, true, fp_of(cert_a, "sha-256")));
    snprintf(block, sizeof block, "a=fingerprint:sha-384 %s\r\n", wrong("sha-384"));
    ASSERT(!connect_with(block, true, NULL));
}

static void test_only_unknown_hashes_is_an_error(void)
{
    snprintf(g_block, sizeof g_block, "a=fingerprint:sha-3-256 01:02\r\na=fingerprint:md5 00:11\r\n");
    g_session_level = false;
    peer a, b;
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    ASSERT(rtc_pc_create_data_channel(a.pc, &init, now) >= 0);
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    static char big[16384];
    snprintf(big, sizeof big, "%s", offer);
    free(offer);
    munge_fingerprints(big);
    ASSERT_EQ(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, big, now), RTC_EACCESS);
    ASSERT(strstr(rtc_pc_last_error(b.pc), "InvalidAccessError: no a=fingerprint with a supported hash") != NULL);
    ASSERT_EQ(rtc_pc_signaling_state_get(b.pc), RTC_SIG_STABLE);
    rtc_pc_free(a.pc);
    rtc_pc_free(b.pc);
}

/* Once connected, b is offered a description whose fingerprint names another
 * certificate: refused, state and stats unchanged, the connection carries on. The
 * same certificate under another hash is no change. */
static void test_changed_fingerprint_after_connect_is_refused(void)
{
    peer a, b;
    vnet *n = vnet_new(6);
    vnet_set_link(n, (vnet_link){ .delay = RTC_MS(5) });
    peer_init(&a, "10.0.0.1:1000", cert_a);
    peer_init(&b, "10.0.0.2:2000", cert_b);
    rtc_dc_init init = { .label = "x", .max_retransmits = -1, .max_packet_life_time = -1 };
    int dc = rtc_pc_create_data_channel(a.pc, &init, now);
    ASSERT(dc >= 0);
    connect_peers(&a, &b, n);
    step(&a, &b, n, now + RTC_SEC(1));
    rtc_pc_stats before;
    rtc_pc_get_stats(b.pc, &before);
    ASSERT_STREQ(before.remote_fingerprint, fp_of(cert_a, "sha-256"));

    /* The offer as a would send it, with another certificate's fingerprint. */
    char *offer;
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    static char big[16384];
    snprintf(big, sizeof big, "%s", offer);
    free(offer);
    snprintf(g_block, sizeof g_block, "a=fingerprint:sha-256 %s\r\n", fp_of(cert_b, "sha-256"));
    g_session_level = false;
    munge_fingerprints(big);
    ASSERT_EQ(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, big, now), RTC_EMODIFIED);
    ASSERT(strncmp(rtc_pc_last_error(b.pc), "InvalidModificationError: ", 26) == 0);
    ASSERT_EQ(rtc_pc_signaling_state_get(b.pc), RTC_SIG_STABLE);
    rtc_pc_stats after;
    rtc_pc_get_stats(b.pc, &after);
    ASSERT_STREQ(after.remote_fingerprint, before.remote_fingerprint);
    /* At session level the same. */
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    snprintf(big, sizeof big, "%s", offer);
    free(offer);
    g_session_level = true;
    munge_fingerprints(big);
    ASSERT_EQ(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, big, now), RTC_EMODIFIED);

    /* The same certificate under sha-384 (and an unknown hash) is accepted. */
    ASSERT_OK(rtc_pc_create_offer(a.pc, false, &offer, now));
    ASSERT_OK(rtc_pc_set_local_description(a.pc, RTC_SDP_OFFER, offer, now));
    snprintf(big, sizeof big, "%s", offer);
    free(offer);
    snprintf(g_block, sizeof g_block, "a=fingerprint:sha-3-256 01:02\r\na=fingerprint:sha-384 %s\r\n", fp_of(cert_a, "sha-384"));
    g_session_level = false;
    munge_fingerprints(big);
    ASSERT_OK(rtc_pc_set_remote_description(b.pc, RTC_SDP_OFFER, big, now));
    char *answer;
    ASSERT_OK(rtc_pc_create_answer(b.pc, &answer, now));
    ASSERT_OK(rtc_pc_set_local_description(b.pc, RTC_SDP_ANSWER, answer, now));
    ASSERT_OK(rtc_pc_set_remote_description(a.pc, RTC_SDP_ANSWER, answer, now));
    free(answer);
    step(&a, &b, n, now + RTC_MS(500));
    ASSERT(connected(&a) && connected(&b));
    ASSERT_OK(rtc_pc_dc_send(a.pc, dc, "still", 5, false, now));
    step(&a, &b, n, now + RTC_MS(500));
    ASSERT_EQ(b.nmsgs, 1);
    ASSERT_STREQ(b.msgs[0], "still");

    close_peers(&a, &b, n);
}

int main(void)
{
    harness_begin(0xf1f1);
    RUN(test_strongest_supported_hash_decides);
    RUN(test_any_value_of_the_hash_may_match);
    RUN(test_session_level_fingerprints);
    RUN(test_only_unknown_hashes_is_an_error);
    RUN(test_changed_fingerprint_after_connect_is_refused);
    harness_end();
    return 0;
}
