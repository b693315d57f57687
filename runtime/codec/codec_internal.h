/* Internal to runtime/codec/: what the VP8 and VP9 payload descriptors share. Not for
 * other modules. */
#ifndef RTC_CODEC_INTERNAL_H
#define RTC_CODEC_INTERNAL_H
#include "codec/codec.h"

/* The PictureID field, laid out alike in both (RFC 7741 4.2, RFC 9628 4.2): M = 0 is
 * 7 bits in one byte, M = 1 is 15 bits in two. Reads the one at p[*off] (p has len
 * bytes) into *id and moves *off past it; RTC_ETRUNC when it runs past len. */
int codec__picture_id_read(const uint8_t *p, size_t len, size_t *off, int32_t *id);

/* Overwrites the PictureID at p with picture_id (when >= 0), keeping its width (the
 * low 7 or 15 bits); returns its width in bytes. p is one a parse has checked. */
size_t codec__picture_id_rewrite(uint8_t *p, int32_t picture_id);

#endif
