-- An echo bot: joins a signaling room and returns each member's media to them (every
-- received track is sent back on its own transceiver, same kind and codec) and echoes
-- their chat messages.
--   luartc examples/echo_bot.lua [--url ws://127.0.0.1:8080/ws] [--room demo] [--token T]
--                                [--name N] [--video-codec VP8]
local rtc = require "rtc"
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

local function hooks(opts)
  local video_codec = opts.video_codec or "VP8"
  return {
    -- An echo track per kind, added so that it takes the member's offered section
    -- (answered sendrecv) or, when the bot offers, a sendrecv section of its own.
    -- An echo track per kind, added before any description so that it takes the
    -- member's offered section of its kind (answered sendrecv) or, when the bot offers,
    -- a sendrecv section of its own. A kind the member does not offer stays unused.
    prepare = function(p)
      p.echo = {}
      for _, kind in ipairs { "audio", "video" } do
        p.echo[kind] = rtc.media_track(kind, kind == "video" and { codec = video_codec } or nil)
        p.pc:add_track(p.echo[kind])
      end
    end,
    track = function(p, track)
      local echo = p.echo and p.echo[track.kind]
      if not echo then return end
      rtc.log.info("bot", "%s: %s track (mid %s)", p.id, track.kind, tostring(track.mid))
      track:on("frame", function(f)
        -- Frames before the echo's transceiver is connected are refused: nothing to do.
        echo:write_frame { data = f.data, timestamp = f.timestamp, keyframe = f.keyframe }
      end)
      -- The member's decoder asks us for keyframes of the echo: ask its encoder in turn.
      echo:on("keyframerequest", function() track:request_keyframe() end)
    end,
    message = function(_, dc, data)
      local m = rtc.json.decode(data)
      local text = type(m) == "table" and type(m.text) == "string" and m.text or data
      dc:send(rtc.json.encode { from = opts.name or "echo-bot", text = text })
    end,
  }
end

local first = ...
if type(first) == "table" then return room_bot.start(first, hooks(first)) end
room_bot.main("echo-bot", hooks, { ["--video-codec"] = "video_codec" })
