/**
 * Children on POSIX (loop/process_calls.ts): posix_spawn (ffi/spawn.ts, never fork() in these
 * multithreaded runtimes) with pipe2 pipes as stdio, and the exit watched through a pidfd
 * registered with the loop's poller (addReader); the child is reaped with waitid(P_PIDFD) for
 * that child only. Neither Deno nor Bun reaps children it did not start (checked: no SIGCHLD
 * handler is installed and our exited child stays a zombie across Deno.Command / Bun.spawn
 * use), so the status is always ours to collect.
 */
import process from "node:process";
import { check, closeFd, libc, O_CLOEXEC } from "../ffi/libc.ts";
import { type ChildStdio, kill, pidfdOpen, pidfdSendSignal, reapPidfd, spawn } from "../ffi/spawn.ts";
import type { BaseEventLoop } from "../loop/base_loop.ts";
import { OSError } from "../loop/errors.ts";
import type { ChildProcess, ChildRequest, ProcessCalls } from "../loop/process_calls.ts";
import { resolveProgram } from "../loop/subprocess_options.ts";

const ESRCH = 3;
const ECHILD = 10;
const SIGKILL = 9;

/** A child started with posix_spawn, watched through its pidfd. */
class PosixChild implements ChildProcess {
  private _loop: BaseEventLoop | null = null;
  private _onExit: ((returncode: number) => void) | null = null;
  private readonly _onReadable = this._reap.bind(this);

  constructor(readonly pid: number, private _pidfd: number, readonly pipes: readonly number[]) {}

  watch(loop: BaseEventLoop, onExit: (returncode: number) => void): void {
    this._loop = loop;
    this._onExit = onExit;
    try {
      loop.addReader(this._pidfd, this._onReadable);
    } catch (e) {
      this.sendSignal(SIGKILL);
      for (const fd of this.pipes) if (fd >= 0) libc.close(fd);
      throw e;
    }
  }

  sendSignal(signal: number): void {
    if (this._pidfd < 0) return;
    try {
      pidfdSendSignal(this._pidfd, signal);
    } catch (e) {
      // Exited but not yet reaped: the race Popen.send_signal also ignores.
      if (!(e instanceof OSError && e.errno === ESRCH)) throw e;
    }
  }

  /** The pidfd became readable: the child terminated. */
  private _reap(): void {
    let returncode: number | null;
    try {
      returncode = reapPidfd(this._pidfd);
    } catch (e) {
      if (!(e instanceof OSError && e.errno === ECHILD)) throw e;
      // Someone else reaped it: as asyncio's child watchers, report 255.
      console.warn(`aioloop: unknown child process pid ${this.pid}, will report returncode 255`);
      returncode = 255;
    }
    if (returncode === null) return;
    this._loop!.removeReader(this._pidfd);
    closeFd(this._pidfd);
    this._pidfd = -1;
    this._onExit!(returncode);
  }
}

/** posix_spawn, pipe2 and pidfds. */
export const posixProcessCalls: ProcessCalls = {
  spawn(request: ChildRequest): ChildProcess {
    const [program, argv] = request.shell !== null
      ? ["/bin/sh", ["/bin/sh", "-c", request.shell]]
      : [resolveProgram(request.program, request.env), request.argv];
    const env = Object.entries(request.env ?? process.env)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`);
    // Parent ends of the pipes we make, and the child ends to close once it has them.
    const parentFds = [-1, -1, -1];
    const childEnds: number[] = [];
    let pid = -1;
    try {
      const stdio = request.stdio.map((w, target): ChildStdio => {
        if (w !== "pipe") return w;
        const fds = new Int32Array(2);
        check(libc.pipe2(fds, O_CLOEXEC), "pipe2");
        // fds[0] is the read end, fds[1] the write end (pipe(2)).
        const [parent, child] = target === 0 ? [fds[1], fds[0]] : [fds[0], fds[1]];
        parentFds[target] = parent;
        childEnds.push(child);
        return { kind: "fd", fd: child };
      }) as [ChildStdio, ChildStdio, ChildStdio];
      pid = spawn({
        program,
        argv,
        env,
        cwd: request.cwd,
        stdio,
        startNewSession: request.startNewSession,
      });
      try {
        return new PosixChild(pid, pidfdOpen(pid), parentFds);
      } catch (e) {
        // Without a pidfd we cannot watch the child: do not leave it running unwatched.
        try {
          kill(pid, SIGKILL);
        } catch { /* already gone */ }
        throw e;
      }
    } catch (e) {
      for (const fd of parentFds) if (fd >= 0) libc.close(fd);
      throw e;
    } finally {
      for (const fd of childEnds) libc.close(fd);
    }
  },
};
