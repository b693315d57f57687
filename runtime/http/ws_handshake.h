/* The WebSocket opening handshake (RFC 6455 §4) on top of the HTTP codec: checking a
 * client's upgrade request and writing the 101 answer (server), and building the
 * upgrade request and checking the 101 (client). After a successful handshake the
 * caller creates an rtc_ws (websocket.h) and feeds it the bytes that followed the
 * HTTP head. No extensions are negotiated (permessage-deflate is declined by
 * omission, which every client accepts). */
#ifndef RTC_WS_HANDSHAKE_H
#define RTC_WS_HANDSHAKE_H
#include <stddef.h>
#include "core/rtc_bytes.h"
#include "core/rtc_rng.h"
#include "http_parser.h"
#include "http_writer.h"

#define RTC_WS_KEY_LEN 24       /* base64 of 16 random bytes */
#define RTC_WS_ACCEPT_LEN 28    /* base64 of a SHA-1 digest */

/* Sec-WebSocket-Accept for a Sec-WebSocket-Key (`key` borrowed): base64(SHA-1(key +
 * GUID)) into `out` (NUL-terminated). Returns RTC_WS_ACCEPT_LEN or RTC_EINVAL. */
int rtc_ws_accept_key(rtc_str key, char out[RTC_WS_ACCEPT_LEN + 1]);

/* Server side. Checks `req` (borrowed): GET, HTTP/1.1, Upgrade: websocket,
 * Connection: upgrade, Sec-WebSocket-Version: 13, a Sec-WebSocket-Key that decodes to
 * 16 bytes. Then picks a subprotocol: the first of `protocols` (the server's list in
 * preference order; NULL/0 for none) that the client offered; *selected (may be NULL)
 * gets it, or NULL when none matched or none was offered.
 * On success appends the 101 response to `out` and returns 0. On failure appends a
 * complete error response with "Connection: close" and returns RTC_EPROTO (400: not a
 * valid upgrade) or RTC_ENOTSUP (426 with Sec-WebSocket-Version: 13); the caller sends
 * `out` in both cases. RTC_ENOMEM if `out` cannot grow. */
int rtc_ws_server_handshake(const rtc_http_message *req, const char *const *protocols,
                            size_t nprotocols, rtc_http_buf *out, const char **selected);

/* Client side. Appends "GET target HTTP/1.1" with Host, Upgrade, Connection,
 * Sec-WebSocket-Version, a fresh Sec-WebSocket-Key drawn from `rng` (borrowed),
 * Origin when not NULL and Sec-WebSocket-Protocol when protocols are given.
 * `key_out` receives the key for rtc_ws_client_check_response. Returns 0 or
 * RTC_EINVAL (a host/target/origin/protocol that is not valid in a header). */
int rtc_ws_client_request(rtc_http_buf *out, rtc_rng *rng, const char *host, const char *target,
                          const char *origin, const char *const *protocols, size_t nprotocols,
                          char key_out[RTC_WS_KEY_LEN + 1]);
/* Checks a response (borrowed) to that request: 101, Upgrade: websocket,
 * Connection: upgrade, the Sec-WebSocket-Accept matching `key`, no extension we did
 * not offer, and a subprotocol (if any) from `protocols`; *selected gets it or NULL.
 * Returns 0, RTC_EAUTH (wrong accept value) or RTC_EPROTO. */
int rtc_ws_client_check_response(const rtc_http_message *resp, const char *key,
                                 const char *const *protocols, size_t nprotocols,
                                 const char **selected);

#endif
