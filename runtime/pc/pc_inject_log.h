/* What a forwarded stream (rtc_pc_inject_rtp) already sent under each sequence number,
 * so that SRTP never protects two different plaintexts under one packet index (under
 * AES-GCM that gives an on-path attacker the GHASH key; under AES-CM the XOR of the two
 * plaintexts).
 *
 * The forwarder builds every packet afresh, also a resend: it stamps its own
 * abs-send-time, and the transport-wide seq it leaves as zero is this pc's to write.
 * So a plain resend (NACK without RTX) does not arrive as the bytes that first went
 * out. The log keeps, per sequence number in a window of PC_INJECT_WINDOW, whether it
 * went out and, where plain resends are allowed, the transport-wide seq and
 * abs-send-time it went out with and a keyed hash (SipHash, key drawn per log) of the
 * whole plaintext. A resend gets those two fields back and goes out only when it is
 * then the same bytes; anything else that would reuse an index is refused:
 * - a repeated seq when resends are not allowed (RTX negotiated, or an RTX stream),
 * - a seq older than the window (nothing known about it),
 * - a resend whose bytes differ from the first transmission's.
 * A seq inside the window never sent (a reordered packet) is a first transmission.
 * Memory: under 200 bytes, plus 24 KiB once plain resends are allowed. */
#ifndef RTC_PC_INJECT_LOG_H
#define RTC_PC_INJECT_LOG_H
#include "core/rtc_rng.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PC_INJECT_WINDOW 1024    /* the SFU's packet cache default: no NACK reaches further back */

typedef struct pc_inject_log pc_inject_log;

/* NULL on ENOMEM. The key for the hash comes from rng. */
pc_inject_log *pc__inject_log_new(rtc_rng *rng);
void pc__inject_log_free(pc_inject_log *l);

typedef enum {
    PC_INJECT_FIRST = 1,         /* never sent: stamp it, then pc__inject_log_note() */
    PC_INJECT_RESEND = 0,        /* sent before; pkt now holds the first bytes again */
} pc_inject_kind;

/* Classify RTP packet pkt (len bytes, sequence number seq) before it is protected.
 * twcc (2 bytes) and abs (3 bytes) point into pkt at those extensions' data, or are
 * NULL when absent; on PC_INJECT_RESEND they have been given their first values.
 * resends: whether a plain resend may go out (NACK without RTX on this stream).
 * RTC_EEXISTS: the index is used and this packet must not go out. */
int pc__inject_log_check(pc_inject_log *l, uint8_t *pkt, size_t len, uint16_t seq, uint8_t *twcc, uint8_t *abs,
                         bool resends);
/* Record a first transmission (after its transport-wide seq was stamped). */
void pc__inject_log_note(pc_inject_log *l, const uint8_t *pkt, size_t len, uint16_t seq, const uint8_t *twcc,
                         const uint8_t *abs, bool resends);

#endif
