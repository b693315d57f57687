/* Client TLS contexts keyed by CA file (see tls_client_cache.h). */
#include "tls/tls_client_cache.h"
#include "core/rtc_errors.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct cache_entry {
    char *ca_file;            /* NULL = the system's store */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    rtc_tls_context *ctx;     /* the cache's ref */
} cache_entry;

struct rtc_tls_client_cache {
    cache_entry e[RTC_TLS_CLIENT_CACHE_MAX];
    int n;                    /* e[0] the oldest */
};

int rtc_tls_client_cache_new(rtc_tls_client_cache **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : RTC_ENOMEM;
}

static void drop(cache_entry *e)
{
    rtc_tls_context_unref(e->ctx);
    free(e->ca_file);
}

void rtc_tls_client_cache_free(rtc_tls_client_cache *c)
{
    if (!c) return;
    for (int i = 0; i < c->n; i++) drop(&c->e[i]);
    free(c);
}

int rtc_tls_client_cache_size(const rtc_tls_client_cache *c) { return c->n; }

static bool same_file(const cache_entry *e, const struct stat *st)
{
    return e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
           e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

int rtc_tls_client_cache_get(rtc_tls_client_cache *c, const char *ca_file, rtc_tls_context **out,
                             char *err, size_t errlen)
{
    *out = NULL;
    struct stat st = { 0 };
    /* A file that cannot be looked at is left to OpenSSL to report (and not cached). */
    bool known = !ca_file || stat(ca_file, &st) == 0;
    for (int i = 0; known && i < c->n; i++) {
        cache_entry *e = &c->e[i];
        if ((e->ca_file == NULL) != (ca_file == NULL) || (ca_file && strcmp(e->ca_file, ca_file) != 0)) continue;
        if (!ca_file || same_file(e, &st)) { *out = rtc_tls_context_ref(e->ctx); return 0; }
        drop(e);              /* the file changed: this configuration is made anew */
        memmove(e, e + 1, (size_t)(c->n - i - 1) * sizeof *e);
        c->n--;
        break;
    }
    rtc_tls_context_config tc = { .role = RTC_TLS_CLIENT, .ca_file = ca_file };
    rtc_tls_context *ctx;
    int r = rtc_tls_context_new(&ctx, &tc, err, errlen);
    if (r < 0) return r;
    char *name = ca_file ? strdup(ca_file) : NULL;
    if (known && (!ca_file || name)) {
        if (c->n == RTC_TLS_CLIENT_CACHE_MAX) {
            drop(&c->e[0]);
            memmove(&c->e[0], &c->e[1], (size_t)(c->n - 1) * sizeof c->e[0]);
            c->n--;
        }
        c->e[c->n++] = (cache_entry){ .ca_file = name, .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
                                      .mtime = st.st_mtim, .ctx = rtc_tls_context_ref(ctx) };
    } else
        free(name);
    *out = ctx;
    return 0;
}
