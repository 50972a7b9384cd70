/* The cost of one system call on this machine: a tight getpid(2) loop (glibc >= 2.25 does not
 * cache getpid, so every call enters the kernel). Built by run_loop_micro.sh into bench/.build/. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 2000000;
  int reps = 5;
  double best = 1e9;
  volatile long sink = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = now();
    for (long i = 0; i < n; i++) sink += getpid();
    double per = (now() - t0) / n;
    if (per < best) best = per;
  }
  printf("{\"impl\": \"c\", \"row\": \"getpid\", \"ns\": %.1f}\n", best * 1e9);
  return 0;
}
