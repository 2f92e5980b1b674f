import { ErrorBody } from '@qr-login/wire'

type SecurityRequirement = Record<string, string[]>
/** OpenAPI security requirements: which credentials a route takes. */
export const security = {
  watch: [{ watchToken: [] }, { bearer: [] }] as SecurityRequirement[],
  phone: [{ phoneSession: [] }, { bearer: [] }] as SecurityRequirement[],
  pc: [{ pcSession: [] }] as SecurityRequirement[],
}

/** Error responses every route may give, for the OpenAPI description. */
export function errors(...statusCodes: number[]) {
  return Object.fromEntries(statusCodes.map((statusCode) => [statusCode, ErrorBody]))
}
