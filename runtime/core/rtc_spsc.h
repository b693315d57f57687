/* A single-producer single-consumer ring of fixed-size byte slots between two threads,
 * without a lock: one thread only pushes, the other only pops (io/rtc_media_pipe.h
 * carries RTP and RTCP between two workers' SFU routers on it).
 *
 * Why it needs no lock: `tail` is written only by the pushing thread and `head` only by
 * the popping one. The pusher fills a slot, then publishes it with a release store of
 * `tail`; the popper's acquire load of `tail` makes the slot's bytes visible before it
 * reads them. Symmetrically, the popper releases a slot with a release store of `head`
 * after it is done reading, so the pusher never overwrites bytes still being read. The
 * two indexes sit on their own cache lines so the threads do not false-share them.
 *
 * Indexes count up forever (size_t wraps; `cap` is a power of two, so tail - head is
 * still the fill level). A full ring refuses the push: the caller drops or retries. */
#ifndef RTC_SPSC_H
#define RTC_SPSC_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct rtc_spsc {
    _Alignas(64) atomic_size_t head;   /* next slot to pop; written by the popper only */
    _Alignas(64) atomic_size_t tail;   /* next slot to push; written by the pusher only */
    _Alignas(64) size_t cap;           /* slots, a power of two; constant after init */
    size_t slot_size;                  /* payload bytes a slot holds */
    uint8_t *slots;                    /* cap * (sizeof(uint32_t) + slot_size) bytes */
} rtc_spsc;

/* cap rounded up to a power of two (at least 2). False without memory. */
static inline bool rtc_spsc_init(rtc_spsc *q, size_t cap, size_t slot_size)
{
    size_t c = 2;
    while (c < cap) c <<= 1;
    q->slots = malloc(c * (sizeof(uint32_t) + slot_size));
    if (!q->slots) return false;
    q->cap = c;
    q->slot_size = slot_size;
    atomic_init(&q->head, 0);
    atomic_init(&q->tail, 0);
    return true;
}

static inline void rtc_spsc_destroy(rtc_spsc *q)
{
    free(q->slots);
    q->slots = NULL;
}

static inline uint8_t *rtc_spsc__slot(const rtc_spsc *q, size_t i)
{
    return q->slots + (i & (q->cap - 1)) * (sizeof(uint32_t) + q->slot_size);
}

/* Pusher's thread. Copies head[0..hlen) then data[0..len) into one slot, with `tag` (a
 * byte the caller reads back). False when the ring is full or the total is larger
 * than a slot: nothing was pushed. */
static inline bool rtc_spsc_push(rtc_spsc *q, uint8_t tag, const void *head, size_t hlen, const void *data, size_t len)
{
    if (hlen + len > q->slot_size || hlen + len > 0xffffff) return false;
    size_t t = atomic_load_explicit(&q->tail, memory_order_relaxed);
    size_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    if (t - h >= q->cap) return false;
    uint8_t *s = rtc_spsc__slot(q, t);
    uint32_t word = (uint32_t)tag << 24 | (uint32_t)(hlen + len);
    memcpy(s, &word, sizeof word);
    if (hlen) memcpy(s + sizeof word, head, hlen);
    if (len) memcpy(s + sizeof word + hlen, data, len);
    atomic_store_explicit(&q->tail, t + 1, memory_order_release);
    return true;
}

/* Popper's thread. The oldest slot, borrowed until rtc_spsc_pop: *data, *len, *tag.
 * False when empty. */
static inline bool rtc_spsc_peek(rtc_spsc *q, const uint8_t **data, size_t *len, uint8_t *tag)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    size_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (h == t) return false;
    const uint8_t *s = rtc_spsc__slot(q, h);
    uint32_t word;
    memcpy(&word, s, sizeof word);
    *tag = (uint8_t)(word >> 24);
    *len = word & 0xffffff;
    *data = s + sizeof word;
    return true;
}

/* Popper's thread: releases the slot rtc_spsc_peek returned. */
static inline void rtc_spsc_pop(rtc_spsc *q)
{
    size_t h = atomic_load_explicit(&q->head, memory_order_relaxed);
    atomic_store_explicit(&q->head, h + 1, memory_order_release);
}

/* Either thread: how many slots are filled (a snapshot). */
static inline size_t rtc_spsc_count(rtc_spsc *q)
{
    return atomic_load_explicit(&q->tail, memory_order_acquire) - atomic_load_explicit(&q->head, memory_order_acquire);
}

#endif
