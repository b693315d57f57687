-- rtc.json: strict RFC 8259 codec.
local rtc = require "rtc"
local json = rtc.json

local function fails(text, pattern)
  local v, err, name = json.decode(text)
  assert.is_nil(v, "expected failure for " .. text)
  assert.equal("SyntaxError", name)
  assert.matches(pattern, err, 1, true)
end

describe("json", function()
  it("round-trips values", function()
    local v = {
      type = "offer", sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n",
      n = 42, neg = -7, f = 0.1, big = 2 ^ 60, tiny = 5e-324, exp = 1.5e300,
      t = true, f2 = false, list = { 1, "two", { three = 3 } },
      nested = { a = { b = { c = {} } } },
      unicode = "héllo \u{1F600} \0 nul", ctrl = "\1\31\127",
    }
    local back = assert(json.decode(json.encode(v)))
    assert.same(v, back)
    assert.equal(math.type(back.n), "integer")
    assert.equal(math.type(back.f), "float")
    assert.equal(back.f, 0.1)
    assert.equal(math.type(json.decode("1.0")), "float")
    assert.equal(math.type(json.decode("9223372036854775807")), "integer")
    assert.equal(math.type(json.decode("9223372036854775808")), "float")
    assert.equal(json.encode(2 ^ 53), "9007199254740992.0")
    assert.equal(json.encode(1e300), "1e+300")
    assert.equal(json.encode(3.0), "3.0")
    assert.equal(json.decode(json.encode(-0.0)), 0)
  end)

  it("rejects numbers beyond the double range instead of decoding infinity", function()
    for _, text in ipairs({ "1e400", "-1e400", "[1,2e999]", '{"a":123456789e500}' }) do
      local v, err, name = json.decode(text)
      assert.is_nil(v, text)
      assert.equal("SyntaxError", name)
      assert.matches("number out of range", err)
    end
    -- the largest finite double and a denormal still decode
    assert.equal(1.7976931348623157e308, json.decode("1.7976931348623157e308"))
    assert.is_true(json.decode("4.9e-324") > 0)
  end)

  it("encodes empty tables as objects unless marked, and keeps [] and null", function()
    assert.equal("{}", json.encode({}))
    assert.equal("[]", json.encode(json.array {}))
    assert.equal("{}", json.encode(json.object {}))
    assert.equal('{"1":"a"}', json.encode(json.object { "a" }))
    assert.equal("[]", json.encode(json.decode("[]")))
    assert.equal("[1,null,3]", json.encode(json.decode("[1,null,3]")))
    assert.equal("[1,null,3]", json.encode(json.array { 1, nil, 3 }))
    assert.equal(json.null, json.decode("null"))
    assert.equal(json.null, json.decode('{"a":null}').a)
    assert.equal("null", json.encode(json.null))
    assert.is_true(json.is_array(json.decode("[1]")))
    assert.is_false(json.is_array(json.decode("{}")))
    assert.equal('{"10":1}', json.encode(json.object { [10] = 1 }))
    assert.has_error(function() json.encode { [10] = 1 } end)
  end)

  it("escapes strings the JSON way", function()
    assert.equal([["a\"b\\c\n\r\t\b\f\u0001\u007f/"]], json.encode("a\"b\\c\n\r\t\b\f\1\127/"))
    assert.equal("\u{1F600}", json.decode([["\ud83d\ude00"]]))
    assert.equal("é/", json.decode([["\u00e9\/"]]))
  end)

  it("says where decoding failed", function()
    fails('{"a" 1}', "JSON: line 1 col 6: expected ':'")
    fails('{\n  "a": 1,\n  "b" 2\n}', "JSON: line 3 col 7: expected ':'")
    fails("[1, 2,]", "JSON: line 1 col 7: trailing comma in array")
    fails('{"a":1,}', "JSON: line 1 col 8: trailing comma in object")
    fails("[1 2]", "JSON: line 1 col 4: expected ',' or ']'")
    fails('"abc', "unterminated string")
    fails("", "unexpected end of input")
    fails("[", "unexpected end of input")
    fails("1 2", "line 1 col 3: unexpected trailing characters")
  end)

  it("is strict", function()
    fails([["\x"]], "invalid escape '\\x'")
    fails([["\u12"]], "invalid \\u escape")
    fails([["\ud800"]], "lone surrogate")
    fails([["\udc00x"]], "lone surrogate")
    fails('"a\tb"', "control character in string")
    fails('"\xff"', "invalid UTF-8")
    fails('"\xc0\xaf"', "invalid UTF-8")             -- overlong '/'
    fails('"\xed\xa0\x80"', "invalid UTF-8")         -- UTF-8 encoded surrogate
    fails('"\xf4\x90\x80\x80"', "invalid UTF-8")     -- above U+10FFFF
    fails("01", "leading zero")
    fails("1.", "digit expected after '.'")
    fails("1e", "digit expected in exponent")
    fails("-", "invalid number")
    fails("+1", "unexpected character '+'")
    fails("NaN", "unexpected character 'N'")
    fails("[Infinity]", "unexpected character 'I'")
    fails("{'a':1}", "expected a string key")
    fails("[1] // c", "unexpected trailing characters")
    fails("tru", "unexpected character 't'")
    fails("\xEF\xBB\xBF{}", "byte order mark")
    fails(string.rep("[", 600) .. string.rep("]", 600), "nesting deeper than 500")
    assert.same({ a = { 1 } }, json.decode(' \t\r\n{ "a" : [ 1 ] } \n'))
  end)

  it("refuses to encode what JSON cannot hold", function()
    assert.has_error(function() json.encode(print) end, "rtc.json.encode: cannot encode a function")
    assert.has_error(function() json.encode(0 / 0) end, "rtc.json.encode: cannot encode NaN or infinity")
    assert.has_error(function() json.encode(math.huge) end)
    assert.has_error(function() json.encode("\xff") end)
    assert.has_error(function() json.encode { 1, nil, 3 } end)
    assert.has_error(function() json.encode { [1.5] = true } end, "rtc.json.encode: cannot encode a number key")
    local cyc = {}
    cyc.self = cyc
    assert.has_error(function() json.encode(cyc) end, "rtc.json.encode: nesting too deep (or a cycle)")
  end)

  it("survives hostile input: mutated and random documents never crash", function()
    local seed = 12345
    local function rnd(n)               -- deterministic LCG: the same cases every run
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    end
    local base = json.encode { a = { 1, 2.5, "x\u{e9}" }, b = json.null, c = { d = true, e = "\n" } }
    local decoded, failed = 0, 0
    for _ = 1, 20000 do
      local doc
      if rnd(2) == 0 then
        local b = { base:byte(1, -1) }
        for _ = 1, 1 + rnd(3) do b[1 + rnd(#b)] = rnd(256) end
        doc = string.char(table.unpack(b))
      else
        local b = {}
        for i = 1, rnd(24) do b[i] = ("{}[]\":,0123456789.eE+-tfnul\\ \t\n"):byte(1 + rnd(33)) end
        doc = string.char(table.unpack(b))
      end
      local v, err = json.decode(doc)
      if v == nil and err then
        failed = failed + 1
        assert.matches("^SyntaxError: JSON: line %d+ col %d+: ", err)
      else
        decoded = decoded + 1
        json.decode(json.encode(v))     -- anything we accept re-encodes
      end
    end
    assert.is_true(failed > 1000 and decoded > 100)
  end)

  it("decodes large documents", function()
    local t = {}
    for i = 1, 10000 do t[i] = { id = i, name = "item" .. i, tags = json.array {} } end
    local s = json.encode(t)
    local back = assert(json.decode(s))
    assert.equal(10000, #back)
    assert.equal("item9999", back[9999].name)
    assert.equal(#s, #json.encode(back))   -- same content; key order may differ
  end)
end)
