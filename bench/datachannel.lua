-- bench/datachannel: one luartc peer of the cross-process data channel benchmark.
-- bench/datachannel.sh pairs two of these (and two node-datachannel peers,
-- bench/node/dc_peer.js, which take the same options) through spec/browser/pair.js:
-- signaling is one JSON object a line on stdout/stdin, as for examples/interop_peer.lua.
--   luartc bench/datachannel.lua --role offer|answer --test bulk|small
--          [--size BYTES] [--bytes TOTAL] [--count N] [--timeout S]
-- bulk: the offerer sends TOTAL bytes in SIZE-byte binary messages on one reliable
--   ordered channel, writing while buffered_amount is under a high-water mark and
--   resuming on bufferedamountlow.
-- small: the offerer sends N messages of SIZE bytes (default 100) the same way.
-- Each side ends with one stderr line `RESULT {json}`: ok, bytes, messages, the
-- seconds of the test phase (offerer: channel open -> the receiver's report arrives;
-- answerer: first -> last message) and `cpu_s`, the CPU time (user + system) this
-- process spent in that phase.
local rtc = require "rtc"
local json = rtc.json

local opts = { role = "offer", test = "bulk", size = 16384, bytes = 256 * 1000 * 1000, count = 1000000, timeout = 120 }
do
  local i = 1
  while arg[i] do
    local k, v = arg[i], arg[i + 1]
    if k == "--role" then opts.role = v
    elseif k == "--test" then opts.test = v
    elseif k == "--size" then opts.size = tonumber(v)
    elseif k == "--bytes" then opts.bytes = tonumber(v)
    elseif k == "--count" then opts.count = tonumber(v)
    elseif k == "--timeout" then opts.timeout = tonumber(v)
    else io.stderr:write("datachannel.lua: unknown option ", k, "\n"); os.exit(2) end
    i = i + 2
  end
end

-- The whole amount, as messages of opts.size bytes (the last one may be shorter).
local total_msgs, total_bytes
if opts.test == "small" then
  total_msgs, total_bytes = opts.count, opts.count * opts.size
else
  total_msgs = (opts.bytes + opts.size - 1) // opts.size
  total_bytes = opts.bytes
end

local finished = false
local function finish(r)
  if finished then return end
  finished = true
  io.stderr:write("RESULT ", json.encode(r), "\n")
  io.stderr:flush()
  os.exit(r.ok and 0 or 1)
end

-- Only loopback: benchmark traffic never leaves the machine.
local pc = rtc.peer_connection { bind_addresses = { "127.0.0.1" } }
pc:on("connectionstatechange", function(s)
  if s == "failed" then finish({ ok = false, error = "connection failed" }) end
end)
local function send_signal(msg) rtc.stdout:write(json.encode(msg) .. "\n") end
local function send_description()
  pc:wait_gathering_complete()
  local d = pc.local_description
  send_signal({ type = d.type, sdp = d.sdp })
end

-- High-water mark for the sender: enough to keep the association's 1 MiB window full
-- while the loop turns, small enough to bound memory.
local HIGH, LOW = 4 * 1024 * 1024, 1024 * 1024

if opts.role == "offer" then
  local dc = pc:create_data_channel("bench")
  dc.buffered_amount_low_threshold = LOW
  local block = string.rep("\xab", opts.size)
  local last = total_bytes - (total_msgs - 1) * opts.size
  local tail = last == opts.size and block or block:sub(1, last)
  local sent, t0, c0 = 0, nil, nil
  local function pump()
    while sent < total_msgs and dc.buffered_amount < HIGH do
      sent = sent + 1
      local ok, err = dc:send(sent == total_msgs and tail or block, true)
      if not ok then finish({ ok = false, error = "send: " .. tostring(err) }) end
    end
  end
  dc:on("bufferedamountlow", pump)
  dc:on("open", function()
    io.stderr:write("MARK\n")
    t0, c0 = rtc.now(), os.clock()
    pump()
  end)
  dc:on("message", function(data)
    local secs = (rtc.now() - t0) / 1000
    local report = json.decode(data) or {}
    local ok = report.bytes == total_bytes and report.messages == total_msgs
    finish({ ok = ok, error = (not ok) and ("peer got " .. tostring(data)) or nil,
             bytes = total_bytes, messages = total_msgs, seconds = secs, cpu_s = os.clock() - c0 })
  end)
else
  pc:on("datachannel", function(dc)
    local got, n, t0, c0 = 0, 0, nil, os.clock()
    dc:on("message", function(data)
      if n == 0 then t0 = rtc.now() end
      n = n + 1
      got = got + #data
      if n == total_msgs then
        local secs = math.max(rtc.now() - t0, 1) / 1000
        dc:send(json.encode({ bytes = got, messages = n }))
        local r = { ok = got == total_bytes, bytes = got, messages = n, seconds = secs, cpu_s = os.clock() - c0 }
        -- Let the report leave before exiting.
        rtc.set_timeout(200, function() finish(r) end)
      end
    end)
  end)
end

rtc.set_timeout(opts.timeout * 1000, function() finish({ ok = false, error = "timeout" }) end)

rtc.spawn(function()
  while true do
    local line = rtc.stdin:read_line()
    if not line then break end
    local msg = line:match("%S") and json.decode(line)
    if msg and (msg.type == "offer" or msg.type == "answer") then
      local ok, e = pc:set_remote_description({ type = msg.type, sdp = msg.sdp })
      if not ok then finish({ ok = false, error = e }) end
      if msg.type == "offer" then
        assert(pc:set_local_description(assert(pc:create_answer())))
        send_description()
      end
    end
  end
end)

if opts.role == "offer" then
  assert(pc:set_local_description(assert(pc:create_offer())))
  send_description()
end
