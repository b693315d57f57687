-- VP9 SVC through the SFU with headless Chromium: a Chromium publisher sends one VP9
-- encoding with scalabilityMode L3T3_KEY over WHIP (its fake camera at 960x540, so the
-- encoder keeps three spatial layers: 240x135, 480x270, 960x540; at 640x480 it sends
-- two); a Chromium subscriber over WHEP is moved by the server's policy
-- (spec/sfu_simulcast_server.lua --walk 2,0,1,2) from the top spatial layer to 0, 1 and
-- back to the top, the SFU dropping the layers above inside the one stream. Checked:
-- the publisher reports L3T3_KEY in VP9, the server sees three spatial layers with the
-- sizes of the scalability structure, its layerchange events come in the walk's order,
-- the subscriber's decoded frameWidth follows (smallest, middle, largest) and
-- framesDecoded rises at every width. Nothing about how long anything takes.
local child = require "support.child"
local json = require("rtc").json
local q = child.quote

local TOOL = "env -u LD_PRELOAD "     -- node and Chromium never get a sanitizer preload
local CLIENT = child.SOURCE_DIR .. "/spec/browser/whip_client.js"

describe("SFU VP9 SVC with Chromium", function()
  it("a subscriber's decoded width follows the spatial layer the policy chooses", function()
    local dir = child.tmpdir()
    local port = 41000 + (os.time() * 13 % 20000)
    local out, err = dir .. "/sfu.out", dir .. "/sfu.err"
    local p = io.popen(string.format("%s %s --listen 127.0.0.1:%d --hold 3 --walk 2,0,1,2 >%s 2>%s & echo $!",
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
    os.execute("(" .. client("sub", "subscribe", "/whep", "--svc L3T3_KEY --watch --duration 60 --done-url " ..
                             q(base .. "/walk")) ..
               "S=$!; sleep 1; " .. client("pub", "publish", "/whip", "--svc L3T3_KEY --camera 960x540 --duration 62") ..
               "P=$!; wait $S; kill -TERM $P 2>/dev/null; wait)")
    local stopped = child.interrupt(pid)
    local sub_err, pub_err = child.slurp(dir .. "/sub.err"), child.slurp(dir .. "/pub.err")
    local line = sub_err:match("RESULT (%b{})")
    local sub = line and json.decode(line) or { ok = false, error = "no RESULT: " .. sub_err }
    local log = child.slurp(out)
    local all = json.encode(sub) .. "\npublisher:\n" .. pub_err .. "\nSFU stdout:\n" .. log ..
                "\nSFU stderr:\n" .. child.slurp(err)
    child.rmdir(dir)
    io.stderr:write(all, "\n")
    assert.is_true(stopped, all)
    -- What Chromium sends (its own report, every 5 s).
    local sending = pub_err:match("SENDING (%b{})")
    assert(sending, "the publisher reported nothing\n" .. all)
    sending = json.decode(sending)
    assert.equal("video/VP9", sending.codec)
    assert.equal("L3T3_KEY", sending.scalabilityMode)
    -- The SFU saw one producer with three spatial layers, sized as Chromium encodes them.
    assert(log:find("LAYERS 3 240x135 480x270 960x540 codec VP9", 1, true), all)
    assert(log:find("DONE", 1, true), all)
    local changes = {}
    for s, why in log:gmatch("LAYERCHANGE (%d+) %d+ (%a+)") do changes[#changes + 1] = { tonumber(s), why } end
    local walk, k = { 2, 0, 1, 2 }, 1
    for _, c in ipairs(changes) do
      if c[1] == walk[k] and (k == 1 or c[2] == "preferred") then k = k + 1 end
      if k > #walk then break end
    end
    assert(k > #walk, "layer changes: " .. json.encode(changes) .. "\n" .. all)
    -- The subscriber's view: decoded widths contain 240, 480, 960 in that order (the
    -- top layer at the start may be left for the first estimate before it decodes).
    local widths = sub.widths
    assert(type(widths) == "table" and #widths >= 3, all)
    local seen = {}
    for _, w in ipairs(widths) do seen[#seen + 1] = w[1] end
    local i = 1
    local function find(v) while i <= #seen and seen[i] ~= v do i = i + 1 end; local f = seen[i]; i = i + 1; return f end
    assert(find(240) and find(480) and find(960), "decoded widths: " .. json.encode(seen) .. "\n" .. all)
    for _, w in ipairs(widths) do
      if w[3] then assert(w[3] > w[2], "no frames decoded at width " .. w[1] .. ": " .. json.encode(widths)) end
    end
    assert.is_true(sub.framesDecoded > widths[#widths][2], all)
    assert.equal("video/VP9", sub.videoCodec)
  end)
end)
