/* libFuzzer target: the WebSocket connection in both roles, fed in pieces whose sizes
 * come from the input, with every event and output drained; and the UTF-8 validator,
 * which must give the same answer fed whole or split. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/rtc_errors.h"
#include "http/websocket.h"

static void run(rtc_ws_role role, const uint8_t *d, size_t n, size_t step)
{
    rtc_rng rng;
    rtc_rng_init_seed(&rng, 1);
    rtc_ws_config c = { .role = role, .max_message = 1 << 16, .rng = &rng, .ping_interval = RTC_SEC(1) };
    rtc_ws *ws;
    if (rtc_ws_new(&ws, &c, 0) < 0) return;
    size_t pos = 0;
    rtc_time now = 0;
    while (pos < n) {
        size_t piece = n - pos < step ? n - pos : step, used = 0;
        int r = rtc_ws_handle_data(ws, d + pos, piece, &used, now);
        if (used > piece) abort();
        pos += used;
        rtc_ws_event e;
        int events = 0;
        while (rtc_ws_poll_event(ws, &e)) {
            events++;
            volatile uint8_t x = 0;
            for (size_t k = 0; k < e.len; k++) x ^= e.data[k];
            (void)x;
            if (e.type == RTC_WS_EV_TEXT && !rtc_utf8_valid(e.data, e.len)) abort();
            if (e.type == RTC_WS_EV_TEXT || e.type == RTC_WS_EV_BINARY)
                rtc_ws_send_binary(ws, e.data, e.len, now);
        }
        rtc_buf *b;
        while ((b = rtc_ws_poll_output(ws))) rtc_buf_unref(b);
        if (r < 0 && r != RTC_EAGAIN) break;
        if (used == 0 && events == 0) break;
        now += RTC_MS(300);
        rtc_ws_handle_timeout(ws, now);
    }
    rtc_ws_handle_eof(ws, now);
    rtc_ws_event e;
    while (rtc_ws_poll_event(ws, &e)) {}
    rtc_ws_free(ws);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t step = (size_t)(data[0] & 0x7f) + 1;
    data++;
    size--;
    run(RTC_WS_SERVER, data, size, step);
    run(RTC_WS_CLIENT, data, size, step);
    rtc_utf8 u = { 0, 0, 0 };
    bool split = true;
    for (size_t i = 0; i < size && split; i += step)
        split = rtc_utf8_feed(&u, data + i, size - i < step ? size - i : step) == 0;
    split = split && rtc_utf8_complete(&u);
    if (split != rtc_utf8_valid(data, size)) abort();
    return 0;
}
