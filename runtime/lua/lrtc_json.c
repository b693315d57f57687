/* rtc.json: a strict RFC 8259 codec between JSON text and Lua values.
 *
 * Decoding rejects what browsers' JSON.parse rejects (trailing commas, comments,
 * single quotes, leading zeros, NaN, bad escapes, lone surrogates, control
 * characters, invalid UTF-8) and says where: "JSON: line 1 col 7: expected ':'".
 * null decodes to rtc.json.null; arrays get the array marker metatable so that `[]`
 * and nulls inside arrays survive a round trip. Integers that fit in 64 bits decode
 * as Lua integers, everything else as floats.
 *
 * Encoding: a table is an array when it carries the array marker (rtc.json.array),
 * or when its keys are exactly 1..n (n >= 1); it is an object when it carries the
 * object marker (rtc.json.object) or otherwise. An unmarked empty table is `{}`.
 * Integer keys of an object become strings. Unmarked tables with holes, NaN/inf,
 * functions, invalid UTF-8 and nesting deeper than JSON_MAX_DEPTH raise errors. */
#include "lua/lrtc.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 500
#define ARRAY_MT "rtc.json.array"
#define OBJECT_MT "rtc.json.object"

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid
 * (overlong forms, UTF-16 surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80) return 1;
    if (c < 0xC2) return 0;
    if (c < 0xE0) return n >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;          /* overlong */
        if (c == 0xED && s[1] >= 0xA0) return 0;         /* surrogate */
        return 3;
    }
    if (c < 0xF5) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;          /* overlong */
        if (c == 0xF4 && s[1] >= 0x90) return 0;         /* above U+10FFFF */
        return 4;
    }
    return 0;
}

/* {====== encoder ====== */

/* Our own output buffer: luaL_Buffer needs its box on top of the stack, but the
 * encoder walks tables with the stack. The storage is a userdata at a fixed stack
 * slot, so an error raised mid-encode leaks nothing. */
typedef struct sbuf { char *p; size_t len, cap; int slot; } sbuf;
typedef struct enc { lua_State *L; sbuf b; int depth; } enc;

static void sb_grow(lua_State *L, sbuf *b, size_t need)
{
    size_t cap = b->cap;
    while (cap - b->len < need) cap *= 2;
    char *np = lua_newuserdatauv(L, cap, 0);
    memcpy(np, b->p, b->len);
    lua_replace(L, b->slot);
    b->p = np;
    b->cap = cap;
}
#define SB_CHAR(B, c) do { sbuf *b_ = (B); if (b_->len == b_->cap) sb_grow(e->L, b_, 1); b_->p[b_->len++] = (c); } while (0)
#define SB_LSTR(B, s, n) sb_add(e->L, (B), (s), (n))
#define SB_STR(B, s) do { const char *s_ = (s); sb_add(e->L, (B), s_, strlen(s_)); } while (0)
static void sb_add(lua_State *L, sbuf *b, const char *s, size_t n)
{
    if (b->cap - b->len < n) sb_grow(L, b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void enc_value(enc *e, int idx);

static int enc_error(enc *e, const char *msg)
{
    return luaL_error(e->L, "rtc.json.encode: %s", msg);
}

static void enc_string(enc *e, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    SB_CHAR(&e->b, '"');
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t k = utf8_len((const unsigned char *)s + i, len - i);
            if (!k) enc_error(e, "invalid UTF-8 in string (binary data must be encoded first)");
            SB_LSTR(&e->b, s + i, k);
            i += k;
            continue;
        }
        switch (c) {
        case '"': SB_STR(&e->b, "\\\""); break;
        case '\\': SB_STR(&e->b, "\\\\"); break;
        case '\n': SB_STR(&e->b, "\\n"); break;
        case '\r': SB_STR(&e->b, "\\r"); break;
        case '\t': SB_STR(&e->b, "\\t"); break;
        case '\b': SB_STR(&e->b, "\\b"); break;
        case '\f': SB_STR(&e->b, "\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char u[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
                SB_STR(&e->b, u);
            } else {
                SB_CHAR(&e->b, (char)c);
            }
        }
        i++;
    }
    SB_CHAR(&e->b, '"');
}

static void enc_number(enc *e, int idx)
{
    char buf[64];
    if (lua_isinteger(e->L, idx)) {
        snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(e->L, idx));
    } else {
        double d = lua_tonumber(e->L, idx);
        if (!isfinite(d)) enc_error(e, "cannot encode NaN or infinity");
        /* the shortest of %.15g..%.17g that reads back exactly */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
        if (!strpbrk(buf, ".eE")) strcat(buf, ".0");    /* keep it a float on the way back */
    }
    SB_STR(&e->b, buf);
}

static int has_mt(lua_State *L, int idx, const char *name)
{
    if (!lua_getmetatable(L, idx)) return 0;
    luaL_getmetatable(L, name);
    int r = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return r;
}

/* 1..n array length if the table's keys are exactly 1..n (n >= 1), else -1. */
static lua_Integer array_len(lua_State *L, int idx)
{
    lua_Integer count = 0, max = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1) { lua_pop(L, 1); return -1; }
        lua_Integer k = lua_tointeger(L, -1);
        if (k > max) max = k;
        count++;
    }
    if (count == 0) return -1;
    return max == count ? count : -2;
}

static void enc_table(enc *e, int idx)
{
    lua_State *L = e->L;
    if (++e->depth > JSON_MAX_DEPTH) enc_error(e, "nesting too deep (or a cycle)");
    luaL_checkstack(L, 6, "rtc.json.encode");
    lua_Integer n;
    int marked_array = has_mt(L, idx, ARRAY_MT);
    int marked_object = !marked_array && has_mt(L, idx, OBJECT_MT);
    if (marked_array) n = (lua_Integer)lua_rawlen(L, idx);
    else if (marked_object) n = -1;
    else n = array_len(L, idx);
    if (n == -2) enc_error(e, "table has holes or non-sequence integer keys (mark it with rtc.json.array to encode holes as null)");
    if (n >= 0) {
        SB_CHAR(&e->b, '[');
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) SB_CHAR(&e->b, ',');
            lua_rawgeti(L, idx, i);
            enc_value(e, lua_gettop(L));
            lua_pop(L, 1);
        }
        SB_CHAR(&e->b, ']');
    } else {
        int first = 1;
        SB_CHAR(&e->b, '{');
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (!first) SB_CHAR(&e->b, ',');
            first = 0;
            int kt = lua_type(L, -2);
            if (kt == LUA_TSTRING) {
                size_t kl;
                const char *k = lua_tolstring(L, -2, &kl);
                enc_string(e, k, kl);
            } else if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
                char kb[32];
                snprintf(kb, sizeof kb, "%lld", (long long)lua_tointeger(L, -2));
                enc_string(e, kb, strlen(kb));
            } else {
                enc_error(e, lua_pushfstring(L, "cannot encode a %s key", luaL_typename(L, -2)));
            }
            SB_CHAR(&e->b, ':');
            enc_value(e, lua_gettop(L));
            lua_pop(L, 1);
        }
        SB_CHAR(&e->b, '}');
    }
    e->depth--;
}

static void enc_value(enc *e, int idx)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: SB_STR(&e->b, "null"); break;
    case LUA_TBOOLEAN: SB_STR(&e->b, lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TNUMBER: enc_number(e, idx); break;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        enc_string(e, s, len);
        break;
    }
    case LUA_TTABLE: enc_table(e, idx); break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL) { SB_STR(&e->b, "null"); break; }
        /* fallthrough */
    default:
        enc_error(e, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
    }
}

/* rtc.json.encode(value) -> string */
static int l_encode(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    enc e = { .L = L };
    e.b.cap = 256;
    e.b.p = lua_newuserdatauv(L, e.b.cap, 0);
    e.b.slot = lua_gettop(L);
    enc_value(&e, 1);
    lua_pushlstring(L, e.b.p, e.b.len);
    return 1;
}

#undef SB_CHAR
#undef SB_LSTR
#undef SB_STR

/* }====== */

/* {====== decoder ====== */

typedef struct dec {
    lua_State *L;
    const char *s, *p, *end;
    int depth;
    char err[200];
    const char *errp;
} dec;

static int dec_fail(dec *d, const char *where, const char *fmt, ...)
{
    if (d->errp) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->err, sizeof d->err, fmt, ap);
    va_end(ap);
    d->errp = where;
    return -1;
}

static void skip_ws(dec *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r')) d->p++;
}

static int dec_value(dec *d);

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void add_utf8(luaL_Buffer *b, unsigned cp)
{
    char u[4];
    int n;
    if (cp < 0x80) { u[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { u[0] = (char)(0xC0 | cp >> 6); u[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12); u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18); u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); u[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    luaL_addlstring(b, u, (size_t)n);
}

/* At the opening quote. Pushes the string. */
static int dec_string(dec *d)
{
    lua_State *L = d->L;
    luaL_Buffer b;
    const char *start = ++d->p;
    /* fast path: no escapes */
    while (d->p < d->end && *d->p != '"' && *d->p != '\\' && (unsigned char)*d->p >= 0x20 && (unsigned char)*d->p < 0x80) d->p++;
    if (d->p < d->end && *d->p == '"') {
        lua_pushlstring(L, start, (size_t)(d->p - start));
        d->p++;
        return 0;
    }
    luaL_buffinit(L, &b);
    luaL_addlstring(&b, start, (size_t)(d->p - start));
    for (;;) {
        if (d->p >= d->end) { luaL_pushresult(&b); lua_pop(L, 1); return dec_fail(d, d->p, "unterminated string"); }
        unsigned char c = (unsigned char)*d->p;
        if (c == '"') { d->p++; break; }
        if (c < 0x20) { luaL_pushresult(&b); lua_pop(L, 1); return dec_fail(d, d->p, "control character in string"); }
        if (c >= 0x80) {
            size_t k = utf8_len((const unsigned char *)d->p, (size_t)(d->end - d->p));
            if (!k) { luaL_pushresult(&b); lua_pop(L, 1); return dec_fail(d, d->p, "invalid UTF-8"); }
            luaL_addlstring(&b, d->p, k);
            d->p += k;
            continue;
        }
        if (c != '\\') { luaL_addchar(&b, (char)c); d->p++; continue; }
        const char *esc = d->p;
        if (d->p + 1 >= d->end) { luaL_pushresult(&b); lua_pop(L, 1); return dec_fail(d, d->p, "unterminated string"); }
        char x = d->p[1];
        d->p += 2;
        switch (x) {
        case '"': luaL_addchar(&b, '"'); break;
        case '\\': luaL_addchar(&b, '\\'); break;
        case '/': luaL_addchar(&b, '/'); break;
        case 'b': luaL_addchar(&b, '\b'); break;
        case 'f': luaL_addchar(&b, '\f'); break;
        case 'n': luaL_addchar(&b, '\n'); break;
        case 'r': luaL_addchar(&b, '\r'); break;
        case 't': luaL_addchar(&b, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (d->end - d->p < 4 || hex4(d->p, &cp) < 0) {
                luaL_pushresult(&b); lua_pop(L, 1);
                return dec_fail(d, esc, "invalid \\u escape");
            }
            d->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (d->end - d->p < 6 || d->p[0] != '\\' || d->p[1] != 'u' || hex4(d->p + 2, &lo) < 0
                    || lo < 0xDC00 || lo > 0xDFFF) {
                    luaL_pushresult(&b); lua_pop(L, 1);
                    return dec_fail(d, esc, "lone surrogate in \\u escape");
                }
                d->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                luaL_pushresult(&b); lua_pop(L, 1);
                return dec_fail(d, esc, "lone surrogate in \\u escape");
            }
            add_utf8(&b, cp);
            break;
        }
        default:
            luaL_pushresult(&b); lua_pop(L, 1);
            return dec_fail(d, esc, "invalid escape '\\%c'", x >= 0x20 && x < 0x7f ? x : '?');
        }
    }
    luaL_pushresult(&b);
    return 0;
}

static int dec_number(dec *d)
{
    const char *p = d->p, *start = p;
    int is_float = 0;
    if (p < d->end && *p == '-') p++;
    if (p >= d->end || !(*p >= '0' && *p <= '9')) return dec_fail(d, start, "invalid number");
    if (*p == '0') {
        p++;
        if (p < d->end && *p >= '0' && *p <= '9') return dec_fail(d, start, "invalid number (leading zero)");
    } else {
        while (p < d->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < d->end && *p == '.') {
        is_float = 1;
        p++;
        if (p >= d->end || !(*p >= '0' && *p <= '9')) return dec_fail(d, start, "invalid number (digit expected after '.')");
        while (p < d->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < d->end && (*p == 'e' || *p == 'E')) {
        is_float = 1;
        p++;
        if (p < d->end && (*p == '+' || *p == '-')) p++;
        if (p >= d->end || !(*p >= '0' && *p <= '9')) return dec_fail(d, start, "invalid number (digit expected in exponent)");
        while (p < d->end && *p >= '0' && *p <= '9') p++;
    }
    size_t n = (size_t)(p - start);
    char buf[128];
    char *tmp = n < sizeof buf ? buf : malloc(n + 1);
    if (!tmp) return dec_fail(d, start, "out of memory");
    memcpy(tmp, start, n);
    tmp[n] = 0;
    if (!is_float) {
        errno = 0;
        long long v = strtoll(tmp, NULL, 10);
        if (errno == ERANGE) is_float = 1;
        else lua_pushinteger(d->L, (lua_Integer)v);
    }
    if (is_float) {
        double v = strtod(tmp, NULL);
        if (tmp != buf) free(tmp);
        /* encode() refuses infinity, so decode() must not produce it: a
         * value like 1e400 would otherwise become a number no peer sent and
         * that cannot be sent back. */
        if (!isfinite(v)) return dec_fail(d, start, "number out of range");
        lua_pushnumber(d->L, v);
    } else if (tmp != buf) {
        free(tmp);
    }
    d->p = p;
    return 0;
}

static int dec_literal(dec *d, const char *lit, size_t n)
{
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, lit, n) != 0)
        return dec_fail(d, d->p, "unexpected character '%c'", *d->p);
    d->p += n;
    return 0;
}

static int dec_array(dec *d)
{
    lua_State *L = d->L;
    d->p++;
    lua_newtable(L);
    luaL_setmetatable(L, ARRAY_MT);
    lua_Integer i = 0;
    skip_ws(d);
    if (d->p < d->end && *d->p == ']') { d->p++; return 0; }
    for (;;) {
        skip_ws(d);
        if (d->p < d->end && *d->p == ']') return dec_fail(d, d->p, "trailing comma in array");
        if (dec_value(d) < 0) return -1;
        lua_rawseti(L, -2, ++i);
        skip_ws(d);
        if (d->p >= d->end) return dec_fail(d, d->p, "unexpected end of input, expected ',' or ']'");
        if (*d->p == ']') { d->p++; return 0; }
        if (*d->p != ',') return dec_fail(d, d->p, "expected ',' or ']'");
        d->p++;
    }
}

static int dec_object(dec *d)
{
    lua_State *L = d->L;
    d->p++;
    lua_newtable(L);
    skip_ws(d);
    if (d->p < d->end && *d->p == '}') { d->p++; return 0; }
    for (;;) {
        skip_ws(d);
        if (d->p >= d->end) return dec_fail(d, d->p, "unexpected end of input, expected a key");
        if (*d->p == '}') return dec_fail(d, d->p, "trailing comma in object");
        if (*d->p != '"') return dec_fail(d, d->p, "expected a string key");
        if (dec_string(d) < 0) return -1;
        skip_ws(d);
        if (d->p >= d->end || *d->p != ':') return dec_fail(d, d->p, "expected ':'");
        d->p++;
        skip_ws(d);
        if (dec_value(d) < 0) { lua_pop(L, 1); return -1; }
        lua_rawset(L, -3);
        skip_ws(d);
        if (d->p >= d->end) return dec_fail(d, d->p, "unexpected end of input, expected ',' or '}'");
        if (*d->p == '}') { d->p++; return 0; }
        if (*d->p != ',') return dec_fail(d, d->p, "expected ',' or '}'");
        d->p++;
    }
}

/* Pushes one value, or returns -1 with the error recorded (the stack may then hold
 * partial results; the caller resets it). */
static int dec_value(dec *d)
{
    skip_ws(d);
    if (d->p >= d->end) return dec_fail(d, d->p, "unexpected end of input");
    if (!lua_checkstack(d->L, 4)) return dec_fail(d, d->p, "out of stack space");
    int r;
    switch (*d->p) {
    case '{':
    case '[':
        if (++d->depth > JSON_MAX_DEPTH) return dec_fail(d, d->p, "nesting deeper than %d", JSON_MAX_DEPTH);
        r = *d->p == '{' ? dec_object(d) : dec_array(d);
        d->depth--;
        return r;
    case '"': return dec_string(d);
    case 't': if (dec_literal(d, "true", 4) < 0) return -1; lua_pushboolean(d->L, 1); return 0;
    case 'f': if (dec_literal(d, "false", 5) < 0) return -1; lua_pushboolean(d->L, 0); return 0;
    case 'n': if (dec_literal(d, "null", 4) < 0) return -1; lua_pushlightuserdata(d->L, NULL); return 0;
    default:
        if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) return dec_number(d);
        if ((unsigned char)*d->p >= 0x80)
            return dec_fail(d, d->p, "unexpected byte 0x%02x", (unsigned char)*d->p);
        return dec_fail(d, d->p, "unexpected character '%c'", *d->p);
    }
}

/* rtc.json.decode(text) -> value | nil, "SyntaxError: JSON: line L col C: msg", "SyntaxError" */
static int l_decode(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_settop(L, 1);
    dec d = { .L = L, .s = s, .p = s, .end = s + len };
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) dec_fail(&d, s, "byte order mark not allowed");
    else if (dec_value(&d) == 0) {
        skip_ws(&d);
        if (d.p < d.end) dec_fail(&d, d.p, "unexpected trailing characters");
    }
    if (!d.errp) return 1;
    lua_settop(L, 1);
    int line = 1, col = 1;
    for (const char *q = s; q < d.errp; q++) {
        if (*q == '\n') { line++; col = 1; }
        else if (((unsigned char)*q & 0xC0) != 0x80) col++;   /* columns count characters */
    }
    return lrtc_push_error(L, RTC_EPROTO, "JSON: line %d col %d: %s", line, col, d.err);
}

/* }====== */

static int mark(lua_State *L, const char *mt)
{
    if (lua_isnoneornil(L, 1)) { lua_settop(L, 0); lua_newtable(L); }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_setmetatable(L, mt);
    return 1;
}
static int l_array(lua_State *L) { return mark(L, ARRAY_MT); }
static int l_object(lua_State *L) { return mark(L, OBJECT_MT); }
static int l_is_array(lua_State *L) { lua_pushboolean(L, lua_istable(L, 1) && has_mt(L, 1, ARRAY_MT)); return 1; }

void lrtc__open_json(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        { "encode", l_encode }, { "decode", l_decode }, { "array", l_array }, { "object", l_object },
        { "is_array", l_is_array }, { NULL, NULL } };
    luaL_newmetatable(L, ARRAY_MT);
    lua_pop(L, 1);
    luaL_newmetatable(L, OBJECT_MT);
    lua_pop(L, 1);
    lua_newtable(L);
    luaL_setfuncs(L, funcs, 0);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
    lua_setfield(L, -2, "json");
}
