/* io/rtc_tcp_out over real TCP on 127.0.0.1: a reader that stops reading does not
 * grow the writer's memory past its bound (whole frames drop and are counted), the
 * stream stays made of whole frames in order once the reader resumes, frames sent
 * before the connection is up wait under the same bound, and a broken connection
 * reports its failure. */
#include "rtc_test.h"
#include "core/rtc_addr.h"
#include "core/rtc_bytes.h"
#include "core/rtc_time.h"
#include "core/rtc_errors.h"
#include "io/rtc_loop.h"
#include "io/rtc_tcp_out.h"
#include <signal.h>

#define FRAME 1000
#define MAX_QUEUED (64 * 1024)

typedef struct ctx {
    rtc_loop *lp;
    uv_tcp_t listener, client, accepted;
    uv_connect_t conn;
    bool connected, accepted_ok, reading;
    rtc_tcp_out out;
    int errors, last_error;
    /* reader side: reassembles frames [seq u32][len u16][len bytes of (seq & 0xff)] */
    uint8_t rbuf[2 * FRAME];
    size_t rlen;
    uint64_t bytes_read;
    uint32_t frames_read, last_seq;
    bool bad_frame;
    int closed;
} ctx;

static void on_error(rtc_tcp_out *o, int status)
{
    ctx *x = o->ud;
    x->errors++;
    x->last_error = status;
}

static rtc_buf *frame(uint32_t seq)
{
    uint8_t b[FRAME];
    rtc_wr32(b, seq);
    rtc_wr16(b + 4, FRAME - 6);
    memset(b + 6, (int)(seq & 0xff), FRAME - 6);
    return rtc_buf_from(b, sizeof b);
}

static void read_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    (void)h; (void)hint;
    static char buf[65536];
    *b = uv_buf_init(buf, sizeof buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    ctx *x = s->data;
    if (n <= 0) return;
    x->bytes_read += (uint64_t)n;
    for (ssize_t i = 0; i < n; i++) {
        x->rbuf[x->rlen++] = (uint8_t)b->base[i];
        if (x->rlen < 6 || x->rlen < 6u + rtc_rd16(x->rbuf + 4)) continue;
        uint32_t seq = rtc_rd32(x->rbuf);
        size_t len = rtc_rd16(x->rbuf + 4);
        if (len != FRAME - 6 || (x->frames_read && seq <= x->last_seq)) x->bad_frame = true;
        for (size_t k = 0; k < len; k++)
            if (x->rbuf[6 + k] != (uint8_t)(seq & 0xff)) x->bad_frame = true;
        x->last_seq = seq;
        x->frames_read++;
        x->rlen = 0;
    }
}

static void on_connection(uv_stream_t *l, int status)
{
    ctx *x = l->data;
    ASSERT_EQ(status, 0);
    uv_tcp_init(rtc_loop_uv(x->lp), &x->accepted);
    x->accepted.data = x;
    ASSERT_EQ(uv_accept(l, (uv_stream_t *)&x->accepted), 0);
    int small = 4096;             /* a small window, so the writer's side fills soon */
    uv_recv_buffer_size((uv_handle_t *)&x->accepted, &small);
    x->accepted_ok = true;
}

static void on_connect(uv_connect_t *c, int status)
{
    ctx *x = c->data;
    ASSERT_EQ(status, 0);
    x->connected = true;
}

static void on_closed(uv_handle_t *h) { ((ctx *)h->data)->closed++; }

static void run_until(ctx *x, bool (*done)(ctx *))
{
    rtc_time deadline = rtc_clock_now() + RTC_SEC(20);   /* a stuck test fails, not hangs */
    while (!done(x)) {
        ASSERT(rtc_clock_now() < deadline);
        rtc_loop_run(x->lp, UV_RUN_ONCE);
    }
}

static bool up(ctx *x) { return x->connected && x->accepted_ok; }
static bool drained(ctx *x) { return x->out.st.queued == 0 && x->bytes_read == x->out.st.tx_bytes; }
static bool three_closed(ctx *x) { return x->closed == 3; }
static bool failed(ctx *x) { return x->errors > 0; }

static void open_pair(ctx *x)
{
    ASSERT_EQ(rtc_loop_new(&x->lp), 0);
    uv_loop_t *uv = rtc_loop_uv(x->lp);
    rtc_addr a;
    rtc_addr_set(&a, "127.0.0.1", 0);
    uv_tcp_init(uv, &x->listener);
    x->listener.data = x;
    ASSERT_EQ(uv_tcp_bind(&x->listener, &a.u.sa, 0), 0);
    ASSERT_EQ(uv_listen((uv_stream_t *)&x->listener, 4, on_connection), 0);
    int nl = sizeof a.u;
    ASSERT_EQ(uv_tcp_getsockname(&x->listener, &a.u.sa, &nl), 0);
    uv_tcp_init(uv, &x->client);
    x->client.data = x;
    x->conn.data = x;
    ASSERT_EQ(uv_tcp_connect(&x->conn, &x->client, &a.u.sa, on_connect), 0);
}

static void close_pair(ctx *x)
{
    uv_close((uv_handle_t *)&x->client, on_closed);
    uv_close((uv_handle_t *)&x->accepted, on_closed);
    uv_close((uv_handle_t *)&x->listener, on_closed);
    run_until(x, three_closed);
    rtc_tcp_out_fail(&x->out);
    rtc_loop_free(x->lp);
}

/* The reader stops: 8 MB offered, at most MAX_QUEUED (+ one frame the kernel took in
 * part) held; the rest dropped whole and counted. Then the reader resumes and gets
 * exactly the frames not dropped, whole and in order. */
static void test_bound_and_whole_frames(void)
{
    ctx *x = calloc(1, sizeof *x);
    open_pair(x);
    run_until(x, up);
    int small = 8192;
    uv_send_buffer_size((uv_handle_t *)&x->client, &small);
    rtc_tcp_out_init(&x->out, (uv_stream_t *)&x->client, MAX_QUEUED, true, on_error, x);
    const uint32_t n = 8000;
    uint32_t refused = 0;
    for (uint32_t i = 1; i <= n; i++) {
        int r = rtc_tcp_out_send(&x->out, frame(i), true);
        ASSERT(r == 0 || r == RTC_EAGAIN);
        refused += r == RTC_EAGAIN;
        ASSERT_LE(x->out.st.queued, MAX_QUEUED + FRAME);
        if (i % 500 == 0) rtc_loop_run(x->lp, UV_RUN_NOWAIT);   /* the kernel takes what it takes */
    }
    rtc_tcp_out_stats st;
    rtc_tcp_out_get_stats(&x->out, &st);
    ASSERT_LE(st.queued_peak, MAX_QUEUED + FRAME);
    ASSERT_GE(st.queued_peak, MAX_QUEUED - FRAME);      /* it did fill up to the bound */
    ASSERT_EQ(st.dropped, refused);
    ASSERT_GE(st.dropped, n / 2);                        /* most of 8 MB could not be held */
    ASSERT_EQ(st.dropped_bytes, st.dropped * FRAME);
    uv_read_start((uv_stream_t *)&x->accepted, read_alloc, on_read);
    run_until(x, drained);
    ASSERT(!x->bad_frame);
    ASSERT_EQ(x->rlen, 0);
    ASSERT_EQ(x->frames_read, n - st.dropped);
    ASSERT_EQ(x->bytes_read, (uint64_t)(n - st.dropped) * FRAME);
    /* with the reader back, nothing more drops */
    for (uint32_t i = n + 1; i <= n + 50; i++) {
        ASSERT_EQ(rtc_tcp_out_send(&x->out, frame(i), true), 0);
        rtc_loop_run(x->lp, UV_RUN_NOWAIT);
    }
    run_until(x, drained);
    ASSERT_EQ(x->frames_read, n + 50 - st.dropped);
    ASSERT_EQ(x->last_seq, n + 50);
    ASSERT(!x->bad_frame);
    ASSERT_EQ(x->errors, 0);
    close_pair(x);
    free(x);
}

/* Before the connection is up frames wait, under the same bound; they go out in order
 * once it is. A frame that must not drop (a TLS record) is queued past the bound. */
static void test_held_until_connected(void)
{
    ctx *x = calloc(1, sizeof *x);
    open_pair(x);
    rtc_tcp_out_init(&x->out, (uv_stream_t *)&x->client, 10 * FRAME, false, on_error, x);
    for (uint32_t i = 1; i <= 30; i++) {
        int r = rtc_tcp_out_send(&x->out, frame(i), true);
        ASSERT_EQ(r, i <= 10 ? 0 : RTC_EAGAIN);
    }
    ASSERT(!rtc_tcp_out_fits(&x->out, 1));
    ASSERT_EQ(rtc_tcp_out_send(&x->out, frame(31), false), 0);
    ASSERT_EQ(x->out.st.queued, 11 * FRAME);
    ASSERT_EQ(x->out.st.dropped, 20);
    run_until(x, up);
    ASSERT_EQ(rtc_tcp_out_connected(&x->out), 0);
    uv_read_start((uv_stream_t *)&x->accepted, read_alloc, on_read);
    run_until(x, drained);
    ASSERT_EQ(x->frames_read, 11);
    ASSERT_EQ(x->last_seq, 31);
    ASSERT(!x->bad_frame);
    close_pair(x);
    free(x);
}

/* The reader goes away with data unread (RST): the writer's queued write fails and
 * error_cb runs once; later frames are refused without touching the stream. */
static void test_write_failure(void)
{
    ctx *x = calloc(1, sizeof *x);
    open_pair(x);
    run_until(x, up);
    rtc_tcp_out_init(&x->out, (uv_stream_t *)&x->client, 1 << 22, true, on_error, x);
    /* fill the kernel so later frames wait in libuv */
    for (uint32_t i = 1; i <= 4000 && x->out.st.queued == 0; i++) ASSERT_EQ(rtc_tcp_out_send(&x->out, frame(i), true), 0);
    ASSERT_GE(x->out.st.queued, 1);
    uv_close((uv_handle_t *)&x->accepted, on_closed);     /* unread data: the kernel resets */
    for (uint32_t i = 0; i < 200 && !x->errors; i++) {
        rtc_tcp_out_send(&x->out, frame(5000 + i), true);
        rtc_loop_run(x->lp, UV_RUN_NOWAIT);
    }
    run_until(x, failed);
    ASSERT_EQ(x->errors, 1);
    ASSERT_EQ(rtc_tcp_out_send(&x->out, frame(9999), true), RTC_EIO);
    uv_close((uv_handle_t *)&x->client, on_closed);
    uv_close((uv_handle_t *)&x->listener, on_closed);
    run_until(x, three_closed);
    ASSERT_EQ(x->out.st.queued, 0);                      /* every request came back */
    ASSERT_EQ(x->errors, 1);
    rtc_loop_free(x->lp);
    free(x);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);     /* as the Lua module sets it: a reset peer is an error code */
    RUN(test_bound_and_whole_frames);
    RUN(test_held_until_connected);
    RUN(test_write_failure);
    return 0;
}
