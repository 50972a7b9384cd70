/**
 * Helpers for networking tests: deterministic payloads, checksums, and real peers run as
 * child processes (Python's socket/asyncio in tests/fixtures/peer.py).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Socket, AF_INET6, SOCK_STREAM } from "../mod.ts";

export const PYTHON = "/usr/bin/python3";
const PEER = new URL("./fixtures/peer.py", import.meta.url).pathname;

/** n bytes of the pattern peer.py also produces: (i*7 + (i >> 10)) mod 256. */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + (i >> 10)) & 0xff;
  return b;
}

export function sha256(...chunks: Uint8Array[]): string {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
}

/** Run a one-shot peer mode; resolves to its output line (rejects on a non-zero exit). */
export function runPeer(mode: string, ...args: (string | number)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [PEER, mode, ...args.map(String)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "", err = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (err += d));
    child.on("exit", (code) => {
      if (code === 0) resolve(out.trim());
      else reject(new Error(`peer ${mode} exited ${code}: ${err}`));
    });
  });
}

/** A peer server running in a child process until stop(). */
export interface PeerServer {
  port: number;
  stop(): Promise<void>;
}

/** Start a server mode of peer.py; resolves once it printed READY <port>. */
export function startPeerServer(mode: string, ...args: string[]): Promise<PeerServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(PYTHON, [PEER, mode, ...args], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const m = /READY (\d+)/.exec(out);
      if (m) {
        resolve({
          port: Number(m[1]),
          stop: () =>
            new Promise<void>((done) => {
              child.on("exit", () => done());
              child.stdin!.end();
            }),
        });
      }
    });
    child.on("exit", (code) => reject(new Error(`peer ${mode} exited early (${code})`)));
  });
}

/** True when this kernel can bind an IPv6 loopback socket. */
export function hasIpv6(): boolean {
  try {
    const s = new Socket(AF_INET6, SOCK_STREAM);
    try {
      s.bind(["::1", 0]);
      return true;
    } finally {
      s.close();
    }
  } catch {
    return false;
  }
}
