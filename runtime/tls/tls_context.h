/* TLS configuration shared by many streams: one OpenSSL SSL_CTX holding our certificate
 * and key (servers, optionally clients), the trust anchors a client verifies the server
 * against, and the ALPN list. Built once per listener or per client setup, then handed
 * to each rtc_tls_stream, which takes a ref.
 *
 * TLS 1.2 is the minimum; OpenSSL picks 1.3 when both sides have it. Not thread-safe
 * to create, but a finished context is only read. */
#ifndef RTC_TLS_CONTEXT_H
#define RTC_TLS_CONTEXT_H
#include <stdbool.h>
#include <stddef.h>

typedef struct rtc_tls_context rtc_tls_context;

typedef enum rtc_tls_role { RTC_TLS_CLIENT = 0, RTC_TLS_SERVER = 1 } rtc_tls_role;

#define RTC_TLS_ERRLEN 256

typedef struct rtc_tls_context_config {
    rtc_tls_role role;
    /* Our certificate chain and private key, as PEM files or PEM text (text wins when
     * both are set). Required for a server, optional for a client. Read during the call. */
    const char *cert_file, *key_file;
    const char *cert_pem, *key_pem;
    /* Client: trust anchors (PEM file and/or PEM text). With neither, the system's
     * default store is used, unless `insecure` turns verification off explicitly. */
    const char *ca_file, *ca_pem;
    bool insecure;
    /* ALPN protocols, comma-separated ("h2,http/1.1"), in preference order; NULL = none.
     * A server picks its first protocol the client also offered; with no overlap the
     * handshake continues without ALPN. */
    const char *alpn;
} rtc_tls_context_config;

/* Returns 0 or RTC_EINVAL (bad config), RTC_ETLS (OpenSSL refused a file or key; `err`,
 * if not NULL, receives OpenSSL's reason, at most errlen bytes with the NUL),
 * RTC_ENOMEM. `*out` has one ref, released with rtc_tls_context_unref. */
int rtc_tls_context_new(rtc_tls_context **out, const rtc_tls_context_config *cfg, char *err, size_t errlen);
rtc_tls_context *rtc_tls_context_ref(rtc_tls_context *c);   /* returns c */
void rtc_tls_context_unref(rtc_tls_context *c);               /* NULL-safe */
rtc_tls_role rtc_tls_context_role(const rtc_tls_context *c);
bool rtc_tls_context_verifies(const rtc_tls_context *c);      /* client checks the server */

/* Internal to tls/: the OpenSSL context (borrowed) and the ALPN wire list. */
struct ssl_ctx_st *rtc_tls_context__ssl_ctx(rtc_tls_context *c);

#endif
