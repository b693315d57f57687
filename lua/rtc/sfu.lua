-- rtc.sfu: rooms, producers and consumers over the C forwarding core (runtime/sfu/,
-- io/rtc_sfu_host, runtime/lua/lrtc_sfu.c). Packets never reach Lua: a producer is a
-- peer connection's incoming track forwarded as it arrives, a consumer the same packets
-- sent on another connection's transceiver with that connection's own SSRC, sequence
-- numbers, timestamps and header extensions. See docs/sfu.md.
--
--   local sfu = require "rtc.sfu"
--   local room = sfu.room{ name = "demo", can_subscribe = function(room, pc, producer) return true end }
--   pc:on("track", function(track) room:publish(track) end)
--   local c = room:subscribe(other_pc, producer)
require "rtc"          -- peer connections (their _core and transceivers are read here)
local core = require "rtc.core"

local M = {}

-- What one audio consumer is taken to need when a subscriber's estimate is shared
-- among its video consumers (Opus at its usual rate plus packet overhead), bit/s.
M.AUDIO_BPS = 48000

local router            -- the one rtc.sfu_core of the process, made on first use
local by_id = {}        -- core id -> producer or consumer
local rooms = {}        -- name -> room

local listeners = require "rtc.listeners"
local log_error, emit, on = listeners.log_error, listeners.emit, listeners.on

local PRODUCER, CONSUMER, ROOM, PIPE = {}, {}, {}, {}
PRODUCER.__index, CONSUMER.__index, ROOM.__index, PIPE.__index = PRODUCER, CONSUMER, ROOM, PIPE
PRODUCER.__name, CONSUMER.__name, ROOM.__name = "rtc.sfu_producer", "rtc.sfu_consumer", "rtc.sfu_room"
PIPE.__name = "rtc.sfu_pipe"
local PIPE_EVENTS = { close = true }
local PRODUCER_EVENTS = { close = true, keyframerequested = true, layerstart = true, layerstop = true,
                          pause = true, resume = true }
local CONSUMER_EVENTS = { close = true, start = true, error = true, layerchange = true, pause = true, resume = true }
local ROOM_EVENTS = { publish = true, subscribe = true, leave = true, close = true, join = true,
                      activespeaker = true, audiolevels = true }

local function get_router()
  if router then return router end
  local r, err = core.sfu_router()
  if not r then error("rtc.sfu: " .. tostring(err), 3) end
  r:on("event", function(name, id, a, b, c)
    local obj = by_id[id]
    if not obj then return end
    if name == "layerchange" then
      emit(obj, "layerchange", a, b, c)         -- spatial, temporal, why
    elseif name == "layerstart" or name == "layerstop" then
      emit(obj, name, obj:_spatial_of(id))
    elseif name == "activespeaker" then
      local p = a and by_id[a]
      obj.active_speaker = p
      emit(obj, "activespeaker", p)
    elseif name == "audiolevels" then
      local levels = {}
      for _, l in ipairs(a) do
        local p = by_id[l.id]
        if p then levels[#levels + 1] = { producer = p, level = l.level, voice = l.voice } end
      end
      emit(obj, "audiolevels", levels)
    elseif name == "removed" then
      by_id[id] = nil
      obj._id = nil
      obj:close()
    elseif name == "started" then
      emit(obj, "start")
    elseif name == "keyframerequested" then
      emit(obj, "keyframerequested")
    elseif name == "bye" then
      obj:close()
    end
  end)
  router = r
  return r
end

local function check_hook(ok, msg, what)
  if ok == true then return true end
  return nil, "NotAllowedError: " .. (type(msg) == "string" and msg or (what .. " not allowed")), "NotAllowedError"
end

-- {====== membership: a peer connection is in a room while it publishes or subscribes ======
-- Joining asks the room's can_join hook once per connection; publish and subscribe join.
local function join(room, pc, info)
  if room._peers[pc] then return true end
  if room._hooks.can_join then
    local ok, msg = room._hooks.can_join(room, pc, info)
    if ok ~= true then return check_hook(false, msg, "join") end
  end
  room._peers[pc] = { producers = {}, consumers = {}, info = info }
  -- A member's video orientation (CVO) is forwarded as it came, so its connection
  -- offers and answers the extension from its next description on.
  pc._core:set_video_orientation(true)
  local function gone(state)
    if state ~= "closed" and state ~= "failed" then return end
    local m = room._peers[pc]
    if not m then return end
    room._peers[pc] = nil
    for p in pairs(m.producers) do p:close() end
    for c in pairs(m.consumers) do c:close() end
    emit(room, "leave", pc)
  end
  pc:on("connectionstatechange", gone)
  -- The subscriber's estimate, less its audio, shared by its video consumers: each
  -- one's layer is then chosen in C against its share.
  pc:on("bandwidth", function(bps)
    local m = room._peers[pc]
    if not m or type(bps) ~= "number" then return end
    local audio, video = 0, {}
    for c in pairs(m.consumers) do
      if c.kind == "audio" then audio = audio + 1 elseif not c.paused then video[#video + 1] = c end
    end
    local share = math.max(0, bps - audio * M.AUDIO_BPS) // math.max(1, #video)
    for _, c in ipairs(video) do c:_set_bandwidth(share) end
  end)
  -- Streams bind once their transceiver is negotiated: at every return to stable.
  pc:on("signalingstatechange", function(state)
    local m = room._peers[pc]
    if state ~= "stable" or not m then return end
    for p in pairs(m.producers) do p:_bind() end
    for c in pairs(m.consumers) do c:_bind() end
  end)
  emit(room, "join", pc, info)
  return true
end
-- }======

-- {====== producers ======
function PRODUCER:on(ev, fn) return on(self, PRODUCER_EVENTS, ev, fn) end
PRODUCER.__tostring = function(self)
  return string.format("rtc.sfu_producer(%s %s%s)", self.kind, tostring(self.codec), self.closed and ", closed" or "")
end

-- The producer's layers, lowest first: {tr=, rid=} each. From the tracks given, or
-- the RIDs given, or the simulcast the publisher's description announced.
local function layer_list(self)
  if self._tracks then
    local out = {}
    for i, t in ipairs(self._tracks) do out[i] = { tr = t._tr, rid = nil } end
    return out
  end
  local rids = self._rids
  if not rids then
    local info = self.pc._core:tr_info(self._tr._h)
    rids = info and info.simulcast
  end
  if not rids or #rids < 2 then return { { tr = self._tr } } end
  local out = {}
  for i, rid in ipairs(rids) do out[i] = { tr = self._tr, rid = rid } end
  return out
end

-- Binds the C producers (one per layer) once the transceivers are negotiated; false while not yet.
function PRODUCER:_bind()
  if self._id or self.closed then return true end
  local pc = self.pc
  if pc._closed then return false end
  local layers = layer_list(self)
  local codec, fmtp
  for _, l in ipairs(layers) do
    local info = pc._core:tr_info(l.tr._h)
    if not info or not info.negotiated or not info.codec then return false end
    if codec and info.codec ~= codec then
      log_error("sfu: the layers of a " .. self.kind .. " track differ in codec")
      self:close()
      return false
    end
    codec, fmtp = info.codec, info.fmtp
  end
  local ids = {}
  for i, l in ipairs(layers) do
    local opts = { rid = l.rid, keyframe_interval = self._opts.keyframe_interval, cache_ms = self._opts.cache_ms,
                   cache_bytes = self._opts.cache_bytes }
    local id, err = get_router():add_producer(pc._core, l.tr._h, opts)
    if not id then
      for _, made in ipairs(ids) do router:remove(made) end
      if err and err:match("^InvalidStateError") then return false end
      log_error("sfu: cannot forward a " .. self.kind .. " track: " .. tostring(err))
      self:close()
      return false
    end
    ids[i] = id
  end
  self._id, self._ids, self.codec, self.fmtp = ids[1], ids, codec, fmtp
  self.rids = {}
  for i, l in ipairs(layers) do
    by_id[ids[i]] = self
    self.rids[i] = l.rid
  end
  self.layers = #ids
  if self.kind == "audio" and self.room._speaker then router:speaker_add(self.room._speaker, ids[1]) end
  for c in pairs(self._consumers) do c:_bind() end
  return true
end

--- producer:pause() / producer:resume(): a moderator's mute: nothing of the producer is
--- forwarded to any subscriber (now or later) until resumed; each consumer's own
--- pause state is kept. Events "pause" / "resume" on the producer.
function PRODUCER:pause()
  if self.closed then return nil, "InvalidStateError: the producer is closed", "InvalidStateError" end
  if self.paused then return true end
  self.paused = true
  for c in pairs(self._consumers) do c:pause("moderator") end
  emit(self, "pause")
  return true
end

function PRODUCER:resume()
  if self.closed then return nil, "InvalidStateError: the producer is closed", "InvalidStateError" end
  if not self.paused then return true end
  self.paused = false
  for c in pairs(self._consumers) do c:resume("moderator") end
  emit(self, "resume")
  return true
end


function PRODUCER:_spatial_of(id)
  for i, v in ipairs(self._ids or {}) do if v == id then return i - 1 end end
end

--- producer:stats() -> { packets_received=, bytes_received=, keyframes_received=, pli_count=, ...,
---   layers = { {rid=, active=, bitrate=, frames_per_second=, frame_width=, frame_height=, ...}, ... } }
--- The top-level counts add up the layers; layers[1] is the lowest. For a VP9 SVC
--- stream (one producer, spatial layers inside it) layers[i] is spatial layer i-1's own
--- {spatial=, active=, bitrate=, frames_per_second=, temporal_layers=, frame_width=, frame_height=}.
function PRODUCER:stats()
  if not self._id then return { type = "producer", packets_received = 0, bytes_received = 0, layers = {} } end
  local out = { type = "producer", layers = {} }
  for i, id in ipairs(self._ids) do
    local st = router:stats(id)
    st.rid = self.rids[i]
    out.layers[i] = st
    for k, v in pairs(st) do
      if math.type(v) == "integer" and k ~= "temporal_layers" and k ~= "spatial_layers"
        and k ~= "frame_width" and k ~= "frame_height" then
        out[k] = (out[k] or 0) + v
      end
    end
  end
  -- VP9 SVC: one stream whose spatial layers are the layers.
  local sv = #self._ids == 1 and out.layers[1].spatial
  if sv then
    out.layers[1].spatial = nil
    for k, v in pairs(out.layers[1]) do if out[k] == nil then out[k] = v end end
    out.layers = sv
  end
  return out
end

--- producer:close(): stops forwarding; its consumers close too.
function PRODUCER:close()
  if self.closed then return end
  self.closed = true
  if self._id then
    for _, id in ipairs(self._ids) do router:remove(id); by_id[id] = nil end
    self._id, self._ids = nil, nil
  end
  local m = self.pc and self.room._peers[self.pc]
  if m then m.producers[self] = nil end
  self.room._producers[self] = nil
  if self.room.active_speaker == self then self.room.active_speaker = nil end   -- the observer forgot it too
  for c in pairs(self._consumers) do c:close() end
  emit(self, "close")
end
-- }======

-- {====== consumers ======
function CONSUMER:on(ev, fn) return on(self, CONSUMER_EVENTS, ev, fn) end
CONSUMER.__tostring = function(self)
  return string.format("rtc.sfu_consumer(%s%s)", self.kind, self.closed and ", closed" or (self.paused and ", paused" or ""))
end

function CONSUMER:_bind()
  if self._id or self.closed then return true end
  local p = self.producer
  if not p._id or self.pc._closed then return false end
  local info = self.pc._core:tr_info(self.transceiver._h)
  if not info or not info.negotiated or not info.codec then return false end
  local id, err = router:add_consumer(self.pc._core, self.transceiver._h, p._id, self.paused and true or false)
  if not id then
    if err and err:match("^InvalidStateError") then return false end
    emit(self, "error", err)
    self:close()
    return false
  end
  self._id = id
  by_id[id] = self
  if self.muted then router:set_muted(id, true) end
  if #p._ids > 1 then
    local ok, lerr = router:set_layers(id, p._ids)
    if not ok then emit(self, "error", lerr) end
  end
  if self._pref then router:set_preferred_layers(id, self._pref.spatial, self._pref.temporal) end
  if self._bw then router:set_bandwidth(id, self._bw) end
  return true
end

function CONSUMER:_set_bandwidth(bps)
  self._bw = bps
  if self._id and not self.closed then router:set_bandwidth(self._id, bps) end
end

local function consumer_call(self, fname, ...)
  if self.closed then return nil, "InvalidStateError: the consumer is closed", "InvalidStateError" end
  if self._id then router[fname](router, self._id, ...) end
  return true
end

local function layer_arg(v, name, max)
  if v == nil then return -1 end
  if math.type(v) ~= "integer" or v < 0 or v > max then
    error(string.format("bad argument #1 to 'set_preferred_layers' (%s must be an integer 0..%d)", name, max), 3)
  end
  return v
end

--- consumer:set_preferred_layers{spatial=, temporal=}: the highest layers to forward (nil = the highest there is).
--- The core forwards the highest layer at or below these that fits the subscriber's estimate.
function CONSUMER:set_preferred_layers(t)
  if type(t) ~= "table" then error("bad argument #1 to 'set_preferred_layers' (table expected)", 2) end
  local sp, tp = layer_arg(t.spatial, "spatial", 2), layer_arg(t.temporal, "temporal", 3)
  self._pref = { spatial = sp, temporal = tp }
  return consumer_call(self, "set_preferred_layers", sp, tp)
end

--- consumer:current_layers() -> { spatial=, temporal=, target_spatial=, target_temporal= }
--- spatial/temporal: what is forwarded now (nil before the first packet); target: what the core chose.
function CONSUMER:current_layers()
  if not self._id then return {} end
  local l = router:layers(self._id)
  return { spatial = l.spatial >= 0 and l.spatial or nil, temporal = l.temporal >= 0 and l.temporal or nil,
           target_spatial = l.target_spatial, target_temporal = l.target_temporal }
end

--- consumer:pause([reason]) / consumer:resume([reason]): the consumer forwards nothing
--- while any reason holds ("app" by default; policies use their own, a moderator's mute
--- is "moderator"); resume waits for a keyframe (and asks for one).
--- consumer.paused: some reason holds; consumer:paused_by() -> { [reason] = true }.
function CONSUMER:pause(reason)
  if reason ~= nil and type(reason) ~= "string" then error("bad argument #1 to 'pause' (string expected)", 2) end
  if self.closed then return nil, "InvalidStateError: the consumer is closed", "InvalidStateError" end
  reason = reason or "app"
  local was = self.paused
  self._paused_by[reason] = true
  self.paused = true
  if was then return true end
  local ok, err, name = consumer_call(self, "pause")
  emit(self, "pause", reason)
  return ok, err, name
end

function CONSUMER:resume(reason)
  if reason ~= nil and type(reason) ~= "string" then error("bad argument #1 to 'resume' (string expected)", 2) end
  if self.closed then return nil, "InvalidStateError: the consumer is closed", "InvalidStateError" end
  self._paused_by[reason or "app"] = nil
  if not self.paused or next(self._paused_by) then return true end
  self.paused = false
  local ok, err, name = consumer_call(self, "resume")
  emit(self, "resume")
  return ok, err, name
end

function CONSUMER:paused_by()
  local out = {}
  for k in pairs(self._paused_by) do out[k] = true end
  return out
end
--- consumer:request_keyframe(): one keyframe request (aggregated with the others) to the publisher.
function CONSUMER:request_keyframe() return consumer_call(self, "request_keyframe") end
--- consumer:set_muted(bool): audio only; silence is sent in place of the publisher's packets.
function CONSUMER:set_muted(m)
  if type(m) ~= "boolean" then error("bad argument #1 to 'set_muted' (boolean expected)", 2) end
  if self.kind ~= "audio" then error("set_muted: only audio consumers can be muted", 2) end
  self.muted = m
  return consumer_call(self, "set_muted", m)
end

--- consumer:stats() -> { packets_sent=, bytes_sent=, retransmitted_packets_sent=, nack_count=, ... }
function CONSUMER:stats()
  if not self._id then return { type = "consumer", packets_sent = 0, bytes_sent = 0 } end
  return router:stats(self._id)
end

--- consumer:close(): stops sending; the transceiver stays (inactive at the next negotiation is the caller's choice).
function CONSUMER:close()
  if self.closed then return end
  self.closed = true
  if self._id then router:remove(self._id); by_id[self._id] = nil; self._id = nil end
  self.producer._consumers[self] = nil
  local m = self.room._peers[self.pc]
  if m then m.consumers[self] = nil end
  emit(self, "close")
end
-- }======

-- {====== pipes: a producer of this loop's room sent to another worker's room ======
-- The sending side is a consumer of the producer whose packets go into a lock-free
-- ring to the other worker (io/rtc_media_pipe.h); the receiving side is a producer
-- (piped = true) its room's members subscribe to like any other. Feedback (keyframe
-- requests, NACKs) comes back through the pipe.
function PIPE:on(ev, fn) return on(self, PIPE_EVENTS, ev, fn) end
PIPE.__tostring = function(self)
  return string.format("rtc.sfu_pipe(%s%s)", self.name, self.closed and ", closed" or "")
end

--- pipe:stats() -> consumer stats of the sending side plus pipe_sent, pipe_dropped (the ring was full), pipe_received (feedback)
function PIPE:stats()
  if not self._id then return { type = "consumer", packets_sent = 0, bytes_sent = 0 } end
  return router:stats(self._id)
end

--- pipe:close(): stops sending; the receiving worker's piped producer closes (and its consumers).
function PIPE:close()
  if self.closed then return end
  self.closed = true
  if self._id then router:remove(self._id); by_id[self._id] = nil; self._id = nil end
  self.producer._consumers[self] = nil
  self.room._pipes[self] = nil
  emit(self, "close")
end

function PIPE:_bind() return true end
-- A moderator's mute of the producer (producer:pause()) stops the pipe too: nothing
-- reaches the far side's subscribers; resume starts it again at a keyframe.
function PIPE:pause()
  if self._id then router:pause(self._id) end
  return true
end
function PIPE:resume()
  if self._id then router:resume(self._id) end
  return true
end

--- room:pipe_to(producer) -> pipe | nil, err
--- pipe.desc is a plain table ({pipe=, kind=, codec=, room=}) to send to the worker that
--- receives it (through the main script), where room:pipe_from(desc) makes the producer.
function ROOM:pipe_to(producer)
  if getmetatable(producer) ~= PRODUCER then error("bad argument #1 to 'pipe_to' (producer expected)", 2) end
  if self.closed then return nil, "InvalidStateError: the room is closed", "InvalidStateError" end
  if producer.closed then return nil, "InvalidStateError: the producer is closed", "InvalidStateError" end
  if not producer._id then
    return nil, "InvalidStateError: the producer does not forward yet (its connection is negotiating)", "InvalidStateError"
  end
  local id, name = router:pipe_out(producer._id)
  if not id then return nil, name end
  if #producer._ids > 1 then router:set_layers(id, producer._ids) end   -- the best layer that is received
  local pipe = setmetatable({ room = self, producer = producer, kind = producer.kind, name = name, _id = id,
                              _listeners = {},
                              desc = { pipe = name, kind = producer.kind, codec = producer.codec, room = self.name,
                                       source = producer.source } }, PIPE)
  by_id[id] = pipe
  if producer.paused then router:pause(id) end
  producer._consumers[pipe] = true
  self._pipes[pipe] = true
  return pipe
end

--- room:pipe_from(desc[, {info=, source=}]) -> producer | nil, err
--- desc: a pipe's desc (from room:pipe_to in another worker of this process). The
--- producer has piped = true and no pc; it closes when the sending side closes.
function ROOM:pipe_from(desc, opts)
  if type(desc) ~= "table" or type(desc.pipe) ~= "string" then
    error("bad argument #1 to 'pipe_from' (a pipe description {pipe = name, ...} expected)", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'pipe_from' (table expected)", 2) end
  opts = opts or {}
  if self.closed then return nil, "InvalidStateError: the room is closed", "InvalidStateError" end
  local id, info = get_router():pipe_in(desc.pipe)
  if not id then return nil, info, tostring(info):match("^(%w+)") end
  local p = setmetatable({ room = self, kind = info.kind, codec = info.codec, piped = true, pipe = desc.pipe,
                           info = opts.info, source = opts.source or desc.source,
                           _id = id, _ids = { id }, rids = {}, layers = 1, _consumers = {}, _listeners = {},
                           _opts = {} }, PRODUCER)
  by_id[id] = p
  self._producers[p] = true
  if p.kind == "audio" and self._speaker then router:speaker_add(self._speaker, id) end
  emit(self, "publish", p)
  return p
end
-- }======

-- {====== rooms ======
function ROOM:on(ev, fn) return on(self, ROOM_EVENTS, ev, fn) end
ROOM.__tostring = function(self) return "rtc.sfu_room(" .. self.name .. ")" end

--- room:join(pc[, info]) -> true | nil, "NotAllowedError: ..." (the can_join hook);
--- publish and subscribe join on their own. A member stays until its connection closes
--- or room:remove(pc).
function ROOM:join(pc, info)
  if type(pc) ~= "table" or not pc._core then error("bad argument #1 to 'join' (peer connection expected)", 2) end
  if self.closed then return nil, "InvalidStateError: the room is closed", "InvalidStateError" end
  if pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  return join(self, pc, info)
end

--- room:remove(pc[, reason]): a moderator removes a member: its producers and consumers
--- close, "leave" fires, then its connection closes (the client sees it end).
function ROOM:remove(pc, reason)
  if type(pc) ~= "table" or not pc._core then error("bad argument #1 to 'remove' (peer connection expected)", 2) end
  local m = self._peers[pc]
  if not m then return nil, "InvalidStateError: not a member of the room", "InvalidStateError" end
  self._peers[pc] = nil
  for p in pairs(m.producers) do p:close() end
  for c in pairs(m.consumers) do c:close() end
  emit(self, "leave", pc, reason or "removed")
  pc:close()
  return true
end

--- room:publish(track[, {info=, source=, rids=, keyframe_interval=, cache_ms=, cache_bytes=}]) -> producer | nil, err
--- track: a remote track from a peer connection's "track" event; its simulcast layers
--- (RIDs or a=ssrc-group:SIM, lowest first as the publisher lists them, or `rids`
--- to name and order them) become the producer's layers. A list of remote tracks of
--- one connection (lowest first) publishes them as the layers of one producer.
--- source: what the signaling said it is ("camera", "screen", "microphone", ...),
--- given to can_publish.
function ROOM:publish(track, opts)
  local tracks
  if type(track) == "table" and not track._tr and #track > 0 then
    tracks = track
    if #tracks > 3 then error("bad argument #1 to 'publish' (at most 3 layers)", 2) end
    for _, t in ipairs(tracks) do
      if type(t) ~= "table" or not t.remote or not t._tr or t._tr._pc ~= tracks[1]._tr._pc or t.kind ~= "video" then
        error("bad argument #1 to 'publish' (remote video tracks of one connection expected)", 2)
      end
    end
    track = tracks[#tracks]
  end
  if type(track) ~= "table" or not track.remote or not track._tr then
    error("bad argument #1 to 'publish' (a remote track expected)", 2)
  end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #2 to 'publish' (table expected)", 2) end
  opts = opts or {}
  if self.closed then return nil, "InvalidStateError: the room is closed", "InvalidStateError" end
  local tr = track._tr
  local pc = tr._pc
  if pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  if opts.rids ~= nil then
    if type(opts.rids) ~= "table" or #opts.rids > 3 then error("publish: rids must be a list of at most 3 RIDs", 2) end
    for _, r in ipairs(opts.rids) do
      if type(r) ~= "string" or r == "" or #r > 15 then error("publish: each rid must be a string of 1..15 bytes", 2) end
    end
  end
  local mine = {}
  for _, t in ipairs(tracks or { track }) do mine[t._tr] = true end
  for p in pairs(self._producers) do
    for _, t in ipairs(p._tracks or { p.track }) do
      if mine[t._tr] then return nil, "InvalidStateError: the track is already published", "InvalidStateError" end
    end
  end
  if opts.source ~= nil and type(opts.source) ~= "string" then error("publish: source must be a string", 2) end
  local ok, jerr, jname = join(self, pc, opts.info)
  if not ok then return nil, jerr, jname end
  if self._hooks.can_publish then
    local allowed, msg = self._hooks.can_publish(self, pc, track, opts.info, opts.source)
    if allowed ~= true then return check_hook(false, msg, "publish") end
  end
  local p = setmetatable({ room = self, pc = pc, track = track, kind = track.kind, info = opts.info, source = opts.source,
                           _tr = tr, _tracks = tracks, _rids = opts.rids, _consumers = {}, _listeners = {},
                           _opts = { keyframe_interval = opts.keyframe_interval, cache_ms = opts.cache_ms,
                                     cache_bytes = opts.cache_bytes } }, PRODUCER)
  self._peers[pc].producers[p] = true
  self._producers[p] = true
  p:_bind()
  emit(self, "publish", p)
  return p
end

-- A transceiver of pc to send `kind` on: one a remote offer created that sends nothing
-- yet (WHEP: the subscriber offered recvonly), else a new sendonly one (the caller
-- renegotiates: negotiationneeded fires).
-- Either way the transceiver prefers the producer's codec in the producer's format
-- (H264 profile, VP9 profile-id): answering, that is what it picks from the subscriber's
-- offer whatever its order; offering, it goes first with the producer's fmtp.
local function sending_transceiver(pc, kind, codec, red, fmtp)
  local function prefer(tr)
    if codec then pc._core:tr_set_codec(tr._h, codec, fmtp ~= "" and fmtp or nil) end
    return tr
  end
  for _, tr in ipairs(pc:get_transceivers()) do
    if tr._remote_created and tr.kind == kind and not tr.sender.track and not tr._sfu_consumer then
      -- JSEP intersects with the offer: a recvonly offer (WHEP) gives sendonly.
      local dir = tr.direction
      if dir == "recvonly" then tr:set_direction("sendrecv") elseif dir == "inactive" then tr:set_direction("sendonly") end
      return prefer(tr)
    end
  end
  local tr, err = pc:add_transceiver(kind, { direction = "sendonly", codec = codec, red = kind == "audio" and red or nil })
  if not tr then return nil, err end
  return prefer(tr)
end

--- room:subscribe(pc, producer[, {paused=, info=, red=}]) -> consumer | nil, err
--- red (audio): the new transceiver's RED mode ("auto", "on", "off"; docs/media.md):
--- the subscriber gets RED when that transceiver sends it, plain Opus otherwise.
function ROOM:subscribe(pc, producer, opts)
  if type(pc) ~= "table" or not pc._core then error("bad argument #1 to 'subscribe' (peer connection expected)", 2) end
  if getmetatable(producer) ~= PRODUCER then error("bad argument #2 to 'subscribe' (producer expected)", 2) end
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #3 to 'subscribe' (table expected)", 2) end
  opts = opts or {}
  if self.closed then return nil, "InvalidStateError: the room is closed", "InvalidStateError" end
  if producer.closed then return nil, "InvalidStateError: the producer is closed", "InvalidStateError" end
  if pc._closed then return nil, "InvalidStateError: the peer connection is closed", "InvalidStateError" end
  local joined, jerr, jname = join(self, pc, opts.info)
  if not joined then return nil, jerr, jname end
  if self._hooks.can_subscribe then
    local ok, msg = self._hooks.can_subscribe(self, pc, producer, opts.info)
    if ok ~= true then return check_hook(false, msg, "subscribe") end
  end
  if opts.red ~= nil and opts.red ~= "auto" and opts.red ~= "on" and opts.red ~= "off" then
    error("bad argument #3 to 'subscribe' (red must be \"auto\", \"on\" or \"off\")", 2)
  end
  local tr, err = sending_transceiver(pc, producer.kind, producer.codec, opts.red, producer.fmtp)
  if not tr then return nil, err end
  local c = setmetatable({ room = self, pc = pc, producer = producer, transceiver = tr, kind = producer.kind,
                           paused = false, info = opts.info, _listeners = {}, _paused_by = {} }, CONSUMER)
  if opts.paused then c._paused_by.app = true end
  if producer.paused then c._paused_by.moderator = true end
  c.paused = next(c._paused_by) ~= nil
  tr._sfu_consumer = c
  self._peers[pc].consumers[c] = true
  producer._consumers[c] = true
  c:_bind()
  emit(self, "subscribe", c)
  return c
end

--- room:producers() -> { producer, ... } (open ones, in no particular order)
function ROOM:producers()
  local out = {}
  for p in pairs(self._producers) do out[#out + 1] = p end
  return out
end

--- room:consumers([pc]) -> { consumer, ... }: the open consumers of member pc (all members' without pc)
function ROOM:consumers(pc)
  local out = {}
  for mpc, m in pairs(self._peers) do
    if pc == nil or mpc == pc then
      for c in pairs(m.consumers) do out[#out + 1] = c end
    end
  end
  return out
end

--- room:peers() -> { pc, ... }
function ROOM:peers()
  local out = {}
  for pc in pairs(self._peers) do out[#out + 1] = pc end
  return out
end

--- room:close(): closes every producer and consumer (the peer connections stay open).
function ROOM:close()
  if self.closed then return end
  self.closed = true
  for pc, m in pairs(self._peers) do
    for p in pairs(m.producers) do p:close() end
    for c in pairs(m.consumers) do c:close() end
    self._peers[pc] = nil
  end
  for p in pairs(self._producers) do p:close() end     -- piped ones belong to no member
  for p in pairs(self._pipes) do p:close() end
  if rooms[self.name] == self then rooms[self.name] = nil end
  if self._speaker then router:remove(self._speaker); by_id[self._speaker] = nil; self._speaker = nil end
  emit(self, "close")
end

--- sfu.room{name=, can_join=fn(room, pc, info), can_publish=fn(room, pc, track, info, source),
---          can_subscribe=fn(room, pc, producer, info), speaker={interval=, window=, hold=,
---          silence_level=, min_score=, margin_pct=}} -> room
--- A hook returns true to allow, or false/nil and a message that reaches the client.
--- speaker: the active speaker observer's settings (seconds; levels in -dBov).
--- The same name gives the same open room.
function M.room(opts)
  if opts ~= nil and type(opts) ~= "table" then error("bad argument #1 to 'room' (table expected)", 2) end
  opts = opts or {}
  local name = opts.name or "default"
  if type(name) ~= "string" or name == "" then error("room: name must be a non-empty string", 2) end
  for _, k in ipairs { "can_join", "can_publish", "can_subscribe" } do
    if opts[k] ~= nil and type(opts[k]) ~= "function" then error("room: " .. k .. " must be a function", 2) end
  end
  if opts.speaker ~= nil and type(opts.speaker) ~= "table" then error("room: speaker must be a table", 2) end
  local r = rooms[name]
  if r then
    for _, k in ipairs { "can_join", "can_publish", "can_subscribe" } do
      if opts[k] then r._hooks[k] = opts[k] end
    end
    return r
  end
  r = setmetatable({ name = name, _peers = {}, _producers = {}, _pipes = {}, _listeners = {},
                     _hooks = { can_join = opts.can_join, can_publish = opts.can_publish,
                                can_subscribe = opts.can_subscribe } }, ROOM)
  -- The room's active speaker observer in the C core: its audio producers' levels.
  local ok, sid, serr = pcall(get_router().add_speaker, get_router(), opts.speaker)
  if not ok then error("room: " .. tostring(sid):gsub("^.-bad argument #2 to 'add_speaker' %((.*)%)$", "speaker: %1"), 2) end
  if not sid then error("room: " .. tostring(serr), 2) end
  r._speaker = sid
  by_id[sid] = r
  rooms[name] = r
  return r
end

--- sfu.rooms() -> { [name] = room }
function M.rooms()
  local out = {}
  for k, v in pairs(rooms) do out[k] = v end
  return out
end

return M
