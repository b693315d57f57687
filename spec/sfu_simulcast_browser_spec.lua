-- Simulcast through the SFU with headless Chromium: a Chromium publisher sends three
-- VP8 layers over WHIP (RIDs q, h, f at a quarter, half and full size of its fake
-- camera); a Chromium subscriber over WHEP is moved by the server's policy
-- (spec/sfu_simulcast_server.lua) from the top layer to layer 0, to layer 1 and back
-- to the top. Checked: the server's layerchange events come in that order, the
-- subscriber's decoded frameWidth follows the same steps (smaller, larger, largest),
-- and framesDecoded rises at every width. Nothing about how long anything takes.
local child = require "support.child"
local json = require("rtc").json
local q = child.quote

local TOOL = "env -u LD_PRELOAD "     -- node and Chromium never get a sanitizer preload
local CLIENT = child.SOURCE_DIR .. "/spec/browser/whip_client.js"

describe("SFU simulcast with Chromium", function()
  it("a subscriber's decoded width follows the layer the policy chooses", function()
    local dir = child.tmpdir()
    local port = 41000 + (os.time() * 17 % 20000)
    local out, err = dir .. "/sfu.out", dir .. "/sfu.err"
    local p = io.popen(string.format("%s %s --listen 127.0.0.1:%d --hold 3 >%s 2>%s & echo $!",
                                     q(child.LUARTC), q(child.SOURCE_DIR .. "/spec/sfu_simulcast_server.lua"), port,
                                     q(out), q(err)))
    local pid = assert(tonumber(p:read("l")))
    p:close()
    for _ = 1, 500 do
      if child.slurp(out):find("listening", 1, true) then break end
      os.execute("sleep 0.02")
    end
    local base = "http://127.0.0.1:" .. port
    local function client(name, role, path, extra)
      return string.format("%stimeout 120 node %s --role %s --url %s %s </dev/null >%s 2>%s &",
                           TOOL, q(CLIENT), role, q(base .. path), extra, q(dir .. "/" .. name .. ".out"),
                           q(dir .. "/" .. name .. ".err"))
    end
    -- The subscriber watches until the walk is done (or 60 s); the publisher sends
    -- until the subscriber is finished.
    os.execute("(" .. client("sub", "subscribe", "/whep", "--watch --duration 60 --done-url " .. q(base .. "/walk")) ..
               "S=$!; sleep 1; " .. client("pub", "publish", "/whip", "--simulcast --duration 62") ..
               "P=$!; wait $S; kill -TERM $P 2>/dev/null; wait)")
    local stopped = child.interrupt(pid)
    local res = {}
    for _, n in ipairs { "pub", "sub" } do
      local e = child.slurp(dir .. "/" .. n .. ".err")
      local line = e:match("RESULT (%b{})")
      res[n] = line and json.decode(line) or { ok = false, error = "no RESULT: " .. e }
    end
    local log = child.slurp(out)
    local all = json.encode(res) .. "\nSFU stdout:\n" .. log .. "\nSFU stderr:\n" .. child.slurp(err)
    child.rmdir(dir)
    io.stderr:write(all, "\n")
    assert.is_true(stopped, all)
    assert(log:find("DONE", 1, true), all)
    -- The server's view: 2, then 0, 1 and 2 again for the preference.
    local changes = {}
    for s, why in log:gmatch("LAYERCHANGE (%d+) %d+ (%a+)") do changes[#changes + 1] = { tonumber(s), why } end
    local walk, k = { 2, 0, 1, 2 }, 1
    for _, c in ipairs(changes) do
      if c[1] == walk[k] and (k == 1 or c[2] == "preferred") then k = k + 1 end
      if k > #walk then break end
    end
    assert(k > #walk, "layer changes: " .. json.encode(changes) .. "\n" .. all)
    -- The subscriber's view: widths (deduplicated) contain low, mid, high, in the
    -- order of the policy's moves. The top layer at the start is not required to be
    -- seen: the first estimate may move the consumer down before a frame of it decodes.
    local widths = res.sub.widths
    assert(type(widths) == "table" and #widths >= 3, all)
    local seen, want = {}, nil
    for _, w in ipairs(widths) do seen[#seen + 1] = w[1] end
    local lo, mid
    local i = 1
    local function find(pred) while i <= #seen and not pred(seen[i]) do i = i + 1 end; local v = seen[i]; i = i + 1; return v end
    lo = find(function(w) return w <= 200 end)
    mid = find(function(w) return w > 200 and w < 600 end)
    want = find(function(w) return w >= 600 end)
    assert(lo and mid and want, "decoded widths: " .. json.encode(seen) .. "\n" .. all)
    -- framesDecoded rose while each width was shown.
    for _, w in ipairs(widths) do
      if w[3] then assert(w[3] > w[2], "no frames decoded at width " .. w[1] .. ": " .. json.encode(widths)) end
    end
    assert.is_true(res.sub.framesDecoded > widths[1][2], all)
    assert.equal("video/VP8", res.sub.videoCodec)
  end)
end)
