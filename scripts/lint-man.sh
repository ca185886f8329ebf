#!/usr/bin/env bash
# Lints every manual page in man/: mandoc -T lint, failing on any message of level WARNING
# or above; without mandoc, groff -ww -z -man, failing on any warning it prints.
# Exit 0 when all pages are clean, 1 when any is not, 2 when there is nothing to lint with.
set -uo pipefail
cd "$(dirname "$0")/.."

shopt -s nullglob
pages=(man/*.[0-9])
if [ ${#pages[@]} -eq 0 ]; then
  echo "lint-man: no manual pages in man/" >&2
  exit 1
fi

# LINT_MAN_TOOL=groff forces the fallback (to test it).
if [ "${LINT_MAN_TOOL:-}" != groff ] && command -v mandoc >/dev/null 2>&1; then
  tool=mandoc
elif command -v groff >/dev/null 2>&1; then
  tool=groff
  echo "lint-man: using groff -ww (mandoc not found or LINT_MAN_TOOL=groff; install mandoc for the full check)" >&2
else
  echo "lint-man: neither mandoc nor groff is installed (apt-get install mandoc)" >&2
  exit 2
fi

status=0
for page in "${pages[@]}"; do
  if [ "$tool" = mandoc ]; then
    # mandoc exits non-zero when a message of the -W level or above was printed.
    out=$(mandoc -T lint -W warning "$page" 2>&1)
    rc=$?
  else
    # groff exits 0 even when it warns: any output is a problem.
    out=$(groff -ww -z -man "$page" 2>&1)
    rc=$?
    [ -n "$out" ] && rc=1
  fi
  if [ $rc -ne 0 ] || [ -n "$out" ]; then
    [ -n "$out" ] && printf '%s\n' "$out" >&2
    echo "lint-man: $page: FAIL" >&2
    status=1
  else
    echo "lint-man: $page: ok"
  fi
done
exit $status
