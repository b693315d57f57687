/* libFuzzer target: a jitter buffer fed hostile packet sequences. Each record is
 * [time step][seq delta][ts delta][flags][len][payload...]; frames must come out
 * within bounds and everything must be freed. */
#include "core/rtc_buf.h"
#include "rtp/jitter_buffer.h"
#include "rtp/rtp_packet.h"
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    rtc_jitter_buffer *jb;
    rtc_jitter_buffer_config cfg = { .codec = (rtc_codec_id)(data[0] % RTC_CODEC__COUNT), .capacity = 64,
                                     .latency = RTC_MS(40), .max_frame_bytes = 1 << 16,
                                     .wait_keyframe = data[0] & 0x80 };
    if (rtc_jitter_buffer_new(&jb, &cfg, 0) < 0) return 0;
    rtc_time now = 0;
    uint16_t seq = 0;
    uint32_t ts = 0;
    size_t off = 1;
    while (size - off >= 5) {
        now += data[off] * 1000;
        seq = (uint16_t)(seq + (int8_t)data[off + 1]);
        ts += (uint32_t)(int8_t)data[off + 2] * 1000;
        uint8_t flags = data[off + 3];
        size_t len = data[off + 4];
        off += 5;
        if (len > size - off) len = size - off;
        rtc_rtp_header h = { .marker = flags & 1, .pt = 96, .seq = seq, .ts = ts, .ssrc = 1 };
        rtc_buf *b = rtc_buf_alloc(NULL, 12 + len + 256);
        int w = rtc_rtp_write(b->data, b->cap, &h, data + off, len, (flags & 2) ? (uint8_t)(flags | 1) : 0);
        off += len;
        if (w > 0) {
            b->len = (size_t)w;
            rtc_jitter_buffer_handle_packet(jb, b, now);
        }
        rtc_buf_unref(b);
        if (rtc_jitter_buffer_poll_timeout(jb) <= now) rtc_jitter_buffer_handle_timeout(jb, now);
        rtc_jb_frame f;
        while (rtc_jitter_buffer_poll_frame(jb, &f)) {
            if (f.data->len > cfg.max_frame_bytes) abort();
            rtc_buf_unref(f.data);
        }
        rtc_jb_event ev;
        while (rtc_jitter_buffer_poll_event(jb, &ev)) {}
    }
    rtc_jitter_buffer_free(jb);
    return 0;
}
