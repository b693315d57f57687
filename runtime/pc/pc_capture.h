/* Decrypted captures of one peer connection (pc:capture(path) in Lua): a pcapng file
 * (media/pcapng.h) with what the connection sends and receives as Wireshark expects it
 * without keys:
 *   - STUN (and TURN) as it travelled, on its own addresses;
 *   - RTP and RTCP after SRTP decryption (received) or before encryption (sent), as
 *     plain UDP on the selected pair's addresses;
 *   - SCTP packets after DTLS decryption / before encryption, as UDP-encapsulated SCTP
 *     (RFC 6951) on the pair's IP addresses and port 9899, which Wireshark decodes as
 *     SCTP (and DCEP, data channel messages) without settings.
 * DTLS records are not written: their keys go to an SSLKEYLOGFILE file instead
 * (dtls/dtls_transport.h, rtc_dtls_set_keylog_file). */
#ifndef RTC_PC_CAPTURE_H
#define RTC_PC_CAPTURE_H
#include "pc/peer_connection.h"

/* Starts writing to `path` (borrowed for the call; truncated), replacing a capture in
 * progress. `unix_us` is the wall clock now, so packets get real time stamps. Returns
 * 0 or a negative RTC_E* (RTC_EIO: the file cannot be created). */
int rtc_pc_capture_start(rtc_pc *pc, const char *path, int64_t unix_us);
/* Flushes and closes the file; returns the number of packets written, or RTC_EIO when
 * some could not be written. 0 when no capture runs. */
int64_t rtc_pc_capture_stop(rtc_pc *pc);
bool rtc_pc_capturing(const rtc_pc *pc);

#endif
