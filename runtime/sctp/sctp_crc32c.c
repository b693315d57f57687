/* The SCTP checksum (CRC32c, RFC 9260 appendix B) with the CPU's crc32 instruction.
 * usrsctp computes and checks it in portable table-driven code, which costs about a
 * tenth of the CPU of a bulk transfer. When the CPU has SSE 4.2 we tell usrsctp the
 * checksum is "offloaded" (it then neither checks incoming nor fills outgoing ones)
 * and do both here, on the contiguous packet, at a few bytes per cycle. Without
 * SSE 4.2 usrsctp keeps doing it. */
#include "sctp_internal.h"
#include <string.h>
#include <usrsctp.h>

#define CRC_OFF 8        /* the checksum field in the SCTP common header */

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = _mm_crc32_u64(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return c32;
}

static bool cpu_has_crc(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n) { (void)p; (void)n; return crc; }
static bool cpu_has_crc(void) { return false; }
#endif

static bool g_hw;

bool sctp__crc_init(void)
{
    g_hw = cpu_has_crc();
    if (g_hw) usrsctp_enable_crc32c_offload();
    return g_hw;
}

bool sctp__crc_offloaded(void) { return g_hw; }

/* The checksum of a packet whose checksum field reads as zero, as it goes on the wire
 * (the reflected CRC's bytes in little-endian order, RFC 9260 appendix B). */
static uint32_t packet_crc(const uint8_t *p, size_t len)
{
    static const uint8_t zero[4];
    uint32_t c = crc_hw(0xffffffffu, p, CRC_OFF);
    c = crc_hw(c, zero, 4);
    c = crc_hw(c, p + CRC_OFF + 4, len - CRC_OFF - 4);
    return ~c;
}

void sctp__crc_fill(uint8_t *p, size_t len)
{
    if (!g_hw || len < SCTP__MIN_PACKET) return;
    uint32_t c = packet_crc(p, len);
    p[CRC_OFF] = (uint8_t)c;
    p[CRC_OFF + 1] = (uint8_t)(c >> 8);
    p[CRC_OFF + 2] = (uint8_t)(c >> 16);
    p[CRC_OFF + 3] = (uint8_t)(c >> 24);
}

bool sctp__crc_ok(const uint8_t *p, size_t len)
{
    if (!g_hw) return true;          /* usrsctp checks it itself */
    if (len < SCTP__MIN_PACKET) return false;
    uint32_t c = packet_crc(p, len);
    uint32_t w = (uint32_t)p[CRC_OFF] | (uint32_t)p[CRC_OFF + 1] << 8 | (uint32_t)p[CRC_OFF + 2] << 16
                 | (uint32_t)p[CRC_OFF + 3] << 24;
    return c == w;
}
