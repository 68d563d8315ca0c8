#!/usr/bin/env bash
# Longer fuzz runs, one after the other: FUZZ_SECONDS per target (default 300).
# Crashes are written to fuzz/artifacts/ by libFuzzer; the corpus grows in fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
SECONDS_PER=${FUZZ_SECONDS:-300}
mkdir -p fuzz/artifacts
status=0
for t in booking idcard id_number protocol; do
  mkdir -p "fuzz/corpus/$t"
  [ -z "$(ls -A "fuzz/corpus/$t")" ] && $PY -c "
import sys; sys.path.insert(0, '.')
from fuzz.targets import seeds
for i, s in enumerate(seeds('$t')): open(f'fuzz/corpus/$t/seed{i}', 'wb').write(s)"
  echo "== $t: ${SECONDS_PER}s"
  $PY "fuzz/fuzz_$t.py" "fuzz/corpus/$t" -max_total_time="$SECONDS_PER" \
      -artifact_prefix="fuzz/artifacts/$t-" -print_final_stats=1 2>&1 \
      | grep -E "^FUZZ|stat::number_of_executed_units|ERROR|Error|Traceback|==[0-9]+==" || status=1
done
exit $status
