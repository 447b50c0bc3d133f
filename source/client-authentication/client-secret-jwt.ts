import {clientSecretSigner} from '../signing/assertion.js';
import {signedClientAssertion} from './client-assertion.js';
import type {ClientAuthenticationMethod} from './method.js';

/**
RFC 7523 §2.2: a client assertion signed with HS256 over the secret.
*/
export const clientSecretJwt = {
	name: 'client_secret_jwt',
	credential: 'secret',
	prepare({clientId, clientSecret}) {
		return clientSecret === undefined
			? {option: 'clientSecret', problem: 'is required for client_secret_jwt'}
			: signedClientAssertion(clientId, clientSecretSigner(clientSecret));
	},
} as const satisfies ClientAuthenticationMethod;
