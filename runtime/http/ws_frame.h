/* WebSocket framing pieces (RFC 6455 §5): opcodes, frame header encoding, masking,
 * close-code validity, and an incremental UTF-8 validator for text messages.
 * Pure functions; the connection object (websocket.h) strings them together. */
#ifndef RTC_WS_FRAME_H
#define RTC_WS_FRAME_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RTC_WS_OP_CONT = 0x0,
    RTC_WS_OP_TEXT = 0x1,
    RTC_WS_OP_BINARY = 0x2,
    RTC_WS_OP_CLOSE = 0x8,
    RTC_WS_OP_PING = 0x9,
    RTC_WS_OP_PONG = 0xa,
};

/* Close codes we send or report (RFC 6455 §7.4.1). */
enum {
    RTC_WS_CLOSE_NORMAL = 1000,
    RTC_WS_CLOSE_GOING_AWAY = 1001,
    RTC_WS_CLOSE_PROTOCOL = 1002,
    RTC_WS_CLOSE_UNSUPPORTED = 1003,
    RTC_WS_CLOSE_NO_STATUS = 1005,   /* reported only: the close frame had no code */
    RTC_WS_CLOSE_ABNORMAL = 1006,    /* reported only: no close frame at all */
    RTC_WS_CLOSE_INVALID_DATA = 1007,
    RTC_WS_CLOSE_POLICY = 1008,
    RTC_WS_CLOSE_TOO_BIG = 1009,
    RTC_WS_CLOSE_INTERNAL = 1011,
};

#define RTC_WS_MAX_HEADER 14        /* 2 + 8 (64-bit length) + 4 (mask) */
#define RTC_WS_MAX_CONTROL 125

/* Encode a frame header into `out`; `mask` NULL means unmasked. Returns its length
 * (2..14). No checks: the caller passes a valid opcode and, for control frames,
 * fin = true and len <= 125. */
size_t rtc_ws_frame_header(uint8_t out[RTC_WS_MAX_HEADER], int opcode, bool fin, uint64_t len,
                           const uint8_t *mask);
/* XOR `len` bytes with the 4-byte key, as if they started `offset` bytes into the payload. */
void rtc_ws_mask(uint8_t *data, size_t len, const uint8_t mask[4], uint64_t offset);

/* May this code appear in a close frame on the wire? 1000-1003, 1007-1014 and
 * 3000-4999; never 1004-1006, 1015 or anything else. */
bool rtc_ws_close_code_valid(int code);

/* Incremental UTF-8 validation (Unicode Table 3-7): rejects overlong forms,
 * surrogates (U+D800..DFFF) and code points above U+10FFFF as soon as the offending
 * byte arrives, across any split of the input. Zero-initialise to start. */
typedef struct rtc_utf8 { uint8_t need, lo, hi; } rtc_utf8;
/* 0, or RTC_EPROTO at the first invalid byte (the state is then undefined). */
int rtc_utf8_feed(rtc_utf8 *u, const uint8_t *d, size_t n);
/* true when no multi-byte sequence is left open. */
static inline bool rtc_utf8_complete(const rtc_utf8 *u) { return u->need == 0; }
/* Whole-buffer check. */
bool rtc_utf8_valid(const uint8_t *d, size_t n);

#endif
