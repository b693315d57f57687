-- luartc's half of the frame transform interop test (spec/interop/browser_transform_spec.lua):
-- answers the browser's single-video offer. With --side recv (the browser sends) it
-- records what arrives to an IVF file; with --side send it plays an IVF VP8 file to the
-- browser. --transform xor / aes-gcm installs rtc.transforms.xor(key) / aes_gcm(key) on
-- the receiver or sender, --transform lua the XOR written as a Lua function, none nothing.
-- Signaling and RESULT as examples/interop_peer.lua (docs/interop.md).
--   luartc transform_peer.lua --side recv|send --transform xor|aes-gcm|lua|none --key K
--                             [--record FILE.ivf] [--file FILE.ivf] [--duration S]
local rtc = require "rtc"
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "peer_common.lua")

local opts = { side = "recv", transform = "xor", key = "", duration = 6 }
do
  local i = 1
  while arg[i] do
    local a, v = arg[i], arg[i + 1]
    if a == "--side" then opts.side = v
    elseif a == "--transform" then opts.transform = v
    elseif a == "--key" then opts.key = v
    elseif a == "--record" then opts.record = v
    elseif a == "--file" then opts.file = v
    elseif a == "--duration" then opts.duration = tonumber(v)
    else io.stderr:write("transform_peer: unknown option ", a, "\n"); os.exit(2) end
    i = i + 2
  end
end

local function log(...) io.stderr:write(string.format(...), "\n") end
local result = { ok = false }
local finish = common.finisher(result)

-- The documented XOR frame format, in Lua: what rtc.transforms.xor does in C.
local function lua_xor(key)
  local kb = { key:byte(1, -1) }
  local n = #kb
  return function(data, info)
    local clear = info.kind == "audio" and 1 or ((data:byte(1) or 1) & 1 == 0 and 10 or 3)
    if clear >= #data then return data end
    local out, k = {}, 1
    for i = clear + 1, #data do
      out[#out + 1] = string.char(data:byte(i) ~ kb[k])
      k = k == n and 1 or k + 1
    end
    return data:sub(1, clear) .. table.concat(out)
  end
end

local function transform()
  if opts.transform == "xor" then return rtc.transforms.xor(opts.key) end
  if opts.transform == "aes-gcm" then return rtc.transforms.aes_gcm(opts.key) end
  if opts.transform == "lua" then return lua_xor(opts.key) end
  return nil
end

local pc = assert(rtc.peer_connection {})
if opts.side == "send" then
  local track = rtc.media_track("video", { codec = "VP8" })
  local tr = pc:add_track(track)
  if opts.transform ~= "none" then assert(tr.sender:set_transform(transform())) end
  local src = assert(rtc.media.file_source(opts.file, { loop = true, kind = "video" }))
  local sent = 0
  src:on("frame", function(f) if track:write_frame(f) then sent = sent + 1 end end)
  src:on("error", function(e) result.error = tostring(e); finish() end)
  local started = false
  pc:on("connectionstatechange", function(state)
    if state ~= "connected" or started then return end
    started = true
    io.stderr:write("MARK\n")
    src:start()
    rtc.set_timeout((opts.duration + 1) * 1000, function()
      src:stop()
      result.frames_sent = sent
      if opts.transform ~= "lua" and opts.transform ~= "none" then result.transform = tr.sender:transform_stats() end
      result.ok = sent > 0
      finish()
    end)
  end)
else
  local writer = assert(rtc.media.writer(opts.record, { codec = "VP8" }))
  local frames = 0
  pc:on("track", function(track, tr)
    if track.kind ~= "video" then return end
    if opts.transform ~= "none" then assert(tr.receiver:set_transform(transform())) end
    local clock = rtc.media.rtp_clock(90000)
    track:on("frame", function(f)
      frames = frames + 1
      if frames == 1 then
        io.stderr:write("MARK\n")
        rtc.set_timeout(opts.duration * 1000, function()
          result.frames_received = frames
          if opts.transform ~= "lua" and opts.transform ~= "none" then result.transform = tr.receiver:transform_stats() end
          local ok, err = writer:close()
          result.ok = ok and frames > 0
          if not ok then result.error = "record: " .. tostring(err) end
          finish()
        end)
      end
      writer:write { data = f.data, pts_ms = clock:to_ms(f.timestamp), keyframe = f.keyframe, kind = "video" }
    end)
  end)
end

common.signal(pc, result, finish, "answer")

rtc.set_timeout((opts.duration + 40) * 1000, function() result.error = "timeout"; finish() end)
