/** The outbound HTTP client and its host policy (design §6). */
export {
  createHttpClient,
  decodeBody,
  isRetryableHttpError,
  type HttpClientOptions,
  type HttpRequest,
  type HttpResponse,
  type OutboundHttpClient,
} from './client.js';
export { classifyAddress, denyReason, normaliseHost, type HttpPolicy } from './policy.js';
