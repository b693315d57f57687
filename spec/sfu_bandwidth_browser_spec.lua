-- Simulcast layers chosen by bandwidth, with headless Chromium on a rate-limited link.
-- Two network namespaces joined by a veth: in one, the SFU (spec/sfu_bandwidth_server.lua),
-- a Chromium publisher sending three VP8 layers over WHIP and subscriber A over WHEP;
-- in the other, subscriber B, whose downlink is limited to 300 kbit/s by tc tbf on the
-- SFU's end of the link (this kernel has tbf, not netem). The SFU's core picks each
-- subscriber's layer from its own estimate. Checked: B, watched for a while behind its
-- limit after A got the top layer, is brought down to the lowest layer by its estimate;
-- when the limit is lifted B climbs to the top; A got the top by its estimate; B's
-- decoded width follows (small, then full). Nothing about how long anything takes: the
-- hold only fixes how long the limited phase is watched.
local child = require "support.child"
local tmp = require "support.tmp"
local json = require("rtc").json
local q = child.quote

local TOOL = "env -u LD_PRELOAD "     -- node and Chromium never get a sanitizer preload
local CLIENT = child.SOURCE_DIR .. "/spec/browser/whip_client.js"
local SERVER = child.SOURCE_DIR .. "/spec/sfu_bandwidth_server.lua"

local function sh(cmd) assert(os.execute(cmd), cmd) end

describe("SFU layers by bandwidth with Chromium", function()
  -- namespace names of this run's own (the process id: parallel runs never share one)
  local stat = io.open("/proc/self/stat"):read("l")
  local tag = "lrtcbw" .. stat:match("^(%d+)")
  local S, B = tag .. "s", tag .. "b"

  setup(function()
    sh("ip netns add " .. S .. " && ip netns add " .. B)
    for _, n in ipairs { S, B } do sh("ip -n " .. n .. " link set lo up") end
    sh("ip -n " .. S .. " link add eth1 type veth peer name eth1 netns " .. B)
    for n, a in pairs { [S] = "10.9.0.1", [B] = "10.9.0.2" } do
      sh(("ip -n %s link set eth1 addrgenmode none && ip -n %s addr add %s/24 dev eth1 && ip -n %s link set eth1 up")
         :format(n, n, a, n))
    end
    sh("ip -n " .. S .. " route add default via 10.9.0.2")
    sh("ip -n " .. B .. " route add default via 10.9.0.1")
    -- B's downlink: what the SFU sends to it leaves through S's end of the veth
    sh("ip netns exec " .. S .. " tc qdisc add dev eth1 root tbf rate 300kbit burst 16kbit latency 300ms")
  end)

  teardown(function()
    os.execute("ip netns del " .. S .. " 2>/dev/null; ip netns del " .. B .. " 2>/dev/null")
    tmp.clean()
  end)

  it("moves a subscriber behind a slow link to the low layer and back up when the link frees", function()
    local dir = child.tmpdir()
    local port = 41000 + (os.time() * 17 % 20000)
    local base = "http://10.9.0.1:" .. port
    local srv = child.start(string.format("ip netns exec %s %s %s --listen 10.9.0.1:%d --hold 8 --lift %s", S,
                                          q(child.LUARTC), q(SERVER), port, q("tc qdisc del dev eth1 root")),
                            "listening", 20)
    local pid, out, err = srv.pid, srv.out, srv.err
    local function client(ns, name, role, path, extra)
      return string.format("ip netns exec %s %stimeout 150 node %s --role %s --url %s %s </dev/null >%s 2>%s &",
                           ns, TOOL, q(CLIENT), role, q(base .. path), extra, q(dir .. "/" .. name .. ".out"),
                           q(dir .. "/" .. name .. ".err"))
    end
    local watch = "--watch --duration 120 --done-url " .. q(base .. "/walk") .. " --token "
    os.execute("(" .. client(S, "a", "subscribe", "/whep", watch .. "A") .. "SA=$!; " ..
               client(B, "b", "subscribe", "/whep", watch .. "B") .. "SB=$!; sleep 1; " ..
               client(S, "pub", "publish", "/whip", "--simulcast --duration 125") ..
               "P=$!; wait $SA; wait $SB; kill -TERM $P 2>/dev/null; wait)")
    local stopped = child.interrupt(pid)
    local res = {}
    for _, n in ipairs { "pub", "a", "b" } do
      local e = child.slurp(dir .. "/" .. n .. ".err")
      local line = e:match("RESULT (%b{})")
      res[n] = line and json.decode(line) or { ok = false, error = "no RESULT: " .. e:sub(-1500) }
    end
    local log = child.slurp(out)
    local all = json.encode(res) .. "\nSFU stdout:\n" .. log .. "\nSFU stderr:\n" .. child.slurp(err):sub(-3000)
    child.rmdir(dir)
    io.stderr:write(all, "\n")
    assert.is_true(stopped, all)
    -- the limited phase: B's estimate brought it down to the lowest layer. (Whether it
    -- then stays there is not checked: today it does not always. With about 200 kbit/s
    -- the choice takes the top spatial layer at its lowest temporal layer, whose
    -- keyframe then overfills the link, so B swings between layers behind its limit.)
    assert(log:find("LIMITED", 1, true), "no limited phase: " .. all)
    local limited = log:sub(1, log:find("LIFTED", 1, true) or #log)
    assert(limited:find("LAYER B 0 %d+ bandwidth"), "B never came down to layer 0: " .. all)
    -- the limit lifted: B at the top
    assert(log:find("LIFTED", 1, true) and log:find("DONE", 1, true), all)
    -- A, on the free link, got the top layer by its estimate while B was held down.
    -- (That it never leaves it is not asserted: on this shared 2-core machine a loaded
    -- CPU delays the browsers' packets, A's estimate reads that as queuing and dips a
    -- layer for a moment; seen once in a CI run beside another test run.)
    local a_top = false
    for s, why in log:gmatch("LAYER A (%d+) %d+ (%a+)") do
      if why ~= "start" and tonumber(s) == 2 then a_top = true end
    end
    assert.is_true(a_top, all)
    -- B's decoded width: small while limited, full after
    local widths = res.b.widths
    assert(type(widths) == "table", all)
    local small, full_after = false, false
    for _, w in ipairs(widths) do
      if w[1] <= 200 then small = true elseif small and w[1] >= 600 then full_after = true end
    end
    assert(small and full_after, "B's decoded widths: " .. json.encode(widths) .. "\n" .. all)
    assert.is_true(res.b.framesDecoded > widths[#widths][2], all)
  end)
end)
