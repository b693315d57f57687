-- A chat bot that joins a signaling room like a browser does and answers data channel
-- chat: one luartc peer connection (data only) per member of the room.
--   luartc examples/chat_bot.lua [--url ws://127.0.0.1:8080/ws] [--room demo] [--token T] [--name N]
-- Loaded from another script (examples/demo.lua): loadfile(path)({url=, room=, ...})
-- starts it and returns the bot ({client=, peers=, stop()}).
--
-- Protocol rules it follows (docs/signaling.md): members offer to newcomers, so the
-- bot offers to whoever joins after it and answers offers from those already there.
-- Its join info says {bot = true, data_only = true}, so browsers send it no media.
local rtc = require "rtc"
local signaling = require "signaling"
local json = rtc.json

local function start(opts)
  local name = opts.name or "chat-bot"
  local client, err = signaling.connect(opts.url or "ws://127.0.0.1:8080/ws",
    { room = opts.room or "demo", token = opts.token, peer = opts.peer,
      info = { name = name, bot = true, data_only = true } })
  if not client then return nil, err end
  rtc.log.info("bot", "joined room %s as %s", client.room, client.id)
  local bot = { client = client, peers = {}, said = 0 }

  local function reply_to(dc, text, from)
    bot.said = bot.said + 1
    local answer
    if text:lower():match("^%s*/?help") then
      answer = "I echo what you say. Try: time, peers"
    elseif text:lower():match("^%s*time%s*$") then
      answer = os.date("!%H:%M:%S UTC")
    elseif text:lower():match("^%s*peers%s*$") then
      local ids = {}
      for id in pairs(client.peers or {}) do ids[#ids + 1] = id end
      table.sort(ids)
      answer = #ids .. " other(s) here: " .. table.concat(ids, ", ")
    else
      answer = (from and (from .. " said: ") or "you said: ") .. text
    end
    dc:send(json.encode { from = name, text = answer })
  end

  local function attach(id, dc)
    bot.peers[id].dc = dc
    dc:on("message", function(data, binary)
      if binary then return end
      local m = json.decode(data)
      local text = type(m) == "table" and type(m.text) == "string" and m.text or data
      local from = type(m) == "table" and type(m.from) == "string" and m.from or nil
      rtc.log.info("bot", "chat from %s: %s", from or id, text)
      reply_to(dc, text, from)
    end)
  end

  local function new_peer(id)
    local old = bot.peers[id]
    if old then old.pc:close() end
    local pc = rtc.peer_connection { ice_servers = client.ice_servers or {} }
    local p = { pc = pc, pending = {} }
    bot.peers[id] = p
    pc:on("icecandidate", function(c)
      if c then
        client:send { type = "candidate", to = id, candidate = c.candidate, sdpMid = c.sdp_mid,
                      sdpMLineIndex = c.sdp_mline_index }
      end
    end)
    pc:on("connectionstatechange", function(state) rtc.log.info("bot", "%s: %s", id, state) end)
    pc:on("datachannel", function(dc) attach(id, dc) end)
    return p
  end

  local function add_candidate(p, msg)
    if type(msg.candidate) ~= "string" or msg.candidate == "" then return end
    local c = { candidate = msg.candidate, sdp_mid = msg.sdpMid ~= json.null and msg.sdpMid or nil,
                sdp_mline_index = msg.sdpMLineIndex ~= json.null and msg.sdpMLineIndex or nil }
    if p.pc.remote_description then
      local ok, e = p.pc:add_ice_candidate(c)
      if not ok then rtc.log.debug("bot", "candidate refused: %s", tostring(e)) end
    else
      p.pending[#p.pending + 1] = c
    end
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
      local dc = p.pc:create_data_channel("chat")
      attach(msg.id, dc)
      local offer = assert(p.pc:create_offer())
      assert(p.pc:set_local_description(offer))
      client:send { type = "offer", to = msg.id, sdp = offer.sdp }
    elseif t == "leave" then
      local p = bot.peers[msg.id]
      if p then p.pc:close(); bot.peers[msg.id] = nil end
    elseif t == "offer" and from then
      local p = new_peer(from)
      local ok, e = set_remote(p, { type = "offer", sdp = msg.sdp })
      if not ok then
        rtc.log.warn("bot", "offer from %s refused: %s", from, tostring(e))
        return
      end
      local answer = assert(p.pc:create_answer())
      assert(p.pc:set_local_description(answer))
      client:send { type = "answer", to = from, sdp = answer.sdp }
    elseif t == "answer" and from and bot.peers[from] then
      local ok, e = set_remote(bot.peers[from], { type = "answer", sdp = msg.sdp })
      if not ok then rtc.log.warn("bot", "answer from %s refused: %s", from, tostring(e)) end
    elseif t == "candidate" and from and bot.peers[from] then
      add_candidate(bot.peers[from], msg)
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
    for id, p in pairs(bot.peers) do p.pc:close(); bot.peers[id] = nil end
    rtc.log.info("bot", "signaling closed (%s)", tostring(client.close_code))
  end)

  function bot.stop()
    for id, p in pairs(bot.peers) do p.pc:close(); bot.peers[id] = nil end
    client:close()
  end
  return bot
end

local first = ...
if type(first) == "table" then return start(first) end

-- Command line.
local opts = {}
do
  local i = 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--url" then opts.url = v
    elseif a == "--room" then opts.room = v
    elseif a == "--token" then opts.token = v
    elseif a == "--name" then opts.name = v
    elseif a == "--peer" then opts.peer = v
    else io.stderr:write("chat_bot: unknown option ", a, "\n"); os.exit(2) end
    i = i + 2
  end
end
local bot, err = start(opts)
if not bot then
  io.stderr:write("chat_bot: ", tostring(err), "\n")
  os.exit(1)
end
print("chat bot joined room " .. bot.client.room .. " as " .. bot.client.id)
io.stdout:flush()
rtc.on("shutdown", function() bot.stop() end)
