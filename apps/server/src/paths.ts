import { fileURLToPath } from 'node:url'

// This module sits directly under src/ (and its bundle directly under dist/), so one path works for both.
export const publicDir = fileURLToPath(new URL('../public/', import.meta.url))
