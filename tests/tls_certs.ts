/**
 * Certificates for the TLS tests, made by the openssl CLI into a temp dir at first use:
 * a CA (ca.pem), a leaf for localhost/127.0.0.1/::1 signed by it (server.pem/.key, and the key
 * encrypted with "s3cret" as server-enc.key), an expired leaf (expired.*) and a self-signed
 * one nobody trusts (self.*). On Windows `openssl` is OpenSSL's own Windows build
 * (scripts/windows/openssl.sh).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SSLContext } from "../mod.ts";
import { removeTree } from "./helpers.ts";

/** The openssl command line tool. */
export const OPENSSL = "openssl";

let current: string | null = null;

/**
 * The temp dir holding the certificates; made, with them, at the first call (and again after
 * removeTlsCerts()).
 */
export function certDir(): string {
  return current ??= makeCerts(mkdtempSync(join(tmpdir(), "aioloop-tls-")));
}

/** The path of `name` (say "ca.pem") in certDir(). */
export function certFile(name: string): string {
  return join(certDir(), name);
}

/**
 * Remove the certificates: each test file using them calls this in after(). Bun runs every
 * test file in one process and loads this module once, so a later file makes them anew.
 */
export function removeTlsCerts(): void {
  if (current !== null) removeTree(current);
  current = null;
}

function openssl(...args: string[]): void {
  execFileSync(OPENSSL, args, { stdio: ["ignore", "ignore", "pipe"] });
}

function makeCerts(dir: string): string {
  const f = (name: string) => join(dir, name);
  // Every `openssl req` reads this file, not the system's openssl.cnf (there is none on Windows).
  writeFileSync(f("ext.cnf"), [
    "[ca]",
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
    "subjectKeyIdentifier=hash",
    "[leaf]",
    "basicConstraints=CA:FALSE",
    "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    "",
  ].join("\n"));
  const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  // The CA, self-signed.
  openssl("req", "-x509", ...EC, "-keyout", f("ca.key"), "-out", f("ca.pem"), "-days", "30",
    "-subj", "/CN=aioloop test CA", "-config", f("ext.cnf"), "-extensions", "ca");
  // A leaf for localhost/127.0.0.1/::1 signed by the CA, valid for `days` (-1: expired).
  const leaf = (name: string, days: string) => {
    openssl("req", "-new", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`),
      "-subj", "/CN=localhost", "-config", f("ext.cnf"));
    openssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
      "-CAcreateserial", "-out", f(`${name}.pem`), "-days", days, "-extfile", f("ext.cnf"),
      "-extensions", "leaf");
  };
  leaf("server", "30");
  leaf("expired", "-1");
  // A self-signed leaf nobody trusts.
  openssl("req", "-x509", ...EC, "-keyout", f("self.key"), "-out", f("self.pem"), "-days", "30",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-config", f("ext.cnf"));
  // The server key again, encrypted with a password.
  openssl("pkey", "-in", f("server.key"), "-aes256", "-passout", "pass:s3cret", "-out", f("server-enc.key"));
  return dir;
}

/** A client context trusting the test CA (host names checked). */
export function clientContext(alpn?: string[]): SSLContext {
  const ctx = new SSLContext("client");
  ctx.loadVerifyLocations(certFile("ca.pem"));
  if (alpn) ctx.setAlpnProtocols(alpn);
  return ctx;
}

/** A server context with the test CA's localhost certificate. */
export function serverContext(alpn?: string[]): SSLContext {
  const ctx = new SSLContext("server");
  ctx.loadCertChain(certFile("server.pem"), certFile("server.key"));
  if (alpn) ctx.setAlpnProtocols(alpn);
  return ctx;
}
