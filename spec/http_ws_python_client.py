# A WebSocket client from another project (Python's `websockets`) against our server:
# text echo, binary echo, a fragmented message, ping/pong, a too-big message (1009),
# and a clean close. Prints one JSON line with what it saw; exit status 0 when all hold.
#   python3 http_ws_python_client.py ws://127.0.0.1:PORT/echo
#   python3 http_ws_python_client.py wss://127.0.0.1:PORT/echo CA.pem   (TLS, trusting CA.pem)
import asyncio, json, ssl, sys
import websockets

async def main(uri):
    seen = {}
    tls = {"ssl": ssl.create_default_context(cafile=sys.argv[2])} if uri.startswith("wss:") else {}
    async with websockets.connect(uri, **tls, compression=None, max_size=2**22) as ws:
        await ws.send("hello")
        seen["text"] = await ws.recv()
        await ws.send(b"\x00\x01\xfe\xff")
        r = await ws.recv()
        seen["binary"] = list(r) if isinstance(r, bytes) else r
        await ws.send(["frag", "men", "ted \u20ac"])
        seen["fragmented"] = await ws.recv()
        pong = await ws.ping(b"py")
        await asyncio.wait_for(pong, 5)
        seen["pong"] = True
        await ws.send("close-me")
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed as e:
            seen["server_close"] = e.rcvd.code if e.rcvd else None
    async with websockets.connect(uri, **tls, compression=None, max_size=2**22) as ws:
        await ws.send("x" * 70000)
        try:
            await asyncio.wait_for(ws.recv(), 5)
        except websockets.exceptions.ConnectionClosed as e:
            seen["too_big"] = e.rcvd.code if e.rcvd else None
    async with websockets.connect(uri, **tls, compression=None) as ws:
        await ws.send("bye")
        seen["bye"] = await ws.recv()
        await ws.close(1000, "done")
        seen["closed"] = ws.close_code
    print(json.dumps(seen))

asyncio.run(main(sys.argv[1]))
