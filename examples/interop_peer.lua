-- An interop peer any WebRTC stack can be paired with (docs/interop.md).
--   luartc examples/interop_peer.lua --role offer|answer --test NAME [options]
-- Signaling is one JSON object a line on stdout/stdin; logs go to stderr; the run ends
-- with one stderr line `RESULT {json}` and exit status 0 when ok.
local rtc = require "rtc"
local json = rtc.json

local function usage(msg)
  io.stderr:write("interop_peer: ", msg, "\n")
  io.stderr:write("usage: interop_peer.lua --role offer|answer --test dc-echo|dc-throughput|dc-suite|audio|video|av|pcm ",
                  "[--trickle] [--duration S] [--file IVF|OGG] [--audio-file OGG] [--record FILE] [--frequency HZ] [--pcm-out FILE] [--stereo] ",
                  "[--bytes N] [--stun URL] [--turn URL --turn-user U --turn-pass P] ",
                  "[--relay-only] [--timeout S]\n")
  io.stderr:write("RESULT ", json.encode({ ok = false, error = msg }), "\n")
  os.exit(2)
end

local negotiate   -- defined below, used by the dc-suite test
local opts = { role = "offer", test = "dc-echo", trickle = false, relay_only = false, timeout = 30 }
do
  local i = 1
  local function value()
    i = i + 1
    if arg[i] == nil then usage("missing value for " .. arg[i - 1]) end
    return arg[i]
  end
  while arg[i] do
    local a = arg[i]
    if a == "--role" then opts.role = value()
    elseif a == "--test" then opts.test = value()
    elseif a == "--trickle" then opts.trickle = true
    elseif a == "--bytes" then opts.bytes = tonumber(value()) or usage("--bytes needs a number")
    elseif a == "--duration" then opts.duration = tonumber(value()) or usage("--duration needs a number")
    elseif a == "--stun" then opts.stun = value()
    elseif a == "--turn" then opts.turn = value()
    elseif a == "--turn-user" then opts.turn_user = value()
    elseif a == "--turn-pass" then opts.turn_pass = value()
    elseif a == "--relay-only" then opts.relay_only = true
    elseif a == "--record" then opts.record = value()
    elseif a == "--file" then opts.file = value()
    elseif a == "--audio-file" then opts.audio_file = value()
    elseif a == "--frequency" then opts.frequency = tonumber(value()) or usage("--frequency needs a number")
    elseif a == "--pcm-out" then opts.pcm_out = value()
    elseif a == "--stereo" then opts.stereo = true
    elseif a == "--timeout" then opts.timeout = tonumber(value()) or usage("--timeout needs a number")
    else usage("unknown option " .. a) end
    i = i + 1
  end
  if opts.role ~= "offer" and opts.role ~= "answer" then usage("--role must be offer or answer") end
end

local log = function(...) io.stderr:write(string.format(...), "\n") end
local result = { ok = false }
local finished = false
local t0 = rtc.now()

local function finish(extra)
  if finished then return end
  finished = true
  for k, v in pairs(extra) do result[k] = v end
  io.stderr:write("RESULT ", json.encode(result), "\n")
  io.stderr:flush()
  os.exit(result.ok and 0 or 1)
end

local ice_servers = {}
if opts.stun then ice_servers[#ice_servers + 1] = { urls = opts.stun } end
if opts.turn then
  ice_servers[#ice_servers + 1] = { urls = opts.turn, username = opts.turn_user, credential = opts.turn_pass }
end
local pc = rtc.peer_connection {
  ice_servers = ice_servers,
  ice_transport_policy = opts.relay_only and "relay" or "all",
}

local function send_signal(msg) rtc.stdout:write(json.encode(msg) .. "\n") end

local opened = false
local function on_open()
  if opened then return end
  opened = true
  io.stderr:write("MARK\n")
  result.setup_ms = math.floor(rtc.now() - t0 + 0.5)
end

local function selected_pair()
  local stats = pc:get_stats()
  local by_id, pair = {}, nil
  for _, s in pairs(stats) do by_id[s.id] = s end
  for _, s in pairs(stats) do
    if s.type == "transport" and s.selectedCandidatePairId then pair = by_id[s.selectedCandidatePairId] end
  end
  if not pair then return nil end
  local l, r = by_id[pair.localCandidateId], by_id[pair.remoteCandidateId]
  return (l and l.candidateType or "?") .. "/" .. (r and r.candidateType or "?")
end

local function done(extra)
  extra.selected_pair = selected_pair()
  -- Let the last messages leave before exiting.
  rtc.set_timeout(200, function() finish(extra) end)
end

pc:on("connectionstatechange", function(state)
  log("connection state %s", state)
  if state == "failed" then finish({ ok = false, error = "connection failed" }) end
end)

if opts.trickle then
  pc:on("icecandidate", function(c)
    if c then
      send_signal({ type = "candidate", candidate = c.candidate, sdpMid = c.sdp_mid, sdpMLineIndex = c.sdp_mline_index })
    else
      send_signal({ type = "candidate", candidate = "", sdpMid = json.null, sdpMLineIndex = 0 })
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

-- The tests.
if opts.test == "dc-echo" then
  if opts.role == "offer" then
    local dc = pc:create_data_channel("chat")
    local sent_at
    dc:on("open", function()
      on_open()
      sent_at = rtc.now()
      dc:send("hello")
    end)
    dc:on("message", function(data)
      if data == "hello" then done({ ok = true, echo_rtt_ms = rtc.now() - sent_at })
      else finish({ ok = false, error = "unexpected echo: " .. tostring(data) }) end
    end)
  else
    pc:on("datachannel", function(dc)
      on_open()
      dc:on("message", function(data, binary)
        dc:send(data, binary)
        done({ ok = true })
      end)
    end)
  end
elseif opts.test == "dc-throughput" then
  local total, chunk = opts.bytes or 16 * 1024 * 1024, 16 * 1024
  if opts.role == "offer" then
    local dc = pc:create_data_channel("bulk")
    dc.buffered_amount_low_threshold = 1024 * 1024
    local sent, start = 0, nil
    local block = string.rep("\0", chunk)
    local function pump()
      while sent < total and dc.buffered_amount < 4 * 1024 * 1024 do
        local n = math.min(chunk, total - sent)
        dc:send(n == chunk and block or block:sub(1, n), true)
        sent = sent + n
      end
    end
    dc:on("bufferedamountlow", pump)
    dc:on("open", function() on_open(); start = rtc.now(); pump() end)
    dc:on("message", function(data)
      local secs = (rtc.now() - start) / 1000
      local report = json.decode(data)
      local ok = report and report.bytes_received == total
      done({ ok = ok, bytes_sent = sent, mb_per_s = total / 1e6 / secs,
             error = (not ok) and ("peer received " .. tostring(report and report.bytes_received)) or nil })
    end)
  else
    pc:on("datachannel", function(dc)
      on_open()
      local got, start = 0, nil
      dc:on("message", function(data)
        start = start or rtc.now()
        got = got + #data
        if got >= total then
          local secs = math.max(rtc.now() - start, 1) / 1000
          dc:send(json.encode({ bytes_received = got }))
          done({ ok = got == total, bytes_received = got, mb_per_s = got / 1e6 / secs })
        end
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
      if not ok then finish({ ok = false, error = tostring(err) }) end
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
      on_open()
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
      done({ ok = true, mine = channel_stats("reliable"), theirs = theirs, restarts = 2 })
    end)
  else
    local restarted = false
    pc:on("datachannel", function(dc)
      watch(dc)
      on_open()
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
              done({ ok = restarted, mine = channel_stats("reliable") })
            end)
          end
          return
        end
        dc:send(data, binary)
      end)
    end)
  end
elseif opts.test == "audio" or opts.test == "video" or opts.test == "av" then
  -- The offerer plays an Opus tone or an Ogg/Opus file (audio) and an IVF file (video)
  -- in a loop for the duration plus a second of slack; the answerer counts what
  -- arrives for the duration after its first frame, decodes audio to measure its
  -- energy, and with --record records what arrives through rtc.recorder (the kinds
  -- the file holds: Ogg audio, IVF video, WebM both, on one timeline by RTCP sender
  -- reports). `av` does both on one connection and reports each kind in its own
  -- object (`audio`, `video`); the others report flat.
  local duration = opts.duration or 3
  local kinds = opts.test == "av" and { "audio", "video" } or { opts.test }
  local per, pending_kinds = {}, #kinds
  local rec
  local function kind_done(kind, r)
    per[kind] = r
    pending_kinds = pending_kinds - 1
    if pending_kinds > 0 then return end
    local extra = { ok = true }
    for _, k in ipairs(kinds) do
      local p = per[k]
      extra.ok = extra.ok and p.ok
      if not p.ok then extra.error = (extra.error and extra.error .. "; " or "") .. (p.error or k .. " failed") end
      p.error = nil
      if #kinds == 1 then for f, v in pairs(p) do if f ~= "ok" then extra[f] = v end end
      else p.ok = nil; extra[k] = p end
    end
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
    done(extra)
  end
  if opts.role == "offer" then
    local video_file = opts.file
    local audio_file = opts.test == "av" and opts.audio_file or opts.test == "audio" and opts.file or nil
    if opts.test ~= "audio" and not video_file then usage("--test " .. opts.test .. " needs --file IVF") end
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
      src:on("error", function(e) finish({ ok = false, error = tostring(e) }) end)
      sources[kind] = { src = src, sent = function() return sent end }
    end
    pc:on("connectionstatechange", function(state)
      if state ~= "connected" or opened then return end
      on_open()
      for _, s in pairs(sources) do s.src:start() end
      rtc.set_timeout((duration + 1) * 1000, function()
        for _, kind in ipairs(kinds) do
          local s = sources[kind]
          s.src:stop()
          kind_done(kind, { ok = s.sent() > 0, frames_sent = s.sent() })
        end
      end)
    end)
  else
    if opts.record then
      local ok, r = pcall(rtc.recorder, opts.record, { pc = pc, channels = 1 })
      if not ok then usage("--record: " .. tostring(r)) end
      rec = r
      rec:on("error", function(err) log("record: %s", err) end)
    end
    local wanted = {}
    for _, k in ipairs(kinds) do wanted[k] = true end
    pc:on("track", function(track)
      local kind = track.kind
      if not wanted[kind] then return end
      wanted[kind] = nil
      local frames, sum_sq, samples = 0, 0.0, 0
      local dec = kind == "audio" and rtc.media.opus_decoder(48000, 1) or nil
      track:on("frame", function(f)
        frames = frames + 1
        if frames == 1 then
          on_open()
          rtc.set_timeout(duration * 1000, function()
            local extra = { ok = frames > 0, frames_received = frames }
            for _, st in pairs(pc:get_stats()) do
              if st.type == "inbound-rtp" and st.kind == kind then
                extra.packets_received, extra.packets_lost = st.packetsReceived, st.packetsLost
              end
            end
            if dec then
              extra.audio_energy = samples > 0 and math.sqrt(sum_sq / samples) / 32768 or 0
              extra.ok = extra.ok and extra.audio_energy > 0
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
  -- fmtp as negotiated. --stereo asks the peer for stereo (stereo=1 in our fmtp).
  local duration = opts.duration or 3
  local mic = rtc.media_track("audio")
  pc:add_transceiver(mic, { direction = "sendrecv", stereo = opts.stereo })
  local src = assert(rtc.media.tone_source { frequency = opts.frequency or 440, amplitude = 0.25, pcm = true })
  local sent, write_err = 0, nil
  src:on("frame", function(f)
    local n, err = mic:write_pcm(f.samples)
    if n then sent = sent + 1 elseif not write_err then write_err = err end
  end)
  local heard, sending_over, started
  local function opus_fmtp(desc)
    if not desc then return nil end
    local pt = desc.sdp:match("a=rtpmap:(%d+) opus/48000")
    return pt and desc.sdp:match("a=fmtp:" .. pt .. " ([^\r\n]*)") or nil
  end
  local function report()
    if not (heard and heard.over and sending_over) then return end
    src:stop()
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
    done(extra)
  end
  pc:on("track", function(track)
    if track.kind ~= "audio" or heard then return end
    heard = { chunks = 0, samples = 0, concealed = 0, sum_sq = 0.0, pcm = {} }
    track:on("pcm", function(p)
      if heard.over then return end
      heard.chunks = heard.chunks + 1
      if heard.chunks == 1 then
        on_open()
        rtc.set_timeout(duration * 1000, function() heard.over = true; report() end)
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
    src:start()
    -- Keep speaking a while after our own listening time: the peer measures from its
    -- own first packet, which may come later.
    rtc.set_timeout((duration + 2) * 1000, function() sending_over = true; report() end)
  end)
else
  usage("unknown test " .. opts.test)
end

rtc.set_timeout(opts.timeout * 1000, function() finish({ ok = false, error = "timeout" }) end)

-- Signaling from the other side, one JSON object a line.
rtc.spawn(function()
  local pending = {}
  while true do
    local line = rtc.stdin:read_line()
    if not line then break end
    if line:match("%S") then
      local msg, err = json.decode(line)
      if not msg then
        log("bad signaling line: %s", err)
      elseif msg.type == "offer" or msg.type == "answer" then
        local ok, e = pc:set_remote_description({ type = msg.type, sdp = msg.sdp })
        if not ok then finish({ ok = false, error = e }) end
        for _, c in ipairs(pending) do pc:add_ice_candidate(c) end
        pending = {}
        if msg.type == "answer" and answer_waiter then
          local co = answer_waiter
          answer_waiter = nil
          local ok2, e3 = coroutine.resume(co)
          if not ok2 then finish({ ok = false, error = tostring(e3) }) end
        end
        if msg.type == "offer" then
          local answer, e2 = pc:create_answer()
          if not answer then finish({ ok = false, error = e2 }) end
          pc:set_local_description(answer)
          send_description()
        end
      elseif msg.type == "candidate" then
        local c = { candidate = msg.candidate, sdp_mid = msg.sdpMid ~= json.null and msg.sdpMid or nil,
                    sdp_mline_index = msg.sdpMLineIndex }
        if pc.remote_description then
          local ok, e = pc:add_ice_candidate(c)
          if not ok then log("add_ice_candidate: %s", e) end
        else
          pending[#pending + 1] = c
        end
      end
    end
  end
end)

if opts.role == "offer" then
  local offer = assert(pc:create_offer())
  assert(pc:set_local_description(offer))
  send_description()
end
