/* Minimal C test harness (libuv's task.h style): ASSERT_* abort with file:line and
 * the values; each test file is one executable registered with ctest. */
#ifndef RTC_TEST_H
#define RTC_TEST_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTC_TEST_FAIL(...) do { \
    fprintf(stderr, "%s:%d: assertion failed: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

#define ASSERT(c) do { if (!(c)) RTC_TEST_FAIL("%s", #c); } while (0)
#define ASSERT_EQ(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a != _b) RTC_TEST_FAIL("%s == %s (%lld != %lld)", #a, #b, _a, _b); } while (0)
#define ASSERT_NE(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (_a == _b) RTC_TEST_FAIL("%s != %s (both %lld)", #a, #b, _a); } while (0)
#define ASSERT_GE(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (!(_a >= _b)) RTC_TEST_FAIL("%s >= %s (%lld < %lld)", #a, #b, _a, _b); } while (0)
#define ASSERT_LE(a, b) do { long long _a = (long long)(a), _b = (long long)(b); \
    if (!(_a <= _b)) RTC_TEST_FAIL("%s <= %s (%lld > %lld)", #a, #b, _a, _b); } while (0)
#define ASSERT_OK(e) do { long long _r = (long long)(e); \
    if (_r < 0) RTC_TEST_FAIL("%s returned %lld", #e, _r); } while (0)
#define ASSERT_STREQ(a, b) do { const char *_a = (a), *_b = (b); \
    if (!_a || !_b || strcmp(_a, _b)) RTC_TEST_FAIL("%s == %s (\"%s\" != \"%s\")", #a, #b, _a ? _a : "(null)", _b ? _b : "(null)"); } while (0)
#define ASSERT_MEMEQ(a, b, n) do { if (memcmp((a), (b), (n))) RTC_TEST_FAIL("memcmp(%s, %s, %s)", #a, #b, #n); } while (0)

/* RUN(test_fn) prints the name and runs it; a test file's main is a list of RUNs. */
#define RUN(fn) do { fprintf(stderr, "-- %s\n", #fn); fn(); } while (0)

#endif
