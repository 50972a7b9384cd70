// asyncio's "Watch a file descriptor for read events": wait until a socket receives data
// using addReader, then stop the loop.
import { getEventLoop, socketpair } from "../mod.ts";

// Create a pair of connected file descriptors
const [rsock, wsock] = socketpair();
const loop = getEventLoop();

function reader() {
  const data = rsock.recv(100);
  console.log("Received:", new TextDecoder().decode(data));
  // We are done: unregister the file descriptor
  loop.removeReader(rsock);
  // Stop the event loop
  loop.stop();
}

// Register the file descriptor for read event
loop.addReader(rsock, reader);

// Simulate the reception of data from the network
loop.callSoon(wsock.send, new TextEncoder().encode("abc"));

// Run the event loop
await loop.runForever();

// We are done, close sockets and the event loop
rsock.close();
wsock.close();
loop.close();
