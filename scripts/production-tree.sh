#!/bin/sh
# scripts/production-tree.sh TREE [CONSOLE_DIST]: turns TREE, a clean copy of the repository
# (no node_modules), into what the production image holds (deploy/Containerfile runs this;
# scripts/image-size.ts and test/e2e/production-install.test.ts measure and start the same):
# production dependencies only, from the pnpm store a full install already filled (--offline),
# without the test harness's packages, the tests, docs and deploy files; and the built web
# console copied in where the gateway serves it from, when CONSOLE_DIST is given.
set -eu
tree=$1
console_dist=${2:-}
cd "$tree"
pnpm install --prod --frozen-lockfile --offline \
  '--filter=!@passage/testing' '--filter=!@passage/system-tests'
rm -rf test packages/testing docs .ci deploy
find packages services -depth -type d -name test -not -path '*/node_modules/*' -exec rm -rf {} +
find packages services -name '*.test.ts' -not -path '*/node_modules/*' -delete
if [ -n "$console_dist" ]; then
  rm -rf packages/console/dist
  cp -R "$console_dist" packages/console/dist
fi
