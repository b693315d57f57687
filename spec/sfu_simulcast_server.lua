-- The SFU of spec/sfu_simulcast_browser_spec.lua: WHIP/WHEP as in examples/sfu.lua, and
-- a policy that walks each video subscriber through the layers of what it gets: once
-- it forwards the top layer, prefer layer 0; once there, layer 1; then the top again.
-- Each move waits `--hold` seconds on the layer reached. Every "layerchange" is printed
-- as `LAYERCHANGE spatial temporal why`, then `DONE` after the walk; GET /walk says
-- "walking" or "done" (to the watching page, from any origin).
--   luartc spec/sfu_simulcast_server.lua --listen HOST:PORT [--hold S]
local rtc = require "rtc"
local http = require "http"
local whip = require "whip"
local sfu = require "rtc.sfu"

local listen, hold = "127.0.0.1:18100", 4
do
  local i = 1
  while arg[i] do
    if arg[i] == "--listen" then listen = arg[i + 1]; i = i + 1
    elseif arg[i] == "--hold" then hold = tonumber(arg[i + 1]); i = i + 1
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

local room = sfu.room { name = "default" }
room:on("subscribe", function(c)
  if c.kind ~= "video" then return end
  local walk = { { want = 2, next = { spatial = 0 } }, { want = 0, next = { spatial = 1 } },
                 { want = 1, next = {} }, { want = 2 } }
  local step = 1
  c:on("layerchange", function(spatial, temporal, why)
    say("LAYERCHANGE", spatial, temporal, why)
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
