"""asyncio for comparison with bench/subprocess_spawn.ts (same rows, same output format).

    /usr/bin/python3 bench/subprocess_spawn.py [asyncio|uvloop] [--json] [--n=200] [--reps=3]

Python 3.11's asyncio watches children with its default ThreadedChildWatcher (one thread per
child blocked in waitpid); 3.12 switched to a pidfd watcher where available.
"""
import asyncio
import json
import statistics
import sys
import time
from asyncio.subprocess import DEVNULL, PIPE

args = sys.argv[1:]
impl = next((a for a in args if not a.startswith("--")), "asyncio")
opts = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
JSON_OUT = "--json" in args
N = int(opts.get("n", 200))
REPS = int(opts.get("reps", 3))


async def exit_only(n):
    for _ in range(n):
        proc = await asyncio.create_subprocess_exec(
            "/bin/true", stdin=DEVNULL, stdout=DEVNULL, stderr=DEVNULL)
        if await proc.wait() != 0:
            raise RuntimeError("child failed")


async def stdout_pipe(n):
    for _ in range(n):
        proc = await asyncio.create_subprocess_exec("/bin/true", stdin=DEVNULL, stdout=PIPE)
        await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError("child failed")


async def main():
    for row, body in (("exit only", exit_only), ("stdout pipe", stdout_pipe)):
        await body(max(1, N // 10))
        rates = []
        for _ in range(REPS):
            t0 = time.perf_counter()
            await body(N)
            rates.append(N / (time.perf_counter() - t0))
        ops = round(statistics.median(rates))
        if JSON_OUT:
            print(json.dumps({"impl": impl, "row": row, "ops": ops}))
        else:
            print(f"{impl} {row}: {ops} children/s")


if impl == "uvloop":
    import uvloop
    uvloop.install()
asyncio.run(main())
