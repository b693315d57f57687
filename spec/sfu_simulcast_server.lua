-- The SFU of spec/sfu_simulcast_browser_spec.lua: WHIP/WHEP as in examples/sfu.lua, and
-- a policy that walks each video subscriber through the layers of what it gets: once
-- it forwards the top layer, prefer layer 0; once there, layer 1; then the top again
-- (`--walk 2,0,1,2`, the default; spec/sfu_svc_browser_spec.lua walks VP9 SVC layers).
-- Each move waits `--hold` seconds on the layer reached. Every "layerchange" is printed
-- as `LAYERCHANGE spatial temporal why`, with the producer's spatial layers (simulcast
-- or SVC) and their sizes as `LAYERS n w1xh1 ...`, then `DONE` after the walk; GET /walk says
-- "walking" or "done" (to the watching page, from any origin).
--   luartc spec/sfu_simulcast_server.lua --listen HOST:PORT [--hold S] [--walk S,S,...]
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local server = require "support.sfu_server"

local opts = server.options(arg, { listen = "127.0.0.1:18100", hold = 4, walk = "2,0,1,2" })
local hold, walk_spec = opts.hold, opts.walk
local sv = server.start(opts.listen)
local say = sv.say

local steps = {}
for n in walk_spec:gmatch("%d+") do steps[#steps + 1] = tonumber(n) end

local room = sfu.room { name = "default" }
room:on("subscribe", function(c)
  if c.kind ~= "video" then return end
  local walk = {}
  for i, s in ipairs(steps) do walk[i] = { want = s, next = steps[i + 1] and { spatial = steps[i + 1] } } end
  local step = 1
  c:on("layerchange", function(spatial, temporal, why)
    say("LAYERCHANGE", spatial, temporal, why)
    local st = c.producer:stats()
    if st then
      local sizes = {}
      for i, l in ipairs(st.layers) do sizes[i] = (l.frame_width or 0) .. "x" .. (l.frame_height or 0) end
      say("LAYERS", #st.layers, table.concat(sizes, " "), "codec", tostring(c.producer.codec))
    end
    local w = walk[step]
    if not w or spatial ~= w.want then return end
    step = step + 1
    if not w.next then sv.done(); return end
    rtc.spawn(function()
      rtc.sleep(hold)
      if not c.closed then c:set_preferred_layers(w.next) end
    end)
  end)
end)

say("listening")
