// Read IP packets from a TUN device: open /dev/net/tun, name it with ioctl(TUNSETIFF) and a
// struct ifreq (the kernel fills the name in place), give it an address and bring it up with
// ioctls on a socket, then read packets with readableEvents — here one UDP datagram this
// script sends into the device's subnet, which the kernel routes out through the TUN.
//
//   deno run --allow-ffi examples/tun_reader.ts      bun examples/tun_reader.ts
//
// Linux only, and it needs CAP_NET_ADMIN (root, or `setcap cap_net_admin+ep` on the runtime).
// Without /dev/net/tun or the capability it says why and exits 0. The device disappears when
// its fd closes. In your own project import from "aioloop" (Bun) or "jsr:@aioloop/aioloop"
// (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  AF_INET, BlockingIOError, fcntl, os, OSError, readableEvents, run, SOCK_DGRAM, Socket,
} from "../mod.ts";

// <linux/if_tun.h>: TUNSETIFF = _IOW('T', 202, int); IFF_TUN (IP packets, no Ethernet header)
// and IFF_NO_PI (no 4-byte packet-information prefix) in ifr_flags.
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
// <linux/sockios.h>: set an interface's address, netmask and flags; <net/if.h>: IFF_UP.
const SIOCSIFADDR = 0x8916;
const SIOCSIFNETMASK = 0x891c;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
// struct ifreq (<net/if.h>): char ifr_name[16], then a 24-byte union (a struct sockaddr, or
// short ifr_flags): 40 bytes on 64-bit Linux.
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;

/** A struct ifreq for interface `name`. */
function ifreq(name: string): Uint8Array {
  const req = new Uint8Array(IFREQ_SIZE);
  req.set(new TextEncoder().encode(name).subarray(0, IFNAMSIZ - 1));
  return req;
}

/** The NUL-terminated interface name at the start of a struct ifreq. */
function ifreqName(req: Uint8Array): string {
  const name = req.subarray(0, IFNAMSIZ);
  return new TextDecoder().decode(name.subarray(0, name.indexOf(0)));
}

/** Put a struct sockaddr_in for `ip` into the ifreq's union (ifr_addr / ifr_netmask). */
function setSockaddr(req: Uint8Array, ip: string): void {
  const view = new DataView(req.buffer);
  view.setUint16(IFNAMSIZ, AF_INET, true); // sin_family, host order
  // sin_port 0, then sin_addr in network order
  ip.split(".").forEach((part, i) => req[IFNAMSIZ + 4 + i] = Number(part));
}

/** Why this machine cannot run the example, or null if it can (tries to open the device). */
function openTun(): { fd: number; name: string } | string {
  if (process.platform !== "linux") return `TUN devices here are Linux's (this is ${process.platform})`;
  let fd: number;
  try {
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK);
  } catch (e) {
    if (e instanceof OSError) return `cannot open /dev/net/tun: ${e.strerror} (${e.code})`;
    throw e;
  }
  const req = ifreq("aioloop%d"); // the kernel picks the number and writes the name back
  new DataView(req.buffer).setUint16(IFNAMSIZ, IFF_TUN | IFF_NO_PI, true);
  try {
    fcntl.ioctl(fd, TUNSETIFF, req);
  } catch (e) {
    os.close(fd);
    if (e instanceof OSError) return `TUNSETIFF: ${e.strerror} (${e.code}): CAP_NET_ADMIN is needed`;
    throw e;
  }
  return { fd, name: ifreqName(req) };
}

/** Address the interface `name` as `ip`/24 and bring it up (ioctls on any AF_INET socket). */
function configure(name: string, ip: string): void {
  const sock = new Socket(AF_INET, SOCK_DGRAM);
  try {
    const addr = ifreq(name);
    setSockaddr(addr, ip);
    fcntl.ioctl(sock.fileno(), SIOCSIFADDR, addr);
    const mask = ifreq(name);
    setSockaddr(mask, "255.255.255.0");
    fcntl.ioctl(sock.fileno(), SIOCSIFNETMASK, mask);
    const flags = ifreq(name);
    fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, flags);
    const view = new DataView(flags.buffer);
    view.setUint16(IFNAMSIZ, view.getUint16(IFNAMSIZ, true) | IFF_UP, true);
    fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, flags);
  } finally {
    sock.close();
  }
}

/** "UDP 10.0.0.1:5000 -> 10.0.0.2:9999 'payload'" for an IPv4 UDP packet, else null. */
function describeUdp(packet: Uint8Array): string | null {
  if (packet.length < 28 || packet[0] >> 4 !== 4 || packet[9] !== 17) return null;
  const headerLength = (packet[0] & 0x0f) * 4;
  const view = new DataView(packet.buffer, packet.byteOffset);
  const ip = (at: number) => [...packet.subarray(at, at + 4)].join(".");
  const sport = view.getUint16(headerLength), dport = view.getUint16(headerLength + 2);
  const payload = new TextDecoder().decode(packet.subarray(headerLength + 8));
  return `UDP ${ip(12)}:${sport} -> ${ip(16)}:${dport} ${JSON.stringify(payload)}`;
}

async function main(): Promise<void> {
  const tun = openTun();
  if (typeof tun === "string") {
    console.log(`tun_reader.ts: skipped: ${tun}`);
    return;
  }
  // A /24 picked from the pid, so that two runs at once do not share a subnet.
  const net = `10.${100 + (process.pid % 100)}.${(process.pid >> 7) % 250}`;
  try {
    configure(tun.name, `${net}.1`);
    console.log(`${tun.name.replace(/\d+$/, "N")} up as 10.x.y.1/24`);
    // Send into the subnet: the kernel routes it out through the TUN, where we read it.
    const sender = new Socket(AF_INET, SOCK_DGRAM);
    sender.sendto(new TextEncoder().encode("hello, tun"), [`${net}.2`, 9999]);
    sender.close();
    let others = 0;
    for await (const fd of readableEvents(tun.fd)) {
      let packet: Uint8Array;
      try {
        packet = os.read(fd, 2048); // one packet per read
      } catch (e) {
        if (e instanceof BlockingIOError) continue; // nothing more for now
        throw e;
      }
      const udp = describeUdp(packet);
      // Other traffic may come first (IPv6 router solicitations once the link is up).
      if (udp === null || !udp.includes(":9999 ")) {
        others++;
        continue;
      }
      console.log(udp.replaceAll(net, "10.x.y"));
      break;
    }
    if (others > 0) console.error(`(${others} other packets skipped)`);
  } finally {
    os.close(tun.fd); // the device goes away with its last fd
  }
}

await run(main);
