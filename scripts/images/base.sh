#!/usr/bin/env bash
# Builds the offline base images with no container registry, from Debian's own packages
# (debootstrap) and this machine's node binary (docs/docker.md, "The bases"):
#
#   baetyl-core:bookworm        glibc, libstdc++, libgcc and tzdata from Debian 12, /etc/passwd,
#                               group and nsswitch.conf, /tmp. No shell, no apt, no dpkg, no docs.
#   baetyl-base:bookworm        core + node (NODE_BIN, default the node on PATH, stripped of its
#                               debugging symbols), for every Node service and the master.
#   baetyl-python:bookworm      core + Debian 12's python3 (3.11) and the libraries it links.
#   baetyl-python:bullseye-2.7  core + Debian 11's python2.7 (bookworm has none) and its libraries.
#
#   scripts/images/base.sh [node] [python3] [python2.7]      (default: all three)
#
# Each layer holds only the files of the Debian packages it names and their dependencies
# (scripts/images/rootfs.mjs), copied out of a debootstrap tree kept in BAETYL_ROOTFS_CACHE
# (default /var/cache/baetyl-rootfs; made once, a few minutes each, from DEBIAN_MIRROR). The python
# images sit on the same core layer as the node ones, so a device stores it once.
# An image is rebuilt when it is missing or was made by another version of these scripts
# (FORCE=1 rebuilds anyway). Needs root (debootstrap), debootstrap, docker and node.
set -euo pipefail
cd "$(dirname "$0")/../.."

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${BAETYL_ROOTFS_CACHE:-/var/cache/baetyl-rootfs}
node_bin=${NODE_BIN:-$(command -v node)}
wanted=${*:-node python3 python2.7}
# Images made by other versions of these scripts are rebuilt.
recipe=$(cat scripts/images/base.sh scripts/images/rootfs.mjs | sha256sum | cut -c1-16)
# The core's packages. Their dependencies come along (gcc-12-base: no files but its docs).
# tzdata for python's local times under a TZ variable (node has its own, in ICU); UTC without one.
core_packages=libc6,libstdc++6,tzdata
# Maintainer-script tools and what only they pull in: nothing at run time needs them.
not_needed=dpkg,debconf,perl-base,mailcap,tar

say() { printf '[base] %s\n' "$*" >&2; }
current() { [[ -z ${FORCE:-} && $(docker image inspect -f '{{index .Config.Labels "org.baetyl.base.recipe"}}' "$1" 2>/dev/null) == "$recipe" ]]; }

# A debootstrap tree of <suite> with <packages>, kept in the cache and reused while complete.
tree() {
  local suite=$1 packages=$2
  local dir="$cache/$suite-${packages//,/-}"
  if [[ ! -f $dir/.baetyl-complete ]]; then
    command -v debootstrap >/dev/null || { say "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }
    [[ $(id -u) == 0 ]] || { say "debootstrap needs root: run as root (sudo make images)"; exit 1; }
    rm -rf "$dir"
    mkdir -p "$cache"
    local log="$dir.log"
    say "debootstrap $suite (+ $packages) into $dir from $mirror; this takes a few minutes (log: $log)"
    # Progress: debootstrap's own I: lines, one per step.
    debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" 2>&1 | tee "$log" | grep --line-buffered '^I: ' | sed -u 's/^/[base] /' >&2
    [[ ${PIPESTATUS[0]} == 0 ]] || { say "debootstrap failed, see $log"; exit 1; }
    touch "$dir/.baetyl-complete"
  fi
  printf '%s' "$dir"
}

staging=$(mktemp -d "${TMPDIR:-/tmp}/baetyl-base.XXXXXX")
trap 'rm -rf "$staging"' EXIT
bookworm=$(tree bookworm python3)

# The core, imported as the one layer every image starts from.
node scripts/images/rootfs.mjs "$bookworm" "$staging/core" "$core_packages" --without "$not_needed" --list "$staging/core.list" \
  --files etc/passwd,etc/group,etc/nsswitch.conf | sed 's/^/[base] core: /' >&2
if ! current baetyl-core:bookworm; then
  mkdir -p -m 1777 "$staging/core/tmp"
  tar -C "$staging/core" -cf - . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change "LABEL org.baetyl.base.recipe=$recipe org.baetyl.base.suite=bookworm org.baetyl.base.packages=$core_packages" \
    --message "baetyl-core: $core_packages from Debian bookworm" - baetyl-core:bookworm >/dev/null
  say "baetyl-core:bookworm built"
fi

# One layer on the core: the files under $staging/<name>, copied to /.
layer() {
  local image=$1 name=$2 labels=$3
  cat >"$staging/Dockerfile.$name" <<DOCKERFILE
FROM baetyl-core:bookworm
COPY $name/ /
LABEL org.baetyl.base.recipe="$recipe" $labels
DOCKERFILE
  docker build -q -f "$staging/Dockerfile.$name" -t "$image" "$staging" >/dev/null
  say "$image built: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
}

for want in $wanted; do
  case $want in
    node)
      current baetyl-base:bookworm && { say "baetyl-base:bookworm is current"; continue; }
      [[ -x $node_bin ]] || { say "no node binary at '$node_bin': set NODE_BIN"; exit 1; }
      mkdir -p "$staging/node/usr/local/bin"
      # Its debugging symbols are a seventh of it; stack traces of JavaScript do not need them.
      if command -v strip >/dev/null; then strip -o "$staging/node/usr/local/bin/node" "$node_bin"; else cp "$node_bin" "$staging/node/usr/local/bin/node"; say "no strip (binutils): node goes in whole"; fi
      layer baetyl-base:bookworm node "org.baetyl.base.node=$("$node_bin" --version)"
      ;;
    python3)
      current baetyl-python:bookworm && { say "baetyl-python:bookworm is current"; continue; }
      node scripts/images/rootfs.mjs "$bookworm" "$staging/python3" python3 --below "$staging/core.list" --without "$not_needed" | sed 's/^/[base] python3: /' >&2
      layer baetyl-python:bookworm python3 "org.baetyl.base.python=3.11 org.baetyl.base.suite=bookworm"
      ;;
    python2.7)
      current baetyl-python:bullseye-2.7 && { say "baetyl-python:bullseye-2.7 is current"; continue; }
      # Debian 11's python2.7 on Debian 12's glibc, which runs what older glibc versions built.
      bullseye=$(tree bullseye python2.7)
      node scripts/images/rootfs.mjs "$bullseye" "$staging/python2.7" python2.7 --below "$staging/core.list" --without "$not_needed" | sed 's/^/[base] python2.7: /' >&2
      layer baetyl-python:bullseye-2.7 python2.7 "org.baetyl.base.python=2.7 org.baetyl.base.suite=bullseye"
      ;;
    *) say "unknown base '$want': node, python3 or python2.7"; exit 1 ;;
  esac
done
