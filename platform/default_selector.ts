/**
 * Picks this OS's Selector. The only module above platform/ that names one.
 */
import { osName } from "../ffi/runtime.ts";
import type { Selector } from "../loop/selector.ts";
import { EpollSelector } from "./linux.ts";

/** A new Selector for this OS: epoll on Linux. */
export function defaultSelector(): Selector {
  if (osName === "linux") return new EpollSelector();
  throw new Error(
    `aioloop has no event loop backend for ${osName} yet (Linux/epoll is supported; ` +
      "kqueue for macOS and IOCP for Windows are planned)",
  );
}
