/* The server's static users (rtc_turn_server_add_user), looked up by name on every
 * authenticated request: a hash of chains keyed like the quota counters (seeded from
 * the server's secret key, so names cannot be chosen to collide), grown to keep about
 * one user per bucket. It used to be a scan over the list, O(users) per request. */
#include "turn/turn_server_internal.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

struct tsv_user {
    struct tsv_user *next;
    uint32_t hash;            /* full hash, so growing does not rehash names */
    uint8_t key[16];          /* MD5(user:realm:pass), RFC 8489 section 9.2.2 */
    size_t len;
    char name[];
};

uint32_t tsv__name_hash(const rtc_turn_server *s, rtc_str user)
{
    uint32_t h = 2166136261u ^ rtc_rd32(s->nonce_key);     /* FNV-1a, keyed */
    for (size_t i = 0; i < user.len; i++) h = (h ^ (uint8_t)user.p[i]) * 16777619u;
    h ^= h >> 15;
    return h;
}

static tsv_user **find(const rtc_turn_server *s, rtc_str user, uint32_t h)
{
    tsv_user **pp = &s->users[h & s->users_mask];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && rtc_str_eq((rtc_str){ (*pp)->name, (*pp)->len }, user)) break;
    return pp;
}

/* Doubles the buckets; on no memory the table stays as it is (longer chains). */
static void grow(rtc_turn_server *s)
{
    uint32_t n = s->users ? (s->users_mask + 1) * 2 : 16;
    tsv_user **nb = calloc(n, sizeof *nb);
    if (!nb) return;
    for (uint32_t i = 0; s->users && i <= s->users_mask; i++)
        for (tsv_user *u = s->users[i], *next; u; u = next) {
            next = u->next;
            u->next = nb[u->hash & (n - 1)];
            nb[u->hash & (n - 1)] = u;
        }
    free(s->users);
    s->users = nb;
    s->users_mask = n - 1;
}

int tsv__user_set(rtc_turn_server *s, rtc_str user, const uint8_t key[16])
{
    if (!s->users || s->nusers > s->users_mask) grow(s);
    if (!s->users) return RTC_ENOMEM;
    uint32_t h = tsv__name_hash(s, user);
    tsv_user **pp = find(s, user, h);
    if (*pp) { memcpy((*pp)->key, key, 16); return 0; }
    tsv_user *u = malloc(sizeof *u + user.len);
    if (!u) return RTC_ENOMEM;
    u->next = NULL;
    u->hash = h;
    memcpy(u->key, key, 16);
    u->len = user.len;
    memcpy(u->name, user.p, user.len);
    *pp = u;
    s->nusers++;
    return 0;
}

const uint8_t *tsv__user_key(const rtc_turn_server *s, rtc_str user)
{
    if (!s->users) return NULL;
    tsv_user *u = *find(s, user, tsv__name_hash(s, user));
    return u ? u->key : NULL;
}

uint32_t tsv__users_longest_chain(const rtc_turn_server *s)
{
    uint32_t most = 0;
    for (uint32_t i = 0; s->users && i <= s->users_mask; i++) {
        uint32_t n = 0;
        for (const tsv_user *u = s->users[i]; u; u = u->next) n++;
        if (n > most) most = n;
    }
    return most;
}

void tsv__users_free(rtc_turn_server *s)
{
    for (uint32_t i = 0; s->users && i <= s->users_mask; i++)
        for (tsv_user *u = s->users[i], *n; u; u = n) { n = u->next; free(u); }
    free(s->users);
    s->users = NULL;
    s->nusers = 0;
}
