/**
 * Subprocesses with streams (asyncio.subprocess): createSubprocessExec/createSubprocessShell
 * return a Process whose stdin is a StreamWriter and stdout/stderr are StreamReaders, with
 * wait() and communicate(). Built on the loop's subprocessExec/subprocessShell.
 */
import { ECONNRESET, EPIPE } from "../../ffi/libc.ts";
import type { BaseEventLoop } from "../base_loop.ts";
import { asBytes, type BytesLike } from "../core/bytes.ts";
import { OSError } from "../core/errors.ts";
import { checkSignal, runAbortable, type AbortSignalOption } from "../core/abort.ts";
import { getRunningLoop } from "../events.ts";
import type { Future } from "../core/futures.ts";
import { SubprocessProtocol } from "../transports/protocols.ts";
import { splitArgs, type SubprocessOptions, type BaseSubprocessTransport } from "./subprocess.ts";
import { DrainWaiters, StreamReader, type StreamReaderProtocol, StreamWriter } from "../streams/streams.ts";
import type { ReadTransport, SubprocessTransport, Transport } from "../transports/base.ts";

/** Options of createSubprocessExec/Shell: the loop's, plus the readers' buffer limit. */
export interface ProcessOptions extends SubprocessOptions {
  /** The StreamReaders' limit (default 64 KiB). */
  limit?: number;
}


/**
 * The protocol between a subprocess transport and its streams (asyncio's
 * SubprocessStreamProtocol): feeds stdout/stderr readers, gives stdin's drain() its flow
 * control, and closes the transport once the child exited and its output pipes closed.
 */
export class SubprocessStreamProtocol extends SubprocessProtocol {
  /** The child's stdin, when it is a pipe. */
  stdin: StreamWriter | null = null;
  /** The child's stdout, when it is a pipe. */
  stdout: StreamReader | null = null;
  /** The child's stderr, when it is a pipe. */
  stderr: StreamReader | null = null;
  private _transport: SubprocessTransport | null = null;
  private _processExited = false;
  private readonly _pipeFds: number[] = [];
  private readonly _stdinClosed: Future<void>;
  // Write flow control of stdin.
  private readonly _drain: DrainWaiters;

  /** Made by createSubprocessExec/createSubprocessShell; `_limit` is the readers' buffer limit. */
  constructor(private readonly _limit: number | undefined, private readonly _loop: BaseEventLoop) {
    super();
    this._stdinClosed = _loop.createFuture<void>();
    this._drain = new DrainWaiters(_loop);
  }

  /** Wrap each pipe of the child in a StreamReader or StreamWriter. */
  override connectionMade(transport: SubprocessTransport): void {
    this._transport = transport;
    const out = transport.getPipeTransport(1);
    if (out !== null) {
      this.stdout = new StreamReader({ limit: this._limit, loop: this._loop });
      this.stdout.setTransport(out as ReadTransport);
      this._pipeFds.push(1);
    }
    const err = transport.getPipeTransport(2);
    if (err !== null) {
      this.stderr = new StreamReader({ limit: this._limit, loop: this._loop });
      this.stderr.setTransport(err as ReadTransport);
      this._pipeFds.push(2);
    }
    const input = transport.getPipeTransport(0);
    if (input !== null) {
      // StreamWriter asks its protocol only for _drainHelper() and _getCloseWaiter(), which
      // this class provides; it writes through the WriteTransport half of `input`.
      this.stdin = new StreamWriter(
        input as Transport,
        this as unknown as StreamReaderProtocol,
        null,
        this._loop,
      );
    }
  }

  /** Feed the child's output on `fd` to its StreamReader. */
  override pipeDataReceived(fd: number, data: Uint8Array): void {
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    // The pipe transport hands over a fresh copy: the reader may keep it.
    reader?._feedOwned(data);
  }

  /** A pipe closed: EOF (or `exc`) for its reader, or the end of stdin. */
  override pipeConnectionLost(fd: number, exc: Error | null): void {
    if (fd === 0) {
      this.stdin?.close();
      this.connectionLost(exc);
      if (exc === null) this._stdinClosed.setResult();
      else {
        this._stdinClosed.setException(exc);
        this._stdinClosed.exception(); // nobody has to wait for it: not "never retrieved"
      }
      return;
    }
    const reader = fd === 1 ? this.stdout : fd === 2 ? this.stderr : null;
    if (reader !== null) {
      if (exc === null) reader.feedEof();
      else reader.setException(exc);
    }
    const i = this._pipeFds.indexOf(fd);
    if (i >= 0) this._pipeFds.splice(i, 1);
    this._maybeCloseTransport();
  }

  /** The child exited: close the transport once its output pipes are closed too. */
  override processExited(): void {
    this._processExited = true;
    this._maybeCloseTransport();
  }

  /** Close the transport once the child exited and every pipe closed. */
  private _maybeCloseTransport(): void {
    if (this._pipeFds.length === 0 && this._processExited && this._transport !== null) {
      this._transport.close();
      this._transport = null;
    }
  }

  /** stdin's buffer is full: drain() waits. */
  override pauseWriting(): void {
    this._drain.pause();
  }

  /** stdin's buffer drained: wake drain() waiters. */
  override resumeWriting(): void {
    this._drain.resume();
  }

  /** The transport closed: wake drain() waiters with `exc`, or let them return. */
  override connectionLost(exc: Error | null): void {
    this._drain.lost(exc);
  }

  /** @internal For StreamWriter.drain(). */
  _drainHelper(): Promise<void> {
    return this._drain.wait();
  }

  /** @internal For StreamWriter.waitClosed(): stdin's pipe closed. */
  _getCloseWaiter(): Future<void> {
    return this._stdinClosed;
  }
}

/** A child process with stream pipes (asyncio.subprocess.Process). */
export class Process {
  /** The child's stdin, when it is a pipe (PIPE), else null. */
  readonly stdin: StreamWriter | null;
  /** The child's stdout, when it is a pipe (PIPE), else null. */
  readonly stdout: StreamReader | null;
  /** The child's stderr, when it is a pipe (PIPE), else null. */
  readonly stderr: StreamReader | null;
  /** The child's process id. */
  readonly pid: number;

  /** Made by createSubprocessExec/createSubprocessShell; use those. */
  constructor(
    private readonly _transport: SubprocessTransport,
    protocol: SubprocessStreamProtocol,
    private readonly _loop: BaseEventLoop,
  ) {
    this.stdin = protocol.stdin;
    this.stdout = protocol.stdout;
    this.stderr = protocol.stderr;
    this.pid = _transport.getPid();
  }

  /**
   * The exit status, −signal if a signal ended the child, or null while it runs (asyncio
   * Process.returncode).
   */
  get returncode(): number | null {
    return this._transport.getReturncode();
  }

  /**
   * Wait for the child to exit and return its returncode (asyncio Process.wait). With
   * `{ signal }`, an abort stops the waiting (not the child) with CancelledError, `cause` the
   * signal's reason.
   */
  async wait(options: AbortSignalOption = {}): Promise<number> {
    const signal = checkSignal(options?.signal, "Process.wait()");
    if (signal !== undefined) return await runAbortable(this._loop, signal, () => this.wait());
    return await (this._transport as BaseSubprocessTransport)._wait();
  }

  /**
   * Send signal `signal` (a number or a "SIGTERM"-style name) to the child (asyncio
   * Process.send_signal). ValueError for an unknown signal; OSError ESRCH once the transport is
   * closed; a child already reaped is left alone.
   */
  sendSignal(signal: number | string): void {
    this._transport.sendSignal(signal);
  }

  /** Send SIGTERM to the child (asyncio Process.terminate); errors as sendSignal. */
  terminate(): void {
    this._transport.terminate();
  }

  /** Send SIGKILL to the child (asyncio Process.kill); errors as sendSignal. */
  kill(): void {
    this._transport.kill();
  }

  /**
   * Send `input` to stdin (then close it), read stdout and stderr to EOF, wait for the exit;
   * returns [stdout, stderr] (null for a stream that is not a pipe). A child that exits without
   * reading all its input is not an error (EPIPE is ignored, as asyncio does). With
   * `{ signal }`, an abort stops the exchange (not the child) with CancelledError, `cause` the
   * signal's reason; the pipes stay open.
   */
  async communicate(
    input: BytesLike | null = null,
    options: AbortSignalOption = {},
  ): Promise<[Uint8Array | null, Uint8Array | null]> {
    const signal = checkSignal(options?.signal, "Process.communicate()");
    if (signal !== undefined) return await runAbortable(this._loop, signal, () => this.communicate(input));
    const [, out, err] = await Promise.all([
      this.stdin !== null ? this._feedStdin(input) : undefined,
      this.stdout !== null ? this._readStream(1, this.stdout) : null,
      this.stderr !== null ? this._readStream(2, this.stderr) : null,
    ]);
    await this.wait();
    return [out, err];
  }

  /**
   * Write `input` to stdin and close it; EPIPE and ECONNRESET (the child stopped reading) are
   * ignored.
   */
  private async _feedStdin(input: BytesLike | null): Promise<void> {
    const stdin = this.stdin!;
    try {
      if (input !== null) {
        stdin.write(asBytes(input));
        await stdin.drain();
      }
    } catch (e) {
      if (!(e instanceof OSError && (e.errno === EPIPE || e.errno === ECONNRESET))) throw e;
    }
    stdin.close();
  }

  /** Read `stream` to EOF, then close the pipe transport of `fd`. */
  private async _readStream(fd: number, stream: StreamReader): Promise<Uint8Array> {
    const output = await stream.read();
    this._transport.getPipeTransport(fd)?.close();
    return output;
  }

  /**
   * `using`: close the child's transport when the scope ends: its pipes close and a child
   * still running is killed (SIGKILL), as asyncio's transport close() does.
   */
  [Symbol.dispose](): void {
    this._transport.close();
  }

  /** `await using`: as `using`, then wait until the child is reaped and its pipes are closed. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this._transport[Symbol.asyncDispose]();
  }

  /** `<Process pid>`, for logs. */
  toString(): string {
    return `<Process ${this.pid}>`;
  }
}

function subprocessLoop(): BaseEventLoop {
  return getRunningLoop();
}

/**
 * Start `program` with `args` (asyncio.create_subprocess_exec): `rest` is `...args` optionally
 * followed by options ({stdin, stdout, stderr, cwd, env, limit}); the streams default to
 * inheriting this process's (null), PIPE makes a stream.
 */
export async function createSubprocessExec(
  program: string,
  ...rest: unknown[]
): Promise<Process> {
  const [args, options] = splitArgs<ProcessOptions>(rest);
  const { limit, ...loopOptions } = options;
  const loop = subprocessLoop();
  const [transport, protocol] = await loop.subprocessExec(
    () => new SubprocessStreamProtocol(limit, loop),
    program,
    ...(args as string[]),
    withInheritDefaults(loopOptions),
  );
  return new Process(transport, protocol, loop);
}

/** Run `cmd` with /bin/sh -c (asyncio.create_subprocess_shell); options as createSubprocessExec. */
export async function createSubprocessShell(
  cmd: string,
  options: ProcessOptions = {},
): Promise<Process> {
  const { limit, ...loopOptions } = options;
  const loop = subprocessLoop();
  const [transport, protocol] = await loop.subprocessShell(
    () => new SubprocessStreamProtocol(limit, loop),
    cmd,
    withInheritDefaults(loopOptions),
  );
  return new Process(transport, protocol, loop);
}

/** asyncio.subprocess's defaults: an omitted stream is inherited (None), not a pipe. */
function withInheritDefaults(options: SubprocessOptions): SubprocessOptions {
  return {
    ...options,
    stdin: options.stdin ?? null,
    stdout: options.stdout ?? null,
    stderr: options.stderr ?? null,
  };
}
