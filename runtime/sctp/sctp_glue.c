/* Process-global usrsctp state: the one-time init with our sysctl choices, the output
 * callback, the registry of live associations and the shared timer clock. This is the
 * one hidden global the design allows for usrsctp (docs/datachannel.md explains each
 * setting). */
#define _GNU_SOURCE   /* dladdr, Dl_info */
#include <dlfcn.h>
#include "sctp_internal.h"
#include "core/rtc_errors.h"
#include "core/rtc_log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <usrsctp.h>

/* Held by every public entry point of runtime/sctp/ (SCTP__LOCKED, sctp_internal.h says
 * why): everything below is shared by the worker threads of the process. */
static pthread_mutex_t g_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

void sctp__lock(void) { pthread_mutex_lock(&g_lock); }
void sctp__unlock(void) { pthread_mutex_unlock(&g_lock); }

static bool g_inited;
static size_t g_live;
static rtc_time g_last_now = -1;
static rtc_time g_carry_us;       /* sub-millisecond remainder not yet given to usrsctp */
static rtc_sctp_assoc *g_timer_self; /* whose call is running usrsctp's timers, while it does */
static bool g_in_timers;
static rtc_sctp_assoc *g_woken;    /* associations given packets by a timer during another's call */

/* Live associations, an open-addressing set of pointers: usrsctp hands our association
 * pointer back to conn_output, possibly from a timer after the association is gone, so
 * the pointer is checked here before it is dereferenced. */
static rtc_sctp_assoc **g_set;
static size_t g_set_cap;

static size_t ptr_hash(const void *p, size_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33; x *= 0xff51afd7ed558ccdULL; x ^= x >> 33;
    return (size_t)x & (cap - 1);
}

static bool set_contains(const void *p)
{
    if (!g_set_cap) return false;
    for (size_t i = ptr_hash(p, g_set_cap), n = 0; n < g_set_cap; i = (i + 1) & (g_set_cap - 1), n++) {
        if (g_set[i] == p) return true;
        if (!g_set[i]) return false;
    }
    return false;
}

static void set_insert_raw(rtc_sctp_assoc **set, size_t cap, rtc_sctp_assoc *a)
{
    size_t i = ptr_hash(a, cap);
    while (set[i]) i = (i + 1) & (cap - 1);
    set[i] = a;
}

int sctp__registry_add(rtc_sctp_assoc *a)
{
    if ((g_live + 1) * 2 > g_set_cap) {
        size_t cap = g_set_cap ? g_set_cap * 2 : 16;
        rtc_sctp_assoc **ns = calloc(cap, sizeof *ns);
        if (!ns) return RTC_ENOMEM;
        for (size_t i = 0; i < g_set_cap; i++)
            if (g_set[i]) set_insert_raw(ns, cap, g_set[i]);
        free(g_set);
        g_set = ns;
        g_set_cap = cap;
    }
    set_insert_raw(g_set, g_set_cap, a);
    return 0;
}

void sctp__registry_remove(rtc_sctp_assoc *a)
{
    if (a->woken) {
        for (rtc_sctp_assoc **pp = &g_woken; *pp; pp = &(*pp)->woken_next)
            if (*pp == a) {
                *pp = a->woken_next;
                break;
            }
        a->woken = false;
    }
    if (!g_set_cap) return;
    size_t i = ptr_hash(a, g_set_cap);
    for (size_t n = 0; n < g_set_cap && g_set[i] != a; n++) {
        if (!g_set[i]) return;
        i = (i + 1) & (g_set_cap - 1);
    }
    if (g_set[i] != a) return;
    g_set[i] = NULL;
    /* Re-seat the rest of the probe run so lookups do not stop at the hole. */
    for (size_t j = (i + 1) & (g_set_cap - 1); g_set[j]; j = (j + 1) & (g_set_cap - 1)) {
        rtc_sctp_assoc *m = g_set[j];
        g_set[j] = NULL;
        set_insert_raw(g_set, g_set_cap, m);
    }
}

/* Runs inside usrsctp calls (conninput, sendv, timers, close): it only queues the
 * packet on its association and never calls back into anything. */
static int conn_output(void *addr, void *buf, size_t len, uint8_t tos, uint8_t set_df)
{
    rtc_sctp_assoc *a = addr;
    if (!set_contains(a) || a->state == SCTP__CLOSED) return 0;
    /* A pool belongs to its loop's thread: a timer running in another worker's call
     * gets a heap buffer instead (the owner frees it like any other). */
    bool own = pthread_equal(a->owner, pthread_self());
    rtc_buf *b = own ? rtc_buf_alloc(a->pool, len) : rtc_buf_from(buf, len);
    if (!b) return ENOBUFS;          /* usrsctp treats it as a lost packet and retransmits */
    if (own) memcpy(b->data, buf, len);
    b->len = len;
    sctp__crc_fill(b->data, len);
    rtc_bufq_push(&a->out, b);
    if (g_in_timers && a != g_timer_self && !a->woken) {
        a->woken = true;
        a->woken_next = g_woken;
        g_woken = a;
    }
    a->stats.packets_out++;
    a->stats.bytes_out += len;
    return 0;
}

static void debug_printf(const char *fmt, ...)
{
    if (!rtc_log_enabled("sctp", RTC_LOG_TRACE)) return;
    va_list ap;
    va_start(ap, fmt);
    rtc_log_vwrite(RTC_LOG_TRACE, "sctp", fmt, ap);
    va_end(ap);
}

/* The settings, in one table so they are applied and described from one place. */
#define SCTP__SYSCTLS(XX)                                                              \
    XX(sctp_ecn_enable, 0)             /* browsers' stacks do not do ECN over DTLS */  \
    XX(sctp_pr_enable, 1)              /* partial reliability (RFC 3758) for channels */ \
    XX(sctp_reconfig_enable, 1)        /* stream reset (RFC 6525) closes channels */     \
    XX(sctp_asconf_enable, 0)          /* one path over DTLS: no address changes */      \
    XX(sctp_auto_asconf, 0)                                                             \
    XX(sctp_nrsack_enable, 0)                                                           \
    XX(sctp_pktdrop_enable, 0)                                                          \
    XX(sctp_sendspace, SCTP__SNDBUF_MIN)  /* default send buffer */                     \
    XX(sctp_recvspace, SCTP__RCVBUF)   /* receive window: one BDP of 1 MiB */            \
    XX(sctp_max_chunks_on_queue, 10 * 1024) /* default 512 throttles small messages */ \
    XX(sctp_initial_cwnd, 10)          /* MTUs, like TCP's IW10 (RFC 6928) */            \
    XX(sctp_delayed_sack_time_default, 20) /* ms; 200 stalls a window-limited sender */ \
    XX(sctp_rto_min_default, 200)      /* ms; 1 s makes every loss stall a second */    \
    XX(sctp_rto_initial_default, 1000)                                                  \
    XX(sctp_rto_max_default, 10000)    /* ms; give up sooner than 60 s */                \
    XX(sctp_init_rto_max_default, 10000)                                                \
    XX(sctp_init_rtx_max_default, 8)                                                    \
    XX(sctp_assoc_rtx_max_default, 10)                                                  \
    XX(sctp_path_rtx_max_default, 10)                                                   \
    XX(sctp_heartbeat_interval_default, 10000) /* ms: notice a dead peer sooner */      \
    XX(sctp_default_ss_module, SCTP_SS_ROUND_ROBIN) /* fair between channels */         \
    XX(sctp_default_cc_module, SCTP_CC_HTCP) /* H-TCP: grows faster on long fat paths */ \
    XX(sctp_blackhole, 2)              /* no ABORT for stray packets */                  \
    XX(sctp_nr_outgoing_streams_default, 65535)                                         \
    XX(sctp_nr_incoming_streams_default, 65535)

static void apply_sysctls(void)
{
#define SCTP__SET(name, value) usrsctp_sysctl_set_##name((uint32_t)(value));
    SCTP__SYSCTLS(SCTP__SET)
#undef SCTP__SET
}

size_t rtc_sctp_settings_describe(char *out, size_t cap)
{
    size_t n = 0;
    int w;
#define SCTP__DESC(name, value)                                                       \
    w = snprintf(out ? out + (n < cap ? n : cap) : NULL, n < cap ? cap - n : 0,        \
                 "%s=%lu\n", #name, (unsigned long)(value));                           \
    if (w > 0) n += (size_t)w;
    SCTP__SYSCTLS(SCTP__DESC)
#undef SCTP__DESC
    w = snprintf(out ? out + (n < cap ? n : cap) : NULL, n < cap ? cap - n : 0,
                 "socket: nodelay=1 sndbuf=max(%d,max_message_size) rcvbuf=%d mtu=1200 streams=max_streams (peer connection: 256 unless max_channels)\n"
                 "crc32c: %s\n",
                 SCTP__SNDBUF_MIN, SCTP__RCVBUF, sctp__crc_offloaded() ? "ours, SSE 4.2 (usrsctp offloaded)" : "usrsctp");
    if (w > 0) n += (size_t)w;
    return n;
}

/* usrsctp starts an iterator thread even in its no-threads mode. If a host program
 * unloads us (stock lua5.4 dlclose()s C modules when its state closes), that thread
 * would wake up in unmapped code: pin libusrsctp and the object holding this code. */
static void pin_libraries(void)
{
    Dl_info info;
    if (dladdr((void *)usrsctp_init_nothreads, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    if (dladdr((void *)pin_libraries, &info) && info.dli_fname)
        dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

int rtc_sctp_global_init(void)
{
    SCTP__LOCKED;
    if (g_inited) return 0;
    pin_libraries();
    /* Each socket carries one association, so its association hash needs no 256
     * buckets (a few KiB per connection otherwise). Tunables are read at init. */
    usrsctp_tunable_set_sctp_pcbtblsize(4);
    usrsctp_init_nothreads(0, conn_output, debug_printf);
    apply_sysctls();
    sctp__crc_init();
    g_inited = true;
    return 0;
}

int sctp__global_ref(void)
{
    int r = rtc_sctp_global_init();
    if (r < 0) return r;
    g_live++;
    return 0;
}

void sctp__global_unref(void)
{
    if (g_live) g_live--;
}

int rtc_sctp_global_shutdown(void)
{
    SCTP__LOCKED;
    if (!g_inited) return 0;
    if (g_live) return RTC_ESTATE;
    /* Closed sockets can linger until their last timer ran; give usrsctp a few ticks. */
    for (int i = 0; i < 1000; i++) {
        if (usrsctp_finish() == 0) {
            g_inited = false;
            free(g_set);
            g_set = NULL;
            g_set_cap = 0;
            g_last_now = -1;
            g_carry_us = 0;
            g_woken = NULL;
            return 0;
        }
        usrsctp_handle_timers(100);
    }
    return RTC_ESTATE;
}

bool rtc_sctp_poll_woken(rtc_sctp_assoc **out)
{
    SCTP__LOCKED;
    /* Only the calling thread's own associations: another worker's are its to drive. */
    rtc_sctp_assoc **pp = &g_woken;
    while (*pp && !pthread_equal((*pp)->owner, pthread_self())) pp = &(*pp)->woken_next;
    rtc_sctp_assoc *a = *pp;
    if (!a) return false;
    *pp = a->woken_next;
    a->woken = false;
    a->woken_next = NULL;
    *out = a;
    return true;
}

void sctp__advance(rtc_sctp_assoc *self, rtc_time now)
{
    if (g_last_now < 0) { g_last_now = now; return; }
    if (now <= g_last_now) return;
    rtc_time us = now - g_last_now + g_carry_us;
    g_last_now = now;
    rtc_time ms = us / 1000;
    g_carry_us = us % 1000;
    g_in_timers = true;
    g_timer_self = self;
    while (ms > 0) {
        uint32_t step = ms > 0x7fffffff ? 0x7fffffff : (uint32_t)ms;
        usrsctp_handle_timers(step);
        ms -= step;
    }
    g_in_timers = false;
    g_timer_self = NULL;
}

rtc_time sctp__last_now(void)
{
    return g_last_now < 0 ? 0 : g_last_now;
}
