/**
 * epoll's constants and `struct epoll_event` layout, from <sys/epoll.h> (glibc) and
 * <uapi/linux/eventpoll.h>.
 */
import { arch } from "./runtime.ts";

// epoll_ctl(2) operations.
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

// Event bits (eventpoll.h).
export const EPOLLIN = 0x001;
export const EPOLLPRI = 0x002;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
export const EPOLLRDHUP = 0x2000;

/** epoll_create1(2) flag; equal to O_CLOEXEC. */
export const EPOLL_CLOEXEC = 0o2000000;

// eventfd(2) flags; equal to O_NONBLOCK and O_CLOEXEC.
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

/**
 * `struct epoll_event { uint32_t events; epoll_data_t data; }`. glibc declares it
 * `__attribute__((packed))` on x86-64 only (__EPOLL_PACKED), so it is 12 bytes there with `data`
 * at offset 4; elsewhere (AArch64) natural alignment makes it 16 bytes with `data` at offset 8.
 * Both sizes are multiples of 4, so an Int32Array indexes them: slot `i * stride32` holds
 * `events` and `i * stride32 + dataOffset32` the low 32 bits of `data`, where we keep the fd.
 */
export const EPOLL_EVENT_SIZE = arch === "x86_64" ? 12 : 16;
export const EPOLL_EVENT_STRIDE32 = EPOLL_EVENT_SIZE / 4;
export const EPOLL_EVENT_DATA32 = arch === "x86_64" ? 1 : 2;
