/**
 * Accepting connections for a Server with accept operations (asyncio proactor_events'
 * _start_serving), for a Proactor without readiness polling (IOCP): one multishot accept per
 * listening socket, re-submitted when the proactor ends it; each accepted socket becomes a
 * transport through Server._acceptConnection, as on the readiness path.
 */
import { LINUX_ERRNO } from "../../ffi/errno_linux.ts";
import { decodeSockaddr } from "../../ffi/sockaddr.ts";
import { SOCK_CLOEXEC, SOCK_NONBLOCK } from "../../ffi/socket_constants.ts";
import { osError } from "../../ffi/libc.ts";
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import type { CompletionTarget } from "./proactor.ts";
import type { ProactorHost } from "./proactor.ts";
import type { AcceptingServer } from "../transports/transport_loop.ts";
import type { Socket } from "../net/socket.ts";

// Linux errno values (ffi/errno_linux.ts), the Proactor contract's: ECANCELED..ECONNRESET are a
// peer that gave up before its connection was accepted.
const { ECANCELED, ECONNABORTED, ECONNRESET, EINTR, EAGAIN } = LINUX_ERRNO;

/** How long to wait after a failed accept (asyncio's ACCEPT_RETRY_DELAY). */
const ACCEPT_RETRY_DELAY = 1;

function restart(accepts: ListenerAccepts): void {
  accepts.start();
}

/** The accept operation of one listening socket. */
export class ListenerAccepts implements CompletionTarget {
  private op = 0;
  private stopped = false;

  constructor(
    private readonly loop: AbstractEventLoop & ProactorHost,
    private readonly server: AcceptingServer,
    private readonly listener: Socket,
  ) {}

  start(): void {
    if (this.stopped || this.listener.fileno() < 0) return;
    this.op = this.loop._proactor.accept(this.listener.fileno(), SOCK_NONBLOCK | SOCK_CLOEXEC, true, this, 0);
  }

  /** Cancel the accept in flight; its last completion is ignored. */
  stop(): void {
    this.stopped = true;
    if (this.op !== 0) this.loop._proactor.cancel(this.op);
  }

  /** @ignore */
  _ioComplete(_tag: number, res: number, more: boolean, _op: number, buffer: Uint8Array | undefined): void {
    if (!more) this.op = 0;
    if (res >= 0) {
      const conn = this.listener._adopt(res);
      if (this.stopped) {
        conn.close();
        return;
      }
      const length = this.loop._proactor.completionAddressLength;
      const addr = buffer !== undefined && length > 0 ? decodeSockaddr(buffer, length) : null;
      this.server._acceptConnection(conn, addr);
    } else if (!this.stopped && res !== -ECANCELED && res !== -ECONNABORTED && res !== -ECONNRESET &&
      res !== -EINTR && res !== -EAGAIN) {
      this.loop.callExceptionHandler({
        message: "Accept failed on a server socket",
        exception: osError("accept", -res),
        socket: this.listener,
      });
      // Out of resources, most likely: try again later, as the readiness path does.
      if (!more) this.loop.callLater(ACCEPT_RETRY_DELAY, restart, this);
      return;
    }
    if (!more && !this.stopped) this.start();
  }
}
