-- PCM audio on tracks: track:write_pcm() encodes 20 ms Opus frames with the peer's
-- fmtp (usedtx, useinbandfec, stereo, maxaveragebitrate), the remote track's "pcm"
-- event decodes them back to 48 kHz PCM, gaps concealed by RTP time. Two peer
-- connections in one process on 127.0.0.1, stock lua5.4 with rtc.run().
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }

local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for
local signaling = require "signaling"

-- Rewrite the Opus fmtp line of an SDP (what a peer asks our sender for).
local function munge_fmtp(sdp, fn)
  return (sdp:gsub("(a=fmtp:111 )([^\r\n]*)", function(head, params) return head .. fn(params) end))
end

-- a sends the given local audio tracks to b; answer_fmtp rewrites b's answer as a sees it.
-- red: a's transceiver option (nil = the default).
local function connect(tracks, answer_fmtp, red)
  local a = assert(rtc.peer_connection(LOCAL))
  local b = assert(rtc.peer_connection(LOCAL))
  for _, t in ipairs(tracks) do assert(a:add_transceiver(t, { direction = "sendonly", red = red })) end
  local remote = {}
  b:on("track", function(track) remote[#remote + 1] = track end)
  assert(a:set_local_description(assert(a:create_offer())))
  a:wait_gathering_complete()
  assert(b:set_remote_description(a.local_description))
  assert(b:set_local_description(assert(b:create_answer())))
  b:wait_gathering_complete()
  local answer = b.local_description
  if answer_fmtp then answer = { type = "answer", sdp = munge_fmtp(answer.sdp, answer_fmtp) } end
  assert(a:set_remote_description(answer))
  wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")
  assert.equal(#tracks, #remote)
  return a, b, remote
end

local pcm_analysis = require "support.pcm"
local zero_crossing_hz, goertzel = pcm_analysis.zero_crossing_hz, pcm_analysis.goertzel

-- Collect a remote track's PCM, checking that chunks tile RTP time with no hole.
local function collector(track)
  local c = { chunks = 0, samples = {}, concealed = 0, total = 0 }
  track:on("pcm", function(p)
    assert.equal(48000, p.rate)
    assert.equal(#p.samples, p.sample_count * p.channels * 2)
    if c.next_ts then assert.equal(c.next_ts, p.timestamp) end
    c.next_ts = (p.timestamp + p.sample_count) & 0xffffffff
    c.channels = p.channels
    c.chunks = c.chunks + 1
    c.total = c.total + p.sample_count
    if p.concealed then c.concealed = c.concealed + 1 end
    c.samples[#c.samples + 1] = p.samples
  end)
  return c
end

describe("PCM audio on tracks", function()
  it("440 Hz and 1000 Hz tones written as PCM come back as PCM at their frequencies", function()
    run_task(function()
      local t440, t1000 = rtc.media_track("audio"), rtc.media_track("audio")
      local a, b, remote = connect { t440, t1000 }
      local got = { collector(remote[1]), collector(remote[2]) }
      local frame_events = 0
      remote[1]:on("frame", function() frame_events = frame_events + 1 end)   -- frames still flow
      local ended = 0
      for _, spec in ipairs { { t440, 440 }, { t1000, 1000 } } do
        local src = assert(rtc.media.tone_source { frequency = spec[2], amplitude = 0.25, pcm = true,
                                                   duration = 1.2, speed = 4 })
        src:on("frame", function(f)
          assert.equal("pcm", f.codec)
          local r, err = spec[1]:write_pcm(f.samples)
          assert(r, err)
          assert.equal(1, r)                            -- one RTP packet per 20 ms frame
        end):on("ended", function() ended = ended + 1 end)
        src:start()
      end
      wait_for(function() return ended == 2 and got[1].total >= 57600 and got[2].total >= 57600 end, "1.2 s of PCM")
      for i, f in ipairs { 440, 1000 } do
        local c = got[i]
        assert.equal(1, c.channels)
        assert.equal(60, c.chunks)
        assert.equal(0, c.concealed)
        -- skip the codec's first 200 ms, analyse the next second
        local all = table.concat(c.samples)
        local pcm = all:sub(2 * 9600 + 1, 2 * 57600)
        local hz = zero_crossing_hz(pcm)
        assert.is_true(math.abs(hz - f) < 3, "tone " .. f .. " Hz came back at " .. hz .. " Hz")
        local p = goertzel(pcm, f)
        assert.is_true(p > 20 * goertzel(pcm, f * 1.1) and p > 20 * goertzel(pcm, f * 0.9),
                       "no clear peak at " .. f .. " Hz")
        assert.is_true(p > 1e6, "too quiet: " .. p)   -- amplitude ~8000: power ~ (8000/2)^2
      end
      assert.equal(60, frame_events)
      local enc = t440:pcm_stats().encoder
      assert.equal(60, enc.frames)
      assert.equal(60 * 960, enc.timestamp)
      assert.equal(60, remote[1]:pcm_stats().decoder.packets)
      a:close(); b:close()
      -- the decoder and encoder are released with the connection
      assert.is_nil(remote[1]:pcm_stats().decoder)
      assert.is_nil(t440:pcm_stats().encoder)
    end, 20000)
  end)

  local function silence_run(usedtx)
    local result
    run_task(function()
      local mic = rtc.media_track("audio")
      local a, b, remote = connect({ mic }, usedtx and function(p) return p .. ";usedtx=1" end or nil)
      local c = collector(remote[1])
      local src = assert(rtc.media.tone_source { frequency = 0, pcm = true, duration = 2, speed = 4 })
      local done = false
      src:on("frame", function(f) assert(mic:write_pcm(f.samples)) end):on("ended", function() done = true end)
      src:start()
      wait_for(function() return done end, "2 s of silence")
      rtc.sleep(0.2)
      local out
      for _, s in pairs(a:get_stats()) do if s.type == "outbound-rtp" then out = s end end
      result = { packets = out.packetsSent, enc = mic:pcm_stats().encoder, rx = c,
                 dec = remote[1]:pcm_stats().decoder }
      a:close(); b:close()
    end, 20000)
    return result
  end

  it("usedtx=1 from the peer's fmtp turns on DTX: silence sends far fewer packets", function()
    local off, on = silence_run(false), silence_run(true)
    assert.is_false(off.enc.dtx)
    assert.is_true(on.enc.dtx)
    assert.matches("usedtx=1", on.enc.fmtp)
    assert.equal(100, off.enc.frames)
    assert.equal(100, on.enc.frames)
    assert.equal(0, off.enc.dtx_frames)
    assert.is_true(on.enc.dtx_frames > 70, "dtx frames " .. on.enc.dtx_frames)
    assert.equal(100, off.packets)
    assert.is_true(on.packets < 30, "DTX still sent " .. on.packets .. " packets")
    assert.is_true(on.packets + on.enc.dtx_frames == 100)
    -- The receiver filled the untransmitted time by concealment: its PCM still tiles
    -- RTP time without holes (checked chunk by chunk in collector).
    assert.is_true(on.rx.concealed > 0)
    assert.is_true(on.dec.concealed_samples > 0)
    assert.equal(0, off.rx.concealed)
  end)

  it("useinbandfec, stereo and maxaveragebitrate from the peer's fmtp reach the encoder", function()
    run_task(function()
      -- Our offer carries useinbandfec=1 and the answer echoes it: FEC on.
      local m1, m2 = rtc.media_track("audio", { channels = 2 }), rtc.media_track("audio", { channels = 2 })
      local a, b = connect { m1 }
      local stereo = string.rep(string.pack("<i2<i2", 1000, -1000), 960)
      assert(m1:write_pcm(stereo))
      local e = m1:pcm_stats().encoder
      assert.is_true(e.fec)
      assert.is_true(e.packet_loss_perc > 0)
      assert.is_true(e.force_mono)                      -- no stereo=1: the peer prefers mono
      assert.equal(2, e.channels)
      a:close(); b:close()
      a, b = connect({ m2 }, function() return "minptime=10;useinbandfec=0;stereo=1;maxaveragebitrate=20000" end)
      assert(m2:write_pcm(stereo))
      e = m2:pcm_stats().encoder
      assert.is_false(e.fec)
      assert.is_false(e.force_mono)
      assert.equal(20000, e.bitrate)
      -- codec stats show both sides' view
      local codec
      for _, s in pairs(a:get_stats()) do if s.type == "codec" then codec = s end end
      assert.equal("audio/opus", codec.mimeType)
      a:close(); b:close()
      -- the track's own options win over the fmtp
      local m3 = rtc.media_track("audio", { dtx = true, fec = false, bitrate = 16000 })
      a, b = connect { m3 }
      assert(m3:write_pcm(string.rep("\0", 1920)))
      e = m3:pcm_stats().encoder
      assert.is_true(e.dtx); assert.is_false(e.fec); assert.equal(16000, e.bitrate)
      a:close(); b:close()
    end, 20000)
  end)

  it("stereo PCM is received as stereo when the peer asks for it", function()
    run_task(function()
      local m = rtc.media_track("audio", { channels = 2 })
      local a, b, remote = connect({ m }, function(p) return p .. ";stereo=1" end)
      local c = collector(remote[1])
      -- left 440 Hz, right 1000 Hz
      local l = rtc.media.pcm_tone(440, 0.25, 0, 48000, 1)
      local r = rtc.media.pcm_tone(1000, 0.25, 0, 48000, 1)
      local parts = {}
      for i = 1, 48000 do parts[i] = l:sub(2 * i - 1, 2 * i) .. r:sub(2 * i - 1, 2 * i) end
      local pcm = table.concat(parts)
      for k = 0, 49 do assert(m:write_pcm(pcm:sub(k * 3840 + 1, (k + 1) * 3840))) end
      wait_for(function() return c.total >= 48000 end, "1 s of stereo PCM")
      assert.equal(2, c.channels)
      local all = table.concat(c.samples)
      local left, right = {}, {}
      for i = 9600, 47999 do
        left[#left + 1] = all:sub(4 * i + 1, 4 * i + 2)
        right[#right + 1] = all:sub(4 * i + 3, 4 * i + 4)
      end
      assert.is_true(math.abs(zero_crossing_hz(table.concat(left)) - 440) < 3)
      assert.is_true(math.abs(zero_crossing_hz(table.concat(right)) - 1000) < 3)
      a:close(); b:close()
    end, 20000)
  end)

  -- RED (RFC 2198): offered by default but sent only when asked for (b answers Opus
  -- first, as Chromium does); inbound-rtp counts RED packets and holes filled from them.
  for _, red in ipairs { "auto", "on", "off" } do
    it("red = " .. red .. ": RED offered, sent and counted accordingly", function()
      run_task(function()
        local mic = rtc.media_track("audio")
        local a, b, remote = connect({ mic }, nil, red)
        assert.equal(red ~= "off", a.local_description.sdp:find("a=rtpmap:63 red/48000/2", 1, true) ~= nil)
        local c = collector(remote[1])
        local src = assert(rtc.media.tone_source { frequency = 440, pcm = true, duration = 0.4, speed = 4 })
        local done = false
        src:on("frame", function(f) assert(mic:write_pcm(f.samples)) end):on("ended", function() done = true end)
        src:start()
        wait_for(function() return done and c.chunks >= 20 end, "20 frames")
        local inb
        for _, s in pairs(b:get_stats()) do if s.type == "inbound-rtp" then inb = s end end
        assert.is_true(inb.packetsReceived >= 20)
        assert.equal(red == "on" and inb.packetsReceived or 0, inb.redPacketsReceived)
        assert.equal(0, inb.redRecovered)                 -- loopback loses nothing
        assert.equal(0, c.concealed)
        a:close(); b:close()
      end, 20000)
    end)
  end

  it("add_transceiver checks the red option", function()
    local a = assert(rtc.peer_connection(LOCAL))
    assert.has_error(function() a:add_transceiver("audio", { red = "yes" }) end,
                     "bad argument #2 to 'add_transceiver' (red must be \"auto\", \"on\" or \"off\")")
    assert.has_error(function() a:add_transceiver("video", { red = "on" }) end,
                     "bad argument #2 to 'add_transceiver' (red is for audio)")
    a:close()
  end)

  it("write_pcm checks its input and state", function()
    run_task(function()
      local mic = rtc.media_track("audio")
      assert.has_error(function() mic:write_pcm(42) end,
                       "bad argument #1 to 'write_pcm' (string of interleaved s16 samples expected, got number)")
      assert.has_error(function() mic:write_pcm("abc") end,
                       "bad argument #1 to 'write_pcm' (3 bytes is not a whole number of 1-channel s16 samples)")
      local st = rtc.media_track("audio", { channels = 2 })
      assert.has_error(function() st:write_pcm("ab") end)   -- 1 sample of 2 channels needs 4 bytes
      assert.has_error(function() rtc.media_track("video"):write_pcm("") end, "write_pcm: only audio tracks take PCM")
      local ok, err, name = mic:write_pcm("\0\0")           -- not on a transceiver yet
      assert.is_nil(ok)
      assert.equal("InvalidStateError", name)
      assert.matches("not sending", err)
      local a = assert(rtc.peer_connection(LOCAL))
      a:add_transceiver(mic, { direction = "sendonly" })
      ok, err = mic:write_pcm("\0\0")
      assert.is_nil(ok)
      assert.matches("not negotiated", err)
      a:close()
      local a2, b2, remote = connect { rtc.media_track("audio") }
      assert.has_error(function() remote[1]:write_pcm("\0\0") end, "write_pcm: a remote track cannot be written to")
      assert.has_error(function() remote[1]:on("pcm", 5) end)
      a2:close(); b2:close()
    end, 20000)
  end)

  it("a stream decoder conceals lost packets (PLC, and FEC for the last one) by RTP time", function()
    local enc = rtc.media.opus_encoder { fec = true, voice = true, bitrate = 32000 }
    local pkts = {}
    for k = 0, 49 do pkts[k] = enc:encode(rtc.media.pcm_tone(440, 0.25, k * 960, 960, 1)) end
    local st = rtc.media.opus_stream(1)
    local kinds, next_ts, total = {}, nil, 0
    for k = 0, 49 do
      if k ~= 10 and k ~= 30 and k ~= 31 then
        for _, c in ipairs(assert(st:decode(pkts[k], 1000 + k * 960))) do
          if next_ts then assert.equal(next_ts, c.timestamp) end
          next_ts = c.timestamp + c.sample_count
          total = total + c.sample_count
          local kind = c.concealed or "decoded"
          kinds[kind] = (kinds[kind] or 0) + 1
        end
      end
    end
    assert.equal(50 * 960, total)
    assert.same({ decoded = 47, fec = 2, plc = 1 }, kinds)
    local late, err, name = st:decode(pkts[5], 1000 + 5 * 960)
    assert.is_nil(late); assert.matches("late", err); assert.equal("OperationError", name)
    local bad, err2 = st:decode("\255\255\255", next_ts)
    assert.is_nil(bad); assert.matches("SyntaxError", err2)
    local s = st:stats()
    assert.equal(47, s.packets); assert.equal(1920, s.fec_samples); assert.equal(960, s.concealed_samples)
    assert.equal(1, s.late); assert.equal(1, s.corrupt)
    st:close(); st:close()
    assert.has_error(function() st:decode(pkts[0], 0) end, "attempt to use a closed opus stream")
    assert.has_error(function() rtc.media.opus_stream(3) end)
    -- enc:push cuts any PCM length into 20 ms frames and keeps the rest
    local e2 = rtc.media.opus_encoder {}
    local frames, n = e2:push(string.rep("\0", 2 * 1500))
    assert.equal(1, n); assert.is_string(frames[1])
    assert.equal(540, e2:info().pending_samples)
    frames, n = e2:push(string.rep("\0", 2 * 420))
    assert.equal(1, n)
    assert.equal(0, e2:info().pending_samples)
    assert.has_error(function() e2:push("x") end)
  end)
end)

-- examples/pcm_bot.lua as its own luartc process next to examples/signaling_server.lua.
describe("examples/pcm_bot.lua", function()
  local bots, child = require "support.bots", require "support.child"
  local wait_log = bots.wait_log
  local dir
  before_each(function() dir = child.tmpdir() end)
  after_each(function()
    bots.kill_all()
    child.rmdir(dir)
  end)

  it("hears a member's 440 Hz PCM and speaks a 660 Hz tone back as PCM", function()
    run_task(function()
      local url, bot = bots.start(dir, "pcm_bot.lua", { "--frequency", "660" })
      local me = assert(signaling.connect(url, { room = "r", info = { name = "tester" } }))
      local pc = assert(rtc.peer_connection(LOCAL))
      local mic = rtc.media_track("audio")
      pc:add_track(mic)
      local offer = assert(me:wait("offer", 10))
      local bot_id = offer.from
      bots.send_candidates(pc, me, bot_id)
      local heard
      pc:on("track", function(track) heard = collector(track) end)
      assert(pc:set_remote_description { type = "offer", sdp = offer.sdp })
      local answer = assert(pc:create_answer())
      assert(pc:set_local_description(answer))
      me:send { type = "answer", to = bot_id, sdp = answer.sdp }
      bots.take_candidates_until(pc, me, function() return pc.connection_state == "connected" end)
      assert.equal("connected", pc.connection_state)
      local src = assert(rtc.media.tone_source { frequency = 440, pcm = true, duration = 3 })
      src:on("frame", function(f) mic:write_pcm(f.samples) end)
      src:start()
      local level, hz = wait_log(bot, "heard " .. me.id:gsub("%p", "%%%0") .. ": level (%-?%d+) dBFS, pitch (%d+) Hz",
                                 "the bot hearing the tone")
      assert.is_true(math.abs(tonumber(hz) - 440) <= 3, "the bot heard " .. hz .. " Hz")
      assert.is_true(tonumber(level) > -30 and tonumber(level) < -3, "level " .. level)
      wait_for(function() return heard and heard.total >= 48000 end, "1 s of the bot's voice")
      local pcm = table.concat(heard.samples):sub(2 * 9600 + 1, 2 * 48000)
      local bot_hz = zero_crossing_hz(pcm)
      assert.is_true(math.abs(bot_hz - 660) < 3, "the bot spoke at " .. bot_hz .. " Hz")
      src:stop()
      pc:close()
      me:close()
    end, 30000)
  end)
end)
