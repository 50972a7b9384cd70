/**
 * The child programs of the subprocess tests, one per role, for this OS, so that one test file
 * runs on both. POSIX: the usual tools (/bin/cat, /bin/sh -c …). Windows: under Wine a Linux
 * ELF starts as a Unix process, which cannot join the proactor's job object, so the children
 * there are this runtime itself running a short script (ffi/runtime.ts evalCommand) and
 * cmd.exe for shell commands (subprocessShell's shell there, as asyncio's).
 */
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import process from "node:process";
import { evalCommand, isWindows } from "../ffi/runtime.ts";
import { createSubprocessExec } from "../mod.ts";
import { stableFdCount } from "./helpers.ts";
import { handleTypeName, openHandles } from "./windows/win.ts";

/** `posix` on POSIX, `windows` on Windows: an expected value that differs by OS. */
export function perOS<T>(posix: T, windows: T): T {
  return isWindows ? windows : posix;
}

/** A program and its arguments. */
export type Argv = [program: string, ...args: string[]];

/** A child running JavaScript `code` (Windows), started away from the repo (evalCommand). */
function script(code: string): Argv {
  return evalCommand(code, tmpdir()) as Argv;
}

/** A program (argv) for each role; every one exits 0 unless said otherwise. */
export interface Children {
  /** Copies its stdin to its stdout until EOF. */
  cat: Argv;
  /** Copies its stdin to its stdout until EOF, then prints `word` and a newline. */
  catThenEcho(word: string): Argv;
  /** Exits at once, reading and writing nothing. */
  true: Argv;
  /** Waits `seconds`, then exits (a child to kill). */
  sleep(seconds: number): Argv;
  /** Prints `words` joined by spaces and a "\n". */
  echo(...words: string[]): Argv;
  /** Runs `command` through the OS's shell (/bin/sh -c, cmd.exe /c). */
  shell(command: string): Argv;
  /** Compresses its stdin to its stdout in gzip format until EOF (gzip -c). */
  gzip: Argv;
}

const posixChildren: Children = {
  cat: ["/bin/cat"],
  catThenEcho: (word) => ["/bin/sh", "-c", `cat; echo ${word}`],
  true: ["/bin/true"],
  sleep: (seconds) => ["/bin/sleep", String(seconds)],
  echo: (...words) => ["/bin/echo", ...words],
  shell: (command) => ["/bin/sh", "-c", command],
  gzip: ["gzip", "-c"],
};

const windowsChildren: Children = {
  cat: script("process.stdin.pipe(process.stdout)"),
  catThenEcho: (word) =>
    script(`process.stdin.on("data", (d) => process.stdout.write(d))` +
      `.on("end", () => process.stdout.write(${JSON.stringify(`${word}\n`)}))`),
  true: ["cmd.exe", "/c", "exit 0"],
  sleep: (seconds) => script(`setTimeout(() => {}, ${seconds * 1000})`),
  echo: (...words) => script(`process.stdout.write(${JSON.stringify(`${words.join(" ")}\n`)})`),
  shell: (command) => ["cmd.exe", "/c", command],
  gzip: script(`import("node:zlib").then((z) => process.stdin.pipe(z.createGzip()).pipe(process.stdout))`),
};

/** This OS's children. */
export const children: Children = isWindows ? windowsChildren : posixChildren;

/**
 * Shell commands (for subprocessShell or children.shell) by role, in this OS's shell's
 * language. cmd.exe writes text without a newline with `<nul set /p =text` (set's prompt, with
 * no input to wait for), `>&2` right after the text: Wine's cmd.exe keeps the space before a
 * redirection in the text, and refuses one before the command. No double quotes: children.shell
 * passes the command as an argument, where quotes become \" (cmd.exe does not read those).
 */
export const shellCommands = {
  /** Writes `out` to stdout, then `err` to stderr, and exits with `code`. */
  outErrExit: (out: string, err: string, code: number): string =>
    perOS(`printf '${out}'; printf '${err}' >&2; exit ${code}`,
      `<nul set /p =${out}& <nul set /p =${err}>&2& exit ${code}`),
  /** Writes the value of environment variable `name`, without a newline. */
  printEnv: (name: string): string => perOS(`printf "$${name}"`, `<nul set /p =%${name}%`),
  /**
   * Runs until killed, in the shell's own process (no grandchild keeps its stdout open):
   * POSIX `exec sleep 30`; cmd.exe reads a line from its stdin (give it a PIPE).
   */
  untilKilled: perOS("exec sleep 30", "set /p line="),
  /** Waits a moment (50 ms; cmd.exe: one ping of the loopback), then exits with `code`. */
  pauseThenExit: (code: number): string =>
    perOS(`sleep 0.05; exit ${code}`, `ping -n 1 127.0.0.1 >nul& exit ${code}`),
  /**
   * Writes `a`, waits (10 ms; cmd.exe: a 1 s ping), writes `b`: two writes. POSIX echoes them
   * as lines; cmd.exe without a newline, as its echo writes the text and the CRLF apart.
   */
  twoWrites: (a: string, b: string): string =>
    perOS(`echo ${a}; sleep 0.01; echo ${b}`, `<nul set /p =${a}& ping -n 2 127.0.0.1 >nul& <nul set /p =${b}`),
};

/**
 * The returncode of a child ended by `signal` (9 SIGKILL or 15 SIGTERM): −signal on POSIX; on
 * Windows both are TerminateProcess with exit code 1, as Popen.kill()/terminate() there.
 */
export function killedReturncode(signal: number): number {
  return isWindows ? 1 : -signal;
}

/**
 * Children of this process not reaped: none once every child's exit has been reported. POSIX:
 * zombies (state Z in /proc/<pid>/stat, proc(5)). Windows: open Process handles, by value (an
 * ended process's object lives on while a handle to it is open; the loop holds one per child
 * until it has reported that child's exit).
 */
export function unreapedChildren(): number[] {
  if (isWindows) return [...openHandles()].filter((h) => handleTypeName(h) === "Process");
  const me = process.pid;
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue;
    }
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) === me && state === "Z") found.push(Number(name));
  }
  return found;
}

/**
 * The open fd count (stableFdCount) for a leak check of children on the running loop, taken
 * after one child has run: on Windows the loop's job object (platform/windows.ts watchProcess)
 * is made at its first child and stays open until the loop closes.
 */
export async function fdCountAfterFirstChild(): Promise<number> {
  await (await createSubprocessExec(...children.true)).wait();
  return await stableFdCount();
}
