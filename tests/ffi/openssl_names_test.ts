/**
 * Where ffi/libssl.ts looks for OpenSSL 3 on each OS (the table's candidates, AIOLOOP_LIBSSL /
 * AIOLOOP_LIBCRYPTO in their place) and the error that names every library it tried. The real
 * first-use path on this machine is tests/loop/tls/ssl_test.ts's "without libssl" case.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadOpenssl, opensslPlan } from "../../ffi/libssl.ts";
import { tableFor } from "../../ffi/os/current.ts";
import { openLibrary } from "../../ffi/runtime.ts";
import { RuntimeError } from "../../mod.ts";
import { windowsLacks } from "../helpers.ts";

const noEnv = () => undefined;

test("OpenSSL 3 names per OS: Linux soname, FreeBSD 14 base, Homebrew's openssl@3 per arch", () => {
  const names = (os: string, cpu: "x86_64" | "aarch64") =>
    opensslPlan(tableFor(os, cpu), false, noEnv).candidates.map((c) => [c.ssl, c.crypto]);
  assert.deepEqual(names("linux", "x86_64"), [["libssl.so.3", "libcrypto.so.3"]]);
  assert.deepEqual(names("linux", "aarch64"), [["libssl.so.3", "libcrypto.so.3"]]);
  assert.deepEqual(names("freebsd", "x86_64"), [["libssl.so.30", "libcrypto.so.30"]]);
  assert.deepEqual(names("freebsd", "aarch64"), [["libssl.so.30", "libcrypto.so.30"]]);
  assert.deepEqual(names("darwin", "aarch64"), [
    ["/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib", "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib"],
    ["libssl.3.dylib", "libcrypto.3.dylib"],
  ]);
  assert.deepEqual(names("darwin", "x86_64"), [
    ["/usr/local/opt/openssl@3/lib/libssl.3.dylib", "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib"],
    ["libssl.3.dylib", "libcrypto.3.dylib"],
  ]);
  // Windows: OpenSSL's own x64 DLL names, whatever table the loop speaks there.
  assert.deepEqual(
    opensslPlan(tableFor("windows", "x86_64"), true, noEnv).candidates,
    [{ ssl: "libssl-3-x64.dll", crypto: "libcrypto-3-x64.dll" }],
  );
  assert.match(opensslPlan(tableFor("darwin", "aarch64"), false, noEnv).install, /brew install openssl@3/);
});

test("AIOLOOP_LIBSSL / AIOLOOP_LIBCRYPTO replace their library in every pair", () => {
  const mac = tableFor("darwin", "aarch64");
  const onlySsl = opensslPlan(mac, false, (n) => n === "AIOLOOP_LIBSSL" ? "/x/libssl.dylib" : undefined);
  assert.deepEqual(onlySsl.candidates.map((c) => c.ssl), ["/x/libssl.dylib", "/x/libssl.dylib"]);
  assert.deepEqual(onlySsl.candidates.map((c) => c.crypto), [
    "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib", "libcrypto.3.dylib",
  ]);
  const both = opensslPlan(mac, false, (n) => n === "AIOLOOP_LIBSSL" ? "/x/s" : n === "AIOLOOP_LIBCRYPTO" ? "/x/c" : "");
  assert.deepEqual(both.candidates, [{ ssl: "/x/s", crypto: "/x/c" }]);
  // An empty variable is unset.
  assert.deepEqual(opensslPlan(mac, false, () => "").candidates, opensslPlan(mac, false, noEnv).candidates);
});

test("loading tries each pair in order and takes the first whose two libraries open", () => {
  const plan = opensslPlan(tableFor("darwin", "x86_64"), false, noEnv);
  const tried: string[] = [];
  const libs = loadOpenssl(plan, (path) => {
    tried.push(path);
    if (path.startsWith("/usr/local/opt/")) throw new Error(`dlopen(${path}): image not found`);
    return path;
  });
  assert.deepEqual(libs, { crypto: "libcrypto.3.dylib", ssl: "libssl.3.dylib" });
  assert.deepEqual(tried, ["/usr/local/opt/openssl@3/lib/libcrypto.3.dylib", "libcrypto.3.dylib", "libssl.3.dylib"]);
});

test("when none loads, the RuntimeError names every library tried, why, and how to install", () => {
  const plan = opensslPlan(tableFor("darwin", "aarch64"), false, noEnv);
  assert.throws(
    () => loadOpenssl(plan, (path) => {
      throw new Error(`dlopen(${path}): no such file`);
    }),
    (e: unknown) => {
      assert.ok(e instanceof RuntimeError);
      const m = (e as Error).message;
      assert.match(m, /^TLS needs OpenSSL 3 \(libssl\.3\.dylib and libcrypto\.3\.dylib\)/);
      assert.match(m, /\/opt\/homebrew\/opt\/openssl@3\/lib\/libcrypto\.3\.dylib: dlopen\(.*\): no such file/);
      assert.match(m, /; libcrypto\.3\.dylib: dlopen\(libcrypto\.3\.dylib\): no such file/);
      assert.match(m, /Install OpenSSL 3 \(Homebrew: brew install openssl@3\), or point AIOLOOP_LIBSSL\/AIOLOOP_LIBCRYPTO/);
      return true;
    },
  );
  // libcrypto loads, libssl does not: the error names libssl.
  const fbsd = opensslPlan(tableFor("freebsd", "x86_64"), false, noEnv);
  assert.throws(
    () => loadOpenssl(fbsd, (path, which) => {
      if (which === "ssl") throw new Error("Shared object not found");
      return path;
    }),
    /\(libssl\.so\.30 and libcrypto\.so\.30\), and loading it failed: libssl\.so\.30: Shared object not found\. FreeBSD 14/,
  );
});

test("with the real dlopen, a missing library's own error is in the message", { skip: windowsLacks("dlopen of .so paths") }, () => {
  const plan = opensslPlan(tableFor("linux", "x86_64"), false, (n) => n === "AIOLOOP_LIBCRYPTO" ? "/nonexistent/libcrypto.so.3" : undefined);
  assert.throws(
    () => loadOpenssl(plan, (path) => openLibrary(path, { OpenSSL_version_num: { args: [], result: "u32" } })),
    /loading it failed: \/nonexistent\/libcrypto\.so\.3: .*(No such file|cannot open|not found)/i,
  );
});

test("with AIOLOOP_LIBSSL set, the message still names the OS's own OpenSSL libraries", () => {
  const env = (n: string) => n === "AIOLOOP_LIBSSL" ? "/nonexistent/libssl.so.3" : undefined;
  const failing = (path: string) => {
    throw new Error(`cannot open ${path}`);
  };
  assert.throws(
    () => loadOpenssl(opensslPlan(tableFor("windows", "x86_64"), true, env), failing),
    /TLS needs OpenSSL 3 \(libssl-3-x64\.dll and libcrypto-3-x64\.dll\)/,
  );
  assert.throws(
    () => loadOpenssl(opensslPlan(tableFor("darwin", "aarch64"), false, env), failing),
    /TLS needs OpenSSL 3 \(libssl\.3\.dylib and libcrypto\.3\.dylib\)/,
  );
});
