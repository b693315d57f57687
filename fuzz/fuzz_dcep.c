/* libFuzzer target for the DCEP parser: any input must parse or fail cleanly, and
 * whatever parses must re-encode to the same bytes. */
#include "core/rtc_errors.h"
#include "sctp/dcep.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rtc_dcep_msg m;
    int t = rtc_dcep_parse(data, size, &m);
    if (t == RTC_DCEP_OPEN) {
        size_t n = rtc_dcep_open_size(&m.open);
        if (n != size) abort();
        uint8_t *out = malloc(n);
        if (!out) return 0;
        if (rtc_dcep_build_open(&m.open, out, n) != (int)n) abort();
        /* A reliable type's reliability field is zeroed on both sides of the trip. */
        if (memcmp(out, data, 4) || memcmp(out + 8, data + 8, n - 8)) abort();
        free(out);
    } else if (t == RTC_DCEP_ACK) {
        if (size != 1) abort();
    } else if (t != RTC_ETRUNC && t != RTC_EPROTO) {
        abort();
    }
    return 0;
}
