/**
 * Accepting connections by readiness (asyncio selector_events' _start_serving and
 * _accept_connection): the listener is watched for reading, and each readiness event accepts up
 * to the backlog's worth of connections, each wrapped by the Server (_acceptConnection). When
 * accept(2) runs out of fds or memory the listener rests for ACCEPT_RETRY_DELAY, as asyncio's.
 *
 * The selector loop serves every listener this way, and so does the proactor loop where its
 * proactor polls readiness (io_uring); an IOCP proactor accepts with operations instead
 * (loop/proactor/proactor_server.ts).
 */
import type { SockAddr } from "../../ffi/sockaddr.ts";
import { OSError } from "../core/errors.ts";
import type { AbstractEventLoop } from "../core/abstract_loop.ts";
import type { Socket } from "../net/socket.ts";
import type { AcceptingServer } from "../transports/transport_loop.ts";

/** accept(2) failures that mean "out of resources": pause accepting for a while. */
const RESOURCE_ERRORS = new Set(["EMFILE", "ENFILE", "ENOBUFS", "ENOMEM"]);
/** How long to stop accepting after running out of fds (asyncio's ACCEPT_RETRY_DELAY). */
const ACCEPT_RETRY_DELAY = 1;

/** Accept on `listener` for `server` whenever it is readable; returns how to stop. */
export function serveByReadiness(loop: AbstractEventLoop, server: AcceptingServer, listener: Socket): () => void {
  loop.addReader(listener, acceptReady, loop, server, listener);
  return () => {
    loop.removeReader(listener);
  };
}

/** Accept up to `backlog` pending connections (one readiness event). */
function acceptReady(loop: AbstractEventLoop, server: AcceptingServer, listener: Socket): void {
  for (let i = 0; i < server._backlog; i++) {
    let conn: Socket, addr: SockAddr;
    try {
      [conn, addr] = listener.accept();
    } catch (e) {
      if (e instanceof OSError && (e.code === "EAGAIN" || e.code === "EINTR" ||
        e.code === "ECONNABORTED")) {
        if (e.code === "ECONNABORTED") continue;
        return;
      }
      loop.callExceptionHandler({
        message: "socket.accept() out of system resource",
        exception: e,
        socket: listener,
      });
      if (e instanceof OSError && RESOURCE_ERRORS.has(e.code)) {
        loop.removeReader(listener);
        loop.callLater(ACCEPT_RETRY_DELAY, resumeAccepting, loop, server, listener);
      }
      return;
    }
    server._acceptConnection(conn, addr);
  }
}

function resumeAccepting(loop: AbstractEventLoop, server: AcceptingServer, listener: Socket): void {
  if (server._acceptsOn(listener)) loop.addReader(listener, acceptReady, loop, server, listener);
}
