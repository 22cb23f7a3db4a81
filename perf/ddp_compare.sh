#!/usr/bin/env bash
# Ember DDP over Open MPI against PyTorch 1.13 DDP over gloo, 2 processes with 1 thread each, in one run.
#   perf/ddp_compare.sh [rounds]   (needs openmpi-bin, python3-torch; builds perf/DistributedPerf)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
dotnet build perf/DistributedPerf -c Release -v q >/dev/null
dll=perf/DistributedPerf/bin/Release/net10.0/DistributedPerf.dll
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 EMBER_NUM_THREADS=1 OMP_NUM_THREADS=1 THREADS=1
for r in $(seq "$rounds"); do
  echo "# round $r"
  mpirun --oversubscribe -np 2 dotnet "$dll" mlp 30
  mpirun --oversubscribe -np 2 dotnet "$dll" mlp-plain 30
  /usr/bin/python3 perf/ddp_gloo.py mlp 30
done
mpirun --oversubscribe -np 2 dotnet "$dll" allreduce 1 4 16 64 256
/usr/bin/python3 perf/ddp_gloo.py allreduce 1 4 16 64 256
