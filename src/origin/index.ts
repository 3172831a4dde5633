/** `edge-jwt-gateway/origin`: verify the gateway's signed assertion at the origin. See docs/origin.md. */
export {
  AssertionError,
  createGatewayVerifier,
  receivedFrom,
  type AssertionErrorCode,
  type GatewayVerifierOptions,
  type HeadersLike,
  type ReceivedRequest,
  type VerifiedIdentity,
  type VerifyResult,
} from './verify.ts';
export { ASSERTION_TYP, canonicalHeaders, type HeaderBinding, type RequestBinding } from './binding.ts';
