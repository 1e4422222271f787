#!/usr/bin/env bash
# A real image registry for the push tests (run as root on Debian; idempotent): Debian's
# docker-registry (distribution 2.8) with htpasswd auth on 127.0.0.1:5001, standing in for ECR and
# ACR. Two users, as those clouds log in: `AWS` (ECR's authorization token is AWS:<password>) and
# `00000000-0000-0000-0000-000000000000` (ACR's user for a refresh token from the AAD exchange).
# Their passwords are made once at random and written with the address to
# $MLMODEL_REGISTRY_DIR/credentials.json (default /var/lib/mlmodel-registry), which the tests read.
# dockerd treats 127.0.0.0/8 as an insecure registry, so plain HTTP needs no daemon change.
# Prints one line saying which registry answers. Its log is $MLMODEL_REGISTRY_DIR/registry.log.
set -euo pipefail

dir=${MLMODEL_REGISTRY_DIR:-/var/lib/mlmodel-registry}
addr=127.0.0.1:5001
mkdir -p "$dir/storage"

need_apt=()
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
# curl asks the registry whether it answers (below)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

users=(AWS 00000000-0000-0000-0000-000000000000)
if [ ! -s "$dir/credentials.json" ] || [ ! -s "$dir/htpasswd" ]; then
  rm -f "$dir/htpasswd.new"
  json="{\"address\":\"$addr\",\"users\":["
  sep=''
  for u in "${users[@]}"; do
    pw=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 32)
    htpasswd -Bbn "$u" "$pw" | sed '/^$/d' >>"$dir/htpasswd.new"
    json+="$sep{\"username\":\"$u\",\"password\":\"$pw\"}"
    sep=','
  done
  json+=']}'
  # both files change together: a registry already running reads htpasswd on each request
  (umask 077 && printf '%s\n' "$json" >"$dir/credentials.json.new")
  mv "$dir/htpasswd.new" "$dir/htpasswd"
  mv "$dir/credentials.json.new" "$dir/credentials.json"
fi

cat >"$dir/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $dir/storage}
  delete: {enabled: true}
http: {addr: $addr}
auth:
  htpasswd: {realm: mlmodel-test-registry, path: $dir/htpasswd}
EOF

answers() {
  # 401 without credentials: a registry with auth is listening
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/v2/" 2>/dev/null || true)
  [ "$code" = 401 ]
}

if answers; then
  echo "registry: docker-registry already answers at $addr (credentials in $dir/credentials.json)"
  exit 0
fi
setsid docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 </dev/null &
pid=$!
for _ in $(seq 1 40); do
  if answers; then
    echo "registry: started docker-registry at $addr (pid $pid, log $dir/registry.log, credentials in $dir/credentials.json)"
    exit 0
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.25
done
echo "registry: docker-registry did not come up at $addr: see $dir/registry.log" >&2
exit 1
