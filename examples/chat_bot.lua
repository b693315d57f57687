-- A chat bot that joins a signaling room like a browser does and answers data channel
-- chat: one luartc peer connection (data only) per member of the room, on the shared
-- room skeleton examples/room_bot.lua.
--   luartc examples/chat_bot.lua [--url ws://127.0.0.1:8080/ws] [--room demo] [--token T] [--name N]
-- Loaded from another script (examples/demo.lua): loadfile(path)({url=, room=, ...})
-- starts it and returns the bot ({client=, peers=, stop()}).
-- Its join info says {bot = true, data_only = true}, so browsers send it no media.
local rtc = require "rtc"
local json = rtc.json
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

local function hooks(opts)
  local name = opts.name or "chat-bot"
  local function answer(client, text, from)
    if text:lower():match("^%s*/?help") then
      return "I echo what you say. Try: time, peers"
    elseif text:lower():match("^%s*time%s*$") then
      return os.date("!%H:%M:%S UTC")
    elseif text:lower():match("^%s*peers%s*$") then
      local ids = {}
      for id in pairs(client.peers or {}) do ids[#ids + 1] = id end
      table.sort(ids)
      return #ids .. " other(s) here: " .. table.concat(ids, ", ")
    end
    return (from and (from .. " said: ") or "you said: ") .. text
  end
  return {
    info = { data_only = true },
    message = function(p, dc, data)
      local m = json.decode(data)
      local text = type(m) == "table" and type(m.text) == "string" and m.text or data
      local from = type(m) == "table" and type(m.from) == "string" and m.from or nil
      rtc.log.info("bot", "chat from %s: %s", from or p.id, text)
      dc:send(json.encode { from = name, text = answer(p.bot.client, text, from) })
    end,
  }
end

local first = ...
if type(first) == "table" then
  first.name = first.name or "chat-bot"
  return room_bot.start(first, hooks(first))
end
room_bot.main("chat-bot", hooks)
