-- Helpers for specs that run the loop on stock lua5.4: run a test body as a task and
-- wait for conditions inside it.
local rtc = require "rtc"
local M = {}

-- Runs fn as a task and the loop until it finishes; errors (and a timeout) fail the
-- test. The loop is stopped afterwards so peers a failed test left open cannot keep
-- it (and the next test) running. A task that times out is closed where it waits
-- (coroutine.close): it never resumes inside a later test's loop (where its end would
-- stop that loop), and its to-be-closed variables (`local pc <close> = ...`) close
-- what it opened.
function M.run_task(fn, timeout_ms)
  local finished, err, co = false, nil, nil
  local guard = rtc.set_timeout(timeout_ms or 10000, function()
    err = err or "timed out"
    if co and coroutine.status(co) == "suspended" then
      local ok, cerr = coroutine.close(co)
      if not ok then err = err .. "; closing the task: " .. tostring(cerr) end
    end
    rtc.stop()
  end)
  rtc.spawn(function()
    co = coroutine.running()
    local ok, e = xpcall(fn, debug.traceback)
    finished = true
    guard:stop()
    if not ok then err = e end
    rtc.stop()
  end)
  rtc.run()
  if err then error(err, 0) end
  assert(finished, "task did not finish")
end

-- Inside a task: polls pred() every 2 ms until it holds; fails after timeout_ms.
function M.wait_for(pred, what, timeout_ms)
  local deadline = rtc.now() + (timeout_ms or 8000)
  while not pred() do
    if rtc.now() > deadline then error("timed out waiting for " .. what, 2) end
    rtc.sleep(0.002)
  end
end

return M
