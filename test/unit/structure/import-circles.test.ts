import t from 'tap'
import madge from 'madge'

// No module imports itself back, type imports included (issue 25): a circle makes load order matter and
// hides which module owns what. madge reads the sources as TypeScript resolves them.
t.test('no import circles in the apps, the packages or the scripts', async (t) => {
  const graph = await madge(['apps', 'packages', 'scripts'], {
    fileExtensions: ['ts'],
    tsConfig: 'tsconfig.json',
    excludeRegExp: [/node_modules/, /\/dist\//],
    detectiveOptions: { ts: { skipTypeImports: false }, tsx: { skipTypeImports: false } },
  })
  t.ok(Object.keys(graph.obj()).length > 100, `${Object.keys(graph.obj()).length} modules read`)
  t.same(graph.circular(), [], 'no circle')
})
