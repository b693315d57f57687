/* libFuzzer target: the Ogg Opus reader on arbitrary bytes. Packets it returns lie
 * inside their bounds; valid packets written back by the Ogg writer read back the same. */
#include "media/ogg.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_ogg_reader *r;
    if (rtc_ogg_reader_new(&r, data, size) < 0) return 0;
    rtc_media_out out;
    rtc_media_out_init_mem(&out, 4u << 20);
    rtc_ogg_writer *w;
    if (rtc_ogg_writer_new(&w, &out, NULL) < 0) abort();
    rtc_ogg_packet p;
    int n, count = 0;
    while ((n = rtc_ogg_reader_next(r, &p)) == 1 && count < 10000) {
        if (p.len > RTC_OGG_MAX_PACKET || p.duration <= 0) abort();
        if (p.len <= 60000 && rtc_ogg_writer_write(w, p.data, p.len, count * 20) == 0) count++;
    }
    rtc_ogg_writer_close(w);
    rtc_ogg_writer_free(w);
    rtc_ogg_reader_free(r);
    size_t len;
    const uint8_t *d = rtc_media_out_data(&out, &len);
    rtc_ogg_reader *r2;
    if (rtc_ogg_reader_new(&r2, d, len) < 0) abort();
    int k = 0;
    while ((n = rtc_ogg_reader_next(r2, &p)) == 1) k++;
    if (n < 0 || k < count) abort();              /* gap filling may add packets, never lose one */
    rtc_ogg_reader_free(r2);
    rtc_media_out_free(&out);
    return 0;
}
