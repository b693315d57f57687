#include "media/pcapng.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINKTYPE_RAW 101
#define MAX_UDP_PAYLOAD 65507

struct rtc_pcapng {
    FILE *f;
    uint64_t packets;
    bool failed;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
/* Block fields are in the writer's byte order (the section header's magic says which). */
static void le32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void le16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

static int write_all(rtc_pcapng *p, const void *d, size_t n)
{
    if (p->failed) return RTC_EIO;
    if (n && fwrite(d, 1, n, p->f) != n) { p->failed = true; return RTC_EIO; }
    return 0;
}

int rtc_pcapng_open(rtc_pcapng **out, const char *path)
{
    *out = NULL;
    rtc_pcapng *p = calloc(1, sizeof *p);
    if (!p) return RTC_ENOMEM;
    p->f = fopen(path, "wb");
    if (!p->f) { free(p); return RTC_EIO; }
    /* Section header block: no options, section length unknown (-1). */
    uint8_t shb[28];
    le32(shb, 0x0A0D0D0A);
    le32(shb + 4, sizeof shb);
    le32(shb + 8, 0x1A2B3C4D);
    le16(shb + 12, 1);
    le16(shb + 14, 0);
    memset(shb + 16, 0xff, 8);
    le32(shb + 24, sizeof shb);
    /* Interface description block: RAW, no snap length, default µs resolution. */
    uint8_t idb[20];
    le32(idb, 1);
    le32(idb + 4, sizeof idb);
    le16(idb + 8, LINKTYPE_RAW);
    le16(idb + 10, 0);
    le32(idb + 12, 0);
    le32(idb + 16, sizeof idb);
    if (write_all(p, shb, sizeof shb) < 0 || write_all(p, idb, sizeof idb) < 0) {
        fclose(p->f);
        free(p);
        return RTC_EIO;
    }
    *out = p;
    return 0;
}

static uint32_t sum16(uint32_t acc, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2) acc += (uint32_t)(d[i] << 8 | d[i + 1]);
    if (n & 1) acc += (uint32_t)(d[n - 1] << 8);
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

int rtc_pcapng_write_udp(rtc_pcapng *p, const rtc_addr *src, const rtc_addr *dst,
                         const uint8_t *data, size_t len, int64_t unix_us)
{
    int fam = rtc_addr_family(src);
    if (!p || fam == 0 || fam != rtc_addr_family(dst) || len > MAX_UDP_PAYLOAD) return RTC_EINVAL;
    size_t sl, dl;
    const uint8_t *sa = rtc_addr_bytes(src, &sl), *da = rtc_addr_bytes(dst, &dl);
    uint8_t hdr[48];
    size_t iplen = sl == 4 ? 20 : 40, udplen = 8 + len;
    uint8_t *udp = hdr + iplen;
    if (sl == 4) {
        memset(hdr, 0, 20);
        hdr[0] = 0x45;
        put16(hdr + 2, (uint16_t)(20 + udplen));
        hdr[6] = 0x40;                       /* don't fragment */
        hdr[8] = 64;                         /* TTL */
        hdr[9] = 17;                         /* UDP */
        memcpy(hdr + 12, sa, 4);
        memcpy(hdr + 16, da, 4);
        put16(hdr + 10, fold(sum16(0, hdr, 20)));
    } else {
        memset(hdr, 0, 40);
        hdr[0] = 0x60;
        put16(hdr + 4, (uint16_t)udplen);
        hdr[6] = 17;
        hdr[7] = 64;
        memcpy(hdr + 8, sa, 16);
        memcpy(hdr + 24, da, 16);
    }
    put16(udp, rtc_addr_port(src));
    put16(udp + 2, rtc_addr_port(dst));
    put16(udp + 4, (uint16_t)udplen);
    put16(udp + 6, 0);
    /* The UDP checksum over the pseudo-header (mandatory with IPv6; Wireshark checks
     * neither by default, but a wrong one would show as an error when enabled). */
    uint32_t acc = sum16(0, sa, sl);
    acc = sum16(acc, da, dl);
    acc += 17 + (uint32_t)udplen;
    acc = sum16(acc, udp, 8);
    acc = sum16(acc, data, len);
    uint16_t ck = fold(acc);
    put16(udp + 6, ck ? ck : 0xffff);
    size_t caplen = iplen + 8 + len, pad = (4 - caplen % 4) % 4;
    uint8_t epb[28];
    uint32_t total = (uint32_t)(sizeof epb + caplen + pad + 4);
    uint64_t ts = (uint64_t)unix_us;
    le32(epb, 6);
    le32(epb + 4, total);
    le32(epb + 8, 0);
    le32(epb + 12, (uint32_t)(ts >> 32));
    le32(epb + 16, (uint32_t)ts);
    le32(epb + 20, (uint32_t)caplen);
    le32(epb + 24, (uint32_t)caplen);
    static const uint8_t zeros[4];
    uint8_t tail[4];
    le32(tail, total);
    int r = write_all(p, epb, sizeof epb);
    if (!r) r = write_all(p, hdr, iplen + 8);
    if (!r) r = write_all(p, data, len);
    if (!r) r = write_all(p, zeros, pad);
    if (!r) r = write_all(p, tail, 4);
    if (!r) p->packets++;
    return r;
}

uint64_t rtc_pcapng_packets(const rtc_pcapng *p) { return p ? p->packets : 0; }

int rtc_pcapng_close(rtc_pcapng *p)
{
    if (!p) return 0;
    int r = p->failed ? RTC_EIO : 0;
    if (fclose(p->f) != 0) r = RTC_EIO;
    free(p);
    return r;
}
