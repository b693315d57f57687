-- rtc.peer_connection and data channels: the W3C RTCPeerConnection / RTCDataChannel
-- shape in snake_case, on top of rtc.core's peer connection (runtime/lua/lrtc_pc.c).
-- See docs/peer-connection.md and, for transceivers and tracks, docs/media.md.
local json = nil -- set by install()
local RTC = nil  -- the rtc table, set by install(); PCM on tracks lives in RTC.media._pcm

local PC, DC = {}, {}
local resolve_servers   -- the configuration section, below

local PC_EVENTS = {
  icecandidate = true, icegatheringstatechange = true, iceconnectionstatechange = true,
  connectionstatechange = true, signalingstatechange = true, negotiationneeded = true,
  datachannel = true, close = true, error = true, track = true, icecandidateerror = true,
  bandwidth = true,
}
local DC_EVENTS = { open = true, message = true, close = true, closing = true, bufferedamountlow = true, error = true }

local listeners = require "rtc.listeners"
local log_error, emit, on = listeners.log_error, listeners.emit, listeners.on

-- W3C event handler attributes (pc.ontrack = fn, dc.onmessage = fn, track.onended = fn):
-- one slot per event beside the listeners `on` adds; assigning replaces the previous
-- handler, nil removes it. Returns true when `k` names such an attribute.
local function set_handler(obj, valid, k, v)
  local ev = type(k) == "string" and k:match("^on(.+)$")
  if not ev or not valid[ev] then return false end
  if v ~= nil and type(v) ~= "function" and not (getmetatable(v) or {}).__call then
    error("attribute '" .. k .. "' must be a function or nil", 3)
  end
  local slots = rawget(obj, "_handlers")
  if not slots then slots = {}; rawset(obj, "_handlers", slots) end
  local old = slots[ev]
  local list = obj._listeners[ev]
  if old and list then
    for i = #list, 1, -1 do if list[i] == old then table.remove(list, i); break end end
  end
  slots[ev] = v
  if v ~= nil then
    list = obj._listeners[ev] or {}
    obj._listeners[ev] = list
    list[#list + 1] = v
  end
  return true
end

local function get_handler(obj, k)
  local ev = type(k) == "string" and k:match("^on(.+)$")
  local slots = ev and rawget(obj, "_handlers")
  return slots and slots[ev]
end

local function read_only(k, level)
  error("attribute '" .. tostring(k) .. "' is read-only", level + 1)
end

-- Tasks in pc:wait_connected() / dc:wait_open(): kept in obj[key], woken once with err
-- nil (the state came) or the reason it cannot come any more.
local function wait_state(obj, key, fname)
  local co, main = coroutine.running()
  if main or not coroutine.isyieldable() then error(fname .. ": must be called from a task (coroutine)", 3) end
  local list = rawget(obj, key)
  if not list then list = {}; rawset(obj, key, list) end
  local w = { co = co }
  list[#list + 1] = w
  repeat coroutine.yield() until w.done
  if w.err then return nil, w.err, w.err:match("^(%a+)") end
  return true
end

local function wake_state(obj, key, err)
  local list = rawget(obj, key)
  if not list then return end
  rawset(obj, key, nil)
  for _, w in ipairs(list) do
    w.done, w.err = true, err
    RTC._wake_soon(w.co)
  end
end

-- {====== data channels ======
local function new_dc(pc, handle)
  local dc = setmetatable({ _pc = pc, _h = handle, _listeners = {} }, DC)
  pc._channels[handle] = dc
  return dc
end

local dc_fields = {
  label = true, protocol = true, id = true, ordered = true, negotiated = true,
  max_retransmits = true, max_packet_life_time = true, messages_sent = true, bytes_sent = true,
  messages_received = true, bytes_received = true, buffered_amount_low_threshold = true,
}

DC.__index = function(self, k)
  local m = rawget(DC, k)
  if m then return m end
  local hf = get_handler(self, k)
  if hf then return hf end
  -- A closed channel answers from the snapshot taken at close: its handle is released.
  local gone = self._pc._closed or rawget(self, "_closed")
  if k == "buffered_amount" then
    if gone then return 0 end
    return self._pc._core:dc_buffered(self._h)
  elseif k == "ready_state" then
    if gone then return "closed" end
    return self._pc._core:dc_info(self._h).state
  elseif dc_fields[k] then
    if gone then return self._info and self._info[k] end
    local info = self._pc._core:dc_info(self._h)
    self._info = info
    return info[k]
  end
  return nil
end

DC.__newindex = function(self, k, v)
  if set_handler(self, DC_EVENTS, k, v) then return end
  if dc_fields[k] or k == "buffered_amount" or k == "ready_state" then
    if k ~= "buffered_amount_low_threshold" then read_only(k, 2) end
  end
  if k == "buffered_amount_low_threshold" then
    if math.type(v) ~= "integer" or v < 0 then error("buffered_amount_low_threshold must be a non-negative integer", 2) end
    if not (self._pc._closed or rawget(self, "_closed")) then self._pc._core:dc_set_threshold(self._h, v) end
    return
  end
  rawset(self, k, v)
end

DC.__tostring = function(self) return string.format("rtc.data_channel(%s)", self._h) end
DC.__name = "rtc.data_channel"

function DC:on(ev, fn) return on(self, DC_EVENTS, ev, fn) end

--- dc:send(data[, binary]) -> true | nil, err. Strings are sent as text unless binary.
function DC:send(data, binary)
  if type(data) ~= "string" then error("bad argument #1 to 'send' (string expected)", 2) end
  if self._pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  if self._closed then return nil, "InvalidStateError: data channel is not open", "InvalidStateError" end
  return self._pc._core:dc_send(self._h, data, binary and true or false)
end

--- dc:wait_open() -> true | nil, err: yields the calling task until the channel is open;
--- nil, "InvalidStateError: ..." when it (or its connection) closes first.
function DC:wait_open()
  local st = self.ready_state
  if st == "open" then return true end
  if st == "closed" or st == "closing" then
    return nil, "InvalidStateError: the data channel is " .. st, "InvalidStateError"
  end
  return wait_state(self, "_open_waiters", "dc:wait_open")
end

function DC:close()
  if self._pc._closed or self._closed then return true end
  return self._pc._core:dc_close(self._h)
end
DC.__close = DC.close
-- }======

-- {====== media: transceivers and tracks (pc/pc_media.h) ======
local TR, TRACK = {}, {}
local TRACK_EVENTS = { frame = true, keyframerequest = true, ended = true, sr = true }
TRACK_EVENTS.pcm = true   -- decoded 48 kHz PCM of a remote Opus track (lua/rtc/media.lua)
local KINDS = { audio = true, video = true }
local DIRECTIONS = { sendrecv = true, sendonly = true, recvonly = true, inactive = true }

local function new_track(kind, remote, codec)
  local id = string.format("%08x-%04x", math.random(0, 0x7fffffff), math.random(0, 0xffff))
  return setmetatable({ kind = kind, id = id, remote = remote, codec = codec, ready_state = "live",
                        _listeners = {} }, TRACK)
end

TRACK.__index = function(self, k)
  local m = rawget(TRACK, k)
  if m then return m end
  return get_handler(self, k)
end
TRACK.__newindex = function(self, k, v)
  if set_handler(self, TRACK_EVENTS, k, v) then return end
  rawset(self, k, v)
end
TRACK.__name = "rtc.media_track"
TRACK.__tostring = function(self)
  return string.format("rtc.media_track(%s %s%s)", self.remote and "remote" or "local", self.kind,
                       self._tr and (" mid " .. tostring(self._tr.mid)) or "")
end

function TRACK:on(ev, fn) return on(self, TRACK_EVENTS, ev, fn) end

--- track:write_frame{data=, timestamp=, keyframe=, audio_level=, voice=, rid=} -> packets | nil, err (local tracks).
--- rid: the simulcast encoding to send it on (add_transceiver's send_encodings; default the first).
--- data: one encoded frame (Opus packet, VP8/VP9 frame, H264 Annex B access unit, AV1
--- temporal unit); timestamp in the codec's RTP clock (48 kHz Opus, 90 kHz video).
--- audio_level (audio): the frame's RFC 6464 level, -dBov 0 (loudest) .. 127 (silence),
--- sent in the ssrc-audio-level header extension when negotiated; voice: its V flag
--- (default: level below 127). tone_source frames carry it.
function TRACK:write_frame(f)
  if type(f) ~= "table" or type(f.data) ~= "string" or math.type(f.timestamp) ~= "integer" then
    error("bad argument #1 to 'write_frame' ({data=string, timestamp=integer} expected)", 2)
  end
  local level = f.audio_level
  if level ~= nil and (math.type(level) ~= "integer" or level < 0 or level > 127) then
    error("bad argument #1 to 'write_frame' (audio_level must be an integer 0..127)", 2)
  end
  if level ~= nil and self.kind ~= "audio" then error("write_frame: only audio frames carry an audio_level", 2) end
  if self.remote then error("write_frame: a remote track cannot be written to", 2) end
  if f.rid ~= nil and type(f.rid) ~= "string" then error("bad argument #1 to 'write_frame' (rid must be a string)", 2) end
  local tr = self._tr
  if not tr or tr._pc._closed then return nil, "InvalidStateError: the track is not sending", "InvalidStateError" end
  local data, xf = f.data, tr.sender.transform
  if type(xf) == "function" then
    local codec = self.codec or tr.codec
    data = xf(data, { direction = "send", kind = self.kind, codec = codec, timestamp = f.timestamp,
                      keyframe = f.keyframe or (codec == "VP8" and #data > 0 and data:byte(1) & 1 == 0) })
    if data == nil then return 0 end
    if type(data) ~= "string" then error("the sender's transform must return a string or nil", 2) end
  end
  return tr._pc._core:send_frame(tr._h, data, f.timestamp & 0xffffffff, f.keyframe and true or false, level, f.voice, f.rid)
end

--- track:request_keyframe(): ask the sender for a keyframe (remote tracks; PLI).
function TRACK:request_keyframe()
  if not self.remote then error("request_keyframe: only remote tracks receive keyframes", 2) end
  local tr = self._tr
  if not tr or tr._pc._closed then return nil, "InvalidStateError: the track has ended", "InvalidStateError" end
  return tr._pc._core:request_keyframe(tr._h)
end

--- track:write_pcm(samples) -> packets | nil, err (local audio tracks): interleaved s16
--- PCM at 48 kHz, any length; encoded in 20 ms Opus frames with the peer's fmtp
--- (usedtx, useinbandfec, stereo, ...) and sent with RTP timestamps that count samples.
function TRACK:write_pcm(samples) return RTC.media._pcm.write(self, samples) end

--- track:pcm_stats() -> { encoder = {...}, decoder = {...} } once PCM has flowed.
function TRACK:pcm_stats() return RTC.media._pcm.stats(self) end

-- {=== frame transforms (pc/pc_transform.h): sender:set_transform(t), receiver:set_transform(t)
-- t: rtc.transforms.xor(key) / rtc.transforms.aes_gcm(key) (per-frame work in C), a Lua
-- function fn(data, info) -> new data | nil to drop (slow: one Lua call per frame), or nil.
-- As in W3C, `sender.transform = t` works too (it raises where set_transform returns an error).
local SENDER, RECEIVER = {}, {}
SENDER.__name, RECEIVER.__name = "rtc.rtp_sender", "rtc.rtp_receiver"

local function set_transform(self, t, dir, level)
  local tr = self._tr
  local ty = type(t)
  if t ~= nil and ty ~= "function" and ty ~= "userdata" then
    error("bad argument #1 to 'set_transform' (function, rtc.transforms object or nil expected)", level)
  end
  if tr._pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  local ok, err, name = tr._pc._core:set_transform(tr._h, dir, ty == "userdata" and t or nil)
  if not ok then return nil, err, name end
  rawset(self, "_transform", t)
  return true
end
function SENDER:set_transform(t) return set_transform(self, t, "send", 3) end
function RECEIVER:set_transform(t) return set_transform(self, t, "receive", 3) end
for cls, dir in pairs { [SENDER] = "send", [RECEIVER] = "receive" } do
  cls.__index = function(self, k)
    if k == "transform" then return rawget(self, "_transform") end
    return cls[k]
  end
  cls.__newindex = function(self, k, v)
    if k ~= "transform" then return rawset(self, k, v) end
    local ok, err = set_transform(self, v, dir, 3)
    if not ok then error(err, 2) end
  end
end
--- stats of the installed C transform: {frames=, dropped=, failed=, bytes_in=, bytes_out=}
function SENDER:transform_stats() return self._tr._pc._core:transform_stats(self._tr._h, "send") end
function RECEIVER:transform_stats() return self._tr._pc._core:transform_stats(self._tr._h, "receive") end
-- }===

-- {=== sender:get_parameters() / sender:set_parameters(p) (W3C RTCRtpSendParameters):
-- one encoding per simulcast layer (one without), each with `rid`, `active` and
-- `max_bitrate` (bit/s). set_parameters takes only what the last get_parameters
-- returned (its transaction_id), once, with the same encodings in the same order.
local tid_seq = 0
function SENDER:get_parameters()
  local tr = self._tr
  local encs = {}
  local list = not tr._pc._closed and tr._pc._core:tr_encodings(tr._h) or { { active = true } }
  for i, e in ipairs(list) do
    local set = (rawget(self, "_encodings") or {})[i] or {}
    encs[i] = { rid = e.rid, active = e.active, max_bitrate = set.max_bitrate,
                scale_resolution_down_by = set.scale_resolution_down_by }
  end
  tid_seq = tid_seq + 1
  local tid = tostring(tid_seq)
  rawset(self, "_last_tid", tid)
  return { transaction_id = tid, encodings = encs, codecs = {}, header_extensions = {}, rtcp = { reduced_size = false } }
end

local function param_error(name, msg) return nil, name .. ": " .. msg, name end

function SENDER:set_parameters(p)
  if type(p) ~= "table" then error("bad argument #1 to 'set_parameters' (table expected)", 2) end
  local tr = self._tr
  if tr._pc._closed or tr._stopping then return param_error("InvalidStateError", "the sender is stopped") end
  local last = rawget(self, "_last_tid")
  if not last then return param_error("InvalidStateError", "get_parameters was not called since the last set_parameters") end
  if p.transaction_id ~= last then
    return param_error("InvalidModificationError", "transaction_id is not that of the last get_parameters")
  end
  local encs = p.encodings
  local have = tr._pc._core:tr_encodings(tr._h)
  if type(encs) ~= "table" or #encs ~= #have then
    return param_error("InvalidModificationError", "encodings must keep their number (" .. #have .. ")")
  end
  for i, e in ipairs(encs) do
    if type(e) ~= "table" then error("bad argument #1 to 'set_parameters' (encodings[" .. i .. "] must be a table)", 2) end
    if e.rid ~= have[i].rid then return param_error("InvalidModificationError", "encodings[" .. i .. "].rid cannot change") end
    local mb = e.max_bitrate
    if mb ~= nil and (type(mb) ~= "number" or mb ~= mb or mb < 0) then
      return param_error("RangeError", "encodings[" .. i .. "].max_bitrate must be a number >= 0")
    end
  end
  local kept = {}
  for i, e in ipairs(encs) do
    local ok, err, name = tr._pc._core:tr_set_encoding(tr._h, e.active ~= false, e.max_bitrate or 0, e.rid)
    if not ok then return nil, err, name end
    local old = (rawget(self, "_encodings") or {})[i] or {}
    kept[i] = { max_bitrate = e.max_bitrate, scale_resolution_down_by = old.scale_resolution_down_by }
  end
  rawset(self, "_last_tid", nil)
  rawset(self, "_encodings", kept)
  return true
end
-- }===

-- The C side holds the one list of transceivers (pc/pc_media.h: handles 0..count-1, in
-- creation order); the Lua objects are views of it, made the first time a handle is
-- seen, whoever created it (add_transceiver, or a remote offer).
local function new_transceiver(pc, h, kind, remote_created)
  local tr = setmetatable({ _pc = pc, _h = h, kind = kind, _remote_created = remote_created,
                            sender = setmetatable({}, SENDER), receiver = setmetatable({}, RECEIVER) }, TR)
  tr.sender._tr, tr.receiver._tr = tr, tr
  tr.receiver.track = new_track(kind, true)
  tr.receiver.track._tr = tr
  pc._transceivers[h] = tr
  return tr
end

-- Brings pc._transceivers in line with the C list: views for new handles, none for the
-- transceivers a rolled-back remote offer removed, nor (W3C) for those a completed
-- negotiation stopped: C sets `stopped` only when an answer rejects the section, the
-- point where W3C takes a transceiver out of the connection's set. A script holding
-- such a view still reads its last state (tr.stopped true), and its remote track has
-- ended. Every handle but `own` (the one add_transceiver just made) comes from a remote
-- offer: _remote_created (lua/rtc/sfu.lua).
local function end_track(track)
  if track.ready_state == "ended" then return end
  track.ready_state = "ended"
  emit(track, "ended")
end
local function sync_transceivers(pc, own)
  if pc._closed then return end
  local core = pc._core
  local n = core:tr_count()
  for h, tr in pairs(pc._transceivers) do
    local info = h < n and core:tr_info(h) or nil
    if not info or info.removed or info.stopped then
      pc._transceivers[h] = nil
      rawset(tr, "_info", info or tr._info)
      if tr.sender.track then tr.sender.track._tr = nil end
      if info and info.stopped and not info.removed then end_track(tr.receiver.track) end
      RTC.media._pcm.release(tr.receiver.track)
    end
  end
  for h = 0, n - 1 do
    if not pc._transceivers[h] then
      local info = core:tr_info(h)
      if not info.removed and not info.stopped then new_transceiver(pc, h, info.kind, h ~= own) end
    end
  end
end

-- The transceivers in creation order.
local function ordered_transceivers(pc)
  sync_transceivers(pc)
  local hs = {}
  for h in pairs(pc._transceivers) do hs[#hs + 1] = h end
  table.sort(hs)
  for i, h in ipairs(hs) do hs[i] = pc._transceivers[h] end
  return hs
end

TR.__name = "rtc.transceiver"
TR.__index = function(self, k)
  local m = rawget(TR, k)
  if m then return m end
  if k == "mid" or k == "direction" or k == "current_direction" or k == "codec" or k == "stopped" or k == "stopping" then
    -- closed, or removed by a rollback: what it said last
    local gone = self._pc._closed or self._pc._transceivers[self._h] ~= self
    local info = gone and self._info or self._pc._core:tr_info(self._h)
    self._info = info
    if not info then return nil end
    if k == "mid" then return info.mid ~= "" and info.mid or nil end
    return info[k]
  end
  return nil
end
-- tr.direction = "recvonly" is tr:set_direction (raising where that returns an error);
-- the negotiated attributes are read-only.
TR.__newindex = function(self, k, v)
  if k == "direction" then
    if not DIRECTIONS[v] then error("attribute 'direction' must be sendrecv, sendonly, recvonly or inactive", 2) end
    local ok, err = self:set_direction(v)
    if not ok then error(err, 2) end
    return
  end
  if k == "mid" or k == "current_direction" or k == "codec" or k == "stopped" or k == "stopping" then read_only(k, 2) end
  rawset(self, k, v)
end
TR.__tostring = function(self) return string.format("rtc.transceiver(%s %s)", self.kind, tostring(self.mid)) end

--- tr:stop() -> true | nil, err (W3C stop): sending stops at once, the sender's track is
--- detached, negotiationneeded fires and the next description has the section with
--- port 0; tr.stopping is true at once, tr.stopped once that is negotiated.
function TR:stop()
  if self._pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  local ok, err, name = self._pc._core:tr_stop(self._h)
  if not ok then return nil, err, name end
  rawset(self, "_stopping", true)
  local track = self.sender.track
  if track then track._tr = nil; self.sender.track = nil end
  return true
end

--- tr:set_direction("sendrecv"|"sendonly"|"recvonly"|"inactive"): used at the next negotiation.
function TR:set_direction(dir)
  if not DIRECTIONS[dir] then error("bad argument #1 to 'set_direction' (unknown direction)", 2) end
  if self._pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  return self._pc._core:tr_set_direction(self._h, dir)
end

-- What rtc.capabilities(kind) lists: the codecs luartc packetizes, in our offer order.
local CAPABILITIES = {
  audio = { { mime_type = "audio/opus", clock_rate = 48000, channels = 2 } },
  video = { { mime_type = "video/VP8", clock_rate = 90000 }, { mime_type = "video/VP9", clock_rate = 90000 },
            { mime_type = "video/H264", clock_rate = 90000 }, { mime_type = "video/AV1", clock_rate = 90000 } },
}
-- Codec names add_transceiver takes (lower case): those of CAPABILITIES.
local CODEC_NAMES = {}
for _, list in pairs(CAPABILITIES) do
  for _, c in ipairs(list) do CODEC_NAMES[c.mime_type:match("/(.+)$"):lower()] = true end
end

--- tr:set_codec_preferences(codecs): codecs as rtc.capabilities(kind).codecs lists them
--- (a table of {mime_type=[, sdp_fmtp_line=]}); the first is offered first and picked
--- when answering; its sdp_fmtp_line (e.g. "profile-level-id=640c1f;packetization-mode=1")
--- is the format wanted of it: offered as is, and answering, an offered payload type in
--- another format (H264 profile, VP9 profile-id, AV1 profile) is not taken while another
--- codec is offered. nil or {} goes back to the default order. Takes effect at the next
--- negotiation.
function TR:set_codec_preferences(codecs)
  if codecs ~= nil and type(codecs) ~= "table" then
    error("bad argument #1 to 'set_codec_preferences' (table of codecs expected)", 2)
  end
  local name, fmtp
  if codecs and codecs[1] ~= nil then
    local c = codecs[1]
    local mime = type(c) == "table" and c.mime_type
    local k
    if type(mime) == "string" then k = mime:match("^(%a+)/.+$") end
    if not k then error("bad argument #1 to 'set_codec_preferences' (codecs[1].mime_type expected)", 2) end
    if k:lower() ~= self.kind then
      return nil, "InvalidModificationError: " .. mime .. " is not a " .. self.kind .. " codec", "InvalidModificationError"
    end
    for _, cap in ipairs(CAPABILITIES[self.kind]) do
      if cap.mime_type:lower() == mime:lower() then name = cap.mime_type:match("/(.+)$") end
    end
    if not name then
      return nil, "InvalidModificationError: " .. mime .. " is not in rtc.capabilities", "InvalidModificationError"
    end
    fmtp = c.sdp_fmtp_line
    if fmtp ~= nil and (type(fmtp) ~= "string" or #fmtp > 127 or fmtp:find("[\r\n]")) then
      error("bad argument #1 to 'set_codec_preferences' (codecs[1].sdp_fmtp_line must be a one-line string of at most 127 bytes)", 2)
    end
    if fmtp == "" then fmtp = nil end
  end
  if self._pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  return self._pc._core:tr_set_codec(self._h, name, fmtp)
end

--- tr.sender:replace_track(track)
local function attach(tr, track)
  if track.remote then error("a remote track cannot be sent", 3) end
  if track.kind ~= tr.kind then error("track kind " .. track.kind .. " does not fit a " .. tr.kind .. " transceiver", 3) end
  if track._tr and track._tr ~= tr then error("the track is already sent by another transceiver", 3) end
  tr.sender.track = track
  track._tr = tr
end

--- sender:replace_track(track | nil) -> true | nil, err, name (W3C replaceTrack): frames
--- of the new track go out on the same stream (SSRC, sequence numbers) with no
--- renegotiation; nil stops sending until a track is given again. A track of another
--- kind: TypeError; a stopped transceiver or a closed connection: InvalidStateError.
function SENDER:replace_track(track)
  local tr = self._tr
  if track ~= nil and (getmetatable(track) ~= TRACK or track.remote) then
    error("bad argument #1 to 'replace_track' (local media track or nil expected)", 2)
  end
  if tr._pc._closed or tr._stopping then
    return nil, "InvalidStateError: the transceiver is stopped", "InvalidStateError"
  end
  if track and track.kind ~= tr.kind then
    return nil, "TypeError: a " .. track.kind .. " track does not fit a " .. tr.kind .. " sender", "TypeError"
  end
  if track and track._tr and track._tr ~= tr then
    return nil, "InvalidAccessError: the track is already sent by another transceiver", "InvalidAccessError"
  end
  local old = self.track
  if old == track then return true end
  if old then old._tr = nil end
  self.track = nil
  if track then attach(tr, track) end
  return true
end

local function media_dispatch(pc, name, h, a, b, c, d, e)
  local tr = pc._transceivers[h]
  if name == "track" then
    if not tr then sync_transceivers(pc); tr = pc._transceivers[h] end
    if not tr then return end
    tr.receiver.track.mid = b
    emit(pc, "track", tr.receiver.track, tr)
  elseif name == "frame" then
    if tr then
      local xf = tr.receiver.transform
      if type(xf) == "function" then
        -- an error raised here is logged with its traceback by the callback gate
        a = xf(a, { direction = "receive", kind = tr.kind, codec = d, timestamp = b, keyframe = c,
                    rid = e ~= "" and e or nil })
        if type(a) ~= "string" then return end
      end
      emit(tr.receiver.track, "frame", { data = a, timestamp = b, keyframe = c, codec = d, mid = tr.receiver.track.mid,
                                         rid = e ~= "" and e or nil })
      local track = tr.receiver.track
      if track._listeners.pcm and d == "opus" then RTC.media._pcm.feed(track, a, b, emit)
      elseif track._pcm_rx then RTC.media._pcm.release(track) end
    end
  elseif name == "keyframerequest" then
    -- a: the simulcast encoding asked for ("" without simulcast)
    if tr and tr.sender.track then emit(tr.sender.track, "keyframerequest", a ~= "" and { rid = a } or nil) end
  elseif name == "senderreport" then
    -- track.sync keeps the latest so a recorder added later starts in sync at once.
    if tr then
      local sr = { ntp_ms = a, timestamp = b, rid = c ~= "" and c or nil, received_ms = pc._rtc.now() }
      tr.receiver.track.sync = sr
      emit(tr.receiver.track, "sr", sr)
    end
  end
end
local MEDIA_EVENTS = { track = true, frame = true, keyframerequest = true, senderreport = true }
-- }======

-- {====== peer connection ======
-- Tasks in pc:wait_gathering_complete() go on with err nil (complete) or the reason
-- they cannot wait any more (closed); they are woken through the loop's resume gate.
local function wake_gather_waiters(pc, err)
  local waiters = pc._gather_waiters
  pc._gather_waiters = {}
  for i = 1, #waiters do
    local w = waiters[i]
    w.done, w.err = true, err
    RTC._wake_soon(w.co)
  end
end

local function dispatch(pc, name, a, b, c, d, e, f)
  if MEDIA_EVENTS[name] then return media_dispatch(pc, name, a, b, c, d, e, f) end
  if name == "icecandidate" then
    if a == "" then
      emit(pc, "icecandidate", nil)
    else
      emit(pc, "icecandidate", { candidate = a, sdp_mid = b, sdp_mline_index = c })
    end
  elseif name == "datachannel" then
    local dc = new_dc(pc, a)
    emit(pc, "datachannel", dc)
    emit(dc, "open")
  elseif name == "open" or name == "closing" or name == "bufferedamountlow" then
    local dc = pc._channels[a]
    if dc then
      emit(dc, name)
      if name == "open" then wake_state(dc, "_open_waiters") end
    end
  elseif name == "message" then
    local dc = pc._channels[a]
    if dc then emit(dc, "message", b, c) end
  elseif name == "dcclose" then
    local dc = pc._channels[a]
    if dc then
      -- The C side releases the handle after this event: keep what it said last, and
      -- let go of the channel (a script that still holds it reads the snapshot).
      dc._info = pc._core:dc_info(a)
      dc._closed = true
      pc._channels[a] = nil
      if b then emit(dc, "error", b) end
      emit(dc, "close")
      wake_state(dc, "_open_waiters", "InvalidStateError: the data channel closed")
    end
  elseif name == "icecandidateerror" then
    -- a = server IP, b = port, c = STUN error code (0: no answer, W3C's 701), d = reason
    local url
    for _, sv in ipairs(pc._servers or {}) do
      if sv.port == b then
        if sv.host == a then url = sv.url end
        for _, h in ipairs(sv.more_hosts or {}) do if h == a then url = sv.url end end
        if url then break end
      end
    end
    emit(pc, "icecandidateerror", { address = a, port = b, url = url, error_code = c ~= 0 and c or 701,
                                    error_text = d })
  elseif name == "bandwidth" then
    emit(pc, "bandwidth", a, pc._core:bandwidth() or { bps = a })
  elseif name == "icegatheringstatechange" then
    emit(pc, name, a)
    if a == "complete" then wake_gather_waiters(pc) end
  else
    emit(pc, name, a, b, c)
    if name == "connectionstatechange" then
      if a == "connected" then wake_state(pc, "_conn_waiters")
      elseif a == "failed" then wake_state(pc, "_conn_waiters", "OperationError: the connection failed") end
    end
  end
end

local DESC_FIELDS = { current_local_description = { "local", false }, pending_local_description = { "local", true },
                      current_remote_description = { "remote", false }, pending_remote_description = { "remote", true } }
local STATE_FIELDS = { signaling_state = 1, ice_gathering_state = 2, ice_connection_state = 3, connection_state = 4 }

PC.__index = function(self, k)
  local m = rawget(PC, k)
  if m then return m end
  local hf = get_handler(self, k)
  if hf then return hf end
  local si = STATE_FIELDS[k]
  if si then
    if self._closed then return k == "ice_gathering_state" and "complete" or "closed" end
    return (select(si, self._core:states()))
  elseif k == "local_description" or k == "remote_description" then
    if self._closed then return nil end
    local t, sdp
    if k == "local_description" then t, sdp = self._core:local_description()
    else t, sdp = self._core:remote_description() end
    if not t then return nil end
    return { type = t, sdp = sdp }
  elseif DESC_FIELDS[k] then
    -- W3C: pending_* while that side's description awaits its answer; current_* is
    -- the one of the last negotiation that completed (kept when it returned to stable).
    if self._closed then return nil end
    local side, pending = DESC_FIELDS[k][1], DESC_FIELDS[k][2]
    local sig = self.signaling_state
    local waiting = sig == "have-" .. side .. "-offer" or sig == "have-" .. side .. "-pranswer"
    if pending then return waiting and self[side .. "_description"] or nil end
    if waiting then return rawget(self, "_current_" .. side) end
    return self[side .. "_description"]
  end
  return nil
end
-- pc.ontrack = fn and the other handler attributes work as in W3C; the state and
-- description attributes are read-only.
local PC_READ_ONLY = { local_description = true, remote_description = true, current_local_description = true,
                       pending_local_description = true, current_remote_description = true,
                       pending_remote_description = true }
PC.__newindex = function(self, k, v)
  if set_handler(self, PC_EVENTS, k, v) then return end
  if STATE_FIELDS[k] or PC_READ_ONLY[k] then read_only(k, 2) end
  rawset(self, k, v)
end
PC.__name = "rtc.peer_connection"
PC.__tostring = function(self) return "rtc.peer_connection(" .. (self._closed and "closed" or self.connection_state) .. ")" end

function PC:on(ev, fn) return on(self, PC_EVENTS, ev, fn) end

local function check_open(self)
  if self._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  return true
end

--- pc:create_offer{ice_restart=} -> {type="offer", sdp=} | nil, err
function PC:create_offer(opts)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  local sdp, err, name = self._core:create_offer(opts and opts.ice_restart or false)
  if not sdp then return nil, err, name end
  return { type = "offer", sdp = sdp }
end

--- pc:create_answer() -> {type="answer", sdp=} | nil, err
function PC:create_answer()
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  local sdp, err, name = self._core:create_answer()
  if not sdp then return nil, err, name end
  return { type = "answer", sdp = sdp }
end

local function check_desc(desc, fname, optional)
  if desc == nil and optional then return nil end
  if type(desc) ~= "table" or type(desc.type) ~= "string" then
    error("bad argument #1 to '" .. fname .. "' (description table {type=, sdp=} expected)", 3)
  end
  if desc.sdp ~= nil and type(desc.sdp) ~= "string" then
    error("bad argument #1 to '" .. fname .. "' (sdp must be a string)", 3)
  end
  return desc
end

-- A remote track ends (ready_state "ended", event "ended" once) when its transceiver is
-- stopped by a negotiation (either side's stop(), or a section at port 0) or, `all`, when
-- the connection closes.
-- In stable, the descriptions are the current ones: kept for current_*_description
-- while a later offer is pending.
local function keep_current(pc)
  if pc.signaling_state ~= "stable" then return end
  rawset(pc, "_current_local", pc.local_description)
  rawset(pc, "_current_remote", pc.remote_description)
end

local function end_receiver_tracks(pc, all)
  for _, tr in pairs(pc._transceivers) do
    if all or tr.stopped then end_track(tr.receiver.track) end
  end
end

--- pc:set_local_description([desc]) -> true | nil, err (no argument: implicit offer/answer)
function PC:set_local_description(desc)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  desc = check_desc(desc, "set_local_description", true)
  local t = desc and desc.type
  if not t then
    local sig = self.signaling_state
    t = (sig == "have-remote-offer" or sig == "have-local-pranswer") and "answer" or "offer"
  end
  if t ~= "offer" and t ~= "answer" and t ~= "pranswer" and t ~= "rollback" then
    return nil, "TypeError: unknown description type '" .. tostring(t) .. "'", "TypeError"
  end
  local ok2, err, name = self._core:set_local(t, desc and desc.sdp)
  if not ok2 then return nil, err, name end
  keep_current(self)
  -- an answer that completed a stop ends the remote track and drops the transceiver
  sync_transceivers(self)
  return ok2
end

--- pc:set_remote_description(desc) -> true | nil, err
function PC:set_remote_description(desc)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  check_desc(desc, "set_remote_description")
  local t = desc.type
  if t ~= "offer" and t ~= "answer" and t ~= "pranswer" and t ~= "rollback" then
    return nil, "TypeError: unknown description type '" .. tostring(t) .. "'", "TypeError"
  end
  if t ~= "rollback" and (not desc.sdp or desc.sdp == "") then
    -- not SDP at all: W3C's sdp-syntax-error, an OperationError
    return nil, "OperationError: empty description", "OperationError"
  end
  local ok2, err, name = self._core:set_remote(t, desc.sdp)
  if not ok2 then return nil, err, name end
  -- A remote offer may have created transceivers; a rollback may have removed them;
  -- an answer that completed a stop ends the remote track and drops the transceiver.
  sync_transceivers(self)
  keep_current(self)
  return ok2
end

--- pc:add_ice_candidate(c) -> true | nil, err
--- c = {candidate=, sdp_mid=, sdp_mline_index=}; nil or candidate "" = end-of-candidates.
--- The browser spellings sdpMid/sdpMLineIndex are accepted too.
function PC:add_ice_candidate(c)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  if c == nil then return self._core:add_candidate("", nil, 0) end
  if type(c) ~= "table" then error("bad argument #1 to 'add_ice_candidate' (table expected)", 2) end
  local cand = c.candidate or ""
  if type(cand) ~= "string" then error("bad argument #1 to 'add_ice_candidate' (candidate must be a string)", 2) end
  local mid = c.sdp_mid
  if mid == nil then mid = c.sdpMid end
  if mid == json.null then mid = nil end
  local idx = c.sdp_mline_index
  if idx == nil then idx = c.sdpMLineIndex end
  if idx == json.null then idx = nil end
  if mid == nil and idx == nil then
    return nil, "TypeError: candidate needs sdp_mid or sdp_mline_index", "TypeError"
  end
  return self._core:add_candidate(cand, mid, math.tointeger(idx) or 0)
end

--- pc:create_data_channel(label[, {ordered=, max_retransmits=, max_packet_life_time=,
---                         protocol=, negotiated=, id=}]) -> dc | nil, err
function PC:create_data_channel(label, opts)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  if type(label) ~= "string" then error("bad argument #1 to 'create_data_channel' (string expected)", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'create_data_channel' (table expected)", 2) end
  for _, k in ipairs { "max_retransmits", "max_packet_life_time", "id" } do
    local v = opts and opts[k]
    if v ~= nil and math.type(v) ~= "integer" then
      error("bad argument #2 to 'create_data_channel' (" .. k .. " must be an integer)", 2)
    end
    -- W3C: unsigned short members; out of range is a TypeError
    if v ~= nil and (v < 0 or v > 65535) then
      return nil, "TypeError: " .. k .. " must be in 0..65535", "TypeError"
    end
  end
  local h, err, name = self._core:create_channel(label, opts)
  if not h then return nil, err, name end
  return new_dc(self, h)
end

--- pc:add_transceiver("audio"|"video"|track[, {direction=, codec=, stereo=, red=}]) -> transceiver | nil, err
--- codec: the preferred codec name ("VP8", "H264", "VP9", "AV1", "opus").
--- stereo: audio only; our Opus fmtp asks the peer to send stereo (stereo=1).
--- red: audio only; "auto" (default: offer RED, send it only when the peer lists it
--- before Opus), "on" (send it whenever negotiated) or "off" (never offer or answer it).
--- fec: video only; "off" (default) or "ulpfec" (offer and answer red/90000 + ulpfec/90000,
--- rebuild lost packets from FEC, send one FEC packet per fec_group media packets, 1..48, default 4).
-- by_add_track: made by pc:add_track (JSEP 5.10 lets a remote offer's new section take it)
local function add_transceiver(self, what, opts, by_add_track)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  local track = type(what) == "table" and getmetatable(what) == TRACK and what or nil
  local kind = track and track.kind or what
  if not KINDS[kind] then error("bad argument #1 to 'add_transceiver' (\"audio\", \"video\" or a track expected)", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'add_transceiver' (table expected)", 2) end
  opts = opts or {}
  local dir = opts.direction or "sendrecv"
  if not DIRECTIONS[dir] then error("bad argument #2 to 'add_transceiver' (unknown direction)", 2) end
  local codec = opts.codec or (track and track.codec)
  if codec ~= nil and type(codec) ~= "string" then error("bad argument #2 to 'add_transceiver' (codec must be a string)", 2) end
  if codec ~= nil and not CODEC_NAMES[codec:lower()] then
    error("bad argument #2 to 'add_transceiver' (unknown codec '" .. codec .. "')", 2)
  end
  if opts.stereo and kind ~= "audio" then error("bad argument #2 to 'add_transceiver' (stereo is for audio)", 2) end
  local red = opts.red
  if red ~= nil and red ~= "auto" and red ~= "on" and red ~= "off" then
    error("bad argument #2 to 'add_transceiver' (red must be \"auto\", \"on\" or \"off\")", 2)
  end
  if red ~= nil and red ~= "auto" and kind ~= "audio" then error("bad argument #2 to 'add_transceiver' (red is for audio)", 2) end
  local fec, fec_group = opts.fec, opts.fec_group
  if fec ~= nil and fec ~= "off" and fec ~= "ulpfec" then
    error("bad argument #2 to 'add_transceiver' (fec must be \"off\" or \"ulpfec\")", 2)
  end
  if fec ~= nil and fec ~= "off" and kind ~= "video" then error("bad argument #2 to 'add_transceiver' (fec is for video)", 2) end
  if fec_group ~= nil and (math.type(fec_group) ~= "integer" or fec_group < 1 or fec_group > 48) then
    error("bad argument #2 to 'add_transceiver' (fec_group must be an integer 1..48)", 2)
  end
  local se = opts.send_encodings
  local rids = {}
  if se ~= nil then
    if type(se) ~= "table" or #se < 1 or #se > 4 then
      error("bad argument #2 to 'add_transceiver' (send_encodings must be a list of 1..4 tables)", 2)
    end
    for i, e in ipairs(se) do
      if type(e) ~= "table" or (#se > 1 and type(e.rid) ~= "string") then
        error("bad argument #2 to 'add_transceiver' (send_encodings[" .. i .. "] needs a rid when there are several)", 2)
      end
      if e.max_bitrate ~= nil and (type(e.max_bitrate) ~= "number" or not (e.max_bitrate >= 0)) then
        error("bad argument #2 to 'add_transceiver' (send_encodings[" .. i .. "].max_bitrate must be a number >= 0)", 2)
      end
      if e.scale_resolution_down_by ~= nil and (type(e.scale_resolution_down_by) ~= "number" or not (e.scale_resolution_down_by >= 1)) then
        error("bad argument #2 to 'add_transceiver' (send_encodings[" .. i .. "].scale_resolution_down_by must be >= 1)", 2)
      end
      if #se > 1 then
        if not e.rid:match("^[%w_%-]+$") or #e.rid > 15 then
          error("bad argument #2 to 'add_transceiver' (send_encodings[" .. i .. "].rid must be 1..15 of A-Z a-z 0-9 _ -)", 2)
        end
        for k = 1, i - 1 do
          if rids[k] == e.rid then error("bad argument #2 to 'add_transceiver' (send_encodings: rid '" .. e.rid .. "' twice)", 2) end
        end
      end
      rids[i] = e.rid
    end
    if #se > 1 and kind ~= "video" then error("bad argument #2 to 'add_transceiver' (simulcast is for video)", 2) end
  end
  local h, err, name = self._core:add_transceiver(kind, dir, codec, opts.stereo and true or false, red,
                                                  by_add_track == true, fec, fec_group)
  if not h then return nil, err, name end
  sync_transceivers(self, h)
  local tr = self._transceivers[h]
  if se ~= nil and #se > 1 then
    local sok, serr, sname = self._core:tr_set_send_encodings(h, rids)
    if not sok then return nil, serr, sname end
  end
  if se ~= nil then
    local kept = {}
    for i, e in ipairs(se) do
      kept[i] = { max_bitrate = e.max_bitrate, scale_resolution_down_by = e.scale_resolution_down_by }
      if e.active == false or e.max_bitrate then
        self._core:tr_set_encoding(h, e.active ~= false, e.max_bitrate or 0, #se > 1 and e.rid or nil)
      end
    end
    rawset(tr.sender, "_encodings", kept)
  end
  if track then attach(tr, track) end
  return tr
end
-- (tail calls: an argument error names the caller's line)
function PC:add_transceiver(what, opts) return add_transceiver(self, what, opts, false) end

--- pc:add_track(track[, {codec=, stereo=, red=}]) -> transceiver. As W3C addTrack:
--- reuses a transceiver of this kind that has no track, is not stopped and has never
--- sent (one a remote offer created, typically), making it send (recvonly -> sendrecv,
--- inactive -> sendonly); else makes a sendrecv one, with add_transceiver's options,
--- that a new section of the kind in a remote offer takes (JSEP 5.10).
function PC:add_track(track, opts)
  if type(track) ~= "table" or getmetatable(track) ~= TRACK then error("bad argument #1 to 'add_track' (track expected)", 2) end
  if opts ~= nil and (type(opts) ~= "table" or opts.direction ~= nil) then
    error("bad argument #2 to 'add_track' (table of codec=, stereo=, red=, fec=, fec_group= expected)", 2)
  end
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  if track._tr then return nil, "InvalidAccessError: the track is already sent by a transceiver", "InvalidAccessError" end
  for _, tr in ipairs(ordered_transceivers(self)) do
    if not tr.sender.track and tr.kind == track.kind then
      local info = self._core:tr_info(tr._h)
      if not info.stopped and not info.stopping and not info.has_sent then   -- W3C: [[Stopping]] false
        if opts and opts.fec ~= nil and track.kind == "video" then
          if opts.fec ~= "off" and opts.fec ~= "ulpfec" then error("bad argument #2 to 'add_track' (fec must be \"off\" or \"ulpfec\")", 2) end
          self._core:tr_set_fec(tr._h, opts.fec, opts.fec_group)
        end
        attach(tr, track)
        local dir = info.direction
        if dir == "recvonly" then tr:set_direction("sendrecv") elseif dir == "inactive" then tr:set_direction("sendonly") end
        return tr
      end
    end
  end
  -- a new one, which a new section of a remote offer may take (JSEP 5.10)
  local o = { direction = "sendrecv" }
  for k, v in pairs(opts or {}) do o[k] = v end
  return add_transceiver(self, track, o, true)
end

--- pc:remove_track(sender | transceiver | track) -> true | nil, err: stops sending (W3C
--- removeTrack): the transceiver keeps receiving; its direction drops "send" at the next
--- negotiation (sendrecv -> recvonly, sendonly -> inactive) and negotiationneeded fires.
function PC:remove_track(what)
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  local tr
  for _, t in ipairs(ordered_transceivers(self)) do
    if t == what or t.sender == what or (what ~= nil and t.sender.track == what) then tr = t; break end
  end
  if not tr then
    if type(what) ~= "table" then error("bad argument #1 to 'remove_track' (sender, transceiver or track expected)", 2) end
    return nil, "InvalidAccessError: not a sender of this peer connection", "InvalidAccessError"
  end
  local track = tr.sender.track
  if not track then return true end
  tr.sender.track = nil
  track._tr = nil
  local dir = tr.direction
  if dir == "sendrecv" then return tr:set_direction("recvonly")
  elseif dir == "sendonly" then return tr:set_direction("inactive") end
  return true
end

--- pc:get_configuration() -> a copy of the configuration the connection was made with
--- (W3C getConfiguration), with the defaults filled in.
local function copy(v)
  if type(v) ~= "table" then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end
function PC:get_configuration()
  local c = copy(self._config)
  c.ice_servers = c.ice_servers or {}
  c.ice_transport_policy = c.ice_transport_policy or "all"
  c.bundle_policy = c.bundle_policy or "balanced"
  c.certificates = c.certificates or (c.certificate and { c.certificate }) or {}
  c.certificate = nil
  return c
end

local function same(x, y)
  if type(x) ~= "table" or type(y) ~= "table" then return x == y end
  for k, v in pairs(x) do if not same(v, y[k]) then return false end end
  for k in pairs(y) do if x[k] == nil then return false end end
  return true
end

--- pc:set_configuration(cfg) -> true | nil, err, name (W3C setConfiguration). New
--- ice_servers are used from the next gathering: at once when no description was set
--- yet, else at the next ICE restart (pc:restart_ice() or the peer's). Changing
--- certificates, bundle_policy or the local socket options is an
--- InvalidModificationError as in W3C. A new ice_transport_policy, likewise, applies
--- to the next gathering (JSEP 4.1.18): at once before any description, else at the
--- next ICE restart.
function PC:set_configuration(cfg)
  if type(cfg) ~= "table" then error("bad argument #1 to 'set_configuration' (table expected)", 2) end
  if self._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  local old = self:get_configuration()
  local new = copy(cfg)
  new.ice_servers = new.ice_servers or {}
  new.ice_transport_policy = new.ice_transport_policy or "all"
  new.bundle_policy = new.bundle_policy or "balanced"
  new.certificates = new.certificates or (new.certificate and { new.certificate }) or {}
  new.certificate = nil
  -- W3C: an unset certificates member keeps the current ones
  if cfg.certificates == nil and cfg.certificate == nil then new.certificates = old.certificates end
  for k in pairs(old) do if new[k] == nil and k ~= "ice_servers" then new[k] = old[k] end end
  for k, v in pairs(new) do
    if k ~= "ice_servers" and k ~= "ice_transport_policy" and not same(old[k], v) then
      return nil, "InvalidModificationError: " .. k .. " cannot change", "InvalidModificationError"
    end
  end
  local policy = new.ice_transport_policy
  if policy ~= "all" and policy ~= "relay" then
    error("bad argument #1 to 'set_configuration' (ice_transport_policy must be \"all\" or \"relay\")", 2)
  end
  -- Servers first: a server list that cannot be used refuses the whole call.
  if not same(old.ice_servers, new.ice_servers) then
    local servers, err, name = resolve_servers(self._rtc, new.ice_servers, "set_configuration", 3)
    if not servers then return nil, err, name end
    local ok, err2, name2 = self._core:set_servers { servers = servers }
    if not ok then return nil, err2, name2 end
    self._servers = servers
    self._config.ice_servers = copy(new.ice_servers)
  end
  if policy ~= old.ice_transport_policy then
    local ok, err, name = self._core:set_transport_policy(policy == "relay")
    if not ok then return nil, err, name end
    self._config.ice_transport_policy = policy
  end
  return true
end

--- pc:get_transceivers() -> { transceiver, ... } in creation order.
function PC:get_transceivers()
  return ordered_transceivers(self)
end

--- pc:get_senders() / pc:get_receivers(): those of the transceivers, in creation order.
function PC:get_senders()
  local out = {}
  for i, tr in ipairs(ordered_transceivers(self)) do out[i] = tr.sender end
  return out
end
function PC:get_receivers()
  local out = {}
  for i, tr in ipairs(ordered_transceivers(self)) do out[i] = tr.receiver end
  return out
end

--- pc:restart_ice(): the next offer carries new ICE credentials.
function PC:restart_ice()
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  return self._core:restart_ice()
end

--- pc:capture(path) -> true | nil, err: writes the connection's traffic, decrypted, to a
--- pcapng file (docs/tools.md); pc:stop_capture() -> packets written | nil, err.
function PC:capture(path)
  if type(path) ~= "string" or path == "" then error("bad argument #1 to 'capture' (file path expected)", 2) end
  local ok, e, n = check_open(self)
  if not ok then return nil, e, n end
  return self._core:capture(path)
end

function PC:stop_capture()
  if self._closed then return 0 end
  return self._core:stop_capture()
end

--- pc:wait_gathering_complete() -> true | nil, err: yields the calling task until ICE
--- gathering is complete; nil, "InvalidStateError: ..." when the connection closes first.
function PC:wait_gathering_complete()
  if self._closed or self.ice_gathering_state == "complete" then return true end
  local co, main = coroutine.running()
  if main or not coroutine.isyieldable() then
    error("pc:wait_gathering_complete: must be called from a task (coroutine)", 2)
  end
  local w = { co = co }
  self._gather_waiters[#self._gather_waiters + 1] = w
  repeat coroutine.yield() until w.done
  if w.err then return nil, w.err, "InvalidStateError" end
  return true
end

--- pc:wait_connected() -> true | nil, err: yields the calling task until the connection
--- state is "connected"; nil, "OperationError: ..." when it fails, "InvalidStateError:
--- ..." when it closes first.
function PC:wait_connected()
  if self._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  local st = self.connection_state
  if st == "connected" then return true end
  if st == "failed" then return nil, "OperationError: the connection failed", "OperationError" end
  return wait_state(self, "_conn_waiters", "pc:wait_connected")
end

function PC:close()
  if self._closed then return true end
  -- Channels learn first; the C side sends its goodbyes and releases the sockets.
  for h, dc in pairs(self._channels) do
    local ok, info = pcall(self._core.dc_info, self._core, h)
    if ok then dc._info = info end
  end
  for h, tr in pairs(self._transceivers) do
    local ok, info = pcall(self._core.tr_info, self._core, h)
    if ok then tr._info = info end
  end
  for _, tr in pairs(self._transceivers) do
    RTC.media._pcm.release(tr.receiver.track)
    if tr.sender.track then RTC.media._pcm.release(tr.sender.track) end
  end
  local stats = self._core:raw_stats()
  self._final_stats = stats
  self._closed = true
  self._core:close()
  for _, dc in pairs(self._channels) do
    if dc._info and dc._info.state ~= "closed" then
      dc._info.state = "closed"
      emit(dc, "close")
    end
  end
  for _, dc in pairs(self._channels) do
    wake_state(dc, "_open_waiters", "InvalidStateError: the peer connection was closed")
  end
  end_receiver_tracks(self, true)
  emit(self, "signalingstatechange", "closed")
  emit(self, "connectionstatechange", "closed")
  wake_state(self, "_conn_waiters", "InvalidStateError: the peer connection was closed")
  wake_gather_waiters(self, "InvalidStateError: the peer connection was closed before gathering completed")
  return true
end
PC.__close = PC.close

--- pc:local_addresses() -> {"ip:port", ...}: the sockets this connection uses.
function PC:local_addresses()
  if self._closed then return {} end
  return self._core:local_addresses()
end

--- pc:bandwidth() -> the send-side estimate { bps, delay_based, loss_based, remb, probe,
--- acked, loss_fraction, usage, state, alr }, or nil before a sender with feedback has sent.
function PC:bandwidth()
  if self._closed then return nil end
  return self._core:bandwidth()
end

--- pc:get_stats() -> { [id] = stats, ... } with W3C RTCStats types and member names.
function PC:get_stats()
  local raw = self._closed and self._final_stats or self._core:raw_stats()
  local now = (self._rtc.now())
  local report = {}
  local function add(s) s.timestamp = now; report[s.id] = s end
  local opened, closed = raw.data_channels_opened, raw.data_channels_closed
  add { id = "P", type = "peer-connection", dataChannelsOpened = opened, dataChannelsClosed = closed }
  -- Candidates (W3C RTCIceCandidateStats), each once: the pair names the entries of
  -- the lists, and a candidate only the pair knows (peer-reflexive) gets one of its own.
  local ufrag = raw.ice_local_ufrag
  local function cand_entry(id, ty, c)
    local e = { id = id, type = ty, transportId = "T01", address = c.address, port = c.port,
                candidateType = c.candidate_type, protocol = "udp",
                -- our relay candidates: how we reach the TURN server (udp, tcp, tls)
                relayProtocol = ty == "local-candidate" and c.relay_protocol or nil }
    local line = c.candidate
    if line then
      local foundation, proto, prio = line:match("^candidate:(%S+) %d+ (%a+) (%d+) ")
      e.foundation, e.priority = foundation, math.tointeger(tonumber(prio))
      if proto then e.protocol = proto:lower() end
      e.relatedAddress = line:match(" raddr (%S+)")
      e.relatedPort = math.tointeger(tonumber(line:match(" rport (%d+)") or ""))
      e.tcpType = line:match(" tcptype (%S+)")
      e.usernameFragment = line:match(" ufrag (%S+)")
    end
    if ty == "local-candidate" and not e.usernameFragment then e.usernameFragment = ufrag end
    add(e)
    return e
  end
  local function find_cand(list, prefix, addr, port, ctype, proto)
    for i, c in ipairs(list or {}) do
      local cproto = c.candidate and c.candidate:match("^candidate:%S+ %d+ (%a+) ")
      cproto = cproto and cproto:lower() or "udp"
      if c.address == addr and c.port == port and c.candidate_type == ctype and cproto == proto then
        return prefix .. i
      end
    end
  end
  for i, c in ipairs(raw.local_candidates or {}) do cand_entry("L" .. i, "local-candidate", c) end
  for i, c in ipairs(raw.remote_candidates or {}) do cand_entry("R" .. i, "remote-candidate", c) end
  -- A candidate only pairs know (peer-reflexive) gets one entry, named after its address.
  -- relay_protocol: the selected pair's, for a relay candidate named by its base
  local function pair_cand(list, side, addr, port, ctype, proto, relay_protocol)
    local id = find_cand(list, side == "local" and "L" or "R", addr, port, ctype, proto)
    if id then return id end
    id = "I" .. (side == "local" and "L_" or "R_") .. (proto == "tcp" and "tcp_" or "") .. addr .. "_" .. port
    if not report[id] then
      cand_entry(id, side .. "-candidate", { address = addr, port = port, candidate_type = ctype,
                                             relay_protocol = relay_protocol }).protocol = proto
    end
    return id
  end
  -- Every pair of the checklist (W3C RTCIceCandidatePairStats); bytes and packets are
  -- the transport's, counted on the selected pair, the only one that carries data.
  local pair_id
  for _, p in ipairs(raw.pairs or {}) do
    local proto = p.protocol or "udp"
    local lid = pair_cand(raw.local_candidates, "local", p.local_address, p.local_port, p.local_type, proto,
                          p.selected and raw.pair_relay_protocol or nil)
    local rid = pair_cand(raw.remote_candidates, "remote", p.remote_address, p.remote_port, p.remote_type, proto)
    -- the pair of the generation before an ICE restart: the same candidates may form
    -- a pair of the new checklist too
    local e = { id = "CP" .. lid .. "_" .. rid .. (p.previous and "_prev" or ""), type = "candidate-pair",
                transportId = "T01",
                localCandidateId = lid, remoteCandidateId = rid, state = p.state, nominated = p.nominated,
                requestsSent = p.requests_sent, requestsReceived = p.requests_received,
                responsesSent = p.responses_sent, responsesReceived = p.responses_received,
                consentRequestsSent = p.consent_requests_sent,
                totalRoundTripTime = p.rtt_measurements > 0 and p.total_rtt or nil,
                currentRoundTripTime = p.current_rtt }
    if p.selected then
      pair_id = e.id
      e.bytesSent, e.bytesReceived = raw.bytes_sent, raw.bytes_received
      e.packetsSent, e.packetsReceived = raw.packets_sent, raw.packets_received
      e.availableOutgoingBitrate = raw.available_outgoing_bitrate
    end
    add(e)
  end
  local connected = raw.dtls_state == "connected"
  add { id = "T01", type = "transport", bytesSent = raw.bytes_sent, bytesReceived = raw.bytes_received,
        packetsSent = raw.packets_sent, packetsReceived = raw.packets_received,
        iceState = self.ice_connection_state, iceRole = raw.ice_role or "unknown",
        iceLocalUsernameFragment = ufrag,
        dtlsState = raw.dtls_state, dtlsRole = raw.dtls_role,
        -- DTLS 1.2, as W3C spells it: the version bytes in upper-case hex
        tlsVersion = connected and "FEFD" or nil,
        dtlsCipher = raw.tls_cipher ~= "" and raw.tls_cipher or nil,
        srtpCipher = raw.srtp_cipher ~= "" and raw.srtp_cipher or nil,
        selectedCandidatePairId = pair_id, localCertificateId = "CF_local",
        remoteCertificateId = raw.remote_fingerprint ~= "" and "CF_remote" or nil,
        -- non-standard: TURN over TCP, frames dropped because the server stopped reading
        turnTcpBytesSent = raw.turn_tcp_bytes_sent, turnTcpDropped = raw.turn_tcp_dropped,
        turnTcpQueued = raw.turn_tcp_queued }
  add { id = "CF_local", type = "certificate", fingerprint = raw.local_fingerprint, fingerprintAlgorithm = "sha-256" }
  if raw.remote_fingerprint ~= "" then
    add { id = "CF_remote", type = "certificate", fingerprint = raw.remote_fingerprint, fingerprintAlgorithm = "sha-256" }
  end
  for h, dc in pairs(self._channels) do
    local info = (not self._closed) and self._core:dc_info(h) or dc._info or {}
    add { id = "D" .. h, type = "data-channel", label = info.label, protocol = info.protocol,
          dataChannelIdentifier = (info.id or -1) >= 0 and info.id or nil, state = info.state,
          messagesSent = info.messages_sent, bytesSent = info.bytes_sent,
          messagesReceived = info.messages_received, bytesReceived = info.bytes_received }
  end
  for h, tr in pairs(self._transceivers) do
    local info = (not self._closed) and self._core:tr_info(h) or tr._info or {}
    local codec_id
    if info.codec then
      codec_id = "CO" .. h
      local mime = (info.kind == "audio" and "audio/" or "video/") .. info.codec
      add { id = codec_id, type = "codec", transportId = "T01", payloadType = info.payload_type,
            mimeType = mime, clockRate = info.clock_rate, channels = info.codec == "opus" and 2 or nil,
            sdpFmtpLine = info.fmtp ~= "" and info.fmtp or nil }
    end
    local inb, outb = info.inbound, info.outbound
    if inb then
      -- the peer's sender reports for this stream (RFC 3550 SR): remote-outbound-rtp
      local ro = inb.remote_reports_sent and "RO" .. h or nil
      if ro then
        add { id = ro, type = "remote-outbound-rtp", kind = info.kind, ssrc = inb.ssrc, transportId = "T01",
              codecId = codec_id, localId = "IT" .. h, packetsSent = inb.remote_packets_sent,
              bytesSent = inb.remote_bytes_sent, remoteTimestamp = inb.remote_timestamp,
              reportsSent = inb.remote_reports_sent }
      end
      add { id = "IT" .. h, type = "inbound-rtp", kind = info.kind, mid = info.mid, ssrc = inb.ssrc, remoteId = ro,
            transportId = "T01", codecId = codec_id, trackIdentifier = tr.receiver.track.id,
            packetsReceived = inb.packets_received, bytesReceived = inb.bytes_received,
            packetsLost = inb.packets_lost, jitter = inb.jitter, nackCount = inb.nack_count,
            pliCount = inb.pli_count, firCount = inb.fir_count,
            rtxSsrc = (inb.rtx_ssrc or 0) ~= 0 and inb.rtx_ssrc or nil,
            framesReceived = info.kind == "video" and inb.frames_received or nil,
            retransmittedPacketsReceived = inb.rtx_received, framesDropped = inb.frames_dropped,
            -- non-standard: holes filled by retransmission (docs/media.md)
            packetsRepaired = inb.packets_repaired,
            -- non-standard (RFC 2198 audio): RED packets received, holes filled from their copies
            redPacketsReceived = info.kind == "audio" and inb.red_packets_received or nil,
            redRecovered = info.kind == "audio" and inb.red_recovered or nil,
            fecPacketsReceived = info.kind == "video" and inb.fec_packets_received or nil,
            fecPacketsDiscarded = info.kind == "video" and inb.fec_packets_discarded or nil,
            -- non-standard: lost packets rebuilt from FEC (docs/rtp.md)
            fecRecovered = info.kind == "video" and inb.fec_recovered or nil }
    end
    if outb then
      add { id = "OT" .. h, type = "outbound-rtp", kind = info.kind, mid = info.mid, ssrc = outb.ssrc,
            rtxSsrc = outb.rtx_ssrc ~= 0 and outb.rtx_ssrc or nil, transportId = "T01", codecId = codec_id,
            packetsSent = outb.packets_sent, bytesSent = outb.bytes_sent,
            framesSent = info.kind == "video" and outb.frames_sent or nil,
            retransmittedPacketsSent = outb.retransmitted_packets, nackCount = outb.nack_count,
            pliCount = outb.pli_count, firCount = outb.fir_count, remoteId = "RI" .. h,
            active = not (rawget(tr.sender, "_encoding") and tr.sender._encoding.active == false) }
      add { id = "RI" .. h, type = "remote-inbound-rtp", kind = info.kind, ssrc = outb.ssrc,
            transportId = "T01", codecId = codec_id, localId = "OT" .. h,
            roundTripTime = outb.round_trip_time, fractionLost = outb.fraction_lost,
            totalRoundTripTime = outb.total_round_trip_time, roundTripTimeMeasurements = outb.rtt_measurements,
            packetsLost = outb.reports_received > 0 and outb.remote_packets_lost or nil,
            jitter = outb.reports_received > 0 and outb.remote_jitter or nil }
    end
  end
  return report
end
-- }======

-- {====== configuration ======
-- "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]", "turns:host[:port][?transport=tcp]"
-- (TURN over TLS, port 5349 by default; stuns: and TURN over DTLS are refused).
local function parse_url(url)
  local scheme, rest = url:match("^(%a+):(.+)$")
  if not scheme then return nil, "invalid ICE server URL '" .. url .. "'" end
  scheme = scheme:lower()
  if scheme ~= "stun" and scheme ~= "turn" and scheme ~= "turns" then
    return nil, "unsupported ICE server scheme '" .. scheme .. "' (stun:, turn: and turns: are supported)"
  end
  local hostport, query = rest:match("^([^?]*)%??(.*)$")
  local host, port
  if hostport:sub(1, 1) == "[" then
    host, port = hostport:match("^%[([^%]]+)%]:?(%d*)$")
  else
    host, port = hostport:match("^([^:]+):?(%d*)$")
  end
  if not host then return nil, "invalid ICE server URL '" .. url .. "'" end
  port = tonumber(port) or (scheme == "turns" and 5349 or 3478)
  local transport = query:match("transport=(%a+)")
  if transport and transport ~= "udp" and transport ~= "tcp" then
    return nil, "unsupported transport '" .. transport .. "' in '" .. url .. "'"
  end
  if scheme == "turns" then
    if transport == "udp" then
      return nil, "unsupported transport 'udp' in '" .. url .. "' (TURN over DTLS is not supported; turns: runs over TCP)"
    end
    return { turn = true, host = host, port = port, transport = "tls" }
  end
  return { turn = scheme == "turn", host = host, port = port, transport = transport or "udp" }
end

-- ice_servers -> the resolved list core.peer_connection / core:set_servers take.
-- A malformed entry raises (at `level`); a name that does not resolve, or TURN without
-- credentials, is nil, err, name.
function resolve_servers(rtc, list, fname, level)
  if list ~= nil and type(list) ~= "table" then
    error("bad argument #1 to '" .. fname .. "' (ice_servers must be a list)", level)
  end
  local out = {}
  for i, s in ipairs(list or {}) do
    if type(s) ~= "table" then error("bad argument #1 to '" .. fname .. "' (ice_servers[" .. i .. "] must be a table)", level) end
    local urls = type(s.urls) == "table" and s.urls or { s.urls or s.url }
    for _, url in ipairs(urls) do
      if type(url) ~= "string" then error("bad argument #1 to '" .. fname .. "' (ice_servers[" .. i .. "].urls)", level) end
      local u, err = parse_url(url)
      if not u then error("bad argument #1 to '" .. fname .. "' (" .. err .. ")", level) end
      if u.turn and (type(s.username) ~= "string" or type(s.credential) ~= "string") then
        return nil, "InvalidAccessError: TURN server " .. url .. " needs username and credential", "InvalidAccessError"
      end
      if s.tls_ca_file ~= nil and type(s.tls_ca_file) ~= "string" then
        error("bad argument #1 to '" .. fname .. "' (ice_servers[" .. i .. "].tls_ca_file must be a path)", level)
      end
      local addrs = rtc.resolve(u.host)
      if not addrs then return nil, "NotFoundError: cannot resolve " .. u.host, "NotFoundError" end
      -- every address of the name: per local socket, those of its family are tried in order;
      -- turns: checks the certificate against the URL's host name (also sent as SNI)
      out[#out + 1] = { turn = u.turn, host = addrs[1], more_hosts = { table.unpack(addrs, 2) },
                        port = u.port, transport = u.transport,
                        server_name = u.transport == "tls" and u.host or nil,
                        tls_ca_file = u.transport == "tls" and s.tls_ca_file or nil,
                        username = s.username, credential = s.credential, url = url }
    end
  end
  return out
end

local function build_config(rtc, cfg)
  local c = {
    relay_only = cfg.ice_transport_policy == "relay",
    ice_lite = cfg.ice_lite and true or false,
    bind_addresses = cfg.bind_addresses,
    port = cfg.port,
    loopback = cfg.loopback,
    max_message_size = cfg.max_message_size,
    max_channels = cfg.max_channels,
    unique_certificate = cfg.unique_certificate and true or false,
    udp_mux = cfg.udp_mux,
    ice_tcp = cfg.ice_tcp and true or false,
    ice_tcp_port = cfg.ice_tcp_port,
    servers = {},
  }
  if cfg.ice_tcp ~= nil and type(cfg.ice_tcp) ~= "boolean" then
    error("bad argument #1 to 'peer_connection' (ice_tcp must be a boolean)", 3)
  end
  local itp = cfg.ice_tcp_port
  if itp ~= nil and (math.type(itp) ~= "integer" or itp < 0 or itp > 65535) then
    error("bad argument #1 to 'peer_connection' (ice_tcp_port must be an integer 0..65535)", 3)
  end
  local mms = cfg.max_message_size
  if mms ~= nil and (math.type(mms) ~= "integer" or mms < 0) then
    error("bad argument #1 to 'peer_connection' (max_message_size must be a non-negative integer)", 3)
  end
  if cfg.ice_transport_policy ~= nil and cfg.ice_transport_policy ~= "all" and cfg.ice_transport_policy ~= "relay" then
    error("bad argument #1 to 'peer_connection' (ice_transport_policy must be \"all\" or \"relay\")", 3)
  end
  if cfg.bundle_policy ~= nil and cfg.bundle_policy ~= "max-bundle" and cfg.bundle_policy ~= "balanced"
     and cfg.bundle_policy ~= "max-compat" then
    error("bad argument #1 to 'peer_connection' (unknown bundle_policy)", 3)
  end
  local cert = cfg.certificates and cfg.certificates[1] or cfg.certificate
  if cert ~= nil then
    if type(cert) ~= "table" or type(cert.pem) ~= "string" or type(cert.key_pem) ~= "string" then
      error("bad argument #1 to 'peer_connection' (certificates: {pem=, key_pem=} tables expected)", 3)
    end
    c.certificate_pem, c.key_pem = cert.pem, cert.key_pem
  end
  local servers, err, name = resolve_servers(rtc, cfg.ice_servers, "peer_connection", 4)
  if not servers then return nil, err, name end
  c.servers = servers
  return c
end
-- }======

return function(rtc, core)
  json = rtc.json
  RTC = rtc

  --- rtc.transforms.xor(key) / rtc.transforms.aes_gcm(key[, salt]): built-in frame
  --- transforms for sender:set_transform() / receiver:set_transform() (docs/media.md).
  rtc.transforms = { xor = core.frame_transform_xor, aes_gcm = core.frame_transform_aes_gcm }

  rtc._peer_connections = setmetatable({}, { __mode = "k" })
  --- rtc.peer_connections() -> list of the process's peer connections not yet closed,
  --- oldest first (for stats pages and metrics).
  function rtc.peer_connections()
    local list = {}
    for pc in pairs(rtc._peer_connections) do
      if not pc._closed then list[#list + 1] = pc end
    end
    table.sort(list, function(x, y) return tonumber(x.id:sub(3)) < tonumber(y.id:sub(3)) end)
    return list
  end

  --- rtc.peer_connection{ice_servers=, ice_transport_policy=, bundle_policy=, certificates=,
  ---                     ice_lite=, bind_addresses=, port=, loopback=, max_message_size=,
  ---                     unique_certificate=}
  function rtc.peer_connection(cfg)
    if cfg == nil then cfg = {} end
    if type(cfg) ~= "table" then error("bad argument #1 to 'peer_connection' (table expected)", 2) end
    local c, err, name = build_config(rtc, cfg)
    if not c then return nil, err, name end
    local raw, err2, name2 = core.peer_connection(c)
    if not raw then return nil, err2, name2 end
    local pc = setmetatable({ _core = raw, _listeners = {}, _channels = {}, _gather_waiters = {}, _rtc = rtc,
                              _transceivers = {}, _servers = c.servers, _config = copy(cfg), id = raw:id() }, PC)
    rtc._peer_connections[pc] = true   -- weak: rtc.peer_connections() lists the live ones
    raw:on("event", function(name3, a, b, c2, d, e, f) dispatch(pc, name3, a, b, c2, d, e, f) end)
    return pc
  end

  --- rtc.capabilities("audio"|"video") -> {codecs = {{mime_type=, clock_rate=[, channels=]}, ...}}
  --- (RTCRtpSender.getCapabilities).
  function rtc.capabilities(kind)
    local caps = CAPABILITIES[kind]
    if not caps then error("bad argument #1 to 'capabilities' (\"audio\" or \"video\" expected)", 2) end
    local out = {}
    for i, c in ipairs(caps) do out[i] = { mime_type = c.mime_type, clock_rate = c.clock_rate, channels = c.channels } end
    return { codecs = out }
  end

  --- rtc.media_track(kind[, {codec=}]) -> a local track to give to pc:add_track(); frames
  --- written to it with track:write_frame{} are sent once the transceiver is negotiated.
  function rtc.media_track(kind, opts)
    if not KINDS[kind] then error("bad argument #1 to 'media_track' (\"audio\" or \"video\" expected)", 2) end
    if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'media_track' (table expected)", 2) end
    local t = new_track(kind, false, opts and opts.codec)
    t._opts = opts   -- channels, bitrate, dtx, fec, voice: write_pcm's encoder (over the peer's fmtp)
    return t
  end

  --- rtc.udp_mux{host=, port=, announced_addresses=} -> mux: one UDP socket shared by every peer connection
  --- created with {udp_mux = mux} (single-port mode). mux:local_address(), mux:stats(),
  --- mux:close() (the socket stays open while connections use it).
  function rtc.udp_mux(opts)
    if type(opts) ~= "table" then error("bad argument #1 to 'udp_mux' (table expected)", 2) end
    return core.udp_mux(opts)
  end

  --- rtc.generate_certificate{key="ecdsa"|"rsa"} -> {pem=, key_pem=, fingerprint=}
  function rtc.generate_certificate(opts)
    if opts ~= nil and type(opts) ~= "table" then error("bad argument #1 to 'generate_certificate' (table expected)", 2) end
    local pem, key, fp = core.generate_certificate(opts)
    if not pem then return nil, key, fp end
    return { pem = pem, key_pem = key, fingerprint = fp }
  end

  --- rtc.load_certificate(pem, key_pem) -> {pem=, key_pem=, fingerprint=} | nil, err
  function rtc.load_certificate(pem, key_pem)
    if type(pem) ~= "string" or type(key_pem) ~= "string" then
      error("bad arguments to 'load_certificate' (pem and key_pem strings expected)", 2)
    end
    local fp, err, name = core.certificate_fingerprint(pem, key_pem)
    if not fp then return nil, err, name end
    return { pem = pem, key_pem = key_pem, fingerprint = fp }
  end
end
