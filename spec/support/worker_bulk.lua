-- A worker for spec/workers_spec.lua: two peer connections on this worker's loop and
-- `total` bytes sent over a reliable data channel between them in 16 KiB messages,
-- each filled with a byte that names the worker. Reports {got, bad} to the main
-- script: bytes received and messages that were not exactly what was sent.
local rtc = require "rtc"
local parent = rtc.worker.parent
local LOCAL = { bind_addresses = { "127.0.0.1" } }
local total = ...
local a = assert(rtc.peer_connection(LOCAL))
local b = assert(rtc.peer_connection(LOCAL))
local got, bad = 0, 0
local chunk = string.rep(string.char(64 + rtc.worker.id % 60), 16384)
b:on("datachannel", function(ch)
  ch:on("message", function(m)
    got = got + #m
    if m ~= chunk then bad = bad + 1 end
  end)
end)
local dc = assert(a:create_data_channel("bulk"))
assert(a:set_local_description(assert(a:create_offer())))
a:wait_gathering_complete()
assert(b:set_remote_description(a.local_description))
assert(b:set_local_description(assert(b:create_answer())))
b:wait_gathering_complete()
assert(a:set_remote_description(b.local_description))
local deadline = rtc.now() + 10000
while dc.ready_state ~= "open" do
  assert(rtc.now() < deadline, "data channel did not open")
  rtc.sleep(0.01)
end
local sent = 0
while sent < total do
  while dc.buffered_amount > 1024 * 1024 do rtc.sleep(0.001) end
  assert(dc:send(chunk))
  sent = sent + #chunk
end
deadline = rtc.now() + 30000
while got < total do
  assert(rtc.now() < deadline, "only " .. got .. " of " .. total .. " bytes arrived")
  rtc.sleep(0.01)
end
assert(parent:send({ got = got, bad = bad }))
a:close()
b:close()
