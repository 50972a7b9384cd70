// UDP multicast on one host: a receiver joins a group on the loopback interface
// (IP_ADD_MEMBERSHIP with an ip_mreq from ipMreq), a sender sends to the group with
// IP_MULTICAST_IF / IP_MULTICAST_TTL / IP_MULTICAST_LOOP set, and the receiver's datagram
// endpoint prints what arrives. Both are asyncio-style datagram endpoints over sockets the
// script configured itself (`sock:`), as Python code passes `sock=`.
//
//   deno run --allow-ffi examples/multicast.ts [GROUP]      bun examples/multicast.ts [GROUP]
//
// GROUP defaults to 239.255.77.77 (organisation-local scope, RFC 2365). To use a real network,
// join and send on that interface's address instead of 127.0.0.1. In your own project import
// from "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import process from "node:process";
import {
  AF_INET, DatagramProtocol, type DatagramTransport, getEventLoop, inetPton, IP_ADD_MEMBERSHIP,
  IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, ipMreq, IPPROTO_IP, SO_REUSEADDR,
  sleep, SOCK_DGRAM, type SockAddr, Socket, SOL_SOCKET,
} from "../mod.ts";

const group = process.argv[2] ?? "239.255.77.77";
const iface = "127.0.0.1"; // the loopback interface, by its address
const messages = ["first", "second", "third"];
const loop = getEventLoop();

// The receiver: bound to the group's address (so only the group's datagrams arrive), any port.
const receiver = new Socket(AF_INET, SOCK_DGRAM);
receiver.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
receiver.bind([group, 0]);
receiver.setsockopt(IPPROTO_IP, IP_ADD_MEMBERSHIP, ipMreq(group, iface));
const port = (receiver.getsockname() as [string, number])[1];
console.log(`joined ${group} on ${iface}, port ${port}`);

// The sender: multicast leaves by the loopback interface, one hop, and loops back to this host.
const sender = new Socket(AF_INET, SOCK_DGRAM);
sender.setsockopt(IPPROTO_IP, IP_MULTICAST_IF, inetPton(AF_INET, iface));
sender.setsockopt(IPPROTO_IP, IP_MULTICAST_TTL, 1);
sender.setsockopt(IPPROTO_IP, IP_MULTICAST_LOOP, 1);

const allReceived = loop.createFuture<void>();

class Receiver extends DatagramProtocol {
  count = 0;
  override datagramReceived(data: Uint8Array, addr: SockAddr): void {
    const [host, fromPort] = addr as [string, number];
    console.log(`received '${new TextDecoder().decode(data)}' from ${host}:${fromPort}`);
    if (++this.count === messages.length && !allReceived.done()) allReceived.setResult();
  }
}

const [inbound] = await loop.runUntilComplete(loop.createDatagramEndpoint(() => new Receiver(), { sock: receiver }));
const [outbound] = await loop.runUntilComplete(
  loop.createDatagramEndpoint(() => new DatagramProtocol(), { sock: sender }),
) as [DatagramTransport, DatagramProtocol];
for (const text of messages) outbound.sendto(new TextEncoder().encode(text), [group, port]);

// Wait for the three datagrams, at most five seconds.
const timer = loop.callLater(5, () => {
  if (!allReceived.done()) allReceived.setException(new Error("multicast datagrams did not arrive"));
});
try {
  await loop.runUntilComplete(allReceived);
} finally {
  timer.cancel();
  inbound.close();
  outbound.close();
  await loop.runUntilComplete(() => sleep(0)); // let the transports finish closing their sockets
  loop.close();
}
