/**
 * The package as users get it: `npm pack`'s tarball installed into a fresh Bun project with
 * `bun add`, the same package unpacked and imported by a Deno project through an import map,
 * and Node.js refused at import with one sentence. Each consumer serves a connection.
 */
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runScriptCommand } from "../ffi/runtime.ts";

const root = new URL("..", import.meta.url).pathname;
const bin = join(root, "node_modules", ".bin");

/** A consumer script: a streams echo server and one client on it, through the package. */
const consumer = `import { openConnection, run, startServer, type StreamReader, type StreamWriter } from "aioloop";

async function echo(reader: StreamReader, writer: StreamWriter): Promise<void> {
  writer.write(await reader.readline());
  await writer.drain();
  writer.close();
}

await run(async () => {
  const server = await startServer(echo, "127.0.0.1", 0);
  const [, port] = server.sockets[0]!.getsockname(); // AF_INET | AF_INET6: [1] is the port
  const [reader, writer] = await openConnection("127.0.0.1", port);
  writer.write(new TextEncoder().encode("ping\\n"));
  console.log("echo:", new TextDecoder().decode(await reader.readline()).trim());
  writer.close();
  server.close();
  await server.waitClosed();
});
`;

let work = "";
let tarball = "";

function sh(cmd: string, args: string[], cwd: string, timeout = 120000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env: { ...process.env, NO_COLOR: "1" } });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (status ${r.status}, ${r.error ?? ""}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  work = mkdtempSync(join(tmpdir(), "aioloop-package-"));
  ok(sh("npm", ["pack", "--silent", "--pack-destination", work], root), "npm pack");
  const packed = readdirSync(work).filter((f) => /^aioloop-.*\.tgz$/.test(f));
  assert.equal(packed.length, 1, `npm pack made ${packed}`);
  tarball = join(work, packed[0]);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test("the tarball holds the library, its docs and the examples, not tests or benchmarks", () => {
  const list = ok(sh("tar", ["tzf", tarball], work), "tar tzf").split("\n").filter(Boolean);
  for (const f of ["package/mod.ts", "package/package.json", "package/README.md", "package/LICENSE", "package/node_unsupported.js", "package/ffi/runtime.ts", "package/loop/base_loop.ts", "package/platform/linux.ts", "package/examples/hello_world.ts", "package/examples/chat_server.ts"]) {
    assert.ok(list.includes(f), `${f} missing from ${list.join(" ")}`);
  }
  for (const f of list) assert.ok(!/^package\/(tests|bench|scripts|\.ci)\//.test(f), `${f} should not ship`);
});

test("Bun: `bun add ./aioloop-*.tgz` into a fresh project, then a script serves a connection", () => {
  const project = join(work, "bun-consumer");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "bun-consumer", private: true, type: "module" }));
  ok(sh(join(bin, "bun"), ["add", tarball], project), "bun add");
  writeFileSync(join(project, "main.ts"), consumer);
  assert.equal(ok(sh(join(bin, "bun"), ["run", "main.ts"], project, 60000), "bun run main.ts"), "echo: ping\n");
  // An example, run from where the package installed it (README, "Examples").
  const hello = ok(sh(join(bin, "bun"), ["node_modules/aioloop/examples/hello_world.ts"], project, 60000), "bun hello_world.ts");
  assert.equal(hello, "Hello World\n");
});

test("the installed package type-checks under the strict settings of `bun init` and more", () => {
  // The package ships .ts, so the user's compiler checks it with the user's options (and
  // skipLibCheck does not skip .ts files): bun init's tsconfig, plus the remaining strict flags.
  const project = join(work, "bun-strict");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "bun-strict", private: true, type: "module" }));
  ok(sh(join(bin, "bun"), ["add", tarball], project), "bun add");
  writeFileSync(join(project, "main.ts"), consumer);
  writeFileSync(join(project, "tsconfig.json"), JSON.stringify({
    compilerOptions: {
      lib: ["ESNext"], target: "ESNext", module: "Preserve", moduleDetection: "force",
      moduleResolution: "bundler", allowImportingTsExtensions: true, verbatimModuleSyntax: true,
      noEmit: true, strict: true, skipLibCheck: true, noFallthroughCasesInSwitch: true,
      noUncheckedIndexedAccess: true, noImplicitOverride: true,
      noPropertyAccessFromIndexSignature: true, exactOptionalPropertyTypes: true,
      noImplicitReturns: true, noUnusedLocals: true, noUnusedParameters: true,
      // bun init installs @types/bun; this checkout's bun-types stands in for it, offline.
      typeRoots: [join(root, "node_modules")], types: ["bun-types"],
    },
  }));
  const r = sh(join(bin, "tsc"), ["--noEmit", "-p", "."], project);
  assert.equal(r.status, 0, `tsc reported errors in the installed package:\n${r.stdout}${r.stderr}`);
});

test("Node.js: importing the installed package fails at once with one sentence naming Deno and Bun", () => {
  const project = join(work, "node-consumer");
  mkdirSync(join(project, "node_modules", "aioloop"), { recursive: true });
  ok(sh("tar", ["xzf", tarball, "-C", join(project, "node_modules", "aioloop"), "--strip-components=1"], project), "tar xzf");
  const r = sh("node", ["--input-type=module", "-e", 'import "aioloop";'], project, 30000);
  assert.notEqual(r.status, 0, "node imported aioloop");
  assert.match(r.stderr, /aioloop needs Deno \(run with --allow-ffi\) or Bun: .*Node\.js does not offer\./);
  assert.doesNotMatch(r.stderr, /\bat .*(ffi|loop|platform)\//, "no stack of aioloop internals");
});

test("Deno: a project imports the unpacked package through an import map, type-checks and serves a connection", () => {
  const project = join(work, "deno-consumer");
  mkdirSync(join(project, "vendor", "aioloop"), { recursive: true });
  ok(sh("tar", ["xzf", tarball, "-C", join(project, "vendor", "aioloop"), "--strip-components=1"], project), "tar xzf");
  writeFileSync(join(project, "import_map.json"), JSON.stringify({ imports: { aioloop: "./vendor/aioloop/mod.ts" } }));
  writeFileSync(join(project, "main.ts"), consumer);
  const deno = join(bin, "deno");
  ok(sh(deno, ["check", "--quiet", "--import-map=import_map.json", "main.ts"], project), "deno check");
  // --allow-ffi is all the loop needs (README, "Permissions").
  const out = ok(sh(deno, ["run", "--allow-ffi", "--no-prompt", "--import-map=import_map.json", "main.ts"], project, 60000), "deno run");
  assert.equal(out, "echo: ping\n");
});

test("an OS with no backend (OpenBSD, simulated): importing fails with one sentence, no FFI stack", () => {
  const script = new URL("./fixtures/import_on_other_os.ts", import.meta.url).pathname;
  const [exe, ...args] = runScriptCommand(script);
  const r = sh(exe, args, root, 30000);
  assert.notEqual(r.status, 0, `imported on a simulated OpenBSD: ${r.stdout}`);
  assert.doesNotMatch(r.stdout, /imported/);
  assert.match(r.stderr, /aioloop has no event loop backend for openbsd: it runs on Linux \(epoll, poll, io_uring\), macOS and FreeBSD \(kqueue, poll\) and Windows \(IOCP\) under Deno or Bun\./);
  assert.doesNotMatch(r.stderr, /dlopen|symbol|\bat .*\/(ffi|loop|platform)\//, "no FFI internals");
});
