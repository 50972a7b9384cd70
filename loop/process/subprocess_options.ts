/**
 * The arguments of subprocessExec/subprocessShell (asyncio subprocess_exec's and Popen's),
 * checked where they are first seen, before any pipe is made or protocol created: the stdio
 * constants, the options object, and what each of the child's fds 0–2 should become.
 */
import type { ChildStdio } from "../../ffi/spawn.ts";
import { describe } from "../core/describe.ts";
import { ValueError } from "../core/errors.ts";
import type { KeysOf } from "../core/options.ts";

/** Make a pipe to the child (subprocess.PIPE). */
export const PIPE: -1 = -1;
/** Send the child's stderr where its stdout goes (subprocess.STDOUT). */
export const STDOUT: -2 = -2;
/** Connect the child's stream to /dev/null (subprocess.DEVNULL). */
export const DEVNULL: -3 = -3;

/** What stdin/stdout/stderr may be: PIPE, DEVNULL, STDOUT (stderr only), an fd, an object with fileno(), or null/undefined to inherit the parent's. */
export type StdioOption = number | { fileno(): number } | null | undefined;

/** Options of subprocessExec/subprocessShell (subprocess.Popen's keyword arguments). */
export interface SubprocessOptions {
  /** The child's stdin: PIPE, DEVNULL, an fd or object with fileno(), or null to inherit. */
  stdin?: StdioOption;
  /** The child's stdout: PIPE, DEVNULL, an fd or object with fileno(), or null to inherit. */
  stdout?: StdioOption;
  /** The child's stderr: PIPE, STDOUT, DEVNULL, an fd or object with fileno(), or null. */
  stderr?: StdioOption;
  /** The child's working directory. */
  cwd?: string | null | undefined;
  /** The child's whole environment; default: this process's. */
  env?: Record<string, string> | null | undefined;
  /** Run the child in a new session (setsid). */
  startNewSession?: boolean | undefined;
  /** Refused as asyncio refuses them: pipes carry bytes, unbuffered. */
  universalNewlines?: boolean | undefined;
  /** Refused (ValueError) unless false. */
  text?: boolean | undefined;
  /** Refused (ValueError) unless null. */
  encoding?: string | null | undefined;
  /** Refused (ValueError) unless null. */
  errors?: string | null | undefined;
  /** Refused (ValueError) unless 0. */
  bufsize?: number | undefined;
  /** Set by subprocessShell/subprocessExec themselves; a conflicting value is a ValueError. */
  shell?: boolean | undefined;
}

/** The keys of SubprocessOptions, for refuseUnknownOptions(). */
export const SUBPROCESS_OPTION_KEYS: KeysOf<SubprocessOptions> = {
  stdin: true, stdout: true, stderr: true, cwd: true, env: true, startNewSession: true,
  universalNewlines: true, text: true, encoding: true, errors: true, bufsize: true, shell: true,
};

/**
 * The arguments after the program: strings, optionally followed by the options object. A type
 * of its own so that a misspelt option key is a compile error in a call's object literal.
 */
export type ExecArgs<O> = string[] | [...args: string[], options: O];

/** Split `(program, ...args, options?)`: a trailing plain object is the options. */
export function splitArgs<O>(rest: unknown[]): [unknown[], O] {
  const last = rest[rest.length - 1];
  if (rest.length > 0 && typeof last === "object" && last !== null && !ArrayBuffer.isView(last)) {
    return [rest.slice(0, -1), last as O];
  }
  return [rest, {} as O];
}

export function checkOptions(options: SubprocessOptions, shell: boolean): void {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  if (options.universalNewlines) throw new ValueError("universalNewlines must be false");
  if (options.text) throw new ValueError("text must be false");
  if (options.encoding != null) throw new ValueError("encoding must be null");
  if (options.errors != null) throw new ValueError("errors must be null");
  if (options.bufsize !== undefined && options.bufsize !== 0) {
    throw new ValueError("bufsize must be 0");
  }
  if (options.shell !== undefined && options.shell !== shell) {
    throw new ValueError(`shell must be ${shell}`);
  }
  if (options.cwd != null && typeof options.cwd !== "string") {
    throw new TypeError(`cwd must be a string, got ${describe(options.cwd)}`);
  }
  if (options.env != null) {
    if (typeof options.env !== "object") throw new TypeError("env must be an object of strings");
    for (const [k, v] of Object.entries(options.env)) {
      if (typeof v !== "string") throw new TypeError(`env[${JSON.stringify(k)}] must be a string`);
      if (k.includes("=") || k === "") throw new ValueError(`illegal environment variable name ${JSON.stringify(k)}`);
    }
  }
}

/** Validate a stdio option of child fd `target` and return what the child should get. */
function childStdio(value: StdioOption, target: number): ChildStdio | "pipe" {
  const name = ["stdin", "stdout", "stderr"][target];
  if (value === null || value === undefined) return { kind: "inherit" };
  if (value === PIPE) return "pipe";
  if (value === DEVNULL) return { kind: "devnull" };
  if (value === STDOUT) {
    if (target !== 2) throw new ValueError(`STDOUT can only be used for stderr, not ${name}`);
    return { kind: "stdout" };
  }
  let fd: unknown = value;
  if (typeof value === "object" && typeof (value as { fileno?: unknown }).fileno === "function") {
    fd = (value as { fileno(): number }).fileno();
  }
  if (typeof fd === "number" && Number.isInteger(fd) && fd >= 0) return { kind: "fd", fd };
  throw new ValueError(
    `${name} must be PIPE, DEVNULL${target === 2 ? ", STDOUT" : ""}, null, a file descriptor ` +
      `or an object with fileno(), got ${describe(value)}`,
  );
}

/** What the child's fds 0, 1 and 2 should be; ValueError for a bad option. */
export function checkStdio(options: SubprocessOptions): (ChildStdio | "pipe")[] {
  return [
    childStdio(options.stdin, 0), childStdio(options.stdout, 1), childStdio(options.stderr, 2),
  ];
}

export function checkFactory(factory: unknown): void {
  if (typeof factory !== "function") {
    throw new TypeError("protocolFactory must be a function returning a protocol");
  }
}

export function checkArg(arg: unknown): string {
  if (typeof arg !== "string") {
    throw new TypeError(`program arguments must be strings, not ${describe(arg)}`);
  }
  if (arg.includes("\0")) throw new TypeError(`embedded null byte in ${JSON.stringify(arg)}`);
  return arg;
}

/** asyncio's loop-level defaults: an omitted (undefined) stream is PIPE; null inherits. */
export function withPipeDefaults(options: SubprocessOptions): SubprocessOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`options must be an object, got ${describe(options)}`);
  }
  return {
    ...options,
    stdin: options.stdin === undefined ? PIPE : options.stdin,
    stdout: options.stdout === undefined ? PIPE : options.stdout,
    stderr: options.stderr === undefined ? PIPE : options.stderr,
  };
}
