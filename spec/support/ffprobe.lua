-- ffprobe / ffmpeg checks for recorded files, shared by the recording specs.
--   ffprobe.probe(path) -> { streams = {...}, format = {...} } (ffprobe's JSON, numbers parsed)
--   ffprobe.decode_errors(path) -> what ffmpeg prints decoding every frame ("" = clean)
--   ffprobe.check(path, codecs[, min_duration]) asserts each codec is a stream, the
--     duration is positive (or above min_duration) and every frame decodes
local M = {}

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

function M.capture(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local text = p:read("a")
  p:close()
  return text
end

function M.probe(path)
  local text = M.capture("ffprobe -v error -show_streams -show_format -of json " .. q(path))
  local ok, res = pcall(require("rtc").json.decode, text)
  if not ok or type(res) ~= "table" then error("ffprobe " .. path .. ": " .. text, 2) end
  res.streams = res.streams or {}
  res.format = res.format or {}
  for _, s in ipairs(res.streams) do
    s.start_time = tonumber(s.start_time)
    s.duration = tonumber(s.duration)
  end
  res.format.duration = tonumber(res.format.duration)
  res.format.start_time = tonumber(res.format.start_time)
  res.text = text
  return res
end

-- The stream of a codec ("opus", "vp8"), or nil.
function M.stream(probe, codec)
  for _, s in ipairs(probe.streams) do if s.codec_name == codec then return s end end
  return nil
end

-- Video keeps the file's own times and time base: plain `-f null` re-times it onto
-- 1/(the frame rate ffmpeg guesses) and reports "non monotonically increasing dts"
-- whenever a frame interval is shorter than that tick, which a variable frame rate
-- (a loaded sender's camera, a recorder slewing video toward audio) has in a file
-- whose times are right. Kept this way, a time that does not increase in the file's
-- own units is still reported.
M.DECODE_ARGS = "-fps_mode passthrough -enc_time_base:v -1"

function M.decode_errors(path)
  return M.capture("ffmpeg -nostdin -v error -i " .. q(path) .. " " .. M.DECODE_ARGS .. " -f null -")
end

function M.check(path, codecs, min_duration)
  local probe = M.probe(path)
  for _, c in ipairs(codecs) do
    assert(M.stream(probe, c), path .. ": no " .. c .. " stream in " .. probe.text)
  end
  local d = probe.format.duration
  assert(d ~= nil and d > (min_duration or 0), path .. ": duration " .. tostring(d))
  local errs = M.decode_errors(path)
  assert(errs == "", path .. " does not decode cleanly: " .. errs)
  return probe
end

return M
