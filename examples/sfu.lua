-- A selective forwarding unit with WHIP and WHEP: publishers POST an SDP offer to
-- /whip (or /whip/ROOM), subscribers to /whep (or /whep/ROOM), and get the
-- publishers' audio and video forwarded by the C core. All media on one UDP port
-- (the --listen address), all sessions in this one process.
--   luartc examples/sfu.lua --listen HOST:PORT [--room NAME] [--token SECRET]
--                           [--policy default|last-n|FILE] [--last-n N]
-- --room names the room of the bare /whip and /whep paths ("default"); with --token
-- every request needs "Authorization: Bearer SECRET" (401 otherwise). --policy runs an
-- SFU policy in every room: examples/sfu_policy_default.lua, sfu_policy_last_n.lua
-- (forwarding video of the --last-n most recent speakers, 3 by default) or a Lua file
-- returning function(room, opts). Each change of a room's active speaker is logged on
-- stderr as "sfu: room NAME: active speaker SESSION-ID".
local rtc = require "rtc"
local http = require "http"
local whip = require "whip"

local function usage(msg)
  io.stderr:write("sfu: ", msg, "\n", "usage: sfu.lua --listen HOST:PORT [--room NAME] [--token SECRET]",
                  " [--policy default|last-n|FILE] [--last-n N]\n")
  os.exit(2)
end

local opts = { listen = "127.0.0.1:18100", room = "default" }
do
  local i = 1
  local function value() i = i + 1; return arg[i] or usage("missing value for " .. arg[i - 1]) end
  while arg[i] do
    local a = arg[i]
    if a == "--listen" then opts.listen = value()
    elseif a == "--room" then opts.room = value()
    elseif a == "--token" then opts.token = value()
    elseif a == "--policy" then opts.policy = value()
    elseif a == "--last-n" then opts.last_n = math.tointeger(tonumber(value())) or usage("--last-n wants an integer")
    else usage("unknown option " .. a) end
    i = i + 1
  end
end
local host, port = opts.listen:match("^%[?([^%]]*)%]?:(%d+)$")
if not host then usage("--listen wants HOST:PORT") end
if not opts.room:match("^[%w_.%-]+$") then usage("--room wants letters, digits, '_', '.', '-'") end
port = tonumber(port)

-- The policy every room runs, loaded before anything is served.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local policy
if opts.policy then
  local file = ({ default = here .. "sfu_policy_default.lua", ["last-n"] = here .. "sfu_policy_last_n.lua" })[opts.policy]
               or opts.policy
  local ok, fn = pcall(dofile, file)
  if not ok or type(fn) ~= "function" then usage("--policy: " .. (ok and (file .. " does not return a function") or tostring(fn))) end
  policy = fn
end

-- One UDP socket for every connection: the address candidates announce.
local mux, merr = rtc.udp_mux { host = host, port = port }
if not mux then io.stderr:write("sfu: ", tostring(merr), "\n"); os.exit(1) end
local srv, serr = http.server { host = host, port = port }
if not srv then io.stderr:write("sfu: ", tostring(serr), "\n"); os.exit(1) end

-- Each room: its active speaker is logged (by WHIP session id), and the policy runs.
local svc
local function setup_room(room)
  room:on("activespeaker", function(p)
    local id = "?"
    for sid, sess in pairs(svc.sessions) do if sess.pc == p.pc then id = sid end end
    io.stderr:write(string.format("sfu: room %s: active speaker %s\n", room.name, id))
  end)
  if policy then policy(room, { n = opts.last_n }) end
end

svc = whip.serve(srv, {
  pc = { udp_mux = mux },
  default_room = opts.room,
  on_room = setup_room,
  authorize = opts.token and function(_, _, _, token)
    if token ~= opts.token then return false, "a valid bearer token is required", 401 end
    return true
  end or nil,
})

local uhost, uport = mux:local_address()
print(string.format("sfu: listening on http://%s:%d (WHIP /whip, WHEP /whep, room %s), media on udp %s:%d%s",
                    host, srv.port, opts.room, uhost, uport, opts.policy and (", policy " .. opts.policy) or ""))
io.stdout:flush()

rtc.on("shutdown", function(signame)
  io.stderr:write("sfu: shutting down (", tostring(signame), ")\n")
  svc.close()
  srv:close()
  mux:close()
end)
