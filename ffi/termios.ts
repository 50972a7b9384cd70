/**
 * Terminal modes (termios(3)): what Python's `termios` and `tty` modules do, for reading keys
 * one at a time from a terminal. Linux only; the symbols are bound at the first call.
 *
 * struct termios, glibc's <bits/termios-struct.h> (the same on x86-64 and AArch64):
 *   tcflag_t c_iflag;   offset  0   (tcflag_t: unsigned int)
 *   tcflag_t c_oflag;   offset  4
 *   tcflag_t c_cflag;   offset  8
 *   tcflag_t c_lflag;   offset 12
 *   cc_t c_line;        offset 16   (cc_t: unsigned char)
 *   cc_t c_cc[NCCS];    offset 17   (NCCS 32)
 *   speed_t c_ispeed;   offset 52   (speed_t: unsigned int, aligned to 4)
 *   speed_t c_ospeed;   offset 56
 * sizeof 60. aioloop treats it as opaque bytes that tcgetattr fills and cfmakeraw edits; only
 * c_lflag is read, to tell raw from canonical mode.
 */
import { OSError } from "../loop/errors.ts";
import { check, libcPath } from "./libc.ts";
import { type Bound, openLibrary, osName, type SymbolSpec } from "./runtime.ts";

const symbols = {
  // tcgetattr(3), tcsetattr(3), cfmakeraw(3), isatty(3)
  tcgetattr: { args: ["i32", "buffer"], result: "i32" },
  tcsetattr: { args: ["i32", "i32", "buffer"], result: "i32" },
  cfmakeraw: { args: ["buffer"], result: "void" },
  isatty: { args: ["i32"], result: "i32" },
} as const satisfies Record<string, SymbolSpec>;

let bound: Bound<typeof symbols> | null = null;

function lib(): Bound<typeof symbols> {
  if (bound === null) {
    if (osName !== "linux") {
      throw new OSError(38, "ENOSYS", "Function not implemented", `termios layout is Linux's, not ${osName}'s`);
    }
    bound = openLibrary(libcPath, symbols).symbols;
  }
  return bound;
}

/** sizeof(struct termios) on Linux (see the module comment). */
const TERMIOS_SIZE = 60;
const C_LFLAG_OFFSET = 12;

// tcsetattr(3) `when` values, <bits/termios-tcflow.h>.
/** Change the mode at once (termios.TCSANOW). */
export const TCSANOW = 0;
/** Change it after all queued output is written (termios.TCSADRAIN). */
export const TCSADRAIN = 1;
/** As TCSADRAIN, and discard input not yet read (termios.TCSAFLUSH). */
export const TCSAFLUSH = 2;

// c_lflag bits, <bits/termios-c_lflag.h>.
/** c_lflag: canonical mode, input arrives a line at a time. */
export const ICANON = 0o000002;
/** c_lflag: echo input characters. */
export const ECHO = 0o000010;
/** c_lflag: Ctrl-C, Ctrl-\ and Ctrl-Z raise signals. */
export const ISIG = 0o000001;

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

/** The c_lflag word of `mode` (ICANON, ECHO, ISIG bits). */
export function localFlags(mode: TerminalMode): number {
  return new DataView(mode.buffer, mode.byteOffset, mode.byteLength).getUint32(C_LFLAG_OFFSET, true);
}
