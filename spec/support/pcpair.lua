-- Two peer connections in one process: a's offer, b's answer (both with all their
-- candidates, no trickle), then wait until both are connected. Call it inside a task
-- (rtc.spawn, support.loop.run_task); it fails after timeout_s (10 s by default).
local rtc = require "rtc"

return function(a, b, timeout_s)
  assert(a:set_local_description(assert(a:create_offer())))
  a:wait_gathering_complete()
  assert(b:set_remote_description(a.local_description))
  assert(b:set_local_description(assert(b:create_answer())))
  b:wait_gathering_complete()
  assert(a:set_remote_description(b.local_description))
  local deadline = rtc.now() + (timeout_s or 10) * 1000
  while a.connection_state ~= "connected" or b.connection_state ~= "connected" do
    if rtc.now() > deadline then
      error("not connected: " .. a.connection_state .. " / " .. b.connection_state, 2)
    end
    rtc.sleep(0.02)
  end
end
