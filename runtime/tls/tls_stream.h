/* TLS over a byte stream (TCP), over OpenSSL memory BIOs: a sans-IO machine. No
 * sockets, no clock reads, no Lua. Ciphertext from the network goes in through
 * handle_input(); plaintext the application wants to send goes in through write();
 * ciphertext to send comes out of poll_transmit(); plaintext received, handshake
 * completion, the peer's close_notify and failures come out of poll_event().
 *
 * Contract: after any call that takes `now` (new, handle_input, handle_timeout, write,
 * close), the caller drains rtc_tls_stream_poll_transmit() and
 * rtc_tls_stream_poll_event() until both return false, then arms one timer for
 * rtc_tls_stream_poll_timeout(). Draining may interleave with write() calls (a relay
 * answering a record while the caller is still draining events is fine): records are
 * decrypted during handle_input, so poll_event only hands out what is queued.
 *
 * Memory: ciphertext output is bounded by the caller draining it; plaintext input is
 * decrypted eagerly, so the caller bounds it by not feeding more input while
 * rtc_tls_stream_read_pending() is above its own mark; plaintext written before the
 * handshake completes is held (at most cfg.max_early_write bytes). Input that is not
 * TLS fails the stream with RTC_ETLS and OpenSSL's reason; the alert OpenSSL writes is
 * queued so a polite peer learns why. Not thread-safe: one stream belongs to one loop. */
#ifndef RTC_TLS_STREAM_H
#define RTC_TLS_STREAM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/rtc_buf.h"
#include "core/rtc_time.h"
#include "tls/tls_context.h"

typedef struct rtc_tls_stream rtc_tls_stream;

typedef enum rtc_tls_state {
    RTC_TLS_HANDSHAKING = 0,
    RTC_TLS_OPEN,          /* handshake done: data flows both ways */
    RTC_TLS_CLOSED,        /* close_notify sent and/or received; see the flags in stats */
    RTC_TLS_FAILED,        /* rtc_tls_stream_reason() says why */
} rtc_tls_state;

typedef struct rtc_tls_stream_config {
    rtc_tls_context *ctx;          /* the stream takes a ref; its role decides ours */
    const char *server_name;       /* client: SNI and the name the certificate must match
                                      (an IP literal is matched as an IP and sent no SNI);
                                      copied. NULL = no SNI, no name check */
    rtc_time handshake_timeout;    /* 0 = 10 s; the stream fails with RTC_ETIMEDOUT */
    size_t max_early_write;        /* plaintext held before the handshake ends; 0 = 1 MiB */
    rtc_pool *pool;                /* borrowed, must outlive the stream; NULL = heap */
} rtc_tls_stream_config;

typedef enum rtc_tls_event_type {
    RTC_TLS_EV_OPEN = 1,           /* handshake done: alpn/server_name/version valid */
    RTC_TLS_EV_DATA,               /* plaintext; ownership of `data` passes to the caller */
    RTC_TLS_EV_CLOSED,             /* the peer sent close_notify (no more DATA follows) */
    RTC_TLS_EV_FAILED,             /* error + reason; the stream is dead */
} rtc_tls_event_type;

typedef struct rtc_tls_event {
    rtc_tls_event_type type;
    rtc_buf *data;                 /* DATA */
    int error;                     /* FAILED: RTC_ETLS, RTC_ETIMEDOUT, RTC_ENOMEM */
    const char *reason;            /* FAILED: owned by the stream, valid until free */
    const char *alpn;              /* OPEN: negotiated protocol or NULL; owned by the stream */
    const char *server_name;       /* OPEN on a server: the client's SNI or NULL; owned by the stream */
    const char *version;           /* OPEN: "TLSv1.3" etc., static */
} rtc_tls_event;

typedef struct rtc_tls_stats {
    uint64_t bytes_in, bytes_out;          /* ciphertext */
    uint64_t plain_in, plain_out;          /* application bytes */
    bool close_sent, close_received;
} rtc_tls_stats;

/* Client streams queue the ClientHello right away. Returns 0, RTC_EINVAL, RTC_ENOMEM or
 * RTC_ETLS. cfg read during the call. */
int rtc_tls_stream_new(rtc_tls_stream **out, const rtc_tls_stream_config *cfg, rtc_time now);
void rtc_tls_stream_free(rtc_tls_stream *s);       /* NULL-safe; drops queued output */

/* Ciphertext from the peer, borrowed for the call. Returns 0, RTC_ECLOSED after a
 * failure or the peer's close_notify (the bytes are ignored), or RTC_ETLS when this
 * input broke the stream (a FAILED event is queued too). */
int rtc_tls_stream_handle_input(rtc_tls_stream *s, const uint8_t *data, size_t len, rtc_time now);
int rtc_tls_stream_handle_timeout(rtc_tls_stream *s, rtc_time now);

/* Plaintext to send, copied. Before the handshake ends it is held and sent once the
 * stream opens. Returns 0, RTC_EOVERFLOW (early data over max_early_write; nothing
 * taken), RTC_ECLOSED (closing, closed or failed). */
int rtc_tls_stream_write(rtc_tls_stream *s, const uint8_t *data, size_t len, rtc_time now);
/* Queues close_notify (once); later writes fail with RTC_ECLOSED. Input is still read
 * until the peer's close_notify arrives. */
int rtc_tls_stream_close(rtc_tls_stream *s, rtc_time now);

/* One chunk of ciphertext to send, in order; ownership passes to the caller. */
bool rtc_tls_stream_poll_transmit(rtc_tls_stream *s, rtc_buf **out);
bool rtc_tls_stream_poll_event(rtc_tls_stream *s, rtc_tls_event *out);
rtc_time rtc_tls_stream_poll_timeout(const rtc_tls_stream *s);   /* RTC_TIME_NEVER once open */

rtc_tls_state rtc_tls_stream_state(const rtc_tls_stream *s);
const char *rtc_tls_stream_reason(const rtc_tls_stream *s);      /* "" unless FAILED */
size_t rtc_tls_stream_read_pending(const rtc_tls_stream *s);     /* plaintext bytes in DATA events not yet polled */
size_t rtc_tls_stream_write_pending(const rtc_tls_stream *s);    /* early plaintext + ciphertext not yet polled */
void rtc_tls_stream_get_stats(const rtc_tls_stream *s, rtc_tls_stats *out);

#endif
