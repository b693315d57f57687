/* Pooled, reference-counted packet buffers. One decrypted packet can be handed to many
 * consumers (SFU fan-out, NACK history) by taking refs instead of copying.
 * Single-threaded: a pool and its buffers belong to one loop. */
#ifndef RTC_BUF_H
#define RTC_BUF_H
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_pool rtc_pool;

typedef struct rtc_buf {
    uint8_t *data;        /* start of payload; may be moved forward by rtc_buf_pull */
    size_t len;           /* bytes of payload */
    size_t cap;           /* bytes available from data to end of storage */
    uint32_t refs;
    rtc_pool *pool;       /* NULL for a buffer made by rtc_buf_new_heap */
    struct rtc_buf *next; /* free list / caller queues; owned by whoever holds the buf */
    uint8_t storage[];
} rtc_buf;

#define RTC_BUF_HEADROOM 64   /* room in front for headers added later (TURN, SRTP, RTX) */
#define RTC_POOL_BUFSIZE 2048 /* fits any datagram we send or receive on UDP */

/* A pool of RTC_POOL_BUFSIZE buffers keeping at most `max_free` spare ones. */
rtc_pool *rtc_pool_new(size_t max_free);
void rtc_pool_free(rtc_pool *p);          /* NULL-safe; buffers still out are freed on their last unref */

/* A buffer with len 0 and data at RTC_BUF_HEADROOM; refs = 1. `size` larger than the
 * pool's size gives a heap buffer of that size. Returns NULL on out of memory. */
rtc_buf *rtc_buf_alloc(rtc_pool *p, size_t size);
/* A heap buffer (no pool) holding a copy of `data`. */
rtc_buf *rtc_buf_from(const void *data, size_t len);
rtc_buf *rtc_buf_ref(rtc_buf *b);         /* takes one more ref; returns b */
void rtc_buf_unref(rtc_buf *b);           /* NULL-safe; returns to its pool at 0 */

/* Make room for `n` bytes in front of data (uses headroom). Returns 0 or RTC_EOVERFLOW. */
int rtc_buf_push_front(rtc_buf *b, size_t n);

typedef struct rtc_pool_stats { size_t allocated, in_use, free; } rtc_pool_stats;
void rtc_pool_get_stats(const rtc_pool *p, rtc_pool_stats *out);

/* A FIFO of bufs linked through `next` (a machine's transmit queue). */
typedef struct rtc_bufq { rtc_buf *head, *tail; size_t count, bytes; } rtc_bufq;
static inline void rtc_bufq_push(rtc_bufq *q, rtc_buf *b)
{
    b->next = NULL;
    if (q->tail) q->tail->next = b; else q->head = b;
    q->tail = b; q->count++; q->bytes += b->len;
}
static inline rtc_buf *rtc_bufq_pop(rtc_bufq *q)
{
    rtc_buf *b = q->head;
    if (!b) return NULL;
    q->head = b->next;
    if (!q->head) q->tail = NULL;
    q->count--; q->bytes -= b->len; b->next = NULL;
    return b;
}
static inline void rtc_bufq_clear(rtc_bufq *q)
{
    rtc_buf *b;
    while ((b = rtc_bufq_pop(q))) rtc_buf_unref(b);
}

#endif
