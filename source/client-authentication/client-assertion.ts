import {TokenError} from '../errors.js';
import {resolveTokenValue, type TokenValue} from '../grants/grant.js';
import {freshClaims, type AssertionSigner} from '../signing/assertion.js';
import type {RequestParts, TokenEndpointTarget} from '../token-endpoint/fetch-token.js';
import {describeFileOf} from '../workload-identity/from-file.js';
import type {Authenticate} from './method.js';

/**
RFC 7523 §2.2.
*/
export const jwtBearerAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
The form fields of a client assertion (RFC 7521 §4.2), whoever signed it.
*/
export function addClientAssertion({form}: RequestParts, clientId: string, assertion: string, type = jwtBearerAssertionType): void {
	// Optional in RFC 7523 §3.1, but Microsoft Entra ID requires it.
	form.set('client_id', clientId);
	form.set('client_assertion_type', type);
	form.set('client_assertion', assertion);
}

/**
A client assertion we sign for every attempt.
*/
export function signedClientAssertion(clientId: string, sign: AssertionSigner): Authenticate {
	return async (parts, {tokenEndpoint, issuer}: TokenEndpointTarget) => {
		// RFC 7523 §3: iss and sub are the client; aud names the server, by its token endpoint and, where known, its issuer identifier.
		const assertion = await sign({
			iss: clientId,
			sub: clientId,
			aud: issuer === undefined ? tokenEndpoint.href : [tokenEndpoint.href, issuer],
			...freshClaims(),
		});
		addClientAssertion(parts, clientId, assertion);
	};
}

/**
A JWS in compact serialization (RFC 7515 §7.1), as every JWT a platform issues is: three base64url parts. Checked so that a file holding something else fails here, saying so, rather than at the server as `invalid_client`.
*/
export const isCompactJwt = (value: string): boolean => /^[\w\-]+\.[\w\-]+\.[\w\-]+$/v.test(value);

/**
A client assertion someone else signed (the platform: a Kubernetes service account token, a SPIFFE JWT-SVID), taken afresh for every attempt and never kept: the platform rotates it, and a server may refuse one it has seen.
*/
export function providedClientAssertion(clientId: string, value: TokenValue, type: string): Authenticate {
	return async parts => {
		const assertion = await resolveTokenValue('clientAssertion', value);
		if (!isCompactJwt(assertion)) {
			// Never quoted: it is a credential.
			throw new TokenError(`\`clientAssertion\`${describeFileOf(value)} returned a string that is not a JWT (three base64url parts separated by dots, RFC 7519 §3)`);
		}

		addClientAssertion(parts, clientId, assertion, type);
	};
}
