/* A pcapng file writer (draft-ietf-opsawg-pcapng) for decrypted captures: one
 * interface of link type RAW (each block an IPv4 or IPv6 packet), into which UDP
 * datagrams are written with IP and UDP headers made up from their addresses, so
 * Wireshark and tshark dissect them as if captured on the wire.
 *
 * Not a protocol machine: it writes a file (stdio), like the other writers in media/. */
#ifndef RTC_PCAPNG_H
#define RTC_PCAPNG_H
#include "core/rtc_addr.h"
#include <stddef.h>
#include <stdint.h>

typedef struct rtc_pcapng rtc_pcapng;

/* Creates (truncates) `path` (borrowed for the call) and writes the section header
 * and the interface description. Returns 0, RTC_EIO (with errno kept) or RTC_ENOMEM. */
int rtc_pcapng_open(rtc_pcapng **out, const char *path);
/* One UDP datagram from `src` to `dst` (both borrowed; same family, else RTC_EINVAL)
 * at `unix_us` (microseconds since 1970). Payloads over 65507 bytes are RTC_EINVAL.
 * RTC_EIO when the file cannot be written. */
int rtc_pcapng_write_udp(rtc_pcapng *p, const rtc_addr *src, const rtc_addr *dst,
                         const uint8_t *data, size_t len, int64_t unix_us);
uint64_t rtc_pcapng_packets(const rtc_pcapng *p);
/* Flushes and closes; NULL-safe. Returns 0 or RTC_EIO if the data could not be written. */
int rtc_pcapng_close(rtc_pcapng *p);

#endif
