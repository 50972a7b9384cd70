/**
 * Our translation of CPython 3.12's Lib/test/test_asyncio/test_taskgroups.py: `async with
 * TaskGroup() as g:` is `await new TaskGroup().run(async (g) => ...)`, Python's
 * ZeroDivisionError (1 / 0) is a local error class, and ExceptionGroup is aioloop's.
 */
import assert from "node:assert/strict";
import {
  CancelledError, createTask, currentTask, ExceptionGroup, RuntimeError, sleep, type Task,
  TaskGroup, ValueError,
} from "../../mod.ts";
import { assertRaises, asyncCase } from "./isolated_async.ts";

class ZeroDivisionError extends Error {}
class MyExc extends Error {}
const divideByZero = (): never => {
  throw new ZeroDivisionError("division by zero");
};

/** The classes of a group's exceptions (CPython's get_error_types). */
function errorTypes(eg: unknown): Set<unknown> {
  assert.ok(eg instanceof ExceptionGroup, `expected an ExceptionGroup, got ${eg}`);
  return new Set(eg.exceptions.map((e) => (e as object).constructor));
}

asyncCase("TestTaskGroup.test_taskgroup_01", async () => {
  let t1!: Task<number>, t2!: Task<number>;
  await new TaskGroup().run((g) => {
    t1 = g.createTask(() => sleep(0.1, 42));
    t2 = g.createTask(() => sleep(0.2, 11));
  });
  assert.equal(t1.result(), 42);
  assert.equal(t2.result(), 11);
});

asyncCase("TestTaskGroup.test_taskgroup_02", async () => {
  let t1!: Task<number>, t2!: Task<number>;
  await new TaskGroup().run(async (g) => {
    t1 = g.createTask(() => sleep(0.1, 42));
    await sleep(0.15);
    t2 = g.createTask(() => sleep(0.2, 11));
  });
  assert.equal(t1.result(), 42);
  assert.equal(t2.result(), 11);
});

asyncCase("TestTaskGroup.test_taskgroup_03", async () => {
  let t1!: Task<number>, t2!: Task<number>;
  await new TaskGroup().run(async (g) => {
    t1 = g.createTask(() => sleep(1, 42));
    await sleep(0.15);
    t1.cancel(); // everything else goes on as usual
    t2 = g.createTask(() => sleep(0.2, 11));
  });
  assert.ok(t1.cancelled());
  assert.equal(t2.result(), 11);
});

asyncCase("TestTaskGroup.test_taskgroup_04", async () => {
  let num = 0, t2Cancel = false;
  let t2!: Task<void>;
  const foo1 = async () => {
    await sleep(0.1);
    divideByZero();
  };
  const foo2 = async () => {
    try {
      await sleep(1);
    } catch (e) {
      if (e instanceof CancelledError) t2Cancel = true;
      throw e;
    }
    num += 1;
  };
  const runner = async () => {
    await new TaskGroup().run((g) => {
      g.createTask(foo1);
      t2 = g.createTask(foo2);
    });
    num += 10;
  };
  const eg = await assertRaises(createTask(runner), ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  assert.equal(num, 0);
  assert.ok(t2Cancel);
  assert.ok(t2.cancelled());
});

asyncCase("TestTaskGroup.test_cancel_children_on_child_error", async () => {
  let num = 0, t2Cancel = false, runnerCancel = false;
  const foo1 = async () => {
    await sleep(0.1);
    divideByZero();
  };
  const foo2 = async () => {
    try {
      await sleep(5);
    } catch (e) {
      if (e instanceof CancelledError) t2Cancel = true;
      throw e;
    }
    num += 1;
  };
  const runner = async () => {
    await new TaskGroup().run(async (g) => {
      g.createTask(foo1);
      g.createTask(foo1);
      g.createTask(foo1);
      g.createTask(foo2);
      try {
        await sleep(10);
      } catch (e) {
        if (e instanceof CancelledError) runnerCancel = true;
        throw e;
      }
    });
    num += 10;
  };
  const eg = await assertRaises(createTask(runner), ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  assert.equal(num, 0);
  assert.ok(t2Cancel);
  assert.ok(runnerCancel);
});

/** A task that counts its cancellation in `counter.n` and goes on being cancelled. */
function countingSleeper(counter: { n: number }, by = 1, seconds = 5) {
  return async () => {
    try {
      await sleep(seconds);
    } catch (e) {
      if (e instanceof CancelledError) counter.n += by;
      throw e;
    }
  };
}

asyncCase("TestTaskGroup.test_cancellation", async () => {
  const num = { n: 0 };
  const r = createTask(() =>
    new TaskGroup().run((g) => {
      for (let i = 0; i < 5; i++) g.createTask(countingSleeper(num));
    })
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  await assertRaises(r, CancelledError);
  assert.equal(num.n, 5);
});

asyncCase("TestTaskGroup.test_taskgroup_07", async () => {
  const num = { n: 0 };
  const r = createTask(() =>
    new TaskGroup().run(async (g) => {
      for (let i = 0; i < 5; i++) g.createTask(countingSleeper(num));
      await countingSleeper(num, 10, 10)();
    })
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  await assertRaises(r, CancelledError);
  assert.equal(num.n, 15);
});

const failInFinally = async () => {
  try {
    await sleep(10);
  } finally {
    divideByZero();
  }
};

asyncCase("TestTaskGroup.test_taskgroup_08", async () => {
  const r = createTask(() =>
    new TaskGroup().run(async (g) => {
      for (let i = 0; i < 5; i++) g.createTask(failInFinally);
      await sleep(10);
    })
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_09", async () => {
  let t1!: Task<number>, t2!: Task<number>;
  const eg = await assertRaises(
    new TaskGroup().run(async (g) => {
      t1 = g.createTask(() => sleep(1, 42));
      t2 = g.createTask(() => sleep(2, 11));
      await sleep(0.1);
      divideByZero();
    }),
    ExceptionGroup,
  );
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  assert.ok(t1.cancelled());
  assert.ok(t2.cancelled());
});

asyncCase("TestTaskGroup.test_taskgroup_10", async () => {
  let t1!: Task<number>, t2!: Task<number>;
  const eg = await assertRaises(
    new TaskGroup().run((g) => {
      t1 = g.createTask(() => sleep(1, 42));
      t2 = g.createTask(() => sleep(2, 11));
      divideByZero();
    }),
    ExceptionGroup,
  );
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  assert.ok(t1.cancelled());
  assert.ok(t2.cancelled());
});

asyncCase("TestTaskGroup.test_taskgroup_11", async () => {
  const r = createTask(() =>
    new TaskGroup().run(() =>
      new TaskGroup().run(async (g2) => {
        for (let i = 0; i < 5; i++) g2.createTask(failInFinally);
        await sleep(10);
      })
    )
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup) as ExceptionGroup;
  assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
  assert.deepEqual(errorTypes(eg.exceptions[0]), new Set([ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_12", async () => {
  const r = createTask(() =>
    new TaskGroup().run((g1) => {
      g1.createTask(() => sleep(10));
      return new TaskGroup().run(async (g2) => {
        for (let i = 0; i < 5; i++) g2.createTask(failInFinally);
        await sleep(10);
      });
    })
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup) as ExceptionGroup;
  assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
  assert.deepEqual(errorTypes(eg.exceptions[0]), new Set([ZeroDivisionError]));
});

const crashAfter = (t: number) => async () => {
  await sleep(t);
  throw new ValueError(String(t));
};

asyncCase("TestTaskGroup.test_taskgroup_13", async () => {
  const r = createTask(() =>
    new TaskGroup().run((g1) => {
      g1.createTask(crashAfter(0.1));
      return new TaskGroup().run((g2) => {
        g2.createTask(crashAfter(10));
      });
    })
  );
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ValueError]));
});

asyncCase("TestTaskGroup.test_taskgroup_14", async () => {
  const r = createTask(() =>
    new TaskGroup().run((g1) => {
      g1.createTask(crashAfter(10));
      return new TaskGroup().run((g2) => {
        g2.createTask(crashAfter(0.1));
      });
    })
  );
  const eg = await assertRaises(r, ExceptionGroup) as ExceptionGroup;
  assert.deepEqual(errorTypes(eg), new Set([ExceptionGroup]));
  assert.deepEqual(errorTypes(eg.exceptions[0]), new Set([ValueError]));
});

const crashSoon = async () => {
  await sleep(0.3);
  divideByZero();
};

/** A group whose body, cancelled, sleeps 0.5 s more before it goes on being cancelled. */
const slowToCancel = () =>
  new TaskGroup().run(async (g1) => {
    g1.createTask(crashSoon);
    try {
      await sleep(10);
    } catch (e) {
      if (e instanceof CancelledError) await sleep(0.5);
      throw e;
    }
  });

asyncCase("TestTaskGroup.test_taskgroup_15", async () => {
  const r = createTask(slowToCancel);
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_16", async () => {
  const r = createTask(async () => {
    const t = createTask(slowToCancel);
    await t;
  });
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_17", async () => {
  const num = { n: 0 };
  const r = createTask(() => new TaskGroup().run(countingSleeper(num, 10, 10)));
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  await assertRaises(r, CancelledError);
  assert.equal(num.n, 10);
});

asyncCase("TestTaskGroup.test_taskgroup_18", async () => {
  let num = 0;
  const r = createTask(() =>
    new TaskGroup().run(async () => {
      try {
        await sleep(10);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        num += 10;
        throw new MyExc(); // not a good idea, but supported
      }
    })
  );
  await sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([MyExc]));
  assert.equal(num, 10);
});

asyncCase("TestTaskGroup.test_taskgroup_19", async () => {
  const nested = async () => {
    try {
      await sleep(10);
    } finally {
      // deno-lint-ignore no-unsafe-finally
      throw new MyExc();
    }
  };
  const r = createTask(() =>
    new TaskGroup().run(async (g) => {
      g.createTask(async () => {
        await sleep(0.1);
        divideByZero();
      });
      await nested();
    })
  );
  const eg = await assertRaises(r, ExceptionGroup);
  assert.deepEqual(errorTypes(eg), new Set([MyExc, ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_22", async () => {
  const r = createTask(() =>
    new TaskGroup().run((g) => {
      g.createTask(() => sleep(1, 42));
      g.createTask(() => sleep(2, 11));
    })
  );
  await sleep(0.05);
  r.cancel();
  await assertRaises(r, CancelledError);
});

asyncCase("TestTaskGroup.test_taskgroup_23", async () => {
  // CPython reads the private g._tasks; here: the tasks created and not yet done.
  const tasks: Task<unknown>[] = [];
  const live = () => tasks.filter((t) => !t.done()).length;
  await new TaskGroup().run(async (g) => {
    for (let count = 0; count < 10; count++) {
      await sleep(0.1);
      tasks.push(g.createTask(() => sleep(0.3)));
      if (count === 5) assert.ok(live() < 5);
    }
    await sleep(1.35);
    assert.equal(live(), 0);
  });
});

asyncCase("TestTaskGroup.test_taskgroup_24", async () => {
  const coro1 = (delay: number) => () => sleep(delay);
  const root = (g: TaskGroup) => async () => {
    await sleep(0.1);
    g.createTask(coro1(0.1));
    g.createTask(coro1(0.2));
  };
  await new TaskGroup().run((g) => {
    g.createTask(root(g));
  });
});

asyncCase("TestTaskGroup.test_taskgroup_25", async () => {
  let nhydras = 0;
  const hydra = (g: TaskGroup): () => Promise<void> => async () => {
    nhydras++;
    await sleep(0.01);
    g.createTask(hydra(g));
    g.createTask(hydra(g));
  };
  const hercules = async () => {
    while (nhydras < 10) await sleep(0.015);
    divideByZero();
  };
  const eg = await assertRaises(
    new TaskGroup().run((g) => {
      g.createTask(hydra(g));
      g.createTask(hercules);
    }),
    ExceptionGroup,
  );
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
  assert.ok(nhydras >= 10);
});

asyncCase("TestTaskGroup.test_taskgroup_task_name", async () => {
  await new TaskGroup().run((g) => {
    const t = g.createTask(() => sleep(0), { name: "yolo" });
    assert.equal(t.getName(), "yolo");
  });
});

asyncCase("TestTaskGroup.test_taskgroup_no_create_task_after_failure", async () => {
  const coro1 = async () => {
    await sleep(0.001);
    divideByZero();
  };
  const eg = await assertRaises(
    new TaskGroup().run((g) => {
      g.createTask(coro1);
      g.createTask(async () => {
        try {
          await sleep(1);
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
          assert.throws(() => g.createTask(coro1), RuntimeError);
        }
      });
    }),
    ExceptionGroup,
  );
  assert.deepEqual(errorTypes(eg), new Set([ZeroDivisionError]));
});

asyncCase("TestTaskGroup.test_taskgroup_context_manager_exit_raises", async () => {
  class CustomException extends Error {}
  const main = async () => {
    const task = currentTask()!;
    // CPython's `async with database():` raises in its finally block.
    const eg = await assertRaises(
      new TaskGroup().run(async (tg) => {
        try {
          tg.createTask(() => Promise.reject(new CustomException()));
          await sleep(1);
        } finally {
          // deno-lint-ignore no-unsafe-finally
          throw new CustomException();
        }
      }),
      ExceptionGroup,
    ) as ExceptionGroup;
    assert.equal(task.cancelling(), 0);
    assert.equal(eg.exceptions.length, 2);
    assert.deepEqual(errorTypes(eg), new Set([CustomException]));
  };
  await createTask(main);
});

asyncCase("TestTaskGroup.test_taskgroup_already_entered", async () => {
  const tg = new TaskGroup();
  await tg.run(async () => {
    await assert.rejects(tg.run(() => {}), (e) => e instanceof RuntimeError && /has already been entered/.test(e.message));
  });
});

asyncCase("TestTaskGroup.test_taskgroup_double_enter", async () => {
  const tg = new TaskGroup();
  await tg.run(() => {});
  await assert.rejects(tg.run(() => {}), (e) => e instanceof RuntimeError && /has already been entered/.test(e.message));
});

asyncCase("TestTaskGroup.test_taskgroup_finished", async () => {
  const tg = new TaskGroup();
  await tg.run(() => {});
  assert.throws(() => tg.createTask(() => sleep(0)), (e) => e instanceof RuntimeError && /is finished/.test(e.message));
});

asyncCase("TestTaskGroup.test_taskgroup_not_entered", async () => {
  const tg = new TaskGroup();
  assert.throws(() => tg.createTask(() => sleep(0)), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
});

asyncCase("TestTaskGroup.test_taskgroup_without_parent_task", async (loop) => {
  const tg = new TaskGroup();
  const entered = loop.createFuture<{ p: Promise<unknown> }>();
  loop.callSoon(() => entered.setResult({ p: tg.run(() => {}).catch((e) => e) })); // no task here
  const err = await (await entered).p;
  assert.ok(err instanceof RuntimeError && /parent task/.test(err.message));
  assert.throws(() => tg.createTask(() => sleep(0)), (e) => e instanceof RuntimeError && /has not been entered/.test(e.message));
});
