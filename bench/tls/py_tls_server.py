"""TLS echo servers on Python asyncio and uvloop (ssl module), for bench/tls/run_tls.ts.

    python3 bench/tls/py_tls_server.py asyncio|uvloop protocol|streams PORT CERT KEY

Prints "ready" once listening on 127.0.0.1:PORT.
"""
import asyncio
import ssl
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
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def main(kind, port, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    loop = asyncio.get_running_loop()
    if kind == "protocol":
        server = await loop.create_server(Echo, "127.0.0.1", port, ssl=ctx)
    else:
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port, ssl=ctx)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) != 6 or sys.argv[1] not in ("asyncio", "uvloop") or sys.argv[2] not in (
        "protocol", "streams"):
        sys.exit("usage: py_tls_server.py asyncio|uvloop protocol|streams PORT CERT KEY")
    if sys.argv[1] == "uvloop":
        import uvloop
        uvloop.install()
    asyncio.run(main(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
