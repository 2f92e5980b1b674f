import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import fastifyStatic from '@fastify/static'
import { AvatarParams } from '../schemas.js'
import { avatarSvg } from '../lib/avatar.js'
import { publicDir } from '../paths.js'


export default async function pageRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  await app.register(fastifyStatic, { root: publicDir, index: false, wildcard: false })

  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'))
  app.get('/m', { schema: { hide: true } }, (_request, reply) => reply.sendFile('phone.html'))
  app.get('/m/:id', { schema: { hide: true } }, (_request, reply) => reply.sendFile('phone.html'))

  app.get('/favicon.ico', { schema: { hide: true } }, (_request, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(avatarSvg('QR')),
  )

  app.get(
    '/avatars/:file',
    { schema: { tags: ['phone'], summary: 'A generated avatar for a user name', params: AvatarParams } },
    (request, reply) => {
      const name = request.params.file.replace(/\.svg$/, '')
      return reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(avatarSvg(name))
    },
  )
}
