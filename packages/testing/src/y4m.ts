import { writeFileSync } from 'node:fs'
import QRCode from 'qrcode'

export interface Y4mOptions {
  /** Frame width and height in pixels (even). */
  size?: number
  /** Frames in the file; Chromium loops the video. */
  frames?: number
}

/**
 * Writes a Y4M video of a QR code, for Chromium's fake camera:
 * `--use-fake-device-for-media-stream --use-file-for-fake-video-capture=<file>`. The phone page's
 * in-page scanner then "sees" the QR as a real camera would.
 */
export function writeQrY4m(text: string, file: string, { size = 480, frames = 10 }: Y4mOptions = {}): void {
  const side = size - (size % 2)
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' })
  const quiet = 4
  const cells = modules.size + quiet * 2
  const scale = Math.floor(side / cells)
  const offset = Math.floor((side - cells * scale) / 2)
  // Y (luma): white everywhere, black modules; U and V: neutral grey, at a quarter of the size (4:2:0).
  const luma = Buffer.alloc(side * side, 235)
  for (let row = 0; row < modules.size; row++)
    for (let column = 0; column < modules.size; column++) {
      if (!modules.get(row, column)) continue
      const top = offset + (row + quiet) * scale
      const left = offset + (column + quiet) * scale
      for (let y = top; y < top + scale; y++) luma.fill(16, y * side + left, y * side + left + scale)
    }
  const chroma = Buffer.alloc((side / 2) * (side / 2) * 2, 128)
  const header = Buffer.from(`YUV4MPEG2 W${side} H${side} F10:1 Ip A1:1 C420jpeg\n`)
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma])
  writeFileSync(file, Buffer.concat([header, ...Array.from({ length: frames }, () => frame)]))
}
