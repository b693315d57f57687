/* A WebSocket connection after the opening handshake (RFC 6455 §5-7), client or
 * server role. Sans-IO: it never touches the socket or a clock.
 *
 * Contract: after any call that takes `now`, drain rtc_ws_poll_event() and
 * rtc_ws_poll_output() until both return nothing, then arm one timer for
 * rtc_ws_poll_timeout(). Incoming bytes are fed like the HTTP parser's:
 *
 *     while (len > 0) {
 *         size_t used;
 *         int r = rtc_ws_handle_data(ws, data, len, &used, now);
 *         data += used; len -= used;
 *         while (rtc_ws_poll_event(ws, &ev)) deliver(&ev);
 *         while ((b = rtc_ws_poll_output(ws))) write_to_tcp(b);     // takes the ref
 *         if (r < 0) break;     // failed: a close frame is queued, CLOSE was reported
 *     }
 *
 * handle_data stops after each frame that produces an event, so one event is out at a
 * time and memory stays at one message (max_message) plus one control frame.
 * Pings are answered by the object (a pong is queued) and still reported. A protocol
 * violation queues a close frame with 1002 (framing), 1007 (bad UTF-8) or 1009 (too
 * big) and reports CLOSE with clean = false. After the CLOSE event the caller writes
 * the queued output and closes the TCP connection (a server closes first, §7.1.1). */
#ifndef RTC_WEBSOCKET_H
#define RTC_WEBSOCKET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_buf.h"
#include "core/rtc_rng.h"
#include "core/rtc_time.h"
#include "ws_frame.h"

typedef enum { RTC_WS_SERVER, RTC_WS_CLIENT } rtc_ws_role;

typedef struct rtc_ws_config {
    rtc_ws_role role;            /* server: frames in must be masked; client: must not */
    size_t max_message;          /* reassembled message limit, default 1 MiB; over it: 1009 */
    rtc_time close_timeout;      /* wait for the peer's close reply, default 5 s; 0 = default */
    rtc_time ping_interval;      /* 0 = no keepalive; else ping after this long without
                                    a byte from the peer, and give up (1006) if another
                                    interval passes in silence */
    rtc_rng *rng;                /* borrowed, must outlive the object; masking keys and
                                    ping payloads. Required for clients. */
} rtc_ws_config;

typedef enum {
    RTC_WS_EV_TEXT = 1,          /* a complete text message (valid UTF-8) */
    RTC_WS_EV_BINARY,            /* a complete binary message */
    RTC_WS_EV_PING,              /* the peer pinged; the pong is already queued */
    RTC_WS_EV_PONG,
    RTC_WS_EV_CLOSE,             /* the connection is closed: flush output, close TCP */
} rtc_ws_event_type;

typedef struct rtc_ws_event {
    rtc_ws_event_type type;
    const uint8_t *data;         /* payload or close reason; borrowed until the next
                                    handle_data/handle_timeout/handle_eof/free */
    size_t len;
    int code;                    /* CLOSE: the peer's code (1005 if it sent none), or the
                                    code we failed the connection with, or 1006 */
    bool clean;                  /* CLOSE: both close frames were exchanged */
    bool remote;                 /* CLOSE: the peer started the closing handshake */
} rtc_ws_event;

typedef enum { RTC_WS_OPEN, RTC_WS_CLOSING, RTC_WS_CLOSED } rtc_ws_state;

typedef struct rtc_ws_stats {
    uint64_t messages_in, messages_out, bytes_in, bytes_out;
    uint64_t pings_in, pongs_in, protocol_errors;
} rtc_ws_stats;

typedef struct rtc_ws rtc_ws;

/* cfg is copied (the rng pointer is borrowed). RTC_EINVAL for a client without rng. */
int rtc_ws_new(rtc_ws **out, const rtc_ws_config *cfg, rtc_time now);
void rtc_ws_free(rtc_ws *ws);                  /* NULL-safe; drops queued output */

/* Feed stream bytes (`data` borrowed for the call); see the loop above. Returns 0,
 * RTC_EAGAIN while an event is waiting to be polled, RTC_ECLOSED once closed, or the
 * failure that closed it: RTC_EPROTO (1002/1007) or RTC_ETOOBIG (1009). */
int rtc_ws_handle_data(rtc_ws *ws, const uint8_t *data, size_t len, size_t *used, rtc_time now);
/* The TCP stream ended. Reports CLOSE (1006, not clean) unless already closed. */
int rtc_ws_handle_eof(rtc_ws *ws, rtc_time now);
int rtc_ws_handle_timeout(rtc_ws *ws, rtc_time now);
bool rtc_ws_poll_event(rtc_ws *ws, rtc_ws_event *ev);
/* The next bytes to write, or NULL. The caller owns the returned ref (unref when written). */
rtc_buf *rtc_ws_poll_output(rtc_ws *ws);
rtc_time rtc_ws_poll_timeout(const rtc_ws *ws);   /* RTC_TIME_NEVER when nothing is armed */

/* Queue one whole message, `data` copied. Text must be valid UTF-8 (RTC_EINVAL).
 * RTC_ECLOSED once closing has started; RTC_ESTATE in the middle of a fragmented send. */
int rtc_ws_send_text(rtc_ws *ws, const void *data, size_t len, rtc_time now);
int rtc_ws_send_binary(rtc_ws *ws, const void *data, size_t len, rtc_time now);
/* Send a message in pieces: the first call with RTC_WS_OP_TEXT or RTC_WS_OP_BINARY,
 * the last with fin = true. Control frames may be sent in between. Text fragments
 * are validated together, so a code point may span fragments. */
int rtc_ws_send_fragment(rtc_ws *ws, int opcode, const void *data, size_t len, bool fin, rtc_time now);
/* Ping with up to 125 bytes of payload (copied). */
int rtc_ws_send_ping(rtc_ws *ws, const void *data, size_t len, rtc_time now);
/* Start the closing handshake. code 0 sends a close frame without a code; otherwise
 * it must be valid on the wire (rtc_ws_close_code_valid) and reason valid UTF-8 of at
 * most 123 bytes (copied). RTC_ECLOSED if closing already started. */
int rtc_ws_close(rtc_ws *ws, int code, const char *reason, size_t reason_len, rtc_time now);

rtc_ws_state rtc_ws_get_state(const rtc_ws *ws);
size_t rtc_ws_buffered_amount(const rtc_ws *ws);  /* output queued but not yet polled */
void rtc_ws_get_stats(const rtc_ws *ws, rtc_ws_stats *out);

#endif
