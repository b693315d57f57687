-- Chromium end to end with the web demo (spec/signaling_browser.js), inside a private
-- network namespace (spec/browser/isolated.sh): two pages chat over a data channel and
-- see each other's video, a page chats with the luartc chat bot, a forged token is
-- refused with 4001.
local rtc = require "rtc"
local child = require "support.child"

local SRC = os.getenv("RTC_SOURCE_DIR") or "."
local LUARTC = os.getenv("LUARTC") or (SRC .. "/build/luartc")

describe("web demo in Chromium", function()
  local results, logtext

  setup(function()
    local log = os.tmpname()
    -- Sanitizer builds preload their runtime into every child; node must not get it,
    -- the luartc children started by the script get it back.
    local cmd = table.concat({
      child.quote(SRC .. "/spec/browser/isolated.sh"), "env", "-u", "LD_PRELOAD",
      "LUARTC_LD_PRELOAD=" .. child.quote(os.getenv("LD_PRELOAD") or ""),
      "node", child.quote(SRC .. "/spec/signaling_browser.js"),
      "--luartc", child.quote(LUARTC), "--src", child.quote(SRC), "--timeout", "120",
    }, " ")
    local p = assert(io.popen(cmd .. " 2>" .. child.quote(log), "r"))
    local out = p:read("a")
    p:close()
    logtext = child.slurp(log)
    os.remove(log)
    results = rtc.json.decode(out:match("[^\n]*") or "")
    if type(results) ~= "table" then error("no results from the browser run; log:\n" .. logtext:sub(-4000)) end
  end)

  it("two pages join a room, chat over a data channel and see each other's video", function()
    local r = results.two_pages
    assert.is_true(r and r.ok, logtext:sub(-3000))
    assert.equal(1, r.sent)
    assert.is_true(r.video, r.videoError)
  end)

  it("a page and the luartc chat bot exchange chat through the signaling server", function()
    local r = results.bot
    assert.is_true(r and r.ok, logtext:sub(-3000))
    assert.same({ "carol said: hello bot" }, r.reply)
  end)

  it("a forged token is refused with close code 4001", function()
    local r = results.bad_token
    assert.is_true(r and r.ok, logtext:sub(-3000))
    assert.equal(4001, r.code)
  end)
end)
