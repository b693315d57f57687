-- Chromium end to end with the web demo (spec/signaling_browser.js), inside a private
-- network namespace (spec/browser/isolated.sh): two pages chat over a data channel and
-- see each other's video, a page chats with the luartc chat bot, a forged token is
-- refused with 4001, forged join/leave notices are ignored by the page.
local rtc = require "rtc"
local child = require "support.child"

local SRC = os.getenv("RTC_SOURCE_DIR") or "."
local LUARTC = os.getenv("LUARTC") or (SRC .. "/build/luartc")

describe("web demo in Chromium", function()
  local results, logtext, record_dir

  setup(function()
    local log = os.tmpname()
    record_dir = os.tmpname()
    os.remove(record_dir)
    assert(os.execute("mkdir -p " .. child.quote(record_dir)))
    -- Sanitizer builds preload their runtime into every child; node must not get it,
    -- the luartc children started by the script get it back.
    local cmd = table.concat({
      child.quote(SRC .. "/spec/browser/isolated.sh"), "env", "-u", "LD_PRELOAD",
      "LUARTC_LD_PRELOAD=" .. child.quote(os.getenv("LD_PRELOAD") or ""),
      "node", child.quote(SRC .. "/spec/signaling_browser.js"),
      "--luartc", child.quote(LUARTC), "--src", child.quote(SRC), "--timeout", "120",
      "--record-dir", child.quote(record_dir),
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

  it("the demo's echo bot returns the page's camera and its recorder writes a playable WebM", function()
    local r = results.bot
    assert.is_true(r and r.ok and r.echo, logtext:sub(-3000))
    -- The recorder closes a member's file when the member leaves (the demo stops at the
    -- end of the run, closing whatever is still open).
    local ls = io.popen("ls " .. child.quote(record_dir) .. "/*.webm 2>/dev/null")
    local files = {}
    for f in ls:lines() do files[#files + 1] = f end
    ls:close()
    assert.is_true(#files >= 1, "no recording in " .. record_dir .. "\n" .. logtext:sub(-2000))
    local probe = io.popen("ffprobe -v error -show_entries stream=codec_name -show_entries format=duration -of json "
                           .. child.quote(files[1]))
    local info = rtc.json.decode(probe:read("a"))
    probe:close()
    local codecs = {}
    for _, st in ipairs(info.streams) do codecs[st.codec_name] = true end
    assert.is_true(codecs.vp8 or codecs.h264 or false, "no video stream in " .. files[1])
    assert.is_true(tonumber(info.format.duration) > 1)
    assert.equal("", require("support.ffprobe").decode_errors(files[1]))
    os.execute("rm -rf " .. child.quote(record_dir))
  end)

  it("the page ignores join and leave notices another member forged", function()
    local r = results.forged
    assert.is_true(r and r.ok, rtc.json.encode(r or {}) .. "\n" .. logtext:sub(-3000))
    assert.equal(2, r.ignored)
  end)

  it("a forged token is refused with close code 4001", function()
    local r = results.bad_token
    assert.is_true(r and r.ok, logtext:sub(-3000))
    assert.equal(4001, r.code)
  end)
end)
