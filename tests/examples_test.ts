/** Every script in examples/ runs to completion on this runtime and prints what it should. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { libc } from "../ffi/libc.ts";
import { runScriptCommand } from "../ffi/runtime.ts";
import { openpty } from "../ffi/spawn.ts";
import {
  AF_NETLINK, ECHO, fcntl, ICANON, ISIG, localFlags, openConnection, os, type StreamReader,
  tcgetattr,
} from "../mod.ts";
import { windowsLacks, withLoop } from "./helpers.ts";

function exampleCommand(name: string, args: string[], ffiOnly = false): [string, string[]] {
  const script = new URL(`../examples/${name}`, import.meta.url).pathname;
  const [exe, ...rest] = runScriptCommand(script);
  // Deno's `run -A` becomes `run --allow-ffi`: the example must need no other permission.
  const flags = ffiOnly ? rest.map((a) => (a === "-A" ? "--allow-ffi" : a)) : rest;
  return [exe, [...flags, ...args]];
}

function runExample(name: string, env: Record<string, string> = {}, ffiOnly = false, argv: string[] = []) {
  const [exe, args] = exampleCommand(name, argv, ffiOnly);
  const r = spawnSync(exe, args, {
    encoding: "utf8",
    timeout: 30000,
    env: { ...process.env, ...env },
  });
  assert.equal(r.status, 0, `${name} failed (status ${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A running example: its stdout as lines, waited for one pattern at a time. */
class RunningExample {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = "";
  private partial = "";
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(name: string, args: string[], stdin: number | "ignore" = "ignore", ffiOnly = false) {
    const [exe, argv] = exampleCommand(name, args, ffiOnly);
    this.child = spawn(exe, argv, { stdio: [stdin, "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (chunk: string) => {
      const parts = (this.partial + chunk).split("\n");
      this.partial = parts.pop()!;
      for (const p of parts) this.lines.push(p.replace(/\r$/, ""));
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
  }

  /** The first line (from `from`) matching `pattern`; fails after `ms`. */
  async waitFor(pattern: RegExp, ms = 20000): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      for (const line of this.lines) {
        const m = pattern.exec(line);
        if (m) return m;
      }
      const left = end - Date.now();
      if (left <= 0) {
        this.child.kill("SIGKILL");
        assert.fail(`no line matching ${pattern} in ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /**
   * Send `signal` with process.kill(pid): Deno's ChildProcess.kill() makes the exit event
   * report the signal even when the child caught it and exited 0.
   */
  signal(signal: "SIGTERM" | "SIGINT"): void {
    process.kill(this.child.pid!, signal);
  }

  /** Wait for the exit and check its status is 0. */
  async exitedCleanly(ms = 20000): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, ms, "timeout")));
    const code = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (code === "timeout") {
      this.child.kill("SIGKILL");
      assert.fail(`still running after ${ms} ms; stdout: ${JSON.stringify(this.lines)}; stderr: ${this.stderr}`);
    }
    assert.equal(code, 0, `exit status ${code}; stderr: ${this.stderr}`);
  }
}

test("hello_world.ts prints Hello World and stops", () => {
  assert.equal(runExample("hello_world.ts"), "Hello World\n");
});

test("display_date.ts prints the date five times at even intervals, then stops", () => {
  const start = Date.now();
  const out = runExample("display_date.ts", { AIOLOOP_DEMO_SECONDS: "0.5" });
  const dates = out.trim().split("\n").map((l) => Date.parse(l));
  assert.equal(dates.length, 5, out);
  for (const d of dates) assert.ok(d >= start - 1000 && d <= Date.now(), `odd date in ${out}`);
  for (let i = 1; i < dates.length; i++) {
    const gap = dates[i] - dates[i - 1];
    assert.ok(gap >= 95 && gap < 400, `gap ${gap} ms between lines`);
  }
});

test("watch_fd.ts receives abc through addReader", () => {
  assert.equal(runExample("watch_fd.ts"), "Received: abc\n");
});

test("signals.ts runs until SIGTERM, then reports it and exits 0", async () => {
  const ex = new RunningExample("signals.ts", []);
  await ex.waitFor(/^pid \d+: send SIGINT or SIGTERM/);
  ex.signal("SIGTERM");
  await ex.waitFor(/^got signal SIGTERM: exit$/);
  await ex.exitedCleanly();
});

test("watch_directory.ts reports creates, writes, renames and deletes, and ends with the directory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-watch-"));
  try {
    const ex = new RunningExample("watch_directory.ts", [dir]);
    await ex.waitFor(/^watching /);
    writeFileSync(join(dir, "a.txt"), "hello\n");
    await ex.waitFor(/^IN_CLOSE_WRITE a\.txt$/);
    renameSync(join(dir, "a.txt"), join(dir, "b.txt"));
    const from = await ex.waitFor(/^IN_MOVED_FROM a\.txt \(cookie (\d+)\)$/);
    const to = await ex.waitFor(/^IN_MOVED_TO b\.txt \(cookie (\d+)\)$/);
    assert.equal(from[1], to[1], "a rename's two events share a cookie");
    mkdirSync(join(dir, "sub"));
    await ex.waitFor(/^IN_CREATE\|IN_ISDIR sub$/);
    unlinkSync(join(dir, "b.txt"));
    rmdirSync(join(dir, "sub"));
    rmdirSync(dir);
    await ex.waitFor(/^IN_DELETE_SELF$/);
    await ex.exitedCleanly();
    const events = ex.lines.slice(1).map((l) => l.split(" ")[0]);
    assert.deepEqual(
      events.filter((e) => e !== "IN_MODIFY"),
      [
        "IN_CREATE", "IN_CLOSE_WRITE", "IN_MOVED_FROM", "IN_MOVED_TO", "IN_CREATE|IN_ISDIR",
        "IN_DELETE", "IN_DELETE|IN_ISDIR", "IN_DELETE_SELF", "IN_IGNORED",
      ],
      ex.lines.join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("raw_keys.ts reads single keys from a pty in raw mode and restores the mode", async () => {
  const [master, slave] = openpty();
  try {
    const before = localFlags(tcgetattr(slave));
    assert.ok(before & ICANON && before & ECHO, "a new pty starts in canonical mode with echo");
    const ex = new RunningExample("raw_keys.ts", [], slave);
    await ex.waitFor(/^raw mode: press keys/);
    const raw = localFlags(tcgetattr(slave));
    assert.equal(raw & (ICANON | ECHO | ISIG), 0, "canonical mode, echo and signals are off");
    const type = (s: string) => {
      const bytes = new TextEncoder().encode(s);
      assert.equal(libc.write(master, bytes, bytes.length), bytes.length);
    };
    type("a"); // no newline: only raw mode delivers it now
    await ex.waitFor(/^key: a$/);
    type("\x1b[A");
    await ex.waitFor(/^key: Up$/);
    type("\x03"); // Ctrl-C is a byte in raw mode, not SIGINT
    await ex.waitFor(/^key: Ctrl-C$/);
    await ex.exitedCleanly();
    assert.deepEqual(ex.lines.slice(1), ["key: a", "key: Up", "key: Ctrl-C"]);
    assert.equal(localFlags(tcgetattr(slave)), before, "the terminal's mode is restored");
  } finally {
    libc.close(master);
    libc.close(slave);
  }
});

test("chat_server.ts relays lines between several clients until SIGTERM", async () => {
  const ex = new RunningExample("chat_server.ts", ["0"]);
  try {
    const [, port] = await ex.waitFor(/^listening on 127\.0\.0\.1:(\d+)$/);
    await withLoop((loop) =>
      loop.runUntilComplete(async () => {
        const enc = new TextEncoder(), dec = new TextDecoder();
        const line = async (r: StreamReader) => dec.decode(await r.readline()).trimEnd();
        const [r1, w1] = await openConnection("127.0.0.1", Number(port));
        assert.match(await line(r1), /^welcome guest1;/);
        const [r2, w2] = await openConnection("127.0.0.1", Number(port));
        assert.match(await line(r2), /^welcome guest2;/);
        assert.equal(await line(r1), "* guest2 joined");
        const [r3, w3] = await openConnection("127.0.0.1", Number(port));
        assert.match(await line(r3), /^welcome guest3;/);
        assert.equal(await line(r1), "* guest3 joined");
        assert.equal(await line(r2), "* guest3 joined");

        w1.write(enc.encode("/nick ann\n"));
        for (const r of [r1, r2, r3]) assert.equal(await line(r), "* guest1 is now ann");
        w1.write(enc.encode("hello all\n"));
        assert.equal(await line(r2), "ann: hello all");
        assert.equal(await line(r3), "ann: hello all");
        w2.write(enc.encode("hi ann\n"));
        assert.equal(await line(r1), "guest2: hi ann");
        assert.equal(await line(r3), "guest2: hi ann");

        w3.write(enc.encode("/quit\n"));
        assert.equal((await r3.read()).length, 0, "the server closes a client that quits");
        assert.equal(await line(r1), "* guest3 left");
        assert.equal(await line(r2), "* guest3 left");
        w2.close(); // EOF also leaves
        assert.equal(await line(r1), "* guest2 left");

        ex.signal("SIGTERM");
        assert.equal(await line(r1), "* server closing (SIGTERM)");
        assert.equal((await r1.read()).length, 0);
        for (const w of [w1, w2, w3]) w.close();
      })
    );
    await ex.waitFor(/^closed on SIGTERM$/);
    await ex.exitedCleanly();
  } finally {
    ex.child.kill("SIGKILL");
  }
});

// ---- Files, devices and pipes by fd (issue 18 §1): run with Deno's --allow-ffi only --------

test("serial_pty.ts sends AT commands over a pty opened by path and reads CRLF-framed replies", { skip: windowsLacks("ptys") }, () => {
  assert.equal(
    runExample("serial_pty.ts", {}, true),
    [
      "port /dev/pts/N: a pty standing in for /dev/ttyUSB0",
      "> AT", "< OK",
      "> ATI", "< aioloop virtual modem 1.0", "< OK",
      "> AT+CSQ", "< +CSQ: 23,99", "< OK",
      "> AT+BOGUS", "< ERROR",
      "",
    ].join("\n").replace("/dev/pts/N", process.platform === "linux" ? "/dev/pts/N" : "/dev/ttysN"),
  );
});

test("pipeline.ts joins seq | gzip -c | wc -c with os.pipe(): the byte count the shell gets", { skip: windowsLacks("seq, gzip and wc") }, () => {
  const expected = spawnSync("sh", ["-c", "seq 1 100000 | gzip -c | wc -c"], { encoding: "utf8" }).stdout.trim();
  assert.match(expected, /^\d+$/);
  assert.equal(
    runExample("pipeline.ts", {}, true),
    `$ seq 1 100000 | gzip -c | wc -c\n${expected}\nexit statuses: seq 0, gzip 0, wc 0\n`,
  );
});

/** Why this process could not make a TUN device (so the example should say it skipped), or null. */
function tunUnavailable(): string | null {
  if (process.platform !== "linux") return "not Linux";
  try {
    const fd = os.open("/dev/net/tun", os.O_RDWR);
    try {
      // TUNSETIFF (<linux/if_tun.h>) with IFF_TUN: needs CAP_NET_ADMIN.
      const req = new Uint8Array(40);
      req.set(new TextEncoder().encode("aioprobe%d"));
      req[16] = 0x01;
      fcntl.ioctl(fd, 0x400454ca, req);
    } finally {
      os.close(fd);
    }
    return null;
  } catch (e) {
    return String(e);
  }
}

test("tun_reader.ts reads the UDP packet it routes into a TUN device, or says why it cannot", { skip: windowsLacks("TUN devices") }, () => {
  const out = runExample("tun_reader.ts", {}, true);
  const unavailable = tunUnavailable();
  if (unavailable !== null) {
    assert.match(out, /^tun_reader\.ts: skipped: .+\n$/, `this machine: ${unavailable}`);
    return;
  }
  assert.match(
    out,
    /^aioloopN up as 10\.x\.y\.1\/24\nUDP 10\.x\.y\.1:\d+ -> 10\.x\.y\.2:9999 "hello, tun"\n$/,
  );
});

// ---- Socket families (issue 18 §2): run with Deno's --allow-ffi only ---------------------------

test("multicast.ts joins a group on loopback and receives its own three datagrams (Deno: --allow-ffi only)", () => {
  const group = `239.255.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}`;
  const lines = runExample("multicast.ts", {}, true, [group]).trimEnd().split("\n");
  const first = lines[0] ?? "";
  assert.match(first, /^joined [0-9.]+ on 127\.0\.0\.1, port \d+$/);
  assert.ok(first.startsWith(`joined ${group} `), first);
  const from = lines[1]?.match(/from (127\.0\.0\.1:\d+)$/)?.[1];
  assert.deepEqual(lines.slice(1), ["first", "second", "third"].map((m) => `received '${m}' from ${from}`));
});

test("netlink_links.ts lists the links (lo among them), then reports a veth link added and removed, until SIGTERM (Deno: --allow-ffi only)", {
  skip: AF_NETLINK === undefined && "netlink(7) is Linux's",
}, async (t) => {
  const ex = new RunningExample("netlink_links.ts", [], "ignore", true);
  try {
    await ex.waitFor(/^watching for link changes/);
    assert.ok(ex.lines.includes("lo: up"), `lines: ${JSON.stringify(ex.lines)}`);
    // A veth pair with names unique to this process (other sessions share the namespace).
    const a = `aio${process.pid % 100000}x`, b = `aio${process.pid % 100000}y`;
    const made = spawnSync("ip", ["link", "add", a, "type", "veth", "peer", "name", b], { encoding: "utf8" });
    if (made.status !== 0) {
      t.diagnostic(`no link event: cannot create a veth link here (${made.error ?? made.stderr.trim()})`);
    } else {
      try {
        await ex.waitFor(new RegExp(`^${a}: added, down$`));
      } finally {
        spawnSync("ip", ["link", "del", a]);
      }
      await ex.waitFor(new RegExp(`^${a}: removed$`));
    }
    ex.signal("SIGTERM");
    await ex.exitedCleanly();
  } finally {
    ex.child.kill("SIGKILL");
  }
});
