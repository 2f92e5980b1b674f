import { fileURLToPath } from 'node:url'

// This module sits directly under apps/server/src/ (its bundle directly under dist/), so these paths work for both.
/** The pages' HTML and CSS. */
export const webPublicDir = fileURLToPath(new URL('../../web/public/', import.meta.url))
/** The pages' scripts, bundled by `npm run build`. */
export const webAssetsDir = fileURLToPath(new URL('../../web/dist/', import.meta.url))
