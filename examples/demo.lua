-- `make demo`: the signaling server serving the web demo on http://127.0.0.1:8080/
-- (PORT overrides the port, HOST the address), and three bots in room "demo": the chat
-- bot, the echo bot (sends each participant's camera and microphone back) and the
-- recorder (one WebM file per participant in RECORD_DIR, default ./recordings).
-- Open the printed URL in two browser tabs; stop with Ctrl-C.
local rtc = require "rtc"
local signaling = require "signaling"

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "examples"
local host = os.getenv("HOST") or "127.0.0.1"
local port = tonumber(os.getenv("PORT") or "8080") or 8080

local sig, srv = signaling.listen { host = host, port = port, static = here .. "/web" }
if not sig then
  io.stderr:write("demo: cannot listen on ", host, ":", port, ": ", tostring(srv), "\n")
  os.exit(1)
end
local base = string.format("http://%s:%d/", host, srv.port)

local start_bot = assert(loadfile(here .. "/chat_bot.lua"))
local bot, err = start_bot { url = string.format("ws://%s:%d/ws", host, srv.port), room = "demo" }
if not bot then
  io.stderr:write("demo: chat bot failed: ", tostring(err), "\n")
  srv:close()
  os.exit(1)
end

local ws_url = string.format("ws://%s:%d/ws", host, srv.port)
local record_dir = os.getenv("RECORD_DIR") or "recordings"
os.execute("mkdir -p '" .. record_dir:gsub("'", "'\\''") .. "'")
local bots = { bot }
for _, b in ipairs { { "echo_bot.lua", {} }, { "recorder.lua", { dir = record_dir } } } do
  local opts = { url = ws_url, room = "demo" }
  for k, v in pairs(b[2]) do opts[k] = v end
  local started, e = assert(loadfile(here .. "/" .. b[1]))(opts)
  if started then bots[#bots + 1] = started
  else io.stderr:write("demo: ", b[1], " failed: ", tostring(e), "\n") end
end

print("luartc demo running. Open " .. base .. "?room=demo in two tabs (or more);")
print("the chat bot '" .. bot.client.id .. "' answers in the chat, the echo bot returns your")
print("camera and microphone, the recorder writes " .. record_dir .. "/*.webm. Ctrl-C to stop.")
io.stdout:flush()

rtc.on("shutdown", function(signame)
  rtc.log.info("demo", "stopping (%s)", signame)
  for _, b in ipairs(bots) do b.stop() end
  srv:close()
end)
