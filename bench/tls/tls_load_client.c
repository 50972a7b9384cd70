/* TLS echo load client (bench/tls): N TLS connections, each a ping-pong of one S-byte message
 * — SSL_write S bytes, SSL_read until S bytes came back, check they are the same bytes, repeat —
 * for D seconds after a warm-up. Handshakes are done up front (blocking), then one epoll thread
 * drives every connection with non-blocking SSL_read/SSL_write. Prints one JSON line:
 * requests/s and latency percentiles in microseconds.
 *
 *   tls_load_client HOST PORT [--conns=10] [--size=1024] [--duration=2] [--warmup=0.5]
 *
 * Certificates are not verified (the servers use a throwaway self-signed one); TLS 1.3 with
 * OpenSSL's default suite order. Built by bench/tls/run_tls.ts into bench/.build/ with
 * `gcc -O2 ... -lssl -lcrypto` (never committed). Exit status 1 on any error, with the reason on
 * stderr, so the runner can skip a broken server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define STALL_SECONDS 5.0

enum phase { SENDING, RECEIVING };

struct conn {
  int fd;
  SSL *ssl;
  enum phase phase;
  size_t sent, received;
  double started;
  int want_out;
};

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void fail(const char *what) {
  fprintf(stderr, "tls_load_client: %s\n", what);
  ERR_print_errors_fp(stderr);
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

static unsigned char *msg, *rbuf;
static size_t size;
static double *lat;
static size_t nlat, caplat;
static int measuring;
static int epfd;

static void set_out(struct conn *c, int on) {
  if (c->want_out == on) return;
  struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) fail("epoll_ctl");
  c->want_out = on;
}

/* Run one connection as far as it goes without blocking. */
static void drive(struct conn *c, double t_end) {
  for (;;) {
    if (c->phase == SENDING) {
      int r = SSL_write(c->ssl, msg + c->sent, (int)(size - c->sent));
      if (r > 0) {
        c->sent += (size_t)r;
        if (c->sent == size) {
          c->phase = RECEIVING;
          c->received = 0;
        }
        continue;
      }
      int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_WRITE) { set_out(c, 1); return; }
      if (e == SSL_ERROR_WANT_READ) { set_out(c, 0); return; }
      fail("SSL_write failed (server closed?)");
    } else {
      int r = SSL_read(c->ssl, rbuf, (int)(size - c->received));
      if (r > 0) {
        if (memcmp(rbuf, msg + c->received, (size_t)r) != 0) fail("echoed bytes differ");
        c->received += (size_t)r;
        if (c->received == size) {
          double t = now();
          if (measuring) {
            if (nlat == caplat) {
              caplat = caplat ? caplat * 2 : 1 << 16;
              lat = realloc(lat, caplat * sizeof *lat);
              if (!lat) fail("out of memory");
            }
            lat[nlat++] = (t - c->started) * 1e6;
          }
          if (t >= t_end) return;
          c->phase = SENDING;
          c->sent = 0;
          c->started = t;
        }
        continue;
      }
      int e = SSL_get_error(c->ssl, r);
      if (e == SSL_ERROR_WANT_READ) { set_out(c, 0); return; }
      if (e == SSL_ERROR_WANT_WRITE) { set_out(c, 1); return; }
      fail("SSL_read failed (server closed?)");
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 3) fail("usage: tls_load_client HOST PORT [--conns=N] [--size=S] [--duration=D] [--warmup=W]");
  int nconns = atoi(opt(argc, argv, "--conns", "10"));
  size = (size_t)atol(opt(argc, argv, "--size", "1024"));
  double duration = atof(opt(argc, argv, "--duration", "2"));
  double warmup = atof(opt(argc, argv, "--warmup", "0.5"));

  msg = malloc(size);
  rbuf = malloc(size);
  for (size_t i = 0; i < size; i++) msg[i] = (unsigned char)(i * 7 + (i >> 10));

  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) fail("SSL_CTX_new");
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai;
  if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) fail("getaddrinfo");

  epfd = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)nconns, sizeof *conns);
  for (int i = 0; i < nconns; i++) {
    struct conn *c = &conns[i];
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0) fail("connect");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = SSL_new(ctx);
    SSL_set_fd(c->ssl, c->fd);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) fail("TLS handshake failed");
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail("epoll_ctl");
  }
  freeaddrinfo(ai);

  double t0 = now();
  double t_measure = t0 + warmup, t_end = t_measure + duration;
  for (int i = 0; i < nconns; i++) {
    conns[i].started = t0;
    drive(&conns[i], t_end);
  }
  struct epoll_event events[64];
  double last_progress = now();
  size_t last_n = 0;
  for (;;) {
    double t = now();
    if (!measuring && t >= t_measure) {
      measuring = 1;
      nlat = 0;
    }
    if (t >= t_end) break;
    int n = epoll_wait(epfd, events, 64, 100);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int i = 0; i < n; i++) drive(events[i].data.ptr, t_end);
    if (nlat != last_n || !measuring) {
      last_n = nlat;
      last_progress = now();
    } else if (now() - last_progress > STALL_SECONDS) {
      fail("no reply for 5 s");
    }
  }
  if (nlat == 0) fail("no request completed");
  qsort(lat, nlat, sizeof *lat, cmp_double);
  printf("{\"rps\": %.1f, \"p50_us\": %.1f, \"p99_us\": %.1f, \"requests\": %zu}\n",
         (double)nlat / duration, lat[nlat / 2], lat[(size_t)(nlat * 0.99)], nlat);
  for (int i = 0; i < nconns; i++) {
    SSL_free(conns[i].ssl);
    close(conns[i].fd);
  }
  SSL_CTX_free(ctx);
  return 0;
}
