/**
 * platform/posix_socket.ts's SO_DOMAIN / SO_PROTOCOL for OSes without them (macOS), which a
 * Socket around an existing fd reads (loop/net/socket.ts). Run here against real sockets twice:
 * - with this OS's table minus those two options, the derived answers must equal the kernel's
 *   own SO_DOMAIN and SO_PROTOCOL (Linux, FreeBSD);
 * - with macOS's table, over real sockets whose getsockname bytes are re-encoded in macOS's
 *   layout (sa_len, AF_INET6 = 30) and whose SO_TYPE query is translated, so macOS's decoding
 *   runs on Linux.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { libc } from "../../ffi/libc.ts";
import { osTable, tableFor } from "../../ffi/os/current.ts";
import type { OsTable } from "../../ffi/os/table.ts";
import { sockaddrCodec } from "../../ffi/sockaddr.ts";
import {
  ABSENT_SO_DOMAIN, ABSENT_SO_PROTOCOL, AF_INET, AF_INET6, AF_UNIX, SO_DOMAIN, SO_PROTOCOL,
  SO_RCVBUF, SO_TYPE, SOCK_DGRAM, SOCK_STREAM, SOL_SOCKET,
} from "../../ffi/socket_constants.ts";
import { derivedSocketIdentity, posixSocketCalls, type SocketQueryCalls } from "../../platform/posix_socket.ts";
import { removeTree, windowsLacks } from "../helpers.ts";

const calls = posixSocketCalls;
const kernelHasThem = osTable.constants.SO_DOMAIN !== null && osTable.constants.SO_PROTOCOL !== null;
const hostCodec = sockaddrCodec(osTable);

/** Every kind of socket the loop makes, unbound and bound; closed at the end of `body`. */
function withSockets(body: (fd: number, what: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "aioloop-sock-"));
  const out = new Uint8Array(128);
  const cases: [number, number, string, unknown][] = [
    [AF_INET, SOCK_STREAM, "tcp4", ["127.0.0.1", 0]],
    [AF_INET, SOCK_DGRAM, "udp4", ["127.0.0.1", 0]],
    [AF_INET6, SOCK_STREAM, "tcp6", ["::1", 0]],
    [AF_INET6, SOCK_DGRAM, "udp6", ["::1", 0]],
    [AF_UNIX, SOCK_STREAM, "unix-stream", join(dir, "s")],
    [AF_UNIX, SOCK_DGRAM, "unix-dgram", join(dir, "d")],
  ];
  try {
    for (const [family, type, what, address] of cases) {
      for (const bound of [false, true]) {
        const fd = calls.socket(family, type, 0);
        assert.ok(fd >= 0, `socket ${what}: ${fd}`);
        try {
          if (bound) {
            const n = hostCodec.encode(family, address as never, out);
            assert.equal(calls.bind(fd, out, n), 0, `bind ${what}`);
          }
          body(fd, `${what}${bound ? " (bound)" : ""}`);
        } finally {
          calls.close(fd);
        }
      }
    }
  } finally {
    removeTree(dir);
  }
}

function ask(getsockopt: SocketQueryCalls["getsockopt"], fd: number, level: number, name: number): number {
  const v = new Int32Array([-99]);
  const len = new Uint32Array([4]);
  const r = getsockopt(fd, level, name, v, len);
  return r < 0 ? r : v[0];
}

/** `table` as if its OS had no SO_DOMAIN / SO_PROTOCOL. */
function withoutThem(table: OsTable): OsTable {
  return { ...table, constants: { ...table.constants, SO_DOMAIN: null, SO_PROTOCOL: null } };
}

test("derived SO_DOMAIN / SO_PROTOCOL equal the kernel's for TCP, UDP and AF_UNIX, bound or not", {
  skip: windowsLacks("POSIX sockets") || (!kernelHasThem && "this OS has no SO_DOMAIN to compare with"),
}, () => {
  const derived = derivedSocketIdentity(withoutThem(osTable), calls);
  let n = 0;
  withSockets((fd, what) => {
    assert.equal(ask(derived, fd, SOL_SOCKET, ABSENT_SO_DOMAIN), ask(calls.getsockopt, fd, SOL_SOCKET, SO_DOMAIN), what);
    assert.equal(ask(derived, fd, SOL_SOCKET, ABSENT_SO_PROTOCOL), ask(calls.getsockopt, fd, SOL_SOCKET, SO_PROTOCOL), what);
    // A byte buffer gets the same int.
    const bytes = new Uint8Array(4), len = new Uint32Array([4]);
    assert.equal(derived(fd, SOL_SOCKET, ABSENT_SO_DOMAIN, bytes, len), 0);
    assert.equal(new DataView(bytes.buffer).getInt32(0, true), ask(calls.getsockopt, fd, SOL_SOCKET, SO_DOMAIN));
    n++;
  });
  assert.equal(n, 12);
});

test("macOS's decoding: family from sa_family behind sa_len (AF_INET6 is 30), protocol from SO_TYPE", {
  skip: windowsLacks("POSIX sockets"),
}, () => {
  const mac = tableFor("darwin", "aarch64");
  const M = mac.constants, macCodec = sockaddrCodec(mac);
  const familyName = (f: number) => f === AF_INET ? "AF_INET" : f === AF_INET6 ? "AF_INET6" : "AF_UNIX";
  const seen: number[] = [];
  // This host's getsockname and SO_TYPE, spoken in macOS's numbers and layouts.
  const asMac: SocketQueryCalls = {
    getsockname(fd, addr, addrLen) {
      const host = new Uint8Array(128), hostLen = new Uint32Array([128]);
      const r = calls.getsockname(fd, host, hostLen);
      if (r < 0) return r;
      const family = hostCodec.readFamily(host);
      const address = hostCodec.decode(host, hostLen[0]);
      addrLen[0] = macCodec.encode(M[familyName(family)]!, address as never, addr);
      seen.push(addr[0], addr[1]);
      return 0;
    },
    getsockopt(fd, level, name, value, len) {
      if (level === M.SOL_SOCKET && name === M.SO_TYPE) return calls.getsockopt(fd, SOL_SOCKET, SO_TYPE, value, len);
      return -mac.errno.ENOPROTOOPT;
    },
  };
  const derived = derivedSocketIdentity(mac, asMac);
  const want: Record<string, [number, number]> = {
    tcp4: [2, 6], udp4: [2, 17], tcp6: [30, 6], udp6: [30, 17], "unix-stream": [1, 0], "unix-dgram": [1, 0],
  };
  withSockets((fd, what) => {
    const [family, proto] = want[what.replace(" (bound)", "")];
    assert.equal(ask(derived, fd, M.SOL_SOCKET!, ABSENT_SO_DOMAIN), family, what);
    assert.equal(ask(derived, fd, M.SOL_SOCKET!, ABSENT_SO_PROTOCOL), proto, what);
  });
  // The bytes it read were macOS's: sa_len first, then the family.
  assert.ok(seen.includes(30) && seen.includes(28), "sockaddr_in6 with sa_len 28, family 30");
  // Options macOS has go to its getsockopt unchanged.
  assert.equal(ask(derived, 0, M.SOL_SOCKET!, M.SO_RCVBUF!), -mac.errno.ENOPROTOOPT);
});

test("derived SO_DOMAIN / SO_PROTOCOL: errors are the calls' errno, other options pass through", {
  skip: windowsLacks("POSIX sockets"),
}, () => {
  const t = withoutThem(osTable);
  const derived = derivedSocketIdentity(t, calls);
  const fd = calls.socket(AF_INET, SOCK_STREAM, 0);
  const pipe = new Int32Array(2);
  assert.equal(libc.pipe(pipe), 0);
  try {
    assert.equal(ask(derived, fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    assert.ok(ask(derived, fd, SOL_SOCKET, SO_RCVBUF) > 0);
    assert.equal(ask(derived, pipe[0], SOL_SOCKET, ABSENT_SO_DOMAIN), -t.errno.ENOTSOCK);
    assert.equal(ask(derived, pipe[0], SOL_SOCKET, ABSENT_SO_PROTOCOL), -t.errno.ENOTSOCK);
    assert.equal(derived(fd, SOL_SOCKET, ABSENT_SO_DOMAIN, new Uint8Array(2), new Uint32Array([2])), -t.errno.EINVAL);
    // Another level is not SOL_SOCKET's option of that number.
    assert.notEqual(ask(derived, fd, t.constants.IPPROTO_TCP!, ABSENT_SO_DOMAIN), AF_INET);
  } finally {
    calls.close(fd);
    libc.close(pipe[0]);
    libc.close(pipe[1]);
  }
  assert.equal(ask(derived, fd, SOL_SOCKET, ABSENT_SO_DOMAIN), -t.errno.EBADF);
  // Where the OS has both options, the C library's getsockopt is used as is.
  assert.equal(derivedSocketIdentity(tableFor("linux", "x86_64"), calls), calls.getsockopt);
});
