#!/usr/bin/env bash
# OpenSSL 3 for Windows x64 (libcrypto-3-x64.dll, libssl-3-x64.dll, openssl.exe), cross-compiled
# with MinGW-w64 from the upstream source tarball Debian ships for its openssl package (the
# .orig.tar.gz, fetched by apt from the Debian mirror this machine uses, its SHA-256 checked
# against the signed Sources index). Idempotent: the build goes to $1 (default
# $AIOLOOP_WINDOWS_CACHE/openssl), and a finished build is reused without any network access.
# Needs x86_64-w64-mingw32-gcc, make and perl (setup.sh installs them). Prints the directory
# holding the three files on its last line. One-time build: 3.5 min on 2 cores.
set -euo pipefail
cache="${AIOLOOP_WINDOWS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aioloop-windows}"
out="${1:-$cache/openssl}"
done_marker="$out/.built"
if [[ -f $done_marker ]]; then
  echo "$out"
  exit 0
fi

# A private apt source list: deb-src lines for the Debian mirror(s) in /etc/apt, so the
# system's apt configuration is left as it is.
apt_dir="$cache/apt-src"
rm -rf "$apt_dir/parts"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/parts"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  if [[ -f $f ]]; then sed -n 's/^deb \(.*debian.*\)$/deb-src \1/p' "$f"; fi
done >"$apt_dir/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
  if [[ -f $f ]] && grep -q debian "$f"; then
    sed 's/^Types: *deb$/Types: deb-src/' "$f" >"$apt_dir/parts/${f##*/}"
  fi
done
apt_opts=(-o APT::Sandbox::User=root -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/parts" -o "Dir::State::Lists=$apt_dir/lists")
apt-get "${apt_opts[@]}" update >/dev/null
# The newest openssl source package; of its files only the upstream tarball is needed.
line="$(apt-get "${apt_opts[@]}" source --print-uris openssl | grep -E "\.orig\.tar\.gz' " | head -1)"
[[ -n $line ]] || { echo "openssl.sh: apt lists no openssl .orig.tar.gz" >&2; exit 1; }
read -r uri name _size hash <<<"$line"
uri="${uri//\'/}"
tarball="$apt_dir/$name"
if [[ ! -f $tarball ]]; then
  /usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$uri" "$tarball.part" "$hash" >/dev/null
  mv "$tarball.part" "$tarball"
fi
version="$(sed 's/^openssl_\(.*\)\.orig\.tar\.gz$/\1/' <<<"$name")"

src="$cache/openssl-build"
rm -rf "$src"
mkdir -p "$src"
tar xzf "$tarball" -C "$src" --strip-components=1
cd "$src"
# shared: the DLLs; no-module/no-legacy: no provider modules to find at run time; no-tests: the
# test programs are not needed. OPENSSLDIR stays the default, /usr/local/ssl, which Windows
# reads on the current drive: nothing is there, so OpenSSL has no openssl.cnf (`openssl req`
# needs -config) and its default verify paths hold no CA.
./Configure mingw64 --cross-compile-prefix=x86_64-w64-mingw32- shared no-tests no-module \
  no-legacy no-engine >/dev/null
# Only openssl.exe and the two DLLs it links (not the static libraries, half of all objects).
{ make build_generated && make -j"$(nproc)" apps/openssl.exe; } >build.log 2>&1 ||
  { tail -40 build.log >&2; exit 1; }
mkdir -p "$out.part"
cp libcrypto-3-x64.dll libssl-3-x64.dll apps/openssl.exe "$out.part/"
x86_64-w64-mingw32-strip "$out.part"/*.dll "$out.part"/*.exe
echo "$version" >"$out.part/VERSION"
rm -rf "$out"
mv "$out.part" "$out"
touch "$done_marker"
cd / && rm -rf "$src"
echo "$out"
