/* Idle-connection client (the memory-per-connection benchmark, bench/memory_per_conn.ts):
 * opens N connections to an echo server, one after another; each sends one S-byte message and
 * waits until it came back whole, then stays open and silent. Prints "open N" once all are
 * open, then holds them until stdin reaches EOF (the runner closes it), and exits, which
 * closes them all.
 *
 *   idle_client HOST PORT N [SIZE=1024]
 *
 * Connections come from source addresses of their own, 127.1.X.1 upwards (all of 127/8 is
 * loopback), X from the process id, a new address every 20,000 connections: the ports an earlier
 * run left in TIME_WAIT on 127.0.0.1 would otherwise make connect(2)'s port search crawl, and
 * one address has only ip_local_port_range's ~28k ports. Each socket binds its address with
 * IP_BIND_ADDRESS_NO_PORT (ip(7)), so the kernel still picks the port at connect(2).
 * Blocking sockets: the server is measured, not this client.
 * Built by bench/memory_per_conn.ts into bench/.build/. Exit status 1 on any error, with the
 * reason on stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* linux/in.h */
#endif

/* Connections per source address: well under the 28k ports of 32768-60999. */
#define PER_SOURCE 20000

static void die(const char *what, long i) {
  fprintf(stderr, "idle_client: %s (connection %ld): %s\n", what, i, strerror(errno));
  exit(1);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: idle_client HOST PORT N [SIZE]\n");
    return 2;
  }
  struct sockaddr_in server = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "idle_client: bad IPv4 address %s\n", argv[1]);
    return 2;
  }
  long n = atol(argv[3]);
  size_t size = argc > 4 ? (size_t)atol(argv[4]) : 1024;
  char *out = malloc(size), *in = malloc(size);
  for (size_t k = 0; k < size; k++) out[k] = (char)('a' + k % 26);

  /* 127.1.X.1 with X from the pid: 256 addresses apart from any other run's */
  uint32_t source = 0x7f010001 + ((uint32_t)(getpid() % 250) << 8);
  for (long i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket", i);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_port = 0};
    src.sin_addr.s_addr = htonl(source + (uint32_t)(i / PER_SOURCE));
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0) die("bind", i);
    if (connect(fd, (struct sockaddr *)&server, sizeof server) < 0) die("connect", i);
    for (size_t sent = 0; sent < size;) {
      ssize_t k = send(fd, out + sent, size - sent, MSG_NOSIGNAL);
      if (k < 0) die("send", i);
      sent += (size_t)k;
    }
    for (size_t got = 0; got < size;) {
      ssize_t k = recv(fd, in + got, size - got, 0);
      if (k < 0) die("recv", i);
      if (k == 0) {
        errno = ECONNRESET;
        die("peer closed", i);
      }
      got += (size_t)k;
    }
    if (memcmp(in, out, size) != 0) {
      fprintf(stderr, "idle_client: echoed bytes differ (connection %ld)\n", i);
      return 1;
    }
  }
  printf("open %ld\n", n);
  fflush(stdout);
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return 0;
}
