-- bench/setup: peer connection set-up time and idle memory, two peers in one process
-- on loopback.  Run: luartc bench/setup.lua [rounds] [idle_pairs] [max_channels] [unique]
-- Prints: create_offer -> data channel open (median, p99) over `rounds` sequential
-- connections, connections per second, and resident memory per idle connected peer
-- connection (with one open data channel) at `idle_pairs` pairs. `max_channels` is the
-- peer connection option (default: the library's); any fifth argument sets
-- unique_certificate (one generated certificate per connection, not one per process).
local rtc = require "rtc"
local rounds = tonumber(arg[1]) or 200
local idle_pairs = tonumber(arg[2]) or 500
local LOCAL = { bind_addresses = { "127.0.0.1" }, max_channels = tonumber(arg[3]),
                unique_certificate = arg[4] ~= nil }

local function rss_kib()
  for line in io.lines("/proc/self/status") do
    local v = line:match("^VmRSS:%s+(%d+)")
    if v then return tonumber(v) end
  end
end

-- Connects a pair; returns both peers and the channel once open, and the time it took.
local function connect()
  local a = assert(rtc.peer_connection(LOCAL))
  local b = assert(rtc.peer_connection(LOCAL))
  a:on("icecandidate", function(c) if c and b.remote_description then b:add_ice_candidate(c) end end)
  b:on("icecandidate", function(c) if c and a.remote_description then a:add_ice_candidate(c) end end)
  local t0 = rtc.now()
  local dc = a:create_data_channel("bench")
  -- The time is taken in the event itself: the polling below only waits for it.
  local open = false
  dc:on("open", function() open = rtc.now() end)
  local offer = assert(a:create_offer())
  assert(a:set_local_description(offer))
  assert(b:set_remote_description(offer))
  local answer = assert(b:create_answer())
  assert(b:set_local_description(answer))
  assert(a:set_remote_description(answer))
  local deadline = rtc.now() + 10000
  while not open do
    if rtc.now() > deadline then error("connection timed out") end
    rtc.sleep(0.0005)
  end
  return a, b, dc, open - t0
end

local times = {}
local t_all = rtc.now()
for i = 1, rounds do
  local a, b, _, ms = connect()
  times[i] = ms
  a:close(); b:close()
end
local elapsed = (rtc.now() - t_all) / 1000
table.sort(times)
local function pct(p) return times[math.max(1, math.ceil(#times * p))] end

local base = rss_kib()
local keep = {}
for i = 1, idle_pairs do
  local a, b, dc = connect()
  keep[#keep + 1] = { a, b, dc }
end
rtc.sleep(1)
collectgarbage()
local per_pc = (rss_kib() - base) / (2 * idle_pairs)

print("bench/setup: two luartc peers on loopback, one process")
print(string.format("%-46s %10s", "metric", "value"))
print(string.format("%-46s %10.2f", "create_offer -> channel open, median (ms)", pct(0.5)))
print(string.format("%-46s %10.2f", "create_offer -> channel open, p99 (ms)", pct(0.99)))
print(string.format("%-46s %10.1f", "connections per second (sequential)", rounds / elapsed))
print(string.format("%-46s %10.1f", "resident KiB per idle connected pc", per_pc))
print(string.format("(%d rounds; memory at %d connected pairs = %d peer connections; max_channels %s; %s)",
                    rounds, idle_pairs, 2 * idle_pairs, arg[3] or "default",
                    LOCAL.unique_certificate and "a certificate per connection" or "one certificate per process"))
for _, k in ipairs(keep) do k[1]:close(); k[2]:close() end
os.exit(0)
