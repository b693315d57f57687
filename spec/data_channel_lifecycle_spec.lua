-- Data channel lifetimes between two peers in one process (127.0.0.1): closed channels
-- are let go on both sides, the label cap, and pc:close() reaching the remote channels.
local rtc = require "rtc"

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local function pair()
  local a = assert(rtc.peer_connection(LOCAL))
  local b = assert(rtc.peer_connection(LOCAL))
  a:on("icecandidate", function(c) if c and b.remote_description then assert(b:add_ice_candidate(c)) end end)
  b:on("icecandidate", function(c) if c and a.remote_description then assert(a:add_ice_candidate(c)) end end)
  return a, b
end

local function negotiate(a, b)
  local offer = assert(a:create_offer())
  assert(a:set_local_description(offer))
  assert(b:set_remote_description(offer))
  local answer = assert(b:create_answer())
  assert(b:set_local_description(answer))
  assert(a:set_remote_description(answer))
end

local function count(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n
end

describe("data channel lifetime", function()
  it("lets go of closed channels: many open/close cycles keep the bookkeeping bounded", function()
    run_task(function()
      local a, b = pair()
      local keep = assert(a:create_data_channel("keep"))
      local remote
      b:on("datachannel", function(ch) remote = ch end)
      negotiate(a, b)
      wait_for(function() return remote end, "first channel")
      local label, proto = string.rep("l", 1024), string.rep("p", 1024)
      local first
      for i = 1, 200 do
        remote = nil
        local dc = assert(a:create_data_channel(label, { protocol = proto }))
        first = first or dc
        local closed_a, closed_b = false, false
        dc:on("close", function() closed_a = true end)
        wait_for(function() return remote and dc.ready_state == "open" end, "channel " .. i)
        assert.equal(label, remote.label)
        remote:on("close", function() closed_b = true end)
        assert(dc:send("m" .. i))
        dc:close()
        wait_for(function() return closed_a and closed_b end, "close of channel " .. i)
      end
      -- Only the open channel is still held, on each side.
      assert.equal(1, count(a._channels))
      assert.equal(1, count(b._channels))
      local ra, rb = a._core:raw_stats(), b._core:raw_stats()
      assert.equal(1, ra.data_channels)
      assert.equal(1, rb.data_channels)
      assert.is_true(ra.data_channel_slots <= 3)
      assert.is_true(rb.data_channel_slots <= 3)
      -- A closed channel a script still holds answers from what it knew at close.
      assert.equal("closed", first.ready_state)
      assert.equal(label, first.label)
      assert.equal(proto, first.protocol)
      assert.equal(1, first.messages_sent)
      assert.equal(0, first.buffered_amount)
      local ok, err = first:send("late")
      assert.is_nil(ok)
      assert.matches("^InvalidStateError:", err)
      assert.is_true(first:close())
      -- The open one still works.
      local got
      b:on("datachannel", function() end)
      for _, ch in pairs(b._channels) do ch:on("message", function(m) got = m end) end
      assert(keep:send("still here"))
      wait_for(function() return got end, "message on the kept channel")
      assert.equal("still here", got)
      a:close(); b:close()
    end, 60000)
  end)

  it("refuses a label or protocol over 1024 bytes", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local dc, err = a:create_data_channel(string.rep("x", 1025))
      assert.is_nil(dc)
      assert.matches("label longer than 1024 bytes", err)
      dc, err = a:create_data_channel("ok", { protocol = string.rep("x", 1025) })
      assert.is_nil(dc)
      assert.matches("protocol longer than 1024 bytes", err)
      assert(a:create_data_channel(string.rep("x", 1024)))
      a:close()
    end)
  end)

  it("pc:close() closes the remote side's channels at once", function()
    run_task(function()
      local a, b = pair()
      local d1, d2 = a:create_data_channel("one"), a:create_data_channel("two")
      local remote = {}
      b:on("datachannel", function(ch) remote[ch.label] = ch end)
      negotiate(a, b)
      wait_for(function() return remote.one and remote.two and d1.ready_state == "open" end, "channels")
      local closed = {}
      remote.one:on("close", function() closed.one = true end)
      remote.two:on("close", function() closed.two = true end)
      local local_closed = 0
      d1:on("close", function() local_closed = local_closed + 1 end)
      d2:on("close", function() local_closed = local_closed + 1 end)
      a:close()
      assert.equal(2, local_closed)
      -- Well within the wait's limit; SCTP alone would notice after tens of seconds.
      wait_for(function() return closed.one and closed.two end, "remote close events", 5000)
      assert.equal("closed", remote.one.ready_state)
      assert.equal(0, count(b._channels))
      b:close()
    end)
  end)
end)
