/**
 * How a subprocess transport (loop/process/subprocess.ts) starts a child and learns of its exit, as one
 * interface each OS implements in platform/ (posix_process.ts: posix_spawn and a pidfd;
 * windows_process.ts: CreateProcessW, named pipes and a job object reporting to the completion
 * port), chosen by platform/default_process.ts. The transport itself stays OS-neutral: argument
 * checks, the pipe transports, the order of the protocol's callbacks, wait() and close().
 *
 * Vocabulary: signal numbers are Linux's (ffi/signals.ts), the loop's one vocabulary; the pipe
 * ends are fds on POSIX and HANDLE values on Windows, carried as numbers either way.
 */
import type { ChildStdio } from "../../ffi/spawn.ts";
import type { ReadinessLoop } from "../core/readiness_loop.ts";
import type { Proactor } from "../proactor/proactor.ts";

/**
 * What a child's exit watch may use of its loop: fd readiness (POSIX: the pidfd), or the loop's
 * proactor where it has one (Windows: the job object reports to the IOCP completion port).
 */
export interface ChildWatchLoop extends ReadinessLoop {
  /** The completion engine of a ProactorEventLoop; absent on a selector loop. */
  readonly _proactor?: Proactor;
}

/** What to start (checked already by loop/process/subprocess_options.ts). */
export interface ChildRequest {
  /** The program as the caller named it (a path, or a name to look up); unused with `shell`. */
  program: string;
  /** The arguments, argv[0] included; unused with `shell`. */
  argv: string[];
  /**
   * A command for the OS's shell (subprocessShell: /bin/sh -c on POSIX, cmd.exe /c on
   * Windows, as asyncio), or null to run `program`.
   */
  shell: string | null;
  /** The child's whole environment; null: this process's. */
  env: Record<string, string> | null;
  /** The child's working directory; null: this process's. */
  cwd: string | null;
  /** What the child's stdin, stdout and stderr become; "pipe": a new pipe to this process. */
  stdio: (ChildStdio | "pipe")[];
  /** Start the child in a new session (POSIX setsid; ignored on Windows, as Popen does). */
  startNewSession: boolean;
}

/** A started child, until its exit has been reported. */
export interface ChildProcess {
  /** The child's process id. */
  readonly pid: number;
  /**
   * This process's end of each "pipe" of the request, by child fd (0, 1, 2); -1 where the
   * request had no pipe. The caller owns them from now on (its pipe transports close them).
   */
  readonly pipes: readonly number[];
  /**
   * Start watching for the exit: `onExit(returncode)` runs once, on the loop's thread, when
   * the child has ended; the OS resources of the watch are released before it runs. On failure
   * this throws, after killing the child and closing the pipe ends.
   */
  watch(loop: ChildWatchLoop, onExit: (returncode: number) => void): void;
  /**
   * Deliver signal `signal` (a Linux number, checked to be in range) to the running child.
   * ValueError for one this OS cannot deliver; nothing if the child has just exited.
   */
  sendSignal(signal: number): void;
}

/** One OS's way of starting children. */
export interface ProcessCalls {
  /** Start a child: OSError on failure (ENOENT: no such program, or no such cwd). */
  spawn(request: ChildRequest): ChildProcess;
}
