/* libFuzzer target: the IVF reader on arbitrary bytes; frames stay in bounds and,
 * written back by the IVF writer, read back identical. */
#include "media/ivf.h"
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_ivf_reader r;
    if (rtc_ivf_reader_init(&r, data, size) < 0) return 0;
    rtc_media_out out;
    rtc_media_out_init_mem(&out, 64u << 20);
    rtc_ivf_writer *w;
    if (rtc_ivf_writer_new(&w, &out, &(rtc_ivf_writer_config){ .codec = r.info.codec }) < 0) abort();
    rtc_ivf_frame f;
    int n, count = 0;
    while ((n = rtc_ivf_reader_next(&r, &f)) == 1) {
        if (f.data < data || f.data + f.len > data + size) abort();
        if (rtc_ivf_writer_write(w, f.data, f.len, count) < 0) abort();
        count++;
    }
    rtc_ivf_writer_close(w);
    rtc_ivf_writer_free(w);
    size_t len;
    const uint8_t *d = rtc_media_out_data(&out, &len);
    rtc_ivf_reader r2, r3;
    if (rtc_ivf_reader_init(&r2, d, len) < 0) abort();
    rtc_ivf_reader_init(&r3, data, size);
    rtc_ivf_frame g;
    for (int i = 0; i < count; i++) {
        if (rtc_ivf_reader_next(&r2, &g) != 1 || rtc_ivf_reader_next(&r3, &f) != 1) abort();
        if (g.len != f.len || memcmp(g.data, f.data, f.len) || g.pts_ms != i) abort();
    }
    if (rtc_ivf_reader_next(&r2, &g) != 0) abort();
    rtc_media_out_free(&out);
    return 0;
}
