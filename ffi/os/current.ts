/**
 * This process's OS table (ffi/os/table.ts), chosen once at import by OS and architecture.
 * Windows gets Linux's: the loop speaks Linux's numbers there, and platform/windows*.ts
 * translate them to Winsock's (less the Linux-only families, which Windows lacks).
 */
import { arch, osName } from "../runtime.ts";
import { darwinTable } from "./darwin.ts";
import { freebsdTable } from "./freebsd.ts";
import { linuxTable } from "./linux.ts";
import { LINUX_ONLY_CONSTANTS, type OsTable } from "./table.ts";

/**
 * The table for `os` ("linux", "darwin", "freebsd"; anything else gets Linux's) on `cpu`.
 * Windows' copy leaves out what only Linux has (LINUX_ONLY_CONSTANTS: netlink, packet sockets).
 */
export function tableFor(os: string, cpu: "x86_64" | "aarch64"): OsTable {
  if (os === "darwin") return darwinTable(cpu);
  if (os === "freebsd") return freebsdTable(cpu);
  const linux = linuxTable(cpu);
  if (os !== "windows" && os !== "win32") return linux;
  const constants = { ...linux.constants };
  for (const name of LINUX_ONLY_CONSTANTS) constants[name] = null;
  return { ...linux, constants };
}

/** Every table aioloop has, for tests that run the table-driven code against each. */
export const allTables: readonly OsTable[] = (["linux", "darwin", "freebsd"] as const).flatMap((os) =>
  (["x86_64", "aarch64"] as const).map((cpu) => tableFor(os, cpu))
);

/** This process's table. */
export const osTable: OsTable = tableFor(osName, arch);
