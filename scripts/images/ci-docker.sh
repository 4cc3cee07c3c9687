#!/usr/bin/env bash
# CI: makes sure a Docker engine runs, with what `make images` and the docker tests use
# (debootstrap, docker-compose, systemd-analyze), all from Debian's packages. Prints
# "docker: up" on stdout when the engine answers, "docker: unavailable (<why>)" when it cannot run.
set -uo pipefail
say() { printf '[ci-docker] %s\n' "$*" >&2; }
apt_install() {
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null || { say "cannot install $* (not root, or no apt-get)"; return 1; }
  [[ -n ${_apt_updated:-} ]] || { apt-get update -qq >&2 && _apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

if ! docker info >/dev/null 2>&1; then
  if ! command -v dockerd >/dev/null; then
    say "installing the Docker engine (docker.io)"
    apt_install docker.io iptables || { echo "docker: unavailable (docker.io cannot be installed)"; exit 0; }
  fi
  say "starting dockerd (log: /tmp/dockerd.log)"
  (dockerd >/tmp/dockerd.log 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker: unavailable (dockerd did not start: $(tail -n 3 /tmp/dockerd.log 2>/dev/null | tr '\n' ' '))"
  exit 0
fi
command -v debootstrap >/dev/null || apt_install debootstrap || say "no debootstrap: make images needs a registry for its bases"
docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || apt_install docker-compose || say "no docker-compose: the compose test will fail"
# systemd-analyze for the unit's test; the package is inert where systemd is not PID 1.
command -v systemd-analyze >/dev/null || apt_install systemd || say "no systemd-analyze: the unit test is skipped"
echo "docker: up"
