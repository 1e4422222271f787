#!/bin/sh
# Build time, as root, in the final stage: no package manager or compiler stays in the image, and
# the user the server runs as (mlmodel, uid/gid 10001, no login, no home) exists.
# The dpkg database (/var/lib/dpkg) stays, so image scanners still see the installed packages.
set -eu
rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/lib/node_modules/yarn /usr/local/lib/node_modules/pnpm /opt/yarn-v*
tools="npm npx corepack yarn yarnpkg pnpm pnpx
apt apt-get apt-cache apt-cdrom apt-config apt-extracttemplates apt-ftparchive apt-key apt-mark apt-sortpkgs aptitude
dpkg dpkg-deb dpkg-divert dpkg-maintscript-helper dpkg-query dpkg-realpath dpkg-split dpkg-statoverride dpkg-trigger dpkg-reconfigure dpkg-preconfigure
pip pip3 pipx easy_install uv uvx conda mamba micromamba
gcc g++ cc c++ cpp clang clang++ gfortran tcc ld ld.bfd ld.gold as make cmake"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$d" ] || continue
  for t in $tools; do rm -f "$d/$t"; done
  rm -f "$d"/pip3.* "$d"/easy_install-* "$d"/gcc-* "$d"/g++-* "$d"/cpp-* "$d"/*-linux-gnu-gcc* "$d"/*-linux-gnu-g++* "$d"/*-linux-gnu-cpp*
done
rm -rf /usr/lib/apt /var/lib/apt /var/cache/apt /usr/share/python-wheels
for d in /usr/lib/python3* /usr/local/lib/python3*; do
  [ -d "$d" ] || continue
  find "$d" -maxdepth 3 \( -name pip -o -name 'pip-*.dist-info' -o -name 'pip-*.egg-info' -o -name ensurepip \) -prune -exec rm -rf {} +
done
grep -q '^mlmodel:' /etc/group || echo 'mlmodel:x:10001:' >>/etc/group
grep -q '^mlmodel:' /etc/passwd || echo 'mlmodel:x:10001:10001:mlmodel:/nonexistent:/usr/sbin/nologin' >>/etc/passwd
