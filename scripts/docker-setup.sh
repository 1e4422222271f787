#!/usr/bin/env bash
# A Docker engine for the container-image tests (run as root on Debian; idempotent):
# - installs Debian's docker.io (dockerd, containerd, runc) and docker-registry when dockerd is missing;
# - starts dockerd when no engine answers at $DOCKER_HOST (default /var/run/docker.sock), then
#   waits until it answers. overlay2 storage when the kernel allows it, else vfs. No iptables or
#   bridge: containers run with --network host (this machine may not allow NAT).
# Prints one line saying which engine answers. The daemon's log is /var/log/mlmodel-dockerd.log.
set -euo pipefail

if docker info >/dev/null 2>&1; then
  echo "docker: engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) already answers"
  exit 0
fi

need_apt=()
command -v dockerd >/dev/null 2>&1 || need_apt+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d on CI images keeps the packages' services from starting: dockerd is started below
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
# the docker client: Debian's when no other is installed
command -v docker >/dev/null 2>&1 || { echo "docker: no docker client after installing docker.io" >&2; exit 1; }

log=/var/log/mlmodel-dockerd.log
start_dockerd() {
  # setsid: the daemon outlives this script and the test command's process group
  setsid dockerd --storage-driver="$1" --iptables=false --ip-masq=false --bridge=none >>"$log" 2>&1 </dev/null &
  echo $!
}
wait_for_engine() {
  local pid=$1
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then return 0; fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

# a daemon that is still starting: wait for it rather than start a second one
if [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  if wait_for_engine "$(cat /var/run/docker.pid)"; then
    echo "docker: dockerd $(docker version --format '{{.Server.Version}}') (pid $(cat /var/run/docker.pid)) now answers"
    exit 0
  fi
  echo "docker: dockerd (pid $(cat /var/run/docker.pid)) runs but does not answer: see $log" >&2
  exit 1
fi
for driver in overlay2 vfs; do
  # what a daemon that died left behind would make the new one refuse to start
  rm -f /var/run/docker.sock /var/run/docker.pid
  pid=$(start_dockerd "$driver")
  if wait_for_engine "$pid"; then
    echo "docker: started dockerd $(docker version --format '{{.Server.Version}}') (storage driver $driver, pid $pid, log $log)"
    exit 0
  fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  echo "docker: dockerd with $driver did not come up (see $log)" >&2
done
echo "docker: could not start dockerd: see $log" >&2
exit 1
