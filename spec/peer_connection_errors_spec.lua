-- The failures of every peer connection method, with the W3C DOMException names: a
-- table of bad calls, each returning nil, "<Name>: message", "<Name>" (the state left
-- as it was), and argument errors that raise naming the Lua function.
local rtc = require "rtc"
local loop = require "support.loop"
local pcpair = require "support.pcpair"
local run_task = loop.run_task

local LOCAL = { bind_addresses = { "127.0.0.1" } }
local CAND = "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host"

-- Each case: a name, the W3C error name wanted, and fn(env) making the call.
local CASES = {
  -- signaling state (InvalidStateError)
  { "create_answer in stable", "InvalidStateError", function(e) return e.a:create_answer() end },
  { "local answer in stable", "InvalidStateError",
    function(e) return e.a:set_local_description { type = "answer", sdp = "v=0\r\n" } end },
  { "local rollback in stable", "InvalidStateError", function(e) return e.a:set_local_description { type = "rollback" } end },
  { "remote rollback in stable", "InvalidStateError", function(e) return e.a:set_remote_description { type = "rollback" } end },
  { "remote answer in stable", "InvalidStateError",
    function(e) return e.a:set_remote_description { type = "answer", sdp = e.offer.sdp } end },
  { "candidate before a remote description", "InvalidStateError",
    function(e) return e.a:add_ice_candidate { candidate = CAND, sdp_mid = "0" } end },
  { "offer while answering", "InvalidStateError", function(e) return e.b:create_offer() end, "b_has_offer" },
  { "remote answer while answering", "InvalidStateError",
    function(e) return e.b:set_remote_description { type = "answer", sdp = e.offer.sdp } end, "b_has_offer" },
  -- SDP (OperationError: does not parse; InvalidAccessError: cannot be applied)
  { "SDP that does not parse", "OperationError",
    function(e) return e.b:set_remote_description { type = "offer", sdp = "garbage" } end },
  { "empty SDP", "OperationError", function(e) return e.b:set_remote_description { type = "offer", sdp = "" } end },
  { "offer without fingerprint", "InvalidAccessError",
    function(e) return e.b:set_remote_description { type = "offer", sdp = e.offer.sdp:gsub("a=fingerprint[^\r\n]*\r\n", "") } end },
  { "offer without ICE credentials", "InvalidAccessError",
    function(e) return e.b:set_remote_description { type = "offer", sdp = e.offer.sdp:gsub("a=ice%-ufrag[^\r\n]*\r\n", "") } end },
  { "unknown description type", "TypeError", function(e) return e.b:set_remote_description { type = "bogus", sdp = "x" } end },
  { "local offer not the last created", "InvalidModificationError",
    function(e) return e.a:set_local_description { type = "offer", sdp = e.offer.sdp:gsub("a=mid:0", "a=mid:9") } end },
  { "local answer given as an offer", "InvalidModificationError",
    function(e) return e.a:set_local_description { type = "offer", sdp = "v=0\r\n" } end },
  -- candidates
  { "candidate for an unknown mid", "OperationError",
    function(e) return e.b:add_ice_candidate { candidate = CAND, sdp_mid = "zz" } end, "b_has_offer" },
  { "candidate for an index past the sections", "OperationError",
    function(e) return e.b:add_ice_candidate { candidate = CAND, sdp_mline_index = 7 } end, "b_has_offer" },
  { "candidate that does not parse", "OperationError",
    function(e) return e.b:add_ice_candidate { candidate = "candidate:garbage", sdp_mid = "0" } end, "b_has_offer" },
  { "candidate without mid or index", "TypeError",
    function(e) return e.b:add_ice_candidate { candidate = CAND } end, "b_has_offer" },
  -- data channels (TypeError for the init dictionary, OperationError for an id in use)
  { "max_retransmits with max_packet_life_time", "TypeError",
    function(e) return e.a:create_data_channel("x", { max_retransmits = 1, max_packet_life_time = 5 }) end },
  { "negative max_retransmits", "TypeError", function(e) return e.a:create_data_channel("x", { max_retransmits = -1 }) end },
  { "max_packet_life_time over 65535", "TypeError",
    function(e) return e.a:create_data_channel("x", { max_packet_life_time = 70000 }) end },
  { "label too long", "TypeError", function(e) return e.a:create_data_channel(string.rep("l", 70000)) end },
  { "negotiated without id", "TypeError", function(e) return e.a:create_data_channel("x", { negotiated = true }) end },
  { "negotiated id 65535", "TypeError", function(e) return e.a:create_data_channel("x", { negotiated = true, id = 65535 }) end },
  { "negotiated id in use", "OperationError", function(e)
      assert(e.a:create_data_channel("x", { negotiated = true, id = 7 }))
      return e.a:create_data_channel("y", { negotiated = true, id = 7 })
    end },
  { "send on a channel not open", "InvalidStateError", function(e) return e.a:create_data_channel("q"):send("x") end },
  -- tracks and transceivers
  { "add_track of a track already sent", "InvalidAccessError", function(e) return e.a:add_track(e.track) end },
  { "remove_track of another connection's sender", "InvalidAccessError",
    function(e) return e.a:remove_track(e.b:add_transceiver("audio").sender) end },
  { "codec of the other kind", "TypeError", function(e) return e.a:add_transceiver("audio", { codec = "VP8" }) end },
  { "codec preference of the other kind", "InvalidModificationError",
    function(e) return e.tr:set_codec_preferences { { mime_type = "video/VP8" } } end },
  { "replace_track with the other kind", "TypeError",
    function(e) return e.tr.sender:replace_track(rtc.media_track("video")) end },
  { "set_parameters without get_parameters", "InvalidStateError",
    function(e) return e.tr.sender:set_parameters { transaction_id = "1", encodings = { {} } } end },
  { "set_parameters with another transaction_id", "InvalidModificationError", function(e)
      local p = e.tr.sender:get_parameters(); p.transaction_id = "zz"; return e.tr.sender:set_parameters(p)
    end },
  { "set_parameters with a negative max_bitrate", "RangeError", function(e)
      local p = e.tr.sender:get_parameters(); p.encodings[1].max_bitrate = -5; return e.tr.sender:set_parameters(p)
    end },
  { "set_direction on a stopped transceiver", "InvalidStateError", function(e)
      local tr = e.a:add_transceiver("video"); assert(tr:stop()); return tr:set_direction("recvonly")
    end },
  { "replace_track on a stopped transceiver", "InvalidStateError", function(e)
      local tr = e.a:add_transceiver("video"); assert(tr:stop()); return tr.sender:replace_track(nil)
    end },
  -- configuration
  { "set_configuration changing bundle_policy", "InvalidModificationError",
    function(e) return e.a:set_configuration { bind_addresses = LOCAL.bind_addresses, bundle_policy = "max-bundle" } end },
  { "set_configuration with TURN and no credentials", "InvalidAccessError", function(e)
      return e.a:set_configuration { bind_addresses = LOCAL.bind_addresses, ice_servers = { { urls = "turn:127.0.0.1" } } }
    end },
}

-- Every method of a closed connection: InvalidStateError.
local CLOSED = {
  create_offer = function(pc) return pc:create_offer() end,
  create_answer = function(pc) return pc:create_answer() end,
  set_local_description = function(pc) return pc:set_local_description() end,
  set_remote_description = function(pc, e) return pc:set_remote_description(e.offer) end,
  add_ice_candidate = function(pc) return pc:add_ice_candidate { candidate = CAND, sdp_mid = "0" } end,
  create_data_channel = function(pc) return pc:create_data_channel("x") end,
  add_track = function(pc) return pc:add_track(rtc.media_track("video")) end,
  add_transceiver = function(pc) return pc:add_transceiver("video") end,
  remove_track = function(pc, e) return pc:remove_track(e.tr.sender) end,
  restart_ice = function(pc) return pc:restart_ice() end,
  set_configuration = function(pc) return pc:set_configuration {} end,
  wait_connected = function(pc) return pc:wait_connected() end,
  ["transceiver:stop"] = function(_, e) return e.tr:stop() end,
  ["transceiver:set_direction"] = function(_, e) return e.tr:set_direction("sendrecv") end,
  ["transceiver:set_codec_preferences"] = function(_, e) return e.tr:set_codec_preferences {} end,
  ["sender:replace_track"] = function(_, e) return e.tr.sender:replace_track(nil) end,
  ["sender:set_parameters"] = function(_, e) return e.tr.sender:set_parameters(e.tr.sender:get_parameters()) end,
  ["data_channel:send"] = function(_, e) return e.dc:send("x") end,
}

-- Argument errors raise, naming the method as the script calls it.
local RAISES = {
  { "bad argument #1 to 'add_transceiver'", function(e) return e.a:add_transceiver("text") end },
  { "bad argument #2 to 'add_transceiver' (unknown codec 'G711')", function(e) return e.a:add_transceiver("audio", { codec = "G711" }) end },
  { "bad argument #2 to 'add_transceiver' (unknown direction)", function(e) return e.a:add_transceiver("audio", { direction = "up" }) end },
  { "bad argument #1 to 'set_direction'", function(e) return e.tr:set_direction("up") end },
  { "bad argument #1 to 'create_data_channel'", function(e) return e.a:create_data_channel(42) end },
  { "bad argument #2 to 'create_data_channel' (max_retransmits must be an integer)",
    function(e) return e.a:create_data_channel("x", { max_retransmits = "3" }) end },
  { "bad argument #1 to 'set_remote_description'", function(e) return e.a:set_remote_description("offer") end },
  { "bad argument #1 to 'add_ice_candidate'", function(e) return e.a:add_ice_candidate("candidate:1") end },
  { "bad argument #1 to 'add_track'", function(e) return e.a:add_track("track") end },
  { "bad argument #1 to 'set_configuration'", function(e) return e.a:set_configuration("x") end },
}

local function env(state)
  local e = { a = assert(rtc.peer_connection(LOCAL)), b = assert(rtc.peer_connection(LOCAL)) }
  e.dc = e.a:create_data_channel("d")
  e.track = rtc.media_track("audio")
  e.tr = assert(e.a:add_track(e.track))
  e.offer = assert(e.a:create_offer())
  if state == "b_has_offer" then
    assert(e.a:set_local_description(e.offer))
    assert(e.b:set_remote_description(e.a.local_description))
  end
  return e
end

local function check_fail(what, want, ok, err, name)
  assert(ok == nil, what .. ": succeeded")
  assert.equal(want, name, what .. ": " .. tostring(err))
  assert(type(err) == "string" and err:sub(1, #want + 2) == want .. ": ", what .. ": message " .. tostring(err))
end

describe("peer connection errors", function()
  it("gives each bad call its W3C error name, and leaves the state as it was", function()
    run_task(function()
      for _, c in ipairs(CASES) do
        local e = env(c[4])
        local before_a, before_b = e.a.signaling_state, e.b.signaling_state
        check_fail(c[1], c[2], c[3](e))
        assert.equal(before_a, e.a.signaling_state, c[1])
        assert.equal(before_b, e.b.signaling_state, c[1])
        e.a:close(); e.b:close()
      end
    end)
  end)

  it("gives InvalidStateError from every method of a closed connection", function()
    run_task(function()
      for what, fn in pairs(CLOSED) do
        local e = env()
        e.a:close()
        check_fail(what, "InvalidStateError", fn(e.a, e))
        e.b:close()
      end
    end)
  end)

  it("raises for arguments of the wrong type, naming the method", function()
    run_task(function()
      local e = env()
      for _, c in ipairs(RAISES) do
        local ok, err = pcall(c[2], e)
        assert.is_false(ok, c[1])
        assert.matches(c[1], tostring(err), 1, true)
      end
      e.a:close(); e.b:close()
    end)
  end)

  it("a message over the peer's max-message-size is a TypeError (W3C send)", function()
    run_task(function()
      local a = assert(rtc.peer_connection(LOCAL))
      local b = assert(rtc.peer_connection { bind_addresses = LOCAL.bind_addresses, max_message_size = 1000 })
      local dc = a:create_data_channel("big")
      pcpair(a, b)
      assert(dc:wait_open())
      check_fail("send 2000 bytes", "TypeError", dc:send(string.rep("x", 2000)))
      assert(dc:send(string.rep("x", 1000)))
      a:close(); b:close()
    end)
  end)
end)
