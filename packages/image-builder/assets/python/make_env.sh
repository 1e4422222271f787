#!/bin/sh
# Build time, as root: makes /opt/mlmodel/python/bin/python, the interpreter the image serves the
# model with, from the model's requirements (requirements.txt next to this script):
#   local       the base image's python3 as it is; every requirement must be there and import.
#   virtualenv  the same when the base already satisfies every requirement (nothing is installed,
#               no index is needed); else a virtualenv over the base's packages
#               (--system-site-packages) with the missing ones installed by pip, from
#               $PIP_INDEX_URL when set. pip is then removed from the virtualenv.
set -eu
mode=$1
here=$(dirname "$0")
env=/opt/mlmodel/python
py=$(command -v python3)
set --
while IFS= read -r name; do [ -n "$name" ] && set -- "$@" --skip "$name"; done <"$here/skip.txt"
saved=$(cat "$here/python-version.txt")
[ -n "$saved" ] && set -- "$@" --python-version "$saved"
check() { "$py" -u "$here/check_requirements.py" --requirements "$here/requirements.txt" "$@"; }
use_base_python() {
  mkdir -p "$env/bin"
  ln -s "$py" "$env/bin/python"
}

if [ "$mode" = local ]; then
  check --mode local "$@"
  use_base_python
  exit 0
fi
check --mode virtualenv --unsatisfied "$here/unsatisfied.txt" "$@"
if [ ! -s "$here/unsatisfied.txt" ]; then
  use_base_python
  exit 0
fi
if ! "$py" -m venv --system-site-packages "$env" >"$here/venv.log" 2>&1; then
  cat "$here/venv.log" >&2
  echo "mlmodel: error: cannot make a virtualenv with $py (on Debian it needs python3-venv): use a --base-image with venv, or one whose Python already has the requirements" >&2
  exit 3
fi
# build args are empty strings when not given: pip must not see an empty index
for v in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_TRUSTED_HOST; do
  eval "[ -n \"\${$v:-}\" ] || unset $v"
done
constraints=
[ -s "$here/constraints.txt" ] && constraints="-c $here/constraints.txt"
echo "mlmodel: installing into $env: $(tr '\n' ' ' <"$here/unsatisfied.txt")${PIP_INDEX_URL:+(index $PIP_INDEX_URL)}"
# shellcheck disable=SC2086
if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$env/bin/python" -m pip install --no-cache-dir --progress-bar off $constraints -r "$here/unsatisfied.txt"; then
  echo "mlmodel: error: pip could not install the requirements the base image lacks (see pip's messages above): give an index this build can reach (--pip-index-url), or a --base-image whose Python has them" >&2
  exit 3
fi
# no installer in the image: pip goes once the requirements are in
"$env/bin/python" -m pip uninstall -y -q pip >/dev/null 2>&1 || true
rm -rf "$env"/bin/pip* "$env"/lib/python3*/site-packages/pip "$env"/lib/python3*/site-packages/pip-*
