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
local http = require "http"
local whip = require "whip"
local sfu = require "rtc.sfu"

local listen, hold, walk_spec = "127.0.0.1:18100", 4, "2,0,1,2"
do
  local i = 1
  while arg[i] do
    if arg[i] == "--listen" then listen = arg[i + 1]; i = i + 1
    elseif arg[i] == "--hold" then hold = tonumber(arg[i + 1]); i = i + 1
    elseif arg[i] == "--walk" then walk_spec = arg[i + 1]; i = i + 1
    else error("unknown option " .. arg[i]) end
    i = i + 1
  end
end
local host, port = listen:match("^(.*):(%d+)$")
port = tonumber(port)
local mux = assert(rtc.udp_mux { host = host, port = port })
local srv = assert(http.server { host = host, port = port })
local svc = whip.serve(srv, { pc = { udp_mux = mux } })

local function say(...)
  print(table.concat({ ... }, " "))
  io.stdout:flush()
end

local done = false
srv:route("GET", "/walk", function()
  return 200, done and "done" or "walking", { ["Access-Control-Allow-Origin"] = "*", ["Content-Type"] = "text/plain" }
end)

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
    if not w.next then done = true; say("DONE"); return end
    rtc.spawn(function()
      rtc.sleep(hold)
      if not c.closed then c:set_preferred_layers(w.next) end
    end)
  end)
end)

say("listening")
rtc.on("shutdown", function()
  svc.close()
  srv:close()
  mux:close()
end)
