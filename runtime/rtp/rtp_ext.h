/* Payloads of the RTP header extensions browsers negotiate. Each reader takes an
 * element found with rtc_rtp_find_ext() and checks its length; each writer fills a
 * caller array to pass to rtc_rtp_add_ext(). The id for each URI comes from SDP. */
#ifndef RTC_RTP_EXT_H
#define RTC_RTP_EXT_H
#include "core/rtc_bytes.h"
#include "core/rtc_time.h"
#include "rtp/rtp_packet.h"
#include <stdbool.h>
#include <stdint.h>

#define RTC_EXT_URI_MID          "urn:ietf:params:rtp-hdrext:sdes:mid"
#define RTC_EXT_URI_RID          "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define RTC_EXT_URI_RRID         "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define RTC_EXT_URI_ABS_SEND_TIME "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define RTC_EXT_URI_TWCC         "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define RTC_EXT_URI_AUDIO_LEVEL  "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define RTC_EXT_URI_VIDEO_ORIENTATION "urn:3gpp:video-orientation"

/* mid / rid / repaired-rid: an SDES string. `out` borrows the element's bytes.
 * RTC_EPROTO on an empty string or a NUL inside (browsers never send either). */
int rtc_ext_read_sdes(const rtc_rtp_ext *e, rtc_str *out);
/* Ensures the string fits one element (1-255 bytes; 1-16 for the one-byte form is the
 * writer's form choice). Returns RTC_EINVAL otherwise. The element borrows s.p. */
int rtc_ext_add_sdes(rtc_rtp_header *h, uint8_t id, rtc_str s);

/* abs-send-time: 24-bit seconds in 6.18 fixed point (wraps every 64 s). */
uint32_t rtc_abs_send_time_from_us(rtc_time t);
/* Distance a - b in microseconds modulo the 64 s wrap, in [-32 s, 32 s). */
rtc_time rtc_abs_send_time_delta_us(uint32_t a, uint32_t b);
int rtc_ext_read_abs_send_time(const rtc_rtp_ext *e, uint32_t *out);
void rtc_ext_put_abs_send_time(uint8_t out[3], uint32_t v);

/* transport-wide sequence number (16 bits). */
int rtc_ext_read_twcc_seq(const rtc_rtp_ext *e, uint16_t *out);
void rtc_ext_put_twcc_seq(uint8_t out[2], uint16_t seq);

/* ssrc-audio-level (RFC 6464): voice activity flag and level in -dBov (0 loudest,
 * 127 silence). The two-byte form may carry padding after the first byte. */
int rtc_ext_read_audio_level(const rtc_rtp_ext *e, bool *voice, uint8_t *level);
void rtc_ext_put_audio_level(uint8_t out[1], bool voice, uint8_t level);
/* The RFC 6464 level of n host-order s16 samples (borrowed, any alignment): their
 * RMS in -dBov, rounded, 0 for a full-scale square wave, 127 for silence (and
 * anything quieter). */
uint8_t rtc_audio_level_of_s16(const void *samples, size_t n);

#endif
