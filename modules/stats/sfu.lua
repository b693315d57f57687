-- stats.sfu: the SFU part of a sample (modules/stats/sampler.lua): every open room of
-- rtc.sfu with its producers and consumers, and per room and kind the counters /metrics
-- exports. The SFU is read only when the script loaded rtc.sfu itself: the sampler
-- never starts it.
--
-- Counters must never go down while their series exists, but a producer's or
-- consumer's counts go away with it. So each room keeps what its closed producers and
-- consumers had counted at their last sample ("retired") and adds it to the live ones;
-- what one forwarded between its last sample and its close is not counted. A room's
-- series end with the room (its retired counts too): a room opened again under the same
-- name starts from zero, which Prometheus reads as a counter reset.
local rtc = require "rtc"

local M = {}

-- The counters, each: metric field name, the object it comes from, its stats key.
M.COUNTERS = {
  { "received_packets", "producer", "packets_received" },
  { "received_bytes", "producer", "bytes_received" },
  { "nacks_sent", "producer", "nack_count" },
  { "plis_sent", "producer", "pli_count" },
  { "forwarded_packets", "consumer", "packets_sent" },
  { "forwarded_bytes", "consumer", "bytes_sent" },
  { "retransmitted_packets", "consumer", "retransmitted_packets_sent" },
  { "nacks_received", "consumer", "nack_count" },
  { "plis_received", "consumer", "pli_count" },
}
M.KINDS = { "audio", "video" }

local rooms = {}   -- name -> { room = obj, last = {[producer|consumer] = {kind, stats}}, retired = {[kind] = {...}} }

local function zero()
  local t = {}
  for _, k in ipairs(M.KINDS) do
    t[k] = {}
    for _, c in ipairs(M.COUNTERS) do t[k][c[1]] = 0 end
  end
  return t
end

local function add(into, what, st)
  for _, c in ipairs(M.COUNTERS) do
    if c[2] == what then into[c[1]] = into[c[1]] + (math.tointeger(st[c[3]]) or 0) end
  end
end

local function pc_id(pc) return pc and pc.id or nil end

-- One room now: { name, peers, producers = {...}, consumers = {...}, totals = {[kind] = counters} }
local function sample_room(name, room)
  local r = rooms[name]
  if not r or r.room ~= room then
    r = { room = room, last = {}, retired = zero() }
    rooms[name] = r
  end
  local out = { name = name, peers = #room:peers(), producers = {}, consumers = {}, totals = zero() }
  local seen = {}
  for _, p in ipairs(room:producers()) do
    local st = p:stats()
    seen[p] = true
    r.last[p] = { kind = p.kind, what = "producer", stats = st }
    add(out.totals[p.kind], "producer", st)
    local layers = {}
    for i, l in ipairs(st.layers or {}) do
      layers[i] = { rid = l.rid, active = l.active, bitrate = l.bitrate, frame_width = l.frame_width,
                    frame_height = l.frame_height }
    end
    out.producers[#out.producers + 1] = {
      pc = pc_id(p.pc), kind = p.kind, codec = p.codec, layers = layers,
      packets_received = st.packets_received or 0, bytes_received = st.bytes_received or 0,
      nack_count = st.nack_count or 0, pli_count = st.pli_count or 0 }
  end
  for _, c in ipairs(room:consumers()) do
    local st = c:stats()
    seen[c] = true
    r.last[c] = { kind = c.kind, what = "consumer", stats = st }
    add(out.totals[c.kind], "consumer", st)
    local ly = c.kind == "video" and c:current_layers() or {}
    out.consumers[#out.consumers + 1] = {
      pc = pc_id(c.pc), producer_pc = pc_id(c.producer.pc), kind = c.kind, paused = c.paused,
      spatial = ly.spatial, temporal = ly.temporal, target_spatial = ly.target_spatial,
      target_temporal = ly.target_temporal,
      packets_sent = st.packets_sent or 0, bytes_sent = st.bytes_sent or 0,
      retransmitted_packets_sent = st.retransmitted_packets_sent or 0,
      nack_count = st.nack_count or 0, pli_count = st.pli_count or 0 }
  end
  for obj, l in pairs(r.last) do
    if not seen[obj] then
      add(r.retired[l.kind], l.what, l.stats)
      r.last[obj] = nil
    end
  end
  for _, k in ipairs(M.KINDS) do
    for f, v in pairs(r.retired[k]) do out.totals[k][f] = out.totals[k][f] + v end
  end
  table.sort(out.producers, function(a, b) return tostring(a.pc) .. a.kind < tostring(b.pc) .. b.kind end)
  table.sort(out.consumers, function(a, b) return tostring(a.pc) .. a.kind < tostring(b.pc) .. b.kind end)
  return out
end

--- stats.sfu.sample() -> { room, ... } by name (empty when rtc.sfu is not loaded).
function M.sample()
  local sfu = package.loaded["rtc.sfu"]
  local list = {}
  if type(sfu) ~= "table" or type(sfu.rooms) ~= "function" then return list end
  local open = sfu.rooms()
  for name in pairs(rooms) do
    if not open[name] then rooms[name] = nil end
  end
  for name, room in pairs(open) do
    local ok, r = pcall(sample_room, name, room)
    if ok then list[#list + 1] = r else rtc.log.warn("stats", "room %s: %s", name, tostring(r)) end
  end
  table.sort(list, function(a, b) return a.name < b.name end)
  return list
end

return M
