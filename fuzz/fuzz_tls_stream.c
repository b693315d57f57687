/* libFuzzer target for the TLS stream, server side: the input is the byte stream a
 * client sends, cut into chunks. Whatever arrives must end in a clean state (open,
 * closed or failed with a reason), never a crash, leak or unbounded buffering.
 * Input layout: byte 0 = chunk size seed, the rest = ciphertext. A fixed certificate
 * keeps runs reproducible. Seeds: fuzz/seeds/fuzz_tls_stream/ (ClientHellos). */
#include "core/rtc_errors.h"
#include "tls/tls_stream.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBizCCATGgAwIBAgIURxI9DMoR150feKPjuhwLlgJX2zMwCgYIKoZIzj0EAwIw\n"
    "DzENMAsGA1UEAwwEZnV6ejAgFw0yNjExMjMyMzIwNDVaGA8yMTI2MTAzMDIzMjA0\n"
    "NVowDzENMAsGA1UEAwwEZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABP/1\n"
    "ioWTVWOzkxWhuVbEG8wBk+YO8i3k7guaUjzwkxHEIJc62Knloi2YPhKzgiYdD9RL\n"
    "/+SAePPxAOj0iDRGsb6jaTBnMB0GA1UdDgQWBBQ1vZaJCdCwKUcNxXqjBzJ0tlb6\n"
    "RzAfBgNVHSMEGDAWgBQ1vZaJCdCwKUcNxXqjBzJ0tlb6RzAPBgNVHRMBAf8EBTAD\n"
    "AQH/MBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAKBggqhkjOPQQDAgNIADBFAiEApuxe\n"
    "C/ZWk9CkfjHR1md5Ugr8mwwuWrAurn9Fx+kCNpoCIBYNyFGsPiQdwAZa3ylk7Yc7\n"
    "rupyPfvXUIPuJq5O9EaT\n"
    "-----END CERTIFICATE-----\n";
static const char key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyYKY4VuG/XZ/j7iL\n"
    "sQeyyxu/IUYB/RU6uBRgVGIw/uqhRANCAAT/9YqFk1Vjs5MVoblWxBvMAZPmDvIt\n"
    "5O4LmlI88JMRxCCXOtip5aItmD4Ss4ImHQ/US//kgHjz8QDo9Ig0RrG+\n"
    "-----END PRIVATE KEY-----\n";

static rtc_tls_context *ctx;

static void drain(rtc_tls_stream *s)
{
    rtc_buf *b;
    while (rtc_tls_stream_poll_transmit(s, &b)) rtc_buf_unref(b);
    rtc_tls_event ev;
    while (rtc_tls_stream_poll_event(s, &ev)) {
        if (ev.type == RTC_TLS_EV_DATA) {
            if (!ev.data || ev.data->len == 0 || ev.data->len > 16384) abort();
            rtc_buf_unref(ev.data);
        } else if (ev.type == RTC_TLS_EV_FAILED) {
            if (!ev.reason || !ev.reason[0] || ev.error >= 0) abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        rtc_tls_context_config cfg = { .role = RTC_TLS_SERVER, .cert_pem = cert_pem, .key_pem = key_pem,
                                       .alpn = "http/1.1" };
        if (rtc_tls_context_new(&ctx, &cfg, NULL, 0) < 0) abort();
    }
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] * 7 + 1;
    data++; size--;
    rtc_tls_stream *s = NULL;
    rtc_tls_stream_config sc = { .ctx = ctx };
    if (rtc_tls_stream_new(&s, &sc, 0) < 0) abort();
    rtc_time now = 0;
    while (size > 0) {
        size_t n = size < chunk ? size : chunk;
        int r = rtc_tls_stream_handle_input(s, data, n, now);
        if (r < 0 && r != RTC_ETLS && r != RTC_ECLOSED && r != RTC_ENOMEM) abort();
        drain(s);
        if (rtc_tls_stream_state(s) == RTC_TLS_OPEN) {
            if (rtc_tls_stream_write(s, (const uint8_t *)"pong", 4, now) < 0 &&
                rtc_tls_stream_state(s) == RTC_TLS_OPEN) abort();
            drain(s);
        }
        if (rtc_tls_stream_read_pending(s) != 0) abort();
        if (r == RTC_ECLOSED) break;
        data += n; size -= n;
        now += 1000;
    }
    rtc_tls_stream_handle_timeout(s, RTC_SEC(60));
    drain(s);
    if (rtc_tls_stream_state(s) == RTC_TLS_HANDSHAKING) abort();   /* the timeout must end it */
    rtc_tls_stream_close(s, now);
    drain(s);
    rtc_tls_stream_free(s);
    return 0;
}
