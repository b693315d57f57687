-- The signaling server with rooms on workers (docs/signaling.md, "Rooms on workers"):
-- each room is placed on a worker of an rtc.worker.pool when it is first joined
-- (least loaded, or a hook), the room's worker is a member that hears joins, leaves,
-- broadcasts and what is sent to it, and answers peers; an empty room is released; a
-- room whose worker ended is placed again and its new worker hears every member.
local rtc = require "rtc"
local signaling = require "signaling"
local child = require "support.child"

-- The room's worker: greets each joining peer, answers any other message with its id and what it
-- has heard of the room, raises on "die" (its script ends), and reports "close".
local WORKER = [[
local rtc = require "rtc"
local parent = rtc.worker.parent
local heard = {}
parent:on("message", function(m)
  local log = heard[m.room] or {}
  heard[m.room] = log
  if m.signaling == "join" then
    log[#log + 1] = "join " .. m.peer
    parent:send({ signaling = "send", room = m.room, to = m.peer, msg = { type = "hello", worker = rtc.worker.id } })
  elseif m.signaling == "leave" then
    log[#log + 1] = "leave " .. m.peer
  elseif m.signaling == "close" then
    parent:send({ closed = m.room, worker = rtc.worker.id, heard = log })
  elseif m.signaling == "message" then
    if m.msg.type == "die" then parent:on("message", nil); error("room worker crashed") end
    log[#log + 1] = m.msg.type .. " from " .. m.from
    parent:send({ signaling = "send", room = m.room, to = m.from,
                  msg = { type = "answer", worker = rtc.worker.id, heard = log } })
    if m.msg.type == "shout" then
      parent:send({ signaling = "broadcast", room = m.room, msg = { type = "echo", text = m.msg.text } })
    end
    parent:send({ signaling = "send", room = "not-mine", to = m.from, msg = { type = "forged" } })
  end
end)
]]

local function with_pool(place, fn)
  local failure
  local guard = rtc.set_timeout(30000, function() failure = failure or "test timed out"; rtc.stop() end)
  local path = child.script(WORKER)
  rtc.spawn(function()
    local pool = assert(rtc.worker.pool(path, { count = 2, place = place }))
    local other = {}
    local sig, srv = assert(signaling.listen { host = "127.0.0.1", port = 0, pool = pool,
                                               on_worker_message = function(w, m) other[#other + 1] = { w = w, m = m } end })
    local url = "ws://127.0.0.1:" .. srv.port .. "/ws"
    local ok, err = xpcall(fn, debug.traceback, url, pool, other, sig)
    if not ok then failure = err end
    srv:close()
    pool:terminate()
    pool:join()
    guard:stop()
  end)
  rtc.run()
  os.remove(path)
  if failure then error(failure, 0) end
end

local function wait_until(pred, what)
  local deadline = rtc.now() + 10000
  while not pred() do
    if rtc.now() > deadline then error("timed out waiting for " .. what, 2) end
    rtc.sleep(0.005)
  end
end

describe("signaling with a worker pool", function()
  it("places rooms on the least loaded worker, which hears and answers its members; an empty room is released", function()
    with_pool(nil, function(url, pool, other)
      local w1, w2 = pool.workers[1], pool.workers[2]
      local a = assert(signaling.connect(url, { room = "r1", peer = "alice" }))
      local h1 = assert(a:wait("hello", 5))
      assert.equal(w1:id(), h1.worker)
      local b = assert(signaling.connect(url, { room = "r2", peer = "bob" }))
      assert.equal(w2:id(), assert(b:wait("hello", 5)).worker)       -- w1 holds a room already
      local c = assert(signaling.connect(url, { room = "r1", peer = "carol" }))
      local hello = assert(c:wait("hello", 5))
      assert.equal(w1:id(), hello.worker)                             -- r1 stays where it is
      assert.equal("sfu", hello.from)
      assert.same({ "r1" }, pool:rooms(w1))
      -- to the worker by its peer id: only the worker gets it
      assert(c:send { type = "query", to = "sfu" })
      local pong = assert(c:wait("answer", 5))
      assert.equal(w1:id(), pong.worker)
      assert.same({ "join alice", "join carol", "query from carol" }, pong.heard)
      -- a broadcast reaches the other members and the worker
      assert(a:send { type = "shout", text = "hi" })
      assert.equal("hi", assert(c:wait("shout", 5)).text)
      assert.equal("hi", assert(a:wait("echo", 5)).text)
      assert.equal("sfu", assert(c:wait("echo", 5)).from)
      -- a frame naming a room the worker does not hold is dropped
      assert.is_nil(c:wait("forged", 0.2))
      -- nobody may join as the worker
      local x, err = signaling.connect(url, { room = "r1", peer = "sfu" })
      assert.is_nil(x)
      assert.matches("already in the room", err)
      -- the room empties: the worker hears the leaves and the close; the pool forgets it
      a:close(); c:close()
      wait_until(function() return #other > 0 end, "the close report")
      assert.equal(w1, other[1].w)
      assert.equal("r1", other[1].m.closed)
      assert.same({ "join alice", "join carol", "query from carol", "shout from alice", "leave alice", "leave carol" },
                  other[1].m.heard)
      assert.same({}, pool:rooms(w1))
      local d = assert(signaling.connect(url, { room = "r3", peer = "dave" }))
      assert.equal(w1:id(), assert(d:wait("hello", 5)).worker)       -- w1 is the least loaded again
      b:close(); d:close()
    end)
  end)

  it("a place hook chooses; a room whose worker ended moves, and its new worker hears every member", function()
    local asked = {}
    with_pool(function(room, cands)
      asked[#asked + 1] = room
      for _, c in ipairs(cands) do if room == "big" and c.worker:id() % 2 == 0 then return c.worker end end
      return cands[1].worker
    end, function(url, pool)
      local w2 = pool.workers[2]
      local a = assert(signaling.connect(url, { room = "big", peer = "alice" }))
      assert.equal(w2:id(), assert(a:wait("hello", 5)).worker)
      local b = assert(signaling.connect(url, { room = "big", peer = "bob" }))
      assert(b:wait("hello", 5))
      assert.same({ "big" }, asked)
      assert(a:send { type = "die", to = "sfu" })
      assert.is_true(w2:join())
      assert(b:send { type = "query", to = "sfu" })
      local pong = assert(b:wait("answer", 5))
      assert.equal(pool.workers[1]:id(), pong.worker)
      table.sort(pong.heard)
      assert.same({ "join alice", "join bob", "query from bob" }, pong.heard)
      a:close(); b:close()
    end)
  end)
end)
