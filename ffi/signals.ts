/**
 * Signal numbers of Linux (x86-64 and AArch64), from <asm-generic/signal.h> and signal(7).
 * 32 and 33 are taken by glibc's threads; 34..64 are the real-time signals (NSIG = 65).
 */
export const signalNumbers: Record<string, number> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
};

/** One past the highest signal number (NSIG). */
export const NSIG = 65;

/** Signals no process can catch: their disposition cannot change (signal(7)). */
export const UNCATCHABLE = new Set([9, 19]);
