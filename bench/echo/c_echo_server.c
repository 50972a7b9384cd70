/* The reference echo server of the networking benchmark: one thread, epoll, level-triggered,
 * non-blocking sockets. Each readable event reads up to 256 KiB and writes it straight back;
 * what the socket does not take is kept in a per-connection buffer and flushed on EPOLLOUT.
 * Reading goes on while bytes are buffered (as asyncio's transports do: stopping would leave the
 * peer's sends waiting on our ACKs) until the buffer passes HIGH_WATER, so memory stays bounded.
 *
 *   c_echo_server PORT [HOST]        prints "ready" once listening (HOST default 127.0.0.1)
 *
 * Built by bench/echo.ts into bench/.build/ (never committed).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (256 * 1024)
#define HIGH_WATER (1024 * 1024)

struct conn {
  int fd;
  unsigned char *pending;  /* bytes the socket did not take yet */
  size_t len, cap;
};

static int ep;
static unsigned char buf[READ_SIZE];

static void die(const char *what) {
  fprintf(stderr, "c_echo_server: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void drop(struct conn *c) {
  close(c->fd);  /* closing removes it from the epoll set */
  free(c->pending);
  free(c);
}

static void watch(struct conn *c, unsigned events) {
  struct epoll_event ev = {.events = events, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
}

/* Register for EPOLLOUT while bytes are buffered; stop reading over HIGH_WATER. */
static void update_events(struct conn *c) {
  watch(c, (c->len > 0 ? EPOLLOUT : 0) | (c->len < HIGH_WATER ? EPOLLIN : 0));
}

/* Send as much of the buffer as the socket takes. Returns -1 if the peer is gone. */
static int flush(struct conn *c) {
  size_t off = 0;
  while (off < c->len) {
    ssize_t w = send(c->fd, c->pending + off, c->len - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    off += (size_t)w;
  }
  memmove(c->pending, c->pending + off, c->len - off);
  c->len -= off;
  return 0;
}

/* Write `data` after what is buffered; keep what the socket does not take. -1: peer gone. */
static int echo(struct conn *c, const unsigned char *data, size_t n) {
  size_t before = c->len, off = 0;
  while (before == 0 && off < n) {
    ssize_t w = send(c->fd, data + off, n - off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EAGAIN) break;
      return -1;
    }
    off += (size_t)w;
  }
  if (off < n) {
    size_t need = c->len + n - off;
    if (c->cap < need) {
      c->cap = need * 2;
      c->pending = realloc(c->pending, c->cap);
    }
    memcpy(c->pending + c->len, data + off, n - off);
    c->len = need;
  }
  if ((before > 0) != (c->len > 0) || c->len >= HIGH_WATER) update_events(c);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PORT [HOST]\n", argv[0]);
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0) die("socket");
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1]))};
  if (inet_pton(AF_INET, argc > 2 ? argv[2] : "127.0.0.1", &addr.sin_addr) != 1) {
    fprintf(stderr, "c_echo_server: bad IPv4 address\n");
    return 2;
  }
  if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(lfd, 1024) < 0) die("listen");
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");
  printf("ready\n");
  fflush(stdout);

  struct epoll_event events[256];
  for (;;) {
    int n = epoll_wait(ep, events, 256, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (c == NULL) {  /* the listening socket */
        int fd;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          c = calloc(1, sizeof *c);
          c->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
        }
        continue;
      }
      unsigned ev = events[k].events;
      if ((ev & (EPOLLOUT | EPOLLERR)) && c->len > 0) {
        size_t before = c->len;
        if (flush(c) < 0) {
          drop(c);
          continue;
        }
        if (c->len == 0 || (before >= HIGH_WATER && c->len < HIGH_WATER)) update_events(c);
      }
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        ssize_t r = recv(c->fd, buf, READ_SIZE, 0);
        if (r < 0 && errno == EAGAIN) continue;
        if (r <= 0 || echo(c, buf, (size_t)r) < 0) drop(c);
      }
    }
  }
}
