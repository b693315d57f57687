/* Data channel throughput between two SCTP associations in one process (no DTLS, no
 * sockets: packets are handed across directly), on the real clock.
 * Prints: bulk MB/s and CPU seconds per 100 MB for 16 KiB and 64 KiB messages sent
 * with backpressure, 100-byte messages per second, memory per association, and the
 * usrsctp settings in force.
 * Usage: bench_datachannel [megabytes (default 200)] | --settings (print them only) */
#include "core/rtc_time.h"
#include "sctp/data_channel.h"
#include "sctp/sctp_assoc.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

typedef struct bench {
    rtc_sctp_assoc *a[2];
    int connected, opened;
    uint64_t bytes_in, msgs_in;
    int lows;
} bench;

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* Move packets across and collect events until both sides are quiet. */
static void pump(bench *b)
{
    rtc_time now = rtc_clock_now();
    for (bool again = true; again;) {
        again = false;
        rtc_sctp_assoc *w;
        while (rtc_sctp_poll_woken(&w)) {   /* both are drained below anyway */
            rtc_sctp_assoc_handle_timeout(w, now);
            again = true;
        }
        for (int i = 0; i < 2; i++) {
            rtc_buf *p;
            while (rtc_sctp_assoc_poll_transmit(b->a[i], &p)) {
                rtc_sctp_assoc_handle_packet(b->a[!i], p->data, p->len, now);
                rtc_buf_unref(p);
                again = true;
            }
            rtc_sctp_event ev;
            while (rtc_sctp_assoc_poll_event(b->a[i], &ev)) {
                again = true;
                if (ev.type == RTC_SCTP_EV_CONNECTED) b->connected++;
                if (ev.type == RTC_SCTP_EV_CHANNEL_OPEN || ev.type == RTC_SCTP_EV_DATACHANNEL) b->opened++;
                if (ev.type == RTC_SCTP_EV_BUFFERED_AMOUNT_LOW) b->lows++;
                if (ev.type == RTC_SCTP_EV_MESSAGE) {
                    b->bytes_in += ev.buf->len;
                    b->msgs_in++;
                    rtc_buf_unref(ev.buf);
                }
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (rtc_sctp_assoc_poll_timeout(b->a[i]) <= now) rtc_sctp_assoc_handle_timeout(b->a[i], now);
}

static void setup_streams(bench *b, uint16_t streams)
{
    memset(b, 0, sizeof *b);
    rtc_sctp_config c = { .dtls_client = true, .max_streams = streams };
    rtc_sctp_assoc_new(&b->a[0], &c, rtc_clock_now());
    c.dtls_client = false;
    rtc_sctp_assoc_new(&b->a[1], &c, rtc_clock_now());
    while (b->connected < 2) pump(b);
}

static void setup(bench *b) { setup_streams(b, 0); }

static void teardown(bench *b)
{
    rtc_sctp_assoc_free(b->a[0]);
    rtc_sctp_assoc_free(b->a[1]);
}

static void bulk(size_t msg, uint64_t total)
{
    bench b;
    setup(&b);
    int sid = rtc_data_channel_create(b.a[0], &(rtc_data_channel_init){ .label = "bulk" }, rtc_clock_now());
    rtc_data_channel_set_buffered_amount_low_threshold(b.a[0], (uint16_t)sid, 256 * 1024);
    while (b.opened < 2) pump(&b);
    uint8_t *buf = malloc(msg);
    memset(buf, 0xab, msg);
    uint64_t sent = 0;
    size_t max_buffered = 0;
    rtc_time t0 = rtc_clock_now();
    double c0 = cpu_seconds();
    while (b.bytes_in < total) {
        while (sent < total && rtc_data_channel_buffered_amount(b.a[0], (uint16_t)sid) < 1024 * 1024) {
            if (rtc_data_channel_send(b.a[0], (uint16_t)sid, buf, msg, true, rtc_clock_now()) < 0) break;
            sent += msg;
        }
        size_t ba = rtc_data_channel_buffered_amount(b.a[0], (uint16_t)sid);
        if (ba > max_buffered) max_buffered = ba;
        pump(&b);
    }
    double secs = (double)(rtc_clock_now() - t0) / 1e6, cpu = cpu_seconds() - c0;
    double mb = (double)total / 1e6;
    printf("| bulk %3zu KiB msgs | %8.1f MB/s | %6.2f CPU-s/100 MB | max buffered %7zu |\n",
           msg / 1024, mb / secs, cpu * 100.0 / mb, max_buffered);
    free(buf);
    teardown(&b);
}

static void small_msgs(uint64_t count)
{
    bench b;
    setup(&b);
    int sid = rtc_data_channel_create(b.a[0], &(rtc_data_channel_init){ .label = "small" }, rtc_clock_now());
    while (b.opened < 2) pump(&b);
    uint8_t buf[100];
    memset(buf, 'x', sizeof buf);
    uint64_t sent = 0;
    rtc_time t0 = rtc_clock_now();
    double c0 = cpu_seconds();
    while (b.msgs_in < count) {
        while (sent < count && rtc_data_channel_buffered_amount(b.a[0], (uint16_t)sid) < 256 * 1024) {
            if (rtc_data_channel_send(b.a[0], (uint16_t)sid, buf, sizeof buf, false, rtc_clock_now()) < 0) break;
            sent++;
        }
        pump(&b);
    }
    double secs = (double)(rtc_clock_now() - t0) / 1e6, cpu = cpu_seconds() - c0;
    printf("| 100-byte msgs      | %8.0f msg/s | %6.2f CPU-us/msg    |\n", (double)count / secs, cpu * 1e6 / (double)count);
    teardown(&b);
}

static void memory(uint16_t streams)
{
    struct mallinfo2 m0 = mallinfo2();
    bench b;
    setup_streams(&b, streams);
    struct mallinfo2 m1 = mallinfo2();
    printf("| memory             | %6zu KiB per connected association, %5u streams each way |\n",
           (m1.uordblks - m0.uordblks) / 2 / 1024, streams);
    teardown(&b);
}

int main(int argc, char **argv)
{
    uint64_t mb = argc > 1 ? strtoull(argv[1], NULL, 10) : 200;
    if (!mb) mb = 200;
    char settings[2048];
    rtc_sctp_global_init();
    rtc_sctp_settings_describe(settings, sizeof settings);
    if (argc > 1 && strcmp(argv[1], "--settings") == 0) {   /* for bench/datachannel.sh */
        fputs(settings, stdout);
        rtc_sctp_global_shutdown();
        return 0;
    }
    printf("usrsctp settings:\n%s\n", settings);
    printf("two associations in one process, %llu MB per bulk run, no DTLS\n\n", (unsigned long long)mb);
    bulk(16 * 1024, mb * 1000000);
    bulk(64 * 1024, mb * 1000000);
    small_msgs(500000);
    memory(65535);
    memory(1024);
    rtc_sctp_global_shutdown();
    return 0;
}
