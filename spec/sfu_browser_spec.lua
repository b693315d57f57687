-- The SFU with headless Chromium (spec/browser/whip_client.js): one browser publishes its
-- fake camera (VP8) and a tone over WHIP with fetch() from the page, two browsers
-- subscribe over WHEP (retrying on 503 until the publisher is in) and decode:
-- framesDecoded and totalAudioEnergy rise at both; Chromium's RFC 6464 audio levels
-- make the publisher the room's active speaker (the SFU logs it). The server is
-- `luartc examples/sfu.lua` on 127.0.0.1, one UDP port, stopped by SIGINT at the end.
local child = require "support.child"
local json = require("rtc").json
local q = child.quote

local TOOL = "env -u LD_PRELOAD "     -- node and Chromium never get a sanitizer preload
local CLIENT = child.SOURCE_DIR .. "/spec/browser/whip_client.js"

describe("SFU with Chromium over WHIP/WHEP", function()
  it("a Chromium publisher reaches two Chromium subscribers", function()
    local dir = child.tmpdir()
    local port = 41000 + (os.time() * 13 % 20000)
    local sfu_out, sfu_err = dir .. "/sfu.out", dir .. "/sfu.err"
    local p = io.popen(string.format("%s %s --listen 127.0.0.1:%d --token tok >%s 2>%s & echo $!",
                                     q(child.LUARTC), q(child.SOURCE_DIR .. "/examples/sfu.lua"), port,
                                     q(sfu_out), q(sfu_err)))
    local pid = assert(tonumber(p:read("l")))
    p:close()
    for _ = 1, 500 do
      if child.slurp(sfu_out):find("listening", 1, true) then break end
      os.execute("sleep 0.02")
    end
    local base = "http://127.0.0.1:" .. port
    -- Subscribers start first: they get 503 until the publisher is in, then retry.
    local function client(name, role, path, extra)
      return string.format("%stimeout 90 node %s --role %s --url %s --token tok %s </dev/null >%s 2>%s &",
                           TOOL, q(CLIENT), role, q(base .. path), extra, q(dir .. "/" .. name .. ".out"),
                           q(dir .. "/" .. name .. ".err"))
    end
    os.execute("(" .. client("s1", "subscribe", "/whep", "--frames 40 --duration 40") ..
               client("s2", "subscribe", "/whep/default", "--frames 40 --duration 40") ..
               "sleep 1; " .. client("pub", "publish", "/whip", "--duration 25") .. " wait)")
    local stopped = child.interrupt(pid)
    local res = {}
    for _, n in ipairs { "pub", "s1", "s2" } do
      local err = child.slurp(dir .. "/" .. n .. ".err")
      local line = err:match("RESULT (%b{})")
      res[n] = line and json.decode(line) or { ok = false, error = "no RESULT: " .. err }
    end
    local sfu_log = child.slurp(sfu_err)
    child.rmdir(dir)
    local all = json.encode(res) .. "\nSFU stderr:\n" .. sfu_log
    io.stderr:write(json.encode(res), "\n")
    assert(res.pub.ok, all)
    assert.matches("^/whip/default/%x+$", res.pub.location)
    local session = res.pub.location:match("(%x+)$")
    assert.matches("sfu: room default: active speaker " .. session, sfu_log, 1, true)
    for _, n in ipairs { "s1", "s2" } do
      local r = res[n]
      assert(r.ok, all)
      assert.is_true(r.framesDecoded >= 40, all)
      assert.is_true(r.totalAudioEnergy > 0, all)
      assert.equal("video/VP8", r.videoCodec)
      assert.is_true(r.retries >= 1, all)               -- there was a 503 first
    end
    assert.is_true(stopped, "the SFU did not stop on SIGINT:\n" .. sfu_log)
  end)
end)
