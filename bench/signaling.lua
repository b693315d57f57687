-- Signaling benchmark: messages relayed per second, and server memory for N idle
-- connected clients.
--   luartc bench/signaling.lua [--clients 10000] [--messages 200000] [--size 200]
-- The server runs in a child process (this script with --serve PORT) so its memory is
-- measured alone (VmRSS from /proc). Raise the descriptor limit first for many
-- clients (`ulimit -n 30000`); the run stops at what the limit allows and says so.
local rtc = require "rtc"

local opts = { clients = 10000, messages = 200000, size = 200, window = 2000 }
do
  local i = 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--serve" then opts.serve = tonumber(v)
    elseif a == "--clients" then opts.clients = tonumber(v)
    elseif a == "--messages" then opts.messages = tonumber(v)
    elseif a == "--size" then opts.size = tonumber(v)
    else io.stderr:write("unknown option ", a, "\n"); os.exit(2) end
    i = i + 2
  end
end

local signaling = require "signaling"

if opts.serve then
  local sig, srv = assert(signaling.listen { host = "127.0.0.1", port = opts.serve, max_peers = 1000000,
                                             rate = 1e9, burst = 1e9, max_connections = 1000000 })
  print("READY " .. srv.port)
  io.stdout:flush()
  srv:route("GET", "/quit", function() rtc.set_timeout(10, function() srv:close() end); return 200, "bye" end)
  return
end

local function rss_kb(pid)
  local f = io.open("/proc/" .. pid .. "/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmRSS:%s*(%d+)"))
end

local function fd_limit()
  local p = io.popen("sh -c 'ulimit -n'")
  local n = tonumber(p:read("l"))
  p:close()
  return n or 1024
end

-- Start the server child; its pid comes from the shell.
local port = 20000 + math.random(0, 9999)
local self = arg[0]
-- Our own executable: the shell io.popen starts is our child, so its $PPID is us.
local luartc = os.getenv("LUARTC") or io.popen("readlink /proc/$PPID/exe"):read("l") or "luartc"
local pidfile = os.tmpname()
os.execute(string.format("%s %s --serve %d >%s.out 2>&1 & echo $! >%s", luartc, self, port, pidfile, pidfile))
local pf = io.open(pidfile)
local pid = tonumber(pf:read("l"))
pf:close()
os.remove(pidfile)

local url = "ws://127.0.0.1:" .. port .. "/ws"
for _ = 1, 100 do
  local c = rtc.tcp_connect("127.0.0.1", port)
  if c then c:close(); break end
  rtc.sleep(0.05)
end
local base_rss = rss_kb(pid)

-- Relay throughput: A sends to B with a window of messages in flight.
do
  local a = assert(signaling.connect(url, { room = "bench", peer = "a" }))
  local b = assert(signaling.connect(url, { room = "bench", peer = "b" }))
  local got, me, waiting = 0, coroutine.running(), false
  b:on("message", function() got = got + 1; if waiting then waiting = false; coroutine.resume(me) end end)
  local payload = string.rep("x", opts.size)
  local text = '{"type":"app","to":"b","data":"' .. payload .. '"}'
  local t0 = rtc.now()
  local sent = 0
  while got < opts.messages do
    while sent < opts.messages and sent - got < opts.window do a:send(text); sent = sent + 1 end
    waiting = true
    coroutine.yield()
  end
  local secs = (rtc.now() - t0) / 1000
  print(string.format("relay: %d messages of %d bytes in %.2f s = %.0f msg/s", got, #text, secs, got / secs))
  a:close(); b:close()
end

-- Idle clients.
local limit = fd_limit()
local want = opts.clients
-- Each client uses one descriptor here; keep some for the loop itself.
local can = math.min(want, limit - 64)
if can < want then
  print(string.format("descriptor limit %d: connecting %d of %d clients (raise with ulimit -n)", limit, can, want))
end
local clients, failed = {}, 0
local t0 = rtc.now()
local tasks = {}
local per = 100
for w = 1, per do
  tasks[w] = rtc.spawn(function()
    for i = w, can, per do
      local c = signaling.connect(url, { room = "idle" .. (i // 4), peer = "p" .. i })   -- rooms of 4
      if c then clients[#clients + 1] = c else failed = failed + 1 end
    end
  end)
end
rtc.wait_all(tasks)
rtc.sleep(0.5)
local rss = rss_kb(pid)
print(string.format("idle: %d clients connected (%d failed) in %.1f s; server RSS %.1f MB (%.1f MB at start, %.1f kB per client); this process %.1f MB",
  #clients, failed, (rtc.now() - t0) / 1000, rss / 1024, base_rss / 1024, (rss - base_rss) / math.max(#clients, 1),
  rss_kb("self") / 1024))
for _, c in ipairs(clients) do c.ws:abort() end
local http = require "http"
http.request("http://127.0.0.1:" .. port .. "/quit")
os.remove(pidfile .. ".out")
