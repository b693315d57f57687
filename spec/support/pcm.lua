-- Analysis of 48 kHz s16 PCM for the specs: a tone's frequency by zero crossings and
-- the power at one frequency by Goertzel. `pcm` is a string of little-endian s16
-- samples of one channel.
local M = {}

local RATE = 48000

-- Sample i (1-based) of a mono s16 string.
function M.s16(pcm, i) return (string.unpack("<i2", pcm, 2 * i - 1)) end
local s16 = M.s16

-- Frequency from rising zero crossings with a dead band (codec noise near zero must
-- not count), over the whole buffer; nil when fewer than two crossings.
function M.zero_crossing_hz(pcm, band)
  band = band or 500
  local n, crossings, state = #pcm // 2, 0, 0
  local first, last
  for i = 1, n do
    local v = s16(pcm, i)
    if v < -band then state = -1
    elseif v > band and state == -1 then
      state = 1
      crossings = crossings + 1
      first = first or i
      last = i
    end
  end
  if crossings < 2 then return nil end
  return (crossings - 1) * RATE / (last - first)
end

-- Goertzel power of one frequency (normalised by length).
function M.goertzel(pcm, f)
  local n = #pcm // 2
  local w = 2 * math.cos(2 * math.pi * f / RATE)
  local s1, s2 = 0.0, 0.0
  for i = 1, n do
    local s = s16(pcm, i) + w * s1 - s2
    s2, s1 = s1, s
  end
  return (s1 * s1 + s2 * s2 - w * s1 * s2) / (n * n)
end

-- Whether f stands out: its power above 20 times that 10% either side.
function M.clear_peak(pcm, f)
  local p = M.goertzel(pcm, f)
  return p > 20 * M.goertzel(pcm, f * 1.1) and p > 20 * M.goertzel(pcm, f * 0.9), p
end

return M
