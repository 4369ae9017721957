#!/usr/bin/env bash
# Fetches Neovim 0.10.x for the Neovim plugin's tests (clients/nvim) into .cache/nvim, plus the
# Lua linter (luacheck) and formatter (StyLua) the lint test runs. Never committed (.cache/ is
# ignored); idempotent; prints the path of the runnable wrapper `.cache/nvim/bin/nvim` on stdout.
#
# Debian bookworm's own Neovim is 0.7 (too old). Debian trixie ships 0.10.x, built against a newer
# libc, so its .debs (with trixie's libc6 and every library they need) are unpacked with `dpkg -x`
# into a private root and started through that root's own dynamic loader with --library-path.
# The trixie source list is derived at run time from this machine's own apt sources (suite
# renamed) and used with a private apt state, so the system's apt configuration is untouched.
# Nothing here names a package host: whatever the machine's sources use is used.
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${CODEBENCH_NVIM_DIR:-$REPO/.cache/nvim}"
ROOT="$DEST/root"
WRAPPER="$DEST/bin/nvim"
LUACHECK="$DEST/bin/luacheck"
STYLUA_DIR="$DEST/stylua"
SUITE="${CODEBENCH_NVIM_SUITE:-trixie}"
STYLUA_VERSION="2.5.2"
# Bump when the generated wrappers change, so existing caches rewrite them.
WRAPPER_STAMP="codebench-wrapper-2"

log() { printf 'fetch-neovim: %s\n' "$*" >&2; }

have_nvim() { grep -q "$WRAPPER_STAMP" "$WRAPPER" 2>/dev/null && "$WRAPPER" --headless --clean -es -c 'qa!' </dev/null >/dev/null 2>&1; }
have_luacheck() { [ -x "$LUACHECK" ] && "$LUACHECK" --version >/dev/null 2>&1; }
have_stylua() { [ -f "$STYLUA_DIR/node_modules/@johnnymorganz/stylua/package.json" ]; }

if have_nvim && have_luacheck && have_stylua; then
  log "Neovim already fetched: $("$WRAPPER" --version | head -n 1)"
  printf '%s\n' "$WRAPPER"
  exit 0
fi

mkdir -p "$DEST/bin"

# ---------------------------------------------------------------------------------------------
# Private apt state with a trixie source list derived from the machine's own sources.
APT="$DEST/apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/sources.list.d" "$APT/debs" "$APT/state"
touch "$APT/state/status"
# sid has no -updates or -security suites (CODEBENCH_NVIM_SUITE=sid fetches Neovim 0.11).
rolling_only() {
  case "$SUITE" in
    sid | unstable)
      sed -E "s/ $SUITE-updates//" | awk -v RS= -v ORS='\n\n' "!/Suites:[[:space:]]*$SUITE-security/"
      ;;
    *) cat ;;
  esac
}
derive_sources() {
  local found=0
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: keep the machine's URIs and keyring, rename the suites.
    sed -E "/^[[:space:]]*#/d; s/\\b(bookworm|bullseye)\\b/$SUITE/g" /etc/apt/sources.list.d/debian.sources |
      rolling_only >"$APT/sources.list.d/$SUITE.sources"
    found=1
  fi
  if [ -f /etc/apt/sources.list ] && grep -qE '^[[:space:]]*deb ' /etc/apt/sources.list; then
    grep -E '^[[:space:]]*deb ' /etc/apt/sources.list | sed -E "s/\\b(bookworm|bullseye)\\b/$SUITE/g" \
      >"$APT/sources.list.d/$SUITE.list"
    found=1
  fi
  [ "$found" = 1 ] || {
    log "no Debian apt sources found on this machine (/etc/apt/sources.list.d/debian.sources)"
    exit 1
  }
}
derive_sources

APT_OPTS=(
  -o "Dir::State=$APT/state"
  -o "Dir::State::Lists=$APT/lists"
  -o "Dir::State::status=$APT/state/status"
  -o "Dir::Cache=$APT/cache"
  -o "Dir::Etc::sourcelist=/dev/null"
  -o "Dir::Etc::sourceparts=$APT/sources.list.d"
  -o "Debug::NoLocking=1"
  -o "APT::Get::List-Cleanup=0"
  -o "Acquire::Retries=3"
  -o "APT::Sandbox::User=root"
)

# Lists are refreshed at most once a day.
if [ -z "$(find "$APT/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
  log "updating a private $SUITE package list in $APT …"
  apt-get "${APT_OPTS[@]}" -qq update >&2
fi

# Every package the wanted ones need, recursively (Depends and Pre-Depends only).
resolve() {
  apt-cache "${APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
    grep -vE '^[[:space:]]|^<' | sort -u
}
# Packages that only run maintainer scripts or provide the system's own tools: not needed to run.
SKIP='^(debconf|perl-base|dpkg|libc-bin|tar|coreutils|debianutils|base-files|sensible-utils|init-system-helpers|libcrypt1|gcc-[0-9]+-base|libpam.*|login|passwd|adduser|mawk|bash|sed|grep)$'

fetch_and_unpack() {
  local packages
  packages=$(resolve "$@" | grep -vE "$SKIP" || true)
  [ -n "$packages" ] || {
    log "could not resolve $* from $SUITE"
    exit 1
  }
  log "downloading $(echo "$packages" | wc -l) packages for $* …"
  # shellcheck disable=SC2086
  (cd "$APT/debs" && apt-get "${APT_OPTS[@]}" -qq download $packages >&2)
  for package in $packages; do
    local deb
    deb=$(ls "$APT/debs/${package}"_*.deb 2>/dev/null | head -n 1 || true)
    [ -n "$deb" ] || {
      log "missing download for $package"
      exit 1
    }
    dpkg -x "$deb" "$ROOT"
  done
}

mkdir -p "$ROOT"
if [ ! -x "$ROOT/usr/bin/nvim" ]; then
  fetch_and_unpack neovim neovim-runtime
fi
if [ ! -e "$ROOT/usr/bin/luacheck" ]; then
  fetch_and_unpack lua-check || log "luacheck unavailable: the Lua lint test will skip"
fi

LOADER=""
for candidate in "$ROOT/usr/lib64/ld-linux-x86-64.so.2" "$ROOT/lib64/ld-linux-x86-64.so.2" \
  "$ROOT/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$ROOT/usr/lib/ld-linux-aarch64.so.1" \
  "$ROOT/usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1"; do
  if [ -e "$candidate" ]; then
    LOADER="${candidate#"$ROOT"/}"
    break
  fi
done
[ -n "$LOADER" ] || {
  log "no dynamic loader in the unpacked libc6"
  exit 1
}
TRIPLET=$(basename "$(dirname "$(find "$ROOT/usr/lib" -maxdepth 2 -name 'libc.so.6' | head -n 1)")")

# The wrapper resolves its own folder, so .cache/nvim can be moved or mounted elsewhere.
write_wrapper() {
  local target="$1" program="$2" extra="$3"
  cat >"$target" <<EOF
#!/bin/sh
# Generated by scripts/fetch-neovim.sh ($WRAPPER_STAMP): runs Debian $SUITE's $program with its own libc.
here=\$(CDPATH= cd -- "\$(dirname -- "\$0")/.." && pwd)
root="\$here/root"
libs="\$root/usr/lib/$TRIPLET:\$root/lib/$TRIPLET:\$root/usr/lib"
export LUA_CPATH="\$root/usr/lib/$TRIPLET/lua/5.1/?.so;\$root/usr/lib/$TRIPLET/lua/5.4/?.so;;"
export LUA_PATH="\$root/usr/share/lua/5.1/?.lua;\$root/usr/share/lua/5.1/?/init.lua;\$root/usr/share/lua/5.4/?.lua;\$root/usr/share/lua/5.4/?/init.lua;;"
$extra
EOF
  chmod +x "$target"
}
# Debian's tree-sitter parsers live in /usr/lib/nvim, which the binary puts on 'runtimepath' only
# at its own prefix: add the private copy.
write_wrapper "$WRAPPER" nvim "export VIMRUNTIME=\"\$root/usr/share/nvim/runtime\"
exec \"\$root/$LOADER\" --library-path \"\$libs\" \"\$root/usr/bin/nvim\" --cmd \"set rtp+=\$root/usr/lib/nvim\" \"\$@\""

if [ -e "$ROOT/usr/bin/luacheck" ]; then
  LUA_BIN=$(sed -n '1s/^#![[:space:]]*\(\/usr\/bin\/env[[:space:]]*\)\{0,1\}//p' "$ROOT/usr/bin/luacheck" | awk '{print $1}')
  LUA_BIN=$(basename "${LUA_BIN:-lua}")
  LUA_REAL=$(readlink -f "$ROOT/usr/bin/$LUA_BIN" 2>/dev/null || true)
  [ -e "$ROOT/usr/bin/$LUA_BIN" ] || LUA_REAL=$(ls "$ROOT"/usr/bin/lua5.* 2>/dev/null | head -n 1)
  case "$LUA_REAL" in "$ROOT"/*) ;; *) LUA_REAL="$ROOT/usr/bin/$(basename "$LUA_REAL")" ;; esac
  write_wrapper "$LUACHECK" luacheck "exec \"\$root/$LOADER\" --library-path \"\$libs\" \"\$root/usr/bin/$(basename "$LUA_REAL")\" \"\$root/usr/bin/luacheck\" \"\$@\""
fi

# StyLua's own WebAssembly build from the npm registry (no native binary to download).
if ! have_stylua; then
  mkdir -p "$STYLUA_DIR"
  printf '{ "name": "codebench-lua-tools", "private": true, "dependencies": { "@johnnymorganz/stylua": "%s" } }\n' \
    "$STYLUA_VERSION" >"$STYLUA_DIR/package.json"
  (cd "$STYLUA_DIR" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >&2) ||
    log "StyLua unavailable: the Lua format check will skip"
fi

if ! have_nvim; then
  log "the unpacked Neovim does not start:"
  "$WRAPPER" --headless --clean -es -c 'qa!' </dev/null >&2 || true
  exit 1
fi
log "ready: $("$WRAPPER" --version | head -n 1)"
printf '%s\n' "$WRAPPER"
