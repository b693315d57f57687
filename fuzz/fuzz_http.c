/* libFuzzer target: the HTTP/1.1 parser (requests and responses, fed in pieces whose
 * sizes come from the input), the static path normaliser, query parameters, base64
 * decoding and the WebSocket server handshake on whatever request parses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "http/http_crypto.h"
#include "http/http_parser.h"
#include "http/http_static.h"
#include "http/http_url.h"
#include "http/ws_handshake.h"

static void touch(const rtc_http_message *m)
{
    /* read every view so the sanitizers see any out-of-bounds one */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < m->nheaders; i++) {
        for (size_t k = 0; k < m->headers[i].name.len; k++) x ^= (uint8_t)m->headers[i].name.p[k];
        for (size_t k = 0; k < m->headers[i].value.len; k++) x ^= (uint8_t)m->headers[i].value.p[k];
    }
    for (size_t i = 0; i < m->ntrailers; i++)
        for (size_t k = 0; k < m->trailers[i].value.len; k++) x ^= (uint8_t)m->trailers[i].value.p[k];
    for (size_t k = 0; k < m->body_len; k++) x ^= m->body[k];
    for (size_t k = 0; k < m->target.len; k++) x ^= (uint8_t)m->target.p[k];
    for (size_t k = 0; k < m->reason.len; k++) x ^= (uint8_t)m->reason.p[k];
    (void)x;
}

static void run_parser(rtc_http_kind kind, const uint8_t *d, size_t n, size_t step)
{
    rtc_http_limits lim = { .max_start_line = 256, .max_header_bytes = 1024, .max_headers = 16, .max_body = 4096 };
    rtc_http_parser *p;
    if (rtc_http_parser_new(&p, kind, &lim) < 0) return;
    size_t pos = 0;
    while (pos < n) {
        size_t piece = n - pos < step ? n - pos : step, used = 0;
        int r = rtc_http_parser_handle_data(p, d + pos, piece, &used);
        if (used > piece) abort();
        pos += used;
        rtc_http_message m;
        int got = 0;
        while (rtc_http_parser_poll_message(p, &m) == 1) {
            got = 1;
            touch(&m);
            if (m.body_len > lim.max_body) abort();
            if (kind == RTC_HTTP_REQUEST) {
                char out[512];
                rtc_http_path_normalize(m.target, out, sizeof out, 0);
                int q = rtc_http_query_param(m.target, "token", out, sizeof out);
                if (q >= 0 && (size_t)q >= sizeof out) abort();
                rtc_http_buf b = { 0 };
                rtc_ws_server_handshake(&m, NULL, 0, &b, NULL);
                rtc_http_buf_free(&b);
            }
        }
        if (r < 0) {
            int st = rtc_http_parser_error_status(p);
            if (r != RTC_ECLOSED && r != RTC_EAGAIN && st != 400 && st != 413 && st != 414 &&
                st != 431 && st != 501 && st != 505)
                abort();
            break;
        }
        if (used == 0 && !got) break;
    }
    rtc_http_parser_handle_eof(p);
    rtc_http_message m;
    if (rtc_http_parser_poll_message(p, &m) == 1) touch(&m);
    rtc_http_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] & 0x3f) + 1;
    data++;
    size--;
    run_parser(RTC_HTTP_REQUEST, data, size, step);
    run_parser(RTC_HTTP_RESPONSE, data, size, step);
    char out[256];
    rtc_http_path_normalize((rtc_str){ (const char *)data, size }, out, sizeof out, size & 2 ? 1u : 0u);
    uint8_t dec[256];
    int n = rtc_base64_decode((const char *)data, size, dec, sizeof dec, size & 1);
    if (n >= 0) {
        /* one accepted encoding per value: re-encoding gives back the input */
        char enc[512];
        int e = rtc_base64_encode(dec, (size_t)n, enc, sizeof enc, size & 1);
        if (e < 0 || (size_t)e != size || memcmp(enc, data, size)) abort();
    }
    return 0;
}
