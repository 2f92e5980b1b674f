#!/usr/bin/env node
// Runs the bundled CLI (npm run build); in a fresh checkout, the TypeScript source through tsx.
try {
  await import('../dist/cli.js')
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/cli.js')) throw error
  const { register } = await import('tsx/esm/api')
  register()
  await import('../src/cli.ts')
}
