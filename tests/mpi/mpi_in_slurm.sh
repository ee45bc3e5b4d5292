#!/usr/bin/env bash
# The cluster recipe of docs/clusters.md: sbatch one job that runs mpirun, so
# the MPI master gets its worker ranks inside a single SLURM allocation.
#   mpi_in_slurm.sh MPI_RUN_BINARY WORK_DIR
set -euo pipefail
mpi_run=$1
dir=$2
if ! sinfo -h >/dev/null 2>&1; then
  [ -n "${TASKMASTER_REQUIRE_SLURM:-}" ] && { echo "no SLURM cluster answers" >&2; exit 1; }
  echo "no SLURM cluster: skipped (scripts/slurm-cluster.sh start DIR; export SLURM_CONF)"
  exit 77
fi
rm -rf "$dir" && mkdir -p "$dir"
sbatch --wait --ntasks=3 --output="$dir/job.log" \
  --wrap "mpirun -np 3 --oversubscribe $mpi_run learn $dir/history.jsonl"
cat "$dir/job.log"
grep -q "replay identical: yes" "$dir/job.log"
