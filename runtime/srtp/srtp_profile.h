/* DTLS-SRTP protection profiles (RFC 5764, RFC 7714) and the keying material the DTLS
 * handshake exports for them. Shared by dtls/ (which negotiates the profile and
 * exports the keys) and srtp/ (which uses them), so neither depends on the other. */
#ifndef RTC_SRTP_PROFILE_H
#define RTC_SRTP_PROFILE_H
#include <stddef.h>
#include <stdint.h>

/* Values are the IANA "DTLS-SRTP Protection Profiles" code points. */
typedef enum rtc_srtp_profile {
    RTC_SRTP_NONE = 0,
    RTC_SRTP_AES128_CM_SHA1_80 = 0x0001,
    RTC_SRTP_AES128_CM_SHA1_32 = 0x0002,
    RTC_SRTP_AEAD_AES_128_GCM = 0x0007,
    RTC_SRTP_AEAD_AES_256_GCM = 0x0008,
} rtc_srtp_profile;

#define RTC_SRTP_MAX_KEY 32
#define RTC_SRTP_MAX_SALT 14

/* Keying material split per RFC 5764 section 4.2:
 * client_write_key | server_write_key | client_write_salt | server_write_salt. */
typedef struct rtc_srtp_keying {
    rtc_srtp_profile profile;
    uint8_t key_len, salt_len;
    uint8_t client_key[RTC_SRTP_MAX_KEY], server_key[RTC_SRTP_MAX_KEY];
    uint8_t client_salt[RTC_SRTP_MAX_SALT], server_salt[RTC_SRTP_MAX_SALT];
} rtc_srtp_keying;

/* Master key and salt lengths for a profile; 0 when the profile is unknown. */
static inline int rtc_srtp_profile_lengths(rtc_srtp_profile p, size_t *key_len, size_t *salt_len)
{
    switch (p) {
    case RTC_SRTP_AES128_CM_SHA1_80:
    case RTC_SRTP_AES128_CM_SHA1_32: *key_len = 16; *salt_len = 14; return 1;
    case RTC_SRTP_AEAD_AES_128_GCM:  *key_len = 16; *salt_len = 12; return 1;
    case RTC_SRTP_AEAD_AES_256_GCM:  *key_len = 32; *salt_len = 12; return 1;
    default: *key_len = 0; *salt_len = 0; return 0;
    }
}

/* The name used by OpenSSL's use_srtp extension and its command-line tools
 * ("SRTP_AEAD_AES_128_GCM"); NULL for an unknown profile. */
static inline const char *rtc_srtp_profile_name(rtc_srtp_profile p)
{
    switch (p) {
    case RTC_SRTP_AES128_CM_SHA1_80: return "SRTP_AES128_CM_SHA1_80";
    case RTC_SRTP_AES128_CM_SHA1_32: return "SRTP_AES128_CM_SHA1_32";
    case RTC_SRTP_AEAD_AES_128_GCM:  return "SRTP_AEAD_AES_128_GCM";
    case RTC_SRTP_AEAD_AES_256_GCM:  return "SRTP_AEAD_AES_256_GCM";
    default: return NULL;
    }
}

#endif
