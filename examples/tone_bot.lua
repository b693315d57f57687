-- A tone bot: joins a signaling room and plays, to each member, an Opus tone or a
-- file in a loop (Ogg/Opus as audio, IVF as video), from the moment the
-- member's connection is up until it leaves.
--   luartc examples/tone_bot.lua [--url ws://127.0.0.1:8080/ws] [--room demo] [--token T]
--                                [--name N] [--file clip.ogg|clip.ivf] [--frequency HZ]
local rtc = require "rtc"
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

local function hooks(opts)
  local kind, codec = "audio", nil
  if opts.file then
    local ext = (opts.file:match("%.(%w+)$") or ""):lower()
    if ext == "ogg" or ext == "opus" then kind = "audio"
    elseif ext == "ivf" then kind = "video"
    else return nil, "--file must be .ogg, .opus or .ivf" end
    -- Open it once up front: a missing or unreadable file is a startup error.
    local r, err = rtc.media.open(opts.file)
    if not r then return nil, err end
    codec = kind == "video" and r:info().codec or nil
    r:close()
  end
  local frequency = tonumber(opts.frequency or 440)
  if not frequency then return nil, "--frequency needs a number" end
  return {
    prepare = function(p)
      p.track = rtc.media_track(kind, codec and { codec = codec } or nil)
      -- Only ours goes out: a member's media in the same section is not wanted. Made
      -- by add_track, so a member's offer gives it its section (JSEP 5.10).
      p.pc:add_track(p.track).direction = "sendonly"
    end,
    connected = function(p)
      local src, err
      if opts.file then src, err = rtc.media.file_source(opts.file, { loop = true })
      else src, err = rtc.media.tone_source { frequency = frequency, channels = 1 } end
      if not src then rtc.log.error("bot", "source: %s", tostring(err)); return end
      src:on("frame", function(f) p.track:write_frame(f) end)
      src:on("error", function(e) rtc.log.error("bot", "source: %s", tostring(e)) end)
      -- A keyframe cannot be made on demand from a file: the loop brings the next one.
      src:start()
      p.source = src
    end,
    closed = function(p)
      if p.source then p.source:stop(); p.source = nil end
    end,
  }
end

local first = ...
if type(first) == "table" then return room_bot.start(first, assert(hooks(first))) end
room_bot.main("tone-bot", hooks, { ["--file"] = "file", ["--frequency"] = "frequency" })
