/* Live allocations per username, so that max_per_user is checked in O(1) whatever the
 * number of allocations (it used to be a scan over every slot per Allocate). A hash of
 * counters keyed by username, seeded from the server's secret key so that usernames
 * cannot be chosen to collide; an entry exists while its user has an allocation. */
#include "turn/turn_server_internal.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

struct tsv_ucount {
    struct tsv_ucount *next;
    uint32_t count;
    size_t len;
    char name[];
};

static uint32_t user_hash(const rtc_turn_server *s, rtc_str user) { return tsv__name_hash(s, user) & s->uhash_mask; }

static tsv_ucount **find(const rtc_turn_server *s, rtc_str user)
{
    tsv_ucount **pp = &s->uhash[user_hash(s, user)];
    for (; *pp; pp = &(*pp)->next)
        if (rtc_str_eq((rtc_str){ (*pp)->name, (*pp)->len }, user)) break;
    return pp;
}

int tsv__quota_init(rtc_turn_server *s)
{
    uint32_t n = 16;
    while (n < s->nslots) n <<= 1;           /* at most one entry per allocation */
    s->uhash = calloc(n, sizeof *s->uhash);
    if (!s->uhash) return RTC_ENOMEM;
    s->uhash_mask = n - 1;
    return 0;
}

void tsv__quota_free(rtc_turn_server *s)
{
    if (!s->uhash) return;
    for (uint32_t i = 0; i <= s->uhash_mask; i++)
        for (tsv_ucount *u = s->uhash[i], *n; u; u = n) { n = u->next; free(u); }
    free(s->uhash);
    s->uhash = NULL;
}

uint32_t tsv__quota_count(const rtc_turn_server *s, rtc_str user)
{
    tsv_ucount *u = *find(s, user);
    return u ? u->count : 0;
}

int tsv__quota_add(rtc_turn_server *s, rtc_str user)
{
    tsv_ucount **pp = find(s, user);
    if (!*pp) {
        tsv_ucount *u = malloc(sizeof *u + user.len);
        if (!u) return RTC_ENOMEM;
        u->next = NULL;
        u->count = 0;
        u->len = user.len;
        memcpy(u->name, user.p, user.len);
        *pp = u;
    }
    (*pp)->count++;
    return 0;
}

void tsv__quota_del(rtc_turn_server *s, rtc_str user)
{
    tsv_ucount **pp = find(s, user);
    tsv_ucount *u = *pp;
    if (!u) return;
    if (--u->count == 0) {
        *pp = u->next;
        free(u);
    }
}
