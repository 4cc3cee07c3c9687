#!/usr/bin/env bash
# Installs Baetyl in docker mode under /usr/local, run by systemd (docs/docker.md):
#
#   sudo deploy/systemd/install.sh [--images baetyl-images.tar[.gz]] [--example] [--no-enable]
#
#   /usr/local/bin/baetyl                       the command (runs the master in its container)
#   /etc/systemd/system/baetyl.service          `sudo systemctl start baetyl`
#   /usr/local/etc/baetyl/conf.yml              the master's configuration (mode: docker)
#   /usr/local/var/db/baetyl/application.yml    the application (--example: the tutorial's)
#   /usr/local/var/log/baetyl/baetyl.log        the master's log
#   /usr/local/share/baetyl/schemas/            the config files' JSON Schemas, for editors (docs/editors.md)
#
# The host needs only the Docker engine; the images come from `make images` on this machine or
# from a tarball made elsewhere with scripts/images/save.sh (--images). Existing configuration is
# never overwritten. PREFIX changes /usr/local; DESTDIR installs into a staging root (no systemctl).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
UNIT_DIR=${UNIT_DIR:-/etc/systemd/system}
images="" example=0 enable=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --images) images=${2:?--images needs a file}; shift 2 ;;
    --example) example=1; shift ;;
    --no-enable) enable=0; shift ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
say() { printf '[install] %s\n' "$*" >&2; }
root=$DESTDIR

if [[ -z $DESTDIR ]]; then
  [[ $(id -u) == 0 ]] || { say "run as root (sudo $0)"; exit 1; }
  docker info >/dev/null 2>&1 || { say "the Docker engine is not running: install it (apt-get install docker.io) and start it (systemctl start docker)"; exit 1; }
  if [[ -n $images ]]; then
    say "loading images from $images"
    docker load -i "$images"
  fi
  missing=""
  for i in master hub function-manager remote-mqtt timer function-python27 function-python36 function-node85 function-sql; do
    docker image inspect "baetyl-$i:latest" >/dev/null 2>&1 || missing="$missing baetyl-$i"
  done
  if [[ -n $missing ]]; then
    say "images missing:$missing: build them with \`make images\`, or load a tarball: $0 --images baetyl-images.tar.gz"
    exit 1
  fi
  # Baetyl v1's names for them, as `make images` tags them (v1.0's native names of the runtimes too).
  declare -A v1_0_name=([function-python27]=function-python2 [function-python36]=function-python3 [function-node85]=function-node8)
  for i in hub function-manager remote-mqtt timer function-python27 function-python36 function-node85 function-sql master; do
    docker tag "baetyl-$i:latest" "hub.baidubce.com/baetyl/baetyl-$i:latest"
    if [[ -n ${v1_0_name[$i]:-} ]]; then
      docker tag "baetyl-$i:latest" "baetyl-${v1_0_name[$i]}:latest"
      docker tag "baetyl-$i:latest" "hub.baidubce.com/baetyl/baetyl-${v1_0_name[$i]}:latest"
    fi
  done
fi

say "installing into ${root}${PREFIX}"
install -d "$root$PREFIX/bin" "$root$PREFIX/etc/baetyl" "$root$PREFIX/var/db/baetyl" "$root$PREFIX/var/log/baetyl" "$root$PREFIX/var/run" "$root$PREFIX/share/doc/baetyl" "$root$PREFIX/share/baetyl/schemas" "$root$UNIT_DIR"
sed "s|@PREFIX@|$PREFIX|g" "$here/baetyl" >"$root$PREFIX/bin/baetyl"
chmod 0755 "$root$PREFIX/bin/baetyl"
sed "s|/usr/local|$PREFIX|g" "$here/baetyl.service" >"$root$UNIT_DIR/baetyl.service"
chmod 0644 "$root$UNIT_DIR/baetyl.service"
[[ -f $repo/docs/docker.md ]] && install -m 0644 "$repo/docs/docker.md" "$root$PREFIX/share/doc/baetyl/docker.md"
install -m 0644 "$repo"/schemas/*.schema.json "$root$PREFIX/share/baetyl/schemas/"

# Configuration: the example's files where none exist (conf.yml always, the app with --example).
# An example file's `# yaml-language-server: $schema=` line names the repository's schemas/; here, the installed ones.
copy_new() { # src dst
  if [[ -e $2 ]]; then say "kept existing $2"; return; fi
  install -D -m 0644 "$1" "$2"
  sed -i "1s|^# yaml-language-server: \$schema=.*/schemas/|# yaml-language-server: \$schema=$PREFIX/share/baetyl/schemas/|" "$2"
  say "installed $2"
}
copy_new "$repo/deploy/example/docker/etc/baetyl/conf.yml" "$root$PREFIX/etc/baetyl/conf.yml"
if [[ $example == 1 ]]; then
  (cd "$repo/deploy/example/docker" && find var -type f) | while read -r f; do
    copy_new "$repo/deploy/example/docker/$f" "$root$PREFIX/$f"
  done
fi

if [[ -z $DESTDIR ]] && command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  if [[ $enable == 1 ]]; then systemctl enable baetyl; fi
  say "done: sudo systemctl start baetyl; sudo tail -f $PREFIX/var/log/baetyl/baetyl.log"
else
  say "done (systemd is not running here: start it with $PREFIX/bin/baetyl start)"
fi
