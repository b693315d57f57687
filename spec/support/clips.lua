-- Test clips made by ffmpeg from its synthetic sources (testsrc, sine), so specs share
-- one way to make them and one clear failure when ffmpeg cannot.
--   local clips = require "support.clips"
--   local ivf = clips.vp8()                                   -- 160x120, 25 fps, 2 s
--   local big = clips.vp8 { path = dir .. "/l3.ivf", size = "256x192", bitrate = "150k" }
--   local ogg = clips.opus { frequency = 300, seconds = 1 }
-- Without a path the clip goes to a temporary file that tmp.clean() removes.
local child = require "support.child"
local tmp = require "support.tmp"

local M = {}

local q = child.quote

-- Runs ffmpeg (without the sanitizer preload, as every external tool) and raises with
-- its output when it fails or prints anything at -v error.
local function ffmpeg(args)
  local out = child.sh("ffmpeg -nostdin -v error -y " .. args .. " 2>&1; echo \"rc=$?\"", 120)
  local rc = out:match("rc=(%d+)%s*$")
  if rc ~= "0" then error("ffmpeg " .. args .. ": " .. out, 2) end
end

-- A VP8 clip of testsrc. o: path (default a temporary .ivf), size ("160x120"), rate (25),
-- seconds (2), gop (12: keyframe interval in frames), bitrate ("300k"), format ("ivf").
-- Returns the path.
function M.vp8(o)
  o = o or {}
  local path = o.path or tmp.file(".ivf")
  ffmpeg(string.format("-f lavfi -i testsrc=size=%s:rate=%d -t %s -c:v libvpx -g %d -b:v %s -f %s %s",
                       o.size or "160x120", o.rate or 25, o.seconds or 2, o.gop or 12,
                       o.bitrate or "300k", o.format or "ivf", q(path)))
  return path
end

-- An Opus clip of a sine tone. o: path (default a temporary .ogg), frequency (440),
-- seconds (1), sample_rate (48000), bitrate (libopus's default when nil).
-- Returns the path.
function M.opus(o)
  o = o or {}
  local path = o.path or tmp.file(".ogg")
  ffmpeg(string.format("-f lavfi -i sine=frequency=%d:sample_rate=%d -t %s -c:a libopus %s%s",
                       o.frequency or 440, o.sample_rate or 48000, o.seconds or 1,
                       o.bitrate and ("-b:a " .. o.bitrate .. " ") or "", q(path)))
  return path
end

return M
