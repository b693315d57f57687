-- Codec choice by the publisher through rtc.sfu, luartc bots on 127.0.0.1: a subscriber
-- is answered (WHEP style: it offers, the SFU's connection answers) or offered with the
-- codec the producer publishes, in the producer's format.
-- Checked: a VP9 publisher and a subscriber listing VP8 first: the answer is VP9 and the
-- subscriber gets every frame byte for byte; an H264 High publisher and a subscriber
-- offering H264 Constrained Baseline first and High second: the answer takes High; one
-- offering only Constrained Baseline gets the consumer's NotSupportedError; the SFU's own
-- offer to a subscriber puts H264 first with the producer's profile-level-id.
local rtc = require "rtc"
local sfu = require "rtc.sfu"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local IVF = dir .. "/vp9.ivf"
local HIGH = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f"

setup(function()
  local p = assert(io.popen("ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=25 -t 2 " ..
                            "-c:v libvpx-vp9 -g 12 -b:v 300k '" .. IVF .. "' 2>&1"))
  local out = p:read("a")
  assert(p:close(), out)
end)
teardown(function() os.execute("rm -rf '" .. dir .. "'") end)

-- A publisher of one video track in `codec` (fmtp: the format it offers), published in room.
local function publish(room, codec, fmtp)
  local pub = assert(rtc.peer_connection(LOCAL))
  local cam = rtc.media_track("video", { codec = codec })
  local tr = assert(pub:add_transceiver(cam, { direction = "sendonly" }))
  if fmtp then assert(tr:set_codec_preferences { { mime_type = "video/" .. codec, sdp_fmtp_line = fmtp } }) end
  local s0 = assert(rtc.peer_connection(LOCAL))
  local producer
  s0:on("track", function(track) producer = assert(room:publish(track)) end)
  pcpair(pub, s0)
  wait_for(function() return producer and producer.codec end, "producer bound")
  return { pc = pub, sfu_pc = s0, cam = cam, producer = producer }
end

-- The subscriber offers recvonly video (its SDP through munge), the SFU's connection
-- subscribes the transceiver that offer made and answers.
local function whep_subscribe(room, producer, munge)
  local b = assert(rtc.peer_connection(LOCAL))
  assert(b:add_transceiver("video", { direction = "recvonly" }))
  assert(b:set_local_description(assert(b:create_offer())))
  b:wait_gathering_complete()
  local s = assert(rtc.peer_connection(LOCAL))
  local offer = b.local_description.sdp
  assert(s:set_remote_description { type = "offer", sdp = munge and munge(offer) or offer })
  local sub = { pc = b, sfu_pc = s, errors = {} }
  sub.consumer = assert(room:subscribe(s, producer))
  sub.consumer:on("error", function(e) sub.errors[#sub.errors + 1] = e end)
  assert(s:set_local_description(assert(s:create_answer())))
  s:wait_gathering_complete()
  sub.answer = s.local_description.sdp
  return sub
end

-- The video section's payload types in m= order with their rtpmap names and fmtp.
local function codecs_of(sdp)
  local m = sdp:match("m=video [^\r\n]+")
  local out = {}
  for pt in m:gmatch(" (%d+)") do
    local name = sdp:match("a=rtpmap:" .. pt .. " ([%w%-]+)/")
    if name and name ~= "rtx" then out[#out + 1] = { pt = tonumber(pt), name = name, fmtp = sdp:match("a=fmtp:" .. pt .. " ([^\r\n]+)") } end
  end
  return out
end

-- The offer with only the payload types in keep (and their lines).
local function keep_pts(sdp, keep)
  local set = {}
  for _, pt in ipairs(keep) do set[tostring(pt)] = true end
  local lines = {}
  for line in sdp:gmatch("[^\r\n]+") do
    local mline = line:match("^m=video %d+ [%w/]+")
    local pt = line:match("^a=rtpmap:(%d+)") or line:match("^a=fmtp:(%d+)") or line:match("^a=rtcp%-fb:(%d+)")
    if mline then
      line = mline .. " " .. table.concat(keep, " ")
    elseif pt and not set[pt] then
      line = nil
    end
    if line then lines[#lines + 1] = line end
  end
  return table.concat(lines, "\r\n") .. "\r\n"
end

-- A second H264 payload type (127, High profile) after the first, and its lines.
local function add_high(sdp)
  sdp = sdp:gsub("(m=video %d+ [%w/]+ [^\r\n]*)", function(m) return (m:gsub(" 102 ", " 102 127 ", 1)) end, 1)
  return (sdp:gsub("(a=rtpmap:102 H264/90000\r\n)", "%1a=rtpmap:127 H264/90000\r\na=fmtp:127 " .. HIGH ..
                   "\r\na=rtcp-fb:127 nack\r\na=rtcp-fb:127 nack pli\r\n", 1))
end

describe("rtc.sfu codec choice", function()
  it("answers a subscriber with the producer's VP9 even when it lists VP8 first, and forwards it", function()
    run_task(function()
      local room = sfu.room { name = "vp9" }
      local pub = publish(room, "VP9")
      assert.equal("VP9", pub.producer.codec)
      local sent = {}
      local src = assert(rtc.media.file_source(IVF, { loop = true }))
      src:on("frame", function(f) sent[f.data] = true; pub.cam:write_frame(f) end)
      src:start()
      local sub = whep_subscribe(room, pub.producer)
      local offered = codecs_of(sub.pc.local_description.sdp)
      assert.equal("VP8", offered[1].name)                     -- the subscriber's own order
      local answered = codecs_of(sub.answer)
      assert.equal(1, #answered)
      assert.equal("VP9", answered[1].name)
      local frames, bad = 0, 0
      sub.pc:on("track", function(track)
        track:on("frame", function(f)
          if not sent[f.data] then bad = bad + 1 end
          frames = frames + 1
        end)
      end)
      assert(sub.pc:set_remote_description { type = "answer", sdp = sub.answer })
      wait_for(function() return frames >= 20 end, "VP9 frames at the subscriber", 15000)
      assert.equal(0, bad)
      assert.same({}, sub.errors)
      src:stop()
      for _, pc in ipairs { pub.pc, pub.sfu_pc, sub.pc, sub.sfu_pc } do pc:close() end
      room:close()
    end, 30000)
  end)

  it("takes the producer's H264 profile from the subscriber's offer, refuses a subscriber without it, offers it", function()
    run_task(function()
      local room = sfu.room { name = "h264" }
      local pub = publish(room, "H264", HIGH)
      assert.equal("H264", pub.producer.codec)
      assert.matches("profile%-level%-id=640c1f", pub.producer.fmtp)

      -- Constrained Baseline (102) first, High (127) second: High is answered
      local sub = whep_subscribe(room, pub.producer, add_high)
      local answered = codecs_of(sub.answer)
      assert.equal(1, #answered)
      assert.equal(127, answered[1].pt)
      assert.matches("profile%-level%-id=640c1f", answered[1].fmtp)
      wait_for(function() return sub.consumer._id ~= nil or #sub.errors > 0 end, "consumer bound")
      assert.same({}, sub.errors)
      assert.is_falsy(sub.consumer.closed)

      -- only Constrained Baseline: a clear error, the consumer closes
      local cb = whep_subscribe(room, pub.producer, function(sdp) return keep_pts(sdp, { 102, 103 }) end)
      assert.equal("42e01f", codecs_of(cb.answer)[1].fmtp:match("profile%-level%-id=(%x+)"))
      wait_for(function() return #cb.errors > 0 end, "the consumer's error")
      assert.matches("^NotSupportedError: .*format", cb.errors[1])
      assert.is_true(cb.consumer.closed)

      -- the SFU offers: H264 first, in the producer's format
      local s = assert(rtc.peer_connection(LOCAL))
      assert(room:subscribe(s, pub.producer))
      local offer = assert(s:create_offer())
      local first = codecs_of(offer.sdp)[1]
      assert.equal("H264", first.name)
      assert.matches("profile%-level%-id=640c1f", first.fmtp)

      -- a bad format is refused where it is set
      local tr = pub.pc:get_transceivers()[1]
      assert.has_error(function() tr:set_codec_preferences { { mime_type = "video/H264", sdp_fmtp_line = 5 } } end)
      for _, pc in ipairs { pub.pc, pub.sfu_pc, sub.pc, sub.sfu_pc, cb.pc, cb.sfu_pc, s } do pc:close() end
      room:close()
    end, 30000)
  end)
end)
