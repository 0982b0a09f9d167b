#!/usr/bin/env bash
# Cross-check of the two capture backends on a GPU machine (torch + transformers + h5py, no network needed).
#
#   traces/capture/device_check.sh [MODEL_DIR]        (run from anywhere; OUT=dir keeps traces and the log)
#
# 1. Captures the same text (this repository's analysis/*.py then traces/capture/*.py, 1984 prompt bytes +
#    64 teacher-forced steps, and the queries of the last 256 prompt positions) with the self-contained torch
#    backend and with transformers, both in float32 on the GPU, stored as float32.
# 2. Checks each trace: every attention output recomputed from its own Q/K/V (float64) within 1e-3.
# 3. Compares the two traces dataset by dataset (prompt queries included): max |a - b| / max |b| per
#    (layer, head) within 1e-3.
# 4. Re-captures the shipped traces/data/tinylm-code-8l-4k.h5 (same tokens and prompt query positions,
#    float16) with transformers and
#    compares it with the shipped file (float16 rounding: within 5e-3), then verifies the re-capture.
# 5. Greedy decoding, 32 steps, with both backends: reports whether the generated tokens agree.
# Exits non-zero if a check of steps 2-4 fails. MODEL_DIR defaults to $HGCA_TINYLM_DIR, then
# shared/models/tinylm-code-8l, ../shared/models/tinylm-code-8l and models/tinylm-code-8l.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

work="${OUT:-}"
if [[ -z "$work" ]]; then work="$(mktemp -d)"; fi
mkdir -p "$work"
log="$work/device_check.log"
exec > >(tee "$log") 2>&1

# A Python that imports torch, transformers and h5py: $HGCA_PYTHON, python3 on PATH, /usr/bin/python3.
python=""
for candidate in "${HGCA_PYTHON:-}" "$(command -v python3 || true)" /usr/bin/python3; do
  [[ -n "$candidate" && -x "$candidate" ]] || continue
  if "$candidate" -c 'import torch, transformers, h5py, numpy' 2>/dev/null; then python="$candidate"; break; fi
done
if [[ -z "$python" ]]; then
  echo "device_check: no python3 imports torch, transformers, h5py and numpy (set HGCA_PYTHON)"
  exit 2
fi

model="${1:-${HGCA_TINYLM_DIR:-}}"
if [[ -z "$model" ]]; then
  for candidate in shared/models/tinylm-code-8l ../shared/models/tinylm-code-8l models/tinylm-code-8l; do
    if [[ -f "$candidate/model.safetensors" ]]; then model="$candidate"; break; fi
  done
fi
if [[ -z "$model" || ! -f "$model/config.json" ]]; then
  echo "device_check: model directory not found (give it as the first argument or in HGCA_TINYLM_DIR)"
  exit 2
fi

device=cpu
if "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then device=cuda; fi
echo "== device_check $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
echo "python $python; model $model; device $device; work dir $work"
"$python" -c 'import torch, transformers, h5py; print("torch", torch.__version__, "| transformers",
  transformers.__version__, "| h5py", h5py.__version__, "| cuda", torch.version.cuda,
  "|", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU")'
[[ "$device" == cuda ]] || echo "note: no GPU visible, running on the CPU"

failed=0
step() {  # step NAME COMMAND...: runs, reports, remembers failure
  local name="$1"; shift
  echo
  echo "-- $name"
  echo "\$ $*"
  local t0=$SECONDS
  if "$@"; then echo "ok ($((SECONDS - t0)) s)"; else echo "FAILED ($((SECONDS - t0)) s)"; failed=1; fi
}

text=(analysis/*.py traces/capture/*.py)
capture=("$python" -m traces.capture.capture --model "$model" --device "$device")
common=(--text "${text[@]}" --text-label "device_check text" --prompt-length 1984 --decode-steps 64 --prompt-queries 256
        --storage float32)

step "capture, self-contained torch backend (float32)" \
  "${capture[@]}" --backend torch "${common[@]}" --out "$work/torch-f32.h5"
step "capture, transformers backend (float32, eager attention)" \
  "${capture[@]}" --backend transformers "${common[@]}" --out "$work/transformers-f32.h5"
step "torch trace reproduces its own attention outputs" \
  "$python" -m traces.capture.verify "$work/torch-f32.h5" --tolerance 1e-3
step "transformers trace reproduces its own attention outputs" \
  "$python" -m traces.capture.verify "$work/transformers-f32.h5" --tolerance 1e-3
step "torch vs transformers, per dataset" \
  "$python" -m traces.capture.verify --compare "$work/torch-f32.h5" "$work/transformers-f32.h5" --tolerance 1e-3

shipped=traces/data/tinylm-code-8l-4k.h5
if [[ -f "$shipped" ]]; then
  step "re-capture the shipped 4K trace's tokens with transformers (float16, same prompt queries)" \
    "${capture[@]}" --backend transformers --tokens-from "$shipped" --storage float16 --out "$work/transformers-4k.h5"
  step "shipped 4K trace vs transformers re-capture" \
    "$python" -m traces.capture.verify --compare "$shipped" "$work/transformers-4k.h5" --tolerance 5e-3
  step "transformers 4K re-capture reproduces its outputs (float16 tolerance)" \
    "$python" -m traces.capture.verify "$work/transformers-4k.h5" --step-stride 8
else
  echo "note: $shipped not found, skipping the shipped-trace comparison"
fi

greedy=(--text "${text[@]}" --text-label "device_check text" --prompt-length 1024 --decode-steps 32 --mode greedy --storage float32)
step "greedy capture, torch backend" "${capture[@]}" --backend torch "${greedy[@]}" --out "$work/torch-greedy.h5"
step "greedy capture, transformers backend" "${capture[@]}" --backend transformers "${greedy[@]}" --out "$work/transformers-greedy.h5"
echo
echo "-- greedy tokens (informational: near-ties may legitimately differ)"
"$python" - "$work/torch-greedy.h5" "$work/transformers-greedy.h5" <<'EOF'
import sys
import h5py
a, b = (h5py.File(p, "r")["tokens"][()].tolist() for p in sys.argv[1:3])
same = sum(x == y for x, y in zip(a, b))
print(f"{same} of {len(a)} positions equal; generated by torch:        {bytes(a[1024:])!r}")
print(f"{' ' * len(str(same))}                      generated by transformers: {bytes(b[1024:])!r}")
EOF

echo
if [[ $failed -eq 0 ]]; then echo "device_check: all checks passed"; else echo "device_check: some checks FAILED"; fi
echo "log: $log"
exit $failed
