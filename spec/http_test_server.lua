-- A server for specs that drive it from another process: static files from argv[1],
-- a WebSocket echo at /echo (max message 64 KiB; "close-me" closes with 4000), GET /quit
-- ends it. Prints "PORT n" once listening. With argv[2] and argv[3] (PEM certificate
-- and key files) it serves https and wss instead.
local rtc = require "rtc"
local http = require "http"
local tls = arg[2] and { cert = arg[2], key = arg[3] } or nil
local srv = assert(http.server { host = "127.0.0.1", port = 0, static = arg[1], max_message = 65536, tls = tls })
srv:websocket("/echo", function(ws)
  ws:on("message", function(data, binary)
    if data == "close-me" then return ws:close(4000, "as you wish") end
    if binary then ws:send_binary(data) else ws:send(data) end
  end)
end)
srv:route("GET", "/quit", function()
  rtc.set_timeout(50, function() srv:close() end)
  return 200, "bye\n"
end)
io.stdout:write("PORT ", srv.port, "\n")
io.stdout:flush()
