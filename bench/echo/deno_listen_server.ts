/**
 * Echo server on Deno.listen (Deno only), for the networking benchmark (bench/echo.ts).
 *
 *   deno run -A bench/echo/deno_listen_server.ts PORT     prints "ready" once listening
 */
const port = Number(Deno.args[0]);
if (!Number.isInteger(port)) throw new Error("usage: deno_listen_server.ts PORT");

async function echo(conn: Deno.TcpConn): Promise<void> {
  conn.setNoDelay(true);
  const buf = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      // write() may take only part of the bytes; awaiting it is the back-pressure.
      for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // The peer went away: nothing to do but close.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log("ready");
for await (const conn of listener) echo(conn);
