/* Where a media writer's bytes go: a file descriptor the caller opened (borrowed; the
 * caller closes it) or a growing memory buffer. Writers append whole elements (an Ogg
 * page, an IVF frame, a Matroska element) and patch earlier bytes (sizes, counts,
 * durations) when the output is seekable.
 *
 * Why a buffer in front of the fd: one recorded frame is a few small elements, and a
 * syscall each would dominate the cost of a recording. Bytes are held until
 * RTC_MEDIA_OUT_CHUNK accumulate (or rtc_media_out_flush).
 *
 * A failed write is sticky (every later call returns the same error) and the file is
 * truncated back to the last element boundary that reached the disk: writers call
 * rtc_media_out_mark() after each complete element (a page, a block), so a file cut
 * by a full disk never ends inside one and what was written before still plays. */
#ifndef RTC_MEDIA_OUT_H
#define RTC_MEDIA_OUT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RTC_MEDIA_OUT_CHUNK (64 * 1024)
/* Writers refuse presentation times beyond +-2^40 ms (about 35 years) with
 * RTC_ERANGE, so differences and scaling to other time bases never overflow. */
#define RTC_MEDIA_MAX_PTS_MS ((int64_t)1 << 40)

typedef struct rtc_media_out {
    int fd;               /* -1 in memory mode */
    bool seekable;        /* patches allowed on bytes already flushed */
    uint8_t *buf;         /* fd mode: bytes not yet written; memory mode: the whole file */
    size_t len, cap;
    size_t max;           /* memory mode: RTC_ETOOBIG past this many bytes */
    uint64_t flushed;     /* bytes already written to fd */
    int64_t start;        /* fd offset of the file's first byte (pwrite base) */
    uint64_t mark;        /* end of the last complete element */
    uint64_t disk_mark;   /* the same, of those wholly on disk */
    int err;              /* first error, sticky */
} rtc_media_out;

/* fd: borrowed, open for writing. Seekable when lseek works on it (regular files);
 * a pipe or socket is written straight through and patches on flushed bytes are
 * skipped. Returns 0 or RTC_ENOMEM. */
int rtc_media_out_init_fd(rtc_media_out *o, int fd);
/* Memory mode with at most `max` bytes (0 = 1 GiB). Always seekable. */
int rtc_media_out_init_mem(rtc_media_out *o, size_t max);
/* Releases the buffer (does not flush, does not close the fd). NULL-safe. */
void rtc_media_out_free(rtc_media_out *o);

/* Bytes written so far (flushed and pending): the position of the next byte. */
static inline uint64_t rtc_media_out_pos(const rtc_media_out *o) { return o->flushed + o->len; }
/* Append n bytes (borrowed). 0, or the sticky error (RTC_EIO, RTC_ETOOBIG, RTC_ENOMEM). */
int rtc_media_out_write(rtc_media_out *o, const void *p, size_t n);
/* The bytes so far end on an element boundary. */
static inline void rtc_media_out_mark(rtc_media_out *o) { o->mark = o->flushed + o->len; }
/* Overwrite n bytes at absolute position `at` (< pos). RTC_ENOTSUP when they were
 * flushed to a non-seekable fd; RTC_ERANGE outside the file. */
int rtc_media_out_patch(rtc_media_out *o, uint64_t at, const void *p, size_t n);
/* Write pending bytes to the fd (no-op in memory mode). 0 or the sticky error. */
int rtc_media_out_flush(rtc_media_out *o);
/* Memory mode: the bytes so far (borrowed until the next write or free). */
static inline const uint8_t *rtc_media_out_data(const rtc_media_out *o, size_t *len)
{ *len = o->len; return o->buf; }

#endif
