#include "dcep.h"
#include "core/rtc_errors.h"

int rtc_dcep_channel_type_valid(uint8_t t)
{
    switch (t) {
    case RTC_DCEP_RELIABLE: case RTC_DCEP_RELIABLE_UNORDERED:
    case RTC_DCEP_PARTIAL_RELIABLE_REXMIT: case RTC_DCEP_PARTIAL_RELIABLE_REXMIT_UNORDERED:
    case RTC_DCEP_PARTIAL_RELIABLE_TIMED: case RTC_DCEP_PARTIAL_RELIABLE_TIMED_UNORDERED:
        return 1;
    default:
        return 0;
    }
}

int rtc_dcep_parse(const uint8_t *p, size_t len, rtc_dcep_msg *out)
{
    if (!p || len < 1) return RTC_ETRUNC;
    memset(out, 0, sizeof *out);
    out->type = p[0];
    if (p[0] == RTC_DCEP_ACK) {
        /* RFC 8832 §5.2: the ACK is exactly the one type byte. */
        return len == 1 ? RTC_DCEP_ACK : RTC_EPROTO;
    }
    if (p[0] != RTC_DCEP_OPEN) return RTC_EPROTO;
    if (len < RTC_DCEP_OPEN_HEADER) return RTC_ETRUNC;
    rtc_dcep_open *o = &out->open;
    o->channel_type = p[1];
    if (!rtc_dcep_channel_type_valid(o->channel_type)) return RTC_EPROTO;
    o->priority = rtc_rd16(p + 2);
    o->reliability = rtc_rd32(p + 4);
    size_t llen = rtc_rd16(p + 8), plen = rtc_rd16(p + 10);
    size_t body = len - RTC_DCEP_OPEN_HEADER;
    if (llen > body || plen > body - llen) return RTC_ETRUNC;
    /* Strict: bytes after the protocol mean the lengths are inconsistent. */
    if (llen + plen != body) return RTC_EPROTO;
    o->label = (rtc_str){ (const char *)p + RTC_DCEP_OPEN_HEADER, llen };
    o->protocol = (rtc_str){ (const char *)p + RTC_DCEP_OPEN_HEADER + llen, plen };
    /* RFC 8832 §5.1: the reliability parameter of a reliable channel is ignored. */
    if ((o->channel_type & 0x7f) == RTC_DCEP_RELIABLE) o->reliability = 0;
    return RTC_DCEP_OPEN;
}

size_t rtc_dcep_open_size(const rtc_dcep_open *o)
{
    if (o->label.len > 0xffff || o->protocol.len > 0xffff) return 0;
    return RTC_DCEP_OPEN_HEADER + o->label.len + o->protocol.len;
}

int rtc_dcep_build_open(const rtc_dcep_open *o, uint8_t *out, size_t cap)
{
    if (!rtc_dcep_channel_type_valid(o->channel_type)) return RTC_EINVAL;
    if ((o->label.len && !o->label.p) || (o->protocol.len && !o->protocol.p)) return RTC_EINVAL;
    size_t n = rtc_dcep_open_size(o);
    if (n == 0) return RTC_EINVAL;
    if (n > cap) return RTC_EOVERFLOW;
    out[0] = RTC_DCEP_OPEN;
    out[1] = o->channel_type;
    rtc_wr16(out + 2, o->priority);
    rtc_wr32(out + 4, (o->channel_type & 0x7f) == RTC_DCEP_RELIABLE ? 0 : o->reliability);
    rtc_wr16(out + 8, (uint16_t)o->label.len);
    rtc_wr16(out + 10, (uint16_t)o->protocol.len);
    if (o->label.len) memcpy(out + RTC_DCEP_OPEN_HEADER, o->label.p, o->label.len);
    if (o->protocol.len) memcpy(out + RTC_DCEP_OPEN_HEADER + o->label.len, o->protocol.p, o->protocol.len);
    return (int)n;
}

int rtc_dcep_build_ack(uint8_t *out, size_t cap)
{
    if (cap < 1) return RTC_EOVERFLOW;
    out[0] = RTC_DCEP_ACK;
    return 1;
}
