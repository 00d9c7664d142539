#!/usr/bin/env bash
# Two certfleet replicas on one PostgreSQL database behind HAProxy, on this machine (deploy/README.md).
# Run from anywhere: it works in the checkout it belongs to. --help lists the options; Ctrl+C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx src/cli/run-replicas.ts "$@"
