/**
 * AF_NETLINK sockets (netlink(7), Linux) through Socket and the loop: bind with groups,
 * getsockname's [pid, groups], an RTM_GETLINK dump whose reply lists the loopback interface,
 * read with sockRecv/sockRecvfrom, addReader and a datagram endpoint (sock=); membership by
 * setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP); a NETLINK_KOBJECT_UEVENT socket; a link
 * event for a veth pair the test creates (where `ip link add` is allowed); and the errors a
 * wrong address shape or an unknown family gives, after which the loop still works.
 * Elsewhere (no AF_NETLINK) every test is skipped.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { test } from "node:test";
import {
  AF_INET, AF_NETLINK, type BaseEventLoop, DatagramProtocol, type DatagramTransport,
  NETLINK_ADD_MEMBERSHIP, NETLINK_DROP_MEMBERSHIP, NETLINK_KOBJECT_UEVENT, NETLINK_ROUTE, OSError,
  OverflowError, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK, SOCK_DGRAM, SOCK_NONBLOCK,
  SOCK_RAW, SOCK_STREAM, type SockAddr, Socket, SOL_NETLINK, ValueError, waitFor,
} from "../../../mod.ts";
import { captureExceptions, fdCountSettled, stableFdCount, withLoop } from "../../helpers.ts";

const skip = AF_NETLINK === undefined ? "no AF_NETLINK on this OS (netlink(7) is Linux's)" : false;

// <linux/netlink.h>: struct nlmsghdr {u32 len; u16 type; u16 flags; u32 seq; u32 pid} (16
// bytes, NLMSG_ALIGNTO 4); NLMSG_ERROR 2, NLMSG_DONE 3; NLM_F_REQUEST 1, NLM_F_DUMP 0x300.
// <linux/rtnetlink.h>: RTM_NEWLINK 16, RTM_DELLINK 17, RTM_GETLINK 18; struct ifinfomsg {u8
// family; u8 pad; u16 type; i32 index; u32 flags; u32 change} (16 bytes); struct rtattr {u16
// len; u16 type} (RTA_ALIGNTO 4). <linux/if_link.h>: IFLA_IFNAME 3.
const NLMSG_ERROR = 2, NLMSG_DONE = 3, RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18;
const NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300, IFLA_IFNAME = 3;

/** An RTM_GETLINK dump request (nlmsghdr + ifinfomsg), sequence number `seq`. */
function getlinkRequest(seq: number): Uint8Array {
  const req = new Uint8Array(32);
  const v = new DataView(req.buffer);
  v.setUint32(0, 32, true);
  v.setUint16(4, RTM_GETLINK, true);
  v.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  v.setUint32(8, seq, true);
  return req;
}

interface LinkMessage {
  type: number;
  seq: number;
  name?: string;
}

/** The netlink messages of one datagram; link messages with their IFLA_IFNAME. */
function parseMessages(data: Uint8Array): LinkMessage[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: LinkMessage[] = [];
  for (let off = 0; off + 16 <= data.length;) {
    const len = v.getUint32(off, true), type = v.getUint16(off + 4, true);
    const msg: LinkMessage = { type, seq: v.getUint32(off + 8, true) };
    if (type === NLMSG_ERROR) assert.fail(`netlink error ${v.getInt32(off + 16, true)}`);
    if (type === RTM_NEWLINK || type === RTM_DELLINK) {
      for (let a = off + 32; a + 4 <= off + len;) {
        const alen = v.getUint16(a, true);
        if (alen < 4) break;
        if (v.getUint16(a + 2, true) === IFLA_IFNAME) {
          msg.name = new TextDecoder().decode(data.subarray(a + 4, a + alen)).replace(/\0+$/, "");
        }
        a += (alen + 3) & ~3;
      }
    }
    out.push(msg);
    if (len < 16) break;
    off += (len + 3) & ~3;
  }
  return out;
}

/** Read datagrams with `next` until NLMSG_DONE; the interface names the dump listed. */
async function readDump(next: () => Promise<Uint8Array>): Promise<string[]> {
  const names: string[] = [];
  for (;;) {
    for (const m of parseMessages(await next())) {
      if (m.type === NLMSG_DONE) return names;
      if (m.name !== undefined) names.push(m.name);
    }
  }
}

function routeSocket(type = SOCK_RAW): Socket {
  return new Socket(AF_NETLINK!, type | SOCK_NONBLOCK, NETLINK_ROUTE!);
}

test("AF_NETLINK: bind [0, groups] gets a port id from the kernel; getsockname is [pid, groups]", { skip }, async () => {
  const fds = await stableFdCount();
  const s = routeSocket();
  try {
    assert.equal(s.family, AF_NETLINK);
    const groups = RTMGRP_LINK! | RTMGRP_IPV4_IFADDR! | RTMGRP_IPV6_IFADDR!;
    s.bind([0, groups]);
    const [pid, got] = s.getsockname() as [number, number];
    assert.ok(Number.isInteger(pid) && pid > 0, `port id ${pid}`);
    assert.equal(got, groups);
    assert.deepEqual(s.getpeername(), [0, 0]); // the default destination: the kernel
    assert.match(String(s), /family=AF_NETLINK, type=SOCK_RAW, proto=0, laddr=\[pid=\d+, groups=273\], raddr=\[pid=0, groups=0\]>/);
    // connect() sets the default destination (the kernel's [0, 0] here).
    s.connect([0, 0]);
    assert.deepEqual(s.getpeername(), [0, 0]);
    // A port id of our own choosing is kept as given.
    const t = routeSocket();
    try {
      const own = 0x7f000000 + (process.pid & 0xffff);
      t.bind([own, 0]);
      assert.deepEqual(t.getsockname(), [own, 0]);
      // Taken: the kernel says EADDRINUSE.
      const u = routeSocket();
      try {
        assert.throws(() => u.bind([own, 0]), (e) => e instanceof OSError && e.code === "EADDRINUSE");
      } finally {
        u.close();
      }
    } finally {
      t.close();
    }
  } finally {
    s.close();
  }
  assert.equal(await fdCountSettled(fds), fds);
});

test("AF_NETLINK: NETLINK_ADD_MEMBERSHIP / DROP_MEMBERSHIP (SOL_NETLINK) change the groups getsockname reports", { skip }, () => {
  const s = routeSocket();
  try {
    s.bind([0, 0]);
    // RTNLGRP_LINK is group 1, bit 0 of the legacy mask (RTMGRP_LINK).
    s.setsockopt(SOL_NETLINK!, NETLINK_ADD_MEMBERSHIP!, 1);
    assert.equal((s.getsockname() as [number, number])[1], RTMGRP_LINK);
    s.setsockopt(SOL_NETLINK!, NETLINK_DROP_MEMBERSHIP!, 1);
    assert.equal((s.getsockname() as [number, number])[1], 0);
  } finally {
    s.close();
  }
});

test("AF_NETLINK: an RTM_GETLINK dump through loop.sockSendto and loop.sockRecv lists the loopback interface", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = routeSocket();
      try {
        s.bind([0, 0]);
        assert.equal(await loop.sockSendto(s, getlinkRequest(1), [0, 0]), 32);
        const names = await readDump(() => loop.sockRecv(s, 65536));
        assert.ok(names.includes("lo"), `links: ${names.join(", ")}`);
      } finally {
        s.close();
      }
    })
  ));

test("AF_NETLINK: loop.sockRecvfrom gives the kernel's address [0, 0] with each part of the dump", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = routeSocket(SOCK_DGRAM);
      try {
        s.bind([0, 0]);
        s.sendto(getlinkRequest(7), [0, 0]);
        const senders: SockAddr[] = [];
        const names = await readDump(async () => {
          const [data, from] = await loop.sockRecvfrom(s, 65536);
          senders.push(from);
          return data;
        });
        assert.ok(names.includes("lo"));
        for (const from of senders) assert.deepEqual(from, [0, 0]);
      } finally {
        s.close();
      }
    })
  ));

test("AF_NETLINK: the dump read with addReader, the way a monitor watches the fd", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = routeSocket();
      try {
        s.bind([0, 0]);
        const done = loop.createFuture<string[]>();
        const names: string[] = [];
        loop.addReader(s, () => {
          for (;;) {
            let data: Uint8Array;
            try {
              data = s.recv(65536);
            } catch (e) {
              if (e instanceof OSError && e.code === "EAGAIN") return;
              throw e;
            }
            for (const m of parseMessages(data)) {
              if (m.type === NLMSG_DONE && !done.done()) done.setResult(names);
              if (m.name !== undefined) names.push(m.name);
            }
          }
        });
        s.send(getlinkRequest(2));
        assert.ok((await done).includes("lo"));
        assert.equal(loop.removeReader(s), true);
      } finally {
        s.close();
      }
    })
  ));

class Collect extends DatagramProtocol {
  readonly datagrams: [Uint8Array, unknown][] = [];
  wake: (() => void) | null = null;
  override datagramReceived(data: Uint8Array, addr: unknown): void {
    this.datagrams.push([data.slice(), addr]);
    this.wake?.();
  }
}

/** The next datagram `protocol` receives. */
async function nextDatagram(loop: BaseEventLoop, protocol: Collect): Promise<Uint8Array> {
  while (protocol.datagrams.length === 0) {
    const fut = loop.createFuture<void>();
    protocol.wake = () => {
      if (!fut.done()) fut.setResult();
    };
    await fut;
  }
  return protocol.datagrams.shift()![0];
}

test("AF_NETLINK: a datagram endpoint over a netlink socket (sock=) sends the request and receives the dump", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = new Socket(AF_NETLINK!, SOCK_DGRAM, NETLINK_ROUTE!);
      s.bind([0, 0]);
      const protocol = new Collect();
      const [transport] = await loop.createDatagramEndpoint(() => protocol, { sock: s }) as [DatagramTransport, Collect];
      try {
        assert.deepEqual(transport.getExtraInfo("sockname"), s.getsockname());
        transport.sendto(getlinkRequest(3), [0, 0]);
        const names = await readDump(() => nextDatagram(loop, protocol));
        assert.ok(names.includes("lo"));
        assert.deepEqual(protocol.datagrams.map(([, from]) => from).filter((a) => JSON.stringify(a) !== "[0,0]"), []);
      } finally {
        transport.close();
      }
    })
  ));

test("AF_NETLINK: createDatagramEndpoint({ family: AF_NETLINK, proto: NETLINK_ROUTE }) makes the socket; the kernel binds it at the first send", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const protocol = new Collect();
      const [transport] = await loop.createDatagramEndpoint(() => protocol, {
        family: AF_NETLINK,
        proto: NETLINK_ROUTE,
      }) as [DatagramTransport, Collect];
      try {
        const sock = transport.getExtraInfo("socket") as Socket;
        assert.deepEqual([sock.family, sock.type, sock.proto], [AF_NETLINK, SOCK_DGRAM, NETLINK_ROUTE]);
        transport.sendto(getlinkRequest(8), [0, 0]);
        assert.ok((await readDump(() => nextDatagram(loop, protocol))).includes("lo"));
        assert.ok((sock.getsockname() as [number, number])[0] > 0, "an autobound port id");
        // A wrongly shaped address fails the endpoint with the codec's TypeError, as asyncio's
        // sendto does with socket.sendto's (a fatal write error); the loop carries on.
        const seen = captureExceptions(loop);
        transport.sendto(getlinkRequest(9), "kernel" as never);
        assert.ok(transport.isClosing());
        assert.equal(seen.length, 1);
        assert.equal(seen[0]!.message, "Fatal write error on datagram transport");
        assert.match(String(seen[0]!.exception), /TypeError: sendto\(\): AF_NETLINK address must be an array/);
      } finally {
        transport.close();
      }
      const s = routeSocket();
      try {
        await loop.sockSendto(s, getlinkRequest(10), [0, 0]);
        assert.ok((await readDump(() => loop.sockRecv(s, 65536))).includes("lo"));
      } finally {
        s.close();
      }
    })
  ));

test("AF_NETLINK: a NETLINK_KOBJECT_UEVENT socket binds to the kernel's uevent group and, through the loop, sees a veth link's add and remove", { skip }, async (t) => {
  const a = `aio${process.pid % 100000}u`, b = `aio${process.pid % 100000}v`;
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = new Socket(AF_NETLINK!, SOCK_DGRAM | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT!);
      try {
        try {
          s.bind([0, 1]);
        } catch (e) {
          // Outside the initial user namespace the kernel may refuse uevent group membership.
          if (e instanceof OSError && e.code === "EPERM") return t.skip("uevent group membership refused (EPERM)");
          throw e;
        }
        const [pid, groups] = s.getsockname() as [number, number];
        assert.ok(pid > 0);
        assert.equal(groups, 1);
        const why = addVeth(a, b);
        if (why !== null) return t.skip(why);
        // A uevent is "ACTION@DEVPATH\0KEY=VALUE\0…" from the kernel ([0, group 1]).
        const untilEvent = async (header: string) => {
          for (;;) {
            const [data, from] = await waitFor(loop.sockRecvfrom(s, 8192), 5);
            const fields = new TextDecoder().decode(data).split("\0");
            if (fields[0] !== header) continue; // another device's event
            assert.deepEqual(from, [0, 1]);
            assert.ok(fields.includes("SUBSYSTEM=net"), fields.join(" "));
            return;
          }
        };
        try {
          await untilEvent(`add@/devices/virtual/net/${a}`);
        } finally {
          execFileSync("ip", ["link", "del", a], { stdio: "pipe" });
        }
        await untilEvent(`remove@/devices/virtual/net/${a}`);
      } finally {
        s.close();
      }
    })
  );
});

/** `ip link add <a> type veth peer name <b>`, or why it cannot run here. */
function addVeth(a: string, b: string): string | null {
  try {
    execFileSync("ip", ["link", "add", a, "type", "veth", "peer", "name", b], { stdio: "pipe" });
    return null;
  } catch (e) {
    return `cannot create a veth link here (${String((e as Error).message).split("\n")[0]})`;
  }
}

test("AF_NETLINK: a link monitor bound to RTMGRP_LINK sees RTM_NEWLINK and RTM_DELLINK for a veth pair it did not make", { skip }, async (t) => {
  // Names unique to this process: sessions sharing the host's network namespace run at once.
  const a = `aio${process.pid % 100000}a`, b = `aio${process.pid % 100000}b`;
  await withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = routeSocket();
      try {
        s.bind([0, RTMGRP_LINK!]);
        const why = addVeth(a, b);
        if (why !== null) {
          t.skip(why);
          return;
        }
        const seen: [number, string][] = [];
        const wait = async (type: number, name: string) => {
          while (!seen.some(([t, n]) => t === type && n === name)) {
            for (const m of parseMessages(await waitFor(loop.sockRecv(s, 65536), 5))) {
              if (m.name !== undefined) seen.push([m.type, m.name]);
            }
          }
        };
        try {
          await wait(RTM_NEWLINK, a);
        } finally {
          execFileSync("ip", ["link", "del", a], { stdio: "pipe" });
        }
        await wait(RTM_DELLINK, a);
      } finally {
        s.close();
      }
    })
  );
});

test("AF_NETLINK addresses: a wrong shape is a TypeError naming AF_NETLINK, a value out of range an OverflowError; the loop survives", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      const s = routeSocket();
      try {
        const shape = (e: unknown) =>
          e instanceof TypeError && /AF_NETLINK address must be an array \[pid, groups\]/.test(e.message);
        assert.throws(() => s.bind("lo" as never), shape);
        assert.throws(() => s.bind([0] as never), shape);
        assert.throws(() => s.bind([0, 0, 0] as never), shape);
        assert.throws(() => s.bind(["0", 0] as never), (e) => e instanceof TypeError && /pid must be an integer/.test(e.message));
        assert.throws(() => s.bind([0, 1.5]), (e) => e instanceof TypeError && /groups must be an integer/.test(e.message));
        assert.throws(() => s.bind([-1, 0]), (e) => e instanceof OverflowError && /pid must be 0-4294967295/.test(e.message));
        assert.throws(() => s.bind([0, 2 ** 32]), OverflowError);
        assert.throws(() => s.connect(["127.0.0.1", 80] as never), TypeError);
        await assert.rejects(loop.sockSendto(s, getlinkRequest(4), "kernel" as never), shape);
        // An IPv4 socket given a netlink-shaped address names its own family's rule.
        const inet = new Socket(AF_INET, SOCK_DGRAM);
        try {
          assert.throws(() => inet.bind([0, 0] as never), (e) => e instanceof TypeError && /host must be a string/.test(e.message));
        } finally {
          inet.close();
        }
        // Still usable after all that, and so is the loop.
        s.bind([0, 0]);
        await loop.sockSendto(s, getlinkRequest(5), [0, 0]);
        assert.ok((await readDump(() => loop.sockRecv(s, 65536))).includes("lo"));
      } finally {
        s.close();
      }
    })
  ));

test("an address family the codec does not know is a ValueError listing the ones it does; an unknown family is the kernel's EAFNOSUPPORT", { skip }, () =>
  withLoop((loop) =>
    loop.runUntilComplete(async () => {
      // AF_VSOCK (40, <bits/socket.h>): a real family with its own struct sockaddr_vm, which
      // Socket does not encode. Where the kernel lacks it, a UDP socket the object is told is
      // AF_VSOCK makes the same call reach the same check.
      let other: Socket;
      try {
        other = new Socket(40, SOCK_STREAM);
      } catch {
        const udp = new Socket(AF_INET, SOCK_DGRAM);
        other = new Socket(40, SOCK_DGRAM, 0, udp.detach());
      }
      try {
        const listed = (call: string) => (e: unknown) =>
          e instanceof ValueError &&
          e.message ===
            `${call}: address family 40 is not supported (AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, AF_PACKET)`;
        assert.throws(() => other.bind([2, 1234] as never), listed("bind()"));
        assert.throws(() => other.connect([2, 1234] as never), listed("connect()"));
        assert.throws(() => other.sendto(new Uint8Array(1), [2, 1234] as never), listed("sendto()"));
      } finally {
        other.close();
      }
      assert.throws(() => new Socket(4000, SOCK_STREAM), (e) => e instanceof OSError && e.code === "EAFNOSUPPORT");
      // The loop is unharmed: a netlink dump still goes through it.
      const s = routeSocket();
      try {
        s.bind([0, 0]);
        await loop.sockSendto(s, getlinkRequest(6), [0, 0]);
        assert.ok((await readDump(() => loop.sockRecv(s, 65536))).includes("lo"));
      } finally {
        s.close();
      }
    })
  ));
