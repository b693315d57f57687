-- Workers (docs/workers.md): N worker threads, each with its own loop and Lua state
-- running two real peer connections (examples/worker_echo.lua), and this script
-- talking to them with plain-value messages.
--   luartc examples/workers.lua [N] [--fail]
-- Sends each worker a ping that travels round its data channel and back; with
-- --fail, worker 1's message handler first raises an error: it is reported here as
-- an "error" event and every worker still answers. Prints one JSON line.
local rtc = require "rtc"

local n, fail = 2, false
for _, a in ipairs(arg) do
  if a == "--fail" then fail = true else n = assert(math.tointeger(tonumber(a)), "usage: workers.lua [N] [--fail]") end
end
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"

local workers, ready, echoes, errors, exits = {}, 0, {}, {}, {}
for i = 1, n do
  local w = assert(rtc.worker.spawn(dir .. "worker_echo.lua"))
  w:on("message", function(msg)
    if msg.ready then ready = ready + 1 elseif msg.echo then echoes[#echoes + 1] = msg end
  end)
  w:on("error", function(err) errors[#errors + 1] = { worker = w:id(), error = err } end)
  w:on("exit", function(ok, err) exits[#exits + 1] = { worker = w:id(), ok = ok, error = err } end)
  workers[i] = w
end

local function wait_for(pred, what)
  local deadline = rtc.now() + 20000
  while not pred() do
    if rtc.now() > deadline then error("timed out waiting for " .. what) end
    rtc.sleep(0.01)
  end
end

wait_for(function() return ready == n end, "the workers' peers")
if fail then
  assert(workers[1]:send({ cmd = "fail" }))
  wait_for(function() return #errors > 0 end, "the error report")
end
for i, w in ipairs(workers) do assert(w:send({ cmd = "ping", text = "hello worker " .. i })) end
wait_for(function() return #echoes == n end, "the echoes")
for _, w in ipairs(workers) do assert(w:send({ cmd = "stop" })) end
for _, w in ipairs(workers) do w:join() end

table.sort(echoes, function(x, y) return x.worker < y.worker end)
print(rtc.json.encode({ workers = n, echoes = echoes, errors = errors, exits = exits }))
