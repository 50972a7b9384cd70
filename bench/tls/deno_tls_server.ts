/**
 * TLS echo server on Deno.listenTls (Deno only; rustls inside), for bench/tls/run_tls.ts.
 *
 *   deno run -A bench/tls/deno_tls_server.ts PORT CERT KEY     prints "ready" once listening
 */
const [portArg, certFile, keyFile] = Deno.args;
const port = Number(portArg);
if (!Number.isInteger(port) || !keyFile) throw new Error("usage: deno_tls_server.ts PORT CERT KEY");

async function echo(conn: Deno.TlsConn): Promise<void> {
  const buf = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      for (let off = 0; off < n;) off += await conn.write(buf.subarray(off, n));
    }
  } catch {
    // The peer went away.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

const listener = Deno.listenTls({
  hostname: "127.0.0.1",
  port,
  cert: Deno.readTextFileSync(certFile),
  key: Deno.readTextFileSync(keyFile),
});
console.log("ready");
for await (const conn of listener) echo(conn);
