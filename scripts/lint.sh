#!/bin/sh
# npm run lint: ESLint (in threads) and Prettier side by side. They share nothing, and either alone
# leaves a core idle for much of its run; the lint fails when either finds something, and says what.
prettier_out=$(mktemp)
trap 'rm -f "$prettier_out"' EXIT
prettier --check . > "$prettier_out" 2>&1 &
prettier_pid=$!
eslint . --concurrency=auto
eslint_status=$?
wait "$prettier_pid"
prettier_status=$?
cat "$prettier_out"
[ "$eslint_status" -eq 0 ] && [ "$prettier_status" -eq 0 ]
