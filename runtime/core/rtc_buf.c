#include "rtc_buf.h"
#include "rtc_errors.h"
#include <stdlib.h>
#include <string.h>

struct rtc_pool {
    rtc_buf *free_list;
    size_t nfree, max_free;
    size_t allocated, in_use;
    int closing;                      /* pool freed while buffers were still out */
};

rtc_pool *rtc_pool_new(size_t max_free)
{
    rtc_pool *p = calloc(1, sizeof *p);
    if (p) p->max_free = max_free;
    return p;
}

static void pool_maybe_release(rtc_pool *p)
{
    if (p->closing && p->in_use == 0) free(p);
}

void rtc_pool_free(rtc_pool *p)
{
    if (!p) return;
    while (p->free_list) {
        rtc_buf *b = p->free_list;
        p->free_list = b->next;
        free(b);
        p->allocated--;
    }
    p->nfree = 0;
    p->closing = 1;
    pool_maybe_release(p);
}

static rtc_buf *buf_init(rtc_buf *b, size_t cap, rtc_pool *p)
{
    b->data = b->storage + RTC_BUF_HEADROOM;
    b->len = 0;
    b->cap = cap;
    b->refs = 1;
    b->pool = p;
    b->next = NULL;
    return b;
}

rtc_buf *rtc_buf_alloc(rtc_pool *p, size_t size)
{
    rtc_buf *b;
    if (p && size <= RTC_POOL_BUFSIZE && !p->closing) {
        if (p->free_list) {
            b = p->free_list;
            p->free_list = b->next;
            p->nfree--;
        } else {
            b = malloc(sizeof *b + RTC_BUF_HEADROOM + RTC_POOL_BUFSIZE);
            if (!b) return NULL;
            p->allocated++;
        }
        p->in_use++;
        return buf_init(b, RTC_POOL_BUFSIZE, p);
    }
    b = malloc(sizeof *b + RTC_BUF_HEADROOM + size);
    return b ? buf_init(b, size, NULL) : NULL;
}

rtc_buf *rtc_buf_from(const void *data, size_t len)
{
    rtc_buf *b = rtc_buf_alloc(NULL, len);
    if (b && len) {
        memcpy(b->data, data, len);
        b->len = len;
    }
    return b;
}

rtc_buf *rtc_buf_ref(rtc_buf *b)
{
    b->refs++;
    return b;
}

void rtc_buf_unref(rtc_buf *b)
{
    if (!b || --b->refs > 0) return;
    rtc_pool *p = b->pool;
    if (!p) { free(b); return; }
    p->in_use--;
    if (!p->closing && p->nfree < p->max_free) {
        b->next = p->free_list;
        p->free_list = b;
        p->nfree++;
        return;
    }
    free(b);
    p->allocated--;
    pool_maybe_release(p);
}

int rtc_buf_push_front(rtc_buf *b, size_t n)
{
    if ((size_t)(b->data - b->storage) < n) return RTC_EOVERFLOW;
    b->data -= n;
    b->len += n;
    b->cap += n;
    return 0;
}

void rtc_pool_get_stats(const rtc_pool *p, rtc_pool_stats *out)
{
    out->allocated = p->allocated;
    out->in_use = p->in_use;
    out->free = p->nfree;
}
