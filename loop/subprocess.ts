/**
 * Child processes for the selector loop (asyncio base_subprocess.py and unix_events'
 * _UnixSubprocessTransport): subprocessExec/subprocessShell start a child with posix_spawn
 * (ffi/spawn.ts, never fork() in these multithreaded runtimes), connect its stdin/stdout/stderr
 * pipes as pipe transports, and watch its exit through a pidfd registered with the poller; the
 * child is reaped with waitid(P_PIDFD) for that child only. Neither Deno nor Bun reaps children
 * it did not start (checked: no SIGCHLD handler is installed and our exited child stays a
 * zombie across Deno.Command / Bun.spawn use), so the status is always ours to collect.
 *
 * Order of callbacks, as asyncio: connectionMade; pipeDataReceived as data comes;
 * pipeConnectionLost per pipe and processExited in whatever order they happen; connectionLost
 * last, once the child exited and every pipe closed.
 */
import process from "node:process";
import { closeFd, O_CLOEXEC, check, libc } from "../ffi/libc.ts";
import { signalNumbers } from "../ffi/signals.ts";
import {
  type ChildStdio, kill, pidfdOpen, pidfdSendSignal, reapPidfd, S_IFIFO, spawn,
} from "../ffi/spawn.ts";
import { OSError, RuntimeError, ValueError } from "./errors.ts";
import type { Future } from "./futures.ts";
import type { ProtocolFactory, SubprocessProtocolLike } from "./protocols.ts";
import type { BaseEventLoop } from "./base_loop.ts";
import type { BaseTransport, SubprocessTransport } from "./transports/base.ts";
import {
  checkArg, checkFactory, checkOptions, checkStdio, resolveProgram, splitArgs,
  type SubprocessOptions, withPipeDefaults,
} from "./subprocess_options.ts";
import { ReadPipeTransport, WritePipeTransport } from "./transports/unix_pipes.ts";

export {
  DEVNULL, PIPE, splitArgs, type StdioOption, STDOUT, type SubprocessOptions,
} from "./subprocess_options.ts";

const ESRCH = 3;
const ECHILD = 10;
const SIGKILL = 9;
const SIGTERM = 15;

/** Forwards one pipe's events to the subprocess transport (asyncio's *SubprocessPipeProto). */
class PipeProto {
  disconnected = false;
  constructor(private readonly owner: UnixSubprocessTransport, readonly fd: number) {}
  connectionMade(): void {}
  dataReceived(data: Uint8Array): void {
    this.owner._pipeDataReceived(this.fd, data);
  }
  eofReceived(): void {}
  connectionLost(exc: Error | null): void {
    this.disconnected = true;
    this.owner._pipeConnectionLost(this.fd, exc);
  }
  pauseWriting(): void {
    this.owner._protocol.pauseWriting?.();
  }
  resumeWriting(): void {
    this.owner._protocol.resumeWriting?.();
  }
}

/** A child process and its pipes (asyncio's _UnixSubprocessTransport). */
export class UnixSubprocessTransport implements SubprocessTransport {
  /** @internal */ _protocol: SubprocessProtocolLike;
  private readonly _loop: BaseEventLoop;
  private readonly _pid: number;
  private _pidfd: number;
  private _returncode: number | null = null;
  private readonly _pipes: (PipeProto | null)[] = [null, null, null];
  private readonly _pipeTransports: (BaseTransport | null)[] = [null, null, null];
  private _closed = false;
  private _finished = false;
  private _lostReported = false;
  private _exitWaiters: Future<number>[] = [];
  private readonly _onChildReady: () => void;

  /**
   * Spawn `program` with `argv` (posix_spawn) and connect its pipes; made by
   * subprocessExec/subprocessShell. OSError if the spawn fails.
   */
  constructor(
    loop: BaseEventLoop,
    protocol: SubprocessProtocolLike,
    program: string,
    argv: string[],
    options: SubprocessOptions,
    waiter: Future<unknown>,
  ) {
    this._loop = loop;
    this._protocol = protocol;
    const wanted = checkStdio(options);
    const env = Object.entries(options.env ?? process.env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`);

    // Parent ends of the pipes we make, and the child ends to close once it has them.
    const parentFds = [-1, -1, -1];
    const childEnds: number[] = [];
    let pidfd = -1;
    try {
      const stdio = wanted.map((w, target): ChildStdio => {
        if (w !== "pipe") return w;
        const fds = new Int32Array(2);
        check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
        // fds[0] is the read end, fds[1] the write end (pipe(2)).
        const [parent, child] = target === 0 ? [fds[1], fds[0]] : [fds[0], fds[1]];
        parentFds[target] = parent;
        childEnds.push(child);
        return { kind: "fd", fd: child };
      }) as [ChildStdio, ChildStdio, ChildStdio];
      this._pid = spawn({
        program,
        argv,
        env,
        cwd: options.cwd ?? null,
        stdio,
        startNewSession: options.startNewSession ?? false,
      });
      try {
        pidfd = pidfdOpen(this._pid);
      } catch (e) {
        // Without a pidfd we cannot watch the child: do not leave it running unwatched.
        try {
          kill(this._pid, SIGKILL);
        } catch { /* already gone */ }
        throw e;
      }
    } catch (e) {
      for (const fd of parentFds) if (fd >= 0) libc.close(fd);
      throw e;
    } finally {
      for (const fd of childEnds) libc.close(fd);
    }
    this._pidfd = pidfd;

    // Pipes first, then the protocol's connectionMade: their callbacks are queued in this order
    // and the child's output can only be dispatched by a later poll, so nothing reaches the
    // protocol before connectionMade.
    for (let fd = 0; fd < 3; fd++) {
      if (parentFds[fd] < 0) continue;
      const proto = new PipeProto(this, fd);
      this._pipes[fd] = proto;
      this._pipeTransports[fd] = fd === 0
        ? new WritePipeTransport(loop, parentFds[fd], parentFds[fd], S_IFIFO, proto)
        : new ReadPipeTransport(loop, parentFds[fd], parentFds[fd], proto);
    }
    this._onChildReady = this._childReady.bind(this);
    loop.addReader(pidfd, this._onChildReady);
    loop.callSoon(connectionMade, this);
    loop.callSoon(resolveWaiter, waiter);
  }

  // ---- SubprocessTransport ---------------------------------------------------------------

  getPid(): number {
    return this._pid;
  }

  /**
   * The exit status, −signal if a signal ended the child, or null while it runs (asyncio
   * get_returncode).
   */
  getReturncode(): number | null {
    return this._returncode;
  }

  /**
   * The transport of the child's fd 0, 1 or 2, or null if that is not a pipe (asyncio
   * get_pipe_transport).
   */
  getPipeTransport(fd: number): BaseTransport | null {
    return this._pipeTransports[fd] ?? null;
  }

  /** Send `signal` (a number or "SIGTERM"-style name) to the child (asyncio send_signal). */
  sendSignal(signal: number | string): void {
    const num = typeof signal === "string" ? signalNumbers[signal] : signal;
    if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= 65) {
      throw new ValueError(`invalid signal ${String(signal)}`);
    }
    if (this._lostReported) {
      throw new OSError(ESRCH, "ESRCH", "No such process", "the subprocess transport is closed");
    }
    // Once reaped, the pid may belong to someone else: as Popen.send_signal, do nothing.
    if (this._returncode !== null || this._pidfd < 0) return;
    try {
      pidfdSendSignal(this._pidfd, num);
    } catch (e) {
      // Exited but not yet reaped: the race Popen.send_signal also ignores.
      if (!(e instanceof OSError && e.errno === ESRCH)) throw e;
    }
  }

  terminate(): void {
    this.sendSignal(SIGTERM);
  }

  kill(): void {
    this.sendSignal(SIGKILL);
  }

  // ---- BaseTransport -----------------------------------------------------------------------

  getExtraInfo(name: string, defaultValue: unknown = undefined): unknown {
    if (name === "pid") return this._pid;
    return defaultValue;
  }

  isClosing(): boolean {
    return this._closed;
  }

  /**
   * Close the pipes; a child still running is killed (SIGKILL), as asyncio does. Its exit is
   * still reaped: processExited() and connectionLost() follow.
   */
  close(): void {
    if (this._closed) return;
    this._closed = true;
    for (const t of this._pipeTransports) t?.close();
    if (this._returncode === null && this._pidfd >= 0) {
      try {
        pidfdSendSignal(this._pidfd, SIGKILL);
      } catch { /* exited meanwhile: reaped when the pidfd fires */ }
    }
  }

  setProtocol(protocol: unknown): void {
    this._protocol = protocol as SubprocessProtocolLike;
  }

  getProtocol(): SubprocessProtocolLike {
    return this._protocol;
  }

  /** @internal Resolves with the returncode once the child has exited (Process.wait()). */
  _wait(): Promise<number> | number {
    if (this._returncode !== null) return this._returncode;
    const waiter = this._loop.createFuture<number>();
    this._exitWaiters.push(waiter);
    return waiter as unknown as Promise<number>;
  }

  // ---- Events --------------------------------------------------------------------------------

  /** @internal Called directly (no callSoon hop per chunk); a throwing protocol is reported. */
  _pipeDataReceived(fd: number, data: Uint8Array): void {
    try {
      this._protocol.pipeDataReceived?.(fd, data);
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: "protocol.pipeDataReceived() call failed.",
        exception,
        transport: this,
        protocol: this._protocol,
      });
    }
  }

  /** @internal */
  _pipeConnectionLost(fd: number, exc: Error | null): void {
    this._loop.callSoon(pipeConnectionLost, this, fd, exc);
    this._tryFinish();
  }

  /** The pidfd became readable: the child terminated. */
  private _childReady(): void {
    let returncode: number | null;
    try {
      returncode = reapPidfd(this._pidfd);
    } catch (e) {
      if (!(e instanceof OSError && e.errno === ECHILD)) throw e;
      // Someone else reaped it: as asyncio's child watchers, report 255.
      console.warn(`aioloop: unknown child process pid ${this._pid}, will report returncode 255`);
      returncode = 255;
    }
    if (returncode === null) return;
    this._loop.removeReader(this._pidfd);
    closeFd(this._pidfd);
    this._pidfd = -1;
    this._returncode = returncode;
    this._loop.callSoon(processExited, this);
    this._tryFinish();
    const waiters = this._exitWaiters;
    this._exitWaiters = [];
    for (const w of waiters) if (!w.done()) w.setResult(returncode);
  }

  /** Report processExited and connectionLost once the child exited and its pipes closed. */
  private _tryFinish(): void {
    if (this._finished || this._returncode === null) return;
    for (const p of this._pipes) if (p !== null && !p.disconnected) return;
    this._finished = true;
    this._loop.callSoon(callConnectionLost, this);
  }

  /** @internal */
  _report(method: "connectionMade" | "processExited" | "connectionLost" | "pipeConnectionLost", fd = -1, exc: Error | null = null): void {
    const p = this._protocol;
    try {
      if (method === "connectionMade") p.connectionMade?.(this);
      else if (method === "processExited") p.processExited?.();
      else if (method === "pipeConnectionLost") p.pipeConnectionLost?.(fd, exc);
      else if (!this._lostReported) {
        this._lostReported = true;
        p.connectionLost?.(null);
      }
    } catch (exception) {
      this._loop.callExceptionHandler({
        message: `protocol.${method}() call failed.`,
        exception,
        transport: this,
        protocol: p,
      });
    }
  }

  /** `<UnixSubprocessTransport pid=…>`, for logs. */
  toString(): string {
    const state = this._returncode === null ? "running" : `returncode=${this._returncode}`;
    return `<UnixSubprocessTransport pid=${this._pid} ${state}${this._closed ? " closed" : ""}>`;
  }
}

function connectionMade(t: UnixSubprocessTransport): void {
  t._report("connectionMade");
}

function processExited(t: UnixSubprocessTransport): void {
  t._report("processExited");
}

function pipeConnectionLost(t: UnixSubprocessTransport, fd: number, exc: Error | null): void {
  t._report("pipeConnectionLost", fd, exc);
}

function callConnectionLost(t: UnixSubprocessTransport): void {
  t._report("connectionLost");
}

function resolveWaiter(waiter: Future<unknown>): void {
  if (!waiter.done()) waiter.setResult(null);
}

async function start<P extends SubprocessProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  program: string,
  argv: string[],
  options: SubprocessOptions,
): Promise<[SubprocessTransport, P]> {
  if (loop.isClosed()) throw new RuntimeError("Event loop is closed");
  const path = resolveProgram(program, options.env);
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = new UnixSubprocessTransport(loop, protocol, path, argv, options, waiter);
  try {
    await waiter;
  } catch (e) {
    transport.close();
    await transport._wait();
    throw e;
  }
  return [transport, protocol];
}

/**
 * Start `program` with `args` (asyncio subprocess_exec): `rest` is `...args` optionally
 * followed by an options object. stdin, stdout and stderr default to PIPE.
 */
export async function subprocessExec<P extends SubprocessProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  program: string,
  rest: unknown[],
): Promise<[SubprocessTransport, P]> {
  checkFactory(protocolFactory);
  const [args, options] = splitArgs<SubprocessOptions>(rest);
  const argv = [checkArg(program), ...args.map(checkArg)];
  const full = withPipeDefaults(options);
  checkOptions(full, false);
  checkStdio(full);
  return await start(loop, protocolFactory, program, argv, full);
}

/** Run `cmd` with /bin/sh -c (asyncio subprocess_shell); stdio defaults to PIPE. */
export async function subprocessShell<P extends SubprocessProtocolLike>(
  loop: BaseEventLoop,
  protocolFactory: ProtocolFactory<P>,
  cmd: string,
  options: SubprocessOptions = {},
): Promise<[SubprocessTransport, P]> {
  checkFactory(protocolFactory);
  if (typeof cmd !== "string") throw new ValueError("cmd must be a string");
  checkOptions({ ...options, shell: options.shell ?? true }, true);
  const full = { ...withPipeDefaults(options), shell: undefined };
  checkStdio(full);
  return await start(loop, protocolFactory, "/bin/sh", ["/bin/sh", "-c", cmd], full);
}
