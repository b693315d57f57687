-- rtc.recorder: records remote tracks of peer connections to one file, audio and video
-- on one timeline (docs/media-files.md).
--
--   local rec = rtc.recorder("call.webm", { pc = pc })   -- or rec:add_pc(pc), rec:add(track)
--   rec:on("error", function(err) ... end)
--   ...
--   rec:close()
--
-- Timing. Each frame's RTP timestamp is mapped to the recorder's clock (rtc.now, ms):
--   * with RTCP sender reports: an SR pairs the sender's NTP wall clock with an RTP
--     time. All streams of one sender share that NTP clock, so mapping every stream
--     through it puts audio and video on one timeline whatever their RTP bases and
--     however late each stream's first packets came. The NTP clock is tied to ours once
--     per peer connection (at its first SR) so later SRs move no stream against another.
--   * before the first SR of a stream: frames are held for up to `holdback_ms` waiting
--     for one; a stream with no SR by then is anchored at its first frame's arrival
--     time, and re-anchored when an SR comes.
-- A re-anchor (arrival time to SR, or one SR to the next: a sender's RTP/NTP pairing
-- jitters with its load) moves a stream's mapping by some ms. Once frames of it are
-- in the file that step is not applied to them: it becomes the stream's correction,
-- which keeps its next frame where RTP time puts it. Audio keeps its correction (its
-- frames stay back to back); video slews its own toward audio's, by at most SLEW of
-- the media time that passes, so lip sync follows the SRs while every video frame
-- interval stays within 10% of the sender's. A file of one track never slews.
-- Frames keep their mapped times, so loss or a muted track leaves a gap in time (the
-- Ogg writer fills it with packets decoders conceal, WebM and IVF simply skip it).
-- The file starts when every track that has media is anchored, at the first video
-- keyframe (audio before it is dropped, so both start together) or, for audio alone,
-- at the first audio frame.
return function(rtc, core)
  local R = {}
  R.__index = R
  R.__name = "rtc.recorder"

  local EVENTS = { error = true, close = true }
  local FORMATS = { webm = { audio = true, video = true }, mkv = { audio = true, video = true },
                    ogg = { audio = true }, opus = { audio = true }, ivf = { video = true } }
  local RATE = { audio = 48000, video = 90000 }
  -- What one track may hold while it waits for its first SR: then it is anchored at
  -- arrival time, so a peer sending fast without SRs cannot grow the recorder's memory.
  local MAX_PENDING, MAX_PENDING_BYTES = 4000, 32 * 1024 * 1024
  local SLEW = 0.1

  local function log_error(msg) io.stderr:write("luartc: ", msg, "\n") end

  local function emit(self, ev, ...)
    local fn = self._on[ev]
    if not fn then return end
    local ok, err = xpcall(fn, debug.traceback, ...)
    if not ok then log_error("error in recorder '" .. ev .. "' handler: " .. tostring(err)) end
  end

  function R:on(ev, fn)
    if not EVENTS[ev] then error(string.format("bad argument #1 to 'on' (unknown event '%s')", tostring(ev)), 2) end
    if fn ~= nil and type(fn) ~= "function" then error("bad argument #2 to 'on' (function expected)", 2) end
    self._on[ev] = fn
    return self
  end

  -- {====== RTP time ======
  -- Extends a stream's 32-bit timestamps: differences are signed 32-bit, so wraps and
  -- small reorderings come out right.
  local function extend(st, ts)
    ts = ts & 0xffffffff
    if not st.last_ts then return ts end
    local d = (ts - st.last_ts) & 0xffffffff
    if d >= 0x80000000 then d = d - 0x100000000 end
    return st.last_ext + d
  end

  local function advance(st, ts)
    local ext = extend(st, ts)
    if not st.last_ts or ext > st.last_ext then st.last_ts, st.last_ext = ts & 0xffffffff, ext end
    return ext
  end

  local function map_ms(st, ext)
    return st.anchor_ms + (ext - st.anchor_ext) * 1000 / st.rate + st.corr
  end

  -- A new anchor for the stream. Before any of its frames is written it applies as it
  -- is; after, the step becomes the correction that keeps the last written frame (at
  -- corr_ext) where it is.
  local function reanchor(st, ext, ms)
    local before = st.last_pts and map_ms(st, st.corr_ext)
    st.anchor_ext, st.anchor_ms, st.corr = ext, ms, 0
    if before then st.corr = before - map_ms(st, st.corr_ext) end
  end

  -- An SR anchors the stream on the sender's NTP clock, tied to ours by the group offset.
  local function apply_sr(self, st, sr)
    if not st.last_ts then st.early_sr = sr; return end
    local g = st.group
    if not g.offset then g.offset = sr.received_ms - sr.ntp_ms end
    reanchor(st, extend(st, sr.timestamp), sr.ntp_ms + g.offset)
    st.synced = true
    st.srs = st.srs + 1
    self._stats.sender_reports = self._stats.sender_reports + 1
  end
  -- }======

  -- {====== writing ======
  local function fail(self, err)
    if self._failed then return end
    self._failed = err
    if self._timer then self._timer:stop(); self._timer = nil end
    local w = self._w
    self._w = nil
    if w then w:close() end     -- what reached the disk stays a playable file
    self._closed = true
    emit(self, "error", err)
    emit(self, "close")
  end

  -- The correction of the other track in the file that has written frames, or nil.
  local function other_corr(self, st)
    for _, o in pairs(self._file_tracks) do
      if o ~= st and o.last_pts then return o.corr, o.kind end
    end
  end

  local function write(self, st, fr)
    local s = self._stats
    local ref, ref_kind = other_corr(self, st)
    if not st.last_pts then
      -- A track's first frame joins the file where the other track already is.
      if ref then st.corr = ref end
    elseif ref_kind == "audio" and fr.ext > st.corr_ext then
      local room = (fr.ext - st.corr_ext) * 1000 / st.rate * SLEW
      local d = ref - st.corr
      st.corr = st.corr + (d > room and room or d < -room and -room or d)
    end
    local pts = math.floor(map_ms(st, fr.ext) - self._origin + 0.5)
    -- A sender jumping its RTP clock decades ahead gets its frame dropped, not the file closed.
    if pts >= 1 << 40 then s.dropped = s.dropped + 1; return end
    if st.kind == "video" then
      if not st.keyed then
        if not fr.keyframe then
          s.dropped = s.dropped + 1
          if st.track.request_keyframe and not st.asked then st.asked = true; pcall(st.track.request_keyframe, st.track) end
          return
        end
        st.keyed = true
      end
      if pts < 0 then pts = 0 end
    elseif pts < -10 then
      s.dropped = s.dropped + 1
      return
    elseif pts < 0 then
      pts = 0                   -- within half a frame of the start: not worth a frame
    end
    -- RTP times that stand still or step back (a broken or hostile sender: re-anchors
    -- are corrected above) keep the track increasing rather than reorder frames.
    if st.last_pts and pts <= st.last_pts then pts = st.last_pts + 1; s.retimed = s.retimed + 1 end
    st.last_pts = pts
    if not st.corr_ext or fr.ext > st.corr_ext then st.corr_ext = fr.ext end
    local ok, err = self._w:write { data = fr.data, pts_ms = pts, keyframe = fr.keyframe, kind = st.kind }
    if ok == nil then return fail(self, err) end
    if ok then
      s[st.kind .. "_frames"] = s[st.kind .. "_frames"] + 1
      if pts > s.duration_ms then s.duration_ms = pts end
    else
      s.dropped = s.dropped + 1
    end
  end

  local function open_file(self)
    local o = self._opts
    local wopts = { format = self._format, channels = o.channels or 2, width = o.width, height = o.height }
    local kinds = {}
    for _, st in ipairs(self._tracks) do
      if st.anchor_ms then kinds[st.kind] = st end
    end
    if self._format == "ivf" then
      wopts.codec = kinds.video and kinds.video.codec
    else
      wopts.audio = kinds.audio and true or nil
      wopts.video = kinds.video and kinds.video.codec or nil
    end
    local w, err = rtc.media.writer(self._path, wopts)
    if not w then return fail(self, err) end
    self._w = w
    -- The file starts at the first video keyframe (nothing before it can be shown):
    -- audio before it is dropped, so both start together. Without a keyframe yet, at
    -- the first frame held; video then starts at its first keyframe.
    local origin
    local v = kinds.video
    if v then
      for _, fr in ipairs(v.pending) do if fr.keyframe then origin = map_ms(v, fr.ext); break end end
    end
    if not origin then
      for _, st in pairs(kinds) do
        local t = map_ms(st, st.pending[1].ext)
        if not origin or t < origin then origin = t end
      end
    end
    self._origin = origin
    self._file_tracks = kinds
    for _, st in ipairs(self._tracks) do
      if kinds[st.kind] ~= st then st.excluded = true; st.pending, st.pending_bytes = {}, 0 end
    end
    -- Interleave what was held in time order, so the writers see one timeline.
    local all = {}
    for _, st in pairs(kinds) do
      for _, fr in ipairs(st.pending) do all[#all + 1] = { st = st, fr = fr, t = map_ms(st, fr.ext) } end
      st.pending, st.pending_bytes = {}, 0
    end
    table.sort(all, function(a, b) return a.t < b.t end)
    for _, x in ipairs(all) do
      if self._closed then return end
      write(self, x.st, x.fr)
    end
  end

  -- Decides what held frames can go out: called on every frame, SR and tick.
  -- `final`: closing, nothing more will come, so nothing waits.
  local function check(self, now, final)
    if self._closed then return end
    local hold = final and -math.huge or (self._opts.holdback_ms or 3000)
    for _, st in ipairs(self._tracks) do
      if not st.excluded and #st.pending > 0 and not st.anchor_ms
         and (now - st.first_arrival >= hold or #st.pending >= MAX_PENDING
              or st.pending_bytes >= MAX_PENDING_BYTES) then
        st.anchor_ext, st.anchor_ms = st.pending[1].ext, st.first_arrival
        self._stats.arrival_anchored = self._stats.arrival_anchored + 1
      end
    end
    if not self._w then
      if not self._first_arrival then return end
      local ready = true
      for _, st in ipairs(self._tracks) do
        if not st.excluded then
          if #st.pending > 0 and not st.anchor_ms then ready = false end
          -- A track with no media yet is waited for while the holdback lasts.
          if #st.pending == 0 and not st.last_ts and now - self._first_arrival < hold then ready = false end
        end
      end
      if ready then open_file(self) end
      return
    end
    for _, st in ipairs(self._tracks) do
      if #st.pending > 0 and st.anchor_ms and not st.excluded then
        local p = st.pending
        st.pending, st.pending_bytes = {}, 0
        for _, fr in ipairs(p) do
          if self._closed then return end
          write(self, st, fr)
        end
      end
    end
  end

  local function on_frame(self, st, f)
    if self._closed or st.excluded then return end
    local now = core.now()
    st.codec = st.codec or f.codec
    local ext = advance(st, f.timestamp)
    if not st.first_arrival then
      st.first_arrival = now
      self._first_arrival = self._first_arrival or now
      if st.early_sr then local sr = st.early_sr; st.early_sr = nil; apply_sr(self, st, sr) end
    end
    local fr = { data = f.data, ext = ext, keyframe = f.keyframe }
    if self._w and st.anchor_ms and self._file_tracks[st.kind] == st then
      write(self, st, fr)
    elseif self._w and not self._file_tracks[st.kind] then
      st.excluded = true            -- the file was made without this kind
      self._stats.dropped = self._stats.dropped + 1
    else
      st.pending[#st.pending + 1] = fr
      st.pending_bytes = st.pending_bytes + #fr.data
      check(self, now)
    end
  end
  -- }======

  --- rec:add(track) -> true | nil, err: records one remote track (its kind must fit the
  --- file and its slot be free: one audio and/or one video track per file).
  function R:add(track)
    if type(track) ~= "table" or not RATE[track.kind] or type(track.on) ~= "function" then
      error("bad argument #1 to 'add' (remote media track expected)", 2)
    end
    if self._closed then return nil, "InvalidStateError: the recorder is closed", "InvalidStateError" end
    if not FORMATS[self._format][track.kind] then
      return nil, "NotSupportedError: a ." .. self._format .. " file has no " .. track.kind .. " track", "NotSupportedError"
    end
    for _, st in ipairs(self._tracks) do
      if st.track == track then return true end
      if st.kind == track.kind and not st.excluded then
        return nil, "InvalidStateError: the file already records a " .. track.kind .. " track", "InvalidStateError"
      end
    end
    local pc = track._tr and track._tr._pc or track
    local g = self._groups[pc]
    if not g then g = {}; self._groups[pc] = g end
    local st = { track = track, kind = track.kind, rate = RATE[track.kind], group = g, pending = {}, pending_bytes = 0,
                 srs = 0, corr = 0 }
    if self._w then st.excluded = not self._file_tracks[track.kind] end
    self._tracks[#self._tracks + 1] = st
    track:on("frame", function(f) on_frame(self, st, f) end)
    track:on("sr", function(sr)
      if self._closed or st.excluded then return end
      apply_sr(self, st, sr)
      check(self, core.now())
    end)
    if track.sync then apply_sr(self, st, track.sync) end
    if track.kind == "video" and track.request_keyframe then pcall(track.request_keyframe, track) end
    return true
  end

  --- rec:add_pc(pc): records the remote tracks the pc has and those it gets later (the
  --- first of each kind the file can hold).
  function R:add_pc(pc)
    if type(pc) ~= "table" or type(pc.get_transceivers) ~= "function" then
      error("bad argument #1 to 'add_pc' (peer connection expected)", 2)
    end
    local function try(track)
      if self._closed or not FORMATS[self._format][track.kind] then return end
      for _, st in ipairs(self._tracks) do if st.kind == track.kind then return end end
      self:add(track)
    end
    for _, tr in ipairs(pc:get_transceivers()) do
      if tr.receiver and tr.receiver.track and tr.receiver.track.mid then try(tr.receiver.track) end
    end
    pc:on("track", function(track) try(track) end)
    return self
  end

  --- rec:close() -> true | nil, err: writes what is held and finalizes the file.
  function R:close()
    if self._closed then
      if self._failed then return nil, self._failed end
      return true
    end
    if self._timer then self._timer:stop(); self._timer = nil end
    -- Whatever is still held goes out with the anchors it has (arrival time at worst).
    check(self, core.now(), true)
    if self._failed then return nil, self._failed end
    self._closed = true
    local w = self._w
    self._w = nil
    local ok, err = true, nil
    if w then ok, err = w:close() end
    if not ok then
      self._failed = err
      emit(self, "error", err)
    end
    emit(self, "close")
    if not ok then return nil, err end
    return true
  end
  R.__close = R.close

  --- rec:stats() -> { audio_frames, video_frames, dropped, duration_ms, sender_reports,
  --- arrival_anchored, retimed, synced = { audio = bool, video = bool }, started = bool }
  function R:stats()
    local s = {}
    for k, v in pairs(self._stats) do s[k] = v end
    s.synced = {}
    for _, st in ipairs(self._tracks) do if not st.excluded then s.synced[st.kind] = st.synced or false end end
    s.started = self._origin ~= nil
    return s
  end

  --- rtc.recorder(path, opts) -> recorder. Format from the extension (.webm/.mkv audio
  --- and video, .ogg/.opus audio, .ivf video) or opts.format. opts: pc (add_pc), tracks
  --- (list for add), holdback_ms (3000: how long a stream waits for its first SR),
  --- channels (Opus, 2), width/height (video; default from the first keyframe).
  function rtc.recorder(path, opts)
    if type(path) ~= "string" then error("bad argument #1 to 'recorder' (path expected)", 2) end
    opts = opts or {}
    if type(opts) ~= "table" then error("bad argument #2 to 'recorder' (table expected)", 2) end
    local fmt = opts.format or (path:match("%.([%w]+)$") or ""):lower()
    if not FORMATS[fmt] then error("bad argument #1 to 'recorder' (.webm, .mkv, .ogg or .ivf expected, or opts.format)", 2) end
    if fmt == "mkv" then fmt = "webm" elseif fmt == "opus" then fmt = "ogg" end
    local self = setmetatable({ _path = path, _format = fmt, _opts = opts, _on = {}, _tracks = {},
                                _groups = setmetatable({}, { __mode = "k" }),
                                _stats = { audio_frames = 0, video_frames = 0, dropped = 0, duration_ms = 0,
                                           sender_reports = 0, arrival_anchored = 0, retimed = 0 } }, R)
    -- The holdback ends on time even when no frame comes to notice it.
    self._timer = rtc.set_interval(250, function() check(self, core.now()) end)
    if opts.pc then self:add_pc(opts.pc) end
    for _, t in ipairs(opts.tracks or {}) do
      local ok, err = self:add(t)
      if not ok then error("bad option 'tracks' (" .. tostring(err) .. ")", 2) end
    end
    return self
  end
end
