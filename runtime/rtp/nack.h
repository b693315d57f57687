/* Receiver-side NACK generation (RFC 4585 generic NACK).
 * Tracks received sequence numbers of one RTP stream in a power-of-two window (slot
 * = seq & (window-1); order by 16-bit unsigned subtraction, so wraparound needs no
 * special case), and asks again for each missing one with retries spaced by the
 * round-trip time, a bounded number of times and up to a maximum age. When loss is
 * beyond repair (too many missing, a jump past the window, or a packet given up on)
 * it raises a keyframe request instead.
 *
 * Sans-IO machine. Contract: after rtc_nack_generator_handle_packet() or
 * _handle_timeout(), drain _poll_nack() (sequence numbers to put in one RTCP NACK)
 * and _poll_event() until both return 0, then wake at _poll_timeout(). */
#ifndef RTC_NACK_H
#define RTC_NACK_H
#include "core/rtc_time.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_nack_config {
    size_t window;               /* sequence numbers tracked, power of two; 0 = 1024 */
    unsigned max_retries;        /* NACKs per missing packet; 0 = 10 */
    rtc_time max_age;            /* give up on a packet missing longer than this; 0 = 1 s */
    rtc_time reorder_delay;      /* wait before the first NACK (reordering); 0 = none */
    rtc_time min_interval;       /* lower bound on the spacing of retries; 0 = 10 ms */
    rtc_time default_rtt;        /* retry spacing until handle_rtt; 0 = 100 ms */
    size_t max_missing;          /* more missing than this: keyframe instead; 0 = window / 2 */
} rtc_nack_config;

typedef enum { RTC_NACK_EV_KEYFRAME_NEEDED = 1 } rtc_nack_event_type;
typedef struct rtc_nack_event {
    rtc_nack_event_type type;
    uint32_t lost;               /* packets given up on since the previous event */
} rtc_nack_event;

typedef struct rtc_nack_stats {
    uint64_t received, duplicates, too_old;
    uint64_t nacked;             /* sequence numbers put in NACKs, retries included */
    uint64_t recovered;          /* missing packets that arrived after being NACKed */
    uint64_t reordered;          /* missing packets that arrived before any NACK */
    uint64_t given_up;           /* missing packets abandoned */
    uint64_t keyframe_requests;
    uint32_t missing;            /* missing right now */
} rtc_nack_stats;

typedef struct rtc_nack_generator rtc_nack_generator;

/* cfg is copied; NULL = defaults. RTC_EINVAL when window is not a power of two in [16, 32768]. */
int rtc_nack_generator_new(rtc_nack_generator **out, const rtc_nack_config *cfg, rtc_time now);
void rtc_nack_generator_free(rtc_nack_generator *g);         /* NULL-safe */
/* A media packet (after RTX unwrapping: pass the original seq). Returns 0, 1 when it
 * fills a hole a NACK had asked for (a repair), or RTC_EIGNORED for a duplicate or a
 * packet older than the window. */
int rtc_nack_generator_handle_packet(rtc_nack_generator *g, uint16_t seq, rtc_time now);
/* Current round-trip estimate (from RTCP), used to space retries. */
void rtc_nack_generator_handle_rtt(rtc_nack_generator *g, rtc_time rtt);
void rtc_nack_generator_handle_timeout(rtc_nack_generator *g, rtc_time now);
/* Sequence numbers due for a NACK now, oldest first, up to max (caller's array).
 * Returns how many; each returned one counts as one retry. */
size_t rtc_nack_generator_poll_nack(rtc_nack_generator *g, uint16_t *seqs, size_t max);
/* 1 and *ev filled when a keyframe request is due, 0 otherwise. */
int rtc_nack_generator_poll_event(rtc_nack_generator *g, rtc_nack_event *ev);
rtc_time rtc_nack_generator_poll_timeout(const rtc_nack_generator *g);
void rtc_nack_generator_get_stats(const rtc_nack_generator *g, rtc_nack_stats *out);
/* A keyframe arrived: forget everything missing before `seq` (it no longer matters). */
void rtc_nack_generator_handle_keyframe(rtc_nack_generator *g, uint16_t seq);

#endif
