/* Buffered, patchable output for the media writers (media_out.h). */
#include "media/media_out.h"
#include "core/rtc_errors.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

int rtc_media_out_init_fd(rtc_media_out *o, int fd)
{
    memset(o, 0, sizeof *o);
    if (fd < 0) return RTC_EINVAL;
    o->fd = fd;
    o->start = lseek(fd, 0, SEEK_CUR);
    o->seekable = o->start >= 0;
    if (!o->seekable) o->start = 0;
    o->cap = RTC_MEDIA_OUT_CHUNK;
    o->buf = malloc(o->cap);
    return o->buf ? 0 : RTC_ENOMEM;
}

int rtc_media_out_init_mem(rtc_media_out *o, size_t max)
{
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->seekable = true;
    o->max = max ? max : (size_t)1 << 30;
    return 0;
}

void rtc_media_out_free(rtc_media_out *o)
{
    if (!o) return;
    free(o->buf);
    o->buf = NULL;
    o->len = o->cap = 0;
}

/* Write all of p to the fd; on failure cut the file back to the last element boundary
 * on disk, so a partial element never stays at the end. */
static int out__write_fd(rtc_media_out *o, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(o->fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (o->seekable && ftruncate(o->fd, (off_t)(o->start + (int64_t)o->disk_mark)) == 0) {
                (void)lseek(o->fd, (off_t)(o->start + (int64_t)o->disk_mark), SEEK_SET);
                o->flushed = o->disk_mark;
            }
            return o->err = RTC_EIO;
        }
        done += (size_t)w;
    }
    o->flushed += n;
    if (o->mark <= o->flushed) o->disk_mark = o->mark;
    return 0;
}

int rtc_media_out_flush(rtc_media_out *o)
{
    if (o->err) return o->err;
    if (o->fd < 0 || o->len == 0) return 0;
    int r = out__write_fd(o, o->buf, o->len);
    o->len = 0;                  /* on failure the pending bytes are dropped: pos = file end */
    return r;
}

int rtc_media_out_write(rtc_media_out *o, const void *p, size_t n)
{
    if (o->err) return o->err;
    if (o->fd < 0) {
        if (n > o->max - o->len) return o->err = RTC_ETOOBIG;
        if (o->len + n > o->cap) {
            size_t nc = o->cap ? o->cap : 4096;
            while (nc < o->len + n) nc *= 2;
            uint8_t *nb = realloc(o->buf, nc);
            if (!nb) return o->err = RTC_ENOMEM;
            o->buf = nb; o->cap = nc;
        }
        memcpy(o->buf + o->len, p, n);
        o->len += n;
        return 0;
    }
    if (o->len + n > o->cap) {
        int r = rtc_media_out_flush(o);
        if (r) return r;
        if (n > o->cap) return out__write_fd(o, p, n);
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
    return 0;
}

int rtc_media_out_patch(rtc_media_out *o, uint64_t at, const void *p, size_t n)
{
    /* After a failed write, bytes already on disk may still be patched: overwriting
     * allocated blocks needs no space, and it is what makes a cut file playable. */
    if (at + n > rtc_media_out_pos(o) || at + n < at) return RTC_ERANGE;
    if (o->err && (o->fd < 0 || at + n > o->flushed)) return o->err;
    const uint8_t *src = p;
    if (o->fd < 0) { memcpy(o->buf + at, src, n); return 0; }
    /* The part still pending is patched in memory, the flushed part with pwrite. */
    if (at >= o->flushed) { memcpy(o->buf + (at - o->flushed), src, n); return 0; }
    size_t on_disk = (size_t)(o->flushed - at) < n ? (size_t)(o->flushed - at) : n;
    if (!o->seekable) return RTC_ENOTSUP;
    size_t done = 0;
    while (done < on_disk) {
        ssize_t w = pwrite(o->fd, src + done, on_disk - done, (off_t)(o->start + (int64_t)(at + done)));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { if (!o->err) o->err = RTC_EIO; return RTC_EIO; }
        done += (size_t)w;
    }
    if (n > on_disk) memcpy(o->buf, src + on_disk, n - on_disk);
    return 0;
}
