import {privateKeySigner} from '../signing/assertion.js';
import {providedClientAssertion, signedClientAssertion} from './client-assertion.js';
import type {ClientAuthenticationMethod} from './method.js';

/**
RFC 7523 §2.2: a client assertion signed with the client's private key, or one the platform signed for the client (`clientAssertion`).
*/
export const privateKeyJwt = {
	name: 'private_key_jwt',
	credential: 'privateKey',
	prepare({clientId, privateKey, clientAssertion}) {
		if (privateKey !== undefined) {
			return signedClientAssertion(clientId, privateKeySigner(privateKey));
		}

		return clientAssertion === undefined
			? {option: 'privateKey', problem: 'or `clientAssertion` is required for private_key_jwt (RFC 7523 §2.2)'}
			: providedClientAssertion(clientId, clientAssertion.value, clientAssertion.type);
	},
} as const satisfies ClientAuthenticationMethod;
