/* rtc.transforms: the built-in frame transforms as Lua values. Per-frame work stays in
 * C (pc/pc_transform_crypto.c): no Lua runs for a frame once the object is installed. */
#include "lua/lrtc_transform.h"
#include "core/rtc_errors.h"
#include "pc/pc_transform.h"
#include <openssl/rand.h>
#include <string.h>

#define XFORM_MT "rtc.frame_transform"

typedef struct lxform {
    rtc_frame_crypto *c;
    const char *kind;            /* "xor" or "aes-gcm", for __tostring */
} lxform;

static int xform_gc(lua_State *L)
{
    lxform *x = luaL_checkudata(L, 1, XFORM_MT);
    rtc_frame_crypto_unref(x->c);
    x->c = NULL;
    return 0;
}

static int xform_tostring(lua_State *L)
{
    lxform *x = luaL_checkudata(L, 1, XFORM_MT);
    lua_pushfstring(L, "rtc.frame_transform(%s)", x->kind);
    return 1;
}

static lxform *push_new(lua_State *L, const char *kind)
{
    lxform *x = lua_newuserdatauv(L, sizeof *x, 0);
    x->c = NULL;
    x->kind = kind;
    luaL_setmetatable(L, XFORM_MT);
    return x;
}

/* core.frame_transform_xor(key) -> transform */
static int l_xor(lua_State *L)
{
    size_t n;
    const char *key = luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n >= 1 && n <= 256, 1, "key of 1 to 256 bytes expected");
    lxform *x = push_new(L, "xor");
    int r = rtc_frame_crypto_new_xor(&x->c, (const uint8_t *)key, n);
    if (r < 0) return lrtc_push_error(L, r, "cannot create the transform");
    return 1;
}

/* core.frame_transform_aes_gcm(key[, salt]) -> transform: key 16 or 32 bytes; salt 4
 * bytes, drawn at random when absent (each sender its own IV space). */
static int l_aes_gcm(lua_State *L)
{
    size_t n, sn = 0;
    const char *key = luaL_checklstring(L, 1, &n);
    const char *salt = luaL_optlstring(L, 2, NULL, &sn);
    luaL_argcheck(L, n == 16 || n == 32, 1, "key of 16 or 32 bytes expected");
    luaL_argcheck(L, !salt || sn == 4, 2, "salt of 4 bytes expected");
    uint8_t s[4];
    if (salt) memcpy(s, salt, 4);
    else if (RAND_bytes(s, sizeof s) != 1) return lrtc_push_error(L, RTC_EOPERATION, "no random salt");
    lxform *x = push_new(L, "aes-gcm");
    int r = rtc_frame_crypto_new_aes_gcm(&x->c, (const uint8_t *)key, n, s);
    if (r < 0) return lrtc_push_error(L, r, "cannot create the transform");
    return 1;
}

int lrtc_transform_install(lua_State *L, rtc_pc *pc, int tr, int dirs, int idx)
{
    if (lua_isnoneornil(L, idx)) return rtc_pc_set_frame_transform(pc, tr, dirs, NULL, NULL, NULL);
    lxform *x = luaL_checkudata(L, idx, XFORM_MT);
    luaL_argcheck(L, x->c != NULL, idx, "transform already collected");
    for (int d = RTC_PC_SEND; d <= RTC_PC_RECV; d <<= 1) {
        if (!(dirs & d)) continue;
        int r = rtc_pc_set_frame_transform(pc, tr, d, rtc_frame_crypto_transform, rtc_frame_crypto_ref(x->c),
                                           rtc_frame_crypto_release);
        if (r == RTC_ENOTFOUND || r == RTC_EINVAL) rtc_frame_crypto_unref(x->c);   /* not taken */
        if (r < 0) return r;
    }
    return 0;
}

void lrtc__open_transform(lua_State *L)
{
    static const luaL_Reg meta[] = { { "__gc", xform_gc }, { "__tostring", xform_tostring }, { NULL, NULL } };
    if (luaL_newmetatable(L, XFORM_MT)) luaL_setfuncs(L, meta, 0);
    lua_pop(L, 1);
    lua_pushcfunction(L, l_xor);
    lua_setfield(L, -2, "frame_transform_xor");
    lua_pushcfunction(L, l_aes_gcm);
    lua_setfield(L, -2, "frame_transform_aes_gcm");
}
