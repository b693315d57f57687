/* Worker threads (rtc_thread.h). */
#include "io/rtc_thread.h"
#include "core/rtc_errors.h"
#include <stdlib.h>
#include <uv.h>

struct rtc_thread { uv_thread_t tid; };

int rtc_thread_start(rtc_thread **out, void (*fn)(void *arg), void *arg)
{
    *out = NULL;
    rtc_thread *t = malloc(sizeof *t);
    if (!t) return RTC_ENOMEM;
    /* 8 MiB, as the main thread: a Lua state and OpenSSL handshakes need more than
     * the small default some libcs give new threads. */
    uv_thread_options_t opt = { .flags = UV_THREAD_HAS_STACK_SIZE, .stack_size = 8u << 20 };
    if (uv_thread_create_ex(&t->tid, &opt, fn, arg) != 0) { free(t); return RTC_EIO; }
    *out = t;
    return 0;
}

void rtc_thread_join(rtc_thread *t)
{
    if (!t) return;
    uv_thread_join(&t->tid);
    free(t);
}

unsigned rtc_thread_cores(void)
{
    unsigned n = uv_available_parallelism();
    return n ? n : 1;
}
