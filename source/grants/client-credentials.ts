import {parseTokenObject} from '../token-endpoint/token-response.js';
import type {GrantDefinition} from './grant.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the grant has no options of its own.
export type ClientCredentialsOptions = {};

/**
RFC 6749 §4.4: the client asks for a token for itself.
*/
export const clientCredentials = {
	type: 'client_credentials',
	optionNames: [],
	parameters: {},
	prepare: () => ({
		type: 'client_credentials',
		identity: {type: 'client_credentials'},
		isReplaySafe: true,
		usesPrivateKey: false,
		authenticatesClient: false,
		create: () => ({
			async requestToken(call) {
				return parseTokenObject(await call.post(async () => [['grant_type', 'client_credentials']]));
			},
		}),
	}),
} as const satisfies GrantDefinition<ClientCredentialsOptions>;
