/* Echo load client (the networking benchmark): N connections, each a ping-pong of one S-byte
 * message — send S bytes, wait until S bytes come back, check they are the same bytes, repeat —
 * for D seconds after a warm-up. One epoll thread, non-blocking sockets, level-triggered.
 * Prints one JSON line: requests/s and latency percentiles in microseconds.
 *
 *   load_client HOST PORT [--conns=10] [--size=1024] [--duration=3] [--warmup=0.5]
 *
 * Built by bench/echo.ts into bench/.build/ (never committed). Exit status 1 on any error
 * (refused connection, peer closed, echoed bytes differ, no reply for 5 s), with the reason on
 * stderr, so the runner can skip a broken server instead of printing nonsense.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A server that stops answering for this long is broken, not slow. */
#define STALL_SECONDS 5.0

struct conn {
  int fd;
  size_t sent;      /* bytes of the current message sent */
  size_t received;  /* bytes of the current message echoed back */
  double started;   /* when the current message's first byte was sent */
  int want_out;     /* EPOLLOUT currently registered */
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what) {
  fprintf(stderr, "load_client: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *what) {
  fprintf(stderr, "load_client: %s\n", what);
  exit(1);
}

static const char *opt(int argc, char **argv, const char *name, const char *dflt) {
  size_t len = strlen(name);
  for (int i = 3; i < argc; i++)
    if (strncmp(argv[i], name, len) == 0 && argv[i][len] == '=') return argv[i] + len + 1;
  return dflt;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int ep;

static void set_events(struct conn *c, int want_out) {
  if (c->want_out == want_out) return;
  struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
  c->want_out = want_out;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s HOST PORT [--conns=N] [--size=BYTES] [--duration=S] [--warmup=S]\n",
            argv[0]);
    return 2;
  }
  int nconns = atoi(opt(argc, argv, "--conns", "10"));
  size_t size = (size_t)atol(opt(argc, argv, "--size", "1024"));
  double duration = atof(opt(argc, argv, "--duration", "3"));
  double warmup = atof(opt(argc, argv, "--warmup", "0.5"));
  if (nconns < 1 || size < 1 || duration <= 0) fail("bad arguments");

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  int rc = getaddrinfo(argv[1], argv[2], &hints, &ai);
  if (rc != 0) {
    fprintf(stderr, "load_client: getaddrinfo: %s\n", gai_strerror(rc));
    return 1;
  }

  /* The message: a pattern that makes misordered or corrupted echoes visible. */
  unsigned char *msg = malloc(size), *rbuf = malloc(size > 65536 ? size : 65536);
  for (size_t i = 0; i < size; i++) msg[i] = (unsigned char)(i * 131 + 7);

  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *conns = calloc(nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    /* Connect blocking (simple, and not part of what is measured), then go non-blocking. */
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    conns[i].fd = fd;
    conns[i].want_out = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = &conns[i]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
  }
  freeaddrinfo(ai);

  size_t cap = 1 << 16, count = 0;
  double *lat = malloc(cap * sizeof *lat);
  double t_start = now(), t_measure = t_start + warmup, t_end = t_measure + duration;
  double last_progress = t_start;
  for (int i = 0; i < nconns; i++) conns[i].started = t_start;

  struct epoll_event events[64];
  for (;;) {
    double t = now();
    if (t >= t_end) break;
    if (t - last_progress > STALL_SECONDS) fail("no echo for 5 seconds (server stalled)");
    int n = epoll_wait(ep, events, 64, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int k = 0; k < n; k++) {
      struct conn *c = events[k].data.ptr;
      if (events[k].events & (EPOLLOUT | EPOLLERR)) {
        while (c->sent < size) {
          ssize_t w = send(c->fd, msg + c->sent, size - c->sent, MSG_NOSIGNAL);
          if (w < 0) {
            if (errno == EAGAIN) break;
            die("send");
          }
          c->sent += (size_t)w;
        }
        if (c->sent == size) set_events(c, 0);
      }
      if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          size_t want = size - c->received;
          if (want == 0) break;
          ssize_t r = recv(c->fd, rbuf, want < 65536 ? want : 65536, 0);
          if (r < 0) {
            if (errno == EAGAIN) break;
            die("recv");
          }
          if (r == 0) fail("server closed the connection");
          if (c->received + (size_t)r > c->sent) fail("server sent bytes it was not sent");
          if (memcmp(rbuf, msg + c->received, (size_t)r) != 0) fail("echoed bytes differ");
          c->received += (size_t)r;
        }
        if (c->received == size) {
          double done = now();
          last_progress = done;
          if (c->started >= t_measure && done <= t_end) {
            if (count == cap) lat = realloc(lat, (cap *= 2) * sizeof *lat);
            lat[count++] = done - c->started;
          }
          c->sent = c->received = 0;
          c->started = done;
          set_events(c, 1);  /* the next send happens on EPOLLOUT, right away */
        }
      }
    }
  }
  for (int i = 0; i < nconns; i++) close(conns[i].fd);

  if (count == 0) {
    fprintf(stderr, "load_client: no request completed during the measurement (last echo %.2f s "
            "before the end: the server stalled)\n", t_end - last_progress);
    return 1;
  }
  qsort(lat, count, sizeof *lat, cmp_double);
  double p50 = lat[count / 2], p99 = lat[(size_t)(count * 0.99)];
  printf("{\"conns\": %d, \"size\": %zu, \"seconds\": %.3f, \"requests\": %zu, \"rps\": %.0f, "
         "\"p50_us\": %.1f, \"p99_us\": %.1f}\n",
         nconns, size, duration, count, count / duration, p50 * 1e6, p99 * 1e6);
  return 0;
}
