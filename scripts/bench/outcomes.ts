import * as hdr from 'hdr-histogram-js'

export interface Outcome {
  watchers: number
  opened: number
  received: number
  lost: number
  errors: number
  errorSamples: string[]
  delayMs: { p50: number; p90: number; p99: number; max: number; mean: number }
  bytesPerLogin: number
  requestsPerLogin: number
  confirmSeconds: number
  /** The delays, as hdr-histogram's compressed encoding: outcomes of several generators merge exactly (not reported). */
  histogram?: string
}

/** A histogram of delays recorded in microseconds, as the figures reported in milliseconds. */
export function delayFigures(histogram: hdr.Histogram): Outcome['delayMs'] {
  const ms = (microseconds: number) => Math.round(microseconds / 10) / 100
  return {
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    max: ms(histogram.maxValue),
    mean: ms(histogram.mean),
  }
}

/** The outcome of one load spread over several generators, as if one had measured it. */
export function mergeOutcomes(outcomes: Outcome[]): Outcome {
  if (outcomes.length === 1) return { ...outcomes[0], histogram: undefined }
  const histogram = hdr.decodeFromCompressedBase64(outcomes[0].histogram!)
  for (const other of outcomes.slice(1)) histogram.add(hdr.decodeFromCompressedBase64(other.histogram!))
  const sum = (pick: (outcome: Outcome) => number) => outcomes.reduce((total, outcome) => total + pick(outcome), 0)
  const watchers = sum((o) => o.watchers)
  return {
    watchers,
    opened: sum((o) => o.opened),
    received: sum((o) => o.received),
    lost: sum((o) => o.lost),
    errors: sum((o) => o.errors),
    errorSamples: outcomes.flatMap((o) => o.errorSamples).slice(0, 10),
    delayMs: delayFigures(histogram),
    bytesPerLogin: Math.round(sum((o) => o.bytesPerLogin * o.watchers) / watchers),
    requestsPerLogin: Math.round((sum((o) => o.requestsPerLogin * o.watchers) / watchers) * 100) / 100,
    confirmSeconds: Math.max(...outcomes.map((o) => o.confirmSeconds)),
  }
}
