export { approveOnPhone, type ApproveOptions, type Approval } from './phone.js'
export { readQrFromPage, decodeQrPng } from './read-qr.js'
export { writeQrY4m, type Y4mOptions } from './y4m.js'
export { addPasskeyAuthenticator } from './authenticator.js'
