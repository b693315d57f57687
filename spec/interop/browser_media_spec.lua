-- Chromium sends its fake camera and microphone to luartc (spec/interop/media_peer.lua)
-- inside an isolated network namespace: every VP8 / H264 frame arrives complete, NACK
-- and RTX repair 5% random loss on luartc's side (iptables), and the VP8 frames luartc
-- echoes back decode in the browser.
local interop = require "interop.helper"

local SRC, LUARTC, BROWSER = interop.SRC, interop.LUARTC, interop.BROWSER
local PORT = 40000

-- run{codec=, loss=, echo=, duration=, luartc_offers=} -> browser result, luartc result
local function run(o)
  local duration = o.duration or 8
  local luartc = { LUARTC, SRC .. "/spec/interop/media_peer.lua", "--codec", o.codec, "--duration",
                   tostring(duration), "--bind", "10.77.0.1", "--port", tostring(PORT) }
  if o.echo then luartc[#luartc + 1] = "--echo" end
  local browser = { "node", BROWSER .. "/media_peer.js", "--codec", o.codec, "--duration", tostring(duration + 2) }
  if o.data then browser[#browser + 1] = "--data" end
  if o.simulcast then browser[#browser + 1] = "--simulcast" end
  if o.luartc_offers then
    luartc[#luartc + 1] = "--role"; luartc[#luartc + 1] = "offer"
    browser[#browser + 1] = "--role"; browser[#browser + 1] = "answer"
  end
  -- Only datagrams to luartc's port are dropped: the browser's side stays clean.
  local setup = (o.loss or 0) > 0 and string.format(
    "iptables -A INPUT -p udp --dport %d -m statistic --mode random --probability %s -j DROP", PORT, tostring(o.loss))
  local res = interop.pair(browser, luartc, { timeout = duration + 50, setup = setup or nil })
  interop.check(res, "media pairing")
  return res.a, res.b
end

local describe_browser = interop.have_browser() and describe or function(name) pending(name .. " (no chromium)") end

describe_browser("Chromium media to luartc", function()
  it("VP8 and Opus arrive complete, the VP8 echo decodes in the browser, a data channel works beside them", function()
    local browser, lrtc = run { codec = "VP8", echo = true, data = true }
    local v, a = lrtc.inbound_video, lrtc.inbound_audio
    assert.is_true(lrtc.frames.VP8 >= 60, "VP8 frames: " .. tostring(lrtc.frames.VP8))
    assert.is_true(lrtc.frames.opus >= 250, "Opus frames: " .. tostring(lrtc.frames.opus))
    assert.equal(lrtc.frames.VP8, v.framesReceived)
    assert.equal(0, v.framesDropped)
    assert.is_true(lrtc.keyframes.VP8 >= 1)
    assert.equal(0, a.framesDropped)
    -- Chromium's RTX bandwidth probes repeat packets we have: they never count twice.
    assert.is_true(v.packetsLost >= 0, "video packetsLost " .. tostring(v.packetsLost))
    assert.is_true(a.packetsLost >= 0, "audio packetsLost " .. tostring(a.packetsLost))
    assert.equal(0, lrtc.transport.srtp_errors)
    assert.equal(0, lrtc.transport.rtp_unroutable)
    assert.equal("video/VP8", browser.video_out.codec)
    -- The echo: what luartc sent back decodes, and keeps decoding.
    assert.equal("video/VP8", browser.video_in.codec)
    assert.is_true(browser.frames_decoded_first_half > 0)
    assert.is_true(browser.video_in.framesDecoded > browser.frames_decoded_first_half + 20,
                   "framesDecoded " .. tostring(browser.video_in.framesDecoded))
    assert.is_true(lrtc.outbound_video.framesSent >= lrtc.frames.VP8 - 1)
    assert.is_true(lrtc.remote_inbound_video.roundTripTime ~= nil)
    -- A data channel shares the transport with the media.
    assert.is_true(lrtc.dc_echoed)
    assert.is_true(browser.dc_echo)
  end)

  it("H264 (packetization-mode 1, chosen with setCodecPreferences) arrives complete", function()
    local browser, lrtc = run { codec = "H264" }
    assert.equal("video/H264", browser.video_out.codec)
    assert.is_true((lrtc.frames.H264 or 0) >= 60, "H264 frames: " .. tostring(lrtc.frames.H264))
    assert.is_nil(lrtc.frames.VP8)
    assert.equal(0, lrtc.inbound_video.framesDropped)
    assert.is_true(lrtc.keyframes.H264 >= 1)
  end)

  it("answers luartc's offer: the browser sends on the offered sections and decodes the echo", function()
    local browser, lrtc = run { codec = "VP8", echo = true, luartc_offers = true }
    assert.equal("video/VP8", browser.video_out.codec)
    assert.is_true(lrtc.frames.VP8 >= 60, "VP8 frames: " .. tostring(lrtc.frames.VP8))
    assert.is_true(lrtc.frames.opus >= 250)
    assert.equal(0, lrtc.inbound_video.framesDropped)
    assert.is_true(lrtc.inbound_video.packetsLost >= 0, "packetsLost " .. tostring(lrtc.inbound_video.packetsLost))
    assert.is_true(browser.video_in.framesDecoded > browser.frames_decoded_first_half + 20)
    -- transport-cc: the browser's packets carried the transport-wide sequence, luartc
    -- answered with feedback (the browser's side of the namespace drops nothing), and
    -- the browser's send-side estimate moved from its start value. How far it climbs in
    -- the time given depends on the machine's load: bench/browser_bwe.lua prints it.
    local bwe = browser.target_bitrate
    io.stderr:write(string.format("transport-cc: %d feedback packets sent; browser estimate %s -> %s (max %s, %d values)\n",
                                  lrtc.transport.twcc_feedback_sent, tostring(bwe.first), tostring(bwe.last),
                                  tostring(bwe.max), bwe.values))
    assert.is_true(lrtc.transport.twcc_feedback_sent > 0, "no transport-cc feedback sent")
    assert.is_true(bwe.samples >= 2, "targetBitrate samples: " .. tostring(bwe.samples))
    assert.is_true(bwe.values >= 2, "the browser's estimate never moved from " .. tostring(bwe.first))
  end)

  it("receives simulcast: each RID layer is its own complete stream", function()
    local _, lrtc = run { codec = "VP8", simulcast = true }
    local layers = 0
    for rid, n in pairs(lrtc.frames_by_rid) do
      io.stderr:write(string.format("simulcast layer %s: %d frames\n", rid, n))
      if n >= 60 then layers = layers + 1 end
    end
    -- The browser enables the layers its bandwidth estimate allows: at least two here.
    assert.is_true(layers >= 2, "layers with frames: " .. layers)
    assert.equal(0, lrtc.inbound_video.framesDropped - (lrtc.dropped_before_start_video or 0))
    assert.equal(0, lrtc.transport.srtp_errors)
  end)

  it("NACK/RTX keep VP8 frames complete through 5% loss on luartc's side", function()
    local browser, lrtc = run { codec = "VP8", loss = 0.05, echo = true, duration = 10 }
    local v = lrtc.inbound_video
    io.stderr:write(string.format("5%% loss: %d VP8 frames, %d packets, %d NACKs, %d repaired (%d RTX), %d lost\n",
                                  lrtc.frames.VP8, v.packetsReceived, v.nackCount, v.packetsRepaired,
                                  v.retransmittedPacketsReceived, v.packetsLost))
    assert.is_true(lrtc.frames.VP8 >= 60)
    assert.is_true(v.nackCount > 0)
    assert.is_true(v.packetsRepaired > 0)
    assert.is_true(v.packetsLost >= 0, "packetsLost " .. tostring(v.packetsLost))
    assert.is_true(browser.video_out.retransmittedPacketsSent > 0)
    -- A loss of the stream's very first packets shows as a partial first frame (PLI
    -- recovers it); from the first complete frame on, nothing may be missing.
    assert.equal(0, v.framesDropped - (lrtc.dropped_before_start_video or 0))
    assert.is_true(browser.video_in.framesDecoded > 20)
  end)
end)
