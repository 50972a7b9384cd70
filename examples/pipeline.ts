// A shell pipeline, `seq 1 100000 | gzip -c | wc -c`, built from three subprocesses joined by
// os.pipe(): each child's stdout is the next one's stdin, so the numbers and the compressed
// bytes go from process to process without passing through JavaScript. Only wc's one line
// comes back, through a PIPE. Python's version is the same calls: os.pipe(),
// create_subprocess_exec(..., stdout=w) and os.close(w) in the parent.
//
//   deno run --allow-ffi examples/pipeline.ts      bun examples/pipeline.ts
//
// Deno needs only --allow-ffi: the children get an explicit `env`, so this process's
// environment is never read (without `env`, reading it needs --allow-env). In your own project
// import from "aioloop" (Bun) or "jsr:@aioloop/aioloop" (Deno) instead of "../mod.ts".
import { createSubprocessExec, os, PIPE, run } from "../mod.ts";

const env = { PATH: "/usr/local/bin:/usr/bin:/bin" };

async function main(): Promise<void> {
  // Two pipes: seq → gzip and gzip → wc. os.pipe() fds are close-on-exec, as Python's: a child
  // gets only the ends handed to it as its stdin/stdout.
  const [seqToGzipR, seqToGzipW] = os.pipe();
  const [gzipToWcR, gzipToWcW] = os.pipe();

  const seq = await createSubprocessExec("seq", "1", "100000", { stdout: seqToGzipW, env });
  const gzip = await createSubprocessExec("gzip", "-c", { stdin: seqToGzipR, stdout: gzipToWcW, env });
  const wc = await createSubprocessExec("wc", "-c", { stdin: gzipToWcR, stdout: PIPE, env });

  // The children hold their own copies now. Close ours, or gzip and wc never see end of input
  // (a pipe ends when every write end is closed).
  for (const fd of [seqToGzipR, seqToGzipW, gzipToWcR, gzipToWcW]) os.close(fd);

  const output = new TextDecoder().decode(await wc.stdout!.read()).trim();
  const statuses = [await seq.wait(), await gzip.wait(), await wc.wait()];
  console.log("$ seq 1 100000 | gzip -c | wc -c");
  console.log(output);
  console.log(`exit statuses: seq ${statuses[0]}, gzip ${statuses[1]}, wc ${statuses[2]}`);
}

await run(main);
