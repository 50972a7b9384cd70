#!/usr/bin/env bash
# Windows-Bun under Wine, from scratch and idempotent (see docs/windows.md):
#   1. Debian's wine64 and the MinGW-w64 cross compiler (apt),
#   2. Bun's Windows x64 build from the npm registry, the version package.json pins for Linux,
#   3. bcryptprimitives.dll (ProcessPrng, which Wine 8.0 lacks) built from bcryptprimitives.c,
#   4. OpenSSL 3 for Windows x64 (openssl.sh: built from Debian's source once, 3.5 min): its two
#      DLLs beside bun.exe, where LoadLibrary finds them first, and openssl.exe on the PATH,
#   5. a Wine prefix, and a `bun-wine` wrapper that runs bun.exe in it.
# Everything goes to $AIOLOOP_WINDOWS_CACHE (default ~/.cache/aioloop-windows), never the repo.
# Prints the wrapper's path on its last line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${AIOLOOP_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aioloop-windows}"
mkdir -p "$cache"

wine=/usr/lib/wine/wine64
# make and perl build OpenSSL (openssl.sh).
if [[ ! -x $wine ]] || ! command -v x86_64-w64-mingw32-gcc >/dev/null || ! command -v make >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  pkgs=(wine64 gcc-mingw-w64-x86-64 make perl)
  apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 || {
    apt-get update >/dev/null
    apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null
  }
fi

version="$(node -p 'require(process.argv[1]).devDependencies.bun' "$repo/package.json" 2>/dev/null ||
  sed -n 's/.*"bun": *"\([0-9.]*\)".*/\1/p' "$repo/package.json" | head -1)"
bindir="$cache/bun-$version"
if [[ ! -f $bindir/bun.exe ]]; then
  tmp="$(mktemp -d "$cache/pack.XXXXXX")"
  (cd "$tmp" && npm pack --silent "@oven/bun-windows-x64-baseline@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$bindir"
  mv "$tmp/package/bin/bun.exe" "$bindir/bun.exe.part" && mv "$bindir/bun.exe.part" "$bindir/bun.exe"
  rm -rf "$tmp"
fi

dll="$bindir/bcryptprimitives.dll"
if [[ ! -f $dll || $here/bcryptprimitives.c -nt $dll ]]; then
  x86_64-w64-mingw32-gcc -O2 -shared -s -Wl,--kill-at -o "$dll" "$here/bcryptprimitives.c" -ladvapi32
fi

ssldir="$(bash "$here/openssl.sh" "$cache/openssl" | tail -1)"
for f in libcrypto-3-x64.dll libssl-3-x64.dll; do
  cmp -s "$ssldir/$f" "$bindir/$f" || cp "$ssldir/$f" "$bindir/$f"
done

export WINEPREFIX="$cache/prefix" WINEDEBUG=-all
if [[ ! -f $WINEPREFIX/system.reg ]]; then
  # First start creates the prefix (~8 s). No display is needed: Bun is a console program.
  "$wine" "$bindir/bun.exe" -e 0 >/dev/null 2>&1 || true
fi

wrapper="$cache/bun-wine"
# Wine's drive Z: is the Unix root.
winssl="Z:${ssldir//\//\\}"
cat >"$wrapper" <<WRAP
#!/usr/bin/env bash
# Runs Bun $version's Windows build under Wine (written by scripts/windows/setup.sh).
export WINEPREFIX="$WINEPREFIX" WINEDEBUG="\${WINEDEBUG:--all}"
# openssl.exe (Windows OpenSSL, for the TLS tests' peers) on the Windows PATH.
export WINEPATH="$winssl"
exec "$wine" "$bindir/bun.exe" "\$@"
WRAP
chmod +x "$wrapper"
out="$("$wrapper" -e 'console.log(process.platform + " " + process.arch + " bun " + Bun.version)')"
[[ $out == "win32 x64 bun $version"* ]] || { echo "bun.exe under Wine printed: $out" >&2; exit 1; }
echo "$out under $("$wine" --version)" >&2
echo "$wrapper"
