-- Event listeners for the Lua objects of lua/rtc (peer connections, data channels,
-- tracks, SFU rooms, producers and consumers): one list of callbacks per event name.
local M = {}

function M.log_error(msg)
  io.stderr:write("luartc: ", msg, "\n")
end

-- Call every listener of `ev` on obj; an error in one is reported with its traceback
-- and does not stop the others (the loop keeps running).
function M.emit(obj, ev, ...)
  local list = obj._listeners[ev]
  if not list then return end
  for i = 1, #list do
    local ok, err = xpcall(list[i], debug.traceback, ...)
    if not ok then M.log_error("error in '" .. ev .. "' handler: " .. tostring(err)) end
  end
end

-- obj:on(ev, fn) for the events in `valid`: adds fn; nil removes every listener of ev.
-- Errors name the caller's arguments (level 3: the method that called this).
function M.on(obj, valid, ev, fn)
  if type(ev) ~= "string" or not valid[ev] then
    error(string.format("bad argument #1 to 'on' (unknown event '%s')", tostring(ev)), 3)
  end
  if fn ~= nil and type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error("bad argument #2 to 'on' (function expected)", 3)
  end
  if fn == nil then obj._listeners[ev] = nil; return obj end
  local list = obj._listeners[ev]
  if not list then list = {}; obj._listeners[ev] = list end
  list[#list + 1] = fn
  return obj
end

return M
