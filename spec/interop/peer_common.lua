-- What the luartc halves of the browser tests (media_peer.lua, record_peer.lua,
-- transform_peer.lua) share: the RESULT line and signaling over stdin/stdout as in
-- examples/interop_peer.lua (docs/interop.md). Each loads it with dofile from its own
-- directory.
local rtc = require "rtc"
local json = rtc.json

local M = {}

-- finish() writes "RESULT <result as JSON>" to stderr and exits, with 0 when result.ok.
function M.finisher(result)
  return function()
    io.stderr:write("RESULT ", json.encode(result), "\n")
    io.stderr:flush()
    os.exit(result.ok and 0 or 1)
  end
end

-- A task signaling for pc: with role "offer" it writes pc's offer first (all candidates
-- in it); then for each JSON line on stdin it applies an answer, or applies an offer
-- and writes the answer. A description refused, or the connection failing, ends the
-- run with result.error saying so.
function M.signal(pc, result, finish, role)
  local function fail(e) result.error = e; finish() end
  pc:on("connectionstatechange", function(state)
    io.stderr:write("connection state ", state, "\n")
    if state == "failed" then fail("connection failed") end
  end)
  rtc.spawn(function()
    if role == "offer" then
      assert(pc:set_local_description(assert(pc:create_offer())))
      pc:wait_gathering_complete()
      rtc.stdout:write(json.encode { type = "offer", sdp = pc.local_description.sdp } .. "\n")
    end
    while true do
      local line = rtc.stdin:read_line()
      if not line then break end
      local msg = line:match("%S") and json.decode(line)
      if msg and msg.type == "answer" then
        local ok, e = pc:set_remote_description { type = "answer", sdp = msg.sdp }
        if not ok then fail(e) end
      elseif msg and msg.type == "offer" then
        local ok, e = pc:set_remote_description { type = "offer", sdp = msg.sdp }
        if not ok then fail(e) end
        local answer, e2 = pc:create_answer()
        if not answer then fail(e2) end
        assert(pc:set_local_description(answer))
        pc:wait_gathering_complete()
        rtc.stdout:write(json.encode { type = "answer", sdp = pc.local_description.sdp } .. "\n")
      end
    end
  end)
end

return M
