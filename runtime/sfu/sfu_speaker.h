/* Active speaker detection for a group of audio producers (a room): the RFC 6464
 * audio level of each packet, measured over a sliding window, picks one dominant
 * speaker with hysteresis, and the levels of those speaking are reported at a fixed
 * interval.
 *
 * A speaker observer lives in a router (rtc_sfu_router_add_speaker) and is part of
 * that sans-IO machine: levels come from the router's handle_rtp, the decisions are
 * taken in its handle_timeout, and its events come out of rtc_sfu_router_poll_event
 * (RTC_SFU_EV_ACTIVE_SPEAKER: ev.producer is the new dominant speaker;
 * RTC_SFU_EV_AUDIO_LEVELS: read them with rtc_sfu_speaker_levels), ev.speaker and
 * ev.user (this config's user) saying which observer. Drain as the router says.
 *
 * How the dominant speaker is picked: each producer's activity is kept in buckets of
 * window/SFU_SPEAKER_BUCKETS; a packet's activity is how far its level is above
 * silence (silence_level - level, 0 when quieter), a bucket's the mean over its
 * packets, a producer's score the mean over the buckets of the window (a bucket with
 * no packet, as in DTX, counts 0, so the score does not depend on packet duration).
 * At each interval the producer with the highest score leads; a leader other than
 * the dominant speaker takes over once it has led for `hold` with a score at least
 * (100 + margin_pct)% of the dominant's, so a cough or a short overlap does not move
 * the speaker. With no dominant speaker yet (or after it was removed), the first one
 * above min_score takes over at once. Silence keeps the last dominant speaker. */
#ifndef RTC_SFU_SPEAKER_H
#define RTC_SFU_SPEAKER_H
#include "sfu/sfu_router.h"

#define SFU_SPEAKER_BUCKETS 20

typedef struct rtc_sfu_speaker rtc_sfu_speaker;

typedef struct rtc_sfu_speaker_config {
    rtc_time interval;           /* decisions and level reports; 0 = 300 ms (at least 20 ms) */
    rtc_time window;             /* activity measured over; 0 = 1 s (at least interval) */
    rtc_time hold;               /* a challenger leads this long before it takes over; 0 = 500 ms */
    uint8_t silence_level;       /* RFC 6464 levels (-dBov) at or above this are silence; 0 = 70 */
    uint8_t min_score;           /* score needed to become dominant; 0 = 5 */
    uint8_t margin_pct;          /* a challenger's lead over the dominant speaker; 0 = 20 */
    void *user;                  /* the caller's; in the observer's events */
} rtc_sfu_speaker_config;

/* One producer's level over the last interval, as reported by AUDIO_LEVELS. */
typedef struct rtc_sfu_level {
    rtc_sfu_producer *producer;
    void *user;                  /* the producer's config.user */
    uint8_t level;               /* mean RFC 6464 level (-dBov, 0 loudest .. 127 silence) */
    bool voice;                  /* a packet of the interval had the V flag set */
} rtc_sfu_level;

/* cfg copied. RTC_EINVAL for out-of-range values. */
int rtc_sfu_router_add_speaker(rtc_sfu_router *r, const rtc_sfu_speaker_config *cfg,
                               rtc_sfu_speaker **out, rtc_time now);
/* Its producers stay in the router, unobserved; its queued events are dropped. NULL-safe. */
void rtc_sfu_router_remove_speaker(rtc_sfu_router *r, rtc_sfu_speaker *s);
/* Observe audio producer p (RTC_EINVAL for video; RTC_ENOMEM). A producer is in at
 * most one observer: adding it to another moves it. Removing the producer from the
 * router takes it out. */
int rtc_sfu_speaker_add_producer(rtc_sfu_speaker *s, rtc_sfu_producer *p);
void rtc_sfu_speaker_remove_producer(rtc_sfu_speaker *s, rtc_sfu_producer *p);
/* The dominant speaker, or NULL. */
rtc_sfu_producer *rtc_sfu_speaker_dominant(const rtc_sfu_speaker *s);
/* The report of the last interval: those speaking (mean level below silence_level),
 * loudest first, at most max into out (borrowed). Returns how many. */
int rtc_sfu_speaker_levels(const rtc_sfu_speaker *s, rtc_sfu_level *out, int max);
/* The producer's current score (0..silence_level), -1 when s does not observe it. */
int rtc_sfu_speaker_score(const rtc_sfu_speaker *s, const rtc_sfu_producer *p, rtc_time now);

/* The producer's config.user (for the events' producers). */
void *rtc_sfu_producer_user(const rtc_sfu_producer *p);

/* Internal to the router (sfu_router.c, sfu_producer.c). */
void sfu__speaker_on_level(rtc_sfu_producer *p, uint8_t raw, rtc_time now);   /* raw: V bit | level */
void sfu__speaker_forget(rtc_sfu_producer *p);      /* p is being removed from the router */
void sfu__speaker_timeout(rtc_sfu_speaker *s, rtc_time now);
rtc_time sfu__speaker_next(const rtc_sfu_speaker *s);
void sfu__speaker_free(rtc_sfu_speaker *s);
rtc_sfu_speaker *sfu__speaker_next_in_router(const rtc_sfu_speaker *s);

#endif
