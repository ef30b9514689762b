#!/usr/bin/env bash
# Runs distributed_abort_probe on 2 ranks and checks that the job ends (no
# hang), fails, and prints the expected message.
#
#   distributed_abort.sh MPIEXEC PROBE MODE MESSAGE
set -u
mpiexec=$1 probe=$2 mode=$3 message=$4

start=$SECONDS
output=$(timeout 60 "$mpiexec" -n 2 --oversubscribe "$probe" "$mode" 2>&1)
status=$?
echo "$output"
echo "exit status $status after $((SECONDS - start)) s"
if ((status == 124)); then
  echo "FAIL: the job hung (killed after 60 s)"
  exit 1
fi
if ((status == 0)); then
  echo "FAIL: the job succeeded; rank 1's failure should have aborted it"
  exit 1
fi
if ! grep -qF -- "$message" <<<"$output"; then
  echo "FAIL: the output lacks '$message'"
  exit 1
fi
