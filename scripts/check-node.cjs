// Runs before every tool (package.json scripts, wrangler's build command): the tools are TypeScript that Node
// runs as-is (type stripping, on by default since Node 22.18), so an older Node would fail with a stack about
// ".ts". Plain CommonJS with nothing newer than ES5 in it, so that any old Node can run it and say so in a line.
'use strict';
var MINIMUM = [22, 18, 0];
var have = process.versions.node.split('.').map(Number);
var tooOld = false;
for (var i = 0; i < 3; i++) {
  if (have[i] !== MINIMUM[i]) {
    tooOld = have[i] < MINIMUM[i];
    break;
  }
}
if (tooOld) {
  process.stderr.write(
    'edge-jwt-gateway needs Node.js ' + MINIMUM.join('.') + ' or newer; this is ' + process.version + ' (' + process.execPath + '). ' +
      'Install Node 22 (e.g. `nvm install`, which reads .nvmrc) and run the command again.\n',
  );
  process.exit(1);
}
