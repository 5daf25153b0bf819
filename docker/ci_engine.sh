#!/usr/bin/env bash
# Starts and stops a private Docker engine for CI and for people on a machine where no service
# manager runs dockerd. Source this file, then:
#
#   engine_start && trap engine_stop EXIT
#
# engine_start promises three things once it returns 0:
#   - `docker info` answers;
#   - containers cannot reach beyond this machine: a DROP rule in DOCKER-USER (the chain Docker
#     leaves to its users) stops forwarded traffic leaving by the default route's interface, and
#     --ip-masq=false leaves the bridges without NAT. Containers still reach each other, the host
#     and published ports on loopback;
#   - the engine itself cannot pull images: its proxy points at a closed port on loopback, so a
#     missing image fails at once instead of reaching for a registry.
# If an engine already answers, engine_start uses it and changes nothing; engine_stop then leaves it
# running too. Only an engine started here is stopped, by the PID remembered in $ENGINE_STATE_DIR.
#
# Builds that need a package registry (apt, npm) run on the host network (`docker build --network
# host`, compose `build.network: host`): their traffic is the host's own, not forwarded.

ENGINE_STATE_DIR="${ENGINE_STATE_DIR:-/tmp/zk-lab-engine}"
ENGINE_START_TIMEOUT_S="${ENGINE_START_TIMEOUT_S:-30}"
ENGINE_STOP_TIMEOUT_S="${ENGINE_STOP_TIMEOUT_S:-30}"

# Prints the interface of the default route (IPv4, else IPv6); prints nothing if there is none.
engine_uplink() {
  local uplink
  uplink="$(ip -4 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')"
  if [[ -z "$uplink" ]]; then
    uplink="$(ip -6 route show default 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit }}')"
  fi
  printf '%s' "$uplink"
}

# Inserts "DROP what leaves by <uplink>" at the top of DOCKER-USER, once, for IPv4 and IPv6.
_engine_block_uplink() {
  local uplink="$1" tool
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    # The chain exists only where dockerd manages that family's tables.
    "$tool" -w -n -L DOCKER-USER >/dev/null 2>&1 || continue
    if ! "$tool" -w -C DOCKER-USER -o "$uplink" -j DROP 2>/dev/null; then
      "$tool" -w -I DOCKER-USER -o "$uplink" -j DROP || return 1
    fi
  done
  printf '%s\n' "$uplink" >"$ENGINE_STATE_DIR/uplink"
}

_engine_unblock_uplink() {
  local uplink tool
  [[ -f "$ENGINE_STATE_DIR/uplink" ]] || return 0
  uplink="$(cat "$ENGINE_STATE_DIR/uplink")"
  for tool in iptables ip6tables; do
    command -v "$tool" >/dev/null || continue
    while "$tool" -w -D DOCKER-USER -o "$uplink" -j DROP 2>/dev/null; do :; done
  done
  rm -f "$ENGINE_STATE_DIR/uplink"
}

# Starts dockerd in the background and waits until it answers; returns non-zero on failure.
engine_start() {
  local pid deadline uplink
  mkdir -p "$ENGINE_STATE_DIR"
  if docker info >/dev/null 2>&1; then
    echo "engine_start: a Docker engine already answers; using it as it is" >&2
    return 0
  fi
  if ! command -v dockerd >/dev/null; then
    echo "engine_start: cannot start the engine: dockerd is not installed (apt-get install docker.io)" >&2
    return 1
  fi
  uplink="$(engine_uplink)"
  # Started straight from this shell so that $! is dockerd's own PID, not a wrapper's.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' \
    http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 no_proxy='' \
    dockerd --ip-masq=false >"$ENGINE_STATE_DIR/dockerd.log" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$ENGINE_STATE_DIR/dockerd.pid"
  deadline=$((SECONDS + ENGINE_START_TIMEOUT_S))
  until docker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "engine_start: dockerd (PID $pid) exited during start-up; last lines of its log:" >&2
      tail -n 20 "$ENGINE_STATE_DIR/dockerd.log" >&2
      rm -f "$ENGINE_STATE_DIR/dockerd.pid"
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "engine_start: dockerd (PID $pid) did not answer within ${ENGINE_START_TIMEOUT_S} s" >&2
      engine_stop
      return 1
    fi
    sleep 0.2
  done
  if [[ -z "$uplink" ]]; then
    echo "engine_start: no default route, so there is no uplink to block" >&2
  elif ! _engine_block_uplink "$uplink"; then
    echo "engine_start: cannot block container traffic to uplink \"$uplink\"; stopping the engine" >&2
    engine_stop
    return 1
  fi
  echo "engine_start: dockerd PID $pid answers; containers are kept off \"${uplink:-none}\"" >&2
}

# Stops the dockerd that engine_start started (SIGTERM, then SIGKILL after the timeout) and waits.
engine_stop() {
  local pidfile="$ENGINE_STATE_DIR/dockerd.pid" pid deadline
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  # A stale file from a crashed run may name a PID that now belongs to something else.
  if [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]]; then
    kill -TERM "$pid"
    deadline=$((SECONDS + ENGINE_STOP_TIMEOUT_S))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        echo "engine_stop: dockerd (PID $pid) still runs after ${ENGINE_STOP_TIMEOUT_S} s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null
        break
      fi
      sleep 0.2
    done
    # Reap it when it is our own child; otherwise wait returns at once.
    wait "$pid" 2>/dev/null || true
  fi
  _engine_unblock_uplink
  rm -f "$pidfile"
}
