import fp from 'fastify-plugin'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'

function compiler(coerceTypes: boolean) {
  const ajv = new Ajv({
    coerceTypes: coerceTypes ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
    allErrors: false,
    strict: false,
  })
  addFormats.default(ajv)
  return ajv
}

/**
 * Query strings and paths are text, so they are coerced ("5" → 5); JSON
 * bodies are not: `{"username": 5}` is a wrong type and gets a 400.
 */
export default fp(
  async function validation(app) {
    const textParts = compiler(true)
    const bodies = compiler(false)
    app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodies : textParts).compile(schema))

    // Bodiless POSTs (scan, confirm, exchange...) are often sent with a JSON content type and no body.
    const parseJson = app.getDefaultJsonParser('error', 'error')
    app.removeContentTypeParser('application/json')
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
      if (body === '') return done(null, undefined)
      // Callback style: the parser answers through done, whatever its type says it returns.
      void parseJson(request, body as string, done)
    })
  },
  { name: 'validation' },
)
