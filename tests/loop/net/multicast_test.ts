/**
 * UDP multicast with the IP_* / IPV6_* options and the ipMreq/ipMreqn/ipv6Mreq helpers: join a
 * 239.x group on the loopback interface, send with IP_MULTICAST_IF/LOOP/TTL and receive it
 * through the loop (a datagram endpoint, sockRecvfrom); leave the group; read options back with
 * getsockopt; IPv6 where an interface with an IPv6 multicast route exists; and the errors bad
 * groups, interfaces and memberships give.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { test } from "node:test";
import {
  AF_INET, AF_INET6, type BaseEventLoop, DatagramProtocol, type DatagramTransport, htonl, htons,
  ifIndextoname, ifNametoindex, inetPton, IP_ADD_MEMBERSHIP, IP_DROP_MEMBERSHIP, IP_MULTICAST_IF, IP_MULTICAST_LOOP,
  IP_MULTICAST_TTL, ipMreq, ipMreqn, IPPROTO_IP, IPPROTO_IPV6, ipv6Mreq, IPV6_JOIN_GROUP,
  IPV6_LEAVE_GROUP, IPV6_MULTICAST_HOPS, IPV6_MULTICAST_IF, IPV6_MULTICAST_LOOP, ntohl, ntohs,
  OSError, OverflowError, SO_REUSEADDR, SOCK_DGRAM, Socket, SOL_SOCKET, ValueError,
} from "../../../mod.ts";
import { fdCountSettled, hostDelay, stableFdCount, withLoop } from "../../helpers.ts";
import { hasIpv6 } from "../../net_helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const isLinux = process.platform === "linux";
const isWindows = process.platform === "win32";

/** A group of the organisation-local scope (RFC 2365), different for each test process. */
const GROUP = `239.255.${(process.pid >> 8) & 0xff}.${process.pid & 0xff}`;

class Collect extends DatagramProtocol {
  readonly datagrams: [string, unknown][] = [];
  wake: (() => void) | null = null;
  override datagramReceived(data: Uint8Array, addr: unknown): void {
    this.datagrams.push([dec.decode(data), addr]);
    this.wake?.();
  }
}

async function nextDatagram(loop: BaseEventLoop, protocol: Collect): Promise<[string, unknown]> {
  while (protocol.datagrams.length === 0) {
    const fut = loop.createFuture<void>();
    protocol.wake = () => {
      if (!fut.done()) fut.setResult();
    };
    const timer = loop.callLater(5, () => {
      if (!fut.done()) fut.setException(new Error("no multicast datagram within 5 s"));
    });
    await fut;
    timer.cancel();
  }
  return protocol.datagrams.shift()!;
}

/** A UDP socket bound to `group` (port chosen by the kernel) that joined it on 127.0.0.1. */
function joinedReceiver(group: string): Socket {
  const r = new Socket(AF_INET, SOCK_DGRAM);
  r.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  r.bind([group, 0]);
  r.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreq(group, "127.0.0.1"));
  return r;
}

/** A UDP sender whose multicast leaves by the loopback interface and loops back to this host. */
function loopbackSender(): Socket {
  const s = new Socket(AF_INET, SOCK_DGRAM);
  s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inetPton(AF_INET, "127.0.0.1"));
  s.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 1);
  s.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 1);
  s.setBlocking(false);
  return s;
}

test("multicast: a receiver that joined a 239.x group on loopback (IP_ADD_MEMBERSHIP) gets what a sender sends there, through a datagram endpoint", async () => {
  const fds = await stableFdCount();
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const r = joinedReceiver(GROUP);
      const port = (r.getsockname() as [string, number])[1];
      const protocol = new Collect();
      const [transport] = await loop.createDatagramEndpoint(() => protocol, { sock: r }) as [DatagramTransport, Collect];
      const s = loopbackSender();
      try {
        s.bind(["127.0.0.1", 0]);
        await loop.sockSendto(s, enc.encode("hello group"), [GROUP, port]);
        assert.deepEqual(await nextDatagram(loop, protocol), ["hello group", s.getsockname()]);
        // After IP_DROP_MEMBERSHIP the group's datagrams no longer arrive; a unicast one does.
        r.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, ipMreq(GROUP, "127.0.0.1"));
        await loop.sockSendto(s, enc.encode("after leaving"), [GROUP, port]);
        await hostDelay(100);
        assert.deepEqual(protocol.datagrams, []);
      } finally {
        s.close();
        transport.close();
      }
    })
  );
  assert.equal(await fdCountSettled(fds), fds);
});

test("multicast: loop.sockRecvfrom on the group gives the sender's address; a second member socket gets its own copy", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const r = joinedReceiver(GROUP);
      r.setBlocking(false);
      const port = (r.getsockname() as [string, number])[1];
      const s = loopbackSender();
      try {
        await loop.sockSendto(s, enc.encode("one"), [GROUP, port]);
        const [data, from] = await loop.sockRecvfrom(r, 100);
        assert.equal(dec.decode(data), "one");
        assert.deepEqual(from, ["127.0.0.1", (s.getsockname() as [string, number])[1]]);
        // SO_REUSEADDR lets a second socket bind the same group and port: each member socket
        // receives its own copy of a multicast datagram (ip(7)).
        const r2 = new Socket(AF_INET, SOCK_DGRAM);
        try {
          r2.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
          r2.bind([GROUP, port]);
          r2.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreq(GROUP, "127.0.0.1"));
          r2.setBlocking(false);
          await loop.sockSendto(s, enc.encode("two"), [GROUP, port]);
          assert.equal(dec.decode((await loop.sockRecvfrom(r, 100))[0]), "two");
          assert.equal(dec.decode((await loop.sockRecvfrom(r2, 100))[0]), "two");
        } finally {
          r2.close();
        }
      } finally {
        s.close();
        r.close();
      }
    })
  ));

test("multicast: getsockopt reads back IP_MULTICAST_TTL (an int) and IP_MULTICAST_IF (in_addr bytes)", () => {
  const s = new Socket(AF_INET, SOCK_DGRAM);
  try {
    assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 1); // ip(7): default 1
    s.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 7);
    assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 7);
    assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 1); // ip(7): default on
    s.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, false);
    assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 0);
    s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inetPton(AF_INET, "127.0.0.1"));
    assert.deepEqual([...s.getsockopt(IPPROTO_IP, IP_MULTICAST_IF, 4)], [127, 0, 0, 1]);
  } finally {
    s.close();
  }
});

test("multicast: IP_MULTICAST_IF also takes an ip_mreq or an ip_mreqn (their interface address), and the TTL and loop options a single byte", {
  skip: !isLinux && !isWindows && "BSD's IP_MULTICAST_IF takes only an in_addr",
}, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const r = joinedReceiver(GROUP);
      r.setBlocking(false);
      const port = (r.getsockname() as [string, number])[1];
      const s = new Socket(AF_INET, SOCK_DGRAM);
      try {
        // Linux reads imr_interface (ip_mreq) or imr_address (ip_mreqn with index 0) (ip(7));
        // Windows takes an in_addr, which the Winsock translation cuts out of either.
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, ipMreq(GROUP, "127.0.0.1"));
        assert.deepEqual([...s.getsockopt(IPPROTO_IP, IP_MULTICAST_IF, 4)], [127, 0, 0, 1]);
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inetPton(AF_INET, "0.0.0.0"));
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn("0.0.0.0", { address: "127.0.0.1" }));
        assert.deepEqual([...s.getsockopt(IPPROTO_IP, IP_MULTICAST_IF, 4)], [127, 0, 0, 1]);
        // One byte: Linux and BSD take a u_char for these (ip(7), ip(4)); Winsock a DWORD.
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, new Uint8Array([9]));
        assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_TTL), 9);
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, new Uint8Array([0]));
        assert.equal(s.getsockopt(IPPROTO_IP, IP_MULTICAST_LOOP), 0);
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, new Uint8Array([1]));
        s.setBlocking(false);
        await loop.sockSendto(s, enc.encode("by ip_mreqn"), [GROUP, port]);
        const [data, from] = await loop.sockRecvfrom(r, 100);
        assert.equal(dec.decode(data), "by ip_mreqn");
        assert.equal((from as [string, number])[0], "127.0.0.1", "it left by the loopback interface");
      } finally {
        s.close();
        r.close();
      }
    })
  ));

test("multicast: ipMreqn names the interface by index or name (Linux's struct ip_mreqn)", { skip: !isLinux && "struct ip_mreqn is Linux's" }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const r = new Socket(AF_INET, SOCK_DGRAM);
      r.bind([GROUP, 0]);
      r.setBlocking(false);
      r.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(GROUP, { ifindex: "lo" }));
      const port = (r.getsockname() as [string, number])[1];
      const s = new Socket(AF_INET, SOCK_DGRAM);
      try {
        s.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, ipMreqn("0.0.0.0", { ifindex: "lo" }));
        s.setBlocking(false);
        await loop.sockSendto(s, enc.encode("by index"), [GROUP, port]);
        assert.equal(dec.decode((await loop.sockRecvfrom(r, 100))[0]), "by index");
        // Joining twice is the kernel's EADDRINUSE; leaving by the same index works once.
        assert.throws(
          () => r.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreqn(GROUP, { ifindex: "lo" })),
          (e) => e instanceof OSError && e.code === "EADDRINUSE",
        );
        r.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, ipMreqn(GROUP, { ifindex: "lo" }));
      } finally {
        s.close();
        r.close();
      }
    })
  ));

test("ipMreq / ipMreqn / ipv6Mreq: the struct bytes, in network order for addresses and host order for indexes", () => {
  assert.deepEqual([...ipMreq("239.1.2.3")], [239, 1, 2, 3, 0, 0, 0, 0]);
  assert.deepEqual([...ipMreq("239.1.2.3", "10.0.0.7")], [239, 1, 2, 3, 10, 0, 0, 7]);
  const n = ipMreqn("239.1.2.3", { address: "127.0.0.1", ifindex: 0x01020304 });
  assert.equal(n.length, 12);
  assert.deepEqual([...n.subarray(0, 8)], [239, 1, 2, 3, 127, 0, 0, 1]);
  assert.equal(new DataView(n.buffer).getUint32(8, true), 0x01020304); // x86-64/AArch64: little-endian
  const v6 = ipv6Mreq("ff02::1:2", 5);
  assert.equal(v6.length, 20);
  assert.deepEqual([...v6.subarray(0, 16)], [...inetPton(AF_INET6, "ff02::1:2")]);
  assert.equal(new DataView(v6.buffer).getUint32(16, true), 5);
});

test("ipMreq / ipMreqn / ipv6Mreq errors: not an address, the wrong family, an unknown interface, a wrong type", () => {
  assert.throws(() => ipMreq("not.a.group"), (e) => e instanceof ValueError && /'not\.a\.group'/.test(e.message));
  assert.throws(() => ipMreq("ff02::1"), (e) => e instanceof ValueError && /IPv6 address/.test(e.message));
  assert.throws(() => ipMreq(239 as never), (e) => e instanceof TypeError && /group must be an address string/.test(e.message));
  assert.throws(() => ipMreq("239.1.2.3", "lo"), (e) => e instanceof ValueError && /interface must be an IPv4 address literal/.test(e.message));
  assert.throws(() => ipMreqn("239.1.2.3", { ifindex: "no-such-if0" }), (e) => e instanceof ValueError && /unknown network interface 'no-such-if0'/.test(e.message));
  assert.throws(() => ipMreqn("239.1.2.3", { ifindex: -1 }), OverflowError);
  assert.throws(() => ipv6Mreq("239.1.2.3"), (e) => e instanceof ValueError && /IPv4 address/.test(e.message));
  assert.throws(() => ipv6Mreq("ff02::1", [1] as never), (e) => e instanceof TypeError && /interface must be an index or a name/.test(e.message));
});

test("multicast errors: joining a unicast address (EINVAL), leaving a group never joined (EADDRNOTAVAIL; Windows: EINVAL), a short struct (EINVAL); the socket still works", () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const r = new Socket(AF_INET, SOCK_DGRAM);
      try {
        r.bind(["127.0.0.1", 0]);
        r.setBlocking(false);
        const errno = (code: string) => (e: unknown) => e instanceof OSError && e.code === code;
        assert.throws(() => r.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreq("10.1.2.3", "127.0.0.1")), errno("EINVAL"));
        // Winsock says WSAEINVAL for a group not joined (MSDN "Multicast Socket Option Behavior").
        assert.throws(
          () => r.setsockopt(IPPROTO_IP, IP_DROP_MEMBERSHIP, ipMreq(GROUP, "127.0.0.1")),
          errno(isWindows ? "EINVAL" : "EADDRNOTAVAIL"),
        );
        assert.throws(() => r.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, new Uint8Array(3)), errno("EINVAL"));
        const s = new Socket(AF_INET, SOCK_DGRAM);
        try {
          s.setBlocking(false);
          await loop.sockSendto(s, enc.encode("unicast"), r.getsockname() as [string, number]);
          assert.equal(dec.decode((await loop.sockRecvfrom(r, 100))[0]), "unicast");
        } finally {
          s.close();
        }
      } finally {
        r.close();
      }
    })
  ));

/** Interface names that are up and multicast-capable (IFF_UP 0x1, IFF_MULTICAST 0x1000, <net/if.h>). */
function multicastInterfaces(): string[] {
  // Windows: its NDIS names (loopback_0, ethernet_32769, …), from the first indexes in use.
  if (isWindows) {
    return Array.from({ length: 16 }, (_, i) => {
      try {
        return ifIndextoname(i + 1);
      } catch {
        return "";
      }
    }).filter((name) => name !== "");
  }
  const dir = "/sys/class/net";
  if (!existsSync(dir)) return ["lo0"]; // BSD's loopback is multicast-capable
  return readdirSync(dir).filter((name) => {
    try {
      const flags = Number(readFileSync(`${dir}/${name}/flags`, "utf8").trim());
      return (flags & 0x1001) === 0x1001;
    } catch {
      return false;
    }
  });
}

test("IPv6 multicast: IPV6_JOIN_GROUP (ipv6Mreq), IPV6_MULTICAST_IF/HOPS/LOOP, a link-local group looped back to this host", async (t) => {
  if (!hasIpv6()) return t.skip("no IPv6 on this kernel");
  // Linux's lo has no IFF_MULTICAST and so no ff00::/8 route: the datagram (hop limit 1, looped
  // back) goes by the first up multicast interface instead.
  const candidates = ["lo", ...multicastInterfaces().filter((n) => n !== "lo")];
  const group = `ff02::a10:${(process.pid & 0xffff).toString(16)}`;
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      for (const iface of candidates) {
        const r = new Socket(AF_INET6, SOCK_DGRAM);
        const s = new Socket(AF_INET6, SOCK_DGRAM);
        try {
          r.bind(["::", 0]);
          r.setBlocking(false);
          const port = (r.getsockname() as [string, number])[1];
          try {
            r.setsockopt(IPPROTO_IPV6, IPV6_JOIN_GROUP, ipv6Mreq(group, iface));
          } catch (e) {
            if (e instanceof ValueError || e instanceof OSError) continue; // no such interface here
            throw e;
          }
          const index = ifNametoindex(iface);
          s.setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_IF, index);
          s.setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS, 1);
          s.setsockopt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, 1);
          assert.equal(s.getsockopt(IPPROTO_IPV6, IPV6_MULTICAST_IF), index);
          assert.equal(s.getsockopt(IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 1);
          assert.equal(s.getsockopt(IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 1);
          s.setBlocking(false);
          try {
            await loop.sockSendto(s, enc.encode(`v6 via ${iface}`), [group, port, 0, index]);
          } catch (e) {
            if (e instanceof OSError && e.code === "ENETUNREACH") continue; // no multicast route there
            throw e;
          }
          assert.equal(dec.decode((await loop.sockRecvfrom(r, 100))[0]), `v6 via ${iface}`);
          console.log(`multicast_test: IPv6 multicast looped back via ${iface}`);
          r.setsockopt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, ipv6Mreq(group, iface));
          // Leaving again: Winsock's WSAEINVAL (MSDN "Multicast Socket Option Behavior").
          assert.throws(
            () => r.setsockopt(IPPROTO_IPV6, IPV6_LEAVE_GROUP, ipv6Mreq(group, iface)),
            (e) => e instanceof OSError && e.code === (isWindows ? "EINVAL" : "EADDRNOTAVAIL"),
          );
          return;
        } finally {
          s.close();
          r.close();
        }
      }
      t.skip(`no interface with an IPv6 multicast route among ${candidates.join(", ")}`);
    })
  );
});

test("htons / ntohs / htonl / ntohl swap on this little-endian host and check their range", () => {
  assert.equal(htons(0x0003), 0x0300);
  assert.equal(ntohs(htons(0x1234)), 0x1234);
  assert.equal(htonl(0x7f000001), 0x0100007f);
  assert.equal(ntohl(0x0100007f), 0x7f000001);
  assert.equal(htonl(0xffffff00), 0x00ffffff);
  assert.throws(() => htons(0x10000), OverflowError);
  assert.throws(() => htonl(-1), OverflowError);
  assert.throws(() => htons(1.5), TypeError);
  assert.throws(() => ntohs("1" as never), TypeError);
});

test("ifNametoindex / ifIndextoname map the loopback interface both ways; unknown ones are OSError", () => {
  // Windows names its loopback loopback_0 (Wine 8.0: loopback_1, the index of Linux's lo).
  const lo = ["lo", "lo0", "loopback_0", "loopback_1"].find((name) => {
    try {
      return ifNametoindex(name) > 0;
    } catch {
      return false;
    }
  });
  assert.ok(lo !== undefined, "a loopback interface named lo, lo0 or loopback_N");
  assert.equal(ifIndextoname(ifNametoindex(lo)), lo);
  assert.throws(() => ifNametoindex("no-such-if0"), (e) => e instanceof OSError && e.code === "ENODEV" && /no-such-if0/.test(e.message));
  assert.throws(() => ifNametoindex("x".repeat(100)), (e) => e instanceof OSError && e.code === "ENODEV");
  assert.throws(() => ifNametoindex(1 as never), TypeError);
  assert.throws(() => ifIndextoname(0x7ffffff0), (e) => e instanceof OSError && e.code === "ENXIO");
  assert.throws(() => ifIndextoname(-1), OverflowError);
});
