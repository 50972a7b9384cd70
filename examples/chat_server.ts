// A line-based chat server on streams (asyncio.start_server): every line a client sends goes
// to every other client. Try it with `nc 127.0.0.1 8888` from a few terminals.
//
//   deno run -A examples/chat_server.ts [PORT]      bun examples/chat_server.ts [PORT]
//
// Commands: "/nick NAME" renames you, "/quit" leaves. SIGINT/SIGTERM close the server. Port 0
// picks a free port (the first line printed says which). In your own project import from
// "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  getRunningLoop, run, startServer, type StreamReader,
  type StreamWriter,
} from "../mod.ts";

const port = Number(process.argv[2] ?? 8888);
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Everyone connected, by their writer. */
const clients = new Map<StreamWriter, string>();
let guests = 0;

function broadcast(text: string, except?: StreamWriter): void {
  const line = encoder.encode(text + "\n");
  for (const writer of clients.keys()) {
    if (writer !== except && !writer.isClosing()) writer.write(line);
  }
}

async function handleClient(reader: StreamReader, writer: StreamWriter): Promise<void> {
  let name = `guest${++guests}`;
  clients.set(writer, name);
  writer.write(encoder.encode(`welcome ${name}; /nick NAME renames you, /quit leaves\n`));
  broadcast(`* ${name} joined`, writer);
  try {
    for (;;) {
      const raw = await reader.readline(); // empty at EOF
      if (raw.length === 0) break;
      const line = decoder.decode(raw).trimEnd();
      if (line === "/quit") break;
      if (line.startsWith("/nick ")) {
        const old = name;
        name = line.slice(6).trim() || name;
        clients.set(writer, name);
        broadcast(`* ${old} is now ${name}`);
      } else if (line !== "") {
        broadcast(`${name}: ${line}`, writer);
      }
      await writer.drain(); // back-pressure: a slow reader slows only its own sender
    }
  } catch (e) {
    console.error(`${name}: ${e}`);
  } finally {
    clients.delete(writer);
    broadcast(`* ${name} left`);
    writer.close();
  }
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const server = await startServer(handleClient, "127.0.0.1", port);
  const [host, boundPort] = server.sockets![0].getsockname() as [string, number];
  console.log(`listening on ${host}:${boundPort}`);

  const stop = loop.createFuture<string>();
  for (const signame of ["SIGINT", "SIGTERM"]) {
    loop.addSignalHandler(signame, () => stop.done() || stop.setResult(signame));
  }
  const signame = await stop;
  server.close();
  broadcast(`* server closing (${signame})`);
  for (const writer of clients.keys()) writer.close();
  await server.waitClosed();
  console.log(`closed on ${signame}`);
}

await run(main);
