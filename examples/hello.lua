-- hello.lua: tasks, timers and JSON in a few lines.
--   luartc examples/hello.lua [name]
local rtc = require "rtc"

local name = arg and arg[1] or "world"

-- Two tasks run side by side; each sleep lets the other one run.
local greeter = rtc.spawn(function()
  for i = 1, 3 do
    print(("hello, %s (%d)"):format(name, i))
    rtc.sleep(0.01)
  end
  return "greeted"
end)

local ticks = 0
local ticker = rtc.set_interval(4, function() ticks = ticks + 1 end)

local result = greeter:join()
ticker:stop()
print(rtc.json.encode { result, ticks > 0 })   -- ["greeted",true]
