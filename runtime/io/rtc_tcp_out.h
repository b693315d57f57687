/* The output side of one libuv TCP stream carrying framed messages (TURN over TCP or
 * TLS, RFC 8656 section 3.1), with a byte bound: a peer that stops reading must not
 * grow our memory without limit. Used by the TURN server's connections and by the
 * peer connection's connections to TURN servers.
 *
 * Frames are written with uv_try_write first; what the kernel does not take is handed
 * to uv_write and counted in `queued` until its write callback. A droppable frame that
 * would take `queued` past `max_queued` is dropped whole and counted (as a datagram
 * would be lost over UDP: TURN carries datagrams, and a STUN transaction over TCP
 * times out like any lost one). A frame the kernel took in part is always completed,
 * so the stream never breaks mid-frame. Frames sent before rtc_tcp_out_connected()
 * wait in a queue under the same bound.
 *
 * Embed it in the object that owns the stream. libuv runs every pending write callback
 * (UV_ECANCELED) before the stream's close callback, so the owner may free the
 * rtc_tcp_out in that close callback and not earlier. */
#ifndef RTC_TCP_OUT_H
#define RTC_TCP_OUT_H
#include "core/rtc_buf.h"
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

typedef struct rtc_tcp_out rtc_tcp_out;
/* A write failed after it was queued (status: a libuv error; not UV_ECANCELED). */
typedef void (*rtc_tcp_out_error_cb)(rtc_tcp_out *o, int status);

typedef struct rtc_tcp_out_stats {
    uint64_t tx_bytes;        /* bytes handed to the kernel */
    uint64_t dropped;         /* whole frames dropped at the bound */
    uint64_t dropped_bytes;
    size_t queued;            /* bytes held or in libuv now */
    size_t queued_peak;       /* the most `queued` has been */
} rtc_tcp_out_stats;

struct rtc_tcp_out {
    uv_stream_t *stream;      /* borrowed; owned by the embedding object */
    size_t max_queued;
    bool connected, failed;
    rtc_bufq held;            /* before connected */
    rtc_tcp_out_error_cb error_cb;
    void *ud;
    rtc_tcp_out_stats st;
};

#define RTC_TCP_OUT_DEFAULT_MAX (1u << 20)

/* `stream` borrowed (must outlive o, see above); max_queued 0 = RTC_TCP_OUT_DEFAULT_MAX.
 * `connected`: whether frames may be written now. */
void rtc_tcp_out_init(rtc_tcp_out *o, uv_stream_t *stream, size_t max_queued, bool connected,
                      rtc_tcp_out_error_cb error_cb, void *ud);
/* Whether a frame of `len` bytes would be taken now (for a caller that must decide
 * before it produces the frame, e.g. before encrypting a TLS record). */
bool rtc_tcp_out_fits(const rtc_tcp_out *o, size_t len);
/* Takes the ref on b. `may_drop`: false for bytes that must go out whatever the bound
 * (a TLS record: dropping one breaks the stream); the caller bounds those itself with
 * rtc_tcp_out_fits. Returns 0 (written or queued), RTC_EAGAIN (dropped at the bound,
 * counted), or RTC_EIO (the stream has failed or libuv refused the write; error_cb is
 * not called for it). */
int rtc_tcp_out_send(rtc_tcp_out *o, rtc_buf *b, bool may_drop);
/* The stream is connected: frames held until now are written. 0, or RTC_EIO when
 * that failed (the stream is unusable; error_cb is not called for it). */
int rtc_tcp_out_connected(rtc_tcp_out *o);
/* Drops every held frame and refuses further ones (connection failed or closing). */
void rtc_tcp_out_fail(rtc_tcp_out *o);
void rtc_tcp_out_get_stats(const rtc_tcp_out *o, rtc_tcp_out_stats *out);

#endif
