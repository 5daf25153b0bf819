#!/usr/bin/env bash
# The README walkthrough on a real Docker engine, run the way a newcomer runs it: through the
# Makefile (start-up, rpc-call, log, stop-masterN, start-masterN, clean) and the Deno tasks it wraps
# (status, failover, up --ensemble, stop zookeeper2), with the compose file users run.
#
# No container registry is needed: the script installs Debian's docker.io, docker-compose,
# debootstrap and iptables when missing, starts its own dockerd (docker/ci_engine.sh: no NAT, no
# way out to the uplink), builds local stand-ins for the two base images (docker/build_standins.sh,
# cached between runs by a hash of their inputs; FORCE_REBUILD=1 builds them again) and points
# compose.yaml at them through DENO_IMAGE and ZOOKEEPER_IMAGE.
#
# Each walkthrough step is one check. The steps build on each other, so after the first failure the
# rest are skipped and counted as failed. Whatever happens, the lab is cleaned up (`make clean`) and
# the engine started here is stopped. The last line is `docker e2e: N passed, M failed`; the exit
# status is 0 only when every check passed. Every command's output is kept in .lab/ci/e2e/.
#
# Run as root on Debian 12 with Deno on PATH:  tests/docker/e2e.sh
# E2E_ENSEMBLE=0 leaves out the ensemble check; E2E_*_TIMEOUT_S move the deadlines below.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly REPO_ROOT
readonly OUTPUT_DIR="${REPO_ROOT}/.lab/ci/e2e"
readonly PACKAGES=(docker.io docker-compose debootstrap iptables)
# The first start-up on a machine builds the app image, fetching npm packages: give it time.
readonly UP_TIMEOUT_S="${E2E_UP_TIMEOUT_S:-900}"
# Any other single command (make target, deno task, docker query).
readonly STEP_TIMEOUT_S="${E2E_STEP_TIMEOUT_S:-180}"
# Waiting for something to show in a log.
readonly WAIT_TIMEOUT_S="${E2E_WAIT_TIMEOUT_S:-60}"
# The host ports compose.yaml publishes and the lab CLI reads, with their defaults.
readonly PORT_DEFAULTS=(LAB_ZK_PORT=2181 LAB_ZOO1_PORT=2182 LAB_ZOO2_PORT=2183 LAB_ZOO3_PORT=2184
  LAB_WORKER_PORT=7070 LAB_MASTER1_PORT=50051 LAB_MASTER2_PORT=50052)

# "function|title" of each check, in walkthrough order.
CHECKS=(
  "check_start_up|make start-up: the compose backend, and a leader the worker accepted"
  "check_rpc|make rpc-call: We got: Hello, worker! gatech"
  "check_log|make log: leader and follower lines, Performing task: leader_election"
  "check_status|deno task status: the election and four healthy services"
  "check_stop_leader|make stop-masterN on the leader: its container stops"
  "check_takeover|the other master logs I am the leader; the worker accepts its epoch"
  "check_rejoin|make start-masterN: it rejoins as a follower"
  "check_failover|deno task failover: timeline, new leader, old one rejoins"
)
if [[ "${E2E_ENSEMBLE:-1}" != 0 ]]; then
  CHECKS+=("check_ensemble|deno task up --ensemble, stop zookeeper2: still a leader")
fi
CHECKS+=("check_clean|make clean: no containers, networks, volumes or images left")

PASSED=0
FAILED=0
TIMINGS=()
ENGINE_STARTED=0
CLEANED=0
STARTED_AT="${EPOCHREALTIME}"

# --- helpers -------------------------------------------------------------------------------------

say() { printf '%s\n' "$*"; }
# Ends the current check (each runs in a subshell) with a reason.
fail() {
  say "  FAILED: $*" >&2
  exit 1
}

# Seconds since the EPOCHREALTIME value $1, one decimal.
seconds_since() { awk -v from="$1" -v to="${EPOCHREALTIME}" 'BEGIN { printf "%.1f", to - from }'; }

# Records how long a phase took for the summary.
record_timing() { TIMINGS+=("$(printf '  %-76s %6s s' "$1" "$(seconds_since "$2")")"); }

# run <timeout s> <output file> <command...>: runs a command with a deadline, both output streams
# kept in the file; returns its status (124 when the deadline passed). timeout(1) signals the
# whole process group, so make's children (deno, docker-compose) go too.
run() {
  local timeout_s="$1" output="$2"
  shift 2
  say "  \$ $*"
  timeout --kill-after=10 "${timeout_s}" "$@" >"${output}" 2>&1
}

# Prints a command's saved output, indented.
show() { sed 's/^/    /' "$1"; }

# Like `show`, but folds each image build of compose's output into one line.
show_without_builds() {
  awk '
    /^Building / { service = $2; lines = 0; building = 1; next }
    building && /^Successfully tagged / { print "(built the image for " service ": " lines " lines)"; building = 0; next }
    building { lines++; next }
    { print }
  ' "$1" | sed 's/^/    /'
}

# expect <file> <extended regex> <what>: fails the check unless a line of the file matches.
expect() {
  grep -Eq -- "$2" "$1" || fail "expected $3 (/$2/) in $(basename "$1")"
}

# expect_none <file> <extended regex> <what>: fails the check when any line matches.
expect_none() {
  if grep -Eq -- "$2" "$1"; then
    grep -E -- "$2" "$1" | head -n 5 | sed 's/^/    /'
    fail "expected no $3 (/$2/) in $(basename "$1")"
  fi
}

# Prints the size of each image the walkthrough uses (the brief asks for slim containers).
show_image_sizes() {
  local image
  for image in "$@"; do
    if docker image inspect "${image}" >/dev/null 2>&1; then
      say "  ${image}: $(docker image inspect --format '{{ .Size }}' "${image}" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
    fi
  done
}

# wait_until <what> <command...>: runs the command every second until it succeeds or
# WAIT_TIMEOUT_S has passed.
wait_until() {
  local what="$1" deadline=$((SECONDS + WAIT_TIMEOUT_S))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after ${WAIT_TIMEOUT_S} s waiting for ${what}"
    sleep 1
  done
}

# log_matches <service> <extended regex>: `make log-<service>` (last 200 lines) has a match.
log_matches() {
  local output="${OUTPUT_DIR}/log-$1.txt"
  timeout "${STEP_TIMEOUT_S}" make --no-print-directory "log-$1" ARGS="-n 200" >"${output}" 2>&1 &&
    grep -Eq -- "$2" "${output}"
}

# Facts one check leaves for the next ones (checks run in subshells).
remember() { printf '%s\n' "$2" >"${OUTPUT_DIR}/$1.fact"; }
recall() { cat "${OUTPUT_DIR}/$1.fact"; }
other_master() { if [[ "$1" == master1 ]]; then say master2; else say master1; fi; }

# True when something listens on TCP port $1 of this machine.
port_in_use() { [[ -n "$(ss -Hltn "sport = :$1")" ]]; }

# Keeps the default host ports where free; moves a taken one (by a process of someone else) to a
# free port between 20000 and 29999, exported for compose.yaml and the lab CLI alike.
choose_ports() {
  local entry name port chosen=" "
  for entry in "${PORT_DEFAULTS[@]}"; do
    name="${entry%%=*}"
    port="${!name:-${entry#*=}}"
    while port_in_use "${port}" || [[ "${chosen}" == *" ${port} "* ]]; do
      port=$((20000 + RANDOM % 10000))
    done
    if [[ "${port}" != "${entry#*=}" ]]; then say "  ${name}=${port} (${entry#*=} is taken)"; fi
    chosen+="${port} "
    export "${name}=${port}"
  done
}

# Installs what is missing of PACKAGES from Debian.
ensure_packages() {
  local package missing=()
  for package in "${PACKAGES[@]}"; do
    # shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not a shell variable
    if ! dpkg-query -W -f='${Status}' "${package}" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("${package}")
    fi
  done
  if ((${#missing[@]} == 0)); then
    say "  already installed: ${PACKAGES[*]}"
    return 0
  fi
  say "  installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"${OUTPUT_DIR}/apt.txt" 2>&1 ||
    { tail -n 20 "${OUTPUT_DIR}/apt.txt" >&2; return 1; }
}

# run_check "function|title" <number>: runs one check in a subshell with errexit on (a check that
# is called from an `if` would run without it), counts and times it.
run_check() {
  local fn="${1%%|*}" title="${1#*|}" number="$2" started="${EPOCHREALTIME}" status
  printf '\n==> [%d/%d] %s\n' "${number}" "${#CHECKS[@]}" "${title}"
  if ((FAILED > 0)); then
    say "  SKIPPED: an earlier check failed"
    FAILED=$((FAILED + 1))
    return 0
  fi
  set +e
  (
    set -e
    "${fn}"
  )
  status=$?
  set -e
  if ((status == 0)); then
    PASSED=$((PASSED + 1))
    say "  ok ($(seconds_since "${started}") s)"
  else
    FAILED=$((FAILED + 1))
    say "  FAILED ($(seconds_since "${started}") s); outputs in ${OUTPUT_DIR}"
  fi
  record_timing "[${number}] ${title}" "${started}"
}

# --- the checks ------------------------------------------------------------------------------------

check_start_up() {
  local output="${OUTPUT_DIR}/start-up.txt" leader project
  run "${UP_TIMEOUT_S}" "${output}" make start-up || { show "${output}"; fail "make start-up failed"; }
  show_without_builds "${output}"
  expect "${output}" '^Starting the lab with the compose backend$' "the compose backend"
  expect "${output}" '^master[12] is the leader \(epoch [0-9]+\)$' "a leader"
  leader="$(sed -nE 's/^(master[12]) is the leader .*/\1/p' "${output}" | tail -n 1)"
  remember leader "${leader}"
  project="$(docker inspect --format '{{ index .Config.Labels "com.docker.compose.project" }}' worker)"
  remember project "${project}"
  say "  leader: ${leader}; compose project: ${project}"
  say "  image sizes:"
  show_image_sizes zk-lab/app:latest "${DENO_IMAGE}" "${ZOOKEEPER_IMAGE}"
}

check_rpc() {
  local output="${OUTPUT_DIR}/rpc-call.txt"
  run "${STEP_TIMEOUT_S}" "${output}" make rpc-call || { show "${output}"; fail "make rpc-call failed"; }
  show "${output}"
  expect "${output}" '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9:]{8} We got: Hello, worker! gatech$' "the reply"
}

check_log() {
  local output="${OUTPUT_DIR}/log.txt" leader follower
  leader="$(recall leader)"
  follower="$(other_master "${leader}")"
  run "${STEP_TIMEOUT_S}" "${output}" make log || { show "${output}"; fail "make log failed"; }
  grep -E 'I am the (leader|follower) |Performing task|accepted' "${output}" | sed 's/^/    /' || true
  expect "${output}" "^${leader} +\| .* I am the leader epoch=[0-9]+ " "the leader's line"
  expect "${output}" "^${follower} +\| .* I am the follower leader=${leader} " "the follower's line"
  expect "${output}" '^worker +\| .* Performing task: leader_election$' "the worker's task"
  # The first screen, as the original lab's: the masters and the worker only, and no warning.
  expect_none "${output}" '^(zookeeper|zoo[1-3]) +\|' "ZooKeeper lines"
  expect_none "${output}" '\| .*(WARN|ERROR)' "warnings"
  # ZooKeeper's own log is one command away, at WARN, without the old-client line.
  output="${OUTPUT_DIR}/log-zookeeper.txt"
  run "${STEP_TIMEOUT_S}" "${output}" make log-zookeeper ARGS="-n 500" ||
    { show "${output}"; fail "make log-zookeeper failed"; }
  expect "${output}" '^zookeeper +\|' "ZooKeeper's lines"
  expect_none "${output}" 'Connection request from old client' "old-client lines"
  expect_none "${output}" ' INFO ' "INFO lines"
}

check_status() {
  local output="${OUTPUT_DIR}/status.txt" leader follower
  leader="$(recall leader)"
  follower="$(other_master "${leader}")"
  run "${STEP_TIMEOUT_S}" "${output}" deno task status ||
    { show "${output}"; fail "deno task status found a problem"; }
  show "${output}"
  expect "${output}" "│ ${leader} +│ ${leader}:[0-9]+ +│ [0-9]+ +│ leader +│" "the leader's row"
  expect "${output}" "│ ${follower} +│ ${follower}:[0-9]+ +│ [0-9]+ +│ follower +│" "the follower's row"
}

check_stop_leader() {
  local output="${OUTPUT_DIR}/stop-leader.txt" leader
  leader="$(recall leader)"
  run "${STEP_TIMEOUT_S}" "${output}" make "stop-${leader}" ||
    { show "${output}"; fail "make stop-${leader} failed"; }
  show "${output}"
  [[ "$(docker inspect --format '{{ .State.Running }}' "${leader}")" == false ]] ||
    fail "the ${leader} container still runs"
}

check_takeover() {
  local leader follower epoch
  leader="$(recall leader)"
  follower="$(other_master "${leader}")"
  # The follower never led in this stack, so any such line of its log is the takeover.
  wait_until "${follower} to log that it leads" \
    log_matches "${follower}" "^${follower} +\| .* I am the leader epoch=[0-9]+ "
  epoch="$(sed -nE 's/.* I am the leader epoch=([0-9]+) .*/\1/p' "${OUTPUT_DIR}/log-${follower}.txt" | tail -n 1)"
  wait_until "the worker to accept epoch ${epoch}" \
    log_matches worker "^worker +\| .* Accepted a new leader epoch epoch=${epoch} "
  wait_until "${follower} to log that the worker accepted it" \
    log_matches "${follower}" "The worker accepted our leadership epoch=${epoch} "
  grep -E "I am the leader epoch=|The worker accepted" "${OUTPUT_DIR}/log-${follower}.txt" | sed 's/^/    /'
  grep -E "Accepted a new leader epoch" "${OUTPUT_DIR}/log-worker.txt" | sed 's/^/    /'
  remember leader "${follower}"
}

check_rejoin() {
  local output="${OUTPUT_DIR}/start-master.txt" leader stopped
  leader="$(recall leader)"
  stopped="$(other_master "${leader}")"
  run "${STEP_TIMEOUT_S}" "${output}" make "start-${stopped}" ||
    { show "${output}"; fail "make start-${stopped} failed"; }
  show "${output}"
  expect "${output}" "^${stopped} joined the election as a follower of ${leader}$" "the rejoin"
  wait_until "${stopped} to log that it follows ${leader}" \
    log_matches "${stopped}" "^${stopped} +\| .* I am the follower leader=${leader} "
}

check_failover() {
  local output="${OUTPUT_DIR}/failover.txt" leader next
  leader="$(recall leader)"
  next="$(other_master "${leader}")"
  run "${STEP_TIMEOUT_S}" "${output}" deno task failover ||
    { show "${output}"; fail "deno task failover failed"; }
  show "${output}"
  expect "${output}" "^${leader} is the leader \(epoch [0-9]+\); stopping it$" "the leader stopped"
  expect "${output}" "^ +0  stop sent to ${leader}$" "the timeline's start"
  expect "${output}" "^ +[0-9]+  ${leader}'s election node is gone$" "the node's deletion"
  expect "${output}" "^ +[0-9]+  ${next} is first in the election \(epoch [0-9]+\)$" "the new leader"
  expect "${output}" "^ +[0-9]+  the worker accepted ${next}'s epoch [0-9]+$" "the worker's acceptance"
  expect "${output}" "^${leader} rejoined as a follower of ${next} after [0-9]+ ms" "the rejoin"
  remember leader "${next}"
}

check_ensemble() {
  local project output
  project="$(recall project)"
  output="${OUTPUT_DIR}/stop-and-remove-all.txt"
  run "${STEP_TIMEOUT_S}" "${output}" make stop-and-remove-all ||
    { show "${output}"; fail "make stop-and-remove-all failed"; }
  [[ -z "$(docker ps -aq --filter "label=com.docker.compose.project=${project}")" ]] ||
    fail "make stop-and-remove-all left containers"
  output="${OUTPUT_DIR}/up-ensemble.txt"
  run "${UP_TIMEOUT_S}" "${output}" deno task up --ensemble ||
    { show "${output}"; fail "deno task up --ensemble failed"; }
  show_without_builds "${output}"
  expect "${output}" 'with the compose backend and a three-server ZooKeeper ensemble$' "the ensemble"
  expect "${output}" '^master[12] is the leader \(epoch [0-9]+\)$' "a leader"
  output="${OUTPUT_DIR}/stop-zookeeper2.txt"
  run "${STEP_TIMEOUT_S}" "${output}" deno task stop zookeeper2 ||
    { show "${output}"; fail "deno task stop zookeeper2 failed"; }
  show "${output}"
  # status exits 1 now, since it reports zoo2 down: read its output, not its status.
  output="${OUTPUT_DIR}/status-ensemble.txt"
  run "${STEP_TIMEOUT_S}" "${output}" deno task status || true
  show "${output}"
  expect "${output}" "│ master[12] +│ master[12]:[0-9]+ +│ [0-9]+ +│ leader +│" "a leader row"
  expect "${output}" "│ zoo2 +│ [^│]+│ ruok +│ DOWN" "zoo2 down"
  expect "${output}" "│ zoo1 +│ [^│]+│ ruok +│ ok: imok \((leader|follower)\)" "zoo1 serving"
  expect "${output}" "│ zoo3 +│ [^│]+│ ruok +│ ok: imok \((leader|follower)\)" "zoo3 serving"
  output="${OUTPUT_DIR}/rpc-call-ensemble.txt"
  run "${STEP_TIMEOUT_S}" "${output}" make rpc-call || { show "${output}"; fail "make rpc-call failed"; }
  show "${output}"
  expect "${output}" 'We got: Hello, worker! gatech$' "the reply"
}

check_clean() {
  local output="${OUTPUT_DIR}/clean.txt" project left
  project="$(recall project)"
  run "${STEP_TIMEOUT_S}" "${output}" make clean || { show "${output}"; fail "make clean failed"; }
  tail -n 5 "${output}" | sed 's/^/    /'
  left="$(docker ps -a --format '{{ .Names }}' --filter "label=com.docker.compose.project=${project}")"
  [[ -z "${left}" ]] || fail "containers left: ${left}"
  left="$(docker network ls --format '{{ .Name }}' --filter "label=com.docker.compose.project=${project}")"
  [[ -z "${left}" ]] || fail "networks left: ${left}"
  left="$(docker images --quiet --filter label=zk-lab.image=app)"
  [[ -z "${left}" ]] || fail "app images left: ${left}"
  ! docker image inspect zk-lab/app:latest >/dev/null 2>&1 || fail "zk-lab/app:latest is left"
  # Anonymous volumes carry no project label; the engine's count must be what it was before.
  left="$(docker volume ls --quiet | wc -l)"
  [[ "${left}" == "$(recall volumes)" ]] || fail "volumes: ${left} now, $(recall volumes) before"
  say "  docker ps -a, docker network ls, docker images: nothing of project ${project} or zk-lab/app"
}

# --- set-up and tear-down --------------------------------------------------------------------------

# Cleans up whatever is left, stops the engine started here, prints the timings and the final line.
on_exit() {
  local status=$? started failed
  set +e
  trap - EXIT
  if ((ENGINE_STARTED && !CLEANED)) && [[ -f "${OUTPUT_DIR}/volumes.fact" ]]; then
    started="${EPOCHREALTIME}"
    printf '\n==> Cleaning up after a failure: make clean\n'
    timeout --kill-after=10 "${STEP_TIMEOUT_S}" make clean >"${OUTPUT_DIR}/cleanup.txt" 2>&1 ||
      { say "  make clean failed:"; show "${OUTPUT_DIR}/cleanup.txt"; }
    record_timing "clean-up after a failure" "${started}"
  fi
  if ((ENGINE_STARTED)); then
    started="${EPOCHREALTIME}"
    engine_stop
    record_timing "stop the engine" "${started}"
  fi
  printf '\n==> Timings\n'
  printf '%s\n' "${TIMINGS[@]}"
  record_timing "total" "${STARTED_AT}"
  printf '%s\n' "${TIMINGS[-1]}"
  # Checks that never ran (the set-up failed) count as failed.
  failed=$((${#CHECKS[@]} - PASSED))
  if ((status != 0 && failed == 0)); then failed=1; fi
  say "docker e2e: ${PASSED} passed, ${failed} failed"
  if ((failed > 0)); then exit 1; fi
  exit 0
}

# set_up <title> <command...>: one timed set-up phase; a failure ends the run (errexit).
set_up() {
  local title="$1" started="${EPOCHREALTIME}"
  shift
  printf '\n==> %s\n' "${title}"
  "$@"
  record_timing "${title}" "${started}"
}

start_engine() {
  # shellcheck source=../../docker/ci_engine.sh disable=SC1091 # checked with shellcheck -x
  source "${REPO_ROOT}/docker/ci_engine.sh"
  ENGINE_STARTED=1
  engine_start
}

main() {
  cd "${REPO_ROOT}"
  trap on_exit EXIT
  # A signal ends the run through on_exit, so the lab is cleaned and the engine stopped.
  trap 'exit 130' INT
  trap 'exit 143' TERM
  [[ "$(id -u)" == 0 ]] || { say "docker e2e: needs root (apt-get, dockerd, debootstrap)" >&2; exit 1; }
  command -v deno >/dev/null || { say "docker e2e: deno is not on PATH (see .ci/run)" >&2; exit 1; }
  mkdir -p "${OUTPUT_DIR}"
  rm -f "${OUTPUT_DIR}"/*.txt "${OUTPUT_DIR}"/*.fact
  export NO_COLOR=1 DENO_IMAGE=zk-lab/deno:distroless-2.9.3 ZOOKEEPER_IMAGE=zk-lab/zookeeper:3.8

  set_up "Install ${PACKAGES[*]} if missing" ensure_packages
  set_up "Start the Docker engine" start_engine
  set_up "Build the stand-in base images (cached by input hash)" \
    "${REPO_ROOT}/docker/build_standins.sh"
  set_up "Choose host ports" choose_ports
  docker volume ls --quiet | wc -l >"${OUTPUT_DIR}/volumes.fact"

  local index
  for index in "${!CHECKS[@]}"; do
    run_check "${CHECKS[index]}" "$((index + 1))"
    # A passed clean leaves nothing for on_exit to clean.
    if [[ "${CHECKS[index]}" == check_clean* ]] && ((FAILED == 0)); then CLEANED=1; fi
  done
}

main "$@"
