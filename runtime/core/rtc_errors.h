/* One error table for the whole engine (libuv's UV_ERRNO_MAP idea).
 * Every function that can fail returns 0 (or a count) on success and a negative
 * RTC_E* code on failure. The Lua layer turns a code into the fail triple
 * `nil, "DomName: message", "DomName"`, so the third column is the W3C DOMException
 * name a script matches on. */
#ifndef RTC_ERRORS_H
#define RTC_ERRORS_H

/*  XX(suffix, value, W3C/DOM name, message) */
#define RTC_ERRNO_MAP(XX)                                                          \
    XX(INVAL,      -1, "TypeError",              "invalid argument")               \
    XX(NOMEM,      -2, "OperationError",         "out of memory")                  \
    XX(PROTO,      -3, "SyntaxError",            "malformed input")                \
    XX(TRUNC,      -4, "SyntaxError",            "truncated input")                \
    XX(AUTH,       -5, "InvalidAccessError",     "authentication failed")          \
    XX(IGNORED,    -6, "OperationError",         "input ignored")                  \
    XX(STATE,      -7, "InvalidStateError",      "invalid state")                  \
    XX(AGAIN,      -8, "OperationError",         "resource temporarily unavailable") \
    XX(TIMEDOUT,   -9, "TimeoutError",           "timed out")                      \
    XX(CLOSED,    -10, "InvalidStateError",      "closed")                         \
    XX(NOTSUP,    -11, "NotSupportedError",      "not supported")                  \
    XX(TOOBIG,    -12, "OperationError",         "too large")                      \
    XX(NOTFOUND,  -13, "NotFoundError",          "not found")                      \
    XX(IO,        -14, "NetworkError",           "i/o error")                      \
    XX(TLS,       -15, "OperationError",         "TLS/DTLS failure")               \
    XX(FINGERPRINT,-16,"InvalidAccessError",     "certificate fingerprint mismatch") \
    XX(SRTP,      -17, "OperationError",         "SRTP failure")                   \
    XX(SCTP,      -18, "OperationError",         "SCTP failure")                   \
    XX(ACCESS,    -19, "InvalidAccessError",     "invalid access")                 \
    XX(RANGE,     -20, "RangeError",             "value out of range")             \
    XX(EXISTS,    -21, "InvalidStateError",      "already exists")                 \
    XX(OVERFLOW,  -22, "OperationError",         "buffer too small")               \
    XX(QUOTA,     -23, "QuotaExceededError",     "quota exceeded")                 \
    XX(ROLE,      -24, "OperationError",         "role conflict")                  \
    XX(OPERATION, -25, "OperationError",         "operation failed")                \
    XX(MODIFIED,  -26, "InvalidModificationError", "invalid modification")

typedef enum {
#define RTC__ERR_ENUM(s, v, d, m) RTC_E##s = (v),
    RTC_ERRNO_MAP(RTC__ERR_ENUM)
#undef RTC__ERR_ENUM
    RTC_E__LAST = -26
} rtc_errno;

/* Short name ("EPROTO"), W3C name ("SyntaxError") and message for a code.
 * All return static strings; an unknown code gives "EUNKNOWN"/"OperationError"/"unknown error". */
const char *rtc_err_name(int err);
const char *rtc_err_domname(int err);
const char *rtc_strerror(int err);

#endif
