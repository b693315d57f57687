/* libFuzzer target: the JSON codec (runtime/lua/lrtc_json.c), which parses every
 * signaling message from the network. Checked on each input, in a Lua state kept
 * between runs:
 *  - decode never raises; a refusal is nil, "SyntaxError: JSON: line L col C: ...";
 *  - a decoded value is no deeper than the limit, encodes (unless it holds a number
 *    too large for a double, which JSON cannot carry back), and decodes back to an
 *    equal value (arrays stay arrays, objects objects, null stays null);
 *  - the input as a Lua string encodes exactly when it is valid UTF-8, and comes back
 *    byte for byte;
 *  - nesting: a document of depth n built from the input decodes exactly when
 *    n <= 500 (else the depth error), and Lua tables n deep encode exactly when
 *    n <= 500 (else a clean error, not a crash).
 * A failed check aborts, which libFuzzer reports with the input. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void lrtc__open_json(lua_State *L);

static const char checks[] =
    "local json, text, n, kinds = ...\n"
    "local MAX = 500\n"
    "local function depth(v)\n"
    "  if type(v) ~= 'table' then return 0 end\n"
    "  local d = 0\n"
    "  for _, x in pairs(v) do local e = depth(x); if e > d then d = e end end\n"
    "  return d + 1\n"
    "end\n"
    "local function same(a, b)\n"
    "  if type(a) ~= type(b) then return false end\n"
    "  if type(a) ~= 'table' then return a == b end\n"
    "  if json.is_array(a) ~= json.is_array(b) then return false end\n"
    "  for k, v in pairs(a) do if not same(v, b[k]) then return false end end\n"
    "  for k in pairs(b) do if a[k] == nil then return false end end\n"
    "  return true\n"
    "end\n"
    "local function finite(v)\n"
    "  if type(v) == 'number' then return v == v and v ~= math.huge and v ~= -math.huge end\n"
    "  if type(v) ~= 'table' then return true end\n"
    "  for _, x in pairs(v) do if not finite(x) then return false end end\n"
    "  return true\n"
    "end\n"
    "local function refused(err, name, what)\n"
    "  assert(name == 'SyntaxError', 'error name ' .. tostring(name))\n"
    "  assert(type(err) == 'string' and err:match('^SyntaxError: JSON: line %d+ col %d+: .'), 'error text ' .. tostring(err))\n"
    "  if what then assert(err:find(what, 1, true), 'expected ' .. what .. ', got ' .. err) end\n"
    "end\n"
    "-- 1. the input as a document\n"
    "local v, err, name = json.decode(text)\n"
    "if v == nil then refused(err, name)\n"
    "else\n"
    "  assert(depth(v) <= MAX, 'decoded a value deeper than the limit')\n"
    "  local ok, s = pcall(json.encode, v)\n"
    "  if not ok then\n"
    "    assert(not finite(v) and tostring(s):find('NaN or infinity', 1, true), 'encode failed: ' .. tostring(s))\n"
    "  else\n"
    "    local w, e2 = json.decode(s)\n"
    "    assert(w ~= nil, 'our own output does not decode: ' .. tostring(e2))\n"
    "    assert(same(v, w), 'round trip changed the value: ' .. s)\n"
    "  end\n"
    "end\n"
    "-- 2. the input as a string value\n"
    "local ok, s = pcall(json.encode, text)\n"
    "assert(ok == (utf8.len(text) ~= nil), 'string encode and UTF-8 validity disagree: ' .. tostring(s))\n"
    "if ok then assert(json.decode(s) == text, 'string round trip changed the bytes') end\n"
    "-- 3. nesting n deep, each level an array or an object as the input's bits say\n"
    "local open, close = {}, {}\n"
    "for i = 1, n do\n"
    "  local obj = #kinds > 0 and kinds:byte((i - 1) % #kinds + 1) & 1 == 1\n"
    "  open[i] = obj and '{\"k\":' or '['\n"
    "  close[n - i + 1] = obj and '}' or ']'\n"
    "end\n"
    "local doc = table.concat(open) .. '0' .. table.concat(close)\n"
    "local d, derr, dname = json.decode(doc)\n"
    "if n <= MAX then\n"
    "  assert(d ~= nil, 'depth ' .. n .. ' refused: ' .. tostring(derr))\n"
    "  assert(depth(d) == n)\n"
    "  local w = json.decode(json.encode(d))\n"
    "  assert(same(d, w), 'nested round trip changed the value')\n"
    "else\n"
    "  refused(derr, dname, 'nesting deeper than 500')\n"
    "end\n"
    "local t = {}\n"
    "local cur = t\n"
    "for _ = 2, n do local c = {}; cur[1] = c; cur = c end\n"
    "local eok, eerr = pcall(json.encode, t)\n"
    "if n <= MAX then assert(eok, 'encode of depth ' .. n .. ' failed: ' .. tostring(eerr))\n"
    "else assert(not eok and tostring(eerr):find('nesting too deep', 1, true), 'depth ' .. n .. ': ' .. tostring(eerr)) end\n";

static lua_State *L;
static int checks_ref;

static lua_State *state(void)
{
    if (L) return L;
    L = luaL_newstate();
    if (!L) abort();
    luaL_openlibs(L);
    lua_newtable(L);
    lrtc__open_json(L);
    lua_getfield(L, -1, "json");
    lua_setglobal(L, "json");
    lua_pop(L, 1);
    if (luaL_loadbuffer(L, checks, sizeof checks - 1, "=json_checks") != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
    checks_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return L;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lua_State *S = state();
    /* Depth from the first two bytes: 1..16, or 493..508 around the limit of 500. */
    int n = size >= 2 ? 1 + data[1] % 16 + (data[0] & 1 ? 492 : 0) : 1;
    lua_rawgeti(S, LUA_REGISTRYINDEX, checks_ref);
    lua_getglobal(S, "json");
    lua_pushlstring(S, (const char *)data, size);
    lua_pushinteger(S, n);
    lua_pushlstring(S, (const char *)data + (size > 2 ? 2 : 0), size > 2 ? size - 2 : 0);
    if (lua_pcall(S, 4, 0, 0) != LUA_OK) {
        fprintf(stderr, "json check failed: %s\n", lua_tostring(S, -1));
        abort();
    }
    lua_settop(S, 0);
    /* Free this run's garbage now: libFuzzer scans for leaks after any run that
     * allocated more than it freed, and a growing Lua heap made every run one. */
    lua_gc(S, LUA_GCCOLLECT);
    return 0;
}
