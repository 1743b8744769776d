// Lists every .cc file under src/ for binding.gyp, so adding a source file needs no gyp edit.
const fs = require('fs');
const path = require('path');
function walk(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith('.cc') ? [p] : [];
  });
}
console.log(walk(path.join(__dirname, 'src')).sort().map((p) => path.relative(__dirname, p).split(path.sep).join('/')).join(' '));
