-- A recorder bot: joins a signaling room and records each member's audio and video to
-- a WebM file of its own, DIR/<room>-<member id>-<n>.webm, closed when the member
-- leaves or the bot stops. rtc.recorder keeps audio and video in sync with the
-- member's RTCP sender reports (docs/media-files.md).
--   luartc examples/recorder.lua --dir DIR [--url ws://127.0.0.1:8080/ws] [--room demo]
--                                [--token T] [--name N]
local rtc = require "rtc"
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

local files = 0

local function hooks(opts)
  local dir = opts.dir or "."
  return {
    prepare = function(p, answering)
      -- When the bot offers it asks for one of each; a member's offer brings its own.
      if not answering then
        p.pc:add_transceiver("audio", { direction = "recvonly" })
        p.pc:add_transceiver("video", { direction = "recvonly", codec = "VP8" })
      end
      files = files + 1
      p.path = string.format("%s/%s-%s-%d.webm", dir, p.bot.client.room, p.id, files)
      -- Every remote track the member sends goes to the file (one audio, one video).
      p.rec = rtc.recorder(p.path, { pc = p.pc })
      p.rec:on("error", function(err) rtc.log.error("bot", "recording %s: %s", p.path, tostring(err)) end)
      rtc.log.info("bot", "%s: recording to %s", p.id, p.path)
    end,
    track = function(p, track)
      rtc.log.info("bot", "%s: %s track (mid %s)", p.id, track.kind, tostring(track.mid))
    end,
    closed = function(p)
      local rec = p.rec
      if not rec then return end
      p.rec = nil
      local ok = rec:close()
      -- No file is made for a member that sent nothing.
      if ok and rec:stats().started then print("recorded " .. p.path); io.stdout:flush() end
    end,
  }
end

local first = ...
if type(first) == "table" then return room_bot.start(first, hooks(first)) end
room_bot.main("recorder", hooks, { ["--dir"] = "dir" })
