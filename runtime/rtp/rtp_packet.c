/* RTP fixed header, CSRCs, RFC 8285 extension blocks, and seq/ts unwrapping. */
#include "rtp/rtp_packet.h"
#include "core/rtc_bytes.h"
#include "core/rtc_errors.h"

static int rtp__parse_ext_block(rtc_rtp_header *h, const uint8_t *p, size_t len)
{
    size_t i = 0;
    bool one = h->ext_profile == RTC_RTP_EXT_PROFILE_ONE_BYTE;
    bool two = (h->ext_profile & 0xFFF0) == RTC_RTP_EXT_PROFILE_TWO_BYTE;
    if (!one && !two) return 0;                 /* foreign profile: carried, not read */
    while (i < len) {
        uint8_t id, elen;
        if (one) {
            uint8_t b = p[i];
            if (b == 0) { i++; continue; }      /* padding between elements */
            id = b >> 4;
            if (id == 15) break;                /* RFC 8285: stop processing here */
            elen = (uint8_t)((b & 0x0F) + 1);
            i++;
        } else {
            id = p[i];
            if (id == 0) { i++; continue; }
            if (i + 2 > len) return RTC_ETRUNC;
            elen = p[i + 1];
            i += 2;
        }
        if (elen > len - i) return RTC_ETRUNC;
        if (h->ext_count < RTC_RTP_MAX_EXT)
            h->ext[h->ext_count++] = (rtc_rtp_ext){ id, elen, p + i };
        else if (h->ext_dropped < 255)
            h->ext_dropped++;
        i += elen;
    }
    return 0;
}

int rtc_rtp_parse(rtc_rtp_packet *out, const uint8_t *p, size_t len)
{
    if (!out || !p) return RTC_EINVAL;
    memset(out, 0, sizeof *out);
    if (len < RTC_RTP_HEADER_MIN) return RTC_ETRUNC;
    if ((p[0] >> 6) != 2) return RTC_EPROTO;
    rtc_rtp_header *h = &out->h;
    h->padding = p[0] & 0x20;
    h->extension = p[0] & 0x10;
    h->csrc_count = p[0] & 0x0F;
    h->marker = p[1] & 0x80;
    h->pt = p[1] & 0x7F;
    h->seq = rtc_rd16(p + 2);
    h->ts = rtc_rd32(p + 4);
    h->ssrc = rtc_rd32(p + 8);
    size_t off = RTC_RTP_HEADER_MIN;
    if (len - off < (size_t)h->csrc_count * 4) return RTC_ETRUNC;
    for (unsigned i = 0; i < h->csrc_count; i++, off += 4) h->csrc[i] = rtc_rd32(p + off);
    if (h->extension) {
        if (len - off < 4) return RTC_ETRUNC;
        h->ext_profile = rtc_rd16(p + off);
        size_t elen = (size_t)rtc_rd16(p + off + 2) * 4;
        off += 4;
        if (len - off < elen) return RTC_ETRUNC;
        int r = rtp__parse_ext_block(h, p + off, elen);
        if (r < 0) return r;
        off += elen;
    }
    size_t end = len;
    if (h->padding) {
        uint8_t pad = p[len - 1];
        if (pad == 0 || pad > len - off) return RTC_EPROTO;
        out->padding_len = pad;
        end -= pad;
    }
    out->header_len = off;
    out->payload = p + off;
    out->payload_len = end - off;
    return 0;
}

const rtc_rtp_ext *rtc_rtp_find_ext(const rtc_rtp_header *h, uint8_t id)
{
    for (unsigned i = 0; i < h->ext_count; i++)
        if (h->ext[i].id == id) return &h->ext[i];
    return NULL;
}

int rtc_rtp_add_ext(rtc_rtp_header *h, uint8_t id, const uint8_t *data, uint8_t len)
{
    if (id == 0 || (len && !data)) return RTC_EINVAL;
    for (unsigned i = 0; i < h->ext_count; i++)
        if (h->ext[i].id == id) { h->ext[i].len = len; h->ext[i].data = data; return 0; }
    if (h->ext_count >= RTC_RTP_MAX_EXT) return RTC_EOVERFLOW;
    h->ext[h->ext_count++] = (rtc_rtp_ext){ id, len, data };
    h->extension = true;
    return 0;
}

void rtc_rtp_remove_ext(rtc_rtp_header *h, uint8_t id)
{
    for (unsigned i = 0; i < h->ext_count; i++)
        if (h->ext[i].id == id) {
            memmove(&h->ext[i], &h->ext[i + 1], (h->ext_count - i - 1) * sizeof h->ext[0]);
            h->ext_count--;
            break;
        }
    if (h->ext_count == 0) h->extension = false;
}

/* 1 = one-byte form, 2 = two-byte form, 0 = unwritable. */
static int rtp__ext_form(const rtc_rtp_header *h)
{
    bool one_ok = h->ext_profile == 0 || h->ext_profile == RTC_RTP_EXT_PROFILE_ONE_BYTE;
    for (unsigned i = 0; i < h->ext_count; i++) {
        const rtc_rtp_ext *e = &h->ext[i];
        if (e->id == 0) return 0;
        if (e->id > 14 || e->len == 0 || e->len > 16) one_ok = false;
    }
    if (one_ok) return 1;
    if (h->ext_profile == RTC_RTP_EXT_PROFILE_ONE_BYTE) return 0;
    return 2;
}

static size_t rtp__ext_body(const rtc_rtp_header *h, int form)
{
    size_t n = 0;
    for (unsigned i = 0; i < h->ext_count; i++) n += (size_t)form + h->ext[i].len;
    return (n + 3) & ~(size_t)3;
}

size_t rtc_rtp_header_size(const rtc_rtp_header *h)
{
    size_t n = RTC_RTP_HEADER_MIN + (size_t)h->csrc_count * 4;
    if (h->ext_count) {
        int form = rtp__ext_form(h);
        n += 4 + rtp__ext_body(h, form ? form : 2);
    }
    return n;
}

int rtc_rtp_write_header(uint8_t *out, size_t cap, const rtc_rtp_header *h)
{
    if (!out || !h || h->csrc_count > RTC_RTP_MAX_CSRC || h->pt > 127) return RTC_EINVAL;
    int form = h->ext_count ? rtp__ext_form(h) : 1;
    if (!form) return RTC_EINVAL;
    size_t need = rtc_rtp_header_size(h);
    if (cap < need) return RTC_EOVERFLOW;
    out[0] = (uint8_t)(0x80 | (h->ext_count ? 0x10 : 0) | h->csrc_count);
    out[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
    rtc_wr16(out + 2, h->seq);
    rtc_wr32(out + 4, h->ts);
    rtc_wr32(out + 8, h->ssrc);
    size_t off = RTC_RTP_HEADER_MIN;
    for (unsigned i = 0; i < h->csrc_count; i++, off += 4) rtc_wr32(out + off, h->csrc[i]);
    if (h->ext_count) {
        size_t body = rtp__ext_body(h, form);
        rtc_wr16(out + off, form == 1 ? RTC_RTP_EXT_PROFILE_ONE_BYTE
                          : (h->ext_profile ? h->ext_profile : RTC_RTP_EXT_PROFILE_TWO_BYTE));
        rtc_wr16(out + off + 2, (uint16_t)(body / 4));
        off += 4;
        size_t end = off + body;
        for (unsigned i = 0; i < h->ext_count; i++) {
            const rtc_rtp_ext *e = &h->ext[i];
            if (form == 1) out[off++] = (uint8_t)(e->id << 4 | (e->len - 1));
            else { out[off++] = e->id; out[off++] = e->len; }
            if (e->len) memcpy(out + off, e->data, e->len);
            off += e->len;
        }
        memset(out + off, 0, end - off);
        off = end;
    }
    return (int)off;
}

int rtc_rtp_write(uint8_t *out, size_t cap, const rtc_rtp_header *h,
                  const uint8_t *payload, size_t plen, uint8_t pad)
{
    int hl = rtc_rtp_write_header(out, cap, h);
    if (hl < 0) return hl;
    if (plen && !payload) return RTC_EINVAL;
    if (cap - (size_t)hl < plen + pad || plen + pad > (size_t)INT32_MAX - (size_t)hl) return RTC_EOVERFLOW;
    if (plen) memcpy(out + hl, payload, plen);
    size_t n = (size_t)hl + plen;
    if (pad) {
        out[0] |= 0x20;
        memset(out + n, 0, pad - 1u);
        out[n + pad - 1] = pad;
        n += pad;
    }
    return (int)n;
}

int rtc_rtp_rewrite_ext(uint8_t *pkt, size_t len, uint8_t id, const uint8_t *data, uint8_t dlen)
{
    rtc_rtp_packet p;
    int r = rtc_rtp_parse(&p, pkt, len);
    if (r < 0) return r;
    const rtc_rtp_ext *e = rtc_rtp_find_ext(&p.h, id);
    if (!e) return RTC_ENOTFOUND;
    if (e->len != dlen || (dlen && !data)) return RTC_EINVAL;
    if (dlen) memcpy(pkt + (e->data - pkt), data, dlen);
    return 0;
}

int64_t rtc_seq_unwrap(rtc_seq_unwrapper *u, uint16_t seq)
{
    if (!u->init) { u->init = true; u->last = seq; return seq; }
    int64_t v = u->last + (int16_t)(uint16_t)(seq - (uint16_t)u->last);
    if (v > u->last) u->last = v;
    return v;
}

int64_t rtc_ts_unwrap(rtc_ts_unwrapper *u, uint32_t ts)
{
    if (!u->init) { u->init = true; u->last = ts; return ts; }
    int64_t v = u->last + (int32_t)(uint32_t)(ts - (uint32_t)u->last);
    if (v > u->last) u->last = v;
    return v;
}
