/**
 * Picks this OS's socket calls for loop/net/socket.ts: Winsock on Windows, the C library
 * elsewhere. Both modules bind their libraries on first use, so importing either is safe.
 */
import { isWindows } from "../ffi/runtime.ts";
import type { SocketCalls } from "../loop/net/socket_calls.ts";
import { posixSocketCalls } from "./posix_socket.ts";
import { windowsSocketCalls } from "./windows_socket.ts";

/** The socket calls of this OS. */
export const socketCalls: SocketCalls = isWindows ? windowsSocketCalls : posixSocketCalls;
