-- Last-N: forward video only from the N most recent speakers; audio always flows.
-- An SFU policy for an rtc.sfu room, in Lua: it decides nothing per packet, only which
-- video consumers are paused, when the room's active speaker changes, someone
-- publishes, subscribes or leaves.
--
--   local last_n = dofile("examples/sfu_policy_last_n.lua")
--   local policy = last_n(room, { n = 3 })        -- policy.order() -> publisher pcs, most recent speaker first
--
-- or with the WHIP/WHEP example: luartc examples/sfu.lua --policy last-n --last-n 3
--
-- Before anyone has spoken, the first N publishers (in the order they published) are
-- the ones forwarded; a publisher who speaks moves to the front. A video consumer is
-- paused with the reason "last_n", so a pause of the subscriber's own or a moderator's
-- mute is left as it is.
return function(room, opts)
  opts = opts or {}
  local n = opts.n or 3
  if math.type(n) ~= "integer" or n < 0 then error("last_n: n must be a non-negative integer", 2) end
  local order = {}                      -- publisher connections, most recent speaker first

  local function rank(pc)
    for i, x in ipairs(order) do if x == pc then return i end end
    return nil
  end

  local function apply(c)
    if c.kind ~= "video" or c.closed then return end
    local r = rank(c.producer.pc)
    if r and r <= n then c:resume("last_n") else c:pause("last_n") end
  end

  local function apply_all()
    for _, c in ipairs(room:consumers()) do apply(c) end
  end

  room:on("publish", function(p)
    if not rank(p.pc) then order[#order + 1] = p.pc end
    apply_all()
  end)
  room:on("activespeaker", function(p)
    if not p then return end
    local r = rank(p.pc)
    if r then table.remove(order, r) end
    table.insert(order, 1, p.pc)
    apply_all()
  end)
  room:on("leave", function(pc)
    local r = rank(pc)
    if r then table.remove(order, r); apply_all() end
  end)
  room:on("subscribe", apply)
  for _, p in ipairs(room:producers()) do         -- a room that already has publishers
    if not rank(p.pc) then order[#order + 1] = p.pc end
  end
  apply_all()

  return {
    n = n,
    order = function() return { table.unpack(order) } end,
  }
end
