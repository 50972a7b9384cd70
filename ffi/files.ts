/**
 * Reading a regular file by fd for loop.sendfile's fallback (loop/net/sendfile.ts): whether an fd
 * is a regular file, and reading it at an offset. Through the C library (fstat(2), pread(2)),
 * so that any fd works — Deno's node:fs knows only the fds it opened itself; on Windows, where
 * no C library is bound, through node:fs.
 */
import { fstatSync, readSync } from "node:fs";
import { check, libc } from "./libc.ts";
import { isWindows } from "./runtime.ts";
import { fileType, S_IFREG } from "./spawn.ts";

/** True if `fd` is a regular file; OSError (EBADF, …) if it cannot be asked. */
export function isRegularFile(fd: number): boolean {
  if (isWindows) return fstatSync(fd).isFile();
  return fileType(fd) === S_IFREG;
}

/** Read up to `length` bytes at `position` into `buf` (pread(2)): the count, 0 at EOF; OSError. */
export function readAt(fd: number, buf: Uint8Array, length: number, position: number): number {
  if (isWindows) return readSync(fd, buf, 0, length, position);
  return check(libc.pread(fd, buf, length, position), "pread");
}
