-- The common part of the bots (chat_bot.lua, echo_bot.lua, tone_bot.lua, recorder.lua):
-- joins a signaling room like a browser does and keeps one peer connection per member,
-- following the room's rule that members offer to newcomers (docs/signaling.md).
-- A bot gives hooks, each called with the member's record p = {id=, pc=}:
--   prepare(p, answering) adds its tracks/transceivers before the bot's offer or before
--                         the member's offer is applied: a transceiver added then takes
--                         an offered section of its kind (docs/media.md)
--   track(p, track, tr)   a remote track arrived
--   connected(p)          the connection reached "connected" (once)
--   closed(p)             the member left or its connection was replaced or the bot stops
--   message(p, dc, text)  a text message on a data channel (default: no reply)
-- and may set `info`, extra fields for the join info (e.g. {data_only = true}).
-- Loaded with dofile(); returns {start = fn(opts, hooks) -> bot | nil, err, main = fn(name, hooks)}.
local rtc = require "rtc"
local signaling = require "signaling"
local json = rtc.json

local M = {}

function M.start(opts, hooks)
  local name = opts.name or "bot"
  local info = { name = name, bot = true }
  for k, v in pairs(hooks.info or {}) do info[k] = v end
  local client, err = signaling.connect(opts.url or "ws://127.0.0.1:8080/ws",
    { room = opts.room or "demo", token = opts.token, peer = opts.peer, info = info, ca = opts.ca })
  if not client then return nil, err end
  rtc.log.info("bot", "%s joined room %s as %s", name, client.room, client.id)
  local bot = { client = client, peers = {} }

  local function drop(id)
    local p = bot.peers[id]
    if not p then return end
    bot.peers[id] = nil
    if hooks.closed then hooks.closed(p) end
    p.pc:close()
  end

  local function attach(p, dc)
    p.dc = dc
    dc:on("message", function(data, binary)
      if not binary and hooks.message then hooks.message(p, dc, data) end
    end)
  end

  local function new_peer(id)
    drop(id)
    local pc = rtc.peer_connection { ice_servers = client.ice_servers or {} }
    local p = { id = id, pc = pc, pending = {}, bot = bot }
    bot.peers[id] = p
    pc:on("icecandidate", function(c)
      if c then
        client:send { type = "candidate", to = id, candidate = c.candidate, sdpMid = c.sdp_mid,
                      sdpMLineIndex = c.sdp_mline_index }
      end
    end)
    pc:on("connectionstatechange", function(state)
      rtc.log.info("bot", "%s: %s", id, state)
      if state == "connected" and not p.connected and bot.peers[id] == p then
        p.connected = true
        if hooks.connected then hooks.connected(p) end
      end
    end)
    pc:on("datachannel", function(dc) attach(p, dc) end)
    pc:on("track", function(track, tr)
      if hooks.track and bot.peers[id] == p then hooks.track(p, track, tr) end
    end)
    return p
  end

  local function set_remote(p, desc)
    local ok, e = p.pc:set_remote_description(desc)
    if not ok then return nil, e end
    for _, c in ipairs(p.pending) do p.pc:add_ice_candidate(c) end
    p.pending = {}
    return true
  end

  local function handle(msg)
    local t, from = msg.type, msg.from
    if t == "join" then
      local p = new_peer(msg.id)
      attach(p, p.pc:create_data_channel("chat"))
      if hooks.prepare then hooks.prepare(p, false) end
      local offer = assert(p.pc:create_offer())
      assert(p.pc:set_local_description(offer))
      client:send { type = "offer", to = msg.id, sdp = offer.sdp }
    elseif t == "leave" then
      drop(msg.id)
    elseif t == "offer" and from then
      local p = new_peer(from)
      if hooks.prepare then hooks.prepare(p, true) end
      local ok, e = set_remote(p, { type = "offer", sdp = msg.sdp })
      if not ok then
        rtc.log.warn("bot", "offer from %s refused: %s", from, tostring(e))
        drop(from)
        return
      end
      local answer = assert(p.pc:create_answer())
      assert(p.pc:set_local_description(answer))
      client:send { type = "answer", to = from, sdp = answer.sdp }
    elseif t == "answer" and from and bot.peers[from] then
      local ok, e = set_remote(bot.peers[from], { type = "answer", sdp = msg.sdp })
      if not ok then rtc.log.warn("bot", "answer from %s refused: %s", from, tostring(e)) end
    elseif t == "candidate" and from and bot.peers[from] then
      local p = bot.peers[from]
      if type(msg.candidate) ~= "string" or msg.candidate == "" then return end
      local c = { candidate = msg.candidate, sdp_mid = msg.sdpMid ~= json.null and msg.sdpMid or nil,
                  sdp_mline_index = msg.sdpMLineIndex ~= json.null and msg.sdpMLineIndex or nil }
      if p.pc.remote_description then p.pc:add_ice_candidate(c) else p.pending[#p.pending + 1] = c end
    end
  end

  -- One task takes signaling messages in order (an offer before its candidates).
  bot.task = rtc.spawn(function()
    while true do
      local msg = client:wait(function() return true end)
      if not msg then break end
      local ok, e = pcall(handle, msg)
      if not ok then rtc.log.error("bot", "handling %s: %s", tostring(msg.type), tostring(e)) end
    end
    for id in pairs(bot.peers) do drop(id) end
    rtc.log.info("bot", "signaling closed (%s)", tostring(client.close_code))
  end)

  function bot.stop()
    for id in pairs(bot.peers) do drop(id) end
    client:close()
  end
  return bot
end

-- Command line: --url --room --token --name --peer --ca plus the bot's own options
-- (--ca FILE: PEM certificates to trust for a wss:// server with a private certificate)
-- (extra = {["--file"] = "file", ...}); starts the bot and stops it at shutdown.
function M.main(name, hooks_for, extra)
  local opts = {}
  local i = 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    local key = (extra and extra[a]) or ({ ["--url"] = "url", ["--room"] = "room", ["--token"] = "token",
                                           ["--name"] = "name", ["--peer"] = "peer", ["--ca"] = "ca" })[a]
    if not key or v == nil then io.stderr:write(name, ": bad option ", a, "\n"); os.exit(2) end
    opts[key] = v
    i = i + 2
  end
  opts.name = opts.name or name
  local hooks, herr = hooks_for(opts)
  if not hooks then io.stderr:write(name, ": ", tostring(herr), "\n"); os.exit(2) end
  local bot, err = M.start(opts, hooks)
  if not bot then
    io.stderr:write(name, ": ", tostring(err), "\n")
    os.exit(1)
  end
  print(name .. " joined room " .. bot.client.room .. " as " .. bot.client.id)
  io.stdout:flush()
  rtc.on("shutdown", function() bot.stop() end)
  return bot
end

return M
