/**
 * Writes tests/fixtures/os_constants.json: the C-library facts aioloop's per-OS tables
 * (ffi/os/darwin.ts, ffi/os/freebsd.ts) must match, for darwin and freebsd on x86_64 and
 * aarch64, each read from two independent public sources:
 * - the Rust `libc` crate (github.com/rust-lang/libc): `pub const`, `pub type`, `pub struct`
 *   and `extern` function declarations of src/unix/{mod.rs, bsd/...};
 * - Go's golang.org/x/sys/unix (github.com/golang/sys): zerrors_<os>_<arch>.go (constants,
 *   Errno, Signal), ztypes_<os>_<arch>.go (Sizeof*, struct layouts) and, for darwin,
 *   zsyscall_darwin_<arch>.go's cgo_import_dynamic lines (symbols of libSystem).
 * A value goes into the fixture when both sources give it and agree, or when only one of them
 * has it (its entry then says which, in `singleSource`); disagreements are listed and fail the
 * run. The fixture pins both commits. Usage (both repositories checked out or mirrored):
 *   deno run -A scripts/gen_os_constants.ts <rust-libc git dir> <golang-sys git dir> \
 *     > tests/fixtures/os_constants.json
 */
import { execFileSync } from "node:child_process";
import { CONSTANT_NAMES } from "../ffi/os/table.ts";

const [rustRepo, goRepo] = (globalThis as { process?: { argv: string[] } }).process?.argv.slice(2) ??
  // deno-lint-ignore no-explicit-any
  (globalThis as any).Deno.args;
if (!rustRepo || !goRepo) throw new Error("usage: gen_os_constants.ts <rust-libc git dir> <golang-sys git dir>");

function git(repo: string, ...args: string[]): string {
  return execFileSync("git", ["--git-dir", repo.endsWith(".git") || repo.endsWith("/repo") ? repo : `${repo}/.git`, ...args], {
    encoding: "utf8",
    maxBuffer: 64 << 20,
  });
}
const rustCommit = git(rustRepo, "rev-parse", "HEAD").trim();
const goCommit = git(goRepo, "rev-parse", "HEAD").trim();
const show = (repo: string, path: string) => git(repo, "show", `HEAD:${path}`);

type Os = "darwin" | "freebsd";
type Arch = "x86_64" | "aarch64";
const goArch = { x86_64: "amd64", aarch64: "arm64" } as const;

/** The Rust libc files that make up `os`/`arch`, most general first. */
function rustFiles(os: Os, arch: Arch): string[] {
  if (os === "darwin") {
    return [
      "src/unix/mod.rs", "src/unix/bsd/mod.rs", "src/unix/bsd/apple/mod.rs",
      "src/unix/bsd/apple/b64/mod.rs", `src/unix/bsd/apple/b64/${arch}/mod.rs`,
    ];
  }
  return [
    "src/unix/mod.rs", "src/unix/bsd/mod.rs", "src/unix/bsd/freebsdlike/mod.rs",
    "src/unix/bsd/freebsdlike/freebsd/mod.rs", "src/unix/bsd/freebsdlike/freebsd/freebsd14/mod.rs",
    arch === "x86_64" ? "src/unix/bsd/freebsdlike/freebsd/x86_64/mod.rs" : "src/unix/bsd/freebsdlike/freebsd/aarch64.rs",
  ];
}

// ---- Rust: constants (every candidate value; cfg-gated duplicates give several) -------------

function evalExpr(expr: string, known: Map<string, number[]>): number | null {
  let e = expr.replace(/\s+as\s+[\w:]+/g, "").replace(/crate::|libc::/g, "").replace(/_(?=[0-9a-fA-F])/g, "");
  e = e.replace(/\b[A-Z_][A-Z0-9_]*\b/g, (name) => {
    const v = known.get(name);
    return v && v.length === 1 ? `(${v[0]})` : "NaN";
  });
  if (!/^[0-9a-fA-Fx()|&<>~+\-*\sN]*$/.test(e) || e.includes("NaN")) return null;
  try {
    const v = Function(`"use strict"; return (${e});`)();
    return typeof v === "number" && Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function rustConstants(os: Os, arch: Arch): Map<string, number[]> {
  const known = new Map<string, number[]>();
  for (const file of rustFiles(os, arch)) {
    const text = show(rustRepo, file);
    for (const m of text.matchAll(/pub const ([A-Z_][A-Z0-9_]*): [\w:]+ =\s*([^;]+);/g)) {
      const v = evalExpr(m[2], known);
      if (v === null) continue;
      const list = known.get(m[1]) ?? [];
      if (!list.includes(v)) list.push(v);
      known.set(m[1], list);
    }
  }
  return known;
}

// ---- Go: constants -----------------------------------------------------------------------------

interface GoConsts {
  plain: Map<string, number>;
  errno: Map<string, number>;
  signal: Map<string, number>;
}

function goConstants(os: Os, arch: Arch): GoConsts {
  const text = show(goRepo, `unix/zerrors_${os}_${goArch[arch]}.go`);
  const out: GoConsts = { plain: new Map(), errno: new Map(), signal: new Map() };
  for (const m of text.matchAll(/^\s+([A-Z_][A-Z0-9_]*)\s+= (syscall\.(Errno|Signal)\()?(-?0x[0-9a-f]+|-?[0-9]+)\)?\s*$/gm)) {
    const v = Number(m[4]);
    (m[3] === "Errno" ? out.errno : m[3] === "Signal" ? out.signal : out.plain).set(m[1], v);
  }
  return out;
}

// ---- Struct layouts ----------------------------------------------------------------------------

interface Field {
  name: string;
  size: number;
  align: number;
}
interface Layout {
  size: number;
  offsets: Record<string, number>;
  sizes: Record<string, number>;
}

function layoutOf(fields: Field[]): Layout {
  let off = 0, maxAlign = 1;
  const offsets: Record<string, number> = {}, sizes: Record<string, number> = {};
  for (const f of fields) {
    off = Math.ceil(off / f.align) * f.align;
    offsets[f.name] = off;
    sizes[f.name] = f.size;
    off += f.size;
    maxAlign = Math.max(maxAlign, f.align);
  }
  return { size: Math.ceil(off / maxAlign) * maxAlign, offsets, sizes };
}

const goPrim: Record<string, number> = {
  int8: 1, uint8: 1, byte: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8,
};

function goStruct(os: Os, arch: Arch, name: string): Layout {
  const text = show(goRepo, `unix/ztypes_${os}_${goArch[arch]}.go`);
  const body = text.match(new RegExp(`^type ${name} struct \\{\\n([\\s\\S]*?)^\\}`, "m"));
  if (!body) throw new Error(`Go ${os}/${arch}: no struct ${name}`);
  const fields: Field[] = [];
  for (const line of body[1].split("\n")) {
    const m = line.match(/^\s+(\w+)\s+(\[(\d+)\])?(\w+)/);
    if (!m) continue;
    if (m[4] === "Timespec") {
      // struct timespec {time_t tv_sec; long tv_nsec;}: Rust spells it as two fields.
      fields.push({ name: `${m[1].toLowerCase()}_sec`, size: 8, align: 8 });
      fields.push({ name: `${m[1].toLowerCase()}_nsec`, size: 8, align: 8 });
      continue;
    }
    const elem = goPrim[m[4]];
    if (elem === undefined) throw new Error(`Go ${name}.${m[1]}: unknown type ${m[4]}`);
    fields.push({ name: m[1].toLowerCase(), size: elem * (m[3] ? Number(m[3]) : 1), align: elem });
  }
  return layoutOf(fields);
}

function goSizeof(os: Os, arch: Arch, name: string): number | null {
  const text = show(goRepo, `unix/ztypes_${os}_${goArch[arch]}.go`);
  const m = text.match(new RegExp(`\\bSizeof${name}\\s+= (0x[0-9a-f]+)`));
  return m ? Number(m[1]) : null;
}

const rustPrim: Record<string, number> = {
  u8: 1, i8: 1, c_char: 1, c_uchar: 1, c_schar: 1, u16: 2, i16: 2, c_short: 2, c_ushort: 2,
  u32: 4, i32: 4, c_int: 4, c_uint: 4, u64: 8, i64: 8, c_long: 8, c_ulong: 8, c_longlong: 8,
  c_ulonglong: 8, usize: 8, isize: 8,
};

function rustTypeSize(type: string, os: Os, arch: Arch, consts: Map<string, number[]>, aliases: Map<string, string>): [number, number] {
  const t = type.trim().replace(/crate::|libc::/g, "");
  const arr = t.match(/^\[(.+);\s*(.+)\]$/);
  if (arr) {
    const [size, align] = rustTypeSize(arr[1], os, arch, consts, aliases);
    const n = /^\d+$/.test(arr[2].trim()) ? Number(arr[2]) : consts.get(arr[2].trim().replace(/crate::/, ""))?.[0];
    if (n === undefined) throw new Error(`array length ${arr[2]}`);
    return [size * n, align];
  }
  const pad = t.match(/^Padding<(.+)>$/);
  if (pad) return rustTypeSize(pad[1], os, arch, consts, aliases);
  if (t in rustPrim) return [rustPrim[t], rustPrim[t]];
  if (t === "in_addr") return [4, 4];
  if (t === "in6_addr") return [16, 4];
  const alias = aliases.get(t);
  if (alias) return rustTypeSize(alias, os, arch, consts, aliases);
  throw new Error(`Rust ${os}/${arch}: unknown type ${t}`);
}

function rustAliases(os: Os, arch: Arch): Map<string, string> {
  const aliases = new Map<string, string>([
    ["uid_t", "u32"], ["gid_t", "u32"], ["time_t", "i64"], ["off_t", "i64"], ["blkcnt_t", "i64"],
    ["socklen_t", "u32"], ["in_port_t", "u16"], ["cc_t", "u8"],
  ]);
  for (const file of rustFiles(os, arch)) {
    for (const m of show(rustRepo, file).matchAll(/^pub type (\w+) = ([\w:]+);/gm)) {
      aliases.set(m[1], m[2].replace(/crate::/, ""));
    }
  }
  return aliases;
}

function rustStruct(os: Os, arch: Arch, name: string, consts: Map<string, number[]>): Layout {
  const aliases = rustAliases(os, arch);
  let body: string | undefined;
  for (const file of rustFiles(os, arch)) {
    const m = show(rustRepo, file).match(new RegExp(`pub struct ${name} \\{\\n([\\s\\S]*?)\\n\\s*\\}`));
    if (m) body = m[1]; // the most specific file wins
  }
  if (body === undefined) throw new Error(`Rust ${os}/${arch}: no struct ${name}`);
  const fields: Field[] = [];
  let skipNext = false;
  for (const line of body.split("\n")) {
    const cfg = line.match(/#\[cfg\((.*)\)\]/);
    if (cfg) {
      // Only arch gates appear in the structs read here: keep the field for this arch.
      const archs = [...cfg[1].matchAll(/target_arch = "(\w+)"/g)].map((a) => a[1]);
      skipNext = archs.length > 0 && (cfg[1].startsWith("not(") ? archs.includes(arch) : !archs.includes(arch));
      continue;
    }
    const m = line.match(/^\s+(?:pub )?(\w+): (.+),\s*$/);
    if (!m) continue;
    if (skipNext) {
      skipNext = false;
      continue;
    }
    const [size, align] = rustTypeSize(m[2], os, arch, consts, aliases);
    fields.push({ name: m[1], size, align });
  }
  return layoutOf(fields);
}

// ---- Symbols -----------------------------------------------------------------------------------

function rustSymbols(os: Os, arch: Arch): Set<string> {
  const out = new Set<string>();
  for (const file of rustFiles(os, arch)) {
    const text = show(rustRepo, file);
    for (const m of text.matchAll(/pub fn (\w+)\(/g)) out.add(m[1]);
    if (os === "darwin" && arch === "x86_64") {
      for (const m of text.matchAll(/link_name = "(\w+\$INODE64)"/g)) out.add(m[1]);
    }
  }
  return out;
}

function goDarwinSymbols(arch: Arch): Set<string> {
  const text = show(goRepo, `unix/zsyscall_darwin_${goArch[arch]}.go`);
  return new Set([...text.matchAll(/cgo_import_dynamic libc_\w+ (\S+) "\/usr\/lib\/libSystem\.B\.dylib"/g)].map((m) => m[1]));
}

// ---- What aioloop's tables hold ----------------------------------------------------------------

/** The constant names the tables carry (ffi/os/table.ts is their one list). */
const CONSTANTS: readonly string[] = CONSTANT_NAMES;
/** macOS names TCP_KEEPIDLE's option TCP_KEEPALIVE (<netinet/tcp.h>). */
const SOURCE_NAME: Record<Os, Record<string, string>> = {
  darwin: { TCP_KEEPIDLE: "TCP_KEEPALIVE" },
  freebsd: {},
};

/**
 * Names an OS's sources define for something else: macOS's NETLINK_GENERIC (0) is a sysctl
 * selector of <net/if_mib.h>, not a netlink(7) protocol (macOS has no AF_NETLINK), so the table
 * leaves it absent, as Python's socket module does there.
 */
const OTHER_MEANING: Record<Os, readonly string[]> = {
  darwin: ["NETLINK_GENERIC"],
  freebsd: [],
};

interface Target {
  constants: Record<string, number>;
  singleSource: Record<string, "rust" | "go">;
  errno: Record<string, number>;
  signals: Record<string, number>;
  layouts: Record<string, Layout>;
  symbols: string[];
}

const disagreements: string[] = [];

function agree(what: string, rust: number[] | undefined, go: number | undefined): number | undefined {
  if (rust === undefined && go === undefined) return undefined;
  if (rust === undefined) return go;
  if (go === undefined) {
    if (rust.length > 1) disagreements.push(`${what}: Rust has ${rust.join(" / ")} and Go none`);
    return rust.at(-1);
  }
  if (!rust.includes(go)) disagreements.push(`${what}: Rust ${rust.join(" / ")}, Go ${go}`);
  return go;
}

function target(os: Os, arch: Arch): Target {
  const where = `${os}/${arch}`;
  const rc = rustConstants(os, arch), gc = goConstants(os, arch);
  const t: Target = { constants: {}, singleSource: {}, errno: {}, signals: {}, layouts: {}, symbols: [] };
  for (const name of CONSTANTS) {
    if (OTHER_MEANING[os].includes(name)) continue;
    const src = SOURCE_NAME[os][name] ?? name;
    const r = rc.get(src), g = gc.plain.get(src) ?? gc.errno.get(src) ?? gc.signal.get(src);
    const v = agree(`${where} ${src}`, r, g);
    if (v === undefined) continue;
    t.constants[name] = v;
    if (r === undefined) t.singleSource[name] = "go";
    else if (g === undefined) t.singleSource[name] = "rust";
  }
  for (const [name, v] of gc.errno) {
    // Aliases (EWOULDBLOCK = EAGAIN …) are left to the first name; ELAST is a bound, not an errno.
    if (name === "ELAST" || Object.values(t.errno).includes(v)) continue;
    t.errno[name] = agree(`${where} ${name}`, rc.get(name), v)!;
  }
  for (const [name, v] of gc.signal) {
    if (Object.values(t.signals).includes(v)) continue;
    t.signals[name] = agree(`${where} ${name}`, rc.get(name), v)!;
  }
  const pairs: [string, string, string][] = [
    ["sockaddr_in", "RawSockaddrInet4", "SockaddrInet4"],
    ["sockaddr_in6", "RawSockaddrInet6", "SockaddrInet6"],
    ["sockaddr_un", "RawSockaddrUnix", "SockaddrUnix"],
    ["termios", "Termios", "Termios"],
    ["stat", "Stat_t", "Stat_t"],
  ];
  for (const [rustName, goName, sizeofName] of pairs) {
    const r = rustStruct(os, arch, rustName, rc), g = goStruct(os, arch, goName);
    const gs = goSizeof(os, arch, sizeofName) ?? g.size;
    if (r.size !== g.size || gs !== g.size) disagreements.push(`${where} sizeof ${rustName}: Rust ${r.size}, Go ${g.size}/${gs}`);
    // Field offsets must agree too (names differ between the sources, and one may split a
    // spare array the other keeps whole): every field start Go has, Rust has.
    const ro = new Set(Object.values(r.offsets)), go = Object.values(g.offsets);
    if (!go.every((o) => ro.has(o))) disagreements.push(`${where} ${rustName} offsets: Rust ${[...ro]}, Go ${go}`);
    t.layouts[rustName] = r;
  }
  // sockaddr_storage: Go has no such struct; Rust's is the only source (the header's _SS_SIZE).
  t.layouts.sockaddr_storage = rustStruct(os, arch, "sockaddr_storage", rc);
  const rs = rustSymbols(os, arch);
  if (os === "darwin") {
    const gs = goDarwinSymbols(arch);
    t.symbols = [...new Set([...rs, ...gs])].sort();
  } else {
    t.symbols = [...rs].sort();
  }
  return t;
}

const targets: Record<string, Target> = {};
for (const os of ["darwin", "freebsd"] as const) {
  for (const arch of ["x86_64", "aarch64"] as const) targets[`${os}-${arch}`] = target(os, arch);
}
if (disagreements.length > 0) {
  console.error(`the sources disagree:\n${disagreements.join("\n")}`);
}
console.log(JSON.stringify({
  about: "Generated by scripts/gen_os_constants.ts from the two sources below; values both give agree.",
  sources: {
    "rust-lang/libc": { commit: rustCommit, files: "src/unix/mod.rs, src/unix/bsd/**" },
    "golang/sys": { commit: goCommit, files: "unix/zerrors_*, unix/ztypes_*, unix/zsyscall_darwin_*" },
  },
  disagreements,
  targets,
}, null, 1));
