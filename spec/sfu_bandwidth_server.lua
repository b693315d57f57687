-- The SFU of spec/sfu_bandwidth_browser_spec.lua: WHIP/WHEP as in examples/sfu.lua with
-- the core's own layer choice (by each subscriber's estimate); subscribers name
-- themselves with their bearer token. It prints `LAYER <token> spatial temporal why`
-- for every video layerchange, `BW <token> kbit/s state layer-kbit/s,...` for every
-- estimate the subscriber's connection reports, and runs the experiment's steps:
-- 1. once subscriber A forwards the top layer by its estimate (not the layer a consumer
--    starts on before it has one), it waits --hold seconds (B behind its
--    rate limit meanwhile) and prints `LIMITED <B's highest spatial layer since A got the
--    top> <B's layer now>`, waiting longer (up to 4 holds) while B is still coming down;
-- 2. runs --lift (a shell command: the limit is removed) and prints `LIFTED`;
-- 3. once B forwards the top layer after that, prints `DONE`; GET /walk then says
--    "done" (the watching pages stop).
--   luartc spec/sfu_bandwidth_server.lua --listen HOST:PORT --hold S --lift CMD
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local server = require "support.sfu_server"

local opts = server.options(arg, { listen = "127.0.0.1:18100", hold = 8, lift = "true" })
local hold, lift = opts.hold, opts.lift
local sv = server.start(opts.listen)
local say = sv.say

local phase = "limited"        -- limited -> (A at the top, hold) -> lifted -> done
local b_max, b_now = -1, -1

local a_top = false
local room = sfu.room { name = "default" }
room:on("subscribe", function(c)
  if c.kind ~= "video" then return end
  local auth = c.info and c.info.headers and c.info.headers.authorization or ""
  local who = auth:match("^[Bb]earer%s+(%S+)") or "?"
  c.pc:on("bandwidth", function(bps, info)
    local rates = {}
    for i, l in ipairs(c.producer:stats().layers or {}) do rates[i] = math.floor((l.bitrate or 0) / 1000) end
    say("BW", who, math.floor(bps / 1000), info and info.state or "", table.concat(rates, ","))
  end)
  c:on("layerchange", function(spatial, temporal, why)
    say("LAYER", who, spatial, temporal, why)
    if who == "B" then
      b_now = spatial
      if a_top and phase == "limited" and spatial > b_max then b_max = spatial end
      if phase == "lifted" and spatial == 2 then phase = "done"; sv.done() end
    elseif who == "A" and spatial == 2 and why ~= "start" and not a_top then
      a_top = true
      b_max = b_now
      rtc.spawn(function()
        rtc.sleep(hold)
        -- B's estimate may still be coming down to its limit: give it more time
        for _ = 1, 3 do
          if b_now == 0 then break end
          rtc.sleep(hold)
        end
        say("LIMITED", b_max, b_now)
        os.execute(lift)
        phase = "lifted"
        say("LIFTED")
        if b_now == 2 then phase = "done"; sv.done() end
      end)
    end
  end)
end)

say("listening")
