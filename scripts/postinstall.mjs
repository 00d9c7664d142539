// npm install's last step: apply our patches to dependencies, then build the server (dist/) and the
// console (web/dist/), so that `npm install && npm start` serves compiled code on a fresh clone.
// An install without dev dependencies (npm ci --omit=dev) has no compiler: it expects dist/ and
// web/dist/ from a build made elsewhere, and says so instead of failing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const bin = (name) => `node_modules/.bin/${name}`;
if (!existsSync(bin('patch-package')) || !existsSync(bin('tsc')) || !existsSync(bin('vite'))) {
  console.log('certfleet: dev dependencies are not installed; not building (ship dist/ and web/dist/ from `npm run build`)');
  process.exit(0);
}
for (const [cmd, args] of [
  [bin('patch-package'), []],
  ['npm', ['run', '-s', 'build']],
]) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
