/* Codec compatibility for offer/answer: which remote codec a local one may pair with. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/rtc_errors.h"
#include "sdp/sdp_internal.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* RFC 6184 section 8.1 / table 5: profile_idc with the constraint_set flags of
 * profile-iop (set0 = 0x80, set1 = 0x40, set3 = 0x10, set4 = 0x08, set5 = 0x04). A stream
 * that meets several profiles' constraints is named by the most constrained one, which
 * is what offer/answer compares. */
rtc_h264_profile rtc_sdp_h264_profile(const char *plid, int *level)
{
    if (!plid) {
        if (level)
            *level = 31;               /* 3.1, what browsers assume when it is absent */
        return RTC_H264_CONSTRAINED_BASELINE;
    }
    if (strlen(plid) != 6)
        return RTC_H264_UNKNOWN;
    int b[3];
    for (int i = 0; i < 3; i++) {
        int hi = hexval(plid[2 * i]), lo = hexval(plid[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return RTC_H264_UNKNOWN;
        b[i] = hi << 4 | lo;
    }
    int idc = b[0], iop = b[1];
    if (level)
        *level = b[2];
    switch (idc) {
    case 0x42:
        return iop & 0x40 ? RTC_H264_CONSTRAINED_BASELINE : RTC_H264_BASELINE;
    case 0x4d:
        return iop & 0x80 ? RTC_H264_CONSTRAINED_BASELINE : RTC_H264_MAIN;
    case 0x58:
        if ((iop & 0xc0) == 0xc0)
            return RTC_H264_CONSTRAINED_BASELINE;
        return iop & 0x80 ? RTC_H264_BASELINE : RTC_H264_EXTENDED;
    case 0x64:
        return (iop & 0x0c) == 0x0c ? RTC_H264_CONSTRAINED_HIGH : RTC_H264_HIGH;
    case 0x6e:
        return RTC_H264_HIGH10;
    case 0x7a:
        return RTC_H264_HIGH422;
    case 0xf4:
        return RTC_H264_HIGH444;
    default:
        return RTC_H264_UNKNOWN;
    }
}

/* Parameter values compared as written, with the default the codec's RFC gives. */
static bool same_param(const rtc_sdp_codec *a, const rtc_sdp_codec *b, const char *key, const char *dflt)
{
    const char *x = rtc_sdp_codec_param(a, key), *y = rtc_sdp_codec_param(b, key);
    return strcmp(x && *x ? x : dflt, y && *y ? y : dflt) == 0;
}

bool rtc_sdp_codec_match(const rtc_sdp_codec *a, const rtc_sdp_codec *b)
{
    if (!a->name || !b->name || !sdp__ieq(a->name, b->name) || a->clock_rate != b->clock_rate ||
        (a->channels ? a->channels : 1) != (b->channels ? b->channels : 1))
        return false;
    if (sdp__ieq(a->name, "H264")) {
        rtc_h264_profile pa = rtc_sdp_h264_profile(rtc_sdp_codec_param(a, "profile-level-id"), NULL);
        rtc_h264_profile pb = rtc_sdp_h264_profile(rtc_sdp_codec_param(b, "profile-level-id"), NULL);
        return pa != RTC_H264_UNKNOWN && pa == pb && same_param(a, b, "packetization-mode", "0");
    }
    if (sdp__ieq(a->name, "VP9"))
        return same_param(a, b, "profile-id", "0");
    if (sdp__ieq(a->name, "AV1"))
        return same_param(a, b, "profile", "0");
    return true;
}

/* key's value in a raw fmtp string ("a=1;b=2", key case-insensitive) copied into out;
 * dflt when absent, empty or too long for out. */
static const char *fmtp_value(const char *fmtp, const char *key, char *out, size_t n, const char *dflt)
{
    size_t kl = strlen(key);
    for (const char *p = fmtp; p && *p;) {
        while (*p == ' ' || *p == ';') p++;
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > kl && p[kl] == '=' && strncasecmp(p, key, kl) == 0) {
            size_t vl = len - kl - 1;
            while (vl && p[kl + 1 + vl - 1] == ' ') vl--;
            if (vl == 0 || vl >= n) return dflt;
            memcpy(out, p + kl + 1, vl);
            out[vl] = 0;
            return out;
        }
        p += len;
    }
    return dflt;
}

bool rtc_sdp_fmtp_match(const char *name, const char *a, const char *b)
{
    char x[32], y[32];
    if (!name) return false;
    if (sdp__ieq(name, "H264")) {
        rtc_h264_profile pa = rtc_sdp_h264_profile(fmtp_value(a, "profile-level-id", x, sizeof x, NULL), NULL);
        rtc_h264_profile pb = rtc_sdp_h264_profile(fmtp_value(b, "profile-level-id", y, sizeof y, NULL), NULL);
        return pa != RTC_H264_UNKNOWN && pa == pb &&
               strcmp(fmtp_value(a, "packetization-mode", x, sizeof x, "0"),
                      fmtp_value(b, "packetization-mode", y, sizeof y, "0")) == 0;
    }
    const char *key = sdp__ieq(name, "VP9") ? "profile-id" : sdp__ieq(name, "AV1") ? "profile" : NULL;
    return !key || strcmp(fmtp_value(a, key, x, sizeof x, "0"), fmtp_value(b, key, y, sizeof y, "0")) == 0;
}

/* The three bytes of a profile-level-id; absent means 42e01f as in rtc_sdp_h264_profile. */
static bool plid_bytes(const char *plid, int b[3])
{
    if (!plid) {
        b[0] = 0x42, b[1] = 0xe0, b[2] = 0x1f;
        return true;
    }
    if (strlen(plid) != 6)
        return false;
    for (int i = 0; i < 3; i++) {
        int hi = hexval(plid[2 * i]), lo = hexval(plid[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        b[i] = hi << 4 | lo;
    }
    return true;
}

/* Levels in order, tenfold: 1b sits between 1 (100) and 1.1 (110). It is level_idc 11
 * with constraint_set3 in the Baseline/Main/Extended family, level_idc 9 elsewhere. */
static int level_rank(const int b[3])
{
    bool family = b[0] == 0x42 || b[0] == 0x4d || b[0] == 0x58;
    if ((family && b[2] == 11 && (b[1] & 0x10)) || b[2] == 9)
        return 105;
    return b[2] * 10;
}

static bool asym_allowed(const rtc_sdp_codec *c)
{
    const char *v = rtc_sdp_codec_param(c, "level-asymmetry-allowed");
    return v && strcmp(v, "1") == 0;
}

int rtc_sdp_h264_answer_plid(const rtc_sdp_codec *offer, const rtc_sdp_codec *local, char out[7])
{
    int ob[3], lb[3];
    if (!offer->name || !sdp__ieq(offer->name, "H264") || !rtc_sdp_codec_match(offer, local) ||
        !plid_bytes(rtc_sdp_codec_param(offer, "profile-level-id"), ob) ||
        !plid_bytes(rtc_sdp_codec_param(local, "profile-level-id"), lb))
        return RTC_EINVAL;
    int iop = lb[1], level = lb[2];
    if (!(asym_allowed(offer) && asym_allowed(local)) && level_rank(ob) < level_rank(lb)) {
        level = ob[2];
        /* in the Baseline/Main/Extended family constraint_set3 marks 1b: it goes with the level */
        if (lb[0] == 0x42 || lb[0] == 0x4d || lb[0] == 0x58)
            iop = (iop & ~0x10) | (ob[1] & 0x10);
    }
    snprintf(out, 7, "%02x%02x%02x", lb[0], iop, level);
    return 0;
}
