/**
 * Child processes on every loop (asyncio base_subprocess.py's BaseSubprocessTransport):
 * subprocessExec/subprocessShell start a child through this OS's process calls
 * (loop/process/process_calls.ts: posix_spawn and a pidfd on POSIX, CreateProcessW and a job object on
 * Windows), connect its stdin/stdout/stderr pipes as the loop's pipe transports (unix_pipes.ts,
 * or proactor_pipes.ts where the proactor has no readiness polling: IOCP), and report the exit
 * the backing watches for.
 *
 * Order of callbacks, as asyncio: connectionMade; pipeDataReceived as data comes;
 * pipeConnectionLost per pipe and processExited in whatever order they happen; connectionLost
 * last, once the child exited and every pipe closed.
 */
import { ESRCH } from "../../ffi/libc.ts";
import { signalNumbers } from "../../ffi/signals.ts";
import { S_IFIFO } from "../../ffi/spawn.ts";
import { processCalls } from "../../platform/default_process.ts";
import { OSError, RuntimeError, ValueError } from "../core/errors.ts";
import type { Future } from "../core/futures.ts";
import type { ChildProcess } from "./process_calls.ts";
import type { ProtocolFactory, SubprocessProtocolLike } from "../transports/protocols.ts";
import type { BaseEventLoop } from "../base_loop.ts";
import type { BaseTransport, SubprocessTransport } from "../transports/base.ts";
import { lostReported, waitLost } from "../transports/dispose.ts";
import {
  checkArg, checkFactory, checkOptions, checkStdio, splitArgs,
  type SubprocessOptions, withPipeDefaults,
} from "./subprocess_options.ts";
import { ReadPipeTransport, WritePipeTransport } from "../selector/unix_pipes.ts";

export {
  DEVNULL, PIPE, splitArgs, type StdioOption, STDOUT, type SubprocessOptions,
} from "./subprocess_options.ts";

const SIGKILL = 9;
const SIGTERM = 15;

/** Forwards one pipe's events to the subprocess transport (asyncio's *SubprocessPipeProto). */
class PipeProto {
  disconnected = false;
  constructor(private readonly owner: BaseSubprocessTransport, readonly fd: number) {}
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

/** A child process and its pipes (asyncio's BaseSubprocessTransport). */
export class BaseSubprocessTransport implements SubprocessTransport {
  /** @internal */ _protocol: SubprocessProtocolLike;
  private readonly _loop: BaseEventLoop;
  private readonly _child: ChildProcess;
  private readonly _pid: number;
  private _returncode: number | null = null;
  private readonly _pipes: (PipeProto | null)[] = [null, null, null];
  private readonly _pipeTransports: (BaseTransport | null)[] = [null, null, null];
  private _closed = false;
  private _finished = false;
  private _lostReported = false;
  private _exitWaiters: Future<number>[] = [];

  /**
   * Start the child (`cmd` through the OS's shell, else `program` with `argv`) and connect its
   * pipes; made by subprocessExec/subprocessShell. OSError if it cannot start.
   */
  constructor(
    loop: BaseEventLoop,
    protocol: SubprocessProtocolLike,
    program: string,
    argv: string[],
    shell: string | null,
    options: SubprocessOptions,
    waiter: Future<unknown>,
  ) {
    this._loop = loop;
    this._protocol = protocol;
    this._child = processCalls.spawn({
      program,
      argv,
      shell,
      env: options.env ?? null,
      cwd: options.cwd ?? null,
      stdio: checkStdio(options),
      startNewSession: options.startNewSession ?? false,
    });
    this._pid = this._child.pid;
    this._child.watch(loop, this._childExited.bind(this));

    // Pipes first, then the protocol's connectionMade: their callbacks are queued in this order
    // and the child's output can only be dispatched by a later poll, so nothing reaches the
    // protocol before connectionMade.
    const ends = this._child.pipes;
    for (let fd = 0; fd < 3; fd++) {
      if (ends[fd] < 0) continue;
      const proto = new PipeProto(this, fd);
      this._pipes[fd] = proto;
      this._pipeTransports[fd] = loop._makePipeTransport(ends[fd], proto, fd === 0) ??
        (fd === 0
          ? new WritePipeTransport(loop, ends[fd], ends[fd], S_IFIFO, proto)
          : new ReadPipeTransport(loop, ends[fd], ends[fd], proto));
    }
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

  /**
   * Send `signal` (a number or "SIGTERM"-style name) to the child (asyncio send_signal). On
   * Windows only SIGTERM and SIGKILL exist (TerminateProcess); others raise ValueError.
   */
  sendSignal(signal: number | string): void {
    const num = typeof signal === "string" ? signalNumbers[signal] : signal;
    if (typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= 65) {
      throw new ValueError(`invalid signal ${String(signal)}`);
    }
    if (this._lostReported) {
      throw new OSError(ESRCH, "ESRCH", "No such process", "the subprocess transport is closed");
    }
    // Once reaped, the pid may belong to someone else: as Popen.send_signal, do nothing.
    if (this._returncode !== null) return;
    this._child.sendSignal(num);
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
    if (this._returncode === null) {
      try {
        this._child.sendSignal(SIGKILL);
      } catch { /* exited meanwhile: its exit is still reported */ }
    }
  }

  /** `using`: close() when the scope ends: the pipes close, a running child is killed. */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * `await using`: close(), then wait until the child is reaped and connectionLost has run
   * (every pipe closed).
   */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await waitLost(this, this._loop, this._lostReported);
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

  /** The backing saw the child end. */
  private _childExited(returncode: number): void {
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
        try {
          p.connectionLost?.(null);
        } finally {
          lostReported(this);
        }
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

  /** `<SubprocessTransport pid=…>`, for logs. */
  toString(): string {
    const state = this._returncode === null ? "running" : `returncode=${this._returncode}`;
    return `<SubprocessTransport pid=${this._pid} ${state}${this._closed ? " closed" : ""}>`;
  }
}

function connectionMade(t: BaseSubprocessTransport): void {
  t._report("connectionMade");
}

function processExited(t: BaseSubprocessTransport): void {
  t._report("processExited");
}

function pipeConnectionLost(t: BaseSubprocessTransport, fd: number, exc: Error | null): void {
  t._report("pipeConnectionLost", fd, exc);
}

function callConnectionLost(t: BaseSubprocessTransport): void {
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
  shell: string | null,
  options: SubprocessOptions,
): Promise<[SubprocessTransport, P]> {
  if (loop.isClosed()) throw new RuntimeError("Event loop is closed");
  const protocol = protocolFactory();
  const waiter = loop.createFuture();
  const transport = new BaseSubprocessTransport(loop, protocol, program, argv, shell, options, waiter);
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
  return await start(loop, protocolFactory, program, argv, null, full);
}

/**
 * Run `cmd` through the OS's shell (asyncio subprocess_shell): /bin/sh -c, or on Windows
 * `%COMSPEC% /c` (cmd.exe). stdio defaults to PIPE.
 */
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
  return await start(loop, protocolFactory, cmd, [cmd], cmd, full);
}

/** The former name of BaseSubprocessTransport (it was POSIX-only then). */
export const UnixSubprocessTransport: typeof BaseSubprocessTransport = BaseSubprocessTransport;
/** The former name of BaseSubprocessTransport. */
export type UnixSubprocessTransport = BaseSubprocessTransport;
