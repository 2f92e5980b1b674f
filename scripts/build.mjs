// Bundles the service for `npm start`: our workspace packages are compiled in,
// every registry dependency stays an ordinary import from node_modules.
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'

const manifest = (path) => JSON.parse(readFileSync(new URL(`../${path}/package.json`, import.meta.url)))
const workspaces = ['packages/core', 'apps/server']
const external = [
  ...new Set(workspaces.flatMap((path) => Object.keys(manifest(path).dependencies ?? {}))),
].filter((name) => !name.startsWith('@qr-login/'))

await build({
  entryPoints: ['apps/server/src/server.ts'],
  outfile: 'apps/server/dist/server.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external,
  logLevel: 'warning',
})
console.log('built apps/server/dist/server.js')
