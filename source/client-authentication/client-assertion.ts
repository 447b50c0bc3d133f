import {freshClaims, type AssertionSigner} from '../signing/assertion.js';
import type {RequestParts, TokenEndpointTarget} from '../token-endpoint/fetch-token.js';
import type {Authenticate} from './method.js';

/**
RFC 7523 §2.2.
*/
const clientAssertionType = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
The form fields of a client assertion (RFC 7521 §4.2), whoever signed it.
*/
export function addClientAssertion({form}: RequestParts, clientId: string, assertion: string): void {
	// Optional in RFC 7523 §3.1, but Microsoft Entra ID requires it.
	form.set('client_id', clientId);
	form.set('client_assertion_type', clientAssertionType);
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
