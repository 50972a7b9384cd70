"""Outside client for bench/host_latency.ts: N sequential GETs on one keep-alive connection.

    python3 bench/host_latency_client.py PORT N

After one warm-up request (not reported) it prints "ready" and waits for a line on stdin, so
that the bench starts its timed row only once this process is up; then it prints one JSON line:
{"ms": [latency of each request in milliseconds]}.
"""
import http.client
import json
import sys
import time

port, n = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
conn.request("GET", "/")
conn.getresponse().read()
print("ready", flush=True)
sys.stdin.readline()
ms = []
for _ in range(n):
    t0 = time.perf_counter()
    conn.request("GET", "/")
    conn.getresponse().read()
    ms.append((time.perf_counter() - t0) * 1000)
conn.close()
print(json.dumps({"ms": ms}))
