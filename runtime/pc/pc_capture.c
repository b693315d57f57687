#include "pc/pc_capture.h"
#include "pc/pc_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include "media/pcapng.h"
#include <stdlib.h>

#define TAG "pc"
#define SCTP_UDP_PORT 9899      /* RFC 6951's port: Wireshark decodes it as SCTP */

struct pc_capture {
    rtc_pcapng *file;
    int64_t unix_base;          /* wall clock at the start ... */
    rtc_time now_base;          /* ... and the pc's clock then */
};

int rtc_pc_capture_start(rtc_pc *pc, const char *path, int64_t unix_us)
{
    if (!path || !*path) return RTC_EINVAL;
    pc_capture *c = calloc(1, sizeof *c);
    if (!c) return RTC_ENOMEM;
    int r = rtc_pcapng_open(&c->file, path);
    if (r < 0) { free(c); return r; }
    c->unix_base = unix_us;
    c->now_base = pc->now;
    rtc_pc_capture_stop(pc);
    pc->capture = c;
    return 0;
}

int64_t rtc_pc_capture_stop(rtc_pc *pc)
{
    pc_capture *c = pc->capture;
    if (!c) return 0;
    pc->capture = NULL;
    int64_t n = (int64_t)rtc_pcapng_packets(c->file);
    int r = rtc_pcapng_close(c->file);
    free(c);
    return r < 0 ? r : n;
}

bool rtc_pc_capturing(const rtc_pc *pc) { return pc->capture != NULL; }

void pc__capture(rtc_pc *pc, pc_capture_kind kind, bool sent, const rtc_addr *local, const rtc_addr *remote,
                 const uint8_t *data, size_t len)
{
    pc_capture *c = pc->capture;
    if (!c) return;
    rtc_addr l, r;
    if (kind == PC_CAP_STUN) {
        l = *local;
        r = *remote;
    } else {
        if (!pc->has_pair) return;
        l = pc->pair.local;
        r = pc->pair.remote;
        if (kind == PC_CAP_SCTP) {
            rtc_addr_set_port(&l, SCTP_UDP_PORT);
            rtc_addr_set_port(&r, SCTP_UDP_PORT);
        }
    }
    int64_t ts = c->unix_base + (pc->now - c->now_base);
    int e = sent ? rtc_pcapng_write_udp(c->file, &l, &r, data, len, ts)
                 : rtc_pcapng_write_udp(c->file, &r, &l, data, len, ts);
    if (e == RTC_EIO) {
        rtc_warn(TAG, "capture: cannot write the file; stopping it");
        rtc_pc_capture_stop(pc);
    }
}
