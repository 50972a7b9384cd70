/**
 * What the memory benchmarks (bench/memory_per_conn.ts, bench/memory_fixed_cost.ts) read and
 * fit: a process's resident set size, and the line through RSS growth against a count.
 */
import { readFileSync } from "node:fs";

/** Resident set size of process `pid` in bytes (VmRSS of /proc/PID/status, in kB: proc(5)). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/**
 * Least-squares line through the points (x: a count, y: RSS growth in bytes): the slope is what
 * one more costs, `fixed` (the intercept) what the run costs whatever the count. Undefined when
 * every x is the same (no line to fit).
 */
export function fitLine(points: readonly { x: number; y: number }[]): { slope: number; fixed: number } | undefined {
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  let sxy = 0, sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  return { slope, fixed: my - slope * mx };
}
