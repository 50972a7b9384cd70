/**
 * The per-OS C library tables (ffi/os/) and the pure-TypeScript code that reads them, checked on
 * any OS against every table:
 * - the darwin and freebsd tables, value by value, against tests/fixtures/os_constants.json,
 *   which scripts/gen_os_constants.ts derived from two independent public sources (rust-lang/libc
 *   and golang/sys, commits pinned in the fixture) where both agree;
 * - every C symbol bound at import on those OSes exists in that OS's symbol list (fixture), both
 *   as the specs say and as importing mod.ts under a simulated OS actually binds (recorded by
 *   tests/fixtures/import_as_os.ts), with nothing Linux-only and variadic calls padded on
 *   Apple arm64;
 * - sockaddr encoding/decoding (sa_len, 106-byte sockaddr_un), termios c_lflag, stat st_mode,
 *   errno and signal names and wait statuses, for Linux's, macOS's and FreeBSD's tables.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { kqueueSymbolNames } from "../../ffi/kqueue.ts";
import { errnoNamesOf, libcHas, libcSymbols } from "../../ffi/libc.ts";
import { allTables, tableFor } from "../../ffi/os/current.ts";
import { CONSTANT_NAMES, type ConstantName, type OsTable } from "../../ffi/os/table.ts";
import { uncatchableSignals } from "../../ffi/signals.ts";
import { sockaddrCodec } from "../../ffi/sockaddr.ts";
import { returncodeOfWaitStatus, spawnHas, spawnSymbols, statFileType } from "../../ffi/spawn.ts";
import { arch, type SymbolSpec } from "../../ffi/runtime.ts";
import { lflagOf } from "../../ffi/termios.ts";
import { OverflowError, ValueError } from "../../mod.ts";
import { PYTHON } from "../net_helpers.ts";

interface Layout {
  size: number;
  offsets: Record<string, number>;
  sizes: Record<string, number>;
}
interface Target {
  constants: Record<string, number>;
  errno: Record<string, number>;
  signals: Record<string, number>;
  layouts: Record<string, Layout>;
  symbols: string[];
}
const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/os_constants.json", import.meta.url), "utf8"),
) as { disagreements: string[]; targets: Record<string, Target> };

/**
 * Table values neither source has, each cited in the table from the OS's header instead:
 * macOS EAI_ADDRFAMILY and POSIX_SPAWN_SETSID, FreeBSD's obsolete EAI_ADDRFAMILY/EAI_NODATA,
 * and NSIG (a header macro neither source exports).
 */
const HEADER_ONLY: Record<string, readonly string[]> = {
  darwin: ["EAI_ADDRFAMILY", "POSIX_SPAWN_SETSID", "NSIG"],
  freebsd: ["EAI_ADDRFAMILY", "EAI_NODATA", "NSIG"],
};

const bsdTables = allTables.filter((t) => t.os !== "linux");

test("the fixture's two sources agree on every value (rust-lang/libc and golang/sys)", () => {
  assert.deepEqual(fixture.disagreements, []);
  assert.equal(Object.keys(fixture.targets).length, 4);
});

for (const table of bsdTables) {
  const key = `${table.os}-${table.arch}`;
  const target = fixture.targets[key];

  test(`${key}: every constant is the fixture's (absent where both sources lack it)`, () => {
    for (const name of CONSTANT_NAMES) {
      const value = table.constants[name];
      if (name in target.constants) {
        assert.equal(value, target.constants[name], `${key} ${name}`);
      } else if (HEADER_ONLY[table.os].includes(name)) {
        assert.equal(typeof value, "number", `${key} ${name} (header only)`);
      } else {
        assert.equal(value, null, `${key} ${name}: neither source has it, so the table must not`);
      }
    }
    // NSIG is one past the highest signal on macOS; FreeBSD's is _SIG_MAXSIG, above every name.
    const highest = Math.max(...Object.values(target.signals));
    assert.ok(table.constants.NSIG! > highest);
  });

  test(`${key}: errno and signal numbers are the fixture's, name for name`, () => {
    assert.deepEqual({ ...table.errno }, target.errno);
    assert.deepEqual({ ...table.signals }, target.signals);
  });

  test(`${key}: struct layouts are the fixture's`, () => {
    const L = table.layouts, F = target.layouts;
    assert.equal(L.sockaddrIn, F.sockaddr_in.size);
    assert.equal(L.sockaddrIn6, F.sockaddr_in6.size);
    assert.equal(L.sockaddrUn, F.sockaddr_un.size);
    assert.equal(L.sunPath, F.sockaddr_un.sizes.sun_path);
    assert.equal(F.sockaddr_un.offsets.sun_path, 2);
    assert.equal(L.sockaddrStorage, F.sockaddr_storage.size);
    // sa_len: a one-byte field at 0, the family a one-byte field at 1.
    assert.equal(L.sockaddrHasLen, F.sockaddr_in.sizes.sin_len === 1 && F.sockaddr_in.sizes.sin_family === 1);
    assert.equal(F.sockaddr_in6.offsets.sin6_scope_id, 24);
    assert.equal(L.termiosSize, F.termios.size);
    assert.equal(L.termiosLflagOffset, F.termios.offsets.c_lflag);
    assert.equal(L.tcflagSize, F.termios.sizes.c_lflag);
    assert.equal(table.constants.NCCS, F.termios.sizes.c_cc);
    assert.equal(L.statSize, F.stat.size);
    assert.equal(L.statModeOffset, F.stat.offsets.st_mode);
    assert.equal(L.statModeSize, F.stat.sizes.st_mode);
  });

  test(`${key}: every symbol bound at import exists in the OS's symbol list`, () => {
    const have = new Set(target.symbols);
    const bound: string[] = [];
    const add = (specs: Record<string, SymbolSpec>, has: (k: string) => boolean) => {
      for (const [k, spec] of Object.entries(specs)) if (has(k)) bound.push(spec.name ?? k);
    };
    add(libcSymbols(table), (k) => libcHas(table, k));
    add(spawnSymbols(table), (k) => spawnHas(table, k));
    bound.push(...kqueueSymbolNames, "poll", "pipe", "tcgetattr", "tcsetattr", "cfmakeraw", "isatty", "openpty");
    const missing = bound.filter((name) => !have.has(name));
    assert.deepEqual(missing, [], `${key} lacks ${missing.join(", ")}`);
    // Nothing Linux-only is bound there.
    for (const linuxOnly of ["epoll_create1", "epoll_wait", "eventfd", "__errno_location", "pidfd_open", "waitid"]) {
      assert.ok(!bound.includes(linuxOnly), `${key} binds ${linuxOnly}`);
    }
  });
}

/** What importing mod.ts binds as if on `os`/`cpu`, recorded by tests/fixtures/import_as_os.ts. */
function boundAtImport(os: string, cpu: string): { path: string; symbol: string; parameters: string[] }[] {
  const root = new URL("../..", import.meta.url).pathname;
  const out = execFileSync(
    join(root, "node_modules/.bin/deno"),
    ["run", "-A", "--no-check", join(root, "tests/fixtures/import_as_os.ts"), os, cpu],
    { encoding: "utf8", timeout: 60000 },
  );
  return JSON.parse(out.trim().split("\n").at(-1)!);
}

/** C functions taking `...`: on Apple arm64 each must be bound padded (ffi/libc.ts fcntlSpec). */
const VARIADIC = new Set(["fcntl", "ioctl", "open", "openat", "syscall", "prctl"]);
/** Linux-only calls and glibc names: never bound on macOS or FreeBSD. */
const LINUX_ONLY = [
  "epoll_create1", "epoll_ctl", "epoll_wait", "eventfd", "__errno_location", "pidfd_open",
  "pidfd_send_signal", "waitid", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
  "statx", "syscall", "mmap", "posix_spawn_file_actions_addchdir_np",
  "posix_spawn_file_actions_addclosefrom_np",
];

test("importing mod.ts as on Linux binds the Linux extras (the recorder below sees them)", () => {
  const names = boundAtImport("linux", "x86_64").map((b) => b.symbol);
  for (const name of ["epoll_create1", "eventfd", "__errno_location", "pidfd_open", "syscall"]) {
    assert.ok(names.includes(name), `linux binds ${name}`);
  }
});

for (const table of bsdTables) {
  const key = `${table.os}-${table.arch}`;
  test(`${key}: importing mod.ts binds only this OS's libc, only symbols it has, nothing Linux-only`, () => {
    const bound = boundAtImport(table.os, table.arch);
    assert.ok(bound.length > 30, `${key}: ${bound.length} symbols recorded`);
    const have = new Set(fixture.targets[key].symbols);
    assert.deepEqual([...new Set(bound.map((b) => b.path))], [table.libc]);
    const missing = bound.filter((b) => !have.has(b.symbol)).map((b) => b.symbol);
    assert.deepEqual(missing, [], `${key} lacks ${missing.join(", ")}`);
    const linuxOnly = bound.filter((b) => LINUX_ONLY.includes(b.symbol)).map((b) => b.symbol);
    assert.deepEqual(linuxOnly, [], `${key} binds Linux-only ${linuxOnly.join(", ")}`);
    // Variadic calls: the value after eight register-sized arguments on Apple arm64, else as is.
    for (const b of bound.filter((b) => VARIADIC.has(b.symbol))) {
      if (table.has.variadicOnStack) assert.equal(b.parameters.length, 9, `${key} ${b.symbol}`);
      else assert.ok(b.parameters.length <= 6, `${key} ${b.symbol}`);
    }
    assert.ok(bound.some((b) => b.symbol === "fcntl"), "fcntl is bound at import");
  });
}

test("the tables are chosen by OS and architecture; others get Linux's (Windows' vocabulary)", () => {
  assert.equal(tableFor("darwin", "x86_64").symbols.fstat, "fstat$INODE64");
  assert.equal(tableFor("darwin", "aarch64").symbols.fstat, "fstat");
  assert.equal(tableFor("darwin", "aarch64").has.variadicOnStack, true);
  assert.equal(tableFor("darwin", "x86_64").has.variadicOnStack, false);
  assert.equal(tableFor("freebsd", "aarch64").has.variadicOnStack, false);
  assert.equal(tableFor("windows", "x86_64").os, "linux");
  // … without what only Linux has: Python's socket module on Windows has no AF_NETLINK either.
  assert.equal(tableFor("windows", "x86_64").constants.AF_NETLINK, null);
  assert.equal(tableFor("win32", "x86_64").constants.SO_BINDTODEVICE, null);
  assert.equal(tableFor("windows", "x86_64").constants.IP_ADD_MEMBERSHIP, 35);
  assert.equal(tableFor("linux", "x86_64").constants.AF_NETLINK, 16);
  assert.equal(tableFor("linux", "aarch64").layouts.statModeOffset, 16);
  // Apple arm64: fcntl padded so its value is the ninth argument (first on the stack).
  assert.equal(libcSymbols(tableFor("darwin", "aarch64")).fcntl.args.length, 9);
  assert.equal(libcSymbols(tableFor("darwin", "x86_64")).fcntl.args.length, 3);
});

// ---- Table-driven pure TypeScript, for every table -------------------------------------------

function family(t: OsTable, name: "AF_INET" | "AF_INET6" | "AF_UNIX"): number {
  return t.constants[name]!;
}

for (const t of allTables) {
  const key = `${t.os}-${t.arch}`;
  const codec = sockaddrCodec(t);

  test(`${key}: sockaddr_in / sockaddr_in6 encode with this OS's header and decode back`, () => {
    const out = new Uint8Array(128);
    const n = codec.encode(family(t, "AF_INET"), ["127.0.0.1", 8080], out);
    assert.equal(n, 16);
    const head = t.layouts.sockaddrHasLen ? [16, family(t, "AF_INET")] : [family(t, "AF_INET"), 0];
    assert.deepEqual([...out.subarray(0, 8)], [...head, 0x1f, 0x90, 127, 0, 0, 1]);
    assert.equal(codec.readFamily(out), family(t, "AF_INET"));
    assert.deepEqual(codec.decode(out, n), ["127.0.0.1", 8080]);

    const n6 = codec.encode(family(t, "AF_INET6"), ["::1", 443, 7, 3], out);
    assert.equal(n6, 28);
    if (t.layouts.sockaddrHasLen) assert.deepEqual([out[0], out[1]], [28, family(t, "AF_INET6")]);
    assert.deepEqual(codec.decode(out, n6), ["::1", 443, 7, 3]);
    // Another OS's family number is not this one's address.
    assert.notEqual(codec.readFamily(out), family(t, "AF_INET"));
  });

  test(`${key}: sockaddr_un holds ${t.layouts.sunPath} path bytes; abstract names only on Linux`, () => {
    const out = new Uint8Array(128);
    const longest = "/" + "p".repeat(t.layouts.sunPath - 1);
    const n = codec.encode(family(t, "AF_UNIX"), longest, out);
    assert.equal(n, 2 + t.layouts.sunPath);
    assert.equal(codec.decode(out, n), longest);
    assert.throws(() => codec.encode(family(t, "AF_UNIX"), longest + "x", out), ValueError);
    const short = codec.encode(family(t, "AF_UNIX"), "/tmp/s", out);
    if (t.layouts.sockaddrHasLen) assert.deepEqual([out[0], out[1]], [short, family(t, "AF_UNIX")]);
    assert.equal(codec.decode(out, short), "/tmp/s");
    if (t.layouts.abstractUnixNames) {
      const a = codec.encode(family(t, "AF_UNIX"), "\0name", out);
      assert.equal(codec.decode(out, a), "\0name");
    } else {
      assert.throws(() => codec.encode(family(t, "AF_UNIX"), "\0name", out), /abstract names .* Linux only/);
    }
  });

  test(`${key}: bad addresses are clear errors with this table too`, () => {
    const out = new Uint8Array(128);
    assert.throws(() => codec.encode(family(t, "AF_INET"), ["localhost", 1], out), ValueError);
    assert.throws(() => codec.encode(family(t, "AF_INET"), ["1.2.3.4", 70000], out), OverflowError);
    assert.throws(() => codec.encode(family(t, "AF_INET6"), "::1" as never, out), TypeError);
    assert.throws(() => codec.encode(9999, ["1.2.3.4", 1], out), /address family 9999 is not supported/);
  });

  test(`${key}: AF_NETLINK's sockaddr_nl on Linux; refused elsewhere, where there is no such family`, () => {
    const out = new Uint8Array(128);
    const netlink = t.constants.AF_NETLINK;
    if (netlink === null) {
      assert.throws(() => codec.encode(16, [0, 1], out), /address family 16 is not supported \(AF_INET, AF_INET6, AF_UNIX\)/);
      return;
    }
    const n = codec.encode(netlink, [0x01020304, 0x11], out);
    assert.equal(n, 12);
    // nl_family (u16), nl_pad, nl_pid (u32), nl_groups (u32), host order (little-endian here).
    assert.deepEqual([...out.subarray(0, 12)], [16, 0, 0, 0, 4, 3, 2, 1, 0x11, 0, 0, 0]);
    assert.deepEqual(codec.decode(out, n), [0x01020304, 0x11]);
    assert.throws(() => codec.encode(netlink, ["0", 0] as never, out), TypeError);
  });

  test(`${key}: termios c_lflag is read at this OS's offset and width`, () => {
    const mode = new Uint8Array(t.layouts.termiosSize);
    const view = new DataView(mode.buffer);
    const bits = t.constants.ICANON! | t.constants.ECHO!;
    view.setUint32(t.layouts.termiosLflagOffset, bits, true);
    assert.equal(lflagOf(mode, t), bits);
    assert.equal(lflagOf(mode, t) & t.constants.ISIG!, 0);
    assert.throws(() => lflagOf(new Uint8Array(t.layouts.termiosSize + 1), t), TypeError);
  });

  test(`${key}: stat st_mode is read at this OS's offset and width`, () => {
    const stat = new DataView(new ArrayBuffer(256));
    const mode = t.constants.S_IFIFO! | 0o644;
    if (t.layouts.statModeSize === 2) stat.setUint16(t.layouts.statModeOffset, mode, true);
    else stat.setUint32(t.layouts.statModeOffset, mode, true);
    assert.equal(statFileType(stat, t), t.constants.S_IFIFO);
  });

  test(`${key}: errno and signal names map both ways`, () => {
    const names = errnoNamesOf(t);
    assert.equal(names[t.errno.EAGAIN], "EAGAIN");
    assert.equal(names[t.errno.EINPROGRESS], "EINPROGRESS");
    assert.equal(names[t.errno.ECONNREFUSED], "ECONNREFUSED");
    for (const [name, num] of Object.entries(t.errno)) assert.equal(names[num], name);
    assert.deepEqual(uncatchableSignals(t), new Set([t.signals.SIGKILL, t.signals.SIGSTOP]));
    for (const num of Object.values(t.signals)) assert.ok(num >= 1 && num < t.constants.NSIG!);
  });
}

test("BSD numbers are not Linux's where the issue says they differ", () => {
  const mac = tableFor("darwin", "aarch64"), fbsd = tableFor("freebsd", "x86_64");
  assert.deepEqual([mac.errno.EAGAIN, mac.errno.EINPROGRESS, mac.errno.ECONNRESET, mac.errno.ECONNREFUSED], [35, 36, 54, 61]);
  assert.deepEqual([mac.constants.AF_INET6, fbsd.constants.AF_INET6], [30, 28]);
  assert.deepEqual([mac.constants.SOL_SOCKET, mac.constants.IPV6_V6ONLY, mac.constants.MSG_DONTWAIT], [0xffff, 27, 0x80]);
  assert.deepEqual([mac.constants.SOCK_NONBLOCK, mac.constants.SO_DOMAIN, mac.constants.O_NONBLOCK], [null, null, 4]);
  assert.deepEqual([mac.signals.SIGUSR1, mac.signals.SIGCHLD, mac.constants.NSIG, fbsd.constants.NSIG], [30, 20, 32, 128]);
  assert.deepEqual([mac.layouts.termiosSize, fbsd.layouts.termiosSize], [72, 44]);
  // MSG_NOSIGNAL is in macOS 11+ headers (xnu-7195) but ignored by 10.15's kernel: the loop
  // must also set SO_NOSIGPIPE on each socket there (platform/posix_socket.ts).
  assert.deepEqual([mac.constants.MSG_NOSIGNAL, mac.constants.SO_NOSIGPIPE, mac.has.soNoSigpipe], [0x80000, 0x1022, true]);
});

test("linux: every table constant Python's socket module has is Python's number (an independent source on Linux)", {
  skip: process.platform !== "linux" && "reads Python's socket module of this Linux host",
}, () => {
  const linux = tableFor("linux", arch);
  const names = CONSTANT_NAMES.filter((n) => linux.constants[n] !== null);
  const script = `import json, socket, sys
names = json.loads(sys.argv[1])
print(json.dumps({n: int(getattr(socket, n)) for n in names if hasattr(socket, n)}))`;
  const python: Record<string, number> = JSON.parse(
    execFileSync(PYTHON, ["-c", script, JSON.stringify(names)], { encoding: "utf8" }),
  );
  // Python's names for this part of the table, at least (3.11 lacks RTMGRP_*, SOL_NETLINK …).
  for (const n of ["AF_NETLINK", "AF_PACKET", "NETLINK_ROUTE", "IP_ADD_MEMBERSHIP", "IPV6_JOIN_GROUP", "SO_BINDTODEVICE"]) {
    assert.ok(n in python, `Python has ${n}`);
  }
  const differ = Object.entries(python).filter(([n, v]) => linux.constants[n as ConstantName] !== v);
  assert.deepEqual(differ, [], `Linux table vs Python: ${JSON.stringify(differ)}`);
});

test("wait(2) statuses become Python returncodes", () => {
  assert.equal(returncodeOfWaitStatus(0), 0);
  assert.equal(returncodeOfWaitStatus(3 << 8), 3);
  assert.equal(returncodeOfWaitStatus(255 << 8), 255);
  assert.equal(returncodeOfWaitStatus(9), -9);
  assert.equal(returncodeOfWaitStatus(15 | 0x80), -15); // killed, core dumped
  assert.equal(returncodeOfWaitStatus((19 << 8) | 0x7f), null); // stopped
  assert.equal(returncodeOfWaitStatus(0xffff), null); // continued
});
