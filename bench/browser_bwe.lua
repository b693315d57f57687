-- How far Chromium's send-side bandwidth estimate climbs on transport-cc feedback from
-- luartc: the browser sends its fake camera (VP8) to spec/interop/media_peer.lua in a
-- network namespace for a few durations and reports targetBitrate. A figure, not a
-- test: it depends on the machine and its load. Needs root (namespace) and Chromium.
--   build/luartc bench/browser_bwe.lua        (from the source tree; bench/run.sh runs it)
package.path = "./spec/?.lua;" .. package.path
local interop = require "interop.helper"

if not interop.have_browser() then
  print("browser_bwe: skipped (no chromium or playwright-core)")
  return
end

local PORT = 40100
local function run(duration)
  local luartc = { interop.LUARTC, interop.SRC .. "/spec/interop/media_peer.lua", "--codec", "VP8",
                   "--duration", tostring(duration), "--bind", "10.77.0.1", "--port", tostring(PORT),
                   "--role", "offer" }
  local browser = { "node", interop.BROWSER .. "/media_peer.js", "--codec", "VP8",
                    "--duration", tostring(duration + 2), "--role", "answer" }
  local res = interop.pair(browser, luartc, { timeout = duration + 50 })
  if not (res.a and res.a.ok and res.b and res.b.ok) then return nil end
  return res.a, res.b
end

print("Chromium send-side estimate on luartc's transport-cc feedback (VP8, 640x480 fake camera)")
print(string.format("%-10s %12s %12s %12s %10s", "seconds", "start bps", "end bps", "max bps", "feedback"))
for _, d in ipairs { 4, 8, 16 } do
  local browser, lrtc = run(d)
  if not browser then
    print(string.format("%-10d %12s", d, "failed"))
  else
    local b = browser.target_bitrate or {}
    print(string.format("%-10d %12s %12s %12s %10d", d + 2, tostring(b.first), tostring(b.last), tostring(b.max),
                        lrtc.transport.twcc_feedback_sent or 0))
  end
end
