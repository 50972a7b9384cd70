// Read keys one at a time from a terminal in raw mode: Python's tty.setraw() plus
// loop.connect_read_pipe() on stdin. Arrow keys arrive as escape sequences, Ctrl-C as a byte
// (raw mode turns its signal off), nothing is echoed.
//
//   deno run -A examples/raw_keys.ts      bun examples/raw_keys.ts      (q or Ctrl-C quits)
//
// The terminal's mode is restored on the way out, even after an error. In your own project
// import from "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  type Future, getRunningLoop, isatty, type Protocol, run, setRaw,
  TCSAFLUSH, tcsetattr,
} from "../mod.ts";

const STDIN = 0;
if (!isatty(STDIN)) {
  console.error("raw_keys.ts: stdin is not a terminal");
  process.exit(2);
}

const NAMES: Record<string, string> = {
  "\x1b[A": "Up", "\x1b[B": "Down", "\x1b[C": "Right", "\x1b[D": "Left",
  "\x1b[H": "Home", "\x1b[F": "End", "\x1b[3~": "Delete", "\x1b": "Escape",
  "\r": "Enter", "\t": "Tab", "\x7f": "Backspace", " ": "Space",
};

/** Split a chunk of input into keys: escape sequences (ESC [ … final byte) or single characters. */
function* keys(text: string): Generator<string> {
  for (let i = 0; i < text.length;) {
    // A terminal escape sequence starts with ESC (0x1b), a control character on purpose.
    // deno-lint-ignore no-control-regex
    const m = /^\x1b\[[0-9;]*[A-Za-z~]/.exec(text.slice(i));
    const key = m ? m[0] : String.fromCodePoint(text.codePointAt(i)!);
    i += key.length;
    yield key;
  }
}

function keyName(key: string): string {
  if (key in NAMES) return NAMES[key];
  const code = key.codePointAt(0)!;
  if (code < 0x20) return `Ctrl-${String.fromCharCode(code + 0x40)}`;
  return key.startsWith("\x1b") ? JSON.stringify(key) : key;
}

const decoder = new TextDecoder();

/** Prints each key; resolves `done` on q, Ctrl-C or the end of input. */
class KeyReader implements Partial<Protocol> {
  constructor(private readonly done: Future<void>) {}
  dataReceived(data: Uint8Array): void {
    for (const key of keys(decoder.decode(data, { stream: true }))) {
      const name = keyName(key);
      // Raw mode also turns output processing off: a line ends with "\r\n" on a terminal.
      console.log(`key: ${name}\r`);
      if (name === "q" || name === "Ctrl-C") this.finish();
    }
  }
  eofReceived(): void {
    this.finish();
  }
  connectionLost(): void {
    this.finish();
  }
  private finish(): void {
    if (!this.done.done()) this.done.setResult();
  }
}

async function main(): Promise<void> {
  const loop = getRunningLoop();
  const done = loop.createFuture<void>();
  const saved = setRaw(STDIN); // the old mode, to put back
  try {
    const [transport] = await loop.connectReadPipe(() => new KeyReader(done), { fileno: () => STDIN });
    console.log("raw mode: press keys, q or Ctrl-C quits\r");
    try {
      await done;
    } finally {
      transport.close();
    }
  } finally {
    tcsetattr(STDIN, TCSAFLUSH, saved);
  }
}

await run(main);
