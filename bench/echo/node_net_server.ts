/**
 * Echo server on node:net, for the networking benchmark (bench/echo.ts): runs under Deno and
 * under Bun, which each implement node:net over their own I/O.
 *
 *   deno run -A bench/echo/node_net_server.ts PORT     |    bun bench/echo/node_net_server.ts PORT
 *
 * Prints "ready" once listening on 127.0.0.1:PORT.
 */
import net from "node:net";
import process from "node:process";

const port = Number(process.argv[2]);
if (!Number.isInteger(port)) throw new Error("usage: node_net_server.ts PORT");

const server = net.createServer((sock) => {
  sock.setNoDelay(true);
  sock.on("data", (data) => {
    // Back-pressure: stop reading while the socket's write buffer is over its mark.
    if (!sock.write(data)) {
      sock.pause();
      sock.once("drain", () => sock.resume());
    }
  });
  sock.on("error", () => sock.destroy());
});
server.listen(port, "127.0.0.1", () => console.log("ready"));
