import { existsSync } from 'node:fs'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import fastifyStatic from '@fastify/static'
import fp from 'fastify-plugin'
import { AvatarParams } from '@qr-login/wire'
import { avatarSvg } from '../lib/avatar.js'
import { LangQuery, pageFiles, pageSource, sendPage, type PageName } from '../lib/pages.js'
import { webAssetsDir, webPublicDir } from '../paths.js'

async function pageRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  for (const page of Object.keys(pageFiles) as PageName[]) pageSource(page)
  if (!existsSync(webAssetsDir)) app.log.warn(`${webAssetsDir} is missing: run npm run build for the page scripts`)

  await app.register(fastifyStatic, { root: webPublicDir, prefix: '/static/', index: false, wildcard: false })
  await app.register(fastifyStatic, {
    root: webAssetsDir,
    prefix: '/assets/',
    index: false,
    wildcard: false,
    decorateReply: false,
    allowedPath: () => existsSync(webAssetsDir),
  })

  const servePage =
    (page: PageName) => (request: FastifyRequest<{ Querystring: { lang?: string } }>, reply: FastifyReply) =>
      sendPage(app, request, reply, page)
  const pageSchema = { hide: true, querystring: LangQuery }
  app.get('/', { schema: pageSchema }, servePage('pc'))
  app.get('/m', { schema: pageSchema }, servePage('phone'))
  app.get('/m/:id', { schema: pageSchema }, servePage('phone'))

  app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(avatarSvg('QR')),
  )

  app.get(
    '/avatars/:file',
    { schema: { tags: ['phone'], summary: 'A generated avatar for a user name', params: AvatarParams } },
    (request, reply) => {
      const name = request.params.file.replace(/\.svg$/, '')
      // The OpenID provider's picture claim points here: other sites (the apps users sign in to) show it.
      return reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .header('cross-origin-resource-policy', 'cross-origin')
        .send(avatarSvg(name))
    },
  )
}

export default fp(pageRoutes, {
  name: 'page-routes',
  dependencies: ['services', '@fastify/cookie', '@fastify/accepts'],
  encapsulate: true,
})
