import type {ClientAuthenticationMethod} from './method.js';

/**
The `application/x-www-form-urlencoded` encoding that RFC 6749 §2.3.1 applies before Basic's base64.
*/
const formUrlEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/**
RFC 6749 §2.3.1: `Authorization: Basic`, the id and secret form-urlencoded first unless `clientSecretBasicEncoding` is `'plain'`, for servers that do not decode them.
*/
export const clientSecretBasic = {
	name: 'client_secret_basic',
	credential: 'secret',
	prepare({clientId, clientSecret, basicEncoding}) {
		if (clientSecret === undefined) {
			return {option: 'clientSecret', problem: 'is required for client_secret_basic'};
		}

		const encode = basicEncoding === 'plain' ? (value: string) => value : formUrlEncode;
		const authorization = 'Basic ' + Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64');
		return async ({headers}) => {
			headers.authorization = authorization;
		};
	},
} as const satisfies ClientAuthenticationMethod;
