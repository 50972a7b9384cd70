/**
 * platform/windows_socket.ts's multicast value layouts, as bytes: what Winsock is given for the
 * Linux forms the loop accepts. Runs on every OS (no Winsock call is made): under Wine these
 * values reach Linux's setsockopt unchanged, which takes every form, so the multicast tests
 * there (tests/loop/net/multicast_test.ts) pass with or without this translation.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AF_INET, inetPton, IP_ADD_MEMBERSHIP, IP_MULTICAST_IF, IP_MULTICAST_LOOP, IP_MULTICAST_TTL, ipMreq, ipMreqn,
} from "../../mod.ts";
import { winsockMulticastValue } from "../../platform/windows_socket.ts";

test("winsockMulticastValue: a one-byte IP_MULTICAST_TTL / IP_MULTICAST_LOOP becomes a DWORD; four bytes pass as they are", () => {
  assert.deepEqual([...winsockMulticastValue(IP_MULTICAST_TTL, new Uint8Array([9]))], [9, 0, 0, 0]);
  assert.deepEqual([...winsockMulticastValue(IP_MULTICAST_LOOP, new Uint8Array([1]))], [1, 0, 0, 0]);
  const dword = new Uint8Array([200, 0, 0, 0]);
  assert.equal(winsockMulticastValue(IP_MULTICAST_TTL, dword), dword);
});

test("winsockMulticastValue: IP_MULTICAST_IF gets an in_addr: an ip_mreq's interface, an ip_mreqn's address or index (0.0.0.n)", () => {
  const inAddr = inetPton(AF_INET, "127.0.0.1");
  assert.equal(winsockMulticastValue(IP_MULTICAST_IF, inAddr), inAddr);
  assert.deepEqual([...winsockMulticastValue(IP_MULTICAST_IF, ipMreq("239.1.2.3", "10.0.0.7"))], [10, 0, 0, 7]);
  assert.deepEqual(
    [...winsockMulticastValue(IP_MULTICAST_IF, ipMreqn("0.0.0.0", { address: "127.0.0.1" }))],
    [127, 0, 0, 1],
  );
  // A nonzero index wins over the address, as on Linux (ip(7)); MSDN: 0.0.0.n is index n.
  assert.deepEqual(
    [...winsockMulticastValue(IP_MULTICAST_IF, ipMreqn("0.0.0.0", { address: "127.0.0.1", ifindex: 0x010203 }))],
    [0, 1, 2, 3],
  );
});

test("winsockMulticastValue: other options' values, such as IP_ADD_MEMBERSHIP's ip_mreq, pass as they are", () => {
  const mreq = ipMreq("239.1.2.3", "127.0.0.1");
  assert.equal(winsockMulticastValue(IP_ADD_MEMBERSHIP, mreq), mreq);
});
