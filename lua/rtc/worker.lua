-- rtc.worker: scripts on their own threads, each with its own loop and Lua state,
-- and plain-value messages between them and the script that spawned them
-- (docs/workers.md; the C half is runtime/lua/lrtc_worker.c).
return function(rtc, core)
  local worker = {}

  --- rtc.worker.cores: how many threads can run at once here (the default count).
  worker.cores = core.worker_cores()
  --- rtc.worker.id: this worker's number (1, 2, ... in spawn order); nil in the main script.
  worker.id = core.worker_id()
  --- rtc.worker.parent: in a worker, the port to the main script (send, on "message"/"drain").
  worker.parent = core.worker_parent()

  local waiters = setmetatable({}, { __mode = "k" })   -- worker -> its exit status

  local function search_path(script)
    if type(script) ~= "string" then
      error("bad argument #1 to 'rtc.worker.spawn' (script path expected)", 3)
    end
    local f = io.open(script, "r")
    if not f then error("rtc.worker.spawn: cannot open '" .. script .. "'", 3) end
    f:close()
    return script
  end

  --- rtc.worker.spawn(script, args, opts) -> worker
  --- args: a table of plain values (the script's `...` and `arg[1..n]`), copied.
  --- opts.queue: messages each direction's inbox holds before send fails (default 64).
  --- opts.max_bytes: largest message, and the most an inbox holds (default 16 MiB).
  function worker.spawn(script, args, opts)
    search_path(script)
    if args ~= nil and type(args) ~= "table" then
      error("bad argument #2 to 'rtc.worker.spawn' (table of arguments expected)", 2)
    end
    if opts ~= nil and type(opts) ~= "table" then
      error("bad argument #3 to 'rtc.worker.spawn' (options table expected)", 2)
    end
    opts = opts or {}
    args = args or {}
    local w, err = core.worker_spawn(script, package.path, package.cpath, opts.queue, opts.max_bytes,
                                     table.unpack(args, 1, args.n or #args))
    if not w then return nil, err end
    local st = { joiners = {}, hooks = {} }
    waiters[w] = st
    w:_on_exit(function(ok, e)
      st.done, st.ok, st.err = true, ok, e
      for _, co in ipairs(st.joiners) do rtc._wake_soon(co) end
      for _, f in ipairs(st.hooks) do f(ok, e) end
    end)
    return w
  end

  local W = core.methods("rtc.worker")

  --- w:join() -> ok, err: waits (in a task) until the worker has ended.
  function W:join()
    local st = waiters[self]
    if not st.done then
      local co = coroutine.running()
      if not coroutine.isyieldable() then error("w:join: must be called from a task (coroutine)", 2) end
      st.joiners[#st.joiners + 1] = co
      repeat coroutine.yield() until st.done
    end
    return st.ok, st.err
  end
  --- w:terminate(): stop the worker's loop; "exit" follows with ok = true.
  W.terminate = W.close

  local P = core.methods("rtc.worker_port")
  local port_on = P.on
  --- parent:on("message", fn): while set, the worker keeps running to receive.
  function P:on(event, fn)
    port_on(self, event, fn)
    if event == "message" then self:_keep_alive(fn ~= nil) end
    return self
  end

  -- {====== pools: rooms placed on workers ======
  local Pool = {}
  Pool.__index = Pool

  -- The default hook: the least loaded live worker (load: rooms placed on it, or what
  -- pool:set_load said), the lowest id on a tie.
  local function least_loaded(_, candidates)
    local best
    for _, c in ipairs(candidates) do
      if not best or c.load < best.load or (c.load == best.load and c.worker:id() < best.worker:id()) then best = c end
    end
    return best and best.worker
  end

  --- rtc.worker.pool(script, {count =, args =, queue =, max_bytes =, place = fn}) -> pool
  --- count defaults to rtc.worker.cores. place(room, candidates) returns one of the
  --- candidates' workers ({worker =, load =, rooms =} each) for a room not yet placed.
  function worker.pool(script, opts)
    opts = opts or {}
    if type(opts) ~= "table" then error("bad argument #2 to 'rtc.worker.pool' (options table expected)", 2) end
    local n = opts.count or worker.cores
    if math.type(n) ~= "integer" or n < 1 then error("rtc.worker.pool: count must be a positive integer", 2) end
    if opts.place ~= nil and type(opts.place) ~= "function" then error("rtc.worker.pool: place must be a function", 2) end
    local p = setmetatable({ workers = {}, state = {}, room_of = {}, place_hook = opts.place or least_loaded }, Pool)
    for i = 1, n do
      local w, err = worker.spawn(script, opts.args, { queue = opts.queue, max_bytes = opts.max_bytes })
      if not w then p:terminate(); return nil, err end
      p.workers[i] = w
      p.state[w] = { worker = w, load = 0, rooms = 0, explicit = false }
      local hooks = waiters[w].hooks
      hooks[#hooks + 1] = function() p:_lost(w) end
    end
    return p
  end

  -- A worker ended: its rooms are forgotten, so the next place() puts them elsewhere.
  function Pool:_lost(w)
    self.state[w] = nil
    for room, rw in pairs(self.room_of) do if rw == w then self.room_of[room] = nil end end
  end

  --- pool:place(room) -> worker | nil, err: where `room` lives, placing it if new.
  function Pool:place(room)
    local w = self.room_of[room]
    if w and self.state[w] then return w end
    local candidates = {}
    for _, x in ipairs(self.workers) do
      local st = self.state[x]
      if st then candidates[#candidates + 1] = { worker = x, load = st.load, rooms = st.rooms } end
    end
    if #candidates == 0 then return nil, "InvalidStateError: no worker is running" end
    w = self.place_hook(room, candidates)
    if not self.state[w] then error("rtc.worker.pool: place hook returned no live worker of this pool", 2) end
    self.room_of[room] = w
    local st = self.state[w]
    st.rooms = st.rooms + 1
    if not st.explicit then st.load = st.rooms end
    return w
  end

  --- pool:release(room): the room is gone; its worker's load drops.
  function Pool:release(room)
    local w = self.room_of[room]
    self.room_of[room] = nil
    local st = w and self.state[w]
    if st then
      st.rooms = st.rooms - 1
      if not st.explicit then st.load = st.rooms end
    end
  end

  --- pool:set_load(worker, n): a load figure for the hook (e.g. what the worker reports).
  function Pool:set_load(w, n)
    local st = self.state[w]
    if st then st.load, st.explicit = n, true end
  end

  --- pool:rooms(worker) -> {room, ...} placed on it.
  function Pool:rooms(w)
    local out = {}
    for room, rw in pairs(self.room_of) do if rw == w then out[#out + 1] = room end end
    table.sort(out, function(a, b) return tostring(a) < tostring(b) end)
    return out
  end

  function Pool:terminate() for _, w in ipairs(self.workers) do if not w:is_closed() then w:terminate() end end end
  function Pool:join() for _, w in ipairs(self.workers) do w:join() end end
  -- }======

  -- luartc --workers N script.lua [args]: N copies of the script, this state
  -- watching them. Exits non-zero when any of them failed.
  function worker._supervise(n, script, ...)
    n = math.tointeger(tonumber(n))
    if not n or n < 1 then error("luartc: --workers needs a positive number", 0) end
    local args = table.pack(...)
    local failed = 0
    local ws = {}
    for i = 1, n do
      local w = assert(worker.spawn(script, args))
      w:on("message", function(v)
        io.stdout:write(tostring(w:id()), "\t", type(v) == "string" and v or rtc.json.encode(v), "\n")
        io.stdout:flush()
      end)
      ws[i] = w
    end
    for i = 1, n do
      local ok = ws[i]:join()
      if not ok then failed = failed + 1 end
    end
    if failed > 0 then error(string.format("%d of %d workers failed", failed, n), 0) end
  end

  rtc.worker = worker
end
