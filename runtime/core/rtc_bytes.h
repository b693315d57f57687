/* Network byte order readers/writers and a borrowed string view. Callers check
 * lengths before every read: these helpers never do. */
#ifndef RTC_BYTES_H
#define RTC_BYTES_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rtc_str { const char *p; size_t len; } rtc_str;   /* borrowed, not NUL-terminated */
#define RTC_STR(lit) ((rtc_str){ (lit), sizeof(lit) - 1 })
static inline rtc_str rtc_str_c(const char *s) { return (rtc_str){ s, s ? strlen(s) : 0 }; }
static inline int rtc_str_eq(rtc_str a, rtc_str b)
{ return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0); }

static inline uint16_t rtc_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rtc_rd24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static inline uint32_t rtc_rd32(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline uint64_t rtc_rd64(const uint8_t *p) { return (uint64_t)rtc_rd32(p) << 32 | rtc_rd32(p + 4); }
static inline void rtc_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void rtc_wr24(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 16); p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v; }
static inline void rtc_wr32(uint8_t *p, uint32_t v)
{ p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static inline void rtc_wr64(uint8_t *p, uint64_t v) { rtc_wr32(p, (uint32_t)(v >> 32)); rtc_wr32(p + 4, (uint32_t)v); }

#endif
