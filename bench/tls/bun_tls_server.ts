/**
 * TLS echo server on Bun.listen({ tls }) (Bun only; BoringSSL inside), for bench/tls/run_tls.ts.
 *
 *   bun bench/tls/bun_tls_server.ts PORT CERT KEY     prints "ready" once listening
 *
 * What write() does not take now is kept and written on drain, and the socket is not read
 * meanwhile (memory stays bounded), as in bench/echo/bun_listen_server.ts.
 */
// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun;
const [portArg, certFile, keyFile] = Bun.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || !keyFile) throw new Error("usage: bun_tls_server.ts PORT CERT KEY");

// deno-lint-ignore no-explicit-any
type BunSocket = any;
interface State {
  pending: Uint8Array | null;
}

function flush(socket: BunSocket, state: State, data: Uint8Array): void {
  const n = socket.write(data);
  if (n < data.byteLength) {
    state.pending = data.slice(Math.max(n, 0));
    socket.pause?.();
  } else {
    state.pending = null;
  }
}

Bun.listen({
  hostname: "127.0.0.1",
  port,
  tls: { cert: Bun.file(certFile), key: Bun.file(keyFile) },
  socket: {
    open(socket: BunSocket) {
      socket.data = { pending: null } as State;
      socket.setNoDelay?.(true);
    },
    data(socket: BunSocket, data: Uint8Array) {
      const state = socket.data as State;
      if (state.pending) {
        const joined = new Uint8Array(state.pending.byteLength + data.byteLength);
        joined.set(state.pending);
        joined.set(data, state.pending.byteLength);
        flush(socket, state, joined);
      } else {
        flush(socket, state, data);
      }
    },
    drain(socket: BunSocket) {
      const state = socket.data as State;
      if (state.pending) flush(socket, state, state.pending);
      if (!state.pending) socket.resume?.();
    },
    error() {},
    close() {},
  },
});
console.log("ready");
