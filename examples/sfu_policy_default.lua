-- The default SFU policy: audio first, then the active speaker's video, then everyone
-- else's video as far as the subscriber's bandwidth goes.
--
--   local default = dofile("examples/sfu_policy_default.lua")
--   default(room, { audio_bps = 50000, speaker_bps = 500000, video_bps = 150000,
--                   estimate = function(pc) return bps or nil end })
--
-- or with the WHIP/WHEP example: luartc examples/sfu.lua --policy default
--
-- For each subscriber connection, whenever its send-side bandwidth estimate changes
-- (pc:on("bandwidth")), the room's active speaker changes, or a consumer is added:
--   1. every audio consumer is forwarded (audio is never paused by the policy);
--   2. the active speaker's video is forwarded, at the highest simulcast layer that
--      fits (its preferred layers: the top);
--   3. the estimate, less audio_bps per audio consumer and speaker_bps for the
--      speaker's video, is shared among the other video consumers, video_bps each, in
--      the order the producers were published, each at its lowest layer (preferred
--      spatial layer 0); those that do not fit are paused (reason "policy": the
--      subscriber's own pause and a moderator's mute stay theirs).
-- Until a connection has an estimate, everything is forwarded. `estimate` says where
-- the estimate comes from: pc:bandwidth().bps by default (a number in bit/s, or nil).
-- The C core then picks, within each consumer's preferred layers, the highest that
-- fits its share of the estimate (docs/sfu.md, Layers).
return function(room, opts)
  opts = opts or {}
  local audio_bps = opts.audio_bps or 50000
  local speaker_bps = opts.speaker_bps or 500000
  local video_bps = opts.video_bps or 150000
  local seq, order = 0, setmetatable({}, { __mode = "k" })    -- producer -> publish order
  local watched = setmetatable({}, { __mode = "k" })          -- subscriber pc -> true
  local chosen = setmetatable({}, { __mode = "k" })           -- consumer -> "top" | "low"

  -- A preference is set only when it changes: a new one may ask for a keyframe.
  local function prefer(c, which)
    if chosen[c] == which then return end
    chosen[c] = which
    if which == "top" then c:set_preferred_layers {} else c:set_preferred_layers { spatial = 0 } end
  end

  local estimate = opts.estimate or function(pc)
    local bw = pc:bandwidth()
    return bw and bw.bps
  end

  local function apply(pc)
    if pc._closed then return end
    local speaker = room.active_speaker
    local audio, others = {}, {}
    local speaker_video = {}
    for _, c in ipairs(room:consumers(pc)) do
      if c.kind == "audio" then audio[#audio + 1] = c
      elseif speaker and c.producer.pc == speaker.pc then speaker_video[#speaker_video + 1] = c
      else others[#others + 1] = c end
    end
    for _, c in ipairs(audio) do c:resume("policy") end
    for _, c in ipairs(speaker_video) do
      prefer(c, "top")
      c:resume("policy")
    end
    local bps = estimate(pc)
    local budget = bps and (bps - #audio * audio_bps - #speaker_video * speaker_bps) or math.huge
    table.sort(others, function(a, b) return (order[a.producer] or 0) < (order[b.producer] or 0) end)
    for _, c in ipairs(others) do
      prefer(c, "low")
      if budget >= video_bps then
        c:resume("policy")
        budget = budget - video_bps
      else
        c:pause("policy")
      end
    end
  end

  local function apply_all()
    for _, pc in ipairs(room:peers()) do apply(pc) end
  end

  local function watch(pc)
    if watched[pc] then return end
    watched[pc] = true
    pc:on("bandwidth", function() apply(pc) end)
  end

  room:on("publish", function(p)
    seq = seq + 1
    order[p] = seq
  end)
  room:on("subscribe", function(c)
    watch(c.pc)
    apply(c.pc)
  end)
  room:on("activespeaker", apply_all)
  for _, p in ipairs(room:producers()) do seq = seq + 1; order[p] = seq end
  for _, c in ipairs(room:consumers()) do watch(c.pc) end
  apply_all()

  return { apply = apply_all }
end
