-- turn_server.lua: a STUN/TURN server from the command line.
--   luartc examples/turn_server.lua --listen 127.0.0.1:3478 --realm example.org \
--       --user alice:secret [--user bob:pw] [--secret REST_SECRET] [--tcp] \
--       [--allow-loopback] [--relay-ip IP] [--min-port N] [--max-port N] \
--       [--tls-listen IP:PORT --cert FILE --key FILE] \
--       [--max-per-user N] [--bandwidth BYTES_PER_S] [--stats SECONDS]
-- Prints "READY <ip:port>" on stdout once listening, logs every allocation on stderr,
-- and stops cleanly on SIGINT/SIGTERM.
local rtc = require "rtc"
local turn = require "turn"

-- allocations are what an operator wants to see; RTC_LOG still overrides
if not os.getenv("RTC_LOG") then rtc.log.set_filter("warn,turn=info") end

local opts = { listen = {}, users = {}, realm = nil }
local stats_every
local i = 1
local function value(name)
  i = i + 1
  local v = arg[i]
  if v == nil then io.stderr:write("missing value for " .. name .. "\n"); os.exit(2) end
  return v
end
while i <= #arg do
  local a = arg[i]
  if a == "--listen" then opts.listen[#opts.listen + 1] = value(a)
  elseif a == "--realm" then opts.realm = value(a)
  elseif a == "--user" then
    local u, p = value(a):match("^([^:]+):(.*)$")
    if not u then io.stderr:write("--user wants NAME:PASS\n"); os.exit(2) end
    opts.users[u] = p
  elseif a == "--secret" then opts.secret = value(a)
  elseif a == "--tcp" then opts.tcp = true
  elseif a == "--tls-listen" then opts.tls = opts.tls or {}; opts.tls.listen = opts.tls.listen or {}
    opts.tls.listen[#opts.tls.listen + 1] = value(a)
  elseif a == "--cert" then opts.tls = opts.tls or {}; opts.tls.cert = value(a)
  elseif a == "--key" then opts.tls = opts.tls or {}; opts.tls.key = value(a)
  elseif a == "--allow-loopback" then opts.allow_loopback = true
  elseif a == "--allow-private" then opts.allow_private = true
  elseif a == "--relay-ip" then opts.relay_ip = value(a)
  elseif a == "--min-port" then opts.min_port = tonumber(value(a))
  elseif a == "--max-port" then opts.max_port = tonumber(value(a))
  elseif a == "--max-per-user" then opts.quota = opts.quota or {}; opts.quota.per_user = tonumber(value(a))
  elseif a == "--bandwidth" then opts.quota = opts.quota or {}; opts.quota.bandwidth = tonumber(value(a))
  elseif a == "--stats" then stats_every = tonumber(value(a))
  elseif a == "--help" or a == "-h" then
    io.stdout:write("usage: luartc examples/turn_server.lua --listen IP:PORT --realm R --user NAME:PASS\n" ..
      "  [--secret S] [--tcp] [--allow-loopback] [--allow-private] [--relay-ip IP]\n" ..
      "  [--tls-listen IP:PORT --cert FILE --key FILE]   (turns:, default port 5349)\n" ..
      "  [--min-port N] [--max-port N] [--max-per-user N] [--bandwidth B/s] [--stats SECONDS]\n")
    os.exit(0)
  else io.stderr:write("unknown option " .. a .. "\n"); os.exit(2) end
  i = i + 1
end
if #opts.listen == 0 then opts.listen = { "0.0.0.0:3478" } end
if opts.tls and not (opts.tls.cert and opts.tls.key) then
  io.stderr:write("TLS needs both --cert FILE and --key FILE\n"); os.exit(2)
end
opts.realm = opts.realm or "luartc"

local srv, err = turn.server(opts)
if not srv then io.stderr:write("turn_server: " .. err .. "\n"); os.exit(1) end

srv:on("allocate", function(a)
  rtc.log.info("turn", "allocation %d for %s from %s (%s): relay %s%s", a.id, a.username, a.client,
    a.transport, a.relay, a.relay2 and (" + " .. a.relay2) or "")
end)
srv:on("deallocate", function(a)
  rtc.log.info("turn", "allocation %d of %s ended: %s", a.id, a.username, a.reason or "?")
end)

local timer
if stats_every then
  timer = rtc.set_interval(stats_every * 1000, function()
    local s = srv:get_stats()
    rtc.log.info("turn", "allocations %d, to peers %d, to clients %d, dropped %d",
      s.allocations, s.relayed_to_peer, s.relayed_to_client,
      s.dropped_malformed + s.dropped_no_permission + s.dropped_bandwidth + s.dropped_no_allocation)
  end)
end

rtc.on("shutdown", function()
  if timer then timer:stop() end
  srv:close()
end)

for n = 1, #opts.listen do
  local ip, port = srv:local_address(n)
  local where = ip:find(":") and ("[" .. ip .. "]:" .. port) or (ip .. ":" .. port)
  io.stdout:write("READY " .. where .. "\n")
  rtc.log.info("turn", "listening on %s (udp%s), realm %s", where, opts.tcp and "+tcp" or "", opts.realm)
end
for n = 1, opts.tls and #(opts.tls.listen or { 1 }) or 0 do
  local ip, port = srv:tls_address(n)
  local where = ip:find(":") and ("[" .. ip .. "]:" .. port) or (ip .. ":" .. port)
  io.stdout:write("READY TLS " .. where .. "\n")
  rtc.log.info("turn", "listening on %s (tls)", where)
end
io.stdout:flush()
