/**
 * Socket constants for Linux, from <bits/socket.h>, <bits/socket_type.h> and <netinet/in.h>
 * (glibc); the values are the kernel's (<linux/socket.h>, <linux/net.h>).
 */
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
/** socket(2) type flags, equal to O_NONBLOCK and O_CLOEXEC. */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

/** send(2) flag: no SIGPIPE on a closed peer; the call fails with EPIPE instead. */
export const MSG_NOSIGNAL = 0x4000;
