/* TURN server limits against hostile clients: an unallocated TCP connection trickling
 * a byte a minute, many connections from one IP, peers hidden behind NAT64 and 6to4
 * prefixes, and DONT-FRAGMENT (which the relay cannot honour: 420). */
#include "test_turn_server_harness.h"

/* One byte every 59 s used to keep an unauthenticated slot for ever. */
static void test_trickling_tcp_slot_closes(void)
{
    rtc_turn_server_config cfg = { 0 };
    T *t = t_new(&cfg);
    rtc_addr c;
    rtc_addr_set(&c, "198.51.100.20", 7000);
    static const uint8_t partial[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };
    for (int i = 0; i < 3; i++) {                     /* a frame that never completes */
        feed(t, &c, RTC_PROTO_TCP_RAW, partial + i, 1);
        advance(t, RTC_SEC(59) / 3);
    }
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 1);
    advance(t, RTC_SEC(2));                           /* 61 s after the first byte */
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 1);
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 0);
    /* A connection that allocates keeps its slot. */
    rawc a;
    rawc_init(&a, t, "198.51.100.21", 7001, "alice", "wonderland");
    a.proto = RTC_PROTO_TCP_RAW;
    ASSERT_EQ(request(&a, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    advance(t, RTC_SEC(120));
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.tcp_conns, 1);
    t_free(t);
}

static void test_tcp_per_ip_limit(void)
{
    rtc_turn_server_config cfg = { .max_tcp_per_ip = 4 };
    T *t = t_new(&cfg);
    rtc_addr c, other;
    for (int i = 0; i < 5; i++) {
        rtc_addr_set(&c, "198.51.100.30", (uint16_t)(8000 + i));
        ASSERT_EQ(rtc_turn_server_handle_tcp_open(t->s, &t->srv_tcp, &c, t->now), i < 4 ? 0 : RTC_EQUOTA);
    }
    rtc_addr_set(&c, "198.51.100.30", 8100);         /* first bytes open it too: refused and closed */
    feed(t, &c, RTC_PROTO_TCP_RAW, "\x00", 1);
    ASSERT_EQ(t->ev[RTC_TURN_SRV_EV_CLOSE_CONN], 1);
    rtc_addr_set(&other, "198.51.100.31", 8000);
    ASSERT_EQ(rtc_turn_server_handle_tcp_open(t->s, &t->srv_tcp, &other, t->now), 0);
    t_free(t);

    rtc_turn_server_config dflt = { 0 };
    t = t_new(&dflt);
    for (int i = 0; i < 65; i++) {
        rtc_addr_set(&c, "198.51.100.32", (uint16_t)(9000 + i));
        ASSERT_EQ(rtc_turn_server_handle_tcp_open(t->s, &t->srv_tcp, &c, t->now), i < 64 ? 0 : RTC_EQUOTA);
    }
    t_free(t);
}

/* NAT64 and 6to4 addresses are vetted as the IPv4 address inside them. */
static void test_embedded_ipv4_peers(void)
{
    rtc_turn_server_config cfg = { 0 };
    rtc_addr_set(&cfg.relay_v6, "2001:db8::1", 0);
    T *t = t_new(&cfg);
    rawc c;
    static const struct { const char *ip; int code; } cases[] = {
        { "64:ff9b::7f00:1", 403 },                  /* 127.0.0.1 */
        { "64:ff9b::a00:1", 403 },                   /* 10.0.0.1 */
        { "64:ff9b::a9fe:a9fe", 403 },               /* 169.254.169.254 */
        { "64:ff9b:1:7f00:1::", 403 },               /* RFC 8215 local-use prefix, 127.0.0.1 */
        { "2002:7f00:1::1", 403 },                   /* 6to4 of 127.0.0.1 */
        { "2002:c0a8:101::1", 403 },                 /* 6to4 of 192.168.1.1 */
        { "64:ff9b::c633:6407", 0 },                 /* 198.51.100.7: a public-class IPv4 */
        { "2002:c633:6407::1", 0 },
        { "2001:db8:5::7", 0 },
    };
    rawc_init(&c, t, "2001:db8:1::2", 5000, "alice", "wonderland");
    int fam[2] = { AF_INET6, 0 };
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_fam, fam), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rtc_addr p;
        ASSERT_OK(rtc_addr_set(&p, cases[i].ip, 9));
        int r = request(&c, RTC_STUN_CREATE_PERMISSION, a_peer, &p);
        if (r != cases[i].code) RTC_TEST_FAIL("%s: %d, expected %d", cases[i].ip, r, cases[i].code);
    }
    t_free(t);
}

static void a_udp_df(rtc_stun_writer *w, void *ud)
{
    (void)ud;
    rtc_stun_put_transport(w, 17);
    rtc_stun_put_flag(w, RTC_STUN_ATTR_DONT_FRAGMENT);
}

/* RFC 8656 7.2: a server that cannot set DF answers DONT-FRAGMENT with 420 listing it;
 * the client retries without and gets its allocation. */
static void test_dont_fragment_420(void)
{
    rtc_turn_server_config cfg = { 0 };
    T *t = t_new(&cfg);
    rawc c;
    rawc_init(&c, t, "198.51.100.2", 5000, "alice", "wonderland");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp_df, NULL), 420);
    const rtc_stun_attr *u = rtc_stun_find(&c.m, RTC_STUN_ATTR_UNKNOWN_ATTRIBUTES);
    ASSERT(u && u->len == 2);
    ASSERT_EQ(rtc_rd16(u->val), RTC_STUN_ATTR_DONT_FRAGMENT);
    ASSERT_EQ(rtc_stun_check_integrity(&c.m, c.key, 16), 0);   /* signed like any error after auth */
    ASSERT_EQ(open_relays(t), 0);
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(open_relays(t), 1);
    t_free(t);
}

#define Q_USERS 300
#define Q_PER_USER 3

static void q_client(rawc *c, T *t, int u, int k, char names[][2][16])
{
    char ip[32];
    snprintf(ip, sizeof ip, "198.51.%d.%d", 100 + u / 200, 1 + u % 200);
    rawc_init(c, t, ip, (uint16_t)(5000 + k), names[u][0], names[u][1]);
}

static uint64_t q_allocations(T *t)
{
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    return st.allocations;
}

/* max_per_user is exact with many users and allocations (a counter per user, no scan):
 * each of 300 users gets 3 of 4 allocations; every way an allocation ends gives its
 * place back (refresh 0, a relay that cannot be bound, expiry), and no other. */
static void test_per_user_quota_many(void)
{
    rtc_turn_server_config cfg = { .max_per_user = Q_PER_USER, .max_allocations = 2000,
                                   .min_port = 20000, .max_port = 30000 };
    T *t = t_new(&cfg);
    static char names[Q_USERS + 1][2][16];
    for (int u = 0; u <= Q_USERS; u++) {
        snprintf(names[u][0], sizeof names[u][0], "user%03d", u);
        snprintf(names[u][1], sizeof names[u][1], "pass%03d", u);
        ASSERT_EQ(rtc_turn_server_add_user(t->s, rtc_str_c(names[u][0]), rtc_str_c(names[u][1])), 0);
    }
    rawc *c = calloc((Q_USERS + 1) * (Q_PER_USER + 2), sizeof *c);
#define C(u, k) (&c[(u) * (Q_PER_USER + 2) + (k)])
    for (int u = 0; u < Q_USERS; u++)
        for (int k = 0; k <= Q_PER_USER; k++) {
            q_client(C(u, k), t, u, k, names);
            ASSERT_EQ(request(C(u, k), RTC_STUN_ALLOCATE, a_udp, NULL), k < Q_PER_USER ? 0 : 486);
        }
    ASSERT_EQ(q_allocations(t), Q_USERS * Q_PER_USER);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.err_486, Q_USERS);

    /* Refresh 0 frees one place of that user only. */
    uint32_t zero = 0;
    for (int u = 0; u < Q_USERS; u += 2) ASSERT_EQ(request(C(u, 0), RTC_STUN_REFRESH, a_life, &zero), 0);
    for (int u = 0; u < Q_USERS; u++)
        ASSERT_EQ(request(C(u, Q_PER_USER), RTC_STUN_ALLOCATE, a_udp, NULL), u % 2 == 0 ? 0 : 486);
    for (int u = 0; u < Q_USERS; u += 2) ASSERT_EQ(request(C(u, 0), RTC_STUN_ALLOCATE, a_udp, NULL), 486);
    ASSERT_EQ(q_allocations(t), Q_USERS * Q_PER_USER);

    /* An Allocate whose relay cannot be bound (every try fails) takes no place. */
    int fresh = Q_USERS;
    q_client(C(fresh, 0), t, fresh, 0, names);
    t->fail_binds = 100;
    ASSERT_EQ(request(C(fresh, 0), RTC_STUN_ALLOCATE, a_udp, NULL), 508);
    t->fail_binds = 0;
    for (int k = 1; k <= Q_PER_USER + 1; k++) {
        q_client(C(fresh, k), t, fresh, k, names);
        ASSERT_EQ(request(C(fresh, k), RTC_STUN_ALLOCATE, a_udp, NULL), k <= Q_PER_USER ? 0 : 486);
    }

    /* Expiry gives every place back. */
    advance(t, RTC_SEC(3601));
    ASSERT_EQ(q_allocations(t), 0);
    for (int u = 0; u < Q_USERS; u += 37)
        for (int k = 0; k <= Q_PER_USER; k++)
            ASSERT_EQ(request(C(u, k), RTC_STUN_ALLOCATE, a_udp, NULL), k < Q_PER_USER ? 0 : 486);
#undef C
    free(c);
    t_free(t);
}

int main(void)
{
    RUN(test_trickling_tcp_slot_closes);
    RUN(test_tcp_per_ip_limit);
    RUN(test_embedded_ipv4_peers);
    RUN(test_dont_fragment_420);
    RUN(test_per_user_quota_many);
    return 0;
}
