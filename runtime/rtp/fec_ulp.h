/* ULPFEC (RFC 5109): XOR parity over a group of media packets of one SSRC, sent as
 * its own RTP payload. Chromium negotiates `ulpfec/90000` and sends it inside RED
 * (`red/90000`, RFC 2198) on the media SSRC, each FEC packet taking the next media
 * sequence number. Only level 0 is used (one mask, protection over the first
 * `prot_len` bytes after each packet's fixed header), as libwebrtc sends it.
 *
 * The FEC header (10 bytes), then the level 0 header (2 bytes protection length,
 * 2 bytes mask, 4 more with the L bit: 48 packets instead of 16), then the parity:
 *   E L P X CC | M PT | SN base | TS recovery | length recovery
 * P X CC, M PT, TS and length recovery are the XOR of the protected packets' fields
 * (length: the packet length minus its 12-byte fixed header); the parity is the XOR of
 * the bytes after each fixed header, zero-padded to prot_len.
 *
 * Pure functions over caller buffers: nothing here allocates or keeps state. */
#ifndef RTC_FEC_ULP_H
#define RTC_FEC_ULP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_ULPFEC_MAX_SPAN 48          /* packets one FEC packet can cover (L bit) */
#define RTC_ULPFEC_HEADER_MAX 18        /* FEC header + long level 0 header */

typedef struct rtc_ulpfec_view {
    bool long_mask;                     /* L: a 48-bit mask */
    uint8_t b0_recovery;                /* P, X and CC (low 6 bits) XORed */
    uint8_t b1_recovery;                /* marker and payload type XORed */
    uint16_t sn_base;
    uint32_t ts_recovery;
    uint16_t len_recovery;
    uint16_t prot_len;
    uint64_t mask;                      /* bit i: sequence number sn_base + i is protected */
    const uint8_t *parity;              /* borrowed: prot_len bytes in the parsed payload */
} rtc_ulpfec_view;

/* One media packet: a whole RTP packet (borrowed; at least the 12-byte header). */
typedef struct rtc_ulpfec_media { const uint8_t *data; size_t len; } rtc_ulpfec_media;

/* Parse an FEC payload p[0..len) (the RTP payload, or RED block, carrying it).
 * RTC_ETRUNC when a header or the parity runs past the end; RTC_EPROTO for the E bit
 * (an extension this format does not define), an empty mask or a zero protection length. */
int rtc_ulpfec_parse(const uint8_t *p, size_t len, rtc_ulpfec_view *out);

/* Write the FEC payload over pkts[0..n) into out[0..cap): every packet's sequence
 * number within RTC_ULPFEC_MAX_SPAN of pkts[0]'s, which is the base, and none
 * before it (the caller passes them in sending order). Returns the length;
 * RTC_EINVAL for no packets, a short packet, a sequence number out of span or a
 * repeated one; RTC_EOVERFLOW when out is too small. */
int rtc_ulpfec_write(uint8_t *out, size_t cap, const rtc_ulpfec_media *pkts, size_t n);

/* Rebuild the packet with sequence number `seq` that `f` protects from the n others
 * it protects (have: borrowed; exactly the protected ones except seq, any order),
 * with SSRC `ssrc`, into out[0..cap). Returns its length; RTC_EINVAL when seq is not
 * protected or `have` does not match the mask; RTC_EPROTO when the result is not a
 * valid RTP packet or would be longer than the protection covers; RTC_EOVERFLOW. */
int rtc_ulpfec_recover(const rtc_ulpfec_view *f, uint16_t seq, uint32_t ssrc, const rtc_ulpfec_media *have, size_t n,
                       uint8_t *out, size_t cap);

#endif
