/**
 * Our translation of CPython 3.12's Lib/test/test_asyncio/test_timeouts.py: `async with
 * asyncio.timeout(d) as cm:` is `await timeout(d, async (cm) => ...)`.
 */
import assert from "node:assert/strict";
import {
  CancelledError, createTask, currentTask, RuntimeError, sleep, Timeout, timeout, timeoutAt,
  TimeoutError,
} from "../../mod.ts";
import { assertRaises, asyncCase, blockFor } from "./isolated_async.ts";

asyncCase("TimeoutTests.test_timeout_basic", async () => {
  let cm!: Timeout;
  await assert.rejects(timeout(0.01, async (c) => {
    cm = c;
    await sleep(10);
  }), TimeoutError);
  assert.ok(cm.expired());
});

asyncCase("TimeoutTests.test_timeout_at_basic", async (loop) => {
  let cm!: Timeout;
  const deadline = loop.time() + 0.01;
  await assert.rejects(timeoutAt(deadline, async (c) => {
    cm = c;
    await sleep(10);
  }), TimeoutError);
  assert.ok(cm.expired());
  assert.equal(cm.when(), deadline);
});

asyncCase("TimeoutTests.test_nested_timeouts", async (loop) => {
  let cancelled = false;
  let cm1!: Timeout, cm2!: Timeout;
  const deadline = loop.time() + 0.01;
  await assert.rejects(timeoutAt(deadline, async (c1) => {
    cm1 = c1;
    try {
      await timeoutAt(deadline, async (c2) => {
        cm2 = c2;
        await sleep(10);
      });
    } catch (e) {
      // Only the outermost timeout turns the cancellation into TimeoutError.
      if (e instanceof CancelledError) cancelled = true;
      throw e;
    }
  }), TimeoutError);
  assert.ok(cancelled);
  assert.ok(cm1.expired());
  assert.ok(cm2.expired());
});

asyncCase("TimeoutTests.test_waiter_cancelled", async () => {
  let cancelled = false;
  await assert.rejects(timeout(0.01, async () => {
    try {
      await sleep(10);
    } catch (e) {
      if (e instanceof CancelledError) cancelled = true;
      throw e;
    }
  }), TimeoutError);
  assert.ok(cancelled);
});

asyncCase("TimeoutTests.test_timeout_not_called", async (loop) => {
  let cm!: Timeout;
  await timeout(10, async (c) => {
    cm = c;
    await sleep(0.01);
  });
  const t1 = loop.time();
  assert.equal(cm.expired(), false);
  assert.ok(cm.when()! > t1);
});

asyncCase("TimeoutTests.test_timeout_disabled", async () => {
  const cm = await timeout(null, async (c) => {
    await sleep(0.01);
    return c;
  });
  assert.equal(cm.expired(), false);
  assert.equal(cm.when(), null);
});

asyncCase("TimeoutTests.test_timeout_at_disabled", async () => {
  const cm = await timeoutAt(null, async (c) => {
    await sleep(0.01);
    return c;
  });
  assert.equal(cm.expired(), false);
  assert.equal(cm.when(), null);
});

for (const [name, delay, pause] of [
  ["test_timeout_zero", 0, 10],
  ["test_timeout_zero_sleep_zero", 0, 0],
  ["test_timeout_in_the_past_sleep_zero", -11, 0],
] as const) {
  asyncCase(`TimeoutTests.${name}`, async (loop) => {
    const t0 = loop.time();
    let cm!: Timeout;
    await assert.rejects(timeout(delay, async (c) => {
      cm = c;
      await sleep(pause);
    }), TimeoutError);
    const t1 = loop.time();
    assert.ok(cm.expired());
    if (delay === 0) assert.ok(t0 <= cm.when()! && cm.when()! <= t1);
    else assert.ok(t0 >= cm.when()! && cm.when()! <= t1);
  });
}

asyncCase("TimeoutTests.test_foreign_exception_passed", async () => {
  let cm!: Timeout;
  class KeyError extends Error {}
  await assert.rejects(timeout(0.01, (c) => {
    cm = c;
    throw new KeyError();
  }), KeyError);
  assert.equal(cm.expired(), false);
});

asyncCase("TimeoutTests.test_foreign_exception_on_timeout", async () => {
  class ZeroDivisionError extends Error {}
  const crash = async () => {
    try {
      await sleep(1);
    } finally {
      // deno-lint-ignore no-unsafe-finally
      throw new ZeroDivisionError();
    }
  };
  await assert.rejects(timeout(0.01, () => crash()), ZeroDivisionError);
});

asyncCase("TimeoutTests.test_foreign_cancel_doesnt_timeout_if_not_expired", async () => {
  let cm!: Timeout;
  await assert.rejects(timeout(10, async (c) => {
    cm = c;
    currentTask()!.cancel();
    await sleep(10);
  }), CancelledError);
  assert.equal(cm.expired(), false);
});

asyncCase("TimeoutTests.test_outer_task_is_not_cancelled", async () => {
  const outer = async () => {
    await assert.rejects(timeout(0.001, () => sleep(10)), TimeoutError);
  };
  const task = createTask(outer);
  await task;
  assert.equal(task.cancelled(), false);
  assert.ok(task.done());
});

asyncCase("TimeoutTests.test_nested_timeouts_concurrent", async () => {
  await assert.rejects(timeout(0.002, async () => {
    await assertRaises(timeout(0.1, async () => {
      blockFor(10); // pretend to crunch numbers
      await sleep(1);
    }), TimeoutError);
  }), TimeoutError);
});

asyncCase("TimeoutTests.test_nested_timeouts_loop_busy", async (loop) => {
  loop.slowCallbackDuration = 10;
  const t0 = loop.time();
  await assertRaises(timeout(0.1, async () => {
    await assertRaises(timeout(0.01, async () => {
      blockFor(100); // the loop is busy past both deadlines
      await sleep(1);
    }), TimeoutError);
    await sleep(10); // interrupted by the outer timeout
  }), TimeoutError);
  const t1 = loop.time();
  assert.ok(t0 <= t1 && t1 <= t0 + 1);
});

asyncCase("TimeoutTests.test_reschedule", async (loop) => {
  const fut = loop.createFuture<Timeout>();
  const deadline1 = loop.time() + 10;
  const deadline2 = deadline1 + 20;
  const task = createTask(() =>
    timeoutAt(deadline1, async (cm) => {
      fut.setResult(cm);
      await sleep(50);
    })
  );
  const cm = await fut;
  assert.equal(cm.when(), deadline1);
  cm.reschedule(deadline2);
  assert.equal(cm.when(), deadline2);
  cm.reschedule(null);
  assert.equal(cm.when(), null);
  task.cancel();
  await assert.rejects(Promise.resolve(task), CancelledError);
  assert.equal(cm.expired(), false);
});

asyncCase("TimeoutTests.test_repr_active", async () => {
  await timeout(10, (cm) => {
    assert.match(String(cm), /^<Timeout \[active\] when=\d+(\.\d*)?>$/);
  });
});

asyncCase("TimeoutTests.test_repr_expired", async () => {
  let cm!: Timeout;
  await assert.rejects(timeout(0.01, async (c) => {
    cm = c;
    await sleep(10);
  }), TimeoutError);
  assert.equal(String(cm), "<Timeout [expired]>");
});

asyncCase("TimeoutTests.test_repr_finished", async () => {
  const cm = await timeout(10, async (c) => {
    await sleep(0);
    return c;
  });
  assert.equal(String(cm), "<Timeout [finished]>");
});

asyncCase("TimeoutTests.test_repr_disabled", async () => {
  await timeout(null, (cm) => {
    assert.equal(String(cm), "<Timeout [active] when=None>");
  });
});

asyncCase("TimeoutTests.test_nested_timeout_in_finally", async () => {
  await assert.rejects(timeout(0.01, async () => {
    try {
      await sleep(1);
    } finally {
      await assert.rejects(timeout(0.01, () => sleep(10)), TimeoutError);
    }
  }), TimeoutError);
});

asyncCase("TimeoutTests.test_timeout_after_cancellation", async () => {
  try {
    currentTask()!.cancel();
    await sleep(1); // work which will be cancelled
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  } finally {
    await assert.rejects(timeout(0, () => sleep(1)), TimeoutError); // some cleanup
  }
});

asyncCase("TimeoutTests.test_cancel_in_timeout_after_cancellation", async () => {
  try {
    currentTask()!.cancel();
    await sleep(1);
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  } finally {
    await assert.rejects(timeout(1, async () => {
      currentTask()!.cancel();
      await sleep(2);
    }), CancelledError);
  }
});

asyncCase("TimeoutTests.test_timeout_exception_cause", async () => {
  await assert.rejects(timeout(0, () => sleep(1)), (e: unknown) => {
    assert.ok(e instanceof TimeoutError);
    assert.ok(e.cause instanceof CancelledError);
    return true;
  });
});

asyncCase("TimeoutTests.test_timeout_already_entered", async () => {
  await timeout(0.01, async (cm) => {
    await assert.rejects(cm.run(() => {}), /has already been entered/);
  });
});

asyncCase("TimeoutTests.test_timeout_double_enter", async () => {
  const cm = await timeout(0.01, (c) => c);
  await assert.rejects(cm.run(() => {}), (e) => e instanceof RuntimeError && /has already been entered/.test(e.message));
});

asyncCase("TimeoutTests.test_timeout_finished", async () => {
  const cm = await timeout(0.01, (c) => c);
  assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /finished/.test(e.message));
});

asyncCase("TimeoutTests.test_timeout_expired", async () => {
  let cm!: Timeout;
  await assert.rejects(timeout(0.01, async (c) => {
    cm = c;
    await sleep(1);
  }), TimeoutError);
  assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /expired/.test(e.message));
});

asyncCase("TimeoutTests.test_timeout_expiring", async () => {
  await timeout(0.01, async (cm) => {
    await assert.rejects(sleep(1), CancelledError);
    assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /expiring/.test(e.message));
  });
});

asyncCase("TimeoutTests.test_timeout_not_entered", async (loop) => {
  const cm = new Timeout(loop.time() + 0.01);
  assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
});

asyncCase("TimeoutTests.test_timeout_without_task", async (loop) => {
  const cm = new Timeout(loop.time() + 0.01);
  const entered = loop.createFuture<Promise<unknown>>();
  // A loop callback runs outside every task.
  loop.callSoon(() => entered.setResult(cm.run(() => {}).catch((e) => e)));
  const { p } = await entered.then((x) => ({ p: x }));
  const err = await p;
  assert.ok(err instanceof RuntimeError && /task/.test(err.message));
  assert.throws(() => cm.reschedule(0.02), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
});
