/**
 * UNIX signal handlers for a loop (asyncio unix_events' add_signal_handler).
 *
 * The runtime's own signal API (node:process `on("SIGINT")`, implemented by Deno and Bun)
 * catches the signal and calls us on the JS thread, never inside the OS signal handler; we only
 * queue the user's callback on the loop, which wakes it if parked. Several deliveries before
 * the callback runs coalesce into one call (a "delivery burst"). Removing the last listener
 * gives the signal back its default disposition in both runtimes (measured: SIGTERM then
 * terminates the process again).
 */
import process from "node:process";
import { NSIG, signalNumbers, UNCATCHABLE } from "../../ffi/signals.ts";
import type { AbstractEventLoop, AbstractHandle } from "../core/abstract_loop.ts";
import { signalHandlersUnavailableReason } from "../../platform/default_signals.ts";
import { NotImplementedError, RuntimeError, ValueError } from "../core/errors.ts";
import { type Callback, checkNotCoroutine, Handle } from "../core/handles.ts";

const signalNames: Record<number, string> = Object.fromEntries(
  Object.entries(signalNumbers).map(([name, num]) => [num, name]),
);

/** A signal given as a number (15) or a name ("SIGTERM"). */
export type SignalLike = number | string;

/**
 * NotImplementedError where this OS has no signal handlers (Windows, as asyncio's loops
 * there): called first by addSignalHandler and removeSignalHandler, before any argument check.
 */
export function checkSignalHandlersAvailable(): void {
  if (signalHandlersUnavailableReason !== null) {
    throw new NotImplementedError(signalHandlersUnavailableReason);
  }
}

/** The signal's number, or ValueError if it is invalid (asyncio _check_signal). */
export function signalNumber(sig: SignalLike): number {
  let num: number;
  if (typeof sig === "string") {
    const named = signalNumbers[sig];
    if (named === undefined) throw new ValueError(`unknown signal name ${JSON.stringify(sig)}`);
    num = named;
  } else if (typeof sig === "number" && Number.isInteger(sig)) {
    num = sig;
    if (num < 1 || num >= NSIG) throw new ValueError(`sig ${num} out of range(1, ${NSIG})`);
  } else {
    throw new TypeError(`sig must be a signal number or name, got ${String(sig)}`);
  }
  return num;
}

interface Installed {
  name: string;
  listener: () => void;
  handle: Handle;
  pending: AbstractHandle | null;
}

/** The signal handlers of one loop. */
export class SignalHandlers {
  private readonly installed = new Map<number, Installed>();
  constructor(private readonly loop: AbstractEventLoop) {}

  add(sig: SignalLike, callback: Callback, args: unknown[]): void {
    const num = signalNumber(sig);
    if (typeof callback !== "function") {
      throw new TypeError("a callable object was expected by addSignalHandler()");
    }
    checkNotCoroutine(callback, "addSignalHandler");
    // asyncio: signal.signal() fails with EINVAL for these, reported as RuntimeError.
    if (UNCATCHABLE.has(num)) throw new RuntimeError(`sig ${num} cannot be caught`);
    const name = signalNames[num];
    if (name === undefined) {
      throw new RuntimeError(`signal ${num} has no name this runtime can listen to`);
    }
    this.remove(num);
    const entry: Installed = {
      name,
      handle: new Handle(callback, args, this.loop),
      pending: null,
      listener: () => this.delivered(entry),
    };
    try {
      process.on(name, entry.listener);
    } catch (e) {
      throw new RuntimeError(`cannot install a handler for ${name}: ${(e as Error).message}`);
    }
    this.installed.set(num, entry);
  }

  private delivered(entry: Installed): void {
    if (entry.pending !== null || this.loop.isClosed()) return;
    entry.pending = this.loop.callSoonThreadsafe(() => {
      entry.pending = null;
      entry.handle._run();
    });
  }

  remove(sig: SignalLike): boolean {
    const num = signalNumber(sig);
    const entry = this.installed.get(num);
    if (entry === undefined) return false;
    this.installed.delete(num);
    process.off(entry.name, entry.listener);
    entry.pending?.cancel();
    return true;
  }

  /** Remove every handler (on loop close). */
  removeAll(): void {
    for (const num of [...this.installed.keys()]) this.remove(num);
  }
}
