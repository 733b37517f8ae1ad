#!/bin/sh
# Regenerate scripts/lib/*.d.ts from the JSDoc in scripts/lib/*.js, so TypeScript tests get typed
# imports without allowJs. test/integration/harness.test.ts fails when they are out of date.
set -e
cd "$(dirname "$0")"
out="${1:-.}"
exec npx --no-install tsc --allowJs --declaration --emitDeclarationOnly --strict --target ES2022 \
  --module commonjs --moduleResolution node --types node --skipLibCheck --removeComments false \
  --outDir "$out" action.js images.js proxy.js registry.js
