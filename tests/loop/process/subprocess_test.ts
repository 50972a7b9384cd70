/**
 * Subprocesses with real children: the protocol level (subprocessExec/subprocessShell with a
 * SubprocessProtocol) and the streams level (createSubprocessExec/Shell, Process). Every test
 * also checks that no child is left unreaped (a zombie; on Windows an open process handle) and
 * no fd or handle is left open. The children are this OS's (tests/children.ts): /bin/cat,
 * /bin/sh on POSIX; this runtime running a script, and cmd.exe, on Windows.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { check, libc } from "../../../ffi/libc.ts";
import { isWindows } from "../../../ffi/runtime.ts";
import {
  type BaseEventLoop, createSubprocessExec, createSubprocessShell, DEVNULL, OSError, PIPE, sleep,
  STDOUT, SubprocessProtocol, type SubprocessTransport, ValueError, type WriteTransport,
} from "../../../mod.ts";
import { children, fdCountAfterFirstChild, killedReturncode, perOS, shellCommands, unreapedChildren } from "../../children.ts";
import { captureExceptions, concat, fdCountSettled, stableFdCount, windowsLacks, withLoop } from "../../helpers.ts";
import { pattern, sha256 } from "../../net_helpers.ts";
import { inheritableInstead, kernel32, overlappedPipe } from "../../windows/win.ts";

const dec = (b: Uint8Array | null) => new TextDecoder().decode(b ?? new Uint8Array(0));

/**
 * A file that exists but is no program: a directory on POSIX; on Windows a text file (there
 * CreateProcessW finds no directory as a program: Wine says ERROR_FILE_NOT_FOUND).
 */
function notAProgram(): string {
  if (!isWindows) return "/etc";
  const path = join(tmpdir(), "aioloop-not-a-program.txt");
  writeFileSync(path, "not a program\n");
  return path;
}

/**
 * A pipe whose write end a child could inherit: [read end for connectReadPipe, write end]. POSIX
 * pipe2 without O_CLOEXEC; Windows an overlapped named pipe whose client end is made inheritable.
 */
function inheritablePipe(): [number, number] {
  if (isWindows) {
    const [server, client] = overlappedPipe();
    return [server, inheritableInstead(client)];
  }
  const fds = new Int32Array(2);
  check(libc.pipe2(fds, 0), "pipe2");
  return [fds[0], fds[1]];
}

/** Close an fd or handle no transport owns: close(2), CloseHandle. */
function rawClose(fd: number): void {
  if (isWindows) assert.ok(kernel32().CloseHandle(fd), `CloseHandle(${fd})`);
  else libc.close(fd);
}

/** A test body that runs as a task on a fresh loop. */
function inLoop(body: (loop: BaseEventLoop) => Promise<void>): () => Promise<void> {
  return () => withLoop((loop) => loop.runUntilComplete(() => body(loop)));
}

async function until(loop: BaseEventLoop, cond: () => boolean, timeout = 30): Promise<void> {
  const end = loop.time() + timeout;
  while (!cond()) {
    if (loop.time() > end) throw new Error("timed out");
    await sleep(0.001);
  }
}

/** A SubprocessProtocol that records its callbacks. */
class Recorder extends SubprocessProtocol {
  events: string[] = [];
  out: Uint8Array[][] = [[], [], []];
  transport: SubprocessTransport | undefined;
  lost = false;
  paused = false;
  onResume?: () => void;
  override connectionMade(t: SubprocessTransport) {
    this.transport = t;
    this.events.push("made");
  }
  override pipeDataReceived(fd: number, data: Uint8Array) {
    this.out[fd].push(data);
  }
  override pipeConnectionLost(fd: number, exc: Error | null) {
    this.events.push(`pipeLost ${fd}${exc ? ` ${exc.message}` : ""}`);
  }
  override processExited() {
    this.events.push("exited");
  }
  override connectionLost(exc: Error | null) {
    this.events.push(`lost ${exc}`);
    this.lost = true;
  }
  override pauseWriting() {
    this.paused = true;
  }
  override resumeWriting() {
    this.paused = false;
    this.onResume?.();
  }
}

test("a cat child: 10 MiB round trip through the protocol API, with flow control and checksums", inLoop(async (loop) => {
  const before = await fdCountAfterFirstChild();
  const p = new Recorder();
  const [t, proto] = await loop.subprocessExec(() => p, ...children.cat);
  assert.equal(proto, p);
  assert.deepEqual(p.events, ["made"]);
  assert.ok(t.getPid() > 0);
  assert.equal(t.getReturncode(), null);
  const stdin = t.getPipeTransport(0) as WriteTransport;
  const data = pattern(10 * 1024 * 1024);
  let offset = 0, pauses = 0;
  const pump = () => {
    while (!p.paused && offset < data.length) {
      stdin.write(data.subarray(offset, offset + 128 * 1024));
      offset += 128 * 1024;
      if (p.paused) pauses++;
    }
    if (offset >= data.length) stdin.close();
  };
  p.onResume = pump;
  pump();
  await until(loop, () => p.lost);
  const out = concat(p.out[1]);
  assert.equal(out.length, data.length);
  assert.equal(sha256(out), sha256(data));
  assert.ok(pauses > 0, "stdin writes paused at the high-water mark");
  assert.equal(t.getReturncode(), 0);
  assert.equal(p.events[0], "made");
  assert.equal(p.events.at(-1), "lost null");
  assert.deepEqual(
    p.events.slice(1, -1).sort(),
    ["exited", "pipeLost 0", "pipeLost 1", "pipeLost 2"],
  );
  t.close();
  assert.deepEqual(unreapedChildren(), []);
  assert.equal(await fdCountSettled(before), before);
}));

test("a cat child: 10 MiB round trip through Process streams (write + drain, read to EOF)", inLoop(async () => {
  const proc = await createSubprocessExec(...children.cat, { stdin: PIPE, stdout: PIPE });
  assert.equal(proc.stderr, null, "stderr is inherited by default");
  const data = pattern(10 * 1024 * 1024);
  const writer = (async () => {
    for (let o = 0; o < data.length; o += 256 * 1024) {
      proc.stdin!.write(data.subarray(o, o + 256 * 1024));
      await proc.stdin!.drain();
    }
    proc.stdin!.close();
  })();
  const out = await proc.stdout!.read();
  await writer;
  assert.equal(await proc.wait(), 0);
  assert.equal(proc.returncode, 0);
  assert.equal(sha256(out), sha256(data));
}));

test("a child writing to stdout and stderr and exiting 3", inLoop(async (loop) => {
  const script = shellCommands.outErrExit("to out", "to err", 3);
  const proc = await createSubprocessExec(...children.shell(script), { stdout: PIPE, stderr: PIPE });
  const [out, err] = await proc.communicate();
  assert.equal(dec(out), "to out");
  assert.equal(dec(err), "to err");
  assert.equal(proc.returncode, 3);

  // The same through the protocol API and subprocessShell.
  const p = new Recorder();
  const [t] = await loop.subprocessShell(() => p, script);
  await until(loop, () => p.lost);
  assert.equal(dec(concat(p.out[1])), "to out");
  assert.equal(dec(concat(p.out[2])), "to err");
  assert.equal(t.getReturncode(), 3);
  assert.deepEqual(unreapedChildren(), []);
}));

test("a child killed with SIGKILL has returncode -9; SIGTERM -15 (Windows: 1 for both); sendSignal by name", inLoop(async () => {
  const proc = await createSubprocessExec(...children.sleep(30));
  assert.equal(proc.returncode, null);
  proc.kill();
  assert.equal(await proc.wait(), killedReturncode(9));
  assert.equal(proc.returncode, killedReturncode(9));
  // Once the transport has finished, the process is gone: ProcessLookupError in asyncio.
  assert.throws(() => proc.kill(), (e: Error) => e instanceof OSError && (e as OSError).code === "ESRCH");

  const p2 = await createSubprocessExec(...children.sleep(30));
  p2.terminate();
  assert.equal(await p2.wait(), killedReturncode(15));

  // The shell's own process waits: a grandchild would outlive it and keep stdout open.
  const p3 = await createSubprocessShell(shellCommands.untilKilled, { stdin: PIPE, stdout: PIPE });
  if (isWindows) {
    // Only SIGTERM and SIGKILL exist there; asyncio (Popen.send_signal) raises ValueError.
    for (const sig of ["SIGUSR1", "SIGINT", "SIGHUP", 2]) {
      assert.throws(() => p3.sendSignal(sig), (e: Error) => e instanceof ValueError && /Unsupported signal on Windows/.test(e.message), String(sig));
    }
    assert.equal(p3.returncode, null, "a refused signal leaves the child running");
    p3.kill();
  } else {
    p3.sendSignal("SIGUSR1");
  }
  const [out] = await p3.communicate();
  assert.equal(dec(out), "");
  assert.equal(p3.returncode, perOS(-10, 1));
  assert.throws(() => p3.sendSignal("SIGNOPE"), ValueError);
  assert.deepEqual(unreapedChildren(), []);
}));

test("exit statuses come back whole and unsigned: 255 on POSIX; Windows's 32-bit codes (as asyncio's returncode there)", inLoop(async () => {
  // [what the shell's exit is given, the returncode]: POSIX statuses are 0-255; a Windows exit
  // code is a DWORD (GetExitCodeProcess), e.g. 0xC0000005, a crash's NTSTATUS.
  const cases = perOS([[255, 255], [128, 128]], [[-1, 0xffffffff], [-1073741819, 0xc0000005], [256, 256]]);
  for (const [given, returncode] of cases) {
    const proc = await createSubprocessExec(...children.shell(`exit ${given}`));
    assert.equal(await proc.wait(), returncode, `exit ${given}`);
  }
}));

test("communicate() with 1 MiB of input; a child that reads none of it is no error", inLoop(async () => {
  const input = pattern(1024 * 1024);
  const cat = await createSubprocessExec(...children.cat, { stdin: PIPE, stdout: PIPE, stderr: PIPE });
  const [out, err] = await cat.communicate(input);
  assert.equal(sha256(out!), sha256(input));
  assert.equal(err!.length, 0);
  assert.equal(cat.returncode, 0);

  const deaf = await createSubprocessExec(...children.true, { stdin: PIPE, stdout: PIPE });
  const [out2] = await deaf.communicate(input);
  assert.equal(out2!.length, 0);
  assert.equal(deaf.returncode, 0);
}));

test("200 short-lived children in a row leave no fd and no zombie", inLoop(async () => {
  const before = await fdCountAfterFirstChild();
  let ok = 0;
  for (let i = 0; i < 200; i++) {
    const stdio = i % 2 === 0
      ? { stdout: PIPE, stderr: PIPE }
      : { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL };
    const proc = await createSubprocessExec(...children.true, stdio);
    if (i % 2 === 0) await proc.communicate();
    if ((await proc.wait()) === 0) ok++;
  }
  assert.equal(ok, 200);
  assert.deepEqual(unreapedChildren(), []);
  assert.equal(await fdCountSettled(before), before);
}));

test("errors: a missing program is OSError ENOENT from subprocessExec; bad arguments are clear; the loop lives on", inLoop(async (loop) => {
  const before = await stableFdCount();
  const exceptions = captureExceptions(loop);
  let made = 0;
  const factory = () => {
    made++;
    return new Recorder();
  };
  await assert.rejects(loop.subprocessExec(factory, "/no/such/program"), (e: Error) => e instanceof OSError && (e as OSError).code === "ENOENT" && (e as OSError).errno === 2);
  await assert.rejects(loop.subprocessExec(factory, "no-such-program-in-path"), (e: Error) => e instanceof OSError && (e as OSError).code === "ENOENT");
  await assert.rejects(createSubprocessExec("/no/such/program"), (e: Error) => e instanceof OSError && (e as OSError).code === "ENOENT");
  const [trueProgram, ...trueArgs] = children.true;
  // A missing cwd: ENOENT from chdir; Windows: ERROR_DIRECTORY, NotADirectoryError in Python.
  await assert.rejects(loop.subprocessExec(factory, trueProgram, ...trueArgs, { cwd: "/no/such/dir" }), (e: Error) => e instanceof OSError && (e as OSError).code === perOS("ENOENT", "ENOTDIR"));
  // Not a program: a directory (EACCES); Windows: a text file (ERROR_BAD_EXE_FORMAT, ENOEXEC).
  await assert.rejects(loop.subprocessExec(factory, notAProgram()), (e: Error) => e instanceof OSError && (e as OSError).code === perOS("EACCES", "ENOEXEC"));
  await assert.rejects(loop.subprocessExec("nope" as never, trueProgram), TypeError);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, { stdin: "pipe" as never }), (e: Error) => e instanceof ValueError && /stdin must be PIPE/.test(e.message));
  await assert.rejects(loop.subprocessExec(factory, trueProgram, { stdin: -7 }), ValueError);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, { stdout: STDOUT }), /STDOUT can only be used for stderr/);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, 42 as never), TypeError);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, "a\0b"), TypeError);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, { text: true }), ValueError);
  await assert.rejects(loop.subprocessShell(factory, 42 as never), ValueError);
  await assert.rejects(loop.subprocessExec(factory, trueProgram, { env: { A: 1 as never } }), TypeError);
  assert.equal(made, 4, "the factory runs only once the arguments are valid");
  assert.deepEqual(exceptions, []);
  assert.equal(await fdCountSettled(before), before, "a failed spawn closes its pipes");
  // The loop still works.
  const proc = await createSubprocessExec(...children.echo("still", "alive"), { stdout: PIPE });
  const [out] = await proc.communicate();
  assert.equal(dec(out), "still alive\n");
}));

test("cwd, env, stderr=STDOUT, DEVNULL, inherited streams", inLoop(async () => {
  const script = perOS('pwd; printf "$FOO"; printf E >&2', "cd& <nul set /p =%FOO%& <nul set /p =E>&2");
  const p1 = await createSubprocessExec(...children.shell(script), {
    stdout: PIPE, stderr: STDOUT, cwd: perOS("/tmp", "C:\\windows"),
    env: perOS<Record<string, string>>({ FOO: "bar", PATH: "/usr/bin:/bin" }, { FOO: "bar" }),
  });
  const [out, err] = await p1.communicate();
  assert.equal(dec(out), perOS("/tmp\nbarE", "C:\\windows\r\nbarE"));
  assert.equal(err, null);

  const p2 = await createSubprocessExec(...children.catThenEcho("done"), { stdin: DEVNULL, stdout: PIPE });
  assert.equal(p2.stdin, null);
  const [out2] = await p2.communicate();
  assert.equal(dec(out2), "done\n");

  if (!isWindows) {
    // A bare program name is looked up in the child's PATH when env is given (as Python does).
    const p4 = await createSubprocessExec("printenv", "ONLY", { stdout: PIPE, env: { ONLY: "x", PATH: "/usr/bin:/bin" } });
    assert.equal(dec((await p4.communicate())[0]), "x\n");
    await assert.rejects(
      createSubprocessExec("printenv", { env: { PATH: "/nonexistent" } }),
      (e: Error) => e instanceof OSError && (e as OSError).code === "ENOENT",
    );
  } else {
    // Windows, as Popen there: CreateProcessW looks a bare name up in the system directories
    // and this process's PATH, not in the env option's PATH.
    const p4 = await createSubprocessExec("cmd", "/c", "echo %ONLY%", { stdout: PIPE, env: { ONLY: "x", PATH: "C:\\nonexistent" } });
    assert.equal(dec((await p4.communicate())[0]), "x\r\n");
    await assert.rejects(
      createSubprocessExec("aioloop-no-such-program", { env: { PATH: "C:\\windows\\system32" } }),
      (e: Error) => e instanceof OSError && (e as OSError).code === "ENOENT",
    );
  }

  // With env omitted the child gets this process's environment.
  process.env.AIOLOOP_SUBPROCESS_TEST = "inherited";
  const p3 = await createSubprocessShell(shellCommands.printEnv("AIOLOOP_SUBPROCESS_TEST"), { stdout: PIPE });
  assert.equal(dec((await p3.communicate())[0]), "inherited");
}));

test("the child starts clean: default SIGPIPE, empty signal mask, only fds 0-2 open", {
  skip: windowsLacks("POSIX signal dispositions and masks, and /proc to list a child's fds"),
}, inLoop(async () => {
  const proc = await createSubprocessExec(
    "/bin/sh", "-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status; ls /proc/self/fd",
    { stdout: PIPE },
  );
  const [out] = await proc.communicate();
  const text = dec(out);
  assert.match(text, /SigBlk:\s+0{16}/);
  // Bit n-1 is signal n (proc(5)). glibc's posix_spawn leaves its two internal signals (32, 33)
  // ignored in the child, which glibc re-arms in every new program; SIGPIPE (13) and SIGXFSZ
  // (25), ignored by the runtimes, must be back to their default.
  const ignored = BigInt("0x" + /SigIgn:\s+([0-9a-f]+)/.exec(text)![1]);
  assert.equal(ignored & ((1n << 12n) | (1n << 24n)), 0n, `SigIgn ${ignored.toString(16)}`);
  // ls itself holds one more fd (its directory) while listing.
  const fds = text.split("\n").filter((l) => /^\d+$/.test(l)).map(Number);
  assert.ok(fds.length <= 4 && [0, 1, 2].every((fd) => fds.includes(fd)), `child fds: ${fds}`);
}));

test("a child inherits only its stdio: an inheritable pipe end closed here ends the pipe while the child runs", inLoop(async (loop) => {
  // As Popen's close_fds: POSIX closes fds from 3 up in the child; Windows passes the child
  // only its three std handles, though this pipe end is inheritable (and the child is started
  // with bInheritHandles TRUE, which stdio needs).
  const [r, w] = inheritablePipe();
  let eof = false;
  await loop.connectReadPipe(() => ({ eofReceived: () => void (eof = true) }), r);
  const child = await createSubprocessExec(...children.sleep(30), { stdin: DEVNULL, stdout: DEVNULL, stderr: DEVNULL });
  try {
    rawClose(w);
    // EOF comes once every copy of the write end is closed: at once, unless the child has one.
    await until(loop, () => eof, 5);
    assert.equal(child.returncode, null, "the child still runs");
  } finally {
    child.kill();
    await child.wait();
  }
}));

test("close() on a running child kills it; processExited and connectionLost still come, once", inLoop(async (loop) => {
  const p = new Recorder();
  const [t] = await loop.subprocessExec(() => p, ...children.sleep(30));
  t.close();
  t.close();
  assert.equal(t.isClosing(), true);
  await until(loop, () => p.lost);
  assert.equal(t.getReturncode(), killedReturncode(9));
  assert.equal(p.events.filter((e) => e === "exited").length, 1);
  assert.equal(p.events.filter((e) => e.startsWith("lost")).length, 1);
  assert.equal(p.events.at(-1), "lost null");
  assert.throws(() => t.sendSignal(9), (e: Error) => e instanceof OSError && (e as OSError).code === "ESRCH");
  assert.deepEqual(unreapedChildren(), []);
}));

test("several waiters on one child all get its returncode; a failing protocol is reported, not fatal", inLoop(async (loop) => {
  const exceptions = captureExceptions(loop);
  const proc = await createSubprocessShell(shellCommands.pauseThenExit(7));
  const results = await Promise.all([proc.wait(), proc.wait(), proc.wait()]);
  assert.deepEqual(results, [7, 7, 7]);
  assert.equal(await proc.wait(), 7);

  const p = new Recorder();
  p.pipeDataReceived = () => {
    throw new Error("bad protocol");
  };
  const [t] = await loop.subprocessShell(() => p, shellCommands.twoWrites("a", "b"));
  await until(loop, () => p.lost);
  assert.equal(t.getReturncode(), 0);
  assert.equal(exceptions.length, 2);
  assert.match(String(exceptions[0].message), /pipeDataReceived/);
}));
