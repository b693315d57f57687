-- luartc's half of the browser media test (spec/interop/browser_media_spec.lua): answers
-- the browser's audio+video offer (or with --role offer makes the offer), counts the
-- complete frames that arrive per codec, and with --echo sends the video frames back on
-- the same transceiver. Signaling and RESULT as examples/interop_peer.lua (docs/interop.md).
--   luartc media_peer.lua [--role answer|offer] [--codec VP8|H264] [--duration S]
--                         [--bind IP --port N] [--echo]
local rtc = require "rtc"
local common = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "peer_common.lua")

local opts = { role = "answer", codec = "VP8", duration = 10, echo = false }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--codec" then i = i + 1; opts.codec = arg[i]
    elseif a == "--role" then i = i + 1; opts.role = arg[i]
    elseif a == "--duration" then i = i + 1; opts.duration = tonumber(arg[i])
    elseif a == "--port" then i = i + 1; opts.port = tonumber(arg[i])
    elseif a == "--bind" then i = i + 1; opts.bind = arg[i]
    elseif a == "--echo" then opts.echo = true
    else io.stderr:write("media_peer: unknown option ", a, "\n"); os.exit(2) end
    i = i + 1
  end
end

local function log(...) io.stderr:write(string.format(...), "\n") end
local result = { ok = false, frames = {}, keyframes = {}, bytes = {}, frames_by_rid = {} }
local finish = common.finisher(result)

-- A fixed address and port let the test drop packets to us alone (iptables --dport).
local pc = assert(rtc.peer_connection { port = opts.port, bind_addresses = opts.bind and { opts.bind } or nil })
local echo
if opts.echo then
  -- Added before the offer arrives, so the browser's video section takes it (sendrecv).
  echo = rtc.media_track("video", { codec = opts.codec })
  pc:add_track(echo)
elseif opts.role == "offer" then
  pc:add_transceiver("video", { direction = "recvonly", codec = opts.codec })
end
if opts.role == "offer" then pc:add_transceiver("audio", { direction = "recvonly" }) end

local first_frame_at
-- A data channel the browser opens next to the media is echoed.
pc:on("datachannel", function(dc)
  dc:on("message", function(data, binary) dc:send(data, binary); result.dc_echoed = true end)
end)

pc:on("track", function(track)
  log("track %s mid %s", track.kind, tostring(track.mid))
  local first = true
  track:on("frame", function(f)
    if first then
      first = false
      -- What was given up before the track's first complete frame (a stream whose very
      -- first packets are lost cannot NACK them: nothing before them is known).
      for _, s in pairs(pc:get_stats()) do
        if s.type == "inbound-rtp" and s.kind == track.kind then
          result["dropped_before_start_" .. s.kind] = s.framesDropped
        end
      end
    end
    if not first_frame_at then
      first_frame_at = rtc.now()

      io.stderr:write("MARK\n")
      rtc.set_timeout(opts.duration * 1000, function()
        for _, s in pairs(pc:get_stats()) do
          if s.type == "inbound-rtp" then result["inbound_" .. s.kind] = s end
          if s.type == "outbound-rtp" then result["outbound_" .. s.kind] = s end
          if s.type == "remote-inbound-rtp" then result["remote_inbound_" .. s.kind] = s end
        end
        for _, tr in ipairs(pc:get_transceivers()) do
          local info = pc._core:tr_info(tr._h)
          if info.inbound then
            result["given_up_" .. info.kind] = info.inbound.packets_given_up
            result["skipped_" .. info.kind] = info.inbound.frames_skipped
            result["late_" .. info.kind] = info.inbound.packets_late
          end
        end
        local raw = pc._core:raw_stats()
        result.transport = { rtp_received = raw.rtp_received, rtcp_received = raw.rtcp_received,
                             srtp_errors = raw.srtp_errors, rtp_unroutable = raw.rtp_unroutable,
                             twcc_feedback_sent = raw.twcc_feedback_sent }
        result.ok = (result.frames[opts.codec] or 0) > 0 and (result.frames.opus or 0) > 0
        if not result.ok then result.error = "no " .. opts.codec .. " or no opus frames" end
        finish()
      end)
    end
    result.frames[f.codec] = (result.frames[f.codec] or 0) + 1
    if f.rid then result.frames_by_rid[f.rid] = (result.frames_by_rid[f.rid] or 0) + 1 end
    result.bytes[f.codec] = (result.bytes[f.codec] or 0) + #f.data
    if f.keyframe then result.keyframes[f.codec] = (result.keyframes[f.codec] or 0) + 1 end
    if echo and track.kind == "video" then
      echo:write_frame { data = f.data, timestamp = f.timestamp, keyframe = f.keyframe }
    end
  end)
  -- The browser's decoder asks us for keyframes of the echo: ask its encoder in turn.
  if echo and track.kind == "video" then
    echo:on("keyframerequest", function() track:request_keyframe() end)
  end
end)

common.signal(pc, result, finish, opts.role)

rtc.set_timeout((opts.duration + 30) * 1000, function() result.error = "timeout"; finish() end)
