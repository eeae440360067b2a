#!/usr/bin/env bash
# Installs what Strata needs on a fresh Debian machine, idempotently: Debian packages with
# apt-get, then the npm dependencies (including the pinned Node.js LTS binary).
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-system-x86 runs instances; netcat-openbsd carries the metadata service into the guest;
# fdisk/dosfstools/mtools/syslinux/busybox-static/e2fsprogs assemble the base image unprivileged;
# libnbd-bin and openssh-client are what the tests check the NBD server and the guests with;
# packer (1.6.6, amazon-ebs builder built in) is the golden-image client test/packer.test.ts drives;
# iproute2, nftables, dnsmasq-base build the VPC data plane (src/network), socat and iperf3 are what
# its tests and benchmarks drive traffic with.
debian_packages=(zstd awscli python3-botocore qemu-utils qemu-system-x86 netcat-openbsd fdisk dosfstools
  mtools syslinux syslinux-common busybox-static e2fsprogs libnbd-bin openssh-client openssl putty-tools
  packer iproute2 nftables dnsmasq-base socat iperf3)
# `--test`: what only the test suite and the benchmarks need: Debian's Chromium, which the console's end-to-end tests
# drive headless through playwright-core (no browser download: only Debian and npm are reachable);
# a throw-away Ceph RGW (../shared/tools/ceph-rgw, started by test/servers/rgw.ts) as the real
# S3-compatible object store the pack store is tested against (uuidgen and curl used by its script);
# PostgreSQL 15, which the metadata contract tests start private clusters of (test/servers/postgres.ts);
# restic and borgbackup, the reference backup tools `npm run bench` compares snapshots and restores with.
[ "${1:-}" = "--test" ] && debian_packages+=(chromium ceph-mon ceph-osd radosgw ceph-common uuid-runtime curl postgresql restic borgbackup)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Install exactly the committed lock (`npm ci`, which never rewrites it, so a fresh clone stays
# clean), and only when package-lock.json changed since the last install.
stamp=node_modules/.strata-installed
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/node/bin/node ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# The web console (src/console) built into dist/console, which the daemon serves at /console/.
bin/node scripts/build-console.ts
echo "setup: ready ($(bin/node --version))"
