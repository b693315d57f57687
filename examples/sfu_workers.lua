-- One SFU room over two workers (docs/workers.md, "A room bigger than one worker"):
-- a luartc bot publishes a VP8 clip into worker 1's room, worker 1 pipes that
-- producer into worker 2's room, and subscriber bots on both workers receive it.
--   luartc examples/sfu_workers.lua [--subscribers N] [--frames F] [--fail W] [--clip FILE]
-- N subscribers (default 20) are spread over the two workers; each must receive F
-- frames (default 60) and two keyframes. --fail W gives worker W's room a policy that
-- raises: the errors are logged and reported, and both workers keep forwarding.
-- Prints one JSON line: each worker's subscribers' counts, the pipe's counters, the
-- errors reported.
local rtc = require "rtc"

local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local nsubs, frames, fail, clip = 20, 60, nil, dir .. "media/testsrc.ivf"
local i = 1
while i <= #arg do
  local a, v = arg[i], arg[i + 1]
  if a == "--subscribers" then nsubs = assert(math.tointeger(tonumber(v)), "--subscribers N")
  elseif a == "--frames" then frames = assert(math.tointeger(tonumber(v)), "--frames F")
  elseif a == "--fail" then fail = assert(math.tointeger(tonumber(v)), "--fail W (1 or 2)")
  elseif a == "--clip" then clip = v
  else error("usage: sfu_workers.lua [--subscribers N] [--frames F] [--fail W] [--clip FILE]") end
  i = i + 2
end

local got, errors, exits = {}, {}, {}
local workers = {}
for w = 1, 2 do
  local wk = assert(rtc.worker.spawn(dir .. "sfu_worker.lua"))
  got[w] = {}
  wk:on("message", function(m)
    for k, v in pairs(m) do if k ~= "worker" then got[w][k] = v end end
  end)
  wk:on("error", function(err) errors[#errors + 1] = { worker = wk:id(), error = err } end)
  wk:on("exit", function(ok, err) exits[#exits + 1] = { worker = wk:id(), ok = ok, error = err } end)
  workers[w] = wk
end
local w1, w2 = workers[1], workers[2]

local function wait_for(pred, what)
  local deadline = rtc.now() + 60000
  while not pred() do
    if rtc.now() > deadline then error("timed out waiting for " .. what) end
    rtc.sleep(0.02)
  end
end

wait_for(function() return got[1].ready and got[2].ready end, "the workers")
assert(w1:send({ cmd = "publish", clip = clip }))
wait_for(function() return got[1].published end, "the publisher")
-- The pipe: worker 1 makes it, its description travels through here to worker 2.
assert(w1:send({ cmd = "pipe" }))
wait_for(function() return got[1].pipe end, "the pipe")
assert(w2:send({ cmd = "pipe_from", desc = got[1].pipe }))
wait_for(function() return got[2].piped end, "the piped producer")
if fail then
  assert(workers[fail]:send({ cmd = "fail" }))
  wait_for(function() return #errors > 0 end, "the policy's error report")
end
local half = nsubs // 2
assert(w1:send({ cmd = "subscribe", n = nsubs - half, clip = clip, frames = frames }))
assert(w2:send({ cmd = "subscribe", n = half, clip = clip, frames = frames }))
wait_for(function() return got[1].done and got[2].done end, "every subscriber's frames")
for _, w in ipairs(workers) do assert(w:send({ cmd = "stop" })) end
for _, w in ipairs(workers) do w:join() end

local out = { subscribers = nsubs, errors = errors, exits = exits, workers = {} }
for w = 1, 2 do
  out.workers[w] = { subs = got[w].subs, piped = got[w].producer_piped, producer_packets = got[w].producer_packets,
                     pipe = got[w].pipe_stats, codec = got[w].codec }
end
out.pipe_desc = got[1].pipe
print(rtc.json.encode(out))
