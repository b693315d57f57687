-- A recorder bot: joins a signaling room and records each member's audio and video to
-- a WebM file of its own, DIR/<room>-<member id>-<n>.webm, closed when the member
-- leaves or the bot stops.
--   luartc examples/recorder.lua --dir DIR [--url ws://127.0.0.1:8080/ws] [--room demo]
--                                [--token T] [--name N]
local rtc = require "rtc"
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

local files = 0

local function hooks(opts)
  local dir = opts.dir or "."
  local function close(p)
    if not p.writer then return end
    local w = p.writer
    p.writer = nil
    local ok, err = w:close()
    if ok then print("recorded " .. p.path); io.stdout:flush()
    else rtc.log.error("bot", "recording %s: %s", p.path, tostring(err)) end
  end
  -- The file is made at the first frame once the member's tracks are known: with
  -- video, at its first video frame (its codec names the WebM track), so audio that
  -- came earlier is not recorded; a file needs no more than a moment to start.
  local function open(p, f, kind)
    if p.writer or p.failed then return p.writer end
    if p.kinds.video and kind ~= "video" then return nil end
    files = files + 1
    p.path = string.format("%s/%s-%s-%d.webm", dir, p.bot.client.room, p.id, files)
    local w, err = rtc.media.writer(p.path, { audio = p.kinds.audio or nil, channels = 2,
                                              video = p.kinds.video and f.codec or nil })
    if not w then
      p.failed = true
      rtc.log.error("bot", "cannot record %s: %s", p.path, tostring(err))
      return nil
    end
    p.writer = w
    rtc.log.info("bot", "%s: recording to %s", p.id, p.path)
    return w
  end
  return {
    prepare = function(p, answering)
      p.kinds = {}
      -- When the bot offers it asks for one of each; a member's offer brings its own.
      if not answering then
        p.pc:add_transceiver("audio", { direction = "recvonly" })
        p.pc:add_transceiver("video", { direction = "recvonly", codec = "VP8" })
      end
    end,
    track = function(p, track)
      p.kinds[track.kind] = true
      rtc.log.info("bot", "%s: %s track (mid %s)", p.id, track.kind, tostring(track.mid))
      local clock = rtc.media.rtp_clock(track.kind == "video" and 90000 or 48000)
      if track.kind == "video" then track:request_keyframe() end
      track:on("frame", function(f)
        local w = open(p, f, track.kind)
        if not w then return end
        w:write { data = f.data, pts_ms = clock:to_ms(f.timestamp), keyframe = f.keyframe, kind = track.kind }
      end)
    end,
    closed = close,
  }
end

local first = ...
if type(first) == "table" then return room_bot.start(first, hooks(first)) end
room_bot.main("recorder", hooks, { ["--dir"] = "dir" })
