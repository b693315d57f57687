-- luartc's half of the browser recording test (spec/interop/browser_record_spec.lua):
-- answers the browser's audio+video offer and records the peer connection with
-- rtc.recorder into every file given (.webm, .ogg, .ivf) for --duration seconds from
-- the first frame, then reports the real recording time (rtc.now) and each
-- recorder's stats. Signaling and RESULT as examples/interop_peer.lua (docs/interop.md).
--   luartc record_peer.lua --duration S --out FILE [--out FILE...]
local rtc = require "rtc"
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "peer_common.lua")

local opts = { duration = 10, out = {} }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--duration" then i = i + 1; opts.duration = tonumber(arg[i])
    elseif a == "--out" then i = i + 1; opts.out[#opts.out + 1] = arg[i]
    else io.stderr:write("record_peer: unknown option ", a, "\n"); os.exit(2) end
    i = i + 1
  end
end

local result = { ok = false, files = {} }
local finish = common.finisher(result)

local pc = assert(rtc.peer_connection())
local recs = {}
for i, path in ipairs(opts.out) do
  recs[i] = rtc.recorder(path, { pc = pc })
  recs[i]:on("error", function(e) result.error = path .. ": " .. tostring(e) end)
end

local started
pc:on("track", function(track)
  track:on("sr", function() result.srs = (result.srs or 0) + 1 end)
  track:on("frame", function()
    if started then return end
    started = rtc.now()
    io.stderr:write("MARK\n")
    rtc.set_timeout(opts.duration * 1000, function()
      local ok = true
      for i, rec in ipairs(recs) do
        local r, err = rec:close()
        local s = rec:stats()
        s.closed, s.error = r, err
        result.files[opts.out[i]] = s
        ok = ok and r == true
      end
      result.real_ms = rtc.now() - started
      result.ok = ok and not result.error
      finish()
    end)
  end)
end)

common.signal(pc, result, finish, "answer")

rtc.set_timeout((opts.duration + 30) * 1000, function() result.error = "timeout"; finish() end)
