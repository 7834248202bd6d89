#!/usr/bin/env bash
# Every GPU check in one go, on the team's GPU machine (TESTING.md: Python 3.12, CUDA 13 from
# pip, a CPU onnxruntime, no Jupyter, no network). Beforehand, here: run
# ../shared/tools/gpu-runtime-parts and copy each .gpu/partNN to /tmp/parts/ there.
# Then, from the checkout there:  bash tests/gpu/run_on_gpu_machine.sh
# It installs the reassembled onnxruntime-gpu wheel into /tmp/site, then writes the doctor's
# report, the `gpu` tests and the GPU benchmark figures under $OUT (default ./gpu-out).
set -uo pipefail
out="${OUT:-gpu-out}"
mkdir -p "$out"
wheel="/tmp/$(cat .gpu/WHEEL_NAME)"
cat /tmp/parts/part* > "$wheel"
python3 -m pip install -q --no-deps --no-index --target /tmp/site "$wheel" || exit 1
export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$out/gpu.txt"
python3 -m workbench doctor | tee "$out/doctor.txt"
python3 -m workbench doctor --json > "$out/doctor.json"
timeout 180 python3 -m pytest -m gpu -p no:cacheprovider -rA -q tests/gpu 2>&1 | tee "$out/gpu-tests.txt"
timeout 240 python3 tests/perf/bench_gpu.py --out "$out" 2>&1 | tee "$out/bench-gpu.txt"
