/**
 * Children on Windows (loop/process/process_calls.ts; asyncio's windows_events._WindowsSubprocessTransport
 * and subprocess.Popen's Windows half): CreateProcessW with a quoted command line, stdio pipes
 * made as named pipes, the exit reported through the IOCP proactor's job object
 * (IocpProactor.watchProcess, platform/windows.ts explains the choice), the returncode read
 * with GetExitCodeProcess, and SIGTERM/SIGKILL as TerminateProcess.
 *
 * Pipes: each is one named pipe instance. This process keeps the server end, opened with
 * FILE_FLAG_OVERLAPPED (so the proactor pipe transports drive it with ReadFile/WriteFile
 * operations) and not inheritable; the child gets the client end, opened without
 * FILE_FLAG_OVERLAPPED (a child's plain ReadFile/WriteFile on an overlapped handle misbehaves)
 * and inheritable (SECURITY_ATTRIBUTES.bInheritHandle), closed here once CreateProcessW has
 * copied it. Byte mode, one instance, remote clients rejected. The stdin pipe is duplex although
 * data only goes to the child: the write transport keeps a read in flight on its end, which
 * ends when the child closes its stdin or exits (as asyncio's windows_utils pipes do).
 *
 * The child inherits its three std handles and nothing else, although CreateProcessW must be
 * told to inherit (bInheritHandles TRUE) for them: a PROC_THREAD_ATTRIBUTE_HANDLE_LIST names
 * them (as Popen's close_fds does on Windows), so no other inheritable handle of this process
 * (its own std handles, a pipe end it made inheritable) is held open by a child.
 *
 * The child starts suspended, joins the job, then runs (ResumeThread): no exit can come before
 * the proactor watches for it.
 */
import { LINUX_ERRNO } from "../ffi/errno_linux.ts";
import {
  CREATE_SUSPENDED, CREATE_UNICODE_ENVIRONMENT, CURRENT_PROCESS, DUPLICATE_SAME_ACCESS,
  ERROR_ACCESS_DENIED, ERROR_BAD_EXE_FORMAT, ERROR_DIRECTORY, ERROR_FILE_NOT_FOUND,
  ERROR_FILENAME_EXCED_RANGE, ERROR_PATH_NOT_FOUND, EXTENDED_STARTUPINFO_PRESENT,
  FILE_FLAG_FIRST_PIPE_INSTANCE, FILE_FLAG_OVERLAPPED, FILE_SHARE_READ, FILE_SHARE_WRITE,
  FILE_WRITE_ATTRIBUTES, GENERIC_READ, GENERIC_WRITE, kernel32, OPEN_EXISTING, PI_PROCESS,
  PI_PROCESS_ID, PI_THREAD, PIPE_ACCESS_DUPLEX, PIPE_ACCESS_INBOUND, PIPE_REJECT_REMOTE_CLIENTS,
  PIPE_TYPE_BYTE, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, PROCESS_INFORMATION_SIZE, SA_INHERIT_HANDLE,
  SA_LENGTH, SECURITY_ATTRIBUTES_SIZE, SI_CB, SI_FLAGS, SI_STD_ERROR, SI_STD_INPUT, SI_STD_OUTPUT,
  SIEX_ATTRIBUTE_LIST, STARTF_USESTDHANDLES, STARTUPINFOEXW_SIZE, STARTUPINFOW_SIZE,
  STD_ERROR_HANDLE, STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STILL_ACTIVE, wideString,
} from "../ffi/kernel32.ts";
import { osError } from "../ffi/libc.ts";
import { bufferAddress, pointerAddress } from "../ffi/runtime.ts";
import type { ChildStdio } from "../ffi/spawn.ts";
import { signalNumbers } from "../ffi/signals.ts";
import { NotImplementedError, ValueError } from "../loop/core/errors.ts";
import type { CompletionTarget } from "../loop/proactor/proactor.ts";
import type { ChildProcess, ChildRequest, ChildWatchLoop, ProcessCalls } from "../loop/process/process_calls.ts";
import { IocpProactor } from "./windows.ts";

// Linux errno values (<asm-generic/errno-base.h>), the loop's vocabulary.
const { ENOENT, E2BIG, ENOEXEC, EACCES, ENOTDIR, EIO, ECANCELED } = LINUX_ERRNO;
const SIGKILL = 9, SIGTERM = 15;
/** The exit code TerminateProcess gives the child, as Popen.terminate() on Windows does. */
const TERMINATED_EXIT_CODE = 1;
/** Each pipe's buffer in the direction it carries (asyncio's windows_utils uses 8 KiB). */
const PIPE_BUFFER = 64 * 1024;

let pipeCounter = 0;

/** A system error of process creation as the errno CPython's errmap gives it. */
function errnoOfSpawn(code: number): number {
  switch (code) {
    case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: return ENOENT;
    case ERROR_ACCESS_DENIED: return EACCES;
    case ERROR_BAD_EXE_FORMAT: return ENOEXEC;
    case ERROR_DIRECTORY: return ENOTDIR;
    case ERROR_FILENAME_EXCED_RANGE: return E2BIG;
    default: return EIO;
  }
}

/** A HANDLE result as a number: 0 for NULL and for INVALID_HANDLE_VALUE. */
function handleValue(p: unknown): number {
  const a = pointerAddress(p);
  return a > 0n && a < 0xffffffffn ? Number(a) : 0;
}

/**
 * One argument quoted for a command line the C runtime splits back into the same argv
 * (learn.microsoft.com/cpp/c-language/parsing-c-command-line-arguments): left bare when it
 * has no whitespace or quote and is not empty; else in double quotes, where a quote becomes \"
 * and the backslashes right before a quote (or before the closing quote) are doubled, since
 * only there are backslashes escapes.
 */
export function quoteArgument(arg: string): string {
  if (arg !== "" && !/[ \t\n\v"]/.test(arg)) return arg;
  let out = '"';
  let backslashes = 0;
  for (const ch of arg) {
    if (ch === "\\") {
      backslashes++;
    } else if (ch === '"') {
      out += "\\".repeat(2 * backslashes + 1) + '"';
      backslashes = 0;
    } else {
      out += "\\".repeat(backslashes) + ch;
      backslashes = 0;
    }
  }
  return out + "\\".repeat(2 * backslashes) + '"';
}

/** argv as one command line (quoteArgument each, separated by spaces). */
export function commandLine(argv: readonly string[]): string {
  return argv.map(quoteArgument).join(" ");
}

/**
 * The environment block of CreateProcessW with CREATE_UNICODE_ENVIRONMENT: "name=value\0"
 * entries sorted by name without regard to case (as the CreateProcess documentation asks),
 * then one more "\0".
 */
function environmentBlock(env: Record<string, string>): Uint16Array {
  const entries = Object.entries(env).sort(([a], [b]) => {
    const x = a.toUpperCase(), y = b.toUpperCase();
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const text = entries.map(([k, v]) => `${k}=${v}\0`).join("");
  return wideString(text.length === 0 ? "\0" : text); // wideString adds the final NUL
}

/** SECURITY_ATTRIBUTES that make the new handle inheritable (ffi/kernel32.ts layout). */
function inheritableAttributes(): Uint8Array {
  const sa = new Uint8Array(SECURITY_ATTRIBUTES_SIZE);
  const v = new DataView(sa.buffer);
  v.setUint32(SA_LENGTH, SECURITY_ATTRIBUTES_SIZE, true);
  v.setInt32(SA_INHERIT_HANDLE, 1, true);
  return sa;
}

function spawnError(call: string, code: number): Error {
  return osError(`${call} (Windows error ${code})`, errnoOfSpawn(code));
}

/** A pipe for the child's `target` stream: [this process's overlapped end, the child's end]. */
function makePipe(target: number): [number, number] {
  const k = kernel32();
  const name = wideString(
    `\\\\.\\pipe\\aioloop-child-${k.GetCurrentProcessId()}-${++pipeCounter}-${Math.random().toString(36).slice(2)}`,
  );
  const childReads = target === 0;
  const server = handleValue(k.CreateNamedPipeW(
    name,
    (childReads ? PIPE_ACCESS_DUPLEX : PIPE_ACCESS_INBOUND) | FILE_FLAG_OVERLAPPED |
      FILE_FLAG_FIRST_PIPE_INSTANCE,
    PIPE_TYPE_BYTE | PIPE_REJECT_REMOTE_CLIENTS,
    1,
    childReads ? PIPE_BUFFER : 0,
    childReads ? 0 : PIPE_BUFFER,
    0,
    null,
  ));
  if (server === 0) throw spawnError("CreateNamedPipeW", k.GetLastError());
  const client = handleValue(k.CreateFileW(
    name,
    childReads ? GENERIC_READ | FILE_WRITE_ATTRIBUTES : GENERIC_WRITE,
    0,
    inheritableAttributes(),
    OPEN_EXISTING,
    0,
    0,
  ));
  if (client === 0) {
    const err = k.GetLastError();
    k.CloseHandle(server);
    throw spawnError("CreateFileW(pipe client)", err);
  }
  return [server, client];
}

/** An inheritable duplicate of `handle` for the child (0 stays 0: the child gets none). */
function inheritableCopy(handle: number): number {
  if (handle === 0) return 0;
  const k = kernel32();
  const out = new BigUint64Array(1);
  if (!k.DuplicateHandle(CURRENT_PROCESS, handle, CURRENT_PROCESS, new Uint8Array(out.buffer), 0, 1,
    DUPLICATE_SAME_ACCESS)) {
    throw spawnError(`DuplicateHandle(${handle})`, k.GetLastError());
  }
  return Number(out[0]);
}

/** The NUL device, inheritable (subprocess.DEVNULL). */
function openDevnull(): number {
  const k = kernel32();
  const h = handleValue(k.CreateFileW(wideString("NUL"), GENERIC_READ | GENERIC_WRITE,
    FILE_SHARE_READ | FILE_SHARE_WRITE, inheritableAttributes(), OPEN_EXISTING, 0, 0));
  if (h === 0) throw spawnError("CreateFileW(NUL)", k.GetLastError());
  return h;
}

const STD_HANDLES = [STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE];

/** An attribute list and the memory it points into: both live until DeleteProcThreadAttributeList. */
interface AttributeList {
  list: Uint8Array;
  handles: BigUint64Array;
}

/**
 * A PROC_THREAD_ATTRIBUTE_LIST whose one attribute is PROC_THREAD_ATTRIBUTE_HANDLE_LIST with
 * `handles` (inheritable, distinct: a handle listed twice is ERROR_INVALID_PARAMETER). Free it
 * with DeleteProcThreadAttributeList once CreateProcessW has returned.
 */
function handleListAttribute(handles: readonly number[]): AttributeList {
  const k = kernel32();
  const size = new BigUint64Array(1);
  k.InitializeProcThreadAttributeList(0, 1, 0, size); // FALSE, with the size it needs
  const list = new Uint8Array(new ArrayBuffer(Number(size[0])));
  if (!k.InitializeProcThreadAttributeList(bufferAddress(list), 1, 0, size)) {
    throw spawnError("InitializeProcThreadAttributeList", k.GetLastError());
  }
  const value = new BigUint64Array(new ArrayBuffer(8 * handles.length));
  handles.forEach((h, i) => (value[i] = BigInt(h)));
  if (!k.UpdateProcThreadAttribute(bufferAddress(list), 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
    bufferAddress(value), value.byteLength, 0, 0)) {
    const err = k.GetLastError();
    k.DeleteProcThreadAttributeList(bufferAddress(list));
    throw spawnError("UpdateProcThreadAttribute(PROC_THREAD_ATTRIBUTE_HANDLE_LIST)", err);
  }
  return { list, handles: value };
}

/** A child made with CreateProcessW; its exit comes from the proactor's job object. */
class WindowsChild implements ChildProcess, CompletionTarget {
  private _onExit: ((returncode: number) => void) | null = null;

  constructor(
    readonly pid: number,
    private _process: number,
    private _thread: number,
    readonly pipes: readonly number[],
  ) {}

  watch(loop: ChildWatchLoop, onExit: (returncode: number) => void): void {
    const k = kernel32();
    try {
      const proactor = loop._proactor;
      if (!(proactor instanceof IocpProactor)) {
        throw new NotImplementedError(
          "subprocesses on Windows need the ProactorEventLoop over IOCP (newEventLoop()'s default there)",
        );
      }
      proactor.watchProcess(this._process, this.pid, this, 0);
      this._onExit = onExit;
      if (k.ResumeThread(this._thread) === 0xffffffff) {
        throw spawnError("ResumeThread", k.GetLastError());
      }
    } catch (e) {
      k.TerminateProcess(this._process, TERMINATED_EXIT_CODE);
      this._onExit = null;
      for (const h of this.pipes) if (h > 0) k.CloseHandle(h);
      this._release();
      throw e;
    } finally {
      if (this._thread !== 0) k.CloseHandle(this._thread);
      this._thread = 0;
    }
  }

  sendSignal(signal: number): void {
    if (signal !== SIGTERM && signal !== SIGKILL) {
      const name = Object.keys(signalNumbers).find((n) => signalNumbers[n] === signal) ?? `signal ${signal}`;
      throw new ValueError(
        `Unsupported signal on Windows: ${name} (${signal}); a Windows process can only be ` +
          "ended, with SIGTERM or SIGKILL (both TerminateProcess)",
      );
    }
    if (this._process === 0) return;
    const k = kernel32();
    if (k.TerminateProcess(this._process, TERMINATED_EXIT_CODE)) return;
    const err = k.GetLastError();
    // ERROR_ACCESS_DENIED once the process has ended (Popen.terminate checks the same way).
    const code = new Uint32Array(1);
    if (err === ERROR_ACCESS_DENIED && k.GetExitCodeProcess(this._process, code) && code[0] !== STILL_ACTIVE) return;
    throw spawnError("TerminateProcess", err);
  }

  /** @ignore The job reported the exit (res 0), or the proactor dropped the watch. */
  _ioComplete(_tag: number, res: number): void {
    const onExit = this._onExit;
    this._onExit = null;
    if (res === -ECANCELED || onExit === null) {
      this._release();
      return;
    }
    const k = kernel32();
    const code = new Uint32Array(1);
    const ok = k.GetExitCodeProcess(this._process, code);
    const err = ok ? 0 : k.GetLastError();
    this._release();
    if (!ok) throw spawnError("GetExitCodeProcess", err);
    // The DWORD as it is, unsigned (0xC0000005 for an access violation), as CPython's returncode
    // there (_winapi.GetExitCodeProcess): a negative returncode means "ended by a signal".
    onExit(code[0]!);
  }

  private _release(): void {
    if (this._process !== 0) kernel32().CloseHandle(this._process);
    this._process = 0;
  }
}

/** CreateProcessW, named pipes and the IOCP proactor's job object. */
export const windowsProcessCalls: ProcessCalls = {
  spawn(request: ChildRequest): ChildProcess {
    const k = kernel32();
    // A shell command: `%COMSPEC% /c "cmd"` (cmd.exe by default), as Popen(shell=True) builds
    // it. The command is not argv-quoted: cmd.exe runs the rest of its command line after /c,
    // stripping the outer quotes (`cmd /?`).
    let line: string;
    if (request.shell !== null) {
      const comspec = (globalThis as { process?: { env: Record<string, string | undefined> } })
        .process?.env["COMSPEC"] ?? "cmd.exe";
      line = `${quoteArgument(comspec)} /c "${request.shell}"`;
    } else {
      line = commandLine(request.argv);
    }
    const parents = [-1, -1, -1];
    const childHandles: [number, number, number] = [0, 0, 0];
    const toClose: number[] = [];
    let attributes: AttributeList | null = null;
    try {
      request.stdio.forEach((stdio: ChildStdio | "pipe", target) => {
        let h: number;
        if (stdio === "pipe") {
          const [parent, child] = makePipe(target);
          parents[target] = parent;
          h = child;
        } else if (stdio.kind === "inherit") {
          h = inheritableCopy(handleValue(k.GetStdHandle(STD_HANDLES[target])));
        } else if (stdio.kind === "devnull") {
          h = openDevnull();
        } else if (stdio.kind === "fd") {
          h = inheritableCopy(stdio.fd);
        } else {
          h = childHandles[1]; // stderr = STDOUT: the same handle as the child's stdout
          childHandles[2] = h;
          return;
        }
        childHandles[target] = h;
        if (h !== 0) toClose.push(h);
      });
      // What the child inherits: its std handles (distinct, non-null), and only those.
      const inherited = [...new Set(childHandles.filter((h) => h !== 0))];
      if (inherited.length > 0) attributes = handleListAttribute(inherited);
      const si = new Uint8Array(STARTUPINFOEXW_SIZE);
      const siv = new DataView(si.buffer);
      siv.setUint32(SI_CB, attributes === null ? STARTUPINFOW_SIZE : STARTUPINFOEXW_SIZE, true);
      siv.setUint32(SI_FLAGS, STARTF_USESTDHANDLES, true);
      if (attributes !== null) siv.setBigUint64(SIEX_ATTRIBUTE_LIST, BigInt(bufferAddress(attributes.list)), true);
      siv.setBigUint64(SI_STD_INPUT, BigInt(childHandles[0]), true);
      siv.setBigUint64(SI_STD_OUTPUT, BigInt(childHandles[1]), true);
      siv.setBigUint64(SI_STD_ERROR, BigInt(childHandles[2]), true);
      const pi = new Uint8Array(PROCESS_INFORMATION_SIZE);
      const env = request.env === null ? null : environmentBlock(request.env);
      const cwd = request.cwd === null ? null : wideString(request.cwd);
      // lpApplicationName NULL: the first token of the command line names the program, looked
      // up as CreateProcessW does (".exe" appended; the application's directory, the current
      // one, the system directories, then PATH), as Popen does on Windows.
      const ok = k.CreateProcessW(null, wideString(line), null, null, attributes === null ? 0 : 1,
        CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | (attributes === null ? 0 : EXTENDED_STARTUPINFO_PRESENT),
        env, cwd, si, pi);
      if (!ok) throw spawnError(`CreateProcessW ${JSON.stringify(request.program)}`, k.GetLastError());
      const piv = new DataView(pi.buffer);
      return new WindowsChild(
        piv.getUint32(PI_PROCESS_ID, true),
        Number(piv.getBigUint64(PI_PROCESS, true)),
        Number(piv.getBigUint64(PI_THREAD, true)),
        parents,
      );
    } catch (e) {
      for (const h of parents) if (h > 0) k.CloseHandle(h);
      throw e;
    } finally {
      if (attributes !== null) k.DeleteProcThreadAttributeList(bufferAddress(attributes.list));
      // The child has its copies now (or there is no child).
      for (const h of toClose) k.CloseHandle(h);
    }
  },
};
