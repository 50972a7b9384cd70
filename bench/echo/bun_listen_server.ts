/**
 * Echo server on Bun.listen (Bun only), for the networking benchmark (bench/echo.ts).
 *
 *   bun bench/echo/bun_listen_server.ts PORT     prints "ready" once listening
 *
 * Bun's socket.write() returns how many bytes the kernel took; the rest is ours to keep and
 * write on the drain event. While anything is pending the socket is not read (pause), so memory
 * stays bounded, as in the C reference server.
 */
// deno-lint-ignore no-explicit-any
const Bun = (globalThis as any).Bun;
const port = Number(Bun.argv[2]);
if (!Number.isInteger(port)) throw new Error("usage: bun_listen_server.ts PORT");

interface State {
  pending: Uint8Array | null;
}

// deno-lint-ignore no-explicit-any
type BunSocket = any;

function flush(socket: BunSocket, state: State, data: Uint8Array): void {
  const n = socket.write(data);
  if (n < data.byteLength) {
    state.pending = data.subarray(Math.max(n, 0));
    socket.pause?.();
  } else {
    state.pending = null;
    socket.resume?.();
  }
}

Bun.listen({
  hostname: "127.0.0.1",
  port,
  socket: {
    open(socket: BunSocket) {
      socket.data = { pending: null } as State;
      socket.setNoDelay?.(true);
    },
    data(socket: BunSocket, data: Uint8Array) {
      const state = socket.data as State;
      if (state.pending !== null) {
        // Still flushing: append (only happens if pause() is not supported).
        const joined = new Uint8Array(state.pending.byteLength + data.byteLength);
        joined.set(state.pending);
        joined.set(data, state.pending.byteLength);
        state.pending = joined;
        return;
      }
      flush(socket, state, data);
    },
    drain(socket: BunSocket) {
      const state = socket.data as State;
      if (state.pending !== null) flush(socket, state, state.pending);
    },
    error() {},
  },
});
console.log("ready");
