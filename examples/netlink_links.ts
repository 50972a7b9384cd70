// A network link monitor over a netlink(7) NETLINK_ROUTE socket (Linux): list the links, then
// print each one that appears, goes up or down, or disappears — what `ip monitor link` does.
//
//   deno run --allow-ffi examples/netlink_links.ts       bun examples/netlink_links.ts
//
// Try `sudo ip link add demo0 type veth peer name demo1`, `sudo ip link set demo0 up` and
// `sudo ip link del demo0` in another terminal; stop with Ctrl-C. In your own project import
// from "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  AF_NETLINK, CancelledError, getEventLoop, NETLINK_ROUTE, RTMGRP_LINK, SOCK_NONBLOCK, SOCK_RAW,
  Socket,
} from "../mod.ts";

// <linux/netlink.h>: struct nlmsghdr {u32 len; u16 type; u16 flags; u32 seq; u32 pid} (16
// bytes; messages 4-aligned); NLMSG_ERROR 2, NLMSG_DONE 3; NLM_F_REQUEST 1, NLM_F_DUMP 0x300.
// <linux/rtnetlink.h>: RTM_NEWLINK 16, RTM_DELLINK 17, RTM_GETLINK 18; struct ifinfomsg {u8
// family; u8 pad; u16 type; i32 index; u32 flags; u32 change} (16 bytes) and then struct rtattr
// {u16 len; u16 type} attributes (4-aligned). <linux/if_link.h>: IFLA_IFNAME 3.
// <linux/if.h>: IFF_UP 0x1, IFF_LOWER_UP 0x10000 (the carrier).
const NLMSG_ERROR = 2, NLMSG_DONE = 3, NLM_F_REQUEST = 1, NLM_F_DUMP = 0x300;
const RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_GETLINK = 18, IFLA_IFNAME = 3;
const IFF_UP = 0x1, IFF_LOWER_UP = 0x10000;

if (AF_NETLINK === undefined) {
  console.error("netlink(7) is Linux's: there is no AF_NETLINK on this OS");
  process.exit(1);
}

interface Link {
  name: string;
  state: string;
}
const links = new Map<number, Link>(); // by interface index

function stateOf(flags: number): string {
  if (!(flags & IFF_UP)) return "down";
  return flags & IFF_LOWER_UP ? "up" : "up, no carrier";
}

/** Print what one RTM_NEWLINK / RTM_DELLINK message changes. */
function onLinkMessage(type: number, msg: DataView, end: number, dumping: boolean): void {
  const index = msg.getInt32(20, true), flags = msg.getUint32(24, true);
  let name = links.get(index)?.name ?? `#${index}`;
  for (let off = 32; off + 4 <= end;) { // the attributes after nlmsghdr + ifinfomsg
    const len = msg.getUint16(off, true);
    if (len < 4) break;
    if (msg.getUint16(off + 2, true) === IFLA_IFNAME) {
      const bytes = new Uint8Array(msg.buffer, msg.byteOffset + off + 4, len - 4);
      name = new TextDecoder().decode(bytes).replace(/\0+$/, "");
    }
    off += (len + 3) & ~3;
  }
  if (type === RTM_DELLINK) {
    links.delete(index);
    console.log(`${name}: removed`);
    return;
  }
  const old = links.get(index), state = stateOf(flags);
  links.set(index, { name, state });
  if (dumping || old === undefined) console.log(`${name}: ${dumping ? "" : "added, "}${state}`);
  else if (old.state !== state) console.log(`${name}: ${state}`);
}

const loop = getEventLoop();
const sock = new Socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK, NETLINK_ROUTE!);
// Port id 0: the kernel picks one. Group RTMGRP_LINK: link changes are sent to this socket.
sock.bind([0, RTMGRP_LINK!]);

async function monitor(): Promise<void> {
  // Ask for every link (an RTM_GETLINK dump request: nlmsghdr + an empty ifinfomsg).
  const request = new Uint8Array(32);
  const head = new DataView(request.buffer);
  head.setUint32(0, request.length, true);
  head.setUint16(4, RTM_GETLINK, true);
  head.setUint16(6, NLM_F_REQUEST | NLM_F_DUMP, true);
  head.setUint32(8, 1, true); // sequence number
  await loop.sockSendto(sock, request, [0, 0]); // [0, 0]: the kernel
  let dumping = true;
  for (;;) {
    const data = await loop.sockRecv(sock, 65536); // one datagram: one or more messages
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off + 16 <= data.length;) {
      const len = view.getUint32(off, true), type = view.getUint16(off + 4, true);
      if (len < 16 || off + len > data.length) break;
      if (type === NLMSG_ERROR) throw new Error(`netlink error ${-view.getInt32(off + 16, true)}`);
      if (type === NLMSG_DONE && dumping) {
        dumping = false;
        console.log("watching for link changes (Ctrl-C to stop)");
      }
      if (type === RTM_NEWLINK || type === RTM_DELLINK) {
        onLinkMessage(type, new DataView(data.buffer, data.byteOffset + off, len), len, dumping);
      }
      off += (len + 3) & ~3;
    }
  }
}

const task = loop.createTask(monitor);
for (const signame of ["SIGINT", "SIGTERM"]) loop.addSignalHandler(signame, () => task.cancel());
try {
  await loop.runUntilComplete(task);
} catch (e) {
  if (!(e instanceof CancelledError)) throw e;
} finally {
  sock.close();
  loop.close();
}
