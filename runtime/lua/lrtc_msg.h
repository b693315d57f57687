/* Copying plain Lua values between Lua states (worker messages, docs/workers.md).
 *
 * A value is encoded into a flat byte string in one state and decoded into another:
 * nil, booleans, integers and floats (kept apart, as math.type sees them), strings
 * (any bytes) and tables of those, nested. Keys are booleans, numbers or strings.
 * A table met twice on different paths is copied twice (the copy is a tree); a table
 * met again on its own path is a cycle and an error. Metatables are not copied.
 *
 * Refused with a clear message naming where the value sits ("msg.a[2]"): functions,
 * userdata, threads, tables used as keys, cycles, nesting deeper than
 * LRTC_MSG_MAX_DEPTH, and encodings larger than the caller's byte limit. The decoder
 * checks every length and tag, so a truncated or corrupt buffer is an error too. */
#ifndef LRTC_MSG_H
#define LRTC_MSG_H
#include <lua.h>
#include <stddef.h>
#include <stdint.h>

#define LRTC_MSG_MAX_DEPTH 32

/* Encode the value at `idx` of L. On success returns 0 and *out (malloc'd, caller
 * frees) / *len. On failure returns a negative RTC_E* (RTC_EINVAL: a value that
 * cannot be copied; RTC_ETOOBIG: over max_bytes; RTC_ENOMEM) and writes a message
 * into err (caller-owned, errlen bytes). Never raises; leaves the stack as it was. */
int lrtc_msg_encode(lua_State *L, int idx, size_t max_bytes, uint8_t **out, size_t *len,
                    char *err, size_t errlen);

/* Decode `len` bytes at p (borrowed) and push the value on L. Returns 0, or a
 * negative RTC_E* with a message in err and nothing pushed. May raise only on out
 * of memory (as any Lua allocation). */
int lrtc_msg_decode(lua_State *L, const uint8_t *p, size_t len, char *err, size_t errlen);

/* Decode a buffer holding several values one after another (spawn arguments): pushes
 * each and returns how many (>= 0), or a negative RTC_E* with nothing pushed. */
int lrtc_msg_decode_all(lua_State *L, const uint8_t *p, size_t len, char *err, size_t errlen);

#endif
