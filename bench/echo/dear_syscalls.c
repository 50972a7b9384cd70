/* Runs a command with every system call made dearer, to emulate a machine where entering the
 * kernel costs more (docs/DESIGN.md: a C getpid loop took 1.05 µs on one of these VMs and 0.14 µs on
 * another). Used by bench/echo.ts --dear-syscalls=N.
 *
 *   dear_syscalls N command [args...]
 *
 * It installs seccomp filters (seccomp(2), SECCOMP_SET_MODE_FILTER; PR_SET_NO_NEW_PRIVS first,
 * as an unprivileged filter requires) holding N classic-BPF instructions in all, each a load of
 * the call's first argument (struct seccomp_data, <linux/seccomp.h>), then SECCOMP_RET_ALLOW.
 * Reading an argument keeps the kernel's per-syscall action cache (Linux 5.11+) from skipping
 * the filter, so every system call of the process and its threads runs all N instructions.
 * One filter holds at most BPF_MAXINSNS (4096, <linux/bpf_common.h>) instructions: filters of
 * up to 4000 are stacked, and the kernel runs every one. Operations an io_uring performs in the
 * kernel are not system calls and pay nothing; io_uring_enter itself does.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PER_FILTER 4000

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s N command [args...]\n", argv[0]);
    return 2;
  }
  int n = atoi(argv[1]);
  if (n < 0 || n > 64000) {
    fprintf(stderr, "%s: N (BPF instructions per system call) must be 0..64000\n", argv[0]);
    return 2;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    perror("prctl(PR_SET_NO_NEW_PRIVS)");
    return 1;
  }
  static struct sock_filter prog[PER_FILTER + 1];
  for (int i = 0; i < PER_FILTER; i++)
    prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  for (; n > 0; n -= PER_FILTER) {
    int len = n < PER_FILTER ? n : PER_FILTER;
    prog[len] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog fprog = {.len = (unsigned short)(len + 1), .filter = prog};
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
      perror("seccomp(SECCOMP_SET_MODE_FILTER)");
      return 1;
    }
    // Restore the load the return overwrote, for the next (full) filter.
    prog[len] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]));
  }
  execvp(argv[2], argv + 2);
  perror(argv[2]);
  return 127;
}
