/**
 * Child processes without fork(): posix_spawn(3) with file actions, pidfd_open(2) to watch the
 * child's exit from the poller, waitid(2) to reap exactly that child (Linux; macOS and FreeBSD
 * watch it with kqueue's EVFILT_PROC in platform/posix_process.ts and reap it with waitpid(2)),
 * plus fstat(2) to tell a pipe from a regular file and openpty(3).
 *
 * Why posix_spawn: Deno and Bun run several threads, and fork() in a threaded process copies
 * only the calling thread (locks held elsewhere stay locked in the child). glibc's posix_spawn
 * uses clone(CLONE_VM|CLONE_VFORK) and runs only async-signal-safe steps before execve, and
 * since glibc 2.24 it reports an execve failure (ENOENT, EACCES) as its own return value.
 *
 * Closing the child's other fds: glibc and FreeBSD ≥ 13.1 have posix_spawn_file_actions_
 * addclosefrom_np; macOS has the POSIX_SPAWN_CLOEXEC_DEFAULT attribute flag, under which only the
 * fds the file actions touched survive (so an inherited fd 0–2 gets a dup2 onto itself there).
 * Constants and the stat layout come from this OS's table (ffi/os/); the opaque posix_spawn
 * types are pointer-sized on macOS and FreeBSD and larger on glibc: the buffers below fit all.
 */
import { bindSymbols, check, EINTR, lastErrno, libcPath, osError } from "./libc.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import { bufferAddress, openLibrary, type SymbolSpec } from "./runtime.ts";

/** The calls of this module on `table`'s OS, keyed by use (C names from the table). */
export function spawnSymbols(table: OsTable) {
  return {
  // posix_spawn(3), posix_spawnp(3): (pid_t *pid, const char *path, const
  // posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr, char *const argv[],
  // char *const envp[]) → 0 or an errno value (not -1/errno).
  posix_spawn: { args: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  posix_spawnp: { args: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  // posix_spawn_file_actions_init(3) and friends, <spawn.h>; the _np ones are GNU extensions
  // (addchdir_np: glibc 2.29, addclosefrom_np: glibc 2.34).
  posix_spawn_file_actions_init: { args: ["buffer"], result: "i32" },
  posix_spawn_file_actions_destroy: { args: ["buffer"], result: "i32" },
  posix_spawn_file_actions_adddup2: { args: ["buffer", "i32", "i32"], result: "i32" },
  posix_spawn_file_actions_addopen: { args: ["buffer", "i32", "buffer", "i32", "u32"], result: "i32" },
  posix_spawn_file_actions_addchdir_np: { args: ["buffer", "buffer"], result: "i32" },
  posix_spawn_file_actions_addclosefrom_np: { args: ["buffer", "i32"], result: "i32" },
  // posix_spawnattr_init(3), posix_spawnattr_setflags(3) (flags is a short: passed in an int
  // register, the callee reads the low 16 bits), setsigmask/setsigdefault take sigset_t *.
  posix_spawnattr_init: { args: ["buffer"], result: "i32" },
  posix_spawnattr_setflags: { args: ["buffer", "i32"], result: "i32" },
  posix_spawnattr_setsigmask: { args: ["buffer", "buffer"], result: "i32" },
  posix_spawnattr_setsigdefault: { args: ["buffer", "buffer"], result: "i32" },
  // sigemptyset(3), sigaddset(3)
  sigemptyset: { args: ["buffer"], result: "i32" },
  sigaddset: { args: ["buffer", "i32"], result: "i32" },
  // pidfd_open(2), pidfd_send_signal(2): glibc 2.36 wrappers, <sys/pidfd.h>
  pidfd_open: { args: ["i32", "u32"], result: "i32" },
  pidfd_send_signal: { args: ["i32", "i32", "buffer", "u32"], result: "i32" },
  // waitid(2): (idtype_t idtype, id_t id, siginfo_t *infop, int options); idtype_t is an enum
  // (int), id_t a u32.
  waitid: { args: ["i32", "u32", "buffer", "i32"], result: "i32" },
  // kill(2)
  kill: { args: ["i32", "i32"], result: "i32" },
  // waitpid(2): (pid_t pid, int *status, int options)
  waitpid: { args: ["i32", "buffer", "i32"], result: "i32" },
  // fstat(2): glibc exports it since 2.33; macOS x86-64 needs fstat$INODE64 (ffi/os/darwin.ts)
  fstat: { args: ["i32", "buffer"], result: "i32", name: table.symbols.fstat },
  // posix_spawnattr_destroy(3)
  posix_spawnattr_destroy: { args: ["buffer"], result: "i32" },
  } as const satisfies Record<string, SymbolSpec>;
}

/** Whether `key` of spawnSymbols() is bound at import on `table`'s OS. */
export function spawnHas(table: OsTable, key: string): boolean {
  switch (key) {
    case "pidfd_open": case "pidfd_send_signal": case "waitid": return table.has.pidfd;
    case "posix_spawn_file_actions_addchdir_np": case "posix_spawn_file_actions_addclosefrom_np":
      return table.has.spawnFileActionsNp;
    default: return true;
  }
}

const lib = bindSymbols(libcPath, spawnSymbols(osTable), (key) => spawnHas(osTable, key));

// The _np file actions where they are not bound at import (macOS ≥ 10.15 and FreeBSD ≥ 13.1 have
// addchdir_np, FreeBSD ≥ 13.1 addclosefrom_np, but neither source of ffi/os/ lists them): looked
// up at first use, so an older system fails that one spawn with an error naming the call.
let lateNp: { chdir?: (fa: Uint8Array, path: Uint8Array) => number; closefrom?: (fa: Uint8Array, fd: number) => number } = {};
function npCall<K extends "chdir" | "closefrom">(which: K): NonNullable<typeof lateNp[K]> {
  if (osTable.has.spawnFileActionsNp) {
    return (which === "chdir" ? lib.posix_spawn_file_actions_addchdir_np : lib.posix_spawn_file_actions_addclosefrom_np) as NonNullable<typeof lateNp[K]>;
  }
  if (lateNp[which] === undefined) {
    const name = `posix_spawn_file_actions_add${which}_np`;
    const args: SymbolSpec["args"] = which === "chdir" ? ["buffer", "buffer"] : ["buffer", "i32"];
    try {
      lateNp = { ...lateNp, [which]: openLibrary(libcPath, { f: { args, result: "i32", name } }).symbols.f };
    } catch {
      throw osError(`${name} (this ${osTable.os} release lacks it)`, osTable.errno.ENOSYS);
    }
  }
  return lateNp[which]!;
}

// openpty(3): in libc.so.6 since glibc 2.34, libSystem on macOS, libutil.so.9 on FreeBSD.
let openptyLib: { openpty: (...a: unknown[]) => number } | undefined;

// ---- Constants ------------------------------------------------------------------------------

const C = osTable.constants;
// <spawn.h>
const POSIX_SPAWN_SETSIGDEF = C.POSIX_SPAWN_SETSIGDEF!;
const POSIX_SPAWN_SETSIGMASK = C.POSIX_SPAWN_SETSIGMASK!;
const POSIX_SPAWN_SETSID = C.POSIX_SPAWN_SETSID;
const POSIX_SPAWN_CLOEXEC_DEFAULT = C.POSIX_SPAWN_CLOEXEC_DEFAULT;
// <fcntl.h>
const O_RDWR = C.O_RDWR!;
// <linux/wait.h>
const P_PIDFD = 3;
const WNOHANG = C.WNOHANG!;
const WEXITED = 0x4;
// <bits/siginfo-consts.h>: si_code of SIGCHLD
const CLD_EXITED = 1;
const CLD_KILLED = 2;
const CLD_DUMPED = 3;
const SIGPIPE = osTable.signals.SIGPIPE;
const SIGXFSZ = osTable.signals.SIGXFSZ;

// Sizes: posix_spawn_file_actions_t is {int, int, void *, int[16]} = 80 bytes and
// posix_spawnattr_t {short, pid_t, sigset_t, sigset_t, struct sched_param, int, int[16]} = 336
// bytes (<spawn.h>); sigset_t is 1024 bits = 128 bytes (<bits/types/__sigset_t.h>). The
// buffers are larger than needed and over 128 bytes so V8 keeps them off its moving heap:
// glibc keeps pointers between init and destroy only to memory it malloc'd itself, but the
// buffers' own addresses must not change between the calls of one spawn.
const fileActions = new Uint8Array(256);
const spawnAttr = new Uint8Array(512);
const sigset = new Uint8Array(256);
const pidOut = new Int32Array(1);

// siginfo_t (<bits/types/siginfo_t.h>, 64-bit): si_signo @0, si_errno @4, si_code @8, padding
// to 16, then the _sigchld union member: si_pid @16, si_uid @20, si_status @24. 128 bytes.
const siginfo = new Int32Array(32);
const SI_CODE = 2, SI_PID = 4, SI_STATUS = 6;

// struct stat: the table's size and st_mode offset (Linux x86-64 24, AArch64 16; macOS 4;
// FreeBSD 24), mode_t 4 bytes on Linux, 2 on BSD. The largest is FreeBSD's, 224 bytes.
const statBuf = new Uint8Array(256);
const statView = new DataView(statBuf.buffer);

/** The file-type bits (st_mode & S_IFMT) of a struct stat of `table`'s OS held in `stat`. */
export function statFileType(stat: DataView, table: OsTable): number {
  const { statModeOffset, statModeSize } = table.layouts;
  const mode = statModeSize === 2 ? stat.getUint16(statModeOffset, true) : stat.getUint32(statModeOffset, true);
  return mode & table.constants.S_IFMT!;
}

// File types of st_mode, <sys/stat.h> / inode(7) (the same numbers on every OS here).
/** st_mode file-type mask. */
export const S_IFMT: number = C.S_IFMT!;
/** A socket. */
export const S_IFSOCK: number = C.S_IFSOCK!;
/** A regular file. */
export const S_IFREG: number = C.S_IFREG!;
/** A directory. */
export const S_IFDIR: number = C.S_IFDIR!;
/** A character device. */
export const S_IFCHR: number = C.S_IFCHR!;
/** A FIFO (pipe). */
export const S_IFIFO: number = C.S_IFIFO!;

const encoder = new TextEncoder();

// ---- File types -----------------------------------------------------------------------------

/** The `st_mode & S_IFMT` of `fd` (fstat(2)); OSError (EBADF, …) on failure. */
export function fileType(fd: number): number {
  check(lib.fstat(fd, statBuf), "fstat");
  return statFileType(statView, osTable);
}

/** A new pseudo-terminal pair [master, slave] (openpty(3)); both fds are blocking. */
export function openpty(): [number, number] {
  const master = new Int32Array(1), slave = new Int32Array(1);
  openptyLib ??= openLibrary(osTable.libutil, {
    openpty: { args: ["buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
  }).symbols;
  check(openptyLib.openpty(master, slave, null, null, null), "openpty");
  return [master[0]!, slave[0]!];
}

// ---- Spawning -------------------------------------------------------------------------------

/** What a child's fd 0, 1 or 2 becomes. */
export type ChildStdio =
  | { kind: "inherit" }
  | { kind: "fd"; fd: number }
  | { kind: "devnull" }
  /** Only for fd 2: the same file as the child's fd 1 (subprocess.STDOUT). */
  | { kind: "stdout" };

/** One posix_spawn request. */
export interface SpawnRequest {
  /** A path (with a "/") or a name looked up in PATH, as execvp(3) does. */
  program: string;
  /** argv, argv[0] included. */
  argv: readonly string[];
  /** "NAME=value" strings. */
  env: readonly string[];
  cwd: string | null;
  stdio: readonly [ChildStdio, ChildStdio, ChildStdio];
  /** Run the child in a new session (setsid(2)). */
  startNewSession: boolean;
}

// Encode `strings` into one buffer of NUL-terminated strings and an array of their addresses
// ending in NULL (argv/envp). `keep` holds the buffers so they outlive the call.
function cStringArray(strings: readonly string[], keep: Uint8Array[]): BigUint64Array {
  const encoded = strings.map((s) => encoder.encode(s));
  let total = 0;
  for (const e of encoded) total += e.byteLength + 1;
  const bytes = new Uint8Array(Math.max(total, 128));
  keep.push(bytes);
  const base = bufferAddress(bytes);
  const pointers = new BigUint64Array(strings.length + 1);
  let offset = 0;
  for (const [i, e] of encoded.entries()) {
    if (e.includes(0)) throw new TypeError("embedded null byte in an argument or env");
    bytes.set(e, offset);
    pointers[i] = BigInt(base + offset);
    offset += e.byteLength + 1;
  }
  pointers[strings.length] = 0n;
  return pointers;
}

function cString(s: string): Uint8Array {
  const e = encoder.encode(s);
  if (e.includes(0)) throw new TypeError(`embedded null byte in ${JSON.stringify(s)}`);
  const out = new Uint8Array(e.byteLength + 1);
  out.set(e);
  return out;
}

function must(err: number, what: string): void {
  if (err !== 0) throw osError(what, err);
}

const devNull = cString("/dev/null");

/**
 * Start a child as `request` says and return its pid. The child's fds 0–2 are set up by file
 * actions, every other fd is closed in the child (as Python's close_fds=True), its signal mask
 * is emptied and SIGPIPE/SIGXFSZ get their default action back (both runtimes ignore SIGPIPE,
 * Bun also SIGXFSZ, and ignored signals stay ignored across execve). OSError (ENOENT, EACCES,
 * …) when the program cannot be started.
 */
export function spawn(request: SpawnRequest): number {
  const keep: Uint8Array[] = [];
  const argv = cStringArray(request.argv, keep);
  const envp = cStringArray(request.env, keep);
  const program = cString(request.program);
  const cwd = request.cwd === null ? null : cString(request.cwd);

  if (request.startNewSession && POSIX_SPAWN_SETSID === null) {
    throw osError(`posix_spawn: start_new_session (${osTable.os} has no POSIX_SPAWN_SETSID)`, osTable.errno.ENOSYS);
  }
  must(lib.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
  let attrInited = false;
  try {
    const [stdin, stdout, stderr] = request.stdio;
    addStdio(stdin, 0);
    addStdio(stdout, 1);
    addStdio(stderr, 2);
    // chdir after the opens, as subprocess does (relative fds are already open).
    if (cwd !== null) must(npCall("chdir")(fileActions, cwd), "posix_spawn(chdir)");
    if (POSIX_SPAWN_CLOEXEC_DEFAULT === null) {
      must(npCall("closefrom")(fileActions, 3), "posix_spawn(closefrom)");
    }

    must(lib.posix_spawnattr_init(spawnAttr), "posix_spawnattr_init");
    attrInited = true;
    lib.sigemptyset(sigset);
    must(lib.posix_spawnattr_setsigmask(spawnAttr, sigset), "posix_spawnattr_setsigmask");
    lib.sigaddset(sigset, SIGPIPE);
    lib.sigaddset(sigset, SIGXFSZ);
    must(lib.posix_spawnattr_setsigdefault(spawnAttr, sigset), "posix_spawnattr_setsigdefault");
    let flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (request.startNewSession) flags |= POSIX_SPAWN_SETSID!;
    // macOS: close every fd the file actions did not set up (its closefrom).
    if (POSIX_SPAWN_CLOEXEC_DEFAULT !== null) flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
    must(lib.posix_spawnattr_setflags(spawnAttr, flags), "posix_spawnattr_setflags");

    const search = !request.program.includes("/");
    const err = search
      ? lib.posix_spawnp(pidOut, program, fileActions, spawnAttr, argv, envp)
      : lib.posix_spawn(pidOut, program, fileActions, spawnAttr, argv, envp);
    if (err !== 0) throw osError(`posix_spawn ${JSON.stringify(request.program)}`, err);
    return pidOut[0]!;
  } finally {
    // Both own malloc'd memory on BSD (there the types are pointers); glibc's attr is plain data.
    if (attrInited) lib.posix_spawnattr_destroy(spawnAttr);
    lib.posix_spawn_file_actions_destroy(fileActions);
    keep.length = 0;
  }
}

function addStdio(stdio: ChildStdio, target: number): void {
  switch (stdio.kind) {
    case "inherit":
      // Under POSIX_SPAWN_CLOEXEC_DEFAULT only fds a file action touched stay open.
      if (POSIX_SPAWN_CLOEXEC_DEFAULT !== null) {
        must(lib.posix_spawn_file_actions_adddup2(fileActions, target, target), "posix_spawn(inherit)");
      }
      return;
    case "fd":
      // dup2 onto 0–2 gives the child a copy without FD_CLOEXEC; when the fd already is
      // `target`, glibc (≥ 2.29, as POSIX 2018 asks) clears FD_CLOEXEC instead.
      must(lib.posix_spawn_file_actions_adddup2(fileActions, stdio.fd, target), "posix_spawn(dup2)");
      return;
    case "devnull":
      // As Python's DEVNULL: /dev/null opened read-write.
      must(
        lib.posix_spawn_file_actions_addopen(fileActions, target, devNull, O_RDWR, 0),
        "posix_spawn(open /dev/null)",
      );
      return;
    case "stdout":
      must(lib.posix_spawn_file_actions_adddup2(fileActions, 1, target), "posix_spawn(dup2)");
      return;
  }
}

// ---- Watching and reaping -------------------------------------------------------------------

/**
 * A pidfd for `pid` (pidfd_open(2), Linux ≥ 5.3): close-on-exec, and readable once the child
 * has terminated, so the loop watches the exit like any other fd.
 */
export function pidfdOpen(pid: number): number {
  return check(lib.pidfd_open(pid, 0), "pidfd_open");
}

/**
 * Reap the child behind `pidfd` if it has terminated (waitid(P_PIDFD, WEXITED | WNOHANG),
 * Linux ≥ 5.4): its returncode — the exit status, or −signal if a signal killed it — or null
 * if it is still running. OSError ECHILD if someone else reaped it already.
 */
export function reapPidfd(pidfd: number): number | null {
  siginfo[SI_PID] = 0;
  for (;;) {
    if (lib.waitid(P_PIDFD, pidfd, siginfo, WEXITED | WNOHANG) === 0) break;
    if (lastErrno() !== EINTR) throw osError("waitid(P_PIDFD)");
  }
  // With WNOHANG and no child in a waitable state, waitid returns 0 and leaves si_pid 0.
  if (siginfo[SI_PID] === 0) return null;
  // siginfo_t fields inside the 128-byte buffer.
  const code = siginfo[SI_CODE]!, status = siginfo[SI_STATUS]!;
  if (code === CLD_EXITED) return status;
  if (code === CLD_KILLED || code === CLD_DUMPED) return -status;
  return null;
}

/**
 * The returncode of a wait(2) status, as Python's os.waitstatus_to_exitcode: the exit status, or
 * −signal if a signal killed the child; null for a stopped or continued child. <sys/wait.h> on
 * every OS here: the low 7 bits are the terminating signal (0: exited, 0x7f: stopped), the exit
 * status is bits 8–15.
 */
export function returncodeOfWaitStatus(status: number): number | null {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  if (sig === 0x7f) return null; // WIFSTOPPED
  if (status === 0xffff) return null; // WIFCONTINUED (glibc; FreeBSD 0x13 stops on 0x7f above)
  return -sig;
}

const waitStatus = new Int32Array(1);

/**
 * Reap `pid` if it has terminated (waitpid(pid, WNOHANG)): its returncode, or null if it is still
 * running. OSError ECHILD if someone else reaped it already.
 */
export function reapPid(pid: number): number | null {
  for (;;) {
    const r = lib.waitpid(pid, waitStatus, WNOHANG);
    if (r === 0) return null;
    if (r === pid) return returncodeOfWaitStatus(waitStatus[0]!);
    if (lastErrno() !== EINTR) throw osError("waitpid");
  }
}

/** Send `signal` to the process behind `pidfd` (pidfd_send_signal(2): no pid-reuse race). */
export function pidfdSendSignal(pidfd: number, signal: number): void {
  check(lib.pidfd_send_signal(pidfd, signal, null, 0), "pidfd_send_signal");
}

/** kill(2). */
export function kill(pid: number, signal: number): void {
  check(lib.kill(pid, signal), "kill");
}
