/**
 * One thread of the WorkerPoolExecutor (executor.ts): runs tasks named by module URL and export
 * name, one at a time, and answers each request with its result or its error.
 *
 * Request  (from the pool): `{ id, module, export, args }`, args already structured-cloned.
 * Response (to the pool):   `{ id, ok: true, value }` or `{ id, ok: false, error }`, where
 * `error` is a {@link WireError}: Error objects are sent as plain fields, not cloned whole, so
 * that every runtime keeps the name, message, stack and own data properties alike.
 *
 * A module is imported once per thread and stays loaded: its top-level state is shared by every
 * task that thread runs, including tasks of later loops (the threads outlive an executor).
 */
import { parentPort } from "node:worker_threads";

/** Why a task failed, as sent back to the pool. */
export interface WireError {
  /** "raised": the task threw; "import": the module did not load; "export": no such export;
   * "notFunction": the export is not callable; "result": the result could not be cloned. */
  kind: "raised" | "import" | "export" | "notFunction" | "result";
  name: string;
  message: string;
  stack?: string | undefined;
  /** The error's own enumerable data properties that survive structured clone (code, errno…). */
  props?: Record<string, unknown> | undefined;
}

interface Request {
  id: number;
  module: string;
  export: string;
  args: unknown[];
}

const port = parentPort!;
const modules = new Map<string, Promise<Record<string, unknown>>>();

function wireError(kind: WireError["kind"], e: unknown): WireError {
  if (!(e instanceof Error)) {
    return { kind, name: "Error", message: `the task threw a non-Error value: ${String(e)}` };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(e)) {
    if (key === "name" || key === "message" || key === "stack") continue;
    try {
      props[key] = structuredClone((e as unknown as Record<string, unknown>)[key]);
    } catch {
      // Not cloneable (a function, a socket…): left out.
    }
  }
  return { kind, name: String(e.name), message: String(e.message), stack: e.stack, props };
}

async function resolveTask(req: Request): Promise<(...args: unknown[]) => unknown> {
  let promise = modules.get(req.module);
  if (promise === undefined) {
    promise = import(req.module);
    modules.set(req.module, promise);
  }
  let ns: Record<string, unknown>;
  try {
    ns = await promise;
  } catch (e) {
    modules.delete(req.module); // a module that failed to load may be fixed and retried
    throw wireError("import", e);
  }
  if (!(req.export in ns)) {
    throw { kind: "export", name: "ImportError", message: "" } satisfies WireError;
  }
  const fn = ns[req.export];
  if (typeof fn !== "function") {
    throw {
      kind: "notFunction", name: "TypeError", message: fn === null ? "null" : typeof fn,
    } satisfies WireError;
  }
  return fn as (...args: unknown[]) => unknown;
}

async function run(req: Request): Promise<void> {
  let reply: unknown;
  try {
    const fn = await resolveTask(req);
    try {
      reply = { id: req.id, ok: true, value: await fn(...req.args) };
    } catch (e) {
      reply = { id: req.id, ok: false, error: wireError("raised", e) };
    }
  } catch (wire) {
    reply = { id: req.id, ok: false, error: wire };
  }
  try {
    port.postMessage(reply);
  } catch (e) {
    port.postMessage({ id: req.id, ok: false, error: wireError("result", e) });
  }
}

port.on("message", (req: Request) => {
  void run(req);
});
