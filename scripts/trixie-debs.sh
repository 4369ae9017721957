#!/usr/bin/env bash
# Shared helper, sourced by the fetch-* scripts: unpacks Debian trixie packages (and every library
# they need, with trixie's own libc) into a private root so editors newer than this bookworm
# machine offers can run without installing anything system-wide. Usage:
#
#   . scripts/trixie-debs.sh
#   trixie_init "$DEST/apt"            # private apt state + derived source list, lists refreshed daily
#   trixie_fetch "$DEST/root" hx       # download the dependency closure, `dpkg -x` each into the root
#   loader=$(trixie_loader "$DEST/root")   # root-relative path of the unpacked ld-linux
#   triplet=$(trixie_triplet "$DEST/root") # e.g. x86_64-linux-gnu
#
# The trixie source list is derived at run time from this machine's own apt sources (suite
# renamed) and used through private Dir::* options, so the system's apt state is untouched.
# Nothing here names a package host: whatever the machine's sources use is used.
# (scripts/fetch-neovim.sh predates this file and carries its own copy of the same steps.)

TRIXIE_SUITE="${TRIXIE_SUITE:-trixie}"
TRIXIE_APT_OPTS=()

trixie_log() { printf '%s: %s\n' "${TRIXIE_LOG_NAME:-trixie-debs}" "$*" >&2; }

trixie_init() {
  local apt="$1" found=0
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/sources.list.d" "$apt/debs" "$apt/state"
  touch "$apt/state/status"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    # deb822: keep the machine's URIs and keyring, rename the suites (bookworm-updates → trixie-updates).
    sed -E "/^[[:space:]]*#/d; s/\\b(bookworm|bullseye)\\b/$TRIXIE_SUITE/g" /etc/apt/sources.list.d/debian.sources \
      >"$apt/sources.list.d/$TRIXIE_SUITE.sources"
    found=1
  fi
  if [ -f /etc/apt/sources.list ] && grep -qE '^[[:space:]]*deb ' /etc/apt/sources.list; then
    grep -E '^[[:space:]]*deb ' /etc/apt/sources.list | sed -E "s/\\b(bookworm|bullseye)\\b/$TRIXIE_SUITE/g" \
      >"$apt/sources.list.d/$TRIXIE_SUITE.list"
    found=1
  fi
  if [ "$found" != 1 ]; then
    trixie_log "no Debian apt sources found on this machine (/etc/apt/sources.list.d/debian.sources)"
    return 1
  fi
  TRIXIE_APT_OPTS=(
    -o "Dir::State=$apt/state"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::State::status=$apt/state/status"
    -o "Dir::Cache=$apt/cache"
    -o "Dir::Etc::sourcelist=/dev/null"
    -o "Dir::Etc::sourceparts=$apt/sources.list.d"
    -o "Debug::NoLocking=1"
    -o "APT::Get::List-Cleanup=0"
    -o "Acquire::Retries=3"
    -o "APT::Sandbox::User=root"
  )
  TRIXIE_DEBS="$apt/debs"
  # Lists are refreshed at most once a day: the fetch stays fast and offline-tolerant when cached.
  if [ -z "$(find "$apt/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
    trixie_log "updating a private $TRIXIE_SUITE package list in $apt …"
    apt-get "${TRIXIE_APT_OPTS[@]}" -qq update >&2 || return 1
  fi
}

# Packages that only run maintainer scripts or are the system's own tools: not needed to run.
TRIXIE_SKIP='^(debconf|perl-base|dpkg|libc-bin|tar|coreutils|debianutils|base-files|sensible-utils|init-system-helpers|libcrypt1|gcc-[0-9]+-base|libpam.*|login|passwd|adduser|mawk|bash|sed|grep)$'

# Every package the wanted ones need, recursively (Depends and Pre-Depends only).
trixie_resolve() {
  apt-cache "${TRIXIE_APT_OPTS[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
    grep -vE '^[[:space:]]|^<' | sort -u | grep -vE "$TRIXIE_SKIP" || true
}

trixie_fetch() {
  local root="$1" packages package deb
  shift
  packages=$(trixie_resolve "$@")
  if [ -z "$packages" ]; then
    trixie_log "could not resolve $* from $TRIXIE_SUITE"
    return 1
  fi
  trixie_log "downloading $(echo "$packages" | wc -l) packages for $* …"
  # shellcheck disable=SC2086
  (cd "$TRIXIE_DEBS" && apt-get "${TRIXIE_APT_OPTS[@]}" -qq download $packages >&2) || return 1
  mkdir -p "$root"
  for package in $packages; do
    deb=$(ls -t "$TRIXIE_DEBS/${package}"_*.deb 2>/dev/null | head -n 1 || true)
    if [ -z "$deb" ]; then
      trixie_log "missing download for $package"
      return 1
    fi
    dpkg -x "$deb" "$root"
  done
}

# The unpacked dynamic loader, relative to the root (the wrapper rebuilds absolute paths itself).
trixie_loader() {
  local root="$1" candidate
  for candidate in usr/lib64/ld-linux-x86-64.so.2 lib64/ld-linux-x86-64.so.2 \
    usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 usr/lib/ld-linux-aarch64.so.1 \
    usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1; do
    if [ -e "$root/$candidate" ]; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  trixie_log "no dynamic loader in the unpacked libc6 under $root"
  return 1
}

trixie_triplet() {
  basename "$(dirname "$(find "$1/usr/lib" -maxdepth 2 -name 'libc.so.6' | head -n 1)")"
}
