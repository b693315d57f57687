/* Interop with OpenSSL's command-line DTLS peer over real UDP on 127.0.0.1: our
 * transport as client against `openssl s_server`, then as server against
 * `openssl s_client`. The tool prints the SRTP profile it negotiated and the exported
 * keying material; both must equal ours. The real clock drives this test (a real peer
 * has its own timers); nothing is asserted about timing. */
#include "test_dtls_pair.h"
#include "test_child.h"
#include "core/rtc_time.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char dir[64];

static int udp_socket(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ASSERT(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    ASSERT_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* The two certificates of one round: the tool's, written to dir/<who>.pem and
 * dir/<who>.key for it to load, and ours. Each holds one ref. */
typedef struct identities {
    rtc_dtls_cert *tool, *mine;
    char cert_path[128], key_path[128];
} identities;

static void identities_make(identities *id, const char *who, rtc_dtls_key_type mine_key)
{
    rtc_rng rng;
    rtc_rng_init_crypto(&rng);
    snprintf(id->cert_path, sizeof id->cert_path, "%s/%s.pem", dir, who);
    snprintf(id->key_path, sizeof id->key_path, "%s/%s.key", dir, who);
    id->tool = id->mine = NULL;
    ASSERT_EQ(rtc_dtls_cert_generate(&id->tool, RTC_DTLS_KEY_ECDSA_P256, &rng, (int64_t)time(NULL)), 0);
    char *cp, *kp;
    ASSERT_EQ(rtc_dtls_cert_to_pem(id->tool, &cp, &kp), 0);
    test_write_file(id->cert_path, cp);
    test_write_file(id->key_path, kp);
    free(cp);
    free(kp);
    ASSERT_EQ(rtc_dtls_cert_generate(&id->mine, mine_key, &rng, (int64_t)time(NULL)), 0);
}

typedef struct session {
    rtc_dtls_transport *t;
    int fd;
    struct sockaddr_in peer;
    bool have_peer;
    int connected, closed, failed;
    rtc_srtp_keying keying;
    char got[4096];
    size_t got_len;
    /* Loss injected by our side: datagrams holding a ChangeCipherSpec record (the last
     * flight of either side) to drop, going out and coming in, and what went out. */
    int lose_out_ccs, lose_in_ccs;
    uint8_t ccs_out[4][2048];
    size_t ccs_out_len[4];
    int nccs_out;
} session;

static bool holds_ccs(const uint8_t *p, size_t len)
{
    for (size_t off = 0; off + 13 <= len; off += 13 + ((size_t)p[off + 11] << 8 | p[off + 12]))
        if (p[off] == 20) return true;
    return false;
}

/* The 48-bit record sequence number of the first record. */
static uint64_t first_record_seq(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 5; i < 11; i++) v = v << 8 | p[i];
    return v;
}

static void flush(session *s)
{
    rtc_buf *b;
    while (rtc_dtls_transport_poll_transmit(s->t, &b)) {
        bool lose = false;
        if (holds_ccs(b->data, b->len)) {
            if (s->nccs_out < 4 && b->len <= sizeof s->ccs_out[0]) {
                memcpy(s->ccs_out[s->nccs_out], b->data, b->len);
                s->ccs_out_len[s->nccs_out++] = b->len;
            }
            if (s->lose_out_ccs > 0) { s->lose_out_ccs--; lose = true; }
        }
        if (s->have_peer && !lose) sendto(s->fd, b->data, b->len, 0, (struct sockaddr *)&s->peer, sizeof s->peer);
        rtc_buf_unref(b);
    }
    rtc_dtls_event ev;
    while (rtc_dtls_transport_poll_event(s->t, &ev)) {
        if (ev.type == RTC_DTLS_EV_CONNECTED) { s->connected++; s->keying = ev.keying; }
        if (ev.type == RTC_DTLS_EV_CLOSED) s->closed++;
        if (ev.type == RTC_DTLS_EV_FAILED) { s->failed++; fprintf(stderr, "   failed: %s\n", ev.reason); }
        if (ev.type == RTC_DTLS_EV_DATA) {
            size_t n = ev.data->len < sizeof s->got - 1 - s->got_len ? ev.data->len : sizeof s->got - 1 - s->got_len;
            memcpy(s->got + s->got_len, ev.data->data, n);
            s->got_len += n;
            s->got[s->got_len] = 0;
            rtc_buf_unref(ev.data);
        }
    }
}

typedef bool (*until_fn)(session *s, test_cli *c);

/* Pump socket, timers and the tool's output until `until` holds or 10 s pass. */
static bool pump(session *s, test_cli *c, until_fn until)
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(10);
    uint8_t buf[2048];
    for (;;) {
        flush(s);
        test_cli_read(c);
        if (until(s, c)) return true;
        rtc_time now = rtc_clock_now();
        if (now > deadline) return false;
        rtc_time to = rtc_dtls_transport_poll_timeout(s->t);
        int ms = to == RTC_TIME_NEVER ? 50 : (int)((to - now) / 1000);
        if (ms > 50) ms = 50;
        if (ms < 0) ms = 0;
        struct pollfd pf[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = c->out_fd, .events = POLLIN } };
        poll(pf, 2, ms);
        now = rtc_clock_now();
        for (;;) {
            struct sockaddr_in from;
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(s->fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
            if (n < 0) break;
            if (!s->have_peer) { s->peer = from; s->have_peer = true; }
            if (s->lose_in_ccs > 0 && holds_ccs(buf, (size_t)n)) { s->lose_in_ccs--; continue; }
            rtc_dtls_transport_handle_datagram(s->t, buf, (size_t)n, now);
            flush(s);
        }
        if (rtc_dtls_transport_poll_timeout(s->t) <= now) rtc_dtls_transport_handle_timeout(s->t, now);
    }
}

static bool tool_listening(session *s, test_cli *c) { (void)s; return strstr(c->out, "ACCEPT") != NULL; }
static bool tool_has_keys(session *s, test_cli *c)
{
    return s->connected && strstr(c->out, "Keying material: ") && strstr(c->out, "SRTP Extension negotiated");
}
static bool got_ping(session *s, test_cli *c) { (void)c; return strstr(s->got, "ping from openssl") != NULL; }
static bool tool_got_hello(session *s, test_cli *c) { (void)s; return strstr(c->out, "hello from luartc") != NULL; }
static bool closed_or_gone(session *s, test_cli *c) { (void)c; return s->closed > 0; }

/* The tool's "Keying material: HEX" must begin with ours (a longer TLS 1.2 PRF
 * output extends a shorter one), and its profile name must be ours. */
static void check_tool_output(const test_cli *c, const rtc_srtp_keying *k)
{
    const char *p = strstr(c->out, "SRTP Extension negotiated, profile=");
    ASSERT(p != NULL);
    p += strlen("SRTP Extension negotiated, profile=");
    const char *name = rtc_srtp_profile_name(k->profile);
    ASSERT(name != NULL);
    ASSERT(strncmp(p, name, strlen(name)) == 0 && (p[strlen(name)] == '\n' || p[strlen(name)] == '\r'));

    const char *h = strstr(c->out, "Keying material: ");
    ASSERT(h != NULL);
    h += strlen("Keying material: ");
    uint8_t ours[2 * (RTC_SRTP_MAX_KEY + RTC_SRTP_MAX_SALT)];
    size_t n = 0;
    memcpy(ours + n, k->client_key, k->key_len); n += k->key_len;
    memcpy(ours + n, k->server_key, k->key_len); n += k->key_len;
    memcpy(ours + n, k->client_salt, k->salt_len); n += k->salt_len;
    memcpy(ours + n, k->server_salt, k->salt_len); n += k->salt_len;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ASSERT(sscanf(h + 2 * i, "%2X", &v) == 1);
        ASSERT_EQ(v, ours[i]);
    }
    fprintf(stderr, "   %s, %zu bytes of keying material match\n", name, n);
}

/* Our transport for s in `role`, expecting the tool's certificate, started. */
static void start_ours(session *s, rtc_dtls_role role, const identities *id)
{
    rtc_dtls_config cfg = { .role = role, .cert = id->mine };
    ASSERT_EQ(rtc_dtls_transport_new(&s->t, &cfg, rtc_clock_now()), 0);
    ASSERT_EQ(rtc_dtls_transport_set_remote_fingerprint(s->t, "sha-256", rtc_dtls_cert_fingerprint(id->tool),
                                                        rtc_clock_now()), 0);
    ASSERT_EQ(rtc_dtls_transport_start(s->t, rtc_clock_now()), 0);
}

/* `openssl s_server` on a free port of 127.0.0.1, offering `profiles` and exporting
 * `export_len` bytes of keying material, and our client socket aimed at it; returns
 * once it listens. Our transport is the caller's to start. */
static void spawn_s_server(test_cli *c, session *s, const identities *id, const char *profiles, const char *export_len)
{
    uint16_t port, my_port;
    int probe = udp_socket(&port);    /* a free port for the tool */
    close(probe);
    char port_s[32];
    snprintf(port_s, sizeof port_s, "127.0.0.1:%u", port);
    char *argv[] = { "openssl", "s_server", "-dtls1_2", "-use_srtp", (char *)profiles,
                     "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", (char *)export_len,
                     "-cert", (char *)id->cert_path, "-key", (char *)id->key_path, "-accept", port_s,
                     "-verify", "1", "-mtu", "1200", NULL };
    test_child_spawn(c, argv);
    s->fd = udp_socket(&my_port);
    s->peer = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port),
                                    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    s->have_peer = true;
    ASSERT(pump(s, c, tool_listening));
}

/* Our server transport on a fresh socket of 127.0.0.1, started, and `openssl
 * s_client` connecting to it, offering `profile` and exporting `export_len` bytes. */
static void spawn_s_client(test_cli *c, session *s, const identities *id, const char *profile, const char *export_len)
{
    uint16_t port;
    s->fd = udp_socket(&port);
    start_ours(s, RTC_DTLS_SERVER, id);
    char port_s[32];
    snprintf(port_s, sizeof port_s, "127.0.0.1:%u", port);
    char *argv[] = { "openssl", "s_client", "-dtls1_2", "-use_srtp", (char *)profile,
                     "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", (char *)export_len,
                     "-cert", (char *)id->cert_path, "-key", (char *)id->key_path, "-connect", port_s,
                     "-mtu", "1200", NULL };
    test_child_spawn(c, argv);
}

/* Pumps until both ends have the keys (printing what the tool said if not); our
 * transport must have connected once and agree with the tool's output. */
static void handshake(session *s, test_cli *c)
{
    if (!pump(s, c, tool_has_keys)) fprintf(stderr, "openssl said:\n%s\n", c->out);
    ASSERT_EQ(s->connected, 1);
    check_tool_output(c, &s->keying);
}

static void finish(session *s, test_cli *c, identities *id)
{
    test_cli_close(c);
    rtc_dtls_transport_free(s->t);
    close(s->fd);
    rtc_dtls_cert_unref(id->tool);
    rtc_dtls_cert_unref(id->mine);
}

static void test_client_against_s_server(void)
{
    identities id;
    identities_make(&id, "server", RTC_DTLS_KEY_ECDSA_P256);
    test_cli c;
    session s = {0};
    spawn_s_server(&c, &s, &id, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80", "60");
    start_ours(&s, RTC_DTLS_CLIENT, &id);
    handshake(&s, &c);
    ASSERT_EQ(s.keying.profile, RTC_SRTP_AEAD_AES_128_GCM);

    /* Application data both ways: the tool prints what it receives and sends what it
     * reads on stdin. */
    ASSERT_EQ(rtc_dtls_transport_send(s.t, "hello from luartc\n", 18, rtc_clock_now()), 0);
    ASSERT(pump(&s, &c, tool_got_hello));
    ASSERT(write(c.in_fd, "ping from openssl\n", 18) == 18);
    ASSERT(pump(&s, &c, got_ping));

    ASSERT_EQ(rtc_dtls_transport_close(s.t, rtc_clock_now()), 0);
    flush(&s);
    ASSERT_EQ(s.closed, 1);
    finish(&s, &c, &id);
}

static void test_server_against_s_client(void)
{
    const char *profiles[] = { "SRTP_AES128_CM_SHA1_80", "SRTP_AEAD_AES_256_GCM" };
    for (int round = 0; round < 2; round++) {
        identities id;
        identities_make(&id, "client", round ? RTC_DTLS_KEY_RSA_2048 : RTC_DTLS_KEY_ECDSA_P256);
        test_cli c;
        session s = {0};
        /* 88 bytes: enough for AEAD_AES_256_GCM (2 x 32-byte keys + 2 x 12-byte salts). */
        spawn_s_client(&c, &s, &id, profiles[round], "88");
        handshake(&s, &c);
        ASSERT_STREQ(rtc_srtp_profile_name(s.keying.profile), profiles[round]);

        ASSERT(write(c.in_fd, "ping from openssl\n", 18) == 18);
        ASSERT(pump(&s, &c, got_ping));
        ASSERT_EQ(rtc_dtls_transport_send(s.t, "hello from luartc\n", 18, rtc_clock_now()), 0);
        ASSERT(pump(&s, &c, tool_got_hello));
        /* "Q" on s_client's stdin makes it send close_notify and exit. */
        ASSERT(write(c.in_fd, "Q\n", 2) == 2);
        ASSERT(pump(&s, &c, closed_or_gone));
        ASSERT_EQ(rtc_dtls_transport_state(s.t), RTC_DTLS_CLOSED);
        finish(&s, &c, &id);
    }
}

/* Loss on a real clock, against a real peer. Our flight 5 is lost once and the
 * server's final flight once: our timer must make OpenSSL retransmit (fresh record
 * sequence numbers, which is what lets s_server see a repeated Finished and resend its
 * final flight: a byte-for-byte copy would be dropped there as a replay). This is the
 * path production takes, through DTLS_set_timer_cb and DTLSv1_handle_timeout alone. */
static void test_client_against_s_server_with_loss(void)
{
    identities id;
    identities_make(&id, "server", RTC_DTLS_KEY_ECDSA_P256);
    test_cli c;
    session s = { .lose_out_ccs = 1, .lose_in_ccs = 1 };
    spawn_s_server(&c, &s, &id, "SRTP_AEAD_AES_128_GCM", "56");
    start_ours(&s, RTC_DTLS_CLIENT, &id);
    handshake(&s, &c);
    ASSERT_EQ(s.lose_out_ccs + s.lose_in_ccs, 0);
    rtc_dtls_stats st;
    rtc_dtls_transport_get_stats(s.t, &st);
    ASSERT_GE(st.retransmits, 2);
    /* Flight 5 went out three times (lost; answered but the answer lost; answered),
     * each time with new record numbers: OpenSSL made each resend. */
    ASSERT_EQ(s.nccs_out, 3);
    ASSERT(first_record_seq(s.ccs_out[1]) > first_record_seq(s.ccs_out[0]));
    ASSERT(first_record_seq(s.ccs_out[2]) > first_record_seq(s.ccs_out[1]));
    fprintf(stderr, "   %llu resends; flight 5 records from %llu, %llu, %llu\n", (unsigned long long)st.retransmits,
            (unsigned long long)first_record_seq(s.ccs_out[0]), (unsigned long long)first_record_seq(s.ccs_out[1]),
            (unsigned long long)first_record_seq(s.ccs_out[2]));

    ASSERT_EQ(rtc_dtls_transport_send(s.t, "hello from luartc\n", 18, rtc_clock_now()), 0);
    ASSERT(pump(&s, &c, tool_got_hello));
    finish(&s, &c, &id);
}

/* Our server's final flight is lost once: s_client's timer resends its flight 5, and
 * our server must answer it although its own handshake is done. */
static void test_server_against_s_client_with_loss(void)
{
    identities id;
    identities_make(&id, "client", RTC_DTLS_KEY_ECDSA_P256);
    test_cli c;
    session s = { .lose_out_ccs = 1 };
    spawn_s_client(&c, &s, &id, "SRTP_AEAD_AES_128_GCM", "56");
    handshake(&s, &c);
    ASSERT_EQ(s.lose_out_ccs, 0);
    ASSERT_GE(s.nccs_out, 2);          /* the final flight went out again */
    ASSERT(write(c.in_fd, "ping from openssl\n", 18) == 18);
    ASSERT(pump(&s, &c, got_ping));
    finish(&s, &c, &id);
}

int main(void)
{
    if (system("openssl version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "openssl command-line tool not found\n");
        return 1;
    }
    test_child_guard();
    test_tmpdir_make(dir, sizeof dir, "luartc-dtls");
    RUN(test_client_against_s_server);
    RUN(test_server_against_s_client);
    RUN(test_client_against_s_server_with_loss);
    RUN(test_server_against_s_client_with_loss);
    test_tmpdir_remove(dir);
    return 0;
}
