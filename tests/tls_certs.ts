/**
 * Certificates for the TLS tests, made by the openssl CLI into a temp dir when first imported:
 * a CA (ca.pem), a leaf for localhost/127.0.0.1/::1 signed by it (server.pem/.key, and the key
 * encrypted with "s3cret" as server-enc.key), an expired leaf (expired.*) and a self-signed
 * one nobody trusts (self.*). On Windows `openssl` is OpenSSL's own Windows build
 * (scripts/windows/openssl.sh).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { SSLContext } from "../mod.ts";
import { removeTree } from "./helpers.ts";

/** The openssl command line tool. */
export const OPENSSL = "openssl";

/** The temp dir holding the certificates (removed after the test file). */
export const certDir: string = mkdtempSync(join(tmpdir(), "aioloop-tls-"));
after(() => removeTree(certDir));
/** The path of `name` in certDir. */
export const certFile = (name: string): string => join(certDir, name);
const f = certFile;

function openssl(...args: string[]): void {
  execFileSync(OPENSSL, args, { stdio: ["ignore", "ignore", "pipe"] });
}

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
/** A leaf for localhost/127.0.0.1/::1 signed by the CA, valid for `days` (-1: expired). */
function leaf(name: string, days: string): void {
  openssl("req", "-new", ...EC, "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`),
    "-subj", "/CN=localhost", "-config", f("ext.cnf"));
  openssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f("ca.pem"), "-CAkey", f("ca.key"),
    "-CAcreateserial", "-out", f(`${name}.pem`), "-days", days, "-extfile", f("ext.cnf"),
    "-extensions", "leaf");
}
leaf("server", "30");
leaf("expired", "-1");
// A self-signed leaf nobody trusts.
openssl("req", "-x509", ...EC, "-keyout", f("self.key"), "-out", f("self.pem"), "-days", "30",
  "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-config", f("ext.cnf"));
// The server key again, encrypted with a password.
openssl("pkey", "-in", f("server.key"), "-aes256", "-passout", "pass:s3cret", "-out", f("server-enc.key"));

export function clientContext(alpn?: string[]): SSLContext {
  const ctx = new SSLContext("client");
  ctx.loadVerifyLocations(f("ca.pem"));
  if (alpn) ctx.setAlpnProtocols(alpn);
  return ctx;
}

export function serverContext(alpn?: string[]): SSLContext {
  const ctx = new SSLContext("server");
  ctx.loadCertChain(f("server.pem"), f("server.key"));
  if (alpn) ctx.setAlpnProtocols(alpn);
  return ctx;
}
