#!/usr/bin/env node
// Package `bin` entry: runs the built CLI (built by `npm install` / `npm run build`).
const path = require('path');
const fs = require('fs');
const built = path.join(__dirname, '..', '..', 'dist', 'cli', 'rerender.js');
if (!fs.existsSync(built)) {
  process.stderr.write('rerender: the CLI is not built yet; run `npm run build` in ' + path.join(__dirname, '..', '..') + '\n');
  process.exit(1);
}
require(built).runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
