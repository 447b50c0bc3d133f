import {privateKeySigner} from '../signing/assertion.js';
import {signedClientAssertion} from './client-assertion.js';
import type {ClientAuthenticationMethod} from './method.js';

/**
RFC 7523 §2.2: a client assertion signed with the client's private key.
*/
export const privateKeyJwt = {
	name: 'private_key_jwt',
	credential: 'privateKey',
	prepare({clientId, privateKey}) {
		return privateKey === undefined
			? {option: 'privateKey', problem: 'is required for private_key_jwt (RFC 7523 §2.2)'}
			: signedClientAssertion(clientId, privateKeySigner(privateKey));
	},
} as const satisfies ClientAuthenticationMethod;
