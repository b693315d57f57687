#include "io/rtc_loop.h"
#include "io/rtc_udp.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

/* libuv slices the receive buffer into 64 KiB chunks (UV__UDP_DGRAM_MAXSIZE). */
#define RECV_CHUNK (64 * 1024)

struct rtc_loop {
    uv_loop_t uv;
    uv_prepare_t flush;     /* send flush just before the loop sleeps (covers timers and
                             * code run outside callbacks); ref'd only while sends are queued */
    uv_check_t flush_after_poll;  /* send flush right after a read burst; never ref'd */
    rtc_pool *pool;
    rtc_rng rng;
    char *recv_buf;
    rtc_udp **pending;      /* sockets with queued datagrams */
    size_t npending, cap_pending;
    int running;
};

/* Flushing runs no user code, so the pending list is stable while we walk it. */
static void flush_pending(rtc_loop *lp)
{
    for (size_t i = 0; i < lp->npending; i++) rtc_udp_flush(lp->pending[i]);
    lp->npending = 0;
    uv_unref((uv_handle_t *)&lp->flush);
}

static void flush_cb(uv_prepare_t *h) { flush_pending(h->data); }
static void flush_after_poll_cb(uv_check_t *h) { flush_pending(h->data); }

/* libuv asserts that its own descriptors are above stderr; with a closed 0/1/2 the
 * loop's epoll fd would take that number. Point closed ones at /dev/null first. */
static void guard_std_fds(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
        int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
        if (n >= 0 && n != fd) { dup2(n, fd); close(n); }
    }
}

int rtc_loop_new(rtc_loop **out)
{
    *out = NULL;
    guard_std_fds();
    rtc_loop *lp = calloc(1, sizeof *lp);
    if (!lp) return RTC_ENOMEM;
    if (uv_loop_init(&lp->uv) != 0) { free(lp); return RTC_EIO; }
    lp->pool = rtc_pool_new(256);
    if (!lp->pool) { uv_loop_close(&lp->uv); free(lp); return RTC_ENOMEM; }
    rtc_rng_init_crypto(&lp->rng);
    uv_prepare_init(&lp->uv, &lp->flush);
    lp->flush.data = lp;
    uv_prepare_start(&lp->flush, flush_cb);
    uv_unref((uv_handle_t *)&lp->flush);
    uv_check_init(&lp->uv, &lp->flush_after_poll);
    lp->flush_after_poll.data = lp;
    uv_check_start(&lp->flush_after_poll, flush_after_poll_cb);
    uv_unref((uv_handle_t *)&lp->flush_after_poll);
    *out = lp;
    return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h)) {
        rtc_warn("io", "closing a %s handle left open at loop teardown", uv_handle_type_name(h->type));
        uv_close(h, NULL);
    }
}

void rtc_loop_free(rtc_loop *lp)
{
    if (!lp) return;
    uv_close((uv_handle_t *)&lp->flush, NULL);
    uv_close((uv_handle_t *)&lp->flush_after_poll, NULL);
    uv_run(&lp->uv, UV_RUN_NOWAIT);        /* let pending close callbacks free their owners */
    uv_walk(&lp->uv, walk_close, NULL);
    while (uv_run(&lp->uv, UV_RUN_NOWAIT)) {}
    if (uv_loop_close(&lp->uv) != 0) rtc_warn("io", "loop still busy at teardown");
    rtc_pool_free(lp->pool);
    free(lp->recv_buf);
    free(lp->pending);
    free(lp);
}

uv_loop_t *rtc_loop_uv(rtc_loop *lp) { return &lp->uv; }
rtc_pool *rtc_loop_pool(rtc_loop *lp) { return lp->pool; }
rtc_rng *rtc_loop_rng(rtc_loop *lp) { return &lp->rng; }

int rtc_loop_run(rtc_loop *lp, uv_run_mode mode)
{
    lp->running++;
    int r = uv_run(&lp->uv, mode);
    lp->running--;
    return r;
}

void rtc_loop_stop(rtc_loop *lp) { uv_stop(&lp->uv); }
int rtc_loop_running(const rtc_loop *lp) { return lp->running > 0; }

void rtc_loop__want_flush(rtc_loop *lp, rtc_udp *u)
{
    if (lp->npending == lp->cap_pending) {
        size_t n = lp->cap_pending ? lp->cap_pending * 2 : 16;
        rtc_udp **p = realloc(lp->pending, n * sizeof *p);
        if (!p) { rtc_udp_flush(u); return; }   /* no room to defer: send now */
        lp->pending = p;
        lp->cap_pending = n;
    }
    lp->pending[lp->npending++] = u;
    uv_ref((uv_handle_t *)&lp->flush);   /* queued datagrams keep the loop alive */
}

void rtc_loop__drop_flush(rtc_loop *lp, rtc_udp *u)
{
    for (size_t i = 0; i < lp->npending; i++)
        if (lp->pending[i] == u) lp->pending[i] = lp->pending[--lp->npending], i--;
    if (lp->npending == 0) uv_unref((uv_handle_t *)&lp->flush);
}

char *rtc_loop__recv_buf(rtc_loop *lp, size_t *len)
{
    if (!lp->recv_buf) lp->recv_buf = malloc(RECV_CHUNK * RTC_UDP_RECV_BATCH);
    *len = lp->recv_buf ? RECV_CHUNK * RTC_UDP_RECV_BATCH : 0;
    return lp->recv_buf;
}
