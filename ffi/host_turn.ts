/**
 * The host turn: how a busy loop hands the JS thread back to the host runtime so that the
 * runtime polls its own I/O (Deno.serve, fetch, node:http sockets) and runs the callbacks that
 * I/O wakes; and the thread CPU clock the loop reads to see whether the host had work.
 *
 * The runtimes differ (measured on this machine; README "Living inside the host runtime"):
 * - Bun polls its sockets on every macrotask turn, so a `setImmediate` turn is enough.
 * - Deno drives its ops on a tokio current-thread scheduler, which polls its I/O reactor only
 *   when the thread has nothing runnable (it parks) or after 61 polls of runnable tasks. A
 *   `setImmediate` turn leaves the runtime runnable, so the reactor waited for 61 of them:
 *   with a turn every millisecond a `fetch` to a server in the same process took ~125–450 ms
 *   (DENO_TOKIO_EVENT_INTERVAL=8 or 1 shortened it in proportion, which confirmed the cause).
 *   Letting the runtime park costs: a timer turn idles the thread 1–2 ms (Deno's timers have
 *   millisecond granularity), a short sleep on a runtime thread (a `nonblocking` FFI call)
 *   ~90 µs to milliseconds on a loaded machine, as the JS thread gives up its CPU. So the turn
 *   is I/O the reactor itself must deliver: one byte written to a loopback TCP connection this
 *   turn owns, and a read of it from the other end. The read cannot complete before the
 *   reactor has polled (tokio forgets a socket's readiness once a read comes up short), the
 *   runtime parks in epoll_wait, which returns at once because the byte is there, and with it
 *   every other ready socket of the host. 13 µs a turn back to back (50–65 µs after a
 *   millisecond of loop work on a loaded machine, a setImmediate turn 35–40 µs there), and the
 *   thread keeps its CPU.
 *   Without permission to listen on 127.0.0.1 (--allow-net) the turn falls back to the
 *   runtime-thread sleep, which lets the reactor poll too, at the cost of a thread hop.
 * - Windows (IOCP under Deno or Bun) keeps `setImmediate`: untested there.
 */
import { clearTimeout, setImmediate, setTimeout } from "node:timers";
import { libcPath } from "./libc.ts";
import { isWindows, openLibrary, osName, runtimeName } from "./runtime.ts";

/** Gives the host runtime turns in which it also polls its own I/O. */
export interface HostTurn {
  /** One macrotask turn for the host; resolves when the loop may continue. */
  turn(): Promise<unknown>;
  /**
   * The loop parks: release what the turns hold if it stays parked a while (on Deno the
   * loopback connection, after IDLE_RELEASE_MS; a later turn reopens it).
   */
  idle(): void;
  /** Release what the turns hold now (the loop stops or closes); a later turn reopens it. */
  close(): void;
}

/**
 * How long a parked loop keeps Deno's loopback connection: long enough that a loop going
 * between busy and idle does not open a connection each time (each close leaves a socket in
 * TIME_WAIT), short enough that an idle loop holds no fds for the turns it no longer needs.
 */
const IDLE_RELEASE_MS = 100;

/**
 * How long the fallback turn sleeps on a runtime thread, in µs (Linux adds the thread's timer
 * slack, 50 µs by default: prctl(2) PR_SET_TIMERSLACK). It must outlast the runtime's way into
 * its park: a call that returns at once (getpid) is usually done before, and the reactor is
 * skipped (measured: 5 fetches answered in a second, against ~300 with the sleep).
 */
const SLEEP_TURN_US = 10;

/**
 * CLOCK_THREAD_CPUTIME_ID, the calling thread's CPU time, per OS: Linux <linux/time.h> 3,
 * macOS <time.h> _CLOCK_THREAD_CPUTIME_ID 16, FreeBSD <sys/_clock_id.h> 14.
 */
const CLOCK_THREAD_CPUTIME_ID: number | undefined = (
  { linux: 3, darwin: 16, freebsd: 14 } as Record<string, number>
)[osName];

const lib = isWindows ? null : openLibrary(libcPath, {
  // int clock_gettime(clockid_t, struct timespec *): clock_gettime(2)
  clock_gettime: { args: ["i32", "buffer"], result: "i32" },
});

/** usleep(3) on a runtime thread: Deno's fallback turn. */
const sleepOnRuntimeThread = isWindows || runtimeName !== "deno" ? null : openLibrary(libcPath, {
  // int usleep(useconds_t)
  usleep: { args: ["u32"], result: "i32", nonblocking: true },
}).symbols.usleep as (us: number) => Promise<number>;

function immediateTurn(): Promise<unknown> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Bun, Windows: a setImmediate turn. */
const immediateTurns: HostTurn = { turn: immediateTurn, idle() {}, close() {} };

// deno-lint-ignore no-explicit-any
type DenoConn = any;
// deno-lint-ignore no-explicit-any
const denoNs = (globalThis as any).Deno;

/** Deno: a byte through a loopback TCP connection per turn (see the module comment). */
class LoopbackTurns implements HostTurn {
  private writer: DenoConn = null;
  private reader: DenoConn = null;
  private opening: Promise<void> | null = null;
  private noNet = false;
  private closes = 0;
  private releaseTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly one = new Uint8Array(1);
  private readonly inbox = new Uint8Array(64);

  turn(): Promise<unknown> {
    this.cancelRelease();
    if (this.reader !== null) return this.writer.write(this.one).then(() => this.reader.read(this.inbox));
    // Asked without the permission, Deno.listen would prompt the user on a terminal.
    this.noNet ||= denoNs.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted";
    if (this.noNet) return sleepOnRuntimeThread!(SLEEP_TURN_US);
    // Opening (listen, connect, accept) waits for the reactor too: it is this turn.
    return this.opening ??= this.open();
  }

  private async open(): Promise<void> {
    let listener: DenoConn = null;
    const closes = this.closes;
    try {
      listener = denoNs.listen({ hostname: "127.0.0.1", port: 0 });
      const [writer, reader] = await Promise.all([
        denoNs.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
        listener.accept(),
      ]);
      writer.setNoDelay(true); // one byte a turn, never held back for an ACK (Nagle)
      if (closes !== this.closes) {
        writer.close(); // close() came while this was opening
        reader.close();
      } else {
        this.writer = writer;
        this.reader = reader;
      }
    } catch {
      this.noNet = true; // cannot listen on 127.0.0.1: fall back to the sleep turn
    } finally {
      listener?.close();
      this.opening = null;
    }
  }

  idle(): void {
    if (this.reader === null || this.releaseTimer !== undefined) return;
    this.releaseTimer = setTimeout(() => {
      this.releaseTimer = undefined;
      this.close();
    }, IDLE_RELEASE_MS);
    this.releaseTimer.unref(); // never what keeps the process alive
  }

  private cancelRelease(): void {
    if (this.releaseTimer === undefined) return;
    clearTimeout(this.releaseTimer);
    this.releaseTimer = undefined;
  }

  close(): void {
    this.cancelRelease();
    this.closes++;
    // The accepted end first: the TIME_WAIT a close leaves behind then holds the listener's
    // port, not one of the connecting side's ephemeral ports.
    this.reader?.close();
    this.writer?.close();
    this.writer = this.reader = null;
  }
}

/** Turns for one loop, by the means that suits this runtime. */
export function openHostTurn(): HostTurn {
  return sleepOnRuntimeThread !== null ? new LoopbackTurns() : immediateTurns;
}

/** `struct timespec { time_t tv_sec; long tv_nsec; }`: two 64-bit words on every 64-bit ABI. */
const timespec = new BigInt64Array(2);

/**
 * CPU time the calling (JS) thread has used, in µs; 0 where the clock is missing (Windows), so
 * that no turn looks like host work there.
 */
export function threadCpuMicros(): number {
  if (lib === null || CLOCK_THREAD_CPUTIME_ID === undefined) return 0;
  lib.symbols.clock_gettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec[0]) * 1e6 + Number(timespec[1]) / 1e3;
}
