/* Media pipes between loops (io/rtc_media_pipe.h). */
#include "io/rtc_media_pipe.h"
#include "core/rtc_errors.h"
#include "core/rtc_spsc.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* Downstream (RTP, SRs) may burst a keyframe of many packets while the receiving loop
 * is busy; upstream carries only feedback. */
#define DOWN_SLOTS 1024
#define UP_SLOTS 256

/* The part both ends share. ring[i] / efd[i] / wake[i] / closed[i] are end i's: its
 * inbox, its eventfd, "a wake is pending for it" and "it has closed". End 0 sends. */
typedef struct pipe_shared {
    rtc_spsc ring[2];
    int efd[2];
    atomic_bool wake[2];
    atomic_bool closed[2];
    atomic_int refs;                  /* one per end still open (or not yet opened: 2 from the start) */
    rtc_media_pipe_desc desc;         /* constant after new */
    char name[RTC_MEDIA_PIPE_NAME_MAX];
    bool opened;                      /* the receiving end exists; under reg_mu */
    struct pipe_shared *next;         /* the registry, under reg_mu */
} pipe_shared;

struct rtc_media_pipe {
    pipe_shared *s;
    int side;
    uv_poll_t poll;
    bool bound;
    rtc_media_pipe_cb cb;
    void *ud;
    rtc_media_pipe_stats st;
};

/* Process-wide: the pipes whose receiving end is not open yet, by name. Why shared:
 * the two ends are made in two workers' Lua states, which only exchange plain values
 * (the name). Only new, open and close take the mutex; no packet does. */
static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pipe_shared *reg_head;
static atomic_uint reg_counter;

static void unregister(pipe_shared *s)
{
    for (pipe_shared **pp = &reg_head; *pp; pp = &(*pp)->next)
        if (*pp == s) { *pp = s->next; break; }
}

static void shared_unref(pipe_shared *s)
{
    if (atomic_fetch_sub(&s->refs, 1) != 1) return;
    for (int i = 0; i < 2; i++) {
        if (s->efd[i] >= 0) close(s->efd[i]);
        rtc_spsc_destroy(&s->ring[i]);
    }
    free(s);
}

static void wake(pipe_shared *s, int side)
{
    /* An exchange (not a plain store) on both sides: the receiver's clearing exchange
     * reads the pusher's, so the packets pushed before it are visible to its drain. */
    if (atomic_exchange(&s->wake[side], true)) return;
    uint64_t one = 1;
    ssize_t n = write(s->efd[side], &one, sizeof one);
    (void)n;                           /* EAGAIN: the counter is already non-zero, it will wake */
}

static rtc_media_pipe *new_end(pipe_shared *s, int side)
{
    rtc_media_pipe *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->s = s;
    p->side = side;
    return p;
}

int rtc_media_pipe_new(rtc_media_pipe **out, const rtc_media_pipe_desc *desc, char name[RTC_MEDIA_PIPE_NAME_MAX])
{
    pipe_shared *s = calloc(1, sizeof *s);
    if (!s) return RTC_ENOMEM;
    s->efd[0] = s->efd[1] = -1;
    if (!rtc_spsc_init(&s->ring[1], DOWN_SLOTS, RTC_MEDIA_PIPE_SLOT) ||
        !rtc_spsc_init(&s->ring[0], UP_SLOTS, RTC_MEDIA_PIPE_SLOT)) {
        rtc_spsc_destroy(&s->ring[0]);
        rtc_spsc_destroy(&s->ring[1]);
        free(s);
        return RTC_ENOMEM;
    }
    atomic_init(&s->refs, 2);
    for (int i = 0; i < 2; i++) {
        atomic_init(&s->wake[i], false);
        atomic_init(&s->closed[i], false);
        s->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    rtc_media_pipe *p = s->efd[0] >= 0 && s->efd[1] >= 0 ? new_end(s, 0) : NULL;
    if (!p) {
        int r = s->efd[0] < 0 || s->efd[1] < 0 ? RTC_EIO : RTC_ENOMEM;
        atomic_store(&s->refs, 1);
        shared_unref(s);
        return r;
    }
    s->desc = *desc;
    snprintf(s->name, sizeof s->name, "pipe-%u", atomic_fetch_add(&reg_counter, 1) + 1);
    memcpy(name, s->name, sizeof s->name);
    pthread_mutex_lock(&reg_mu);
    s->next = reg_head;
    reg_head = s;
    pthread_mutex_unlock(&reg_mu);
    *out = p;
    return 0;
}

int rtc_media_pipe_open(rtc_media_pipe **out, const char *name, rtc_media_pipe_desc *desc)
{
    pthread_mutex_lock(&reg_mu);
    pipe_shared *s = reg_head;
    while (s && strcmp(s->name, name) != 0) s = s->next;
    rtc_media_pipe *p = s ? new_end(s, 1) : NULL;
    if (p) {
        s->opened = true;
        unregister(s);
    }
    pthread_mutex_unlock(&reg_mu);
    if (!s) return RTC_ENOTFOUND;
    if (!p) return RTC_ENOMEM;
    *desc = s->desc;
    *out = p;
    return 0;
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    (void)status; (void)events;
    rtc_media_pipe *p = h->data;
    uint64_t v;
    ssize_t n = read(p->s->efd[p->side], &v, sizeof v);
    (void)n;
    atomic_exchange(&p->s->wake[p->side], false);
    if (p->cb) p->cb(p, p->ud);
    /* The callback may stop before the ring is empty (a budget per turn) or close the
     * end (cb cleared, the end lives until its close callback): wake again for the rest. */
    if (p->cb && rtc_spsc_count(&p->s->ring[p->side]) > 0) wake(p->s, p->side);
}

int rtc_media_pipe_bind(rtc_media_pipe *p, uv_loop_t *loop, rtc_media_pipe_cb cb, void *ud)
{
    if (p->bound) return RTC_ESTATE;
    if (uv_poll_init(loop, &p->poll, p->s->efd[p->side]) < 0) return RTC_EIO;
    p->poll.data = p;
    p->cb = cb;
    p->ud = ud;
    p->bound = true;
    uv_poll_start(&p->poll, UV_READABLE, poll_cb);
    uv_unref((uv_handle_t *)&p->poll);
    /* Packets (or a close) that came before the watch: make sure the first turn sees them. */
    atomic_store(&p->s->wake[p->side], false);
    wake(p->s, p->side);
    return 0;
}

int rtc_media_pipe_send(rtc_media_pipe *p, int kind, const void *head, size_t hlen, const void *data, size_t len)
{
    pipe_shared *s = p->s;
    int to = 1 - p->side;
    if (atomic_load_explicit(&s->closed[to], memory_order_acquire)) return RTC_ECLOSED;
    if (hlen + len > RTC_MEDIA_PIPE_SLOT) return RTC_ETOOBIG;
    if (!rtc_spsc_push(&s->ring[to], (uint8_t)kind, head, hlen, data, len)) {
        p->st.dropped++;
        return RTC_EAGAIN;
    }
    p->st.sent++;
    wake(s, to);
    return 0;
}

bool rtc_media_pipe_peek(rtc_media_pipe *p, int *kind, const uint8_t **data, size_t *len)
{
    uint8_t tag;
    if (!rtc_spsc_peek(&p->s->ring[p->side], data, len, &tag)) return false;
    *kind = tag;
    return true;
}

void rtc_media_pipe_pop(rtc_media_pipe *p)
{
    rtc_spsc_pop(&p->s->ring[p->side]);
    p->st.received++;
}

bool rtc_media_pipe_peer_closed(const rtc_media_pipe *p)
{
    return atomic_load_explicit(&p->s->closed[1 - p->side], memory_order_acquire);
}

void rtc_media_pipe_get_stats(const rtc_media_pipe *p, rtc_media_pipe_stats *out) { *out = p->st; }

static void end_closed(uv_handle_t *h)
{
    rtc_media_pipe *p = h->data;
    shared_unref(p->s);
    free(p);
}

void rtc_media_pipe_close(rtc_media_pipe *p)
{
    if (!p) return;
    pipe_shared *s = p->s;
    atomic_store_explicit(&s->closed[p->side], true, memory_order_release);
    bool never_opened = false;
    if (p->side == 0) {
        pthread_mutex_lock(&reg_mu);
        if (!s->opened) { unregister(s); never_opened = true; }
        pthread_mutex_unlock(&reg_mu);
    }
    if (never_opened) shared_unref(s);  /* the receiving end's ref: it can no longer be opened */
    else wake(s, 1 - p->side);
    if (p->bound) {
        p->cb = NULL;
        uv_poll_stop(&p->poll);
        uv_close((uv_handle_t *)&p->poll, end_closed);
        return;
    }
    shared_unref(s);
    free(p);
}
