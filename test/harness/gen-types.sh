#!/bin/sh
# Regenerate test/harness/*.d.ts from the JSDoc in test/harness/*.js, so TypeScript tests get typed
# imports without allowJs. test/integration/harness.test.ts fails when they are out of date.
# tsc runs on copies of the .js files: next to the .d.ts, `require('./tokenserver')` would resolve to
# the old tokenserver.d.ts instead of the source.
set -e
cd "$(dirname "$0")"
out="$(realpath "${1:-.}")"
src="$(mktemp -d)"
trap 'rm -rf "$src"' EXIT
files="action.js images.js ports.js proxy.js registry.js tokenserver.js"
cp $files "$src"
npx --no-install tsc --allowJs --declaration --emitDeclarationOnly --strict --target ES2022 \
  --module commonjs --moduleResolution node --types node --skipLibCheck --removeComments false \
  --outDir "$out" $(for f in $files; do echo "$src/$f"; done)
