// Bundles what runs outside the test suite: the service (npm start), the CLI
// and, when present, the browser pages. Our workspace packages are compiled
// in; every registry dependency of a Node bundle stays an ordinary import.
import { existsSync, readFileSync } from 'node:fs'
import { build } from 'esbuild'

const manifest = (path) => JSON.parse(readFileSync(new URL(`../${path}/package.json`, import.meta.url)))
const externalsOf = (...paths) =>
  [...new Set(paths.flatMap((path) => Object.keys(manifest(path).dependencies ?? {})))].filter(
    (name) => !name.startsWith('@qr-login/'),
  )

const node = { bundle: true, platform: 'node', format: 'esm', target: 'node22', sourcemap: true, logLevel: 'warning' }

const builds = [
  build({
    ...node,
    entryPoints: ['apps/server/src/server.ts'],
    outfile: 'apps/server/dist/server.js',
    external: externalsOf('packages/core', 'packages/redis', 'packages/sqlite', 'apps/server'),
  }),
  build({
    ...node,
    entryPoints: ['apps/cli/src/cli.ts'],
    outfile: 'apps/cli/dist/cli.js',
    external: externalsOf('packages/client', 'packages/sqlite', 'apps/cli'),
  }),
]
if (existsSync(new URL('../apps/web/src', import.meta.url))) {
  builds.push(
    build({
      entryPoints: ['apps/web/src/pc.ts', 'apps/web/src/phone.ts', 'apps/web/src/device.ts'],
      outdir: 'apps/web/dist',
      bundle: true,
      platform: 'browser',
      format: 'esm',
      // socket.io-client is imported on first use only: a chunk of its own, fetched when a page picks it.
      splitting: true,
      chunkNames: 'chunks/[name]-[hash]',
      target: ['chrome100', 'safari15', 'firefox100'],
      minify: true,
      sourcemap: true,
      logLevel: 'warning',
    }),
  )
}
await Promise.all(builds)
console.log('built apps/server/dist/server.js, apps/cli/dist/cli.js' + (builds.length > 2 ? ', apps/web/dist/' : ''))
