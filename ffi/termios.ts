/**
 * Terminal modes (termios(3)): what Python's `termios` and `tty` modules do, for reading keys
 * one at a time from a terminal. The symbols are bound at the first call.
 *
 * struct termios differs by OS (ffi/os/): glibc's <bits/termios-struct.h> is four tcflag_t
 * (unsigned int) @0,4,8,12, c_line, c_cc[32], two speed_t — 60 bytes; FreeBSD's <sys/_termios.h>
 * four unsigned int, c_cc[20], two speed_t — 44 bytes; macOS's <sys/termios.h> four unsigned
 * long @0,8,16,24, c_cc[20], two speed_t (unsigned long) — 72 bytes. aioloop treats it as opaque
 * bytes that tcgetattr fills and cfmakeraw edits; only c_lflag is read, to tell raw from
 * canonical mode, and the flag bits differ too (ICANON is 2 on Linux, 0x100 on BSD).
 */
import { check, libcPath } from "./libc.ts";
import { osTable } from "./os/current.ts";
import type { OsTable } from "./os/table.ts";
import { type Bound, openLibrary, type SymbolSpec } from "./runtime.ts";

const symbols = {
  // tcgetattr(3), tcsetattr(3), cfmakeraw(3), isatty(3)
  tcgetattr: { args: ["i32", "buffer"], result: "i32" },
  tcsetattr: { args: ["i32", "i32", "buffer"], result: "i32" },
  cfmakeraw: { args: ["buffer"], result: "void" },
  isatty: { args: ["i32"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

let bound: Bound<typeof symbols> | null = null;

function lib(): Bound<typeof symbols> {
  bound ??= openLibrary(libcPath, symbols).symbols;
  return bound;
}

/** sizeof(struct termios) on this OS (see the module comment). */
const TERMIOS_SIZE = osTable.layouts.termiosSize;

const C = osTable.constants;
// tcsetattr(3) `when` values: <bits/termios-tcflow.h>, BSD <sys/termios.h> (the same numbers).
/** Change the mode at once (termios.TCSANOW). */
export const TCSANOW: number = C.TCSANOW!;
/** Change it after all queued output is written (termios.TCSADRAIN). */
export const TCSADRAIN: number = C.TCSADRAIN!;
/** As TCSADRAIN, and discard input not yet read (termios.TCSAFLUSH). */
export const TCSAFLUSH: number = C.TCSAFLUSH!;

// c_lflag bits: <bits/termios-c_lflag.h>, BSD <sys/termios.h>.
/** c_lflag: canonical mode, input arrives a line at a time. */
export const ICANON: number = C.ICANON!;
/** c_lflag: echo input characters. */
export const ECHO: number = C.ECHO!;
/** c_lflag: Ctrl-C, Ctrl-\ and Ctrl-Z raise signals. */
export const ISIG: number = C.ISIG!;

/** A terminal's mode: the bytes of a struct termios (Python keeps it as a list). */
export type TerminalMode = Uint8Array;

/** True if `fd` is a terminal (isatty(3); Python's os.isatty). Raises nothing. */
export function isatty(fd: number): boolean {
  return lib().isatty(fd) === 1;
}

/**
 * The terminal mode of `fd` (termios.tcgetattr). OSError: ENOTTY if `fd` is not a terminal,
 * EBADF if it is not open.
 */
export function tcgetattr(fd: number): TerminalMode {
  const mode = new Uint8Array(TERMIOS_SIZE);
  check(lib().tcgetattr(fd, mode), "tcgetattr");
  return mode;
}

/**
 * Set the terminal mode of `fd` (termios.tcsetattr); `when` is TCSANOW, TCSADRAIN or
 * TCSAFLUSH. OSError as tcgetattr, EINVAL for a bad `when`.
 */
export function tcsetattr(fd: number, when: number, mode: TerminalMode): void {
  if (mode.length !== TERMIOS_SIZE) {
    throw new TypeError(`a terminal mode is ${TERMIOS_SIZE} bytes (from tcgetattr), got ${mode.length}`);
  }
  check(lib().tcsetattr(fd, when, mode), "tcsetattr");
}

/**
 * Put terminal `fd` in raw mode (tty.setraw: cfmakeraw(3) — no line editing, no echo, no
 * signals from Ctrl-C, no output processing, so "\n" needs "\r\n") and return the mode it had,
 * for tcsetattr(fd, TCSAFLUSH, old) when done. OSError as tcgetattr.
 */
export function setRaw(fd: number, when: number = TCSAFLUSH): TerminalMode {
  const old = tcgetattr(fd);
  const raw = old.slice();
  lib().cfmakeraw(raw);
  tcsetattr(fd, when, raw);
  return old;
}

/**
 * The c_lflag word of `mode` (ICANON, ECHO, ISIG bits), a struct termios of `table`'s OS: a
 * 4-byte tcflag_t, or macOS's 8-byte one, whose defined bits all sit in the low 32 (every
 * target is little-endian, so those are its first four bytes).
 */
export function lflagOf(mode: TerminalMode, table: OsTable): number {
  const { termiosSize, termiosLflagOffset } = table.layouts;
  if (mode.length !== termiosSize) {
    throw new TypeError(`a ${table.os} terminal mode is ${termiosSize} bytes, got ${mode.length}`);
  }
  return new DataView(mode.buffer, mode.byteOffset, mode.byteLength).getUint32(termiosLflagOffset, true);
}

/** The c_lflag word of `mode` (ICANON, ECHO, ISIG bits). */
export function localFlags(mode: TerminalMode): number {
  return lflagOf(mode, osTable);
}
