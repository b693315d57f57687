/* Plain Lua values to bytes and back (lrtc_msg.h).
 *
 * Format, one tag byte per value:
 *   'n' nil | 'f' false | 't' true | 'i' int64 (8 bytes) | 'd' double (8 bytes)
 *   's' u32 length + bytes | '{' key value ... '}'
 * Numbers are in host byte order: both ends are threads of one process. */
#include "lua/lrtc_msg.h"
#include "core/rtc_errors.h"
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {====== encoder ====== */

typedef struct path_item {
    int is_str;
    const char *s;     /* a string key, valid while its table is being walked */
    size_t slen;
    lua_Integer i;
    int other;         /* a key shown as "[?]" (float, boolean) */
} path_item;

typedef struct enc {
    lua_State *L;
    uint8_t *buf;
    size_t len, cap, max;
    int seen;          /* stack index of the table of tables on the current path */
    int depth;
    path_item path[LRTC_MSG_MAX_DEPTH + 1];
    char *err;
    size_t errlen;
} enc;

static void path_str(const enc *e, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "msg");
    for (int d = 0; d < e->depth && n < cap; d++) {
        const path_item *p = &e->path[d];
        if (p->is_str) n += (size_t)snprintf(out + n, cap - n, ".%.*s", (int)(p->slen > 40 ? 40 : p->slen), p->s);
        else if (p->other) n += (size_t)snprintf(out + n, cap - n, "[?]");
        else n += (size_t)snprintf(out + n, cap - n, "[%lld]", (long long)p->i);
    }
}

static int fail(enc *e, int code, const char *what)
{
    char where[256];
    path_str(e, where, sizeof where);
    snprintf(e->err, e->errlen, "%s (at %s)", what, where);
    return code;
}

static int put(enc *e, const void *p, size_t n)
{
    if (e->len + n > e->max) return fail(e, RTC_ETOOBIG, "message too large");
    if (e->len + n > e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 256;
        while (cap < e->len + n) cap *= 2;
        if (cap > e->max) cap = e->max;
        uint8_t *nb = realloc(e->buf, cap);
        if (!nb) return fail(e, RTC_ENOMEM, "out of memory");
        e->buf = nb;
        e->cap = cap;
    }
    memcpy(e->buf + e->len, p, n);
    e->len += n;
    return 0;
}

static int put_tag(enc *e, char t) { return put(e, &t, 1); }

static int enc_value(enc *e, int idx, int is_key);

static int enc_table(enc *e, int idx)
{
    lua_State *L = e->L;
    if (e->depth >= LRTC_MSG_MAX_DEPTH) {
        char m[64];
        snprintf(m, sizeof m, "tables nested deeper than %d", LRTC_MSG_MAX_DEPTH);
        return fail(e, RTC_EINVAL, m);
    }
    if (!lua_checkstack(L, 6)) return fail(e, RTC_ENOMEM, "out of stack space");
    lua_pushvalue(L, idx);
    if (lua_rawget(L, e->seen) != LUA_TNIL) {
        lua_pop(L, 1);
        return fail(e, RTC_EINVAL, "cannot copy a cycle: a table that contains itself");
    }
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
    lua_pushboolean(L, 1);
    lua_rawset(L, e->seen);
    int r = put_tag(e, '{');
    lua_pushnil(L);
    while (r == 0 && lua_next(L, idx) != 0) {
        int k = lua_gettop(L) - 1, v = k + 1;
        path_item *p = &e->path[e->depth];
        memset(p, 0, sizeof *p);
        if (lua_type(L, k) == LUA_TSTRING) { p->is_str = 1; p->s = lua_tolstring(L, k, &p->slen); }
        else if (lua_isinteger(L, k)) p->i = lua_tointeger(L, k);
        else p->other = 1;
        e->depth++;
        r = enc_value(e, k, 1);
        if (r == 0) r = enc_value(e, v, 0);
        e->depth--;
        lua_pop(L, 1);
    }
    if (r != 0) {
        lua_pop(L, 1);     /* the key lua_next left */
        return r;
    }
    lua_pushvalue(L, idx);
    lua_pushnil(L);
    lua_rawset(L, e->seen);   /* off the path: the same table elsewhere is a copy, not a cycle */
    return put_tag(e, '}');
}

static int enc_value(enc *e, int idx, int is_key)
{
    lua_State *L = e->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return put_tag(e, 'n');
    case LUA_TBOOLEAN: return put_tag(e, lua_toboolean(L, idx) ? 't' : 'f');
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            int64_t v = (int64_t)lua_tointeger(L, idx);
            int r = put_tag(e, 'i');
            return r ? r : put(e, &v, sizeof v);
        } else {
            double v = (double)lua_tonumber(L, idx);
            int r = put_tag(e, 'd');
            return r ? r : put(e, &v, sizeof v);
        }
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (n > UINT32_MAX) return fail(e, RTC_ETOOBIG, "string too large");
        uint32_t n32 = (uint32_t)n;
        int r = put_tag(e, 's');
        if (!r) r = put(e, &n32, sizeof n32);
        return r ? r : put(e, s, n);
    }
    case LUA_TTABLE:
        if (is_key) return fail(e, RTC_EINVAL, "cannot copy a table used as a key");
        return enc_table(e, lua_absindex(L, idx));
    default: {
        char m[80];
        snprintf(m, sizeof m, "cannot copy a %s%s", luaL_typename(L, idx), is_key ? " used as a key" : "");
        return fail(e, RTC_EINVAL, m);
    }
    }
}

int lrtc_msg_encode(lua_State *L, int idx, size_t max_bytes, uint8_t **out, size_t *len,
                    char *err, size_t errlen)
{
    *out = NULL;
    *len = 0;
    if (errlen) err[0] = 0;
    idx = lua_absindex(L, idx);
    int top = lua_gettop(L);
    enc e = { .L = L, .max = max_bytes, .err = err, .errlen = errlen };
    if (!lua_checkstack(L, 4)) { snprintf(err, errlen, "out of stack space"); return RTC_ENOMEM; }
    lua_newtable(L);
    e.seen = lua_gettop(L);
    int r = enc_value(&e, idx, 0);
    lua_settop(L, top);
    if (r < 0) {
        free(e.buf);
        return r;
    }
    *out = e.buf;
    *len = e.len;
    return 0;
}

/* }====== */

/* {====== decoder ====== */

typedef struct dec {
    lua_State *L;
    const uint8_t *p, *end;
    char *err;
    size_t errlen;
} dec;

static int dfail(dec *d, int code, const char *what)
{
    snprintf(d->err, d->errlen, "corrupt message: %s", what);
    return code;
}

static int dec_value(dec *d, int depth, int allow_end);

/* Pushes one value. allow_end: '}' is accepted and reported as 1 (nothing pushed). */
static int dec_value(dec *d, int depth, int allow_end)
{
    lua_State *L = d->L;
    if (d->p >= d->end) return dfail(d, RTC_ETRUNC, "truncated");
    if (!lua_checkstack(L, 4)) return dfail(d, RTC_ENOMEM, "out of stack space");
    char t = (char)*d->p++;
    switch (t) {
    case 'n': lua_pushnil(L); return 0;
    case 'f': lua_pushboolean(L, 0); return 0;
    case 't': lua_pushboolean(L, 1); return 0;
    case 'i': case 'd': {
        if ((size_t)(d->end - d->p) < 8) return dfail(d, RTC_ETRUNC, "truncated number");
        if (t == 'i') { int64_t v; memcpy(&v, d->p, 8); lua_pushinteger(L, (lua_Integer)v); }
        else { double v; memcpy(&v, d->p, 8); lua_pushnumber(L, (lua_Number)v); }
        d->p += 8;
        return 0;
    }
    case 's': {
        uint32_t n;
        if ((size_t)(d->end - d->p) < 4) return dfail(d, RTC_ETRUNC, "truncated string length");
        memcpy(&n, d->p, 4);
        d->p += 4;
        if ((size_t)(d->end - d->p) < n) return dfail(d, RTC_ETRUNC, "truncated string");
        lua_pushlstring(L, (const char *)d->p, n);
        d->p += n;
        return 0;
    }
    case '{': {
        if (depth >= LRTC_MSG_MAX_DEPTH) return dfail(d, RTC_EPROTO, "nested too deep");
        lua_newtable(L);
        for (;;) {
            int r = dec_value(d, depth + 1, 1);
            if (r == 1) return 0;
            if (r < 0) { lua_pop(L, 1); return r; }
            if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TNUMBER && lua_tonumber(L, -1) != lua_tonumber(L, -1)) ||
                lua_istable(L, -1)) {
                lua_pop(L, 2);
                return dfail(d, RTC_EPROTO, "invalid key");
            }
            r = dec_value(d, depth + 1, 0);
            if (r < 0) { lua_pop(L, 2); return r; }
            lua_rawset(L, -3);
        }
    }
    case '}':
        if (allow_end) return 1;
        return dfail(d, RTC_EPROTO, "unexpected end of table");
    default:
        return dfail(d, RTC_EPROTO, "unknown tag");
    }
}

int lrtc_msg_decode(lua_State *L, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    dec d = { L, p, p + len, err, errlen };
    int r = dec_value(&d, 0, 0);
    if (r < 0) return r;
    if (d.p != d.end) {
        lua_pop(L, 1);
        return dfail(&d, RTC_EPROTO, "trailing bytes");
    }
    return 0;
}

int lrtc_msg_decode_all(lua_State *L, const uint8_t *p, size_t len, char *err, size_t errlen)
{
    dec d = { L, p, p + len, err, errlen };
    int n = 0;
    while (d.p < d.end) {
        int r = dec_value(&d, 0, 0);
        if (r < 0) { lua_pop(L, n); return r; }
        n++;
    }
    return n;
}

/* }====== */
