#include "rtc_errors.h"

const char *rtc_err_name(int err)
{
    switch (err) {
#define RTC__ERR_NAME(s, v, d, m) case (v): return "E" #s;
        RTC_ERRNO_MAP(RTC__ERR_NAME)
#undef RTC__ERR_NAME
    default: return "EUNKNOWN";
    }
}

const char *rtc_err_domname(int err)
{
    switch (err) {
#define RTC__ERR_DOM(s, v, d, m) case (v): return d;
        RTC_ERRNO_MAP(RTC__ERR_DOM)
#undef RTC__ERR_DOM
    default: return "OperationError";
    }
}

const char *rtc_strerror(int err)
{
    switch (err) {
#define RTC__ERR_MSG(s, v, d, m) case (v): return m;
        RTC_ERRNO_MAP(RTC__ERR_MSG)
#undef RTC__ERR_MSG
    default: return "unknown error";
    }
}
