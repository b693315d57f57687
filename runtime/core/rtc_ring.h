/* Growing a FIFO ring that starts in storage inside its owner (so the common case of a
 * few queued items costs no allocation) and moves to the heap for a burst. The owner
 * keeps (ring pointer, head, count, capacity) and the inline array; when the ring is
 * empty again it points it back at the inline array (rtc_ring_shrink). */
#ifndef RTC_RING_H
#define RTC_RING_H
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Doubles the ring of `size`-byte elements, keeping their order (head becomes 0).
 * False past `max` slots or without memory (the ring is unchanged). */
static inline bool rtc_ring_grow(void **ring, const void *inline_ring, int *head, int n, int *cap, int max, size_t size)
{
    int ncap = *cap * 2;
    if (ncap > max) return false;
    char *nv = malloc((size_t)ncap * size);
    if (!nv) return false;
    for (int i = 0; i < n; i++) memcpy(nv + (size_t)i * size, (char *)*ring + (size_t)((*head + i) % *cap) * size, size);
    if (*ring != inline_ring) free(*ring);
    *ring = nv;
    *head = 0;
    *cap = ncap;
    return true;
}

/* An empty ring goes back to its inline storage (`inline_cap` slots). */
static inline void rtc_ring_shrink(void **ring, void *inline_ring, int *head, int *cap, int inline_cap)
{
    if (*ring != inline_ring) free(*ring);
    *ring = inline_ring;
    *head = 0;
    *cap = inline_cap;
}

#endif
