import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { serverBundle, startInstance } from '../../helpers/instances.js'

const listening = /Server listening at http:\/\/127\.0\.0\.1:\d+/

function logLines(output: string) {
  return output.split('\n').filter((line) => listening.test(line))
}

t.test('LOG_FORMAT: JSON lines for a pipe (the default), readable lines when asked', async (t) => {
  for (const [format, json] of [
    [undefined, true],
    ['json', true],
    ['pretty', false],
  ] as const) {
    const instance = await startInstance(t, `log-${format ?? 'auto'}`, {
      LOG_LEVEL: 'info',
      ...(format ? { LOG_FORMAT: format } : {}),
    })
    await instance.untilOutput((output) => logLines(output).length > 0, 'the listening line')
    const [line] = logLines(instance.output())
    if (json) t.match(JSON.parse(line), { level: 30, msg: listening }, `${format ?? 'unset'}: a JSON line`)
    else {
      t.throws(() => JSON.parse(line), `${format}: not JSON`)
      t.match(line, /INFO.*Server listening/, `${format}: a level and a message a person reads`)
    }
    instance.signal('SIGTERM')
    t.equal(await instance.exited, 0)
  }
})

t.test('LOG_FORMAT unset on a terminal: readable lines', async (t) => {
  // script(1) gives the service a pseudo-terminal as its standard output, as a person's shell does.
  const command = `${JSON.stringify(process.execPath)} ${serverBundle}`
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    env: {
      ...process.env,
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: mkdtempSync(join(tmpdir(), 'qr-data-')),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      if (logLines(output).length > 0) resolve()
    })
    child.on('exit', (code) => reject(new Error(`exited ${code} before listening:\n${output}`)))
  })
  // The ANSI colours pino-pretty adds on a terminal aside, the line is plain words.
  const [line] = logLines(stripVTControlCharacters(output))
  t.match(line, /INFO.*Server listening/)
  t.notOk(line.trimStart().startsWith('{'), 'not a JSON line')
  child.kill('SIGTERM')
})
