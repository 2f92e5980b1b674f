import jsQRModule from 'jsqr'

// jsqr is CommonJS with an ES-style default in its types: unwrap whichever shape we are handed.
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ?? jsQRModule) as typeof jsQRModule.default

interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike

/**
 * Reads QR codes from the camera until one decodes: the browser's own
 * BarcodeDetector where it has one, otherwise jsQR on canvas frames.
 */
export async function scanWithCamera(video: HTMLVideoElement, signal: AbortSignal): Promise<string> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
  video.srcObject = stream
  video.hidden = false
  await video.play()
  const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector
  const detector = Detector ? new Detector({ formats: ['qr_code'] }) : undefined
  const canvas = document.createElement('canvas')
  const context = canvas.getContext('2d', { willReadFrequently: true })!
  try {
    while (!signal.aborted) {
      await new Promise((resolve) => requestAnimationFrame(resolve))
      if (video.readyState < video.HAVE_ENOUGH_DATA) continue
      if (detector) {
        const [found] = await detector.detect(video)
        if (found) return found.rawValue
        continue
      }
      canvas.width = video.videoWidth
      canvas.height = video.videoHeight
      context.drawImage(video, 0, 0)
      const frame = context.getImageData(0, 0, canvas.width, canvas.height)
      const found = jsQR(frame.data, frame.width, frame.height)
      if (found) return found.data
    }
    throw new Error('stopped')
  } finally {
    for (const track of stream.getTracks()) track.stop()
    video.hidden = true
  }
}
