/**
 * Whether this OS has the POSIX signals loop.addSignalHandler() catches (loop/process/signals.ts).
 * Windows has none a process can be sent (no kill(2); Ctrl+C and Ctrl+Break are console
 * events), and asyncio's Windows event loops raise NotImplementedError from
 * add_signal_handler and remove_signal_handler; so do aioloop's there.
 */
import { isWindows } from "../ffi/runtime.ts";

/** null where signal handlers can be installed; otherwise why not, in one sentence. */
export const signalHandlersUnavailableReason: string | null = isWindows
  ? "Windows has no POSIX signals: addSignalHandler/removeSignalHandler are not implemented there, as in asyncio"
  : null;
