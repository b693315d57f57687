/* Logging with levels and per-module tags, filtered by a spec such as
 * "info,ice=debug,dtls=trace" (the RTC_LOG environment variable). Lines go to stderr:
 *   12.345678 I ice pc3: message
 * (seconds since the first log line's process start, level letter, tag, and the id of
 * the connection the line concerns when there is one), or with the "json" format
 * (RTC_LOG_FORMAT=json) one JSON object a line:
 *   {"time":"2026-12-07T09:50:50.123456Z","level":"info","module":"ice","conn":"pc3","msg":"..."}
 * The enabled check is a small table lookup, so disabled logs cost a branch. */
#ifndef RTC_LOG_H
#define RTC_LOG_H
#include <stdarg.h>
#include <stdbool.h>

typedef enum { RTC_LOG_TRACE, RTC_LOG_DEBUG, RTC_LOG_INFO, RTC_LOG_WARN, RTC_LOG_ERROR, RTC_LOG_OFF } rtc_log_level;

/* Replace the filter. Unknown level names give RTC_EINVAL and leave the filter unchanged. */
int rtc_log_set_filter(const char *spec);
/* The level in force for a tag (the tag's own, else the default). */
rtc_log_level rtc_log_level_for(const char *tag);
bool rtc_log_enabled(const char *tag, rtc_log_level lvl);
/* Parse "trace"/"debug"/"info"/"warn"/"error"/"off"; -1 if unknown. */
int rtc_log_level_parse(const char *name);

/* Where lines go; NULL restores stderr. Tests capture lines with this. */
typedef void (*rtc_log_sink_cb)(rtc_log_level lvl, const char *tag, const char *line, void *ud);
void rtc_log_set_sink(rtc_log_sink_cb cb, void *ud);

/* Output format: "text" (default) or "json". Unknown names give RTC_EINVAL. */
int rtc_log_set_format(const char *name);
const char *rtc_log_format(void);

/* The connection the lines written now concern. Machines do not know their connection:
 * whoever feeds one (io/rtc_pc_host, the Lua binding) enters its id around the call,
 * so every line logged inside, by any layer, carries it. `id` is borrowed and must
 * stay valid until the matching leave; enter returns the previous id (NULL = none),
 * which leave restores. Per thread, so workers on their own loops do not mix ids. */
const char *rtc_log_conn_enter(const char *id);
void rtc_log_conn_leave(const char *prev);
const char *rtc_log_conn(void);   /* NULL when no connection is entered */

void rtc_log_write(rtc_log_level lvl, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rtc_log_vwrite(rtc_log_level lvl, const char *tag, const char *fmt, va_list ap);

#define RTC_LOG(lvl, tag, ...) \
    do { if (rtc_log_enabled(tag, lvl)) rtc_log_write(lvl, tag, __VA_ARGS__); } while (0)
#define rtc_trace(tag, ...) RTC_LOG(RTC_LOG_TRACE, tag, __VA_ARGS__)
#define rtc_debug(tag, ...) RTC_LOG(RTC_LOG_DEBUG, tag, __VA_ARGS__)
#define rtc_info(tag, ...)  RTC_LOG(RTC_LOG_INFO, tag, __VA_ARGS__)
#define rtc_warn(tag, ...)  RTC_LOG(RTC_LOG_WARN, tag, __VA_ARGS__)
#define rtc_error(tag, ...) RTC_LOG(RTC_LOG_ERROR, tag, __VA_ARGS__)

#endif
