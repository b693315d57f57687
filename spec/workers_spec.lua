-- Workers (docs/workers.md): scripts on their own threads, loops and Lua states, real
-- peer connections inside them, plain-value messages with the main script, a
-- bounded queue with "drain", and a worker's errors kept to that worker.
local rtc = require "rtc"
local child = require "support.child"
local tmp = require "support.tmp"
local loop = require "support.loop"
local run_task, wait_for = loop.run_task, loop.wait_for

local SRC = child.SOURCE_DIR
local ECHO = SRC .. "/examples/worker_echo.lua"

local function sh(cmd) assert(os.execute(cmd), cmd) end

-- child.script files (and the names they reserved) go at the end.
teardown(tmp.clean)

describe("rtc.worker", function()
  it("examples/workers.lua: two workers each run a data-channel echo between two peers", function()
    local code, out, err = child.run{ SRC .. "/examples/workers.lua", "2" }
    assert.equal(0, code, err)
    local r = rtc.json.decode(out:match("(%b{})%s*$"))
    assert.equal(2, r.workers)
    assert.same({ { worker = 1, echo = "hello worker 1" }, { worker = 2, echo = "hello worker 2" } }, r.echoes)
    assert.same({}, r.errors)
    assert.equal(2, #r.exits)
    for _, e in ipairs(r.exits) do assert.is_true(e.ok) end
  end)

  it("examples/workers.lua --fail: an error raised in worker 1's handler is logged and reported, every worker still answers", function()
    local code, out, err = child.run{ SRC .. "/examples/workers.lua", "2", "--fail" }
    assert.equal(0, code, err)
    local r = rtc.json.decode(out:match("(%b{})%s*$"))
    assert.same({ { worker = 1, echo = "hello worker 1" }, { worker = 2, echo = "hello worker 2" } }, r.echoes)
    assert.equal(1, #r.errors)
    assert.equal(1, r.errors[1].worker)
    assert.matches("policy failure in worker 1", r.errors[1].error)
    assert.matches("stack traceback", r.errors[1].error)
    assert.matches("E lua: callback error: .*policy failure in worker 1", err)
  end)

  it("a worker whose script raises ends alone: exit(false, err), an error event, the other worker's peers go on", function()
    run_task(function()
      local bad_path = child.script("local rtc = require 'rtc'\nrtc.sleep(0.01)\nerror('room policy crashed')\n")
      local good = assert(rtc.worker.spawn(ECHO))
      local bad = assert(rtc.worker.spawn(bad_path))
      local ready, echo, errors, bad_exit = false, nil, {}, nil
      good:on("message", function(m) if m.ready then ready = true elseif m.echo then echo = m.echo end end)
      bad:on("error", function(e) errors[#errors + 1] = e end)
      bad:on("exit", function(ok, e) bad_exit = { ok = ok, err = e } end)
      wait_for(function() return bad_exit end, "the failing worker's exit", 15000)
      os.remove(bad_path)
      assert.is_false(bad_exit.ok)
      assert.matches("room policy crashed", bad_exit.err)
      assert.equal(1, #errors)
      assert.matches("room policy crashed", errors[1])
      assert.is_false(bad:join())
      wait_for(function() return ready end, "the other worker's peers", 15000)
      assert(good:send({ cmd = "ping", text = "still here" }))
      wait_for(function() return echo end, "the echo", 15000)
      assert.equal("still here", echo)
      assert(good:send({ cmd = "stop" }))
      assert.is_true(good:join())
    end, 40000)
  end)

  it("data channels in two workers at once deliver every byte intact (one usrsctp stack, two threads)", function()
    run_task(function()
      local total = 16 * 1024 * 1024
      local res, ws = {}, {}
      for i = 1, 2 do
        ws[i] = assert(rtc.worker.spawn(SRC .. "/spec/support/worker_bulk.lua", { total }))
        ws[i]:on("message", function(v) res[i] = v end)
        ws[i]:on("error", function(e) error("worker " .. i .. ": " .. e) end)
      end
      for i = 1, 2 do assert.is_true(ws[i]:join()) end
      for i = 1, 2 do
        assert.equal(total, res[i].got)
        assert.equal(0, res[i].bad)
      end
    end, 60000)
  end)

  it("copies nested values both ways and refuses what cannot be copied with a clear error", function()
    run_task(function()
      local path = child.script([[
local rtc = require "rtc"
local a, b = ...
rtc.worker.parent:on("message", function(v)
  if v == "bye" then rtc.worker.parent:on("message", nil) return end
  local ok, err = pcall(rtc.worker.parent.send, rtc.worker.parent, { f = print })
  local okx, errx = pcall(os.exit, 3)
  assert(rtc.worker.parent:send({ got = v, args = { a, b }, id = rtc.worker.id, send_err = err, exit_err = errx,
                                  float = 1.0, int = 1 }))
end)
]])
      local w = assert(rtc.worker.spawn(path, { "x", { deep = { 1, 2 } } }))
      local reply
      w:on("message", function(v) reply = v end)
      assert(w:send({ list = { 1, 2, { three = 3 } }, s = "a\0b", t = true }))
      wait_for(function() return reply end, "the reply", 10000)
      assert.same({ list = { 1, 2, { three = 3 } }, s = "a\0b", t = true }, reply.got)
      assert.same({ "x", { deep = { 1, 2 } } }, reply.args)
      assert.equal(w:id(), reply.id)
      assert.equal("float", math.type(reply.float))
      assert.equal("integer", math.type(reply.int))
      assert.matches("cannot copy a function %(at msg.f%)", reply.send_err)
      assert.matches("os.exit: not available in a worker", reply.exit_err)
      local t = {}; t.t = t
      assert.error_matches(function() w:send(t) end, "cannot copy a cycle")
      assert.error_matches(function() w:send(coroutine.create(print)) end, "cannot copy a thread")
      assert.error_matches(function() rtc.worker.spawn(path, { print }) end, "argument 1: cannot copy a function")
      assert.error_matches(function() rtc.worker.spawn("/nonexistent/x.lua") end, "cannot open")
      assert(w:send("bye"))
      assert.is_true(w:join())
      os.remove(path)
    end, 20000)
  end)

  it("a full queue refuses with QuotaExceededError and says \"drain\" once the worker takes", function()
    local dir = child.tmpdir()
    local fifo = dir .. "/go"
    sh("mkfifo " .. child.quote(fifo))
    run_task(function()
      -- The worker blocks reading the FIFO, so nothing drains its inbox until the test
      -- writes a line there.
      local path = child.script([[
local rtc = require "rtc"
local fifo = ...
local f = assert(io.open(fifo, "r"))
f:read("l")
f:close()
local n = 0
rtc.worker.parent:on("message", function(v)
  n = n + 1
  if v == "last" then rtc.worker.parent:on("message", nil); rtc.worker.parent:send(n) end
end)
]])
      local w = assert(rtc.worker.spawn(path, { fifo }, { queue = 4 }))
      local drains, count = 0, nil
      w:on("drain", function() drains = drains + 1 end)
      w:on("message", function(v) count = v end)
      for i = 1, 4 do assert(w:send(i)) end
      local ok, err, name = w:send(5)
      assert.is_nil(ok)
      assert.equal("QuotaExceededError", name)
      assert.matches("^QuotaExceededError: the receiver's queue is full", err)
      assert.equal(0, drains)
      local f = assert(io.open(fifo, "w"))
      f:write("go\n")
      f:close()
      wait_for(function() return drains == 1 end, "drain", 10000)
      assert(w:send("last"))
      wait_for(function() return count end, "the count", 10000)
      assert.equal(5, count)          -- the four queued and "last": the refused one never went
      assert.is_true(w:join())
      os.remove(path)
    end, 20000)
    child.rmdir(dir)
  end)

  it("terminate stops a worker that would run forever; exit reports ok", function()
    run_task(function()
      local path = child.script("local rtc = require 'rtc'\nrtc.set_interval(50, function() end)\nrtc.worker.parent:send('up')\n")
      local w = assert(rtc.worker.spawn(path))
      local up
      w:on("message", function() up = true end)
      wait_for(function() return up end, "the worker", 10000)
      w:terminate()
      assert.is_true(w:join())
      os.remove(path)
    end, 20000)
  end)

  it("a main script that stops its loop with a worker still running ends: the worker is stopped and joined", function()
    local w = child.script("local rtc = require 'rtc'\nrtc.set_interval(20, function() end)\nrtc.worker.parent:send('up')\n")
    local m = child.script(string.format([[
local rtc = require "rtc"
local w = assert(rtc.worker.spawn(%q))
w:on("message", function() assert(w:send("left in its inbox")); rtc.stop() end)
]], w))
    local code, _, err = child.run{ m }
    assert.equal(0, code, err)
    os.remove(w)
    os.remove(m)
  end)

  it("a pool places each room on the least loaded worker, keeps it there, takes a hook, and re-places a failed worker's rooms", function()
    run_task(function()
      -- Each worker answers {room = r} with its id; "die" raises in its handler.
      local path = child.script([[
local rtc = require "rtc"
rtc.worker.parent:on("message", function(m)
  if m == "die" then rtc.worker.parent:on("message", nil); error("room policy crashed") end
  rtc.worker.parent:send({ room = m.room, worker = rtc.worker.id })
end)
]])
      local pool = assert(rtc.worker.pool(path, { count = 2 }))
      local a, b = pool.workers[1], pool.workers[2]
      assert.equal(a, pool:place("r1"))
      assert.equal(b, pool:place("r2"))
      assert.equal(a, pool:place("r3"))
      assert.equal(a, pool:place("r1"))          -- a room stays where it is
      assert.equal(b, pool:place("r4"))
      assert.same({ "r1", "r3" }, pool:rooms(a))
      pool:release("r3")
      assert.equal(a, pool:place("r5"))          -- a: 1 room, b: 2
      pool:set_load(a, 100)
      assert.equal(b, pool:place("r6"))
      -- the room's worker really runs it: a message reaches that worker
      local answers = {}
      for _, w in ipairs(pool.workers) do w:on("message", function(m) answers[m.room] = m.worker end) end
      assert(pool:place("r2"):send({ room = "r2" }))
      wait_for(function() return answers.r2 end, "the room's worker", 10000)
      assert.equal(b:id(), answers.r2)
      -- worker a raises and, with no handler left, ends: its rooms move to b on
      -- their next place()
      local errs = 0
      a:on("error", function() errs = errs + 1 end)
      assert(a:send("die"))
      assert.is_true(a:join())
      assert.equal(1, errs)
      assert.equal(b, pool:place("r1"))
      assert.equal(b, pool:place("r5"))
      -- a hook decides instead
      local hooked = assert(rtc.worker.pool(path, { count = 2, place = function(room, cands)
        assert.equal(2, #cands)
        return room:match("^even") and cands[2].worker or cands[1].worker
      end }))
      assert.equal(hooked.workers[2], hooked:place("even-1"))
      assert.equal(hooked.workers[1], hooked:place("odd-1"))
      pool:terminate()
      hooked:terminate()
      pool:join()
      hooked:join()
      os.remove(path)
    end, 20000)
  end)

  it("luartc --workers N runs the script in N workers and fails when one does", function()
    local path = child.script([[
local rtc = require "rtc"
local tag = ...
rtc.worker.parent:send(tag .. " from " .. rtc.worker.id)
if rtc.worker.id == 2 and tag == "boom" then error("worker two fails") end
]])
    local code, out, err = child.run{ "--workers", "2", path, "hi" }
    assert.equal(0, code, err)
    local lines = {}
    for l in out:gmatch("[^\n]+") do lines[#lines + 1] = l end
    table.sort(lines)
    assert.same({ "1\thi from 1", "2\thi from 2" }, lines)
    code, out, err = child.run{ "--workers", "2", path, "boom" }
    assert.equal(1, code)
    assert.matches("worker two fails", err)
    assert.matches("1 of 2 workers failed", err)
    os.remove(path)
  end)
end)
