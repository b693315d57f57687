-- Helpers for specs that run example bots (examples/*_bot.lua) and the signaling
-- server as luartc child processes and join their room from a peer connection in the
-- spec's own process. The waiting helpers run inside a task (support.loop.run_task).
local rtc = require "rtc"
local child = require "support.child"
local wait_for = require("support.loop").wait_for

local M = {}
local q, read = child.quote, child.slurp
local SRC = child.SOURCE_DIR
local LUARTC = os.getenv("LUARTC") or (SRC .. "/build/luartc")

-- A child process with a hard time limit of its own, its output in a log named after
-- `name`; returns {pid=, log=}. kill_all ends every one started.
local children, spawned = {}, 0
function M.spawn(args, name)
  spawned = spawned + 1
  local log = string.format("%s-%d.log", name, spawned)
  local parts = { "env", "RTC_LOG=warn,bot=info", "timeout", "60", q(LUARTC) }
  for _, a in ipairs(args) do parts[#parts + 1] = q(a) end
  local p = assert(io.popen(table.concat(parts, " ") .. " >" .. q(log) .. " 2>&1 & echo $!"))
  local pid = tonumber(p:read("l"))
  p:close()
  local c = { pid = pid, log = log }
  children[#children + 1] = c
  return c
end

function M.kill_all()
  if os.getenv("BOTS_DEBUG") then for _, c in ipairs(children) do io.stderr:write(c.log, ":\n", read(c.log)) end end
  for _, c in ipairs(children) do os.execute("kill " .. c.pid .. " 2>/dev/null") end
  children = {}
end

-- Inside a task: the captures of the first line matching pattern in a child's log.
function M.wait_log(c, pattern, what)
  local found
  wait_for(function()
    found = { read(c.log):match(pattern) }
    return #found > 0
  end, what .. "; log:\n" .. read(c.log), 10000)
  return table.unpack(found)
end

-- Starts examples/signaling_server.lua and then examples/<script> with its options in
-- room "r", logs under dir; returns the room url and the bot once it has joined.
function M.start(dir, script, args)
  local srv = M.spawn({ SRC .. "/examples/signaling_server.lua", "--listen", "127.0.0.1:0", "--no-web" },
                      dir .. "/server")
  local port = M.wait_log(srv, "signaling on ws://127%.0%.0%.1:(%d+)/ws", "server start")
  local url = "ws://127.0.0.1:" .. port .. "/ws"
  local cmd = { SRC .. "/examples/" .. script, "--url", url, "--room", "r" }
  for _, a in ipairs(args or {}) do cmd[#cmd + 1] = a end
  local bot = M.spawn(cmd, dir .. "/bot")
  M.wait_log(bot, "joined room r as (%S+)", "bot join")
  return url, bot
end

-- pc's candidates go to peer `to` through the signaling client me.
function M.send_candidates(pc, me, to)
  pc:on("icecandidate", function(c)
    if c then me:send { type = "candidate", to = to, candidate = c.candidate, sdpMid = c.sdp_mid,
                        sdpMLineIndex = c.sdp_mline_index } end
  end)
end

-- Inside a task: applies the peer's candidates from me until done() holds or 10 s pass.
function M.take_candidates_until(pc, me, done)
  local t0 = rtc.now()
  while not done() and rtc.now() - t0 < 10000 do
    local c = me:wait("candidate", 0.05)
    if c then pc:add_ice_candidate { candidate = c.candidate, sdp_mid = c.sdpMid, sdp_mline_index = c.sdpMLineIndex } end
  end
end

return M
