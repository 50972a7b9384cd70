// Talk to a serial device with AT commands: open the port by path with os.open, put it in raw
// mode (termios, as pyserial does), wrap it with openFd, then write commands and read replies
// framed by CRLF. Python's version: os.open + tty.setraw + open_connection-style streams.
//
//   deno run --allow-ffi examples/serial_pty.ts [/dev/ttyUSB0]
//   bun examples/serial_pty.ts [/dev/ttyUSB0]
//
// With no path, a pseudo-terminal stands in for the port (os.openpty) and a small simulated
// modem answers on its other side, so the example runs anywhere. Deno needs only --allow-ffi:
// the port is opened through the loop's own FFI, not node:fs (which wants all permissions for
// a device). In your own project import from "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno)
// instead of "../mod.ts".
import process from "node:process";
import {
  openFd, os, run, setRaw, type StreamReader, type StreamWriter, TCSANOW, tcsetattr, type WriteTransport,
} from "../mod.ts";

const CRLF = "\r\n";
const encoder = new TextEncoder(), decoder = new TextDecoder();

/** One CRLF-framed line from the port, without its CRLF. */
async function readLine(reader: StreamReader): Promise<string> {
  const line = await reader.readuntil(CRLF);
  return decoder.decode(line.subarray(0, line.length - 2));
}

/** Send `command` and print the reply lines up to the final OK or ERROR. */
async function at(reader: StreamReader, writer: StreamWriter<WriteTransport>, command: string): Promise<void> {
  console.log(`> ${command}`);
  writer.write(encoder.encode(command + CRLF));
  await writer.drain();
  for (;;) {
    const line = await readLine(reader);
    if (line === "") continue; // modems put blank lines around replies
    console.log(`< ${line}`);
    if (line === "OK" || line === "ERROR") return;
  }
}

/**
 * The simulated modem on a pty's controller side: reads CRLF-terminated commands, answers
 * each with CRLF-framed lines, until the port closes.
 */
async function simulatedModem(controller: number): Promise<void> {
  const [reader, writer] = await openFd(controller);
  const replies: Record<string, string[]> = {
    "AT": ["OK"],
    "ATI": ["aioloop virtual modem 1.0", "OK"],
    "AT+CSQ": ["+CSQ: 23,99", "OK"],
  };
  try {
    for (;;) {
      const command = await readLine(reader);
      const reply = replies[command.toUpperCase()] ?? ["ERROR"];
      writer.write(encoder.encode(reply.map((line) => CRLF + line + CRLF).join("")));
    }
  } catch {
    // The port closed (the pty reports EIO): the modem is done.
  } finally {
    writer.close();
  }
}

async function main(): Promise<void> {
  let path = process.argv[2];
  let modem: Promise<void> | null = null;
  let standIn: number | null = null;
  if (path === undefined) {
    const [controller, terminal] = os.openpty();
    path = os.ttyname(terminal);
    // The terminal side is the port; the controller side is the wire to the device. Keep an
    // fd of the terminal open to the end: the modem sees EIO once the last one closes.
    standIn = terminal;
    modem = simulatedModem(controller);
    console.log(`port ${path.replace(/\d+$/, "N")}: a pty standing in for /dev/ttyUSB0`);
  }
  // O_NOCTTY: the port must not become this process's controlling terminal.
  const fd = os.open(path, os.O_RDWR | os.O_NOCTTY);
  const saved = setRaw(fd, TCSANOW); // bytes as they are: no echo, no CR/LF translation
  const [reader, writer] = await openFd(fd); // the streams own fd now
  try {
    for (const command of ["AT", "ATI", "AT+CSQ", "AT+BOGUS"]) await at(reader, writer, command);
  } finally {
    if (standIn === null) tcsetattr(fd, TCSANOW, saved); // a real port: put its mode back
    writer.close();
    await writer.waitClosed();
    if (standIn !== null) os.close(standIn);
    await modem;
  }
}

await run(main);
