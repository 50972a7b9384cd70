/**
 * The system calls transports make on every readiness event — recv(2) and send(2) on sockets,
 * read(2) and write(2) on pipes — taken straight from the C library's bindings (ffi/libc.ts),
 * here and nowhere else in loop/.
 *
 * Why not through Socket (loop/net/socket.ts) and the socket-calls seam (loop/net/socket_calls.ts,
 * platform/default_socket.ts): those check their arguments, turn failures into OSError and go to
 * Winsock on Windows. The hot path — readiness, one system call, the protocol's callback — must
 * cost one FFI call and allocate nothing; the transports read errno (lastErrno) only when a call
 * returns -1. The callers are POSIX-only: the readiness transports (selector_socket.ts,
 * unix_pipes.ts) and the proactor socket transport's inline send on io_uring
 * (proactor_socket.ts); on Windows the IOCP transports submit operations instead.
 */
import { libc } from "../../ffi/libc.ts";

/** recv(2): the byte count, 0 at end of stream, -1 with errno set. */
export const fdRecv: typeof libc.recv = libc.recv;
/** send(2): the byte count, -1 with errno set. */
export const fdSend: typeof libc.send = libc.send;
/** read(2): the byte count, 0 at end of file, -1 with errno set. */
export const fdRead: typeof libc.read = libc.read;
/** write(2): the byte count, -1 with errno set. */
export const fdWrite: typeof libc.write = libc.write;
