#!/usr/bin/env bash
# `make images`: builds every Baetyl image from images/<name>/Dockerfile, after `make build`.
#
#   baetyl-hub baetyl-function-manager baetyl-remote-mqtt baetyl-timer baetyl-function-python27
#   baetyl-function-python36 baetyl-function-node85 baetyl-function-sql baetyl-master
#
# Each is tagged <name>:latest and, so Baetyl v1 configs find them unchanged, also
# hub.baidubce.com/baetyl/<name>:latest (the names Baetyl v1's docs and examples use).
# The runtimes are also tagged with the names of Baetyl v1.0's native packages (its native
# examples use them), with and without the prefix: function-python27 as baetyl-function-python2, function-python36 as -python3 and
# function-node85 as -node8 (the master maps those names the same way: engine/native/images.ts).
#
# Each image is its base plus its own files: the bundle of its service (scripts/bundle.mjs --images),
# the same layer in the images that run the same files (function-node85 and function-sql).
# Bases: BAETYL_IMAGE_BASES=public uses the Dockerfiles' defaults (node:20-bookworm-slim,
# python:3.6-slim, python:2.7-slim); =offline builds them here from Debian's packages, with only
# what node and python need (scripts/images/base.sh; reused while current); =auto (default) uses
# the public ones when they are present or can be pulled, else the offline ones.
# IMAGES="hub master" builds only those; BAETYL_IMAGES_QUIET=1 hides the builds' step lines.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
REGISTRY_PREFIX=${REGISTRY_PREFIX:-hub.baidubce.com/baetyl/}
all="hub function-manager remote-mqtt timer function-python27 function-python36 function-node85 function-sql master"
images=${IMAGES:-$all}
# Baetyl v1.0's native package names for the same runtimes (the docker image names are the images' own).
declare -A v1_0_name=([function-python27]=function-python2 [function-python36]=function-python3 [function-node85]=function-node8)
say() { printf '[images] %s\n' "$*" >&2; }
# The legacy builder's deprecation notice is noise here.
quiet_build() { docker build "$@" 2> >(grep -v -e 'DEPRECATED: The legacy builder' -e 'Install the buildx' -e 'docs.docker.com/go/buildx' -e '^\s*$' >&2); }

docker info >/dev/null 2>&1 || { say "the Docker engine is not reachable: start dockerd (sudo systemctl start docker)"; exit 1; }
for pkg in hub function-manager remote-mqtt timer runtime master; do
  [[ -f packages/$pkg/dist/src/main.js || $pkg == master ]] || say "warning: packages/$pkg is not built (packages/$pkg/dist/src/main.js missing); its images will not run"
done

# --- bases ---
mode=${BAETYL_IMAGE_BASES:-auto}
have() { docker image inspect "$1" >/dev/null 2>&1; }
if [[ $mode == auto ]]; then
  mode=offline
  if have node:20-bookworm-slim || docker pull -q node:20-bookworm-slim >/dev/null 2>&1; then mode=public; fi
  say "bases: $mode (BAETYL_IMAGE_BASES=public|offline chooses)"
fi
declare -A args
if [[ $mode == offline ]]; then
  # Only the bases the chosen images need; each is skipped while current.
  bases=node
  # The python runtimes' bases carry no node: a python instance is Python only.
  [[ " $images " == *" function-python36 "* ]] && bases+=" python3"
  [[ " $images " == *" function-python27 "* ]] && bases+=" python2.7"
  # shellcheck disable=SC2086
  scripts/images/base.sh $bases
  for i in $all; do args[$i]="--build-arg BASE=baetyl-base:bookworm"; done
  args[function-python36]="--build-arg BASE=baetyl-python:bookworm"
  args[function-python27]="--build-arg BASE=baetyl-python:bullseye-2.7"
else
  for i in $all; do args[$i]=""; done
fi

# --- each image's own files: bundles of the compiled packages (scripts/bundle.mjs) ---
stage=$(mktemp -d "${TMPDIR:-/tmp}/baetyl-images.XXXXXX")
trap 'rm -rf "$stage"' EXIT
node scripts/bundle.mjs --images "$stage"
say "bundles made in $stage: $(cd "$stage" && du -sh -- * | awk '{printf "%s %s  ", $2, $1}')"

# --- the images ---
n=0
total=$(wc -w <<<"$images")
for i in $images; do
  n=$((n + 1))
  name=baetyl-$i
  [[ -f images/$i/Dockerfile ]] || { say "no images/$i/Dockerfile"; exit 1; }
  say "($n/$total) building $name:latest"
  start=$SECONDS
  # shellcheck disable=SC2086
  if [[ -n ${BAETYL_IMAGES_QUIET:-} ]]; then
    quiet_build -q ${args[$i]} -f "images/$i/Dockerfile" -t "$name:latest" "$stage" >/dev/null
  else
    quiet_build ${args[$i]} -f "images/$i/Dockerfile" -t "$name:latest" "$stage" | sed -u "s/^/[images] ($n\/$total) /" >&2
  fi
  tags=("${REGISTRY_PREFIX}$name:latest")
  if [[ -n ${v1_0_name[$i]:-} ]]; then
    tags+=("baetyl-${v1_0_name[$i]}:latest" "${REGISTRY_PREFIX}baetyl-${v1_0_name[$i]}:latest")
  fi
  for tag in "${tags[@]}"; do docker tag "$name:latest" "$tag"; done
  # The image this build replaced, now untagged.
  docker image prune -f --filter "label=org.opencontainers.image.title=$name" >/dev/null
  say "($n/$total) $name:latest (also ${tags[*]}) built in $((SECONDS - start))s"
done
say "done: $(docker images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^baetyl-(hub|function|remote-mqtt|timer|master)' | tr '\n' ' ')"
