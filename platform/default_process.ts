/**
 * Picks this OS's way of starting children for loop/process/subprocess.ts: CreateProcessW on Windows,
 * posix_spawn elsewhere. Neither module binds its library at import, so importing both is safe.
 */
import { isWindows } from "../ffi/runtime.ts";
import type { ProcessCalls } from "../loop/process/process_calls.ts";
import { posixProcessCalls } from "./posix_process.ts";
import { windowsProcessCalls } from "./windows_process.ts";

/** The process calls of this OS. */
export const processCalls: ProcessCalls = isWindows ? windowsProcessCalls : posixProcessCalls;
