/* Worker messages (lua/lrtc_msg.h): plain Lua values copied from one Lua state into
 * another, and what is refused with a clear error: functions, userdata, threads,
 * cycles, tables as keys, nesting past the bound, encodings past the byte limit, and
 * corrupt or truncated buffers on the decoding side. */
#include "rtc_test.h"
#include "core/rtc_errors.h"
#include "lua/lrtc_msg.h"
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <string.h>

static lua_State *A, *B;   /* sender and receiver: two separate states, as two workers */

/* Run `src` in A (it returns one value), encode it; returns the code, err filled. */
static int encode_src(const char *src, size_t max, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    if (luaL_dostring(A, src) != LUA_OK) RTC_TEST_FAIL("lua: %s", lua_tostring(A, -1));
    int top = lua_gettop(A);
    int r = lrtc_msg_encode(A, -1, max, out, len, err, errlen);
    ASSERT_EQ(lua_gettop(A), top);         /* the stack is left as it was, error or not */
    lua_settop(A, 0);
    return r;
}

/* src's value, copied into B, must satisfy the Lua predicate `check` (given v). */
static void roundtrip(const char *src, const char *check)
{
    uint8_t *buf;
    size_t len;
    char err[320];
    ASSERT_OK(encode_src(src, 1 << 20, &buf, &len, err, sizeof err));
    ASSERT_OK(lrtc_msg_decode(B, buf, len, err, sizeof err));
    free(buf);
    lua_setglobal(B, "v");
    if (luaL_dostring(B, check) != LUA_OK) RTC_TEST_FAIL("%s: %s", check, lua_tostring(B, -1));
    if (!lua_toboolean(B, -1)) RTC_TEST_FAIL("check failed: %s for %s", check, src);
    lua_settop(B, 0);
}

static void refused(const char *src, int code, const char *needle)
{
    uint8_t *buf = (uint8_t *)"x";
    size_t len = 7;
    char err[320];
    int r = encode_src(src, 1 << 20, &buf, &len, err, sizeof err);
    if (r != code) RTC_TEST_FAIL("%s: expected %d, got %d (%s)", src, code, r, err);
    ASSERT(buf == NULL);
    ASSERT_EQ(len, 0);
    if (!strstr(err, needle)) RTC_TEST_FAIL("%s: message '%s' lacks '%s'", src, err, needle);
}

static void test_plain_values(void)
{
    roundtrip("return nil", "return v == nil");
    roundtrip("return true", "return v == true");
    roundtrip("return false", "return v == false");
    roundtrip("return math.mininteger", "return math.type(v) == 'integer' and v == math.mininteger");
    roundtrip("return 3", "return math.type(v) == 'integer' and v == 3");
    roundtrip("return 3.0", "return math.type(v) == 'float' and v == 3.0");
    roundtrip("return 0/0", "return v ~= v");
    roundtrip("return -math.huge", "return v == -math.huge");
    roundtrip("return 'a\\0b'", "return v == 'a\\0b' and #v == 3");
    roundtrip("return string.rep('x', 100000)", "return #v == 100000");
    roundtrip("return {}", "return type(v) == 'table' and next(v) == nil");
    roundtrip("return {1, 2, 3, n = 'three', [true] = false, [2.5] = 'f'}",
              "return #v == 3 and v[3] == 3 and v.n == 'three' and v[true] == false and v[2.5] == 'f'");
    roundtrip("return {a = {b = {c = {'deep'}}}}", "return v.a.b.c[1] == 'deep'");
}

static void test_shared_tables_are_copied(void)
{
    /* Not a cycle: the same table on two paths arrives as two equal copies. */
    roundtrip("local s = {x = 1}; return {s, s, {s}}", "return v[1].x == 1 and v[2].x == 1 and v[3][1].x == 1 and v[1] ~= v[2]");
    /* Metatables stay behind; the raw contents travel. */
    roundtrip("return setmetatable({k = 1}, {__index = function() return 'meta' end})",
              "return v.k == 1 and v.other == nil and getmetatable(v) == nil");
}

static void test_hostile_values(void)
{
    refused("return print", RTC_EINVAL, "cannot copy a function (at msg)");
    refused("return {a = {b = {function() end}}}", RTC_EINVAL, "cannot copy a function (at msg.a.b[1])");
    refused("return {io.stdout}", RTC_EINVAL, "cannot copy a userdata (at msg[1])");
    refused("return {co = coroutine.create(print)}", RTC_EINVAL, "cannot copy a thread (at msg.co)");
    refused("local t = {}; t.self = t; return t", RTC_EINVAL, "cannot copy a cycle: a table that contains itself (at msg.self)");
    refused("local t = {x = {y = {}}}; t.x.y.z = t; return t", RTC_EINVAL, "cycle: a table that contains itself (at msg.x.y.z)");
    refused("return {[{}] = 1}", RTC_EINVAL, "table used as a key");
    refused("return {[print] = 1}", RTC_EINVAL, "function used as a key");
    /* Nesting: exactly the bound passes, one more is refused. */
    char src[512];
    snprintf(src, sizeof src, "local t = 'leaf'; for i = 1, %d do t = {t} end; return t", LRTC_MSG_MAX_DEPTH);
    roundtrip(src, "local d = 0; while type(v) == 'table' do v = v[1]; d = d + 1 end; return d == 32 and v == 'leaf'");
    snprintf(src, sizeof src, "local t = 'leaf'; for i = 1, %d do t = {t} end; return t", LRTC_MSG_MAX_DEPTH + 1);
    refused(src, RTC_EINVAL, "nested deeper than 32");
    refused("local t = {}; for i = 1, 10000 do t = {t} end; return t", RTC_EINVAL, "nested deeper than 32");
}

static void test_size_bound(void)
{
    uint8_t *buf;
    size_t len;
    char err[320];
    ASSERT_EQ(encode_src("return string.rep('x', 2000)", 1000, &buf, &len, err, sizeof err), RTC_ETOOBIG);
    ASSERT(strstr(err, "message too large") != NULL);
    /* A DAG whose tree is 2^30 leaves: the byte bound stops the walk early. */
    ASSERT_EQ(encode_src("local t = {'leaf'}; for i = 1, 30 do t = {t, t} end; return t", 1 << 16,
                         &buf, &len, err, sizeof err), RTC_ETOOBIG);
    ASSERT_OK(encode_src("return string.rep('x', 900)", 1000, &buf, &len, err, sizeof err));
    ASSERT_LE(len, 1000);
    free(buf);
}

static void corrupt(const uint8_t *p, size_t n, const char *needle)
{
    char err[160] = "";
    int top = lua_gettop(B);
    int r = lrtc_msg_decode(B, p, n, err, sizeof err);
    ASSERT(r < 0);
    ASSERT_EQ(lua_gettop(B), top);         /* nothing pushed */
    if (!strstr(err, needle)) RTC_TEST_FAIL("decode error '%s' lacks '%s'", err, needle);
}

static void test_corrupt_buffers(void)
{
    uint8_t *buf;
    size_t len;
    char err[320];
    ASSERT_OK(encode_src("return {list = {1, 2.5, 'three'}, flag = true, name = 'abc'}", 1 << 20, &buf, &len, err, sizeof err));
    /* Every truncation is an error, never a read past the end (ASan would see one). */
    for (size_t n = 0; n < len; n++) corrupt(buf, n, "corrupt message");
    /* Every single-byte change either decodes to something or fails cleanly. */
    for (size_t i = 0; i < len; i++) {
        uint8_t *c = malloc(len);
        memcpy(c, buf, len);
        for (int v = 0; v < 256; v += 7) {
            c[i] = (uint8_t)v;
            if (lrtc_msg_decode(B, c, len, err, sizeof err) == 0) lua_pop(B, 1);
        }
        free(c);
    }
    free(buf);
    corrupt((const uint8_t *)"Z", 1, "unknown tag");
    corrupt((const uint8_t *)"}", 1, "unexpected end of table");
    corrupt((const uint8_t *)"tt", 2, "trailing bytes");
    corrupt((const uint8_t *)"{nt}", 4, "invalid key");
    corrupt((const uint8_t *)"{{}t}", 5, "invalid key");
    uint8_t big_str[] = { 's', 0xff, 0xff, 0xff, 0x7f, 'a' };
    corrupt(big_str, sizeof big_str, "truncated string");
    /* Nesting crafted past the bound is refused by the decoder too. */
    uint8_t deep[200];
    memset(deep, '{', sizeof deep);
    corrupt(deep, sizeof deep, "nested too deep");
    /* Several values one after another (spawn arguments). */
    ASSERT_EQ(lrtc_msg_decode_all(B, (const uint8_t *)"tfn", 3, err, sizeof err), 3);
    lua_settop(B, 0);
    ASSERT(lrtc_msg_decode_all(B, (const uint8_t *)"tf{", 3, err, sizeof err) < 0);
    ASSERT_EQ(lua_gettop(B), 0);
}

int main(void)
{
    A = luaL_newstate();
    B = luaL_newstate();
    luaL_openlibs(A);
    luaL_openlibs(B);
    RUN(test_plain_values);
    RUN(test_shared_tables_are_copied);
    RUN(test_hostile_values);
    RUN(test_size_bound);
    RUN(test_corrupt_buffers);
    lua_close(A);
    lua_close(B);
    return 0;
}
