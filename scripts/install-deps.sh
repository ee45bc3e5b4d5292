#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Safe to run again:
# it only calls apt-get when something is missing.
set -euo pipefail

packages=(g++ cmake ninja-build pkg-config libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev libcgal-dev libgmp-dev libmpfr-dev libeigen3-dev libcli11-dev libcairo2-dev libcpp-httplib-dev chromium-headless-shell python3-minimal libboost-math-dev libopenmpi-dev openmpi-bin slurm-wlm slurmctld slurmd slurm-client munge
          pybind11-dev python3-dev python3-venv python3-pip python3-setuptools python3-wheel python3-numpy python3-cloudpickle python3-pytest python3-pytest-timeout python3-pandas python3-matplotlib
          python3-ipykernel python3-nbclient python3-nbformat)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
