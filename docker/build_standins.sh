#!/usr/bin/env bash
# Builds local stand-ins for the two base images that compose.yaml pulls elsewhere, for machines
# that can reach Debian's apt mirror and the npm registry but no container registry:
#
#   zk-lab/debian:bookworm   a minbase Debian rootfs made by debootstrap, imported
#   zk-lab/deno:distroless-2.9.3   Deno from the npm package @deno/linux-x64-glibc and only the
#                            libraries it links against, from that rootfs (no shell)
#   zk-lab/zookeeper:3.8     that rootfs + Debian's ZooKeeper jars on a headless JRE, official-image layout
#
# Then run the stack with them:
#   DENO_IMAGE=zk-lab/deno:distroless-$DENO_VERSION ZOOKEEPER_IMAGE=zk-lab/zookeeper:3.8 docker-compose up -d
#
# Each image carries a label with a hash of its inputs (its recipe files, the image it is built
# on, the Deno version, the CA bundle); an image whose label matches is not built again, so a second
# run takes about a second. FORCE_REBUILD=1 rebuilds all three. The Debian mirror is read from apt's
# own sources at run time (DEBIAN_MIRROR overrides it). Needs root (debootstrap), docker and npm.
set -euo pipefail

DOCKER_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEBIAN_SUITE=bookworm
DENO_VERSION=2.9.3
DEBIAN_IMAGE="zk-lab/debian:$DEBIAN_SUITE"
DENO_IMAGE="zk-lab/deno:distroless-$DENO_VERSION"
ZOOKEEPER_IMAGE=zk-lab/zookeeper:3.8
HASH_LABEL=zk-lab.inputs-sha256
CACHE_DIR="${ZK_LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zk-lab}"
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# The classic builder: docker-compose 1.29 uses it too, and it needs no buildx plugin.
export DOCKER_BUILDKIT=0

# Temporary directories to remove on exit, whether the build succeeded or not.
TEMP_DIRS=()
cleanup() {
  local dir
  for dir in "${TEMP_DIRS[@]}"; do
    # debootstrap mounts /proc and /sys inside its target while it works: unmount before removing.
    umount -R "$dir/proc" "$dir/sys" 2>/dev/null || true
    rm -rf --one-file-system "$dir"
  done
}
trap cleanup EXIT

log() { printf '%s build_standins: %s\n' "$(date '+%Y/%m/%d %H:%M:%S')" "$*" >&2; }
die() { log "$*"; exit 1; }

# Prints the first URI that apt's sources give for "deb ... $DEBIAN_SUITE" (deb822 or one-line).
debian_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then printf '%s\n' "$DEBIAN_MIRROR"; return; fi
  local file uri
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
    uri="$(awk -v suite="$DEBIAN_SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[ \t]*#/) continue
          split($i, kv, ":"); key = tolower(kv[1]); value = substr($i, length(kv[1]) + 2)
          gsub(/^[ \t]+|[ \t]+$/, "", value)
          if (key == "types") types = value
          else if (key == "uris") uris = value
          else if (key == "suites") suites = value
          else if (key == "enabled") enabled = tolower(value)
        }
        if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " suite " ")) {
          split(uris, first, " "); print first[1]; exit
        }
      }' "$file")"
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" ]] || continue
    uri="$(awk -v suite="$DEBIAN_SUITE" '
      $1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$file")"
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  return 1
}

# Prints the inputs-hash label of an image, or nothing when the image does not exist.
image_hash() {
  docker image inspect --format "{{ index .Config.Labels \"$HASH_LABEL\" }}" "$1" 2>/dev/null || true
}

image_id() { docker image inspect --format '{{ .Id }}' "$1"; }

# Prints the sha256 of everything given on stdin.
sha256_of_stdin() { sha256sum | cut -d' ' -f1; }

# True (and says so) when the image exists with the wanted hash and no rebuild is forced.
is_current() {
  local image="$1" wanted="$2"
  if [[ "${FORCE_REBUILD:-0}" != 1 && "$(image_hash "$image")" == "$wanted" ]]; then
    log "$image is up to date (inputs $wanted)"
    return 0
  fi
  return 1
}

# The recipe of the rootfs is this function's own text: editing it rebuilds the image.
build_debian() {
  local mirror rootfs started
  mirror="$(debian_mirror)" || die "Cannot build $DEBIAN_IMAGE: no \"deb\" source for suite \"$DEBIAN_SUITE\" in /etc/apt/sources.list*; set DEBIAN_MIRROR"
  rootfs="$(mktemp -d /var/tmp/zk-lab-rootfs.XXXXXX)"
  TEMP_DIRS+=("$rootfs")
  log "debootstrap $DEBIAN_SUITE (minbase) from $mirror"
  started=$SECONDS
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$mirror" >"$CACHE_DIR/debootstrap.log" 2>&1 ||
    die "Cannot build $DEBIAN_IMAGE: debootstrap failed; see $CACHE_DIR/debootstrap.log"
  log "debootstrap took $((SECONDS - started)) s"
  # What a container gets from the engine at run time, or what only the build needed.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
    "$rootfs"/var/log/* "$rootfs"/debootstrap
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  started=$SECONDS
  tar --numeric-owner -C "$rootfs" -c . |
    docker import --change "LABEL $HASH_LABEL=$1" --change 'CMD ["bash"]' - "$DEBIAN_IMAGE" >/dev/null
  log "docker import took $((SECONDS - started)) s"
}

build_deno() {
  local tarball="$CACHE_DIR/deno-linux-x64-glibc-$DENO_VERSION.tgz" context
  if [[ ! -s "$tarball" ]]; then
    log "npm pack @deno/linux-x64-glibc@$DENO_VERSION"
    # npm names the file after the package: @deno/linux-x64-glibc -> deno-linux-x64-glibc-<v>.tgz
    npm pack --silent --pack-destination "$CACHE_DIR" "@deno/linux-x64-glibc@$DENO_VERSION" >/dev/null
    [[ -s "$tarball" ]] || die "Cannot build $DENO_IMAGE: npm pack did not leave $tarball"
  fi
  context="$(mktemp -d /var/tmp/zk-lab-deno.XXXXXX)"
  TEMP_DIRS+=("$context")
  tar -xzf "$tarball" -C "$context" --strip-components=1 package/deno ||
    die "Cannot build $DENO_IMAGE: $tarball has no package/deno"
  ca_bundle >"$context/ca-certificates.crt"
  cp "$DOCKER_DIR/deno/Dockerfile" "$context/Dockerfile"
  docker build --quiet --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" --build-arg "DENO_VERSION=$DENO_VERSION" \
    --label "$HASH_LABEL=$1" --tag "$DENO_IMAGE" "$context" >/dev/null
}

build_zookeeper() {
  docker build --quiet --network host --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" \
    --label "$HASH_LABEL=$1" --tag "$ZOOKEEPER_IMAGE" "$DOCKER_DIR/zookeeper" >/dev/null
}

# The CA bundle of this machine, which the Deno stand-in trusts (empty when there is none).
ca_bundle() { if [[ -f "$HOST_CA_BUNDLE" ]]; then cat "$HOST_CA_BUNDLE"; fi; }

# Runs "build_<what> <hash>" unless the image is current, and says how long it took.
ensure_image() {
  local what="$1" image="$2" hash="$3" started=$SECONDS previous
  is_current "$image" "$hash" && return 0
  previous="$(docker image inspect --format '{{ .Id }}' "$image" 2>/dev/null || true)"
  log "building $image (inputs $hash)"
  "build_$what" "$hash"
  log "built $image in $((SECONDS - started)) s"
  # Newest first, so images built on an older one are removed before it.
  if [[ -n "$previous" && "$previous" != "$(image_id "$image")" ]]; then
    REPLACED_IMAGES=("$previous" "${REPLACED_IMAGES[@]}")
  fi
}

# The images a rebuild untagged (about 1 GB for all three): nothing uses them any more, unless
# an app image was built on them, in which case they stay.
REPLACED_IMAGES=()
remove_replaced_images() {
  local id
  for id in "${REPLACED_IMAGES[@]}"; do
    if docker image rm "$id" >/dev/null 2>&1; then
      log "removed the replaced image ${id#sha256:}"
    else
      log "kept the replaced image ${id#sha256:}: something still uses it"
    fi
  done
}

main() {
  local started=$SECONDS debian_hash deno_hash zookeeper_hash
  command -v docker >/dev/null || die "Cannot build the stand-ins: docker is not installed"
  docker info >/dev/null 2>&1 || die "Cannot build the stand-ins: no Docker engine answers (see docker/ci_engine.sh)"
  mkdir -p "$CACHE_DIR"

  debian_hash="$({ echo "$DEBIAN_SUITE"; declare -f build_debian; } | sha256_of_stdin)"
  if ! is_current "$DEBIAN_IMAGE" "$debian_hash"; then
    [[ "$(id -u)" == 0 ]] || die "Cannot build $DEBIAN_IMAGE: debootstrap needs root"
    command -v debootstrap >/dev/null || die "Cannot build $DEBIAN_IMAGE: debootstrap is not installed"
    ensure_image debian "$DEBIAN_IMAGE" "$debian_hash"
  fi

  deno_hash="$({ image_id "$DEBIAN_IMAGE"; echo "$DENO_VERSION"; cat "$DOCKER_DIR/deno/Dockerfile"; declare -f build_deno; ca_bundle; } | sha256_of_stdin)"
  if ! is_current "$DENO_IMAGE" "$deno_hash"; then
    command -v npm >/dev/null || die "Cannot build $DENO_IMAGE: npm is not installed"
    ensure_image deno "$DENO_IMAGE" "$deno_hash"
  fi

  zookeeper_hash="$({ image_id "$DEBIAN_IMAGE"; declare -f build_zookeeper; cd "$DOCKER_DIR/zookeeper" && find . -type f -print0 | sort -z | xargs -0 sha256sum; } | sha256_of_stdin)"
  ensure_image zookeeper "$ZOOKEEPER_IMAGE" "$zookeeper_hash"

  remove_replaced_images
  log "stand-ins ready in $((SECONDS - started)) s: DENO_IMAGE=$DENO_IMAGE ZOOKEEPER_IMAGE=$ZOOKEEPER_IMAGE"
}

main "$@"
