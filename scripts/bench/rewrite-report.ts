// Re-renders docs/benchmarks.md and .svg from docs/benchmarks.json (after a change to the report's layout).
import { readFileSync } from 'node:fs'
import { writeReport } from './report.js'

const prefix = process.argv[2] ?? 'docs/benchmarks'
writeReport(prefix, JSON.parse(readFileSync(`${prefix}.json`, 'utf8')))
