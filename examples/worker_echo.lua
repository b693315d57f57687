-- A worker for examples/workers.lua: two peer connections on this worker's own loop,
-- joined by a data channel whose far end echoes. The main script sends
-- {cmd = "ping", text = ...}; the text goes round the channel and comes back to the
-- main script as {worker = id, echo = text}. {cmd = "fail"} raises inside the
-- message handler (the error is logged, reported to the main script as an "error"
-- event, and this worker keeps running). {cmd = "stop"} closes the peers: with
-- nothing left on its loop the worker ends.
local rtc = require "rtc"
local parent = assert(rtc.worker.parent, "run me with rtc.worker.spawn (see examples/workers.lua)")
local LOCAL = { bind_addresses = { "127.0.0.1" } }

local a = assert(rtc.peer_connection(LOCAL))
local b = assert(rtc.peer_connection(LOCAL))
b:on("datachannel", function(ch) ch:on("message", function(m) ch:send(m) end) end)
local dc = assert(a:create_data_channel("echo"))

assert(a:set_local_description(assert(a:create_offer())))
a:wait_gathering_complete()
assert(b:set_remote_description(a.local_description))
assert(b:set_local_description(assert(b:create_answer())))
b:wait_gathering_complete()
assert(a:set_remote_description(b.local_description))
local deadline = rtc.now() + 10000
while dc.ready_state ~= "open" do
  if rtc.now() > deadline then error("data channel did not open: " .. a.connection_state) end
  rtc.sleep(0.01)
end

dc:on("message", function(m) assert(parent:send({ worker = rtc.worker.id, echo = m })) end)
parent:on("message", function(msg)
  if msg.cmd == "ping" then
    assert(dc:send(msg.text))
  elseif msg.cmd == "fail" then
    error("policy failure in worker " .. rtc.worker.id)
  elseif msg.cmd == "stop" then
    parent:on("message", nil)
    a:close()
    b:close()
  end
end)
assert(parent:send({ worker = rtc.worker.id, ready = true }))
