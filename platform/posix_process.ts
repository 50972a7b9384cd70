/**
 * Children on POSIX (loop/process/process_calls.ts): posix_spawn (ffi/spawn.ts, never fork() in these
 * multithreaded runtimes) with close-on-exec pipes as stdio, and the exit watched through an fd
 * registered with the loop's poller (addReader), whichever selector it uses:
 * - Linux: a pidfd; the child is reaped with waitid(P_PIDFD) for that child only.
 * - macOS and FreeBSD (no pidfd): a kqueue of the child's own holding one EVFILT_PROC/NOTE_EXIT
 *   knote; a kqueue fd is readable while an event is pending (kqueue(2)), so it stands in for
 *   the pidfd. The child is reaped with waitpid(pid, WNOHANG). A child that exited before the
 *   knote was added (ESRCH) gets a triggered EVFILT_USER event instead, so the fd is readable. Neither Deno nor Bun reaps children it did not start (checked: no SIGCHLD
 * handler is installed and our exited child stays a zombie across Deno.Command / Bun.spawn
 * use), so the status is always ours to collect.
 */
import process from "node:process";
import { isExecutableFile } from "../ffi/files.ts";
import { closeFd, ENOENT, libc, osError } from "../ffi/libc.ts";
import {
  EV_ADD, EV_CLEAR, EVFILT_PROC, KeventArray, kqueueOsError, kqueueSystem, NOTE_EXIT, NOTE_TRIGGER,
} from "../ffi/kqueue.ts";
import { osTable } from "../ffi/os/current.ts";
import {
  type ChildStdio, kill, pidfdOpen, pidfdSendSignal, reapPid, reapPidfd, spawn,
} from "../ffi/spawn.ts";
import { closeOnExecPipe } from "./posix_socket.ts";
import { OSError } from "../loop/core/errors.ts";
import type { ReadinessLoop } from "../loop/core/readiness_loop.ts";
import type { ChildProcess, ChildRequest, ProcessCalls } from "../loop/process/process_calls.ts";

const ESRCH = osTable.errno.ESRCH;
const ECHILD = osTable.errno.ECHILD;
const SIGKILL = osTable.signals.SIGKILL;
const usePidfd = osTable.has.pidfd;

/** A kqueue fd that becomes readable once `pid` has exited (see the module comment). */
function kqueueExitFd(pid: number): number {
  const system = kqueueSystem();
  const kq = system.kqueue();
  if (kq < 0) throw kqueueOsError(system, "kqueue (child exit)");
  const change = new KeventArray(system.layout, 1);
  change.set(0, pid, EVFILT_PROC, EV_ADD, NOTE_EXIT);
  if (system.kevent(kq, change.bytes, 1, null, 0, null) >= 0) return kq;
  if (system.errno() === ESRCH) {
    // Already gone: make the fd readable anyway, for the reaper to collect the status.
    change.set(0, 1, system.evfiltUser, EV_ADD | EV_CLEAR, NOTE_TRIGGER);
    if (system.kevent(kq, change.bytes, 1, null, 0, null) >= 0) return kq;
  }
  const err = kqueueOsError(system, `kevent(EVFILT_PROC, pid ${pid})`);
  system.close(kq);
  throw err;
}

/** A child started with posix_spawn, watched through its pidfd (or kqueue fd, off Linux). */
class PosixChild implements ChildProcess {
  private _loop: ReadinessLoop | null = null;
  private _onExit: ((returncode: number) => void) | null = null;
  private readonly _onReadable = this._reap.bind(this);

  constructor(readonly pid: number, private _pidfd: number, readonly pipes: readonly number[]) {}

  watch(loop: ReadinessLoop, onExit: (returncode: number) => void): void {
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
      // Off Linux: kill(2) by pid, safe until we reap it (the zombie keeps the pid taken).
      if (usePidfd) pidfdSendSignal(this._pidfd, signal);
      else kill(this.pid, signal);
    } catch (e) {
      // Exited but not yet reaped: the race Popen.send_signal also ignores.
      if (!(e instanceof OSError && e.errno === ESRCH)) throw e;
    }
  }

  /** The pidfd became readable: the child terminated. */
  private _reap(): void {
    let returncode: number | null;
    try {
      returncode = usePidfd ? reapPidfd(this._pidfd) : reapPid(this.pid);
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

/** posix_spawn, close-on-exec pipes, and pidfds or kqueue EVFILT_PROC. */
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
        const r = closeOnExecPipe(fds);
        if (r < 0) throw osError("pipe", -r);
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
        return new PosixChild(pid, usePidfd ? pidfdOpen(pid) : kqueueExitFd(pid), parentFds);
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

/**
 * The program to execute. A name without "/" is looked up in PATH; with an `env` option that
 * is the child's PATH (default "/bin:/usr/bin"), as Python's os.get_exec_path(env) does —
 * posix_spawnp(3) would search this process's PATH instead. OSError ENOENT if not found.
 */
function resolveProgram(program: string, env: Record<string, string> | null | undefined): string {
  if (program.includes("/") || env == null) return program;
  for (const dir of (env.PATH ?? "/bin:/usr/bin").split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${program}`;
    // Through the C library: node:fs would need Deno's --allow-read.
    if (isExecutableFile(candidate)) return candidate;
  }
  throw osError(`posix_spawn ${JSON.stringify(program)}: not found in the child's PATH`, ENOENT);
}
