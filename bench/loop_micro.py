"""Loop micro-benchmark (issue 3), the rows of bench/loop_micro.ts for asyncio and uvloop.

    /usr/bin/python3 bench/loop_micro.py asyncio|uvloop [--json] [--reps=5] [--only=row,row] [--scale=1]

Written to match loop_micro.ts line for line: every row times scheduling plus running, reports
ops/s = N / seconds and the median of --reps repetitions, each on a fresh loop, after one untimed
warm-up repetition at a tenth of the size. (uvloop is Debian's python3-uvloop, importable from
/usr/bin/python3.)
"""
import asyncio
import json
import socket
import statistics
import sys
import time

args = sys.argv[1:]
which = next((a for a in args if not a.startswith("--")), "asyncio")


def opt(name, default=None):
    for a in args:
        if a == f"--{name}":
            return ""
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return default


JSON_OUT = opt("json") is not None
REPS = int(opt("reps", "5"))
SCALE = float(opt("scale", "1"))
ONLY = [o for o in (opt("only") or "").split(",") if o] or None

if which == "uvloop":
    import uvloop

    new_loop = uvloop.new_event_loop
elif which == "asyncio":
    new_loop = asyncio.new_event_loop  # SelectorEventLoop over epoll
else:
    sys.exit(f"usage: {sys.argv[0]} asyncio|uvloop [--json] [--reps=N]")

now = time.perf_counter


def call_soon_prequeued(loop, n):
    count = 0

    def cb():
        nonlocal count
        count += 1

    t0 = now()
    for _ in range(n - 1):
        loop.call_soon(cb)
    loop.call_soon(loop.stop)
    loop.run_forever()
    dt = now() - t0
    assert count == n - 1, count
    return dt


def call_soon_chained(loop, n):
    left = n

    def cb():
        nonlocal left
        left -= 1
        if left > 0:
            loop.call_soon(cb)
        else:
            loop.stop()

    t0 = now()
    loop.call_soon(cb)
    loop.run_forever()
    dt = now() - t0
    assert left == 0, left
    return dt


def ping_pong(loop, n):
    a, b = socket.socketpair()
    a.setblocking(False)
    b.setblocking(False)
    byte = b"x"
    inbox = bytearray(1)
    trips = 0

    def on_a():
        nonlocal trips
        a.recv_into(inbox, 1)
        trips += 1
        if trips < n:
            a.send(byte)
        else:
            loop.stop()

    def on_b():
        b.recv_into(inbox, 1)
        b.send(byte)

    loop.add_reader(a, on_a)
    loop.add_reader(b, on_b)
    t0 = now()
    a.send(byte)
    loop.run_forever()
    dt = now() - t0
    loop.remove_reader(a)
    loop.remove_reader(b)
    a.close()
    b.close()
    assert trips == n, trips
    return dt


def call_at_all_due(loop, n):
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == n:
            loop.stop()

    t0 = now()
    when = loop.time()
    for _ in range(n):
        loop.call_at(when, cb)
    loop.run_forever()
    dt = now() - t0
    assert fired == n, fired
    return dt


def call_later_cancel90(loop, n):
    keep = -(-n // 10)
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == keep:
            loop.stop()

    t0 = now()
    handles = [loop.call_later(((i * 7919) % 1000) / 100000, cb) for i in range(n)]
    for i in range(n):
        if i % 10 != 0:
            handles[i].cancel()
    loop.run_forever()
    dt = now() - t0
    assert fired == keep, fired
    return dt


def randoms(n, seed):
    """n pseudo-random numbers in [0, 1): loop_micro.ts's 32-bit LCG, the same sequence."""
    out = [0.0] * n
    x = seed & 0xFFFFFFFF
    for i in range(n):
        x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
        out[i] = x / 4294967296
    return out


def call_at_random(loop, n):
    u = randoms(n, 1)
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == n:
            loop.stop()

    t0 = now()
    base = loop.time() - 1
    for i in range(n):
        loop.call_at(base + u[i], cb)
    loop.run_forever()
    dt = now() - t0
    assert fired == n, fired
    return dt


def call_at_random_cancel90(loop, n):
    u = randoms(n, 2)
    keep = -(-n // 10)
    fired = 0

    def cb():
        nonlocal fired
        fired += 1
        if fired == keep:
            loop.stop()

    t0 = now()
    base = loop.time() - 1
    handles = [loop.call_at(base + u[i], cb) for i in range(n)]
    for i in range(n):
        if i % 10 != 0:
            handles[i].cancel()
    loop.run_forever()
    dt = now() - t0
    assert fired == keep, fired
    return dt


def call_later_reschedule(loop, n):
    u = randoms(n + (n >> 1), 3)
    half = n >> 1
    state = bytearray(n)  # 0 pending, 1 fired, 2 rescheduled
    handles = [None] * n
    fired = rescheduled = 0
    target = n - 1

    def cb(i):
        nonlocal fired, rescheduled, target
        state[i] = 1
        if rescheduled < half:
            while state[target] != 0:
                target -= 1
            handles[target].cancel()
            handles[target] = loop.call_later(u[n + rescheduled] / 100, cb, target)
            state[target] = 2
            rescheduled += 1
        fired += 1
        if fired == n:
            loop.stop()

    t0 = now()
    for i in range(n):
        handles[i] = loop.call_later(u[i] / 100, cb, i)
    loop.run_forever()
    dt = now() - t0
    assert fired == n and rescheduled == half, (fired, rescheduled)
    return dt


def create_tasks(loop, n):
    async def coro():
        pass

    t0 = now()
    for _ in range(n):
        last = loop.create_task(coro())
    loop.run_until_complete(last)
    dt = now() - t0
    assert not asyncio.all_tasks(loop)
    return dt


def sleep0_tasks(loop, n):
    per = -(-n // 100)
    wakeups = 0

    async def coro():
        nonlocal wakeups
        for _ in range(per):
            await asyncio.sleep(0)
            wakeups += 1

    t0 = now()
    tasks = [loop.create_task(coro()) for _ in range(100)]
    for t in tasks:
        loop.run_until_complete(t)
    dt = now() - t0
    assert wakeups == per * 100, wakeups
    return dt


def all_tasks_1k(loop, n):
    gate = loop.create_future()

    async def waiter():
        await gate

    tasks = [loop.create_task(waiter()) for _ in range(1000)]
    loop.run_until_complete(asyncio.sleep(0))
    calls = -(-n // 1000)
    listed = 0
    t0 = now()
    for _ in range(calls):
        listed += len(asyncio.all_tasks(loop))
    dt = now() - t0
    gate.set_result(None)
    loop.run_until_complete(asyncio.gather(*tasks))
    assert listed == calls * 1000, listed
    return dt


ROWS = [
    ("call_soon 1M pre-queued", call_soon_prequeued, 1_000_000),
    ("call_soon chained 1M", call_soon_chained, 1_000_000),
    ("add_reader ping-pong 100k", ping_pong, 100_000),
    ("call_at 100k all-due", call_at_all_due, 100_000),
    ("call_at 1M all-due", call_at_all_due, 1_000_000),
    ("call_later 1M 90% cancelled", call_later_cancel90, 1_000_000),
    ("call_at 100k random", call_at_random, 100_000),
    ("call_at 1M random", call_at_random, 1_000_000),
    ("call_at 1M random 90% cancelled", call_at_random_cancel90, 1_000_000),
    ("call_later 1M over 10 ms, half rescheduled while running", call_later_reschedule, 1_000_000),
    ("create_task 100k", create_tasks, 100_000),
    ("sleep(0) 100 tasks 100k", sleep0_tasks, 100_000),
    ("all_tasks 1k live 1M", all_tasks_1k, 1_000_000),
]


def once(fn, n):
    loop = new_loop()
    try:
        return fn(loop, n)
    finally:
        loop.close()


impl = which
results = []
for row, fn, size in ROWS:
    if ONLY and not any(row.startswith(o) for o in ONLY):
        continue
    n = max(10, round(size * SCALE))
    once(fn, max(10, round(n / 10)))  # warm-up, untimed
    allops = [n / once(fn, n) for _ in range(REPS)]
    ops = round(statistics.median(allops))
    results.append((row, ops, allops))
    if JSON_OUT:
        print(json.dumps({"impl": impl, "row": row, "ops": ops}), flush=True)

if not JSON_OUT:
    w = max(len(r[0]) for r in results)
    print(f"{impl}: median of {REPS} (ops/s; min..max)")
    for row, ops, allops in results:
        print(f"  {row.ljust(w)}  {ops:>11}   ({round(min(allops))}..{round(max(allops))})")
