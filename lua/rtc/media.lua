-- rtc.media: media files and sources for bots and recorders (docs/media-files.md).
--
--   rtc.media.open(path[, opts]) -> reader       frames one by one, no pacing
--   rtc.media.writer(path, opts) -> writer       Ogg/Opus, IVF, WebM/Matroska
--   rtc.media.file_source(path, opts) -> source  frames paced in real time
--   rtc.media.tone_source(opts) -> source        Opus (or PCM) tone or silence, 20 ms frames
--   rtc.media.opus_encoder(opts), rtc.media.opus_decoder(rate, channels)
--   rtc.media.opus_stream(channels[, max_gap])   packets + RTP time -> continuous PCM
--
-- PCM is a Lua string of interleaved signed 16-bit native-endian (little-endian on
-- every platform we build for) samples at 48 kHz: string.unpack("<i2", s, 2 * i - 1)
-- reads sample i. Tracks use this module for track:on("pcm") and track:write_pcm().
--
-- A source emits "frame" with { data, timestamp, pts_ms, keyframe, kind, codec }:
-- timestamp is in the codec's RTP clock (48 kHz Opus, 90 kHz video) and keeps
-- increasing across loops, so `track:write_frame(frame)` takes it as it is.
return function(rtc, core)
  local media = {}
  rtc.media = media

  local function log_error(msg) io.stderr:write("luartc: ", msg, "\n") end

  local function kind_of(path, opts)
    if opts and opts.format then return opts.format end
    local ext = path:match("%.([%w]+)$")
    ext = ext and ext:lower()
    if ext == "ogg" or ext == "opus" then return "ogg" end
    if ext == "ivf" then return "ivf" end
    if ext == "webm" or ext == "mkv" then return "webm" end
    if ext == "h264" or ext == "264" then return "h264" end
    return nil
  end

  local function read_file(path)
    local f, err = io.open(path, "rb")
    if not f then return nil, "NotFoundError: " .. tostring(err), "NotFoundError" end
    local data = f:read("a")
    f:close()
    return data
  end

  --- rtc.media.open(path[, {format=, fps=}]) -> reader | nil, err
  --- reader:next() -> frame | false at the end | nil, err; reader:rewind(); reader:info(); reader:close()
  function media.open(path, opts)
    if type(path) ~= "string" then error("bad argument #1 to 'open' (path expected)", 2) end
    local kind = kind_of(path, opts)
    if not kind then error("bad argument #1 to 'open' (unknown file type; pass opts.format)", 2) end
    local data, err, name = read_file(path)
    if not data then return nil, err, name end
    return core.media_reader(kind, data, opts and opts.fps)
  end

  --- rtc.media.writer(path, opts) -> writer | nil, err
  --- opts: format (from the extension by default), channels, video ("VP8"...), audio,
  --- codec (IVF), width, height. writer:write{data=, pts_ms=, keyframe=, kind=}.
  local W = {}
  W.__index = W
  W.__name = "rtc.media.writer"
  function W:write(f)
    if type(f) ~= "table" or type(f.data) ~= "string" or math.type(f.pts_ms) ~= "integer" then
      error("bad argument #1 to 'write' ({data=string, pts_ms=integer} expected)", 2)
    end
    return self._w:write(f.data, f.pts_ms, f.keyframe, f.kind == "video")
  end
  function W:close() if self._closed then return true end; self._closed = true; return self._w:close() end
  function W:stats() return self._w:stats() end
  W.__close = W.close

  function media.writer(path, opts)
    if type(path) ~= "string" then error("bad argument #1 to 'writer' (path expected)", 2) end
    local kind = kind_of(path, opts)
    if kind ~= "ogg" and kind ~= "ivf" and kind ~= "webm" then
      error("bad argument #1 to 'writer' (.ogg, .ivf, .webm or .mkv expected, or opts.format)", 2)
    end
    local w, err, name = core.media_writer(kind, path, opts or {})
    if not w then return nil, err, name end
    return setmetatable({ _w = w }, W)
  end

  media.opus_encoder = core.opus_encoder
  media.opus_decoder = core.opus_decoder
  media.pcm_tone = core.pcm_tone
  media.opus_stream = core.opus_stream
  media.pcm_rms = core.pcm_rms
  media.pcm_audio_level = core.pcm_audio_level

  -- {====== PCM on tracks (driven from lua/rtc/peer_connection.lua) ======
  -- Receive: one rtc_opus_stream per remote track, created at the first frame that
  -- arrives while a "pcm" listener exists, with the channel count of that packet
  -- (the TOC's stereo bit), dropped when the listeners go or the track ends.
  -- Send: one encoder per local track, created at the first write_pcm() once the
  -- transceiver has negotiated Opus, configured from the peer's fmtp (its receive
  -- preferences: usedtx, useinbandfec, stereo, maxaveragebitrate, cbr,
  -- maxplaybackrate) with the track's own options on top.
  local pcm = {}
  media._pcm = pcm

  function pcm.feed(track, data, ts, emit)
    if #data == 0 then return end              -- an empty payload says nothing about time
    local st = track._pcm_rx
    if not st then
      local ch = (data:byte(1) & 0x04) ~= 0 and 2 or 1
      local err
      st, err = core.opus_stream(ch)
      if not st then log_error("pcm: " .. tostring(err)); return end
      track._pcm_rx = st
    end
    local chunks = st:decode(data, ts)         -- nil for late or corrupt packets (counted)
    if not chunks then return end
    for i = 1, #chunks do emit(track, "pcm", chunks[i]) end
  end

  function pcm.release(track)
    if track._pcm_rx then track._pcm_rx:close(); track._pcm_rx = nil end
    if track._pcm_tx then track._pcm_tx.enc:close(); track._pcm_tx = nil end
  end

  local function not_sending(what)
    return nil, "InvalidStateError: " .. what, "InvalidStateError"
  end

  function pcm.write(track, samples)
    if type(samples) ~= "string" then
      error("bad argument #1 to 'write_pcm' (string of interleaved s16 samples expected, got " .. type(samples) .. ")", 3)
    end
    if track.kind ~= "audio" then error("write_pcm: only audio tracks take PCM", 3) end
    if track.remote then error("write_pcm: a remote track cannot be written to", 3) end
    local opts = track._opts or {}
    local ch = opts.channels or 1
    if ch ~= 1 and ch ~= 2 then error("write_pcm: the track's channels option must be 1 or 2", 3) end
    if #samples % (2 * ch) ~= 0 then
      error(string.format("bad argument #1 to 'write_pcm' (%d bytes is not a whole number of %d-channel s16 samples)",
                          #samples, ch), 3)
    end
    local tr = track._tr
    if not tr or tr._pc._closed then return not_sending("the track is not sending") end
    local st = track._pcm_tx
    if not st then
      local info = tr._pc._core:tr_info(tr._h)
      if not info.negotiated then return not_sending("the track's transceiver is not negotiated yet") end
      if info.codec ~= "opus" then return not_sending("the negotiated codec is not Opus") end
      local enc, err, name = core.opus_encoder { channels = ch, fmtp = info.remote_fmtp, bitrate = opts.bitrate,
                                                 dtx = opts.dtx, fec = opts.fec, voice = opts.voice }
      if not enc then return nil, err, name end
      st = { enc = enc, ts = 0, fmtp = info.remote_fmtp }
      track._pcm_tx = st
    end
    local frames, n = st.enc:push(samples)
    if not frames then return nil, n end
    -- one level for the frames of this call: the RFC 6464 level of what was written
    local level = n > 0 and core.pcm_audio_level(samples) or nil
    local sent, first_err, first_name = 0, nil, nil
    for i = 1, n do
      local pkt = frames[i]
      -- DTX frames are not sent, but their time passes: the receiver conceals the gap.
      if pkt then
        -- through write_frame so a sender transform applies to PCM-fed tracks too
        local r, err, name = track:write_frame { data = pkt, timestamp = st.ts & 0xffffffff, audio_level = level }
        if r then sent = sent + r elseif not first_err then first_err, first_name = err, name end
      end
      st.ts = st.ts + 960
    end
    if first_err and sent == 0 then return nil, first_err, first_name end
    return sent
  end

  function pcm.stats(track)
    local out = {}
    if track._pcm_tx then
      out.encoder = track._pcm_tx.enc:info()
      out.encoder.fmtp = track._pcm_tx.fmtp
      out.encoder.timestamp = track._pcm_tx.ts & 0xffffffff
    end
    if track._pcm_rx then out.decoder = track._pcm_rx:stats() end
    return out
  end
  -- }======

  -- {====== RTP time to the recording clock ======
  --- rtc.media.rtp_clock(rate) -> clock: maps one stream's 32-bit RTP timestamps to ms
  --- on the recorder's clock. clock:to_ms(rtp_ts[, arrival_ms]) unwraps the timestamp
  --- (differences are taken as signed 32-bit, so wraps and small reorderings are
  --- handled) and returns anchor_ms + elapsed. The first call anchors the stream at
  --- arrival_ms (default rtc.now()); clock:sender_report(rtp_ts, ntp_ms) re-anchors it
  --- on the sender's NTP time from an RTCP SR, which all of one sender's streams share:
  --- that is what keeps audio and video in sync in a recording.
  local CLOCK = {}
  CLOCK.__index = CLOCK
  CLOCK.__name = "rtc.media.rtp_clock"

  local function unwrap(self, ts)
    ts = ts & 0xffffffff
    if not self._last then self._last, self._ext = ts, ts; return ts end
    local d = (ts - self._last) & 0xffffffff
    if d >= 0x80000000 then d = d - 0x100000000 end
    self._ext = self._ext + d
    self._last = ts
    return self._ext
  end

  function CLOCK:to_ms(ts, arrival_ms)
    if math.type(ts) ~= "integer" then error("bad argument #1 to 'to_ms' (integer RTP timestamp expected)", 2) end
    local ext = unwrap(self, ts)
    if not self._anchor_ext then
      self._anchor_ext, self._anchor_ms = ext, arrival_ms or math.floor(core.now())
    end
    return self._anchor_ms + (ext - self._anchor_ext) * 1000 // self.rate
  end

  function CLOCK:sender_report(ts, ntp_ms)
    if math.type(ts) ~= "integer" or type(ntp_ms) ~= "number" then
      error("bad argument to 'sender_report' (rtp_ts integer, ntp_ms number expected)", 2)
    end
    self._anchor_ext, self._anchor_ms = unwrap(self, ts), math.floor(ntp_ms)
  end

  function media.rtp_clock(rate)
    if math.type(rate) ~= "integer" or rate <= 0 then error("bad argument #1 to 'rtp_clock' (positive integer rate expected)", 2) end
    return setmetatable({ rate = rate }, CLOCK)
  end
  -- }======

  -- {====== paced sources ======
  local S = {}
  S.__index = S
  S.__name = "rtc.media.source"
  local EVENTS = { frame = true, ended = true, error = true }

  function S:on(ev, fn)
    if not EVENTS[ev] then error(string.format("bad argument #1 to 'on' (unknown event '%s')", tostring(ev)), 2) end
    if fn ~= nil and type(fn) ~= "function" then error("bad argument #2 to 'on' (function expected)", 2) end
    self._on[ev] = fn
    return self
  end

  local function emit(self, ev, ...)
    local fn = self._on[ev]
    if not fn then return end
    local ok, err = xpcall(fn, debug.traceback, ...)
    if not ok then log_error("error in media source '" .. ev .. "' handler: " .. tostring(err)) end
  end

  -- Emit every frame that is due, then sleep until the next one. Timing is against
  -- the start time (not frame to frame), so timer lateness does not accumulate.
  local function pump(self)
    self._timer = nil
    if self._state ~= "playing" then return end
    local now = core.now()
    while self._state == "playing" do
      local f = self._pending
      if not f then
        local err
        f, err = self._next(self)
        if f == nil then
          self._state = "ended"
          emit(self, "error", err)
          emit(self, "ended")
          return
        elseif f == false then
          self._state = "ended"
          emit(self, "ended")
          return
        end
        self._pending = f
      end
      local due = self._t0 + f.pts_ms * (1 / self._speed)
      if due > now + 1 then
        self._timer = core.timer_start(due - now, 0, function() pump(self) end)
        return
      end
      self._pending = nil
      emit(self, "frame", f)
    end
  end

  function S:start()
    if self._state == "playing" then return self end
    if self._state == "ended" then return nil, "InvalidStateError: the source has ended", "InvalidStateError" end
    self._t0 = core.now() - (self._paused_at or 0)
    self._paused_at = nil
    self._state = "playing"
    pump(self)
    return self
  end
  S.resume = S.start

  function S:pause()
    if self._state ~= "playing" then return self end
    self._state = "paused"
    self._paused_at = core.now() - self._t0
    if self._timer then self._timer:stop(); self._timer = nil end
    return self
  end

  function S:stop()
    if self._timer then self._timer:stop(); self._timer = nil end
    if self._state ~= "ended" then self._state = "ended" end
    if self._close then self._close() end
    return self
  end
  S.close = S.stop
  S.__close = S.stop

  function S:state() return self._state end

  local function new_source(next_fn, speed, close)
    return setmetatable({ _on = {}, _state = "idle", _next = next_fn, _speed = speed or 1, _close = close }, S)
  end

  local RTP_RATE = { audio = 48000, video = 90000 }

  --- rtc.media.file_source(path, {loop=, fps= (H264), speed=, kind= (WebM track)})
  function media.file_source(path, opts)
    opts = opts or {}
    local r, err, name = media.open(path, opts)
    if not r then return nil, err, name end
    -- A loop restarts where the last frame ends: its own duration (audio) or the
    -- interval between the last two frames (video).
    local offset, last_end, count, prev_raw, interval = 0, 0, 0, nil, 33
    local loop = opts.loop
    local src
    src = new_source(function()
      while true do
        local f, e = r:next()
        if f == nil then return nil, e end
        if f == false then
          if not loop or count == 0 then return false end
          r:rewind()
          offset = last_end
          count, prev_raw = 0, nil
        elseif not opts.kind or f.kind == opts.kind then
          count = count + 1
          if prev_raw and f.pts_ms > prev_raw then interval = f.pts_ms - prev_raw end
          prev_raw = f.pts_ms
          f.pts_ms = f.pts_ms + offset
          local dur = f.duration_ms or interval
          if f.pts_ms + dur > last_end then last_end = f.pts_ms + dur end
          f.timestamp = f.pts_ms * (RTP_RATE[f.kind] // 1000)
          return f
        end
      end
    end, opts.speed, function() r:close() end)
    return src
  end

  --- rtc.media.tone_source{frequency=440, amplitude=0.25, channels=1, bitrate=,
  --- duration= (seconds; nil = endless), pcm=}: Opus frames of 20 ms at 48 kHz;
  --- frequency 0 is silence. With pcm = true the frames carry `samples` (PCM for
  --- track:write_pcm, which encodes with the peer's fmtp) instead of Opus `data`.
  --- Opus frames carry `audio_level` (RFC 6464, -dBov), which write_frame sends.
  function media.tone_source(opts)
    opts = opts or {}
    local freq, amp, ch = opts.frequency or 440, opts.amplitude or 0.25, opts.channels or 1
    local n, limit = 0, opts.duration and math.floor(opts.duration * 50 + 0.5)
    if opts.pcm then
      return new_source(function()
        if limit and n >= limit then return false end
        local f = { samples = core.pcm_tone(freq, freq > 0 and amp or 0, n * 960, 960, ch), channels = ch,
                    rate = 48000, pts_ms = n * 20, duration_ms = 20, timestamp = n * 960, kind = "audio", codec = "pcm" }
        n = n + 1
        return f
      end, opts.speed)
    end
    local enc, err, name = core.opus_encoder{ channels = ch, bitrate = opts.bitrate }
    if not enc then return nil, err, name end
    return new_source(function()
      if limit and n >= limit then return false end
      local pcm = core.pcm_tone(freq, freq > 0 and amp or 0, n * 960, 960, ch)
      local pkt, e = enc:encode(pcm)
      if not pkt then return nil, e end
      local f = { data = pkt, pts_ms = n * 20, duration_ms = 20, timestamp = n * 960, keyframe = true,
                  kind = "audio", codec = "opus", audio_level = core.pcm_audio_level(pcm) }
      n = n + 1
      return f
    end, opts.speed)
  end
  -- }======
end
