/**
 * scripts/check_imports.ts, the import-graph check of issue 16: on a fixture tree with a cycle in
 * loop/ and layer back edges it reports each and exits 1; on a clean tree it exits 0; and its
 * tokenizer tells type-only, value, re-export and dynamic imports apart without counting the
 * ones written in comments, strings, template literals or regular expressions.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { check, main, specifiersOf } from "../scripts/check_imports.ts";

const fixtures = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "fixtures", "import_graph");

test("check_imports: a cycle in loop/ and back edges from ffi/ and platform/ fail", () => {
  const lines: string[] = [];
  assert.equal(main(join(fixtures, "cyclic"), (l) => lines.push(l)), 1);
  const r = check(join(fixtures, "cyclic"));
  assert.equal(r.cycles.length, 1);
  assert.deepEqual(r.cycles[0].files, ["loop/a.ts", "loop/b.ts", "loop/c.ts"]);
  assert.deepEqual(
    r.cycles[0].edges.map((e) => `${e.from}>${e.to}:${e.typeOnly}`).sort(),
    ["loop/a.ts>loop/b.ts:true", "loop/b.ts>loop/c.ts:false", "loop/c.ts>loop/a.ts:false"],
  );
  assert.deepEqual(r.backEdges.map((b) => `${b.edge.from}>${b.edge.to}`), [
    "ffi/x.ts>loop/c.ts",
    "platform/p.ts>loop/a.ts",
  ]);
  assert.ok(lines.some((l) => l.includes("loop/a.ts -> loop/b.ts  (type-only)")), lines.join("\n"));
  assert.match(lines[lines.length - 1], /1 cycles in loop\/ \(3 files\), 2 layer back edges/);
});

test("check_imports: a tree that respects the layers passes", () => {
  const lines: string[] = [];
  assert.equal(main(join(fixtures, "clean"), (l) => lines.push(l)), 0, lines.join("\n"));
  const r = check(join(fixtures, "clean"));
  assert.deepEqual(r.cycles, []);
  assert.deepEqual(r.backEdges, []);
  // a.ts's dynamic import is an edge; the ones in its comment, string and regex are not.
  const fromA = r.edges.filter((e) => e.from === "loop/a.ts");
  assert.deepEqual(fromA.map((e) => `${e.to}:${e.dynamic}`).sort(), ["loop/b.ts:true", "loop/selector/selector.ts:false"]);
});

test("check_imports: type-only, value, re-export and side-effect specifiers", () => {
  const src = `
    import type { A } from "./a.ts";
    import { type B, type C } from "./bc.ts";
    import { type D, e } from "./de.ts";
    import F, { type G } from "./fg.ts";
    import * as ns from "./ns.ts";
    import "./side.ts";
    export { h } from "./h.ts";
    export type { I } from "./i.ts";
    export * from "./star.ts";
    export const notAnImport = "import x from './no.ts'";
    const later = await import("./dyn.ts");
    obj.import("./member.ts");
  `;
  assert.deepEqual(specifiersOf(src).map((s) => `${s.spec}:${s.typeOnly ? "type" : "value"}${s.dynamic ? ":dyn" : ""}`), [
    "./a.ts:type",
    "./bc.ts:type",
    "./de.ts:value",
    "./fg.ts:value",
    "./ns.ts:value",
    "./side.ts:value",
    "./h.ts:value",
    "./i.ts:type",
    "./star.ts:value",
    "./dyn.ts:value:dyn",
  ]);
});
