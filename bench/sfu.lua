-- End-to-end SFU benchmark: `luartc examples/sfu.lua` alone on CPU 0 (taskset), one
-- publisher (VP8 720p30 from an IVF, about 1.5 Mbit/s) over WHIP and N subscribers over
-- WHEP, all luartc peer connections in this process on 127.0.0.1. For each N it prints
-- the SFU's CPU time per forwarded packet (user + system from /proc, over the measured
-- window, divided by the packets the subscribers received), its RSS per subscriber
-- (RSS with N subscribers minus RSS with the publisher alone, over N), the loss the
-- subscribers saw, and how many WHEP sessions a second the endpoint set up (sequential
-- POSTs, offer to 201). With perf installed, the SFU's top symbols for the largest N.
--   taskset -c 1 luartc bench/sfu.lua [--n 1,10,100] [--seconds 5] [--no-perf]
local rtc = require "rtc"
local http = require "http"

local opts = { n = { 1, 10, 100 }, seconds = 5, perf = true }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--n" then
      i = i + 1
      opts.n = {}
      for v in (arg[i] or ""):gmatch("%d+") do opts.n[#opts.n + 1] = tonumber(v) end
    elseif a == "--seconds" then i = i + 1; opts.seconds = tonumber(arg[i]) or 5
    elseif a == "--no-perf" then opts.perf = false
    else io.stderr:write("usage: sfu.lua [--n 1,10,100] [--seconds S] [--no-perf]\n"); os.exit(2) end
    i = i + 1
  end
end

local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local EXAMPLE = here .. "/../examples/sfu.lua"
local LUARTC = os.getenv("LUARTC") or arg[-1] or "luartc"
local LOCAL = { bind_addresses = { "127.0.0.1" } }
local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  p:close()
  return out
end
local function slurp(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local IVF = "/tmp/luartc-bench-720p30.ivf"
if slurp(IVF) == "" then
  io.stderr:write("making ", IVF, " with ffmpeg...\n")
  sh("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=1280x720:rate=30 -t 10 -c:v libvpx " ..
     "-b:v 1500k -minrate 1500k -maxrate 1500k -g 60 -deadline realtime -cpu-used 8 " .. q(IVF))
end

local TICK = tonumber(sh("getconf CLK_TCK")) or 100
local function cpu_us(pid)
  local st = slurp("/proc/" .. pid .. "/stat")
  local rest = st:match("%) (.*)$")
  if not rest then return nil end
  local f = {}
  for w in rest:gmatch("%S+") do f[#f + 1] = w end
  return (tonumber(f[12]) + tonumber(f[13])) * 1e6 / TICK         -- utime, stime
end
local function rss_kb(pid) return tonumber(slurp("/proc/" .. pid .. "/status"):match("VmRSS:%s+(%d+)")) end

local function post(url, sdp)
  return http.request(url, { method = "POST", body = sdp, headers = { ["Content-Type"] = "application/sdp" }, timeout = 30 })
end

local function wait_connected(pcs, timeout_s)
  local deadline = rtc.now() + timeout_s * 1000
  while true do
    local all = true
    for _, pc in ipairs(pcs) do if pc.connection_state ~= "connected" then all = false end end
    if all then return true end
    if rtc.now() > deadline then return false end
    rtc.sleep(0.05)
  end
end

local function inbound(pc)
  for _, s in pairs(pc:get_stats()) do
    if s.type == "inbound-rtp" and s.kind == "video" then return s.packetsReceived or 0, s.packetsLost or 0 end
  end
  return 0, 0
end

local function run(n, port)
  local out, err = os.tmpname(), os.tmpname()
  local pid = tonumber(sh(string.format("taskset -c 0 %s %s --listen 127.0.0.1:%d >%s 2>%s & echo $!",
                                        q(LUARTC), q(EXAMPLE), port, q(out), q(err))))
  local deadline = rtc.now() + 10000
  while not slurp(out):find("listening", 1, true) and rtc.now() < deadline do rtc.sleep(0.02) end
  local base = "http://127.0.0.1:" .. port
  local row = { n = n }
  local pcs = {}
  local ok, e = pcall(function()
    local pub = assert(rtc.peer_connection(LOCAL))
    pcs[#pcs + 1] = pub
    local cam = rtc.media_track("video", { codec = "VP8" })
    assert(pub:add_transceiver(cam, { direction = "sendonly" }))
    assert(pub:set_local_description(assert(pub:create_offer())))
    pub:wait_gathering_complete()
    local r = assert(post(base .. "/whip", pub.local_description.sdp))
    assert(r.status == 201, "WHIP: " .. r.status .. " " .. r.body)
    assert(pub:set_remote_description { type = "answer", sdp = r.body })
    assert(wait_connected({ pub }, 10), "publisher not connected")
    local src = assert(rtc.media.file_source(IVF, { loop = true }))
    local sent = 0
    src:on("frame", function(f) cam:write_frame(f); sent = sent + 1 end)
    src:start()
    rtc.sleep(1)
    local rss0 = rss_kb(pid)
    -- subscribers, one after the other: offers made first, so the timing is the endpoint's
    local subs, offers = {}, {}
    for i = 1, n do
      local pc = assert(rtc.peer_connection(LOCAL))
      assert(pc:add_transceiver("video", { direction = "recvonly" }))
      assert(pc:set_local_description(assert(pc:create_offer())))
      subs[i] = pc
      pcs[#pcs + 1] = pc
    end
    for i = 1, n do subs[i]:wait_gathering_complete(); offers[i] = subs[i].local_description.sdp end
    local t0 = rtc.now()
    local answers = {}
    for i = 1, n do
      local a = assert(post(base .. "/whep", offers[i]))
      assert(a.status == 201, "WHEP: " .. a.status .. " " .. a.body)
      answers[i] = a.body
    end
    row.setup_per_s = n / math.max(1e-3, (rtc.now() - t0) / 1000)
    for i = 1, n do assert(subs[i]:set_remote_description { type = "answer", sdp = answers[i] }) end
    assert(wait_connected(subs, 30), "subscribers not connected")
    rtc.sleep(2)                                            -- every consumer past its first keyframe
    local rx0, lost0 = 0, 0
    for i = 1, n do local a, l = inbound(subs[i]); rx0 = rx0 + a; lost0 = lost0 + l end
    local c0, sent0 = cpu_us(pid), sent
    rtc.sleep(opts.seconds)
    local c1 = cpu_us(pid)
    local rx1, lost1 = 0, 0
    for i = 1, n do local a, l = inbound(subs[i]); rx1 = rx1 + a; lost1 = lost1 + l end
    row.forwarded = rx1 - rx0
    row.pps = row.forwarded / opts.seconds
    row.us_per_pkt = (c1 - c0) / math.max(1, row.forwarded)
    row.cpu = (c1 - c0) / (opts.seconds * 1e6)
    row.lost = lost1 - lost0
    row.frames = sent - sent0
    row.rss_mb = (rss_kb(pid) - rss0) / 1024 / n
    if opts.perf and n == opts.n[#opts.n] then
      row.perf = sh(string.format("perf record -q -F 2000 -o /tmp/luartc-sfu.perf -p %d -- sleep 3 >/dev/null 2>&1; " ..
                                  "perf report -q -i /tmp/luartc-sfu.perf --stdio --sort symbol 2>/dev/null | " ..
                                  "grep -v '^#' | grep -v '^$' | head -25; rm -f /tmp/luartc-sfu.perf", pid))
    end
    src:stop()
  end)
  for _, pc in ipairs(pcs) do pc:close() end
  os.execute("kill -INT " .. pid .. " 2>/dev/null")
  rtc.sleep(0.5)
  os.execute("kill -KILL " .. pid .. " 2>/dev/null")
  if not ok then row.error = tostring(e) .. "\n" .. slurp(err) end
  os.remove(out); os.remove(err)
  return row
end

rtc.spawn(function()
  local rows = {}
  for i, n in ipairs(opts.n) do
    rows[i] = run(n, 28000 + i * 10 + os.time() % 7)
    io.stderr:write(string.format("N=%d done\n", n))
  end
  print(string.format("%6s %12s %10s %8s %12s %8s %10s", "N", "fwd pkt/s", "us/pkt", "SFU cpu", "RSS MB/sub", "lost", "WHEP/s"))
  for _, r in ipairs(rows) do
    if r.error then
      print(string.format("%6d  failed: %s", r.n, r.error))
    else
      print(string.format("%6d %12.0f %10.2f %7.0f%% %12.3f %8d %10.1f", r.n, r.pps, r.us_per_pkt, r.cpu * 100,
                          r.rss_mb, r.lost, r.setup_per_s))
    end
  end
  for _, r in ipairs(rows) do
    if r.perf then print(string.format("\nwhere the SFU's time goes at N=%d (perf, self time by symbol):\n%s", r.n, r.perf)) end
  end
end)
