/* The TURN server's static users are found by a hash (turn_server_users.c), not a scan:
 * with 10,000 users added (the table grows several times on the way), every user
 * authenticates with its own password and only with it, names that differ by a
 * character or a prefix are told apart, adding a user again replaces its password,
 * and an unknown name is refused; no lookup walks more than a few names (the longest
 * chain). bench/turn_auth.c measures it. */
#include "test_turn_server_harness.h"
#include "turn/turn_server_internal.h"

#define N_USERS 10000
#define N_ALLOC 1500           /* allocations tried (the harness holds 2048 relays) */

static char names[N_USERS][2][24];

static void client(rawc *c, T *t, int i, const char *user, const char *pass)
{
    char ip[32];
    snprintf(ip, sizeof ip, "198.%d.%d.%d", 18 + i / 60000, (i / 250) % 240, 1 + i % 250);
    rawc_init(c, t, ip, (uint16_t)(4000 + i % 1000), user, pass);
}

static void test_many_users_authenticate(void)
{
    rtc_turn_server_config cfg = { .max_allocations = 4000, .min_port = 20000, .max_port = 30000 };
    T *t = t_new(&cfg);                                /* alice and bob are there too */
    for (int u = 0; u < N_USERS; u++) {
        snprintf(names[u][0], sizeof names[u][0], "user%d", u);   /* user1, user10, user100 ... */
        snprintf(names[u][1], sizeof names[u][1], "pw-%d-%x", u, u * 2654435761u);
        ASSERT_EQ(rtc_turn_server_add_user(t->s, rtc_str_c(names[u][0]), rtc_str_c(names[u][1])), 0);
    }
    /* a lookup compares a handful of names, not thousands */
    ASSERT(t->s->nusers == N_USERS + 2);
    ASSERT(t->s->users_mask + 1 >= N_USERS);
    ASSERT(tsv__users_longest_chain(t->s) <= 12);
    rawc *c = calloc(4 * N_ALLOC + 8, sizeof *c);
    int k = 0, ok = 0;
    /* users spread over the whole list, first and last included */
    for (int n = 0; n < N_ALLOC; n++) {
        int u = n == N_ALLOC - 1 ? N_USERS - 1 : (int)((long)n * N_USERS / N_ALLOC);
        client(&c[k], t, k, names[u][0], names[u][1]);
        ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
        ok++;
        /* another user's password, and the neighbour name with this password: refused */
        int v = (u + 1) % N_USERS;
        client(&c[k], t, k, names[u][0], names[v][1]);
        ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 401);
        client(&c[k], t, k, names[v][0], names[u][1]);
        ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    }
    ASSERT_EQ(open_relays(t), ok);
    /* a prefix of a name, a name with one more character, and no such user */
    const char *unknown[] = { "user", "user99999", "user10000", "User1", "user1 " };
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        client(&c[k], t, k, unknown[i], names[1][1]);
        ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    }
    /* adding again replaces the password: the old one no longer works */
    ASSERT_EQ(rtc_turn_server_add_user(t->s, RTC_STR("user4242"), RTC_STR("new")), 0);
    client(&c[k], t, k, "user4242", names[4242][1]);
    ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 401);
    client(&c[k], t, k, "user4242", "new");
    ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    /* the users the harness added before the others still work */
    client(&c[k], t, k, "alice", "wonderland");
    ASSERT_EQ(request(&c[k++], RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    ASSERT_EQ(open_relays(t), ok + 2);
    rtc_turn_server_stats st;
    rtc_turn_server_get_stats(t->s, &st);
    ASSERT_EQ(st.allocations, (uint64_t)ok + 2);
    free(c);
    t_free(t);
}

/* Bad names never reach the table: empty and over-long ones are refused. */
static void test_add_user_bad_names(void)
{
    rtc_turn_server_config cfg = { 0 };
    T *t = t_new(&cfg);
    ASSERT_EQ(rtc_turn_server_add_user(t->s, RTC_STR(""), RTC_STR("p")), RTC_EINVAL);
    char longname[RTC_TURN_SRV_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    ASSERT_EQ(rtc_turn_server_add_user(t->s, rtc_str_c(longname), RTC_STR("p")), RTC_EINVAL);
    longname[RTC_TURN_SRV_NAME_MAX] = 0;                 /* the longest allowed */
    ASSERT_EQ(rtc_turn_server_add_user(t->s, rtc_str_c(longname), RTC_STR("p")), 0);
    rawc c;
    client(&c, t, 1, longname, "p");
    ASSERT_EQ(request(&c, RTC_STUN_ALLOCATE, a_udp, NULL), 0);
    t_free(t);
}

int main(void)
{
    RUN(test_many_users_authenticate);
    RUN(test_add_user_bad_names);
    return 0;
}
