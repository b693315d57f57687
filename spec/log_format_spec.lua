-- RTC_LOG_FORMAT=json and the connection id in log lines (core/rtc_log.h).
local child = require "support.child"
local tmp = require "support.tmp"
local json = require("rtc").json

-- Two connected peer connections in one process; a's state changes are logged from
-- its callback, a line with invalid UTF-8 and a control character is logged outside.
local SCRIPT = [[
local rtc = require "rtc"
local pair = require "support.pcpair"
rtc.spawn(function()
  local a = assert(rtc.peer_connection{ bind_addresses = { "127.0.0.1" } })
  local b = assert(rtc.peer_connection{ bind_addresses = { "127.0.0.1" } })
  a:on("connectionstatechange", function(s) rtc.log.info("app", "a is %s", s) end)
  a:create_data_channel("x")
  pair(a, b)
  rtc.log.info("app", "ids %s %s", a.id, b.id)
  rtc.log.warn("app", "bytes \xff\xfe \"q\" \1 end")
  a:close()
  b:close()
end)
]]

local function run(format)
  local path = child.script(SCRIPT)
  local code, out, err = child.run { path, env = "RTC_LOG=debug RTC_LOG_FORMAT=" .. format }
  os.remove(path)
  assert.equal(0, code, err)
  return out, err
end

-- child.script files (and the names they reserved) go at the end.
teardown(tmp.clean)

describe("RTC_LOG_FORMAT=json", function()
  it("writes one JSON object a line with time, level, module and the connection's id", function()
    local _, err = run("json")
    local lines, by_conn, ids = {}, {}, nil
    for line in err:gmatch("[^\n]+") do
      local o = json.decode(line)
      assert.is_table(o, "not JSON: " .. line)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%dZ$", o.time)
      assert.is_truthy(({ trace = 1, debug = 1, info = 1, warn = 1, error = 1 })[o.level], line)
      assert.is_string(o.module)
      assert.is_string(o.msg)
      lines[#lines + 1] = o
      local a, b = o.msg:match("^ids (pc%d+) (pc%d+)$")
      if a then ids = { a, b } end
    end
    assert.is_table(ids, err)
    for _, o in ipairs(lines) do
      -- every line of the engine's own modules concerns one of the two connections here
      if o.module ~= "app" and o.module ~= "lua" then
        assert.is_string(o.conn, o.module .. ": " .. o.msg)
        assert.is_truthy(o.conn == ids[1] or o.conn == ids[2], o.conn)
        by_conn[o.conn .. " " .. o.module] = true
      end
    end
    for _, id in ipairs(ids) do
      assert.is_true(by_conn[id .. " ice"], "no ice line for " .. id)
      assert.is_true(by_conn[id .. " dtls"], "no dtls line for " .. id)
      assert.is_true(by_conn[id .. " sctp"], "no sctp line for " .. id)
    end
    local cb, outside, bytes
    for _, o in ipairs(lines) do
      if o.msg == "a is connected" then cb = o end
      if o.msg:match("^ids ") then outside = o end
      if o.msg:match("^bytes") then bytes = o end
    end
    assert.equal(ids[1], cb.conn)           -- logged from a's own callback
    assert.equal(json.null, outside.conn)  -- "conn": null outside any connection
    assert.equal("bytes \u{FFFD}\u{FFFD} \"q\" \1 end", bytes.msg)
    assert.equal("warn", bytes.level)
  end)

  it("text lines carry the id after the module", function()
    local _, err = run("text")
    assert.matches("\n?%d+%.%d+ D ice pc%d+: state new %-> checking\n", err)
    assert.matches("%d+%.%d+ I app: ids pc%d+ pc%d+\n", err)
  end)

  it("an unknown format is reported and text is kept", function()
    local code, _, err = child.run { "-e", "require('rtc').log.warn('app', 'still text')",
                                     env = "RTC_LOG_FORMAT=xml" }
    assert.equal(0, code)
    assert.matches("ignoring invalid RTC_LOG_FORMAT 'xml'", err)
    assert.matches("%d+%.%d+ W app: still text", err)
    local code2, _, err2 = child.run { "-e", "require('rtc').log.set_format('yaml')" }
    assert.are_not.equal(0, code2)
    assert.matches("unknown log format 'yaml'", err2)
  end)
end)
