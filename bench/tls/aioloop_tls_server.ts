/**
 * TLS echo servers on aioloop (bench/tls/run_tls.ts): a Protocol on loop.createServer(ssl), a
 * BufferedProtocol (decrypted straight into a buffer it reuses) the same way, or streams on
 * startServer(ssl) with drain().
 *
 *   deno run -A bench/tls/aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY
 *   bun bench/tls/aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY
 *
 * Prints "ready" once listening on 127.0.0.1:PORT.
 */
import process from "node:process";
import { getRunningLoop, run, SSLContext, startServer } from "../../mod.ts";
import { BufferedEchoProtocol, EchoProtocol, echoStream } from "../lib/echo_protocols.ts";

const [kind, portArg, cert, key] = process.argv.slice(2);
const port = Number(portArg);
if (!["protocol", "buffered", "streams"].includes(kind) || !Number.isInteger(port) || !key) {
  throw new Error("usage: aioloop_tls_server.ts protocol|buffered|streams PORT CERT KEY");
}

await run(async () => {
  const loop = getRunningLoop();
  const ssl = new SSLContext("server");
  ssl.loadCertChain(cert, key);
  const server = kind === "protocol"
    ? await loop.createServer(() => new EchoProtocol(), "127.0.0.1", port, { ssl })
    : kind === "buffered"
    ? await loop.createServer(() => new BufferedEchoProtocol(), "127.0.0.1", port, { ssl })
    : await startServer(echoStream, "127.0.0.1", port, { ssl });
  console.log("ready");
  await server.serveForever();
});
