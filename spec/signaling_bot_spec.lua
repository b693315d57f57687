-- The chat bot (examples/chat_bot.lua) through the signaling server, with a luartc
-- peer connection on the other side playing the browser's part.
local rtc = require "rtc"
local signaling = require "signaling"
local json = rtc.json

local SRC = os.getenv("RTC_SOURCE_DIR") or "."

local function run(fn)
  local failure
  local guard = rtc.set_timeout(30000, function() failure = failure or "test timed out"; rtc.stop() end)
  rtc.spawn(function()
    local sig, srv = assert(signaling.listen { host = "127.0.0.1", port = 0 })
    local url = "ws://127.0.0.1:" .. srv.port .. "/ws"
    local bot = assert(assert(loadfile(SRC .. "/examples/chat_bot.lua"))({ url = url, room = "demo" }))
    local ok, err = xpcall(fn, debug.traceback, url, bot, sig)
    if not ok then failure = err end
    bot.stop()
    srv:close()
    guard:stop()
  end)
  rtc.run()
  if failure then error(failure, 0) end
end

-- A peer that answers the bot's offer (it joined after the bot) or offers itself.
local function chat_with_bot(url, offer_first)
  local me = assert(signaling.connect(url, { room = "demo", peer = offer_first and "early" or "late",
                                             info = { name = "tester" } }))
  local bot_id
  for id, info in pairs(me.peers) do if info.bot then bot_id = id end end
  assert.truthy(bot_id, "the bot is listed in the welcome")
  local pc = rtc.peer_connection {}
  local got, waiter = nil, coroutine.running()
  local dc
  local function use(channel)
    dc = channel
    dc:on("message", function(data) got = json.decode(data); coroutine.resume(waiter) end)
  end
  pc:on("icecandidate", function(c)
    if c then me:send { type = "candidate", to = bot_id, candidate = c.candidate, sdpMid = c.sdp_mid,
                        sdpMLineIndex = c.sdp_mline_index } end
  end)
  if offer_first then
    use(pc:create_data_channel("chat"))
    local offer = assert(pc:create_offer())
    assert(pc:set_local_description(offer))
    me:send { type = "offer", to = bot_id, sdp = offer.sdp }
    local answer = assert(me:wait("answer", 10))
    assert(pc:set_remote_description { type = "answer", sdp = answer.sdp })
  else
    pc:on("datachannel", use)
    local offer = assert(me:wait("offer", 10))
    assert.equal(bot_id, offer.from)
    assert(pc:set_remote_description { type = "offer", sdp = offer.sdp })
    local answer = assert(pc:create_answer())
    assert(pc:set_local_description(answer))
    me:send { type = "answer", to = bot_id, sdp = answer.sdp }
  end
  -- candidates from the bot, until the channel is open
  local opened = false
  local t0 = rtc.now()
  while not opened and rtc.now() - t0 < 10000 do
    local c = me:wait("candidate", 0.05)
    if c then pc:add_ice_candidate { candidate = c.candidate, sdp_mid = c.sdpMid, sdp_mline_index = c.sdpMLineIndex } end
    opened = dc and dc.ready_state == "open"
  end
  assert.is_true(opened, "data channel open")
  dc:send(json.encode { from = "tester", text = "hello bot" })
  local timer = rtc.set_timeout(10000, function() coroutine.resume(waiter) end)
  if not got then coroutine.yield() end
  timer:stop()
  pc:close()
  me:close()
  return got
end

describe("chat bot", function()
  it("offers to a newcomer and answers its chat", function()
    run(function(url)
      local got = chat_with_bot(url, false)
      assert.same({ from = "chat-bot", text = "tester said: hello bot" }, got)
    end)
  end)

  it("answers an offer from a peer and answers its chat", function()
    run(function(url)
      local got = chat_with_bot(url, true)
      assert.same({ from = "chat-bot", text = "tester said: hello bot" }, got)
    end)
  end)
end)
