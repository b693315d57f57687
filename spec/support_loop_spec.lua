-- support.loop, the helper most specs run their bodies with: a test that times out
-- must not take the next one down with it.
local rtc = require "rtc"
local loop = require "support.loop"

describe("support.loop.run_task", function()
  it("closes a task that timed out: its <close> variables run and it never resumes later", function()
    local held, resumed = nil, false
    local ok, err = pcall(loop.run_task, function()
      local iv <close> = rtc.set_interval(1000, function() end)
      held = iv
      rtc.sleep(0.2)                       -- still waiting when the 50 ms guard fires
      resumed = true
    end, 50)
    assert.is_false(ok)
    assert.matches("timed out", err)
    assert.is_false(held:active())
    -- the next task outlives the old one's sleep: that sleep's end must neither
    -- resume the old body nor stop this loop before this task is finished
    loop.run_task(function() rtc.sleep(0.4) end)
    assert.is_false(resumed)
  end)
end)
