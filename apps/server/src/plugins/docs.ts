import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

/** The OpenAPI description is generated from the same TypeBox schemas that validate and serialize. */
export default fp(
  async function docs(app) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'QR scan-to-login',
          version: '1.0.0',
          description: 'Scan a QR code with a signed-in phone to sign in on a PC. See shared/api-contract.md.',
        },
        tags: [
          { name: 'pc', description: 'The browser that wants to sign in' },
          { name: 'phone', description: 'The signed-in phone that approves' },
          { name: 'oidc', description: 'The OpenID provider’s QR sign-in page (the provider itself is at /oidc)' },
          { name: 'passkeys', description: 'The phone user’s passkeys, which approve with user verification' },
        ],
        components: {
          securitySchemes: {
            watchToken: { type: 'apiKey', in: 'cookie', name: 'qr_watch' },
            bearer: { type: 'http', scheme: 'bearer' },
            phoneSession: { type: 'apiKey', in: 'cookie', name: 'm_session' },
            pcSession: { type: 'apiKey', in: 'cookie', name: 'sid' },
          },
        },
      },
    })
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      // The site-wide policy, except that Swagger UI sets inline style attributes; scripts stay 'self' only.
      staticCSP:
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    })
  },
  { name: 'docs' },
)
