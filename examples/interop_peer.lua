-- An interop peer any WebRTC stack can be paired with (docs/interop.md).
--   luartc examples/interop_peer.lua --role offer|answer --test NAME [options]
-- stdout carries signaling only, one JSON object a line (offer, answer, candidate,
-- bye); stdin takes the other peer's lines. stderr has READY (signaling can start),
-- MARK (the measured phase begins), one `RESULT {json}` and log lines. When its side is
-- done a peer prints RESULT, sends bye and waits at most 5 s for the other side's bye
-- (or stdin EOF) before closing its connection: the other side may still be finishing.
local rtc = require "rtc"
local json = rtc.json

local BYE_WAIT_MS = 5000
local HERE = (arg and arg[0] or ""):match("^(.*)/") or "."
-- The VP8 clip the video offerer loops when no --file is given (320x240, 2 s).
local DEFAULT_CLIP = HERE .. "/media/testsrc.ivf"

local log = function(...) io.stderr:write(string.format(...), "\n") end
local function send_signal(msg) rtc.stdout:write(json.encode(msg) .. "\n") end

local function usage(msg)
  log("interop_peer: %s", msg)
  log("usage: interop_peer.lua --role offer|answer --test dc-echo|dc-throughput|dc-suite|audio|video|av|pcm "
      .. "[--trickle] [--duration S] [--file IVF|OGG] [--audio-file OGG] [--record FILE] [--frequency HZ] "
      .. "[--pcm-out FILE] [--stereo] [--bytes N] [--stun URL] [--turn URL --turn-user U --turn-pass P] "
      .. "[--relay-only] [--ice-tcp] [--timeout S]")
  io.stderr:write("RESULT ", json.encode({ ok = false, error = msg }), "\n")
  io.stderr:flush()
  send_signal({ type = "bye" })
  os.exit(2)
end

-- Options. Unknown ones are accepted and ignored (other stacks' pairing scripts pass
-- options for tests we do not need them for), with the value after them if any.
local negotiate   -- defined below, used by the dc-suite test
local opts = { role = "offer", test = "dc-echo", trickle = false, relay_only = false, timeout = 60,
               bytes = 64 * 1024 * 1024, duration = 5 }
do
  local flags = { ["--trickle"] = "trickle", ["--relay-only"] = "relay_only", ["--stereo"] = "stereo",
                  ["--ice-tcp"] = "ice_tcp" }
  local strings = { ["--role"] = "role", ["--test"] = "test", ["--stun"] = "stun", ["--turn"] = "turn",
                    ["--turn-user"] = "turn_user", ["--turn-pass"] = "turn_pass", ["--record"] = "record",
                    ["--file"] = "file", ["--audio-file"] = "audio_file", ["--pcm-out"] = "pcm_out" }
  local numbers = { ["--bytes"] = "bytes", ["--duration"] = "duration", ["--frequency"] = "frequency",
                    ["--timeout"] = "timeout" }
  local i = 1
  while arg[i] do
    local a = arg[i]
    if flags[a] then
      opts[flags[a]] = true
    elseif strings[a] or numbers[a] then
      local v = arg[i + 1]
      if v == nil then usage("missing value for " .. a) end
      i = i + 1
      if numbers[a] then
        opts[numbers[a]] = tonumber(v) or usage(a .. " needs a number, got " .. v)
      else
        opts[strings[a]] = v
      end
    else
      local v = arg[i + 1]
      if a:sub(1, 2) == "--" and v ~= nil and v:sub(1, 2) ~= "--" then i = i + 1 end
      log("ignoring option %s", a)
    end
    i = i + 1
  end
  if opts.role ~= "offer" and opts.role ~= "answer" then usage("--role must be offer or answer") end
  if opts.bytes <= 0 or opts.duration <= 0 or opts.timeout <= 0 then
    usage("--bytes, --duration and --timeout must be positive")
  end
end

local ice_servers = {}
if opts.stun then ice_servers[#ice_servers + 1] = { urls = opts.stun } end
if opts.turn then
  ice_servers[#ice_servers + 1] = { urls = opts.turn, username = opts.turn_user, credential = opts.turn_pass }
end
local pc = rtc.peer_connection {
  ice_servers = ice_servers,
  ice_transport_policy = opts.relay_only and "relay" or "all",
  ice_tcp = opts.ice_tcp,
}

-- {====== lifecycle ======
local result = { ok = false }
local reported = false          -- RESULT printed and bye sent
local peer_gone = false         -- the other side's bye (or stdin EOF) has arrived
local exiting = false
local on_peer_bye = {}          -- what ends when the other side says bye (media senders)
local offer_started             -- rtc.now() when create_offer began (offerer)

local function selected_pair()
  local ok, stats = pcall(pc.get_stats, pc)
  if not ok or not stats then return nil end
  local by_id, pair = {}, nil
  for _, s in pairs(stats) do by_id[s.id] = s end
  for _, s in pairs(stats) do
    if s.type == "transport" and s.selectedCandidatePairId then pair = by_id[s.selectedCandidatePairId] end
  end
  if not pair then return nil end
  local l, r = by_id[pair.localCandidateId], by_id[pair.remoteCandidateId]
  return (l and l.candidateType or "?") .. "/" .. (r and r.candidateType or "?"), l and l.protocol
end

local function exit_now()
  if exiting then return end
  exiting = true
  pc:close()
  io.stderr:flush()
  os.exit(result.ok and 0 or 1)
end

-- This side is finished: RESULT once, bye, then wait for the other side.
local function report(extra)
  if reported then return end
  reported = true
  for k, v in pairs(extra) do result[k] = v end
  if result.ok ~= true then
    result.ok = false
    result.error = result.error or "failed"
  end
  if not result.selected_pair then result.selected_pair, result.selected_protocol = selected_pair() end
  io.stderr:write("RESULT ", json.encode(result), "\n")
  io.stderr:flush()
  send_signal({ type = "bye" })
  if peer_gone then exit_now() else rtc.set_timeout(BYE_WAIT_MS, exit_now) end
end

local function fail(err) report({ ok = false, error = tostring(err) }) end

-- The other side said bye, or its stdout (our stdin) ended.
local function peer_finished(why)
  if peer_gone then return end
  peer_gone = true
  log("the other side finished (%s)", why)
  if reported then exit_now() return end
  for _, fn in ipairs(on_peer_bye) do fn() end
  if reported then return end
  -- Its last data-channel message may still be on the way: give our side a moment.
  rtc.set_timeout(BYE_WAIT_MS, function()
    fail("the other side finished (" .. why .. ") before this side did")
  end)
end

local marked = false
local function mark()
  if marked then return end
  marked = true
  io.stderr:write("MARK\n")
end

-- The offerer's setup time: start of create_offer to channel open or connected.
local function setup_done()
  if opts.role == "offer" and offer_started and not result.setup_ms then
    result.setup_ms = math.floor(rtc.now() - offer_started + 0.5)
  end
end
-- }======

pc:on("connectionstatechange", function(state)
  log("connection state %s", state)
  if state == "failed" then fail("connection failed") end
end)

if opts.trickle then
  pc:on("icecandidate", function(c)
    -- End of candidates is not sent: the contract's candidate lines carry a candidate.
    if c and c.candidate and c.candidate ~= "" then
      local mid = c.sdpMid
      if mid == nil then mid = c.sdp_mid end
      local idx = c.sdpMLineIndex
      if idx == nil then idx = c.sdp_mline_index end
      send_signal({ type = "candidate", candidate = c.candidate, sdpMid = mid or json.null,
                    sdpMLineIndex = idx or json.null })
    end
  end)
end

local function send_description()
  if not opts.trickle then pc:wait_gathering_complete() end
  local d = pc.local_description
  send_signal({ type = d.type, sdp = d.sdp })
end

-- Renegotiation started by this side (ICE restart): offer, wait until the answer is applied.
local answer_waiter
function negotiate(restart)
  if restart then pc:restart_ice() end
  local offer = assert(pc:create_offer({ ice_restart = restart }))
  assert(pc:set_local_description(offer))
  answer_waiter = coroutine.running()
  send_description()
  if answer_waiter then coroutine.yield() end
end

-- {====== tests ======
if opts.test == "dc-echo" then
  if opts.role == "offer" then
    local dc = pc:create_data_channel("chat")
    local sent_at
    dc:on("open", function()
      setup_done()
      mark()
      sent_at = rtc.now()
      dc:send("hello")
    end)
    dc:on("message", function(data)
      if data == "hello" then report({ ok = true, echo_rtt_ms = rtc.now() - sent_at })
      else fail("unexpected echo: " .. tostring(data)) end
    end)
  else
    pc:on("datachannel", function(dc)
      mark()
      dc:on("message", function(data, binary)
        dc:send(data, binary)
        report({ ok = true })
      end)
    end)
  end
elseif opts.test == "dc-throughput" then
  -- N bytes in 16 KiB binary messages, at most 1 MiB buffered, resumed at 256 KiB;
  -- the answerer times first message to last byte and answers `done:N`.
  local total, chunk = math.floor(opts.bytes), 16 * 1024
  if opts.role == "offer" then
    local dc = pc:create_data_channel("bulk")
    dc.buffered_amount_low_threshold = 256 * 1024
    local sent = 0
    local block = string.rep("\0", chunk)
    local function pump()
      while sent < total and dc.buffered_amount + chunk <= 1024 * 1024 do
        local n = math.min(chunk, total - sent)
        local ok, err = dc:send(n == chunk and block or block:sub(1, n), true)
        if not ok then fail("send: " .. tostring(err)) return end
        sent = sent + n
      end
    end
    dc:on("bufferedamountlow", pump)
    dc:on("open", function() setup_done(); mark(); pump() end)
    dc:on("message", function(data, binary)
      local n = not binary and tonumber(tostring(data):match("^done:(%d+)$"))
      if not n then fail("unexpected message from the answerer: " .. tostring(data):sub(1, 80)) return end
      report({ ok = n == total, bytes_sent = sent, peer_bytes_received = n,
               error = n ~= total and ("the answerer received " .. n .. " of " .. total .. " bytes") or nil })
    end)
  else
    pc:on("datachannel", function(dc)
      mark()
      local got, start = 0, nil
      local function finished()
        local secs = math.max(rtc.now() - start, 1) / 1000
        dc:send("done:" .. got)
        report({ ok = got == total, bytes_received = got, mb_per_s = got / 1e6 / secs,
                 mbps = got * 8 / 1e6 / secs,
                 error = got ~= total and ("received " .. got .. " of " .. total .. " bytes") or nil })
      end
      dc:on("message", function(data)
        if reported then return end
        start = start or rtc.now()
        got = got + #data
        if got >= total then finished() end
      end)
    end)
  end
elseif opts.test == "dc-suite" then
  -- Channel kinds, message kinds, closing from each side, ICE restart from each side,
  -- stats agreement. Mirrors spec/browser/peer_page.js's dc-suite.
  local function wait_for(pred, what, ms)
    local deadline = rtc.now() + (ms or 10000)
    while not pred() do
      if rtc.now() > deadline then error("timed out waiting for " .. what, 0) end
      rtc.sleep(0.005)
    end
  end
  local function channel_stats(label)
    for _, st in pairs(pc:get_stats()) do
      if st.type == "data-channel" and st.label == label then
        return { bytesSent = st.bytesSent, bytesReceived = st.bytesReceived,
                 messagesSent = st.messagesSent, messagesReceived = st.messagesReceived }
      end
    end
  end
  local ch, got, closed = {}, {}, {}
  local function watch(dc)
    ch[dc.label], got[dc.label], closed[dc.label] = dc, {}, false
    dc:on("close", function() closed[dc.label] = true end)
  end
  local function run(fn)
    rtc.spawn(function()
      local ok, err = pcall(fn)
      if not ok then fail(err) end
    end)
  end
  if opts.role == "offer" then
    local labels = { "reliable", "unordered", "rexmit", "lifetime", "closer", "offerer-closes" }
    local inits = { unordered = { ordered = false }, rexmit = { ordered = false, max_retransmits = 0 },
                    lifetime = { max_packet_life_time = 2000 } }
    for _, l in ipairs(labels) do
      local dc = assert(pc:create_data_channel(l, inits[l]))
      watch(dc)
      dc:on("message", function(data, binary) table.insert(got[l], { data = data, binary = binary }) end)
    end
    run(function()
      wait_for(function()
        for _, l in ipairs(labels) do if ch[l].ready_state ~= "open" then return false end end
        return true
      end, "channels open", 30000)
      setup_done()
      mark()
      local r = ch.reliable
      local bytes = {}
      for i = 0, 256 * 1024 - 1 do bytes[#bytes + 1] = string.char(i & 255) end
      local big = table.concat(bytes)
      local sent = { { "text", false }, { "\1\2\3", true }, { "", false }, { "", true }, { big, true } }
      for _, m in ipairs(sent) do assert(r:send(m[1], m[2])) end
      wait_for(function() return #got.reliable == #sent end, "reliable echoes")
      for i, m in ipairs(sent) do
        local g = got.reliable[i]
        if g.data ~= m[1] or g.binary ~= m[2] then error("echo " .. i .. " differs", 0) end
      end
      got.reliable = {}
      local partial = { "unordered", "rexmit", "lifetime" }
      for _, l in ipairs(partial) do for i = 0, 19 do assert(ch[l]:send(l .. i)) end end
      wait_for(function()
        for _, l in ipairs(partial) do if #got[l] < 20 then return false end end
        return true
      end, "partial echoes")
      for _, l in ipairs(partial) do
        local want = {}
        for i = 0, 19 do want[l .. i] = true end
        for _, g in ipairs(got[l]) do
          if not want[g.data] then error(l .. " echoes differ", 0) end
          want[g.data] = nil
        end
        if next(want) then error(l .. " echoes missing", 0) end
      end
      ch["offerer-closes"]:close()
      wait_for(function() return closed["offerer-closes"] end, "offerer-closes closed")
      r:send("ctl:close-closer")
      wait_for(function() return closed.closer end, "closer closed by the answerer")
      local function has(msg)
        return function()
          for _, g in ipairs(got.reliable) do if g.data == msg then return true end end
          return false
        end
      end
      negotiate(true)
      wait_for(function() return pc.connection_state == "connected" end, "connected after restart")
      r:send("ping-1")
      wait_for(has("ping-1"), "echo after our restart")
      r:send("ctl:restart")
      wait_for(has("restarted"), "answerer restart")
      r:send("ping-2")
      wait_for(has("ping-2"), "echo after their restart")
      r:send("ctl:done")
      local theirs
      wait_for(function()
        for _, g in ipairs(got.reliable) do
          if g.data:sub(1, 6) == "stats:" then theirs = json.decode(g.data:sub(7)); return true end
        end
        return false
      end, "peer stats")
      report({ ok = true, mine = channel_stats("reliable"), theirs = theirs, restarts = 2 })
    end)
  else
    local restarted = false
    pc:on("datachannel", function(dc)
      watch(dc)
      mark()
      dc:on("message", function(data, binary)
        if dc.label == "reliable" and not binary and data:sub(1, 4) == "ctl:" then
          local c = data:sub(5)
          if c == "close-closer" then
            ch.closer:close()
          elseif c == "restart" then
            run(function()
              negotiate(true)
              wait_for(function() return pc.connection_state == "connected" end, "connected after restart")
              dc:send("restarted")
              restarted = true
            end)
          elseif c == "done" then
            run(function()
              rtc.sleep(0.1)
              dc:send("stats:" .. json.encode(channel_stats("reliable")))
              wait_for(function() return closed["offerer-closes"] and closed.closer end, "closes seen")
              report({ ok = restarted, mine = channel_stats("reliable") })
            end)
          end
          return
        end
        dc:send(data, binary)
      end)
    end)
  end
elseif opts.test == "audio" or opts.test == "video" or opts.test == "av" then
  -- The offerer sends an Opus tone or an Ogg/Opus file (audio) and an IVF file (video,
  -- the shipped clip by default), looped, until the answerer's bye. The answerer counts
  -- what arrives for --duration s from its first frame, decodes audio to measure its
  -- energy, and with --record records what arrives through rtc.recorder (the kinds the
  -- file holds: Ogg audio, IVF video, WebM both, on one timeline by RTCP sender
  -- reports). `av` does both on one connection and reports each kind in its own object
  -- (`audio`, `video`); the others report flat.
  local kinds = opts.test == "av" and { "audio", "video" } or { opts.test }
  local function combine(per)
    local extra = { ok = true }
    for _, k in ipairs(kinds) do
      local p = per[k]
      extra.ok = extra.ok and p.ok
      if not p.ok then extra.error = (extra.error and extra.error .. "; " or "") .. (p.error or k .. " failed") end
      p.error = nil
      if #kinds == 1 then for f, v in pairs(p) do if f ~= "ok" then extra[f] = v end end
      else p.ok = nil; extra[k] = p end
    end
    return extra
  end
  if opts.role == "offer" then
    local video_file = opts.file or DEFAULT_CLIP
    local audio_file = opts.test == "av" and opts.audio_file or opts.test == "audio" and opts.file or nil
    local sources = {}
    for _, kind in ipairs(kinds) do
      local track = rtc.media_track(kind, kind == "video" and { codec = "VP8" } or nil)
      pc:add_transceiver(track, { direction = "sendonly" })
      local file = kind == "video" and video_file or audio_file
      local src, err
      if file then src, err = rtc.media.file_source(file, { loop = true, kind = kind })
      else src, err = rtc.media.tone_source { frequency = 440, channels = 1 } end
      if not src then usage(tostring(err)) end
      local sent = 0
      src:on("frame", function(f) track:write_frame(f); sent = sent + 1 end)
      src:on("error", function(e) fail(e) end)
      sources[kind] = { src = src, sent = function() return sent end }
    end
    local started = false
    pc:on("connectionstatechange", function(state)
      if state ~= "connected" or started then return end
      started = true
      setup_done()
      mark()
      for _, s in pairs(sources) do s.src:start() end
    end)
    -- A sender has no end of its own: the receiver's bye ends it.
    on_peer_bye[#on_peer_bye + 1] = function()
      local per = {}
      for _, kind in ipairs(kinds) do
        local s = sources[kind]
        s.src:stop()
        per[kind] = { ok = s.sent() > 0, frames_sent = s.sent(),
                      error = s.sent() == 0 and "no " .. kind .. " frame sent" or nil }
      end
      report(combine(per))
    end
  else
    local rec
    if opts.record then
      local ok, r = pcall(rtc.recorder, opts.record, { pc = pc, channels = 1 })
      if not ok then usage("--record: " .. tostring(r)) end
      rec = r
      rec:on("error", function(err) log("record: %s", err) end)
    end
    local per, pending_kinds = {}, #kinds
    local function kind_done(kind, r)
      per[kind] = r
      pending_kinds = pending_kinds - 1
      if pending_kinds > 0 then return end
      local extra = combine(per)
      if rec then
        local ok, err = rec:close()
        local st = rec:stats()
        extra.recorded = { audio_frames = st.audio_frames, video_frames = st.video_frames, dropped = st.dropped,
                           duration_ms = st.duration_ms, synced = st.synced }
        if not ok then
          extra.ok = false
          extra.error = (extra.error and extra.error .. "; " or "") .. "record: " .. tostring(err)
        end
      end
      report(extra)
    end
    -- Width and height from a VP8 keyframe header (RFC 6386 9.1), 14 bits each.
    local function vp8_size(data)
      if #data < 10 or data:byte(1) & 1 ~= 0 or data:sub(4, 6) ~= "\x9d\x01\x2a" then return nil end
      local w, h = string.unpack("<I2I2", data, 7)
      return w & 0x3fff, h & 0x3fff
    end
    local wanted = {}
    for _, k in ipairs(kinds) do wanted[k] = true end
    pc:on("track", function(track)
      local kind = track.kind
      if not wanted[kind] then return end
      wanted[kind] = nil
      local frames, keyframes, sum_sq, samples = 0, 0, 0.0, 0
      local codec, width, height, over
      local dec = kind == "audio" and rtc.media.opus_decoder(48000, 1) or nil
      track:on("frame", function(f)
        if over then return end
        frames = frames + 1
        codec = codec or (f.codec and kind .. "/" .. f.codec)
        if f.keyframe then keyframes = keyframes + 1 end
        if kind == "video" and f.keyframe then
          local w, h = vp8_size(f.data)
          if w then width, height = w, h end
        end
        if frames == 1 then
          mark()
          rtc.set_timeout(opts.duration * 1000, function()
            over = true
            local extra = { ok = frames > 0, frames_received = frames, codec = codec, duration_s = opts.duration }
            for _, st in pairs(pc:get_stats()) do
              if st.type == "inbound-rtp" and st.kind == kind then
                extra.packets_received, extra.packets_lost = st.packetsReceived, st.packetsLost
              end
            end
            if dec then
              extra.audio_energy = samples > 0 and math.sqrt(sum_sq / samples) / 32768 or 0
              -- Silence after Opus is not exactly zero; a tone is far above this.
              extra.decoded = extra.audio_energy > 0.001
              extra.ok = extra.ok and extra.decoded
              if not extra.decoded then extra.error = "decoded audio is silent" end
            else
              extra.keyframes, extra.width, extra.height = keyframes, width, height
            end
            kind_done(kind, extra)
          end)
        end
        if dec then
          local pcm = dec:decode(f.data)
          if pcm then
            for i = 1, #pcm - 1, 2 do
              local v = string.unpack("<i2", pcm, i)
              sum_sq = sum_sq + v * v
            end
            samples = samples + #pcm // 2
          end
        end
      end)
    end)
  end
elseif opts.test == "pcm" then
  -- Both sides send and receive one audio track (sendrecv). We speak a PCM tone of
  -- --frequency Hz (440) through track:write_pcm, so the encoder runs with the peer's
  -- fmtp; we listen with track:on("pcm") for the duration after the first chunk and
  -- with --pcm-out write what we heard (s16le, 48 kHz, mono: the first channel). The
  -- report has the PCM counts and level, the encoder's settings and both sides' Opus
  -- fmtp as negotiated. --stereo asks the peer for stereo (stereo=1 in our fmtp). We
  -- keep speaking after our report until the other side's bye: it measures from its
  -- own first packet.
  local mic = rtc.media_track("audio")
  -- add_track: as answerer, the offer's audio section takes it (JSEP 5.10)
  pc:add_track(mic, { stereo = opts.stereo })
  local src = assert(rtc.media.tone_source { frequency = opts.frequency or 440, amplitude = 0.25, pcm = true })
  local sent, write_err = 0, nil
  src:on("frame", function(f)
    local n, err = mic:write_pcm(f.samples)
    if n then sent = sent + 1 elseif not write_err then write_err = err end
  end)
  local heard, started
  local function opus_fmtp(desc)
    if not desc then return nil end
    local pt = desc.sdp:match("a=rtpmap:(%d+) opus/48000")
    return pt and desc.sdp:match("a=fmtp:" .. pt .. " ([^\r\n]*)") or nil
  end
  local function pcm_report()
    local enc = mic:pcm_stats().encoder or {}
    local extra = { ok = heard.samples > 0 and sent > 0 and heard.sum_sq > 0, frames_sent = sent,
                    pcm_chunks = heard.chunks, pcm_samples = heard.samples, concealed_chunks = heard.concealed,
                    channels = heard.channels, audio_energy = heard.samples > 0 and math.sqrt(heard.sum_sq / heard.samples) / 32768 or 0,
                    encoder = { fec = enc.fec, dtx = enc.dtx, bitrate = enc.bitrate, force_mono = enc.force_mono,
                                packet_loss_perc = enc.packet_loss_perc, fmtp = enc.fmtp, frames = enc.frames },
                    local_opus_fmtp = opus_fmtp(pc.local_description), remote_opus_fmtp = opus_fmtp(pc.remote_description),
                    error = write_err and ("write_pcm: " .. tostring(write_err)) or nil }
    if opts.pcm_out then
      local f, err = io.open(opts.pcm_out, "wb")
      if f then f:write(table.concat(heard.pcm)); f:close()
      else extra.ok, extra.error = false, "--pcm-out: " .. tostring(err) end
    end
    report(extra)
  end
  pc:on("track", function(track)
    if track.kind ~= "audio" or heard then return end
    heard = { chunks = 0, samples = 0, concealed = 0, sum_sq = 0.0, pcm = {} }
    track:on("pcm", function(p)
      if heard.over then return end
      heard.chunks = heard.chunks + 1
      if heard.chunks == 1 then
        mark()
        rtc.set_timeout(opts.duration * 1000, function() heard.over = true; pcm_report() end)
      end
      heard.channels = p.channels
      if p.concealed then heard.concealed = heard.concealed + 1 end
      local mono = p.samples
      if p.channels == 2 then
        local left = {}
        for i = 0, p.sample_count - 1 do left[#left + 1] = p.samples:sub(4 * i + 1, 4 * i + 2) end
        mono = table.concat(left)
      end
      for i = 1, #mono - 1, 2 do
        local v = string.unpack("<i2", mono, i)
        heard.sum_sq = heard.sum_sq + v * v
      end
      heard.samples = heard.samples + p.sample_count
      if opts.pcm_out then heard.pcm[#heard.pcm + 1] = mono end
    end)
  end)
  pc:on("connectionstatechange", function(state)
    if state ~= "connected" or started then return end
    started = true
    setup_done()
    src:start()
  end)
else
  usage("unknown test " .. opts.test)
end
-- }======

rtc.set_timeout(opts.timeout * 1000, function() fail("timeout after " .. opts.timeout .. " s") end)

-- Signaling from the other side, one JSON object a line; unknown types are ignored.
local function apply(msg, pending)
  if msg.type == "offer" or msg.type == "answer" then
    if type(msg.sdp) ~= "string" then log("%s without sdp ignored", msg.type) return end
    local ok, e = pc:set_remote_description({ type = msg.type, sdp = msg.sdp })
    if not ok then fail(e) return end
    for _, c in ipairs(pending) do
      local ok2, e2 = pc:add_ice_candidate(c)
      if not ok2 then log("add_ice_candidate: %s", e2) end
    end
    for i = #pending, 1, -1 do pending[i] = nil end
    if msg.type == "answer" and answer_waiter then
      local co = answer_waiter
      answer_waiter = nil
      local ok2, e3 = coroutine.resume(co)
      if not ok2 then fail(e3) end
    end
    if msg.type == "offer" then
      local answer, e2 = pc:create_answer()
      if not answer then fail(e2) return end
      assert(pc:set_local_description(answer))
      send_description()
    end
  elseif msg.type == "candidate" then
    if type(msg.candidate) ~= "string" then log("candidate without a candidate string ignored") return end
    local mid = msg.sdpMid
    if mid == json.null then mid = nil end
    local idx = msg.sdpMLineIndex
    if idx == json.null then idx = nil end
    if mid == nil and idx == nil then idx = 0 end
    local c = { candidate = msg.candidate, sdp_mid = mid, sdp_mline_index = idx }
    if pc.remote_description then
      local ok, e = pc:add_ice_candidate(c)
      if not ok then log("add_ice_candidate: %s", e) end
    else
      pending[#pending + 1] = c
    end
  elseif msg.type == "bye" then
    peer_finished("bye")
  else
    log("signaling message of type %s ignored", tostring(msg.type))
  end
end

rtc.spawn(function()
  local pending = {}
  while true do
    local line = rtc.stdin:read_line()
    if not line then break end
    if line:match("%S") then
      local msg, err = json.decode(line)
      if type(msg) ~= "table" then
        log("bad signaling line ignored: %s", tostring(err or line))
      else
        local ok, e = pcall(apply, msg, pending)
        if not ok then fail(e) end
      end
    end
  end
  peer_finished("stdin EOF")
end)

-- The peer connection exists and stdin is read: the other side may start.
io.stderr:write("READY\n")
io.stderr:flush()

if opts.role == "offer" then
  offer_started = rtc.now()
  local offer = assert(pc:create_offer())
  assert(pc:set_local_description(offer))
  send_description()
end
