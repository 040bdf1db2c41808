# What bench/run.sh and bench/companion.sh share; sourced, not run.

# Raises the open-file limit to the hard limit; exits when `$1` clients will not fit in it.
raise_fd_limit() {
  local clients=$1
  ulimit -n "$(ulimit -Hn)"
  if [ "$(ulimit -n)" -lt $((clients + 200)) ]; then
    echo "only $(ulimit -n) file descriptors per process; $clients clients need $((clients + 200))" >&2
    exit 1
  fi
}

# Builds the server and the load generator (release) unless `$1` is false; sets `bin`.
build_release() {
  bin="${CARGO_TARGET_DIR:-target}/release"
  if $1; then
    echo "== building release binaries"
    cargo build --release --locked -p parlor -p parlor-bench
  fi
}

# The code measured, in `commit`: BENCH_COMMIT when run from an export (`git archive`), else
# the checkout's commit, marked when the server's sources differ from it.
measured_commit() {
  commit=${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
  if [ -z "${BENCH_COMMIT:-}" ] && [ -n "$(git status --porcelain -- src migrations web Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    commit="$commit + uncommitted changes"
  fi
}

# install_missing_tools → what the benchmark runs beside Parlor, installed when missing, as
# scripts/test does: redis-server (the two-node scenario), PostgreSQL (the stored-message
# figure), Chromium with a font and the test clients' playwright-core (the web app's first
# screen).
install_missing_tools() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || missing+=(chromium)
  ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || missing+=(postgresql)
  fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    # Installing starts the Debian services; the benchmark starts its own, on its own ports.
    "${sudo[@]}" service redis-server stop >/dev/null 2>&1 || true
    "${sudo[@]}" service postgresql stop >/dev/null 2>&1 || true
  fi
  if [ ! -d tests/clients/node_modules/playwright-core ]; then
    (cd tests/clients && npm ci --no-audit --no-fund --loglevel=error)
  fi
}
