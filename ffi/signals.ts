/**
 * Signal numbers of this OS (ffi/os/: Linux <asm-generic/signal.h>, macOS and FreeBSD
 * <sys/signal.h>): SIGUSR1 is 10 on Linux and 30 on BSD, SIGCHLD 17 and 20.
 */
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";

/** Signal name → number on this OS. */
export const signalNumbers: Record<string, number> = { ...osTable.signals };

/** One past the highest signal number (NSIG: 65 on Linux, 32 on macOS, 128 on FreeBSD). */
export const NSIG: number = osTable.constants.NSIG!;

/** The signals no process can catch on `table`'s OS: SIGKILL and SIGSTOP (signal(7), sigaction(2)). */
export function uncatchableSignals(table: OsTable): Set<number> {
  return new Set([table.signals.SIGKILL, table.signals.SIGSTOP]);
}

/** Signals no process can catch: their disposition cannot change. */
export const UNCATCHABLE: Set<number> = uncatchableSignals(osTable);
