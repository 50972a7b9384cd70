/**
 * openFd(fd) → [StreamReader, StreamWriter], and its one-way forms openReadFd/openWriteFd: a
 * pty, a serial port, a TUN device, a pipe or a FIFO as streams in one call, over the loop's
 * pipe transports (connectReadPipe/connectWritePipe) — what asyncio users write by hand with
 * StreamReaderProtocol and FlowControlMixin.
 *
 * The streams own the fd: it is made non-blocking and closed when they close. A read-write fd
 * gets two transports, so the writer's is given a duplicate of the fd (F_DUPFD_CLOEXEC; the
 * open file description, and so O_NONBLOCK, is shared): each transport closes its own fd, and
 * neither closes a number the other may see reused. writer.close() closes both, after the
 * buffered bytes are written; the reader's end (EOF, or a pty controller's OSError EIO once
 * its terminal closes, as asyncio's pipe transport reports it) leaves the writer open, as a
 * socket's half-close does.
 */
import { type KeysOf, refuseUnknownOptions } from "../core/options.ts";
import { fcntlInt } from "../../ffi/files.ts";
import { closeFd, F_GETFL } from "../../ffi/libc.ts";
import { osTable } from "../../ffi/os/current.ts";
import type { EventLoop } from "../event_loop.ts";
import { describe } from "../core/describe.ts";
import { ValueError } from "../core/errors.ts";
import type { AbstractFuture } from "../core/abstract_loop.ts";
import { getRunningLoop } from "../events.ts";
import type { ReadTransport, WriteTransport } from "../transports/base.ts";
import { StreamReader, StreamReaderProtocol, StreamWriter } from "./streams.ts";

/** Options of openFd/openReadFd/openWriteFd. */
export interface OpenFdOptions {
  /** The StreamReader's buffer limit (default 64 KiB), as openConnection's. */
  limit?: number | undefined;
}

/** @ignore The keys of OpenFdOptions, for refuseUnknownOptions(). */
export const OPEN_FD_OPTION_KEYS: KeysOf<OpenFdOptions> = { limit: true };

const C = osTable.constants;
// <fcntl.h> O_ACCMODE: the access-mode bits of F_GETFL (3 on every OS here).
const O_ACCMODE = C.O_RDONLY! | C.O_WRONLY! | C.O_RDWR!;

type Access = "read" | "write" | "read-write";

/** Check `fd` is an integer open for `need`: TypeError, ValueError, or OSError EBADF. */
function checkFd(fn: string, fd: unknown, need: Access): number {
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new TypeError(`${fn}: fd must be a non-negative integer, got ${describe(fd)}`);
  }
  const mode = fcntlInt(fd, F_GETFL, 0) & O_ACCMODE;
  const has: Access = mode === C.O_RDONLY ? "read" : mode === C.O_WRONLY ? "write" : "read-write";
  if (need !== has && has !== "read-write") {
    const hint = has === "read" ? "openReadFd" : "openWriteFd";
    throw new ValueError(`${fn}: fd ${fd} is open for ${has} only, not ${need}; use ${hint}`);
  }
  return fd;
}

function checkOptions(fn: string, options: OpenFdOptions): OpenFdOptions {
  refuseUnknownOptions(options, OPEN_FD_OPTION_KEYS, `${fn}()`);
  return options;
}

/**
 * The writer's protocol: a StreamReaderProtocol for drain() and waitClosed() (its own reader
 * gets nothing). With a linked read side (openFd), losing the write side closes the read
 * transport too, and waitClosed() waits for both.
 */
class WriterProtocol extends StreamReaderProtocol {
  private _readTransport: ReadTransport | null = null;
  private _bothClosed: AbstractFuture<void> | null = null;
  private readonly _loopRef: EventLoop;

  constructor(loop: EventLoop) {
    super(new StreamReader({ loop }), null, loop);
    this._loopRef = loop;
  }

  /** Link the read side of the same fd: its transport and protocol. */
  link(transport: ReadTransport, protocol: StreamReaderProtocol): void {
    this._readTransport = transport;
    const own = super._getCloseWaiter();
    const both = this._loopRef.createFuture<void>();
    const settle = () => {
      if (both.done() || !own.done() || !protocol._getCloseWaiter().done()) return;
      const exc = own.exception();
      if (exc === undefined) both.setResult();
      else both.setException(exc);
    };
    own.addDoneCallback(settle);
    protocol._getCloseWaiter().addDoneCallback(settle);
    this._bothClosed = both;
  }

  override connectionLost(exc: Error | null): void {
    super.connectionLost(exc);
    const reader = this._readTransport;
    this._readTransport = null;
    if (reader !== null && !reader.isClosing()) reader.close();
  }

  /** @ignore waitClosed(): the write side's close, and the read side's when linked. */
  override _getCloseWaiter(): AbstractFuture<void> {
    return this._bothClosed ?? super._getCloseWaiter();
  }
}

async function readSide(loop: EventLoop, fd: number, limit: number | undefined) {
  const reader = new StreamReader(limit === undefined ? { loop } : { limit, loop });
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = await loop.connectReadPipe(() => protocol, fd);
  return { reader, transport, protocol };
}

async function writeSide(loop: EventLoop, fd: number, reader: StreamReader | null) {
  const protocol = new WriterProtocol(loop);
  const [transport] = await loop.connectWritePipe(() => protocol, fd);
  const writer = new StreamWriter(transport, protocol, reader, loop);
  return { writer, protocol };
}

/**
 * `fd`, open for reading and writing (a pty, a serial port, a TUN device, a socket), as
 * [StreamReader, StreamWriter] on the running loop. The streams own `fd` (see the module
 * comment): writer.close() closes it. TypeError for a non-integer fd or options; ValueError
 * for an fd open one way only (use openReadFd/openWriteFd) or a regular file or directory;
 * OSError EBADF for an fd that is not open.
 */
export async function openFd(
  fd: number,
  options: OpenFdOptions = {},
): Promise<[StreamReader, StreamWriter<WriteTransport>]> {
  const { limit } = checkOptions("openFd", options);
  checkFd("openFd", fd, "read-write");
  const loop = getRunningLoop();
  const writeFd = fcntlInt(fd, C.F_DUPFD_CLOEXEC!, 0);
  let reader: StreamReader;
  let readTransport: ReadTransport;
  let readProtocol: StreamReaderProtocol;
  try {
    ({ reader, transport: readTransport, protocol: readProtocol } = await readSide(loop, fd, limit));
  } catch (e) {
    closeFd(writeFd); // ours; `fd` stays the caller's
    throw e;
  }
  try {
    const { writer, protocol } = await writeSide(loop, writeFd, reader);
    protocol.link(readTransport, readProtocol);
    return [reader, writer];
  } catch (e) {
    closeFd(writeFd);
    readTransport.close(); // it owns `fd` by now
    throw e;
  }
}

/**
 * The read end `fd` (a pipe, FIFO, pty, character device or socket) as a StreamReader on the
 * running loop; it owns `fd` and closes it at end of input. Errors as openFd.
 */
export async function openReadFd(fd: number, options: OpenFdOptions = {}): Promise<StreamReader> {
  const { limit } = checkOptions("openReadFd", options);
  checkFd("openReadFd", fd, "read");
  return (await readSide(getRunningLoop(), fd, limit)).reader;
}

/**
 * The write end `fd` (a pipe, FIFO, pty, character device or socket) as a StreamWriter on the
 * running loop, with drain() for back-pressure; it owns `fd`: close() closes it after the
 * buffered bytes. Errors as openFd.
 */
export async function openWriteFd(fd: number, options: OpenFdOptions = {}): Promise<StreamWriter<WriteTransport>> {
  checkOptions("openWriteFd", options);
  checkFd("openWriteFd", fd, "write");
  return (await writeSide(getRunningLoop(), fd, null)).writer;
}
