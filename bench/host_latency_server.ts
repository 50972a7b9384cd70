/**
 * The host's own HTTP server for bench/host_latency.ts (Deno.serve / Bun.serve on 127.0.0.1,
 * answering "ok"). Run as a script, it serves from a process of its own: it prints its port and
 * stops when its stdin closes. That process is the bench's control: the outside client's same
 * traffic, served somewhere else than beside the loop.
 *
 *   deno run -A bench/host_latency_server.ts      bun bench/host_latency_server.ts
 */

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const isBun = typeof g.Bun !== "undefined";

/** The host's own HTTP server on 127.0.0.1: its port and a way to stop it. */
export function hostServer(): { port: number; close(): Promise<void> } {
  if (isBun) {
    const server = g.Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("ok") });
    return { port: server.port, close: () => server.stop(true) };
  }
  const server = g.Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response("ok"),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

/** The command that runs this file as a server process of its own, with this runtime. */
export function serverCommand(): [string, string[]] {
  const file = new URL(import.meta.url).pathname;
  return isBun ? [g.process.execPath, [file]] : [g.Deno.execPath(), ["run", "-A", file]];
}

if (import.meta.main) {
  const server = hostServer();
  console.log(server.port);
  // Serve until the bench closes our stdin (or exits).
  const { stdin } = await import("node:process");
  stdin.resume();
  await new Promise((resolve) => stdin.on("end", resolve));
  await server.close();
}
