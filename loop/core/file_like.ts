/**
 * FileLike and fileObjToFd: what addReader/addWriter, the pipe transports and connectReadPipe /
 * connectWritePipe accept as a file (an fd, or an object with fileno()), and its validation into
 * an fd. Shared by both loop families and the pipe transports, hence in the bottom layer rather
 * than in selector_loop.ts.
 */
import { describe } from "./describe.ts";
import { ValueError } from "./errors.ts";

/** Something addReader accepts: an fd, or an object with fileno() (a Socket, a file). */
export type FileLike = number | { fileno(): number };

/** The fd of `fileobj`, validated: ValueError naming it (asyncio selectors._fileobj_to_fd). */
export function fileObjToFd(fileobj: FileLike): number {
  let fd: unknown = fileobj;
  if (typeof fileobj === "object" && fileobj !== null && typeof fileobj.fileno === "function") {
    fd = fileobj.fileno();
  } else if (typeof fileobj !== "number") {
    throw new ValueError(`Invalid file object: ${describe(fileobj)}`);
  }
  if (typeof fd !== "number" || !Number.isInteger(fd) || fd < 0) {
    throw new ValueError(`Invalid file descriptor: ${String(fd)}`);
  }
  return fd;
}
