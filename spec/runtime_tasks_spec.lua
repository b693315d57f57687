-- Tasks, timers and sleep on stock lua5.4 with require "rtc" and rtc.run().
local rtc = require "rtc"

describe("timers", function()
  it("fire in deadline order and can be cancelled", function()
    local order = {}
    rtc.set_timeout(30, function() order[#order + 1] = 30 end)
    rtc.set_timeout(10, function() order[#order + 1] = 10 end)
    local cancelled = rtc.set_timeout(20, function() order[#order + 1] = "cancelled" end)
    rtc.set_timeout(0, function() order[#order + 1] = 0 end)
    assert.is_true(cancelled:active())
    cancelled:stop()
    cancelled:stop()                       -- idempotent
    assert.is_false(cancelled:active())
    rtc.run()
    assert.same({ 0, 10, 30 }, order)
  end)

  it("a one-shot timer is done after firing; stop inside its callback is harmless", function()
    local fired, t = 0, nil
    t = rtc.set_timeout(1, function() fired = fired + 1; t:stop() end)
    rtc.run()
    assert.equal(1, fired)
    assert.is_false(t:active())
  end)

  it("intervals repeat until stopped", function()
    local n, iv = 0, nil
    iv = rtc.set_interval(2, function()
      n = n + 1
      if n == 5 then iv:stop() end
    end)
    rtc.run()
    assert.equal(5, n)
  end)

  it("count their delay from when they are set, even after blocking outside the loop", function()
    rtc.set_timeout(0, function() end)
    rtc.run()                              -- the loop last looked at the clock here
    os.execute("sleep 0.5")                -- a script busy between two rtc.run calls
    local set_at, fired_at = rtc.now(), nil
    rtc.set_timeout(300, function() fired_at = rtc.now() end)
    rtc.run()
    -- never early (libuv keeps whole milliseconds: 1 ms of slack); lateness is not checked
    assert.is_true(fired_at - set_at >= 299, string.format("fired %.1f ms after being set", fired_at - set_at))
  end)

  it("rtc.now is monotonic milliseconds", function()
    local a = rtc.now()
    rtc.spawn(function() rtc.sleep(0.01) end)
    rtc.run()
    local b = rtc.now()
    assert.is_number(a)
    assert.is_true(b >= a)
  end)

  it("check their arguments", function()
    assert.has_error(function() rtc.set_timeout("x", print) end,
      "bad argument #1 to 'rtc.set_timeout' (number of milliseconds expected)")
    assert.has_error(function() rtc.set_timeout(1, 42) end,
      "bad argument #2 to 'rtc.set_timeout' (function expected, got number)")
    assert.has_error(function() rtc.set_interval(0, print) end)
  end)
end)

describe("tasks", function()
  it("sleep yields without blocking other tasks", function()
    local log = {}
    rtc.spawn(function()
      log[#log + 1] = "a start"
      rtc.sleep(0.03)
      log[#log + 1] = "a end"
    end)
    rtc.spawn(function()
      log[#log + 1] = "b start"
      rtc.sleep(0.01)
      log[#log + 1] = "b end"
    end)
    log[#log + 1] = "spawned"
    rtc.run()
    assert.same({ "a start", "b start", "spawned", "b end", "a end" }, log)
  end)

  it("join returns the results, or nil and the error", function()
    local got
    rtc.spawn(function()
      local ok = rtc.spawn(function(x, y) rtc.sleep(0.005); return x + y, "sum" end, 2, 3)
      local bad = rtc.spawn(function() rtc.sleep(0.001); error("broken", 0) end)
      local r1, r2 = ok:join()
      local e1, e2 = bad:join()
      got = { r1, r2, e1, e2, ok:join() }
    end)
    rtc.run()
    assert.same({ 5, "sum", nil, "broken", 5 }, { got[1], got[2], got[3], got[4], got[5] })
  end)

  it("join of an already finished task returns at once", function()
    local t = rtc.spawn(function() return "now" end)
    assert.is_true(t:done())
    local r
    rtc.spawn(function() r = t:join() end)
    rtc.run()
    assert.equal("now", r)
  end)

  it("wait_all waits for every task and reports the first error", function()
    local res
    rtc.spawn(function()
      local ts = {}
      for i = 1, 5 do ts[i] = rtc.spawn(function() rtc.sleep(0.001 * i); return i end) end
      local all = { rtc.wait_all(ts) }
      local t2 = { rtc.spawn(function() error("nope", 0) end), rtc.spawn(function() rtc.sleep(0.002) end) }
      local some = { rtc.wait_all(t2) }
      res = { all, some, ts[5]:join() }
    end)
    rtc.run()
    assert.same({ true }, res[1])
    assert.same({ false, "nope" }, res[2])
    assert.equal(5, res[3])
  end)

  it("yielding calls outside a task raise a clear error", function()
    assert.has_error(function() rtc.sleep(1) end, "rtc.sleep: must be called from a task (coroutine)")
    local t = rtc.spawn(function() rtc.sleep(0.001) end)
    assert.has_error(function() t:join() end, "task:join: must be called from a task (coroutine)")
    assert.has_error(function() rtc.spawn(42) end, "bad argument #1 to 'rtc.spawn' (function expected, got number)")
    rtc.run()
  end)

  it("an error in a timer callback does not stop the loop", function()
    local after = false
    rtc.set_timeout(1, function() error("callback failure") end)
    rtc.set_timeout(5, function() after = true end)
    rtc.run()
    assert.is_true(after)
  end)

  it("to-be-closed timers stop at scope exit", function()
    local fired = false
    do
      local t <close> = rtc.set_timeout(1, function() fired = true end)
      assert.is_true(t:active())
    end
    rtc.run()
    assert.is_false(fired)
  end)
end)
