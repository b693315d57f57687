-- Port windows for the TURN servers specs start. Relay ports sit above the kernel's
-- ephemeral range (32768-60999): inside it, any socket bound to port 0 (a peer
-- connection, another spec's server) can take a relay port a moment before the server
-- binds it. The window is drawn from the process id and the clock, so parallel runs
-- rarely share one; a taken port is skipped by the server anyway.
--   local ports = require "support.ports"
--   local min, max = ports.relay_window(100)
local M = {}

local function pid()
  local f = io.open("/proc/self/stat", "r")
  local s = f and f:read("l") or ""
  if f then f:close() end
  return tonumber(s:match("^(%d+)")) or 0
end

-- min, max of a window of n ports (n <= 500) in 61000-65499.
function M.relay_window(n)
  n = n or 100
  assert(n >= 1 and n <= 500, "relay window size")
  local slots = math.floor(4500 / n)
  local k = (pid() * 7 + os.time()) % slots
  local min = 61000 + k * n
  return min, min + n - 1
end

return M
