/**
 * Picks this OS's Selector. The only module above platform/ that names one.
 *
 * The default is the OS's own scalable poller: epoll on Linux, kqueue on macOS and FreeBSD,
 * poll(2) on any other Unix. On Linux `kqueue` is libkqueue's userspace kqueue, where installed
 * (ffi/libkqueue.ts), so the kqueue selector runs the test suite there too. `newEventLoop({ selector })` or the AIOLOOP_SELECTOR environment
 * variable (`epoll`, `kqueue` or `poll`) chooses another, so the whole test suite can run on
 * each implementation: `AIOLOOP_SELECTOR=poll deno test -A tests/`.
 */
import type { KqueueSystem } from "../ffi/kqueue.ts";
import { libkqueuePath, libkqueueSystem } from "../ffi/libkqueue.ts";
import { isWindows, osName, readEnv } from "../ffi/runtime.ts";
import { ValueError } from "../loop/core/errors.ts";
import type { Selector } from "../loop/selector/selector.ts";
import { KqueueSelector } from "./darwin.ts";
import { EpollSelector } from "./linux.ts";
import { PollSelector } from "./poll.ts";

/** A Selector implementation by name. */
export type SelectorKind = "epoll" | "kqueue" | "poll";

/** What `newEventLoop({ selector })` accepts: an implementation's name or a Selector. */
export type SelectorChoice = SelectorKind | Selector;

const KINDS: readonly string[] = ["epoll", "kqueue", "poll"];

/** The implementation this OS uses when nothing else is asked for. */
export function nativeSelectorKind(): SelectorKind {
  if (osName === "linux") return "epoll";
  if (osName === "darwin" || osName === "freebsd") return "kqueue";
  return "poll";
}

/** A new Selector of `kind` (ValueError for an unknown name; OSError if this OS lacks it). */
export function createSelector(kind: SelectorKind): Selector {
  switch (kind) {
    case "epoll":
      if (osName !== "linux") throw new ValueError(`the epoll selector needs Linux, not ${osName}`);
      return new EpollSelector();
    case "kqueue":
      if (osName === "linux") return new KqueueSelector(linuxKqueue());
      if (osName !== "darwin" && osName !== "freebsd") {
        throw new ValueError(`the kqueue selector needs macOS or FreeBSD, not ${osName}`);
      }
      return new KqueueSelector();
    case "poll":
      if (isWindows) throw new ValueError("the poll selector needs a Unix");
      return new PollSelector();
    default:
      throw new ValueError(
        `unknown selector ${JSON.stringify(kind)}: expected one of ${KINDS.join(", ")}`,
      );
  }
}

/** On Linux, kqueue is libkqueue's (ffi/libkqueue.ts), where it is installed. */
function linuxKqueue(): KqueueSystem {
  try {
    return libkqueueSystem();
  } catch (e) {
    throw new ValueError(
      `the kqueue selector needs macOS or FreeBSD, or libkqueue on Linux, and loading ` +
        `${libkqueuePath()} failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}

/** The kind AIOLOOP_SELECTOR asks for, else this OS's native one. */
export function defaultSelectorKind(): SelectorKind {
  const asked = readEnv("AIOLOOP_SELECTOR");
  if (asked === undefined || asked === "") return nativeSelectorKind();
  if (!KINDS.includes(asked)) {
    throw new ValueError(
      `AIOLOOP_SELECTOR=${asked} is not a selector: expected one of ${KINDS.join(", ")}`,
    );
  }
  return asked as SelectorKind;
}

/** A new Selector for this OS (or the one AIOLOOP_SELECTOR names). */
export function defaultSelector(): Selector {
  if (isWindows) {
    throw new Error(
      "aioloop has no selector for Windows (epoll, kqueue and poll are Unix selectors): use " +
        "the proactor loop, newEventLoop()'s default there (IOCP)",
    );
  }
  return createSelector(defaultSelectorKind());
}

/** `choice` as a Selector: a name is created, a Selector is used as given. */
export function selectorFrom(choice: SelectorChoice | undefined): Selector {
  if (choice === undefined) return defaultSelector();
  if (typeof choice === "string") return createSelector(choice);
  return choice;
}
