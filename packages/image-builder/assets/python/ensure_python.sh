#!/bin/sh
# Build time, as root: the image's Python. The base image's python3 when it has one; else Debian's
# python3 and python3-venv from the base's apt sources (needs its Debian mirror during the build).
set -eu
if command -v python3 >/dev/null 2>&1; then
  echo "mlmodel: Python from the base image: $(python3 --version 2>&1) at $(command -v python3)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "mlmodel: error: the base image has no python3 and no apt-get to install it: python_function models need a --base-image with Python 3 (and Node 20)" >&2
  exit 3
fi
echo "mlmodel: the base image has no python3: installing Debian's python3 and python3-venv with apt-get"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
rm -rf /var/lib/apt/lists/* /var/cache/apt/*
echo "mlmodel: installed $(python3 --version 2>&1)"
