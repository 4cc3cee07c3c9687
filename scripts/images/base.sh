#!/usr/bin/env bash
# Builds an offline base image with no container registry: a minimal Debian root filesystem made
# with debootstrap from Debian's own packages, plus this machine's node binary (NODE_BIN=none for
# an image without node, like the python runtimes'), imported with `docker import`. Skipped when
# the image already exists (FORCE=1 rebuilds it).
#
#   scripts/images/base.sh <image:tag> <suite> [extra Debian packages, comma separated]
#   e.g. scripts/images/base.sh baetyl-base:bookworm bookworm python3
#
# Needs root (debootstrap), debootstrap, docker, and a Debian mirror (DEBIAN_MIRROR).
# The node binary is NODE_BIN (default: the node on PATH); it must need nothing but glibc and
# libstdc++, as the official Linux builds do, and the suite's glibc must be >= 2.28.
set -euo pipefail

image=${1:?usage: base.sh <image:tag> <suite> [packages]}
suite=${2:?usage: base.sh <image:tag> <suite> [packages]}
packages=${3:-}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${BAETYL_ROOTFS_CACHE:-/var/cache/baetyl-rootfs}
node_bin=${NODE_BIN:-$(command -v node)}

say() { printf '[base %s] %s\n' "$image" "$*" >&2; }

if [[ -z ${FORCE:-} ]] && docker image inspect "$image" >/dev/null 2>&1; then
  say "exists, skipped (FORCE=1 rebuilds it)"
  exit 0
fi
command -v debootstrap >/dev/null || { say "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }
[[ $(id -u) == 0 ]] || { say "debootstrap needs root: run as root (sudo make images)"; exit 1; }
[[ $node_bin == none || -x $node_bin ]] || { say "no node binary at '$node_bin': set NODE_BIN"; exit 1; }

# One root filesystem per suite and package set, kept in the cache and reused while it is complete.
rootfs="$cache/$suite${packages:+-${packages//,/-}}"
if [[ ! -f $rootfs/.baetyl-complete ]]; then
  rm -rf "$rootfs"
  mkdir -p "$cache"
  log="$cache/$(basename "$rootfs").log"
  say "debootstrap $suite ${packages:+(+ $packages) }into $rootfs from $mirror; this takes a few minutes (log: $log)"
  # Progress: debootstrap's own I: lines, one per step.
  debootstrap --variant=minbase ${packages:+--include="$packages"} "$suite" "$rootfs" "$mirror" 2>&1 | tee "$log" | grep --line-buffered '^I: ' | sed -u "s/^/[base $image] /" >&2
  [[ ${PIPESTATUS[0]} == 0 ]] || { say "debootstrap failed, see $log"; exit 1; }
  touch "$rootfs/.baetyl-complete"
fi

staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/usr/local/bin"
if [[ $node_bin == none ]]; then
  say "importing $rootfs (no node)"
else
  say "importing $rootfs with node $("$node_bin" --version) from $node_bin"
  cp "$node_bin" "$staging/usr/local/bin/node"
fi
# The root filesystem without apt's downloaded packages and lists, then node on top.
{
  tar -C "$rootfs" --exclude=./var/cache/apt/archives/*.deb --exclude=./var/lib/apt/lists/* --exclude=./.baetyl-complete -cf - .
} | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  --message "debootstrap $suite minbase${packages:+ + $packages}" - "$image.rootfs" >/dev/null
# node goes in through a one-line build, so the image records where it came from.
if [[ $node_bin == none ]]; then
  cat >"$staging/Dockerfile" <<DOCKERFILE
FROM $image.rootfs
LABEL org.baetyl.base.suite="$suite" org.baetyl.base.packages="$packages" org.baetyl.base.node="none"
DOCKERFILE
else
  cat >"$staging/Dockerfile" <<DOCKERFILE
FROM $image.rootfs
COPY usr/local/bin/node /usr/local/bin/node
LABEL org.baetyl.base.suite="$suite" org.baetyl.base.packages="$packages" org.baetyl.base.node="$("$node_bin" --version)"
DOCKERFILE
fi
docker build -q -t "$image" "$staging" >/dev/null
docker rmi "$image.rootfs" >/dev/null
say "built: $(docker run --rm "$image" sh -c 'echo "Debian $(cat /etc/debian_version)$(command -v node >/dev/null && echo ", node $(node --version)")$(command -v python3 >/dev/null && echo ", $(python3 --version 2>&1)")$(command -v python2.7 >/dev/null && echo ", $(python2.7 --version 2>&1)")"')"
