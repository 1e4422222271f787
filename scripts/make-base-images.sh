#!/usr/bin/env bash
# Local base images for `mlmodel build-docker --base-image`, made without any container registry
# (root, Debian; idempotent: an image that `docker image inspect` finds is kept):
#
#   mlmodel-local/node:20-bookworm-slim
#       Debian bookworm minbase (debootstrap from this machine's apt mirror) plus this machine's
#       Node 20 binary, npm and corepack under /usr/local, as in the official node:20-bookworm-slim
#       (user node, uid 1000). Imported with `docker import`.
#   mlmodel-local/node-python:20-bookworm-sklearn
#       The image above plus Debian's python3 with scikit-learn, pandas, venv and the other
#       packages scikit-learn models saved by MLflow pin (cloudpickle, lz4, PyYAML, packaging,
#       typing-extensions: bookworm has the very versions MLflow 3.5 wrote for the fixtures). No
#       compilers: the -dev packages and gcc that python3-scipy pulls in through pythran are
#       purged. python_function models whose requirements these packages satisfy build against it
#       with no Python package index at all.
#
# Air-gapped sites: point MLMODEL_DEBIAN_MIRROR at a local Debian mirror (or run on a machine
# whose apt source is one), and set MLMODEL_PYTHON_PACKAGES to the Debian packages your models
# need. Each image is made only when missing; `--force` remakes both.
set -euo pipefail

NODE_IMAGE=${MLMODEL_NODE_BASE_IMAGE:-mlmodel-local/node:20-bookworm-slim}
PYTHON_IMAGE=${MLMODEL_PYTHON_BASE_IMAGE:-mlmodel-local/node-python:20-bookworm-sklearn}
PYTHON_PACKAGES=${MLMODEL_PYTHON_PACKAGES:-python3 python3-venv python3-sklearn python3-pandas python3-cloudpickle python3-lz4 python3-yaml python3-packaging python3-typing-extensions}
SUITE=bookworm
force=false
[ "${1:-}" = "--force" ] && force=true

have_image() { ! $force && docker image inspect "$1" >/dev/null 2>&1; }
if have_image "$NODE_IMAGE" && have_image "$PYTHON_IMAGE"; then
  echo "base images: $NODE_IMAGE and $PYTHON_IMAGE already present"
  exit 0
fi

# The Debian mirror: $MLMODEL_DEBIAN_MIRROR, else the first Debian URI of this machine's apt sources.
mirror=${MLMODEL_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources |
    grep -oE '(https?|file)://[^ ]*/debian/?' | grep -v security | head -n1 || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}

node_bin=$(command -v node)
node_version=$("$node_bin" --version)
case "$node_version" in
  v20.*) ;;
  *) echo "base images: need Node 20 on this machine to copy into the image (found $node_version at $node_bin)" >&2; exit 1 ;;
esac
npm_dir=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")")

started=$(date +%s)
if ! have_image "$NODE_IMAGE"; then
  command -v debootstrap >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
  work=$(mktemp -d /var/tmp/mlmodel-rootfs.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  rootfs=$work/rootfs
  echo "base images: debootstrap $SUITE (minbase) from $mirror"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    exit 1
  }
  # what debian:bookworm-slim leaves out: package lists and caches, docs, man pages, locales
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
  find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  rm -f "$rootfs"/var/log/*.log "$rootfs"/var/cache/ldconfig/aux-cache
  # Node as the official image installs it: /usr/local/bin/node, npm and corepack in /usr/local/lib/node_modules
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir/npm" "$rootfs/usr/local/lib/node_modules/npm"
  [ -d "$npm_dir/corepack" ] && cp -a "$npm_dir/corepack" "$rootfs/usr/local/lib/node_modules/corepack"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  [ -d "$npm_dir/corepack" ] && ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"
  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=${node_version#v}" \
    --change 'CMD ["node"]' \
    --message "mlmodel local base: Debian $SUITE minbase from $mirror + Node $node_version" \
    - "$NODE_IMAGE" >/dev/null
  rm -rf "$work"
  trap - EXIT
  echo "base images: imported $NODE_IMAGE ($(docker image inspect --format '{{.Size}}' "$NODE_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
fi

if ! have_image "$PYTHON_IMAGE"; then
  ctx=$(mktemp -d /var/tmp/mlmodel-python-base.XXXXXX)
  trap 'rm -rf "$ctx"' EXIT
  # Debian's python3-scipy pulls in pythran, gcc and the -dev packages: purged (forced) so that no
  # compiler is in the base; nothing imports them at run time.
  cat >"$ctx/Dockerfile" <<EOF
FROM $NODE_IMAGE
RUN echo "deb $mirror $SUITE main" > /etc/apt/sources.list \\
 && apt-get update -qq \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PYTHON_PACKAGES >/dev/null \\
 && compilers=\$(dpkg-query -W -f '\${Package}\n' | grep -E '^(gcc|g\+\+|cpp|binutils|libgcc-[0-9]+-dev|libstdc\+\+-[0-9]+-dev|python3-pythran|libxsimd-dev|libboost.*-dev|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt-dev|libnsl-dev|libtirpc-dev|libexpat1-dev|zlib1g-dev|libopenblas.*-dev|libpython3.*-dev|python3.*-dev|python3-all-dev|libpython3-all-dev)' || true) \\
 && if [ -n "\$compilers" ]; then dpkg --purge --force-depends \$compilers >/dev/null; fi \\
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/* \\
 && python3 -c 'import sklearn, pandas, ensurepip' \\
 && ! command -v gcc && ! command -v cc
EOF
  echo "base images: building $PYTHON_IMAGE ($PYTHON_PACKAGES from $mirror)"
  # the classic builder (a newer docker client warns that it is deprecated: shown only on failure)
  DOCKER_BUILDKIT=0 docker build -q --network host -t "$PYTHON_IMAGE" "$ctx" >/dev/null 2>"$ctx/build.log" || {
    cat "$ctx/build.log" >&2
    exit 1
  }
  rm -rf "$ctx"
  trap - EXIT
  echo "base images: built $PYTHON_IMAGE ($(docker image inspect --format '{{.Size}}' "$PYTHON_IMAGE" | awk '{printf "%.0f MB", $1/1e6}'))"
fi
echo "base images: done in $(($(date +%s) - started)) s"
