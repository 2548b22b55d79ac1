#!/usr/bin/env bash
# validate_cases.sh: drives `servescale validate` over the examples and the
# declarative cases in tests/cases/, and checks the command's edges (stdin,
# help, missing files, output formats and their round trip).
#
# Usage: validate_cases.sh SERVESCALE_BINARY SOURCE_DIR
#
# tests/cases/valid-*    must validate with exit 0.
# tests/cases/invalid-*  must exit 1 and print every expected line: for YAML
#                        the leading "# expect: TEXT" comments, for JSON the
#                        lines of the sibling FILE.expect. Each TEXT is looked
#                        for as a fixed string in stderr; files are run from
#                        tests/cases/ so that messages start with the bare name.
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 SERVESCALE_BINARY SOURCE_DIR" >&2
  exit 2
fi
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
cases=$src/tests/cases
[[ -x $bin ]] || { echo "$0: $bin is not an executable" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL $1"
  shift
  local line
  for line in "$@"; do echo "     $line"; done
}
show() { sed 's/^/     | /' "$1"; }

# run NAME DIR ARGS...: runs the binary in DIR; sets rc, output in $tmp/out, $tmp/err.
run() {
  local dir=$1
  shift
  rc=0
  (cd "$dir" && "$bin" "$@") >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
}

# expectations FILE: prints the expected substrings of an invalid case.
expectations() {
  local f=$1
  if [[ -f $f.expect ]]; then
    grep -v '^[[:space:]]*$' "$f.expect" || true
  else
    # leading comment lines only
    awk '/^#/ { if (sub(/^# expect: /, "")) print; next } { exit }' "$f"
  fi
}

shopt -s nullglob

# ---- examples and valid cases: exit 0, no errors ----
for f in "$src"/examples/*.json "$src"/examples/*.yaml "$cases"/valid-*; do
  [[ $f == *.expect ]] && continue
  name=${f#"$src"/}
  run "$(dirname "$f")" validate -f "$(basename "$f")"
  if [[ $rc -eq 0 ]]; then
    ok "$name validates (exit 0)"
  else
    fail "$name validates (exit 0): got exit $rc" "stderr:"
    show "$tmp/err"
  fi
done

# ---- invalid cases: exit 1 and every expected line ----
n_invalid=0
for f in "$cases"/invalid-*; do
  [[ $f == *.expect ]] && continue
  n_invalid=$((n_invalid + 1))
  base=$(basename "$f")
  mapfile -t want < <(expectations "$f")
  if [[ ${#want[@]} -eq 0 ]]; then
    fail "tests/cases/$base: has no expectations ('# expect:' lines or $base.expect)"
    continue
  fi
  run "$cases" validate -q -f "$base"
  missing=()
  for w in "${want[@]}"; do
    grep -qF -- "$w" "$tmp/err" || missing+=("missing: $w")
  done
  if [[ $rc -eq 1 && ${#missing[@]} -eq 0 ]]; then
    ok "tests/cases/$base fails with exit 1 and its ${#want[@]} expected line(s)"
  else
    fail "tests/cases/$base fails with exit 1 and its expected lines: got exit $rc" \
      "${missing[@]}" "stderr:"
    show "$tmp/err"
  fi
done
if [[ $n_invalid -ge 10 ]]; then
  ok "tests/cases holds $n_invalid invalid cases"
else
  fail "tests/cases holds only $n_invalid invalid cases (expected at least 10)"
fi

seed=$src/examples/seldon-0.2.7-hpaspec.json

# ---- standard input ----
rc=0
"$bin" validate -f - <"$seed" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [[ $rc -eq 0 ]] && grep -qF 'name: seldon-model' "$tmp/out"; then
  ok "validate -f - reads standard input"
else
  fail "validate -f - reads standard input: exit $rc"
  show "$tmp/err"
fi
rc=0
"$bin" validate -q -f - <"$cases/invalid-name.yaml" >"$tmp/out" 2>"$tmp/err" || rc=$?
if [[ $rc -eq 1 ]] && grep -qF '<stdin>:6:9: metadata.name: invalid name "My_Model"' "$tmp/err"; then
  ok "validate -f - names errors in standard input <stdin>"
else
  fail "validate -f - names errors in standard input <stdin>: exit $rc"
  show "$tmp/err"
fi

# ---- help ----
run "$tmp" --help
if [[ $rc -eq 0 ]] && grep -q '^Usage: servescale' "$tmp/out" && grep -q 'validate' "$tmp/out"; then
  ok "--help exits 0 and prints usage"
else
  fail "--help exits 0 and prints usage: exit $rc"
  show "$tmp/out"
fi
run "$tmp" validate --help
if [[ $rc -eq 0 ]] && grep -q '^Usage: servescale validate' "$tmp/out"; then
  ok "validate --help exits 0 and prints usage"
else
  fail "validate --help exits 0 and prints usage: exit $rc"
  show "$tmp/out"
fi

# ---- a missing file ----
run "$tmp" validate -f no-such-file.yaml
if [[ $rc -eq 1 ]] && grep -qF 'no-such-file.yaml' "$tmp/err" &&
  grep -qiF 'no such file' "$tmp/err"; then
  ok "a missing file exits 1 and says so"
else
  fail "a missing file exits 1 and says so: exit $rc"
  show "$tmp/err"
fi

# ---- output formats ----
run "$tmp" validate -o json -f "$seed"
if [[ $rc -eq 0 ]] && python3 -m json.tool "$tmp/out" >/dev/null 2>"$tmp/jerr"; then
  ok "-o json prints JSON"
else
  fail "-o json prints JSON: exit $rc"
  show "$tmp/jerr"
fi

# -o yaml prints what validates again, to the same document
for f in "$src"/examples/*.json "$src"/examples/*.yaml "$cases"/valid-*; do
  name=${f#"$src"/}
  run "$tmp" validate -o yaml -f "$f"
  if [[ $rc -ne 0 ]]; then
    fail "$name: -o yaml round trip: first pass exit $rc"
    continue
  fi
  cp "$tmp/out" "$tmp/round.yaml"
  run "$tmp" validate -o yaml -f round.yaml
  if [[ $rc -eq 0 ]] && cmp -s "$tmp/out" "$tmp/round.yaml"; then
    ok "$name: -o yaml output validates again, unchanged"
  else
    fail "$name: -o yaml output validates again, unchanged: exit $rc"
    show "$tmp/err"
    diff "$tmp/round.yaml" "$tmp/out" | sed 's/^/     | /' || true
  fi
done

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
