/* Client TLS contexts shared by every connection that trusts the same anchors. An
 * SSL_CTX holds its trust store, and the system's store (what a context without a CA
 * file loads: on Debian the whole ca-certificates bundle) costs hundreds of KB, so
 * making one per TURN-over-TLS server per peer connection would multiply that by the
 * number of connections. The cache keys a context by its CA file: the path and the
 * file's identity and version (device, inode, size, modification time), so a
 * rewritten file gets a fresh context while connections on the old one keep it.
 *
 * Bounded: at most RTC_TLS_CLIENT_CACHE_MAX configurations; past that the oldest is
 * dropped from the cache (streams still holding it keep their refs). Not thread-safe:
 * one cache per loop / Lua state. */
#ifndef RTC_TLS_CLIENT_CACHE_H
#define RTC_TLS_CLIENT_CACHE_H
#include "tls/tls_context.h"

#define RTC_TLS_CLIENT_CACHE_MAX 16

typedef struct rtc_tls_client_cache rtc_tls_client_cache;

int rtc_tls_client_cache_new(rtc_tls_client_cache **out);     /* 0 or RTC_ENOMEM */
void rtc_tls_client_cache_free(rtc_tls_client_cache *c);      /* NULL-safe; drops its refs */

/* A verifying client context for ca_file (read during the call; NULL = the system's
 * store): the cached one when the file is unchanged, else a new one that is cached.
 * *out gets a ref of its own (rtc_tls_context_unref). Errors as rtc_tls_context_new;
 * a failure is not cached. */
int rtc_tls_client_cache_get(rtc_tls_client_cache *c, const char *ca_file, rtc_tls_context **out,
                             char *err, size_t errlen);

/* Contexts held now (tests). */
int rtc_tls_client_cache_size(const rtc_tls_client_cache *c);

#endif
