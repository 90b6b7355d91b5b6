#!/usr/bin/env node
// Entry point of the `sparsetrain` command; the CLI itself is TypeScript compiled to dist/.
require('../dist/src/cli/main.js').main(process.argv.slice(2));
