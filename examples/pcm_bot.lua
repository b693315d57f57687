-- A PCM bot: joins a signaling room, listens to each member's audio as decoded PCM
-- (track:on("pcm")) and logs its level and pitch every second, and speaks to them: a
-- tone generated as PCM and written with track:write_pcm, which encodes it with the
-- member's Opus preferences (DTX, in-band FEC, stereo) from their SDP.
--   luartc examples/pcm_bot.lua [--url ws://127.0.0.1:8080/ws] [--room demo] [--token T]
--                               [--name N] [--frequency HZ]
local rtc = require "rtc"
local room_bot = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "room_bot.lua")

-- Pitch from rising zero crossings (with a dead band against noise), channel 1 only.
local function pitch_hz(pcm, channels)
  local step, n = 2 * channels, #pcm // (2 * channels)
  local state, crossings, first, last = 0, 0, nil, nil
  for i = 0, n - 1 do
    local v = string.unpack("<i2", pcm, i * step + 1)
    if v < -300 then state = -1
    elseif v > 300 and state == -1 then
      state = 1
      crossings = crossings + 1
      first = first or i
      last = i
    end
  end
  if crossings < 2 then return 0 end
  return (crossings - 1) * 48000 / (last - first)
end

local function hooks(opts)
  local frequency = tonumber(opts.frequency or 660)
  if not frequency then return nil, "--frequency needs a number" end
  return {
    prepare = function(p)
      p.voice = rtc.media_track("audio")
      p.pc:add_track(p.voice)
    end,
    track = function(p, track)
      if track.kind ~= "audio" then return end
      local buf, count = {}, 0
      track:on("pcm", function(chunk)
        buf[#buf + 1] = chunk.samples
        count = count + chunk.sample_count
        if count < 48000 then return end
        local pcm = table.concat(buf)
        buf, count = {}, 0
        local rms = rtc.media.pcm_rms(pcm)
        local db = rms > 0 and 20 * math.log(rms / 32768, 10) or -120
        rtc.log.info("bot", "heard %s: level %.0f dBFS, pitch %.0f Hz", p.id, db, pitch_hz(pcm, chunk.channels))
      end)
    end,
    connected = function(p)
      local src = assert(rtc.media.tone_source { frequency = frequency, amplitude = 0.2, pcm = true })
      src:on("frame", function(f)
        local ok, err = p.voice:write_pcm(f.samples)
        if not ok and not p.warned then p.warned = true; rtc.log.warn("bot", "%s: %s", p.id, tostring(err)) end
      end)
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
room_bot.main("pcm-bot", hooks, { ["--frequency"] = "frequency" })
