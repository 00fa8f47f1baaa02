#!/usr/bin/env bash
# CI: the whole conformance suite (MQTT 5.0 and 3.1.1) against a freshly started //broker,
# once with every optional feature on (simq.toml) and once with them off (simq_restricted.toml),
# so that both the feature tests and the "server without the feature" tests run.
#
# Fails on any FAIL not listed in known_failures.txt, and on a listed test that no longer fails
# in either run (remove it from the list). SKIPs are fine: a test skips when the configuration
# of that run does not offer what it needs, and the other run covers it.
#
#   suite_test.sh SUITE BROKER SIMQ_TOML RESTRICTED_TOML KNOWN_FAILURES
set -u

suite=$1 broker=$2 full_config=$3 restricted_config=$4 known_file=$5
work=${TEST_TMPDIR:-$(mktemp -d)}
status=0

run() {  # run NAME CONFIG
  local name=$1 config=$2 out="$work/$1.out"
  mkdir -p "$work/$name"
  "$suite" --broker-binary "$broker" --broker-config "$config" --work-dir "$work/$name" \
    >"$out" 2>&1
  local rc=$?
  echo "=== $name ($config): exit $rc"
  grep -v '^PASS ' "$out"
  if [[ $rc -ne 0 && $rc -ne 1 ]] || ! grep -qE '^[0-9]+ passed, [0-9]+ failed' "$out"; then
    echo "suite_test: the $name run did not complete (exit $rc); see above"
    status=1
  fi
  sed -n 's/^FAIL \([^:]*\):.*/\1/p' "$out" >>"$work/failed.txt"
  sed -n 's/^PASS \(.*\)$/\1/p' "$out" >>"$work/passed.txt"
}

: >"$work/failed.txt"
: >"$work/passed.txt"
run full "$full_config"
run restricted "$restricted_config"

known=$(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$known_file" | grep -v '^$' | sort -u)
failed=$(sort -u "$work/failed.txt")

unexpected=$(comm -23 <(echo "$failed" | grep -v '^$') <(echo "$known" | grep -v '^$'))
if [[ -n "$unexpected" ]]; then
  echo
  echo "suite_test: failures not in known_failures.txt:"
  echo "$unexpected" | sed 's/^/  /'
  status=1
fi
fixed=$(comm -23 <(echo "$known" | grep -v '^$') <(echo "$failed" | grep -v '^$') |
  grep -Fxf <(sort -u "$work/passed.txt") || true)
if [[ -n "$fixed" ]]; then
  echo
  echo "suite_test: listed in known_failures.txt but passing now (remove them):"
  echo "$fixed" | sed 's/^/  /'
  status=1
fi
[[ $status -eq 0 ]] && echo "suite_test: OK"
exit $status
