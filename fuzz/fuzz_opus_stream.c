/* libFuzzer target for the Opus receive path: hostile packets with hostile RTP
 * timestamps through rtc_opus_stream must fail cleanly or yield PCM whose chunks tile
 * RTP time (no hole, no overlap) and never exceed the buffer; a gap is never filled
 * beyond max_gap. The first line of the input is also read as an Opus fmtp. */
#include "codec/opus_codec.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 200 ? size : 200);
    if (nl) {
        char fmtp[201];
        size_t n = (size_t)(nl - data);
        memcpy(fmtp, data, n);
        fmtp[n] = 0;
        rtc_opus_encoder_config c = { .channels = 2 };
        rtc_opus_fmtp_apply(fmtp, &c);
        if (c.bitrate && (c.bitrate < 6000 || c.bitrate > 510000)) abort();
        data = nl + 1;
        size -= n + 1;
    }
    rtc_opus_stream *s;
    int channels = size && (data[0] & 1) ? 2 : 1;
    enum { MAX_GAP = 4800 };
    if (rtc_opus_stream_new(&s, channels, MAX_GAP)) return 0;
    static int16_t pcm[RTC_OPUS_CHUNK_MAX * 2];
    uint32_t ts = 0, next = 0;
    bool have_next = false;
    /* Records: 2 bytes signed timestamp step (in units of 40 samples), 1 byte length, payload. */
    size_t i = size ? 1 : 0;
    while (i + 3 <= size) {
        int16_t step = (int16_t)(data[i] << 8 | data[i + 1]);
        size_t len = data[i + 2];
        i += 3;
        if (len > size - i) len = size - i;
        ts += (uint32_t)(int32_t)step * 40u;
        int r = rtc_opus_stream_handle_packet(s, data + i, len, ts);
        i += len;
        if (r != 0 && r != RTC_EIGNORED && r != RTC_EPROTO && r != RTC_ETOOBIG) abort();
        if (r != 0) continue;
        uint32_t filled = 0;
        rtc_opus_chunk c;
        while (rtc_opus_stream_poll_pcm(s, pcm, &c)) {
            if (c.samples <= 0 || c.samples > RTC_OPUS_CHUNK_MAX) abort();
            if (have_next && !c.discontinuity && c.ts != next) abort();
            if (c.kind != RTC_OPUS_DECODED) filled += (uint32_t)c.samples;
            next = c.ts + (uint32_t)c.samples;
            have_next = true;
        }
        /* a gap plus a corrupt packet's own concealment at most */
        if (filled > MAX_GAP + RTC_OPUS_CHUNK_MAX) abort();
    }
    rtc_opus_stream_free(s);
    return 0;
}
