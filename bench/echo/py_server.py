"""Echo servers on Python asyncio and uvloop, for the networking benchmark (bench/echo.ts).

    python3 bench/echo/py_server.py asyncio|uvloop protocol|streams PORT

Prints "ready" once listening on 127.0.0.1:PORT. Both loops set TCP_NODELAY on TCP transports.
"""
import asyncio
import sys

READ_SIZE = 256 * 1024


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def echo_stream(reader, writer):
    try:
        while True:
            data = await reader.read(READ_SIZE)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def main(kind, port):
    loop = asyncio.get_running_loop()
    if kind == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", port)
    else:
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("asyncio", "uvloop") or sys.argv[2] not in (
        "protocol", "streams"):
        sys.exit("usage: py_server.py asyncio|uvloop protocol|streams PORT")
    if sys.argv[1] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(sys.argv[2], int(sys.argv[3])))
