-- JSEP between two luartc peers in one process: rollback of local and remote offers,
-- implicit descriptions, waiting for gathering on a connection that closes, and the
-- W3C perfect-negotiation pattern with both sides adding tracks and channels at once.
local rtc = require "rtc"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task, wait_for = loop.run_task, loop.wait_for

local LOCAL = { bind_addresses = { "127.0.0.1" } }

local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

-- One frame of fake media: an Opus TOC byte, or a VP8 keyframe (every frame is one, so
-- a stream that starts in a later round decodes from its first frame).
local function fake_frame(kind, i)
  if kind == "audio" then return "\x78" .. string.rep(string.char(i % 256), 60) end
  return "\x10\0\0\x9d\x01\x2a" .. string.rep(string.char(i % 256), 300)
end

describe("peer_connection JSEP", function()
  it("rolling back a local offer gives its sections back to the next offer", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local tr = assert(a:add_track(rtc.media_track("audio")))
      assert(a:set_local_description())                     -- implicit offer
      assert.equal("have-local-offer", a.signaling_state)
      assert.equal("0", tr.mid)
      assert(a:set_local_description { type = "rollback" })
      assert.equal("stable", a.signaling_state)
      assert.is_nil(tr.mid)
      local offer = assert(a:create_offer())
      assert.equal(1, count(offer.sdp, "m=audio "))
      a:close()
    end)
  end)

  it("rolling back a remote offer removes what it created; set_local_description() answers", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection(LOCAL))
      a:add_track(rtc.media_track("video"))
      a:create_data_channel("chat")
      assert(a:set_local_description())
      a:wait_gathering_complete()
      local tracks = 0
      b:on("track", function() tracks = tracks + 1 end)
      assert(b:set_remote_description(a.local_description))
      wait_for(function() return tracks == 1 end, "the track event")
      assert.equal(1, #b:get_transceivers())
      assert(b:set_remote_description { type = "rollback" })
      assert.equal("stable", b.signaling_state)
      assert.is_nil(b.remote_description)
      assert.equal(0, #b:get_transceivers())
      -- again, and this time answer it without naming the type
      assert(b:set_remote_description(a.local_description))
      assert(b:set_local_description())
      assert.equal("answer", b.local_description.type)
      b:wait_gathering_complete()
      assert(a:set_remote_description(b.local_description))
      wait_for(function() return a.connection_state == "connected" and b.connection_state == "connected" end, "connected")
      a:close(); b:close()
    end)
  end)

  it("wakes a task waiting for gathering with an error when the connection closes", function()
    run_task(function()
      -- No addresses to gather from is not possible here; a connection whose gathering
      -- never starts (no local description) is closed under its waiter instead.
      local a = assert(rtc.peer_connection(LOCAL))
      local result
      rtc.spawn(function() result = { a:wait_gathering_complete() } end)
      rtc.sleep(0.01)
      assert.is_nil(result)
      a:close()
      wait_for(function() return result end, "the waiter to wake")
      assert.is_nil(result[1])
      assert.matches("^InvalidStateError:", result[2])
    end)
  end)

  it("refuses a negative max_message_size", function()
    assert.has_error(function() rtc.peer_connection { max_message_size = -1 } end,
      "bad argument #1 to 'peer_connection' (max_message_size must be a non-negative integer)")
    local pc = assert(rtc.peer_connection { bind_addresses = { "127.0.0.1" }, max_message_size = 1000 })
    pc:create_data_channel("x")
    assert.matches("a=max%-message%-size:1000\r\n", assert(pc:create_offer()).sdp)
    pc:close()
  end)

  it("perfect negotiation: polite and impolite add tracks and channels at once, round after round", function()
    run_task(function()
      local peers = {}
      -- Signalling with some delay, in order: each message is handled in its own task.
      local function sender(to)
        return function(msg)
          rtc.set_timeout(3, function() rtc.spawn(function() peers[to].handle(msg) end) end)
        end
      end
      local function perfect(name, polite, send)
        local pc = assert(rtc.peer_connection(LOCAL))
        local p = { pc = pc, name = name, frames = {}, remote_tracks = {}, channels = {}, errors = {} }
        local making, ignore = false, false
        pc:on("negotiationneeded", function()
          rtc.spawn(function()
            making = true
            local ok = pc:set_local_description()
            making = false
            if ok then send { description = pc.local_description } end
          end)
        end)
        pc:on("icecandidate", function(c) send { candidate = c or false } end)
        pc:on("track", function(track)
          p.remote_tracks[#p.remote_tracks + 1] = track
          p.frames[track] = 0
          track:on("frame", function() p.frames[track] = p.frames[track] + 1 end)
        end)
        pc:on("datachannel", function(dc)
          p.channels[#p.channels + 1] = dc
          dc:on("message", function(m) dc:send("echo:" .. m) end)
        end)
        function p.handle(msg)
          if msg.description then
            local d = msg.description
            local collision = d.type == "offer" and (making or pc.signaling_state ~= "stable")
            ignore = not polite and collision
            if ignore then return end
            local ok, err = pc:set_remote_description(d)
            if not ok then p.errors[#p.errors + 1] = err; return end
            if d.type == "offer" then
              ok, err = pc:set_local_description()
              if not ok then p.errors[#p.errors + 1] = err; return end
              send { description = pc.local_description }
            end
          elseif msg.candidate ~= nil then
            local ok, err = pc:add_ice_candidate(msg.candidate or nil)
            if not ok and not ignore and pc.remote_description then p.errors[#p.errors + 1] = err end
          end
        end
        return p
      end
      peers.a = perfect("a", false, sender("b"))   -- impolite
      peers.b = perfect("b", true, sender("a"))    -- polite
      local a, b = peers.a, peers.b
      local sent = { a = {}, b = {} }              -- local tracks per peer
      local own_channels = { a = {}, b = {} }
      local function settled()
        for _, p in ipairs { a, b } do
          if p.pc.signaling_state ~= "stable" or p.pc.connection_state ~= "connected" then return false end
          for _, tr in ipairs(p.pc:get_transceivers()) do
            if not tr.mid or not tr.current_direction then return false end
          end
        end
        for side, list in pairs(own_channels) do
          for _, dc in ipairs(list) do if dc.ready_state ~= "open" then return false end end
          local other = side == "a" and b or a
          if #other.channels < #list then return false end
        end
        return #a.remote_tracks == #sent.b and #b.remote_tracks == #sent.a
      end
      local ts = {}
      local function flows(from, to)
        local before = {}
        for _, t in ipairs(to.remote_tracks) do before[t] = to.frames[t] end
        for i = 1, 10 do
          for _, track in ipairs(sent[from.name]) do
            ts[track] = (ts[track] or 0) + (track.kind == "audio" and 960 or 3000)
            assert(track:write_frame { data = fake_frame(track.kind, i), timestamp = ts[track] })
          end
          rtc.sleep(0.01)
        end
        wait_for(function()
          for _, t in ipairs(to.remote_tracks) do if to.frames[t] <= before[t] then return false end end
          return true
        end, "media from " .. from.name .. " on every track")
      end
      local plan = {
        { a = "audio", b = "audio" }, { a = "video", b = "channel" }, { a = "channel", b = "video" },
        { a = "audio", b = "video" }, { a = "video", b = "video" }, { a = "channel", b = "audio" },
      }
      for round, add in ipairs(plan) do
        for _, side in ipairs { "a", "b" } do
          local p = peers[side]
          if add[side] == "channel" then
            local dc = assert(p.pc:create_data_channel(side .. round))
            own_channels[side][#own_channels[side] + 1] = dc
          else
            local track = rtc.media_track(add[side])
            assert(p.pc:add_track(track))
            sent[side][#sent[side] + 1] = track
          end
        end
        wait_for(settled, "round " .. round .. " to settle", 8000)
        assert.same({}, a.errors)
        assert.same({}, b.errors)
        flows(a, b)
        flows(b, a)
        for side, list in pairs(own_channels) do
          local dc = list[#list]
          if dc then
            local got
            dc:on("message", function(m) got = m end)
            assert(dc:send("r" .. round))
            wait_for(function() return got end, "echo on " .. side .. "'s channel")
            assert.equal("echo:r" .. round, got)
          end
        end
      end
      a.pc:close(); b.pc:close()
    end, 60000)
  end)
end)
