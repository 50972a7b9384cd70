/**
 * The import-graph check of issue 16: reads every .ts file under loop/, ffi/, platform/ and
 * mod.ts, collects its module specifiers (static `import … from`, side-effect `import "…"`,
 * `export … from`, and dynamic `import("…")`), and reports
 *   (a) every import cycle among loop/ files, as strongly connected components (a component
 *       with more than one file, or a file importing itself, is a cycle), listing the edges
 *       inside it and marking the type-only ones: a type-only circle still means no file in it
 *       can be read without the others;
 *   (b) every layer back edge: ffi/ (the C bindings) importing loop/ or platform/, platform/
 *       (one OS's implementation of the seams) importing loop/ anywhere but the seam interfaces
 *       listed in PLATFORM_MAY_IMPORT, and loop/core/ (the bottom layer) importing the rest of
 *       loop/.
 * Exits 1 when it finds any, 0 on a clean graph. Usage (Deno or Bun, from any directory):
 *   deno run -A scripts/check_imports.ts [root]      bun scripts/check_imports.ts [root]
 * `root` defaults to the repository; tests/import_graph_test.ts runs it on fixture trees.
 *
 * The specifiers come from a small tokenizer (comments, strings, template literals and regular
 * expression literals skipped), not from a regular expression over the text, so that JSDoc
 * examples and strings that mention `import` do not count.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import process from "node:process";

/**
 * What platform/ may import from loop/: the interfaces loop/ defines for the platforms to
 * implement (the seams), and the bottom layer every layer may use.
 * - loop/selector/selector.ts: the Selector interface and EVENT_READ/EVENT_WRITE, implemented by
 *   platform/linux.ts (epoll), darwin.ts (kqueue), poll.ts;
 * - loop/proactor/proactor.ts: the Proactor and CompletionTarget interfaces (io_uring, IOCP);
 * - loop/net/socket_calls.ts, loop/process/process_calls.ts, loop/net/resolver_calls.ts: the
 *   socket, child-process and name-resolution call tables;
 * - loop/core/: errors and the other leaf helpers, which import nothing above them.
 */
export const PLATFORM_MAY_IMPORT: readonly string[] = [
  "loop/selector/selector.ts",
  "loop/proactor/proactor.ts",
  "loop/net/socket_calls.ts",
  "loop/process/process_calls.ts",
  "loop/net/resolver_calls.ts",
  "loop/core/",
];

/** One import of one file. Paths are relative to the root, with forward slashes. */
export interface ImportEdge {
  from: string;
  to: string;
  /** Only types cross this edge (`import type`, or every named binding marked `type`). */
  typeOnly: boolean;
  /** A dynamic `import("…")`. */
  dynamic: boolean;
}

/** What check() found. */
export interface ImportReport {
  files: number;
  edges: ImportEdge[];
  /** Each cycle among loop/ files: its files and the edges inside it. */
  cycles: { files: string[]; edges: ImportEdge[] }[];
  backEdges: { edge: ImportEdge; rule: string }[];
}

type Token = { kind: "id" | "str" | "punct"; text: string };

/** Splits TypeScript source into identifiers, string literals and punctuation. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  // One entry per open `{`: true when it opened a template literal's `${`.
  const braces: boolean[] = [];
  let i = 0;
  const n = src.length;
  const regexMayFollow = (): boolean => {
    const last = out[out.length - 1];
    if (last === undefined) return true;
    if (last.kind === "punct") return !/^[)\]}]$/.test(last.text);
    if (last.kind === "id") return /^(return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/.test(last.text);
    return false;
  };
  // Scans a template literal's text from i (after the backtick or the closing `}` of `${`).
  const template = (): void => {
    while (i < n) {
      const c = src[i];
      if (c === "\\") i += 2;
      else if (c === "`") { i++; return; }
      else if (c === "$" && src[i + 1] === "{") { i += 2; braces.push(true); return; }
      else i++;
    }
  };
  while (i < n) {
    const c = src[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") { i++; continue; }
    if (c === "/" && src[i + 1] === "/") { while (i < n && src[i] !== "\n") i++; continue; }
    if (c === "/" && src[i + 1] === "*") { const e = src.indexOf("*/", i + 2); i = e < 0 ? n : e + 2; continue; }
    if (c === "'" || c === '"') {
      let j = i + 1, text = "";
      while (j < n && src[j] !== c) { if (src[j] === "\\") j++; else text += src[j]; j++; }
      out.push({ kind: "str", text });
      i = j + 1;
      continue;
    }
    if (c === "`") { i++; template(); out.push({ kind: "str", text: "" }); continue; }
    if (c === "/" && regexMayFollow()) {
      let j = i + 1, inClass = false;
      while (j < n && src[j] !== "\n") {
        if (src[j] === "\\") j++;
        else if (src[j] === "[") inClass = true;
        else if (src[j] === "]") inClass = false;
        else if (src[j] === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < n && /[a-z]/i.test(src[j])) j++;
      out.push({ kind: "str", text: "" });
      i = j;
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$]/.test(src[j])) j++;
      out.push({ kind: "id", text: src.slice(i, j) });
      i = j;
      continue;
    }
    if (c === "{") braces.push(false);
    if (c === "}" && braces.pop() === true) { i++; template(); continue; }
    out.push({ kind: "punct", text: c });
    i++;
  }
  return out;
}

/** The module specifiers of one file's source, with whether each is type-only or dynamic. */
export function specifiersOf(src: string): { spec: string; typeOnly: boolean; dynamic: boolean }[] {
  const t = tokenize(src);
  const found: { spec: string; typeOnly: boolean; dynamic: boolean }[] = [];
  const isMember = (k: number): boolean => k > 0 && t[k - 1].text === "." && t[k - 1].kind === "punct";
  // From the token after `import`/`export` (and after `type`), finds the `from "…"` of the same
  // statement. Returns the specifier's index and whether the bindings are only a `{…}` list in
  // which every name is marked `type` (then only types cross), or null if there is no `from`.
  const fromClause = (k: number): { at: number; onlyTypes: boolean } | null => {
    let depth = 0, expectName = false, braced = false, allType = true, other = false;
    for (; k < t.length; k++) {
      const tok = t[k];
      if (tok.kind === "punct" && tok.text === ";") return null;
      if (tok.kind === "punct" && tok.text === "{") { depth++; braced = true; expectName = true; continue; }
      if (tok.kind === "punct" && tok.text === "}") { depth--; continue; }
      if (depth > 0) {
        if (tok.text === ",") expectName = true;
        else if (expectName) {
          const marked = tok.text === "type" && t[k + 1]?.kind === "id" && t[k + 1]?.text !== "as";
          if (!marked) allType = false;
          expectName = false;
        }
        continue;
      }
      if (tok.kind === "id" && tok.text === "from" && t[k + 1]?.kind === "str") {
        return { at: k + 1, onlyTypes: braced && allType && !other };
      }
      if (tok.text !== ",") other = true; // a default or `* as ns` binding: a value import
    }
    return null;
  };
  for (let k = 0; k < t.length; k++) {
    const tok = t[k];
    if (tok.kind !== "id" || isMember(k)) continue;
    if (tok.text === "import") {
      const next = t[k + 1];
      if (next?.text === "(" && t[k + 2]?.kind === "str" && t[k + 3]?.text === ")") {
        found.push({ spec: t[k + 2].text, typeOnly: false, dynamic: true });
      } else if (next?.kind === "str") {
        found.push({ spec: next.text, typeOnly: false, dynamic: false });
      } else if (next?.kind === "id" || next?.text === "{" || next?.text === "*") {
        const explicitType = next.text === "type" && t[k + 2]?.text !== "from" && t[k + 2]?.text !== ",";
        const clause = fromClause(explicitType ? k + 2 : k + 1);
        if (clause) found.push({ spec: t[clause.at].text, typeOnly: explicitType || clause.onlyTypes, dynamic: false });
      }
    } else if (tok.text === "export") {
      const next = t[k + 1];
      const explicitType = next?.text === "type" && (t[k + 2]?.text === "{" || t[k + 2]?.text === "*");
      const start = explicitType ? t[k + 2] : next;
      if (start?.text !== "{" && start?.text !== "*") continue;
      const clause = fromClause(explicitType ? k + 2 : k + 1);
      if (clause) found.push({ spec: t[clause.at].text, typeOnly: explicitType || clause.onlyTypes, dynamic: false });
    }
  }
  return found;
}

function tsFilesUnder(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  const out: string[] = [];
  for (const name of readdirSync(abs).sort()) {
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...tsFilesUnder(root, rel));
    else if (name.endsWith(".ts")) out.push(rel);
  }
  return out;
}

/** Tarjan's strongly connected components of the graph restricted to `nodes`. */
function components(nodes: string[], next: Map<string, string[]>): string[][] {
  const index = new Map<string, number>(), low = new Map<string, number>();
  const stack: string[] = [], onStack = new Set<string>(), out: string[][] = [];
  let counter = 0;
  const visit = (v: string): void => {
    index.set(v, counter); low.set(v, counter); counter++;
    stack.push(v); onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); }
      else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      out.push(comp.sort());
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return out;
}

/** Builds the import graph of the tree at `root` and checks it. */
export function check(root: string): ImportReport {
  const files = [...tsFilesUnder(root, "loop"), ...tsFilesUnder(root, "ffi"), ...tsFilesUnder(root, "platform")];
  if (existsSync(join(root, "mod.ts"))) files.push("mod.ts");
  const edges: ImportEdge[] = [];
  for (const from of files) {
    for (const s of specifiersOf(readFileSync(join(root, from), "utf8"))) {
      if (!s.spec.startsWith(".")) continue; // node:, npm:, jsr: — outside the tree
      const to = relative(root, resolve(root, dirname(from), s.spec)).split(sep).join("/");
      edges.push({ from, to, typeOnly: s.typeOnly, dynamic: s.dynamic });
    }
  }
  const loopFiles = files.filter((f) => f.startsWith("loop/"));
  const next = new Map<string, string[]>();
  for (const e of edges) {
    if (!e.from.startsWith("loop/") || !e.to.startsWith("loop/")) continue;
    next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  }
  const cycles = components(loopFiles, next)
    .filter((c) => c.length > 1 || (next.get(c[0]) ?? []).includes(c[0]))
    .map((c) => ({ files: c, edges: edges.filter((e) => c.includes(e.from) && c.includes(e.to)) }));
  const backEdges: { edge: ImportEdge; rule: string }[] = [];
  for (const edge of edges) {
    const { from, to } = edge;
    if (from.startsWith("ffi/") && (to.startsWith("loop/") || to.startsWith("platform/"))) {
      backEdges.push({ edge, rule: "ffi/ must not import loop/ or platform/" });
    } else if (from.startsWith("platform/") && to.startsWith("loop/") &&
      !PLATFORM_MAY_IMPORT.some((p) => p.endsWith("/") ? to.startsWith(p) : to === p)) {
      backEdges.push({ edge, rule: "platform/ may import from loop/ only its seams and loop/core/" });
    } else if (from.startsWith("loop/core/") && to.startsWith("loop/") && !to.startsWith("loop/core/")) {
      backEdges.push({ edge, rule: "loop/core/ must not import the rest of loop/" });
    }
  }
  return { files: files.length, edges, cycles, backEdges };
}

const mark = (e: ImportEdge): string => `${e.from} -> ${e.to}${e.typeOnly ? "  (type-only)" : ""}${e.dynamic ? "  (dynamic import)" : ""}`;

/** Prints the report of the tree at `root` and returns the exit status: 1 if it found anything. */
export function main(root: string, print: (line: string) => void = console.log): number {
  const r = check(root);
  for (const [i, c] of r.cycles.entries()) {
    const typeOnly = c.edges.filter((e) => e.typeOnly).length;
    print(`cycle ${i + 1}: ${c.files.length} loop/ files, ${c.edges.length} edges inside (${typeOnly} type-only)`);
    for (const e of c.edges) print(`  ${mark(e)}`);
  }
  for (const b of r.backEdges) print(`back edge: ${mark(b.edge)}  [${b.rule}]`);
  const inCycles = r.cycles.reduce((s, c) => s + c.files.length, 0);
  print(`${r.files} files, ${r.edges.length} imports; ${r.cycles.length} cycles in loop/ ` +
    `(${inCycles} files), ${r.backEdges.length} layer back edges`);
  return r.cycles.length > 0 || r.backEdges.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  const root = process.argv[2] ?? join(dirname(new URL(import.meta.url).pathname), "..");
  process.exitCode = main(resolve(root));
}
