import {TokenError} from '../errors.js';

const bearerPrefix = 'Bearer ';

/**
RFC 6749 §A.12: an access token is printable ASCII. `Headers#set` rejects anything else with a message that quotes the whole value, token included, so a token is checked before it becomes a header.
*/
const accessTokenSyntax = /^[\u{20}-\u{7E}]+$/v;

/**
The `Authorization` value for a token, built and checked once per token rather than once per request.
*/
export function bearerHeader(): (token: string) => string {
	let lastToken: string | undefined;
	let header = '';
	return token => {
		if (token !== lastToken) {
			if (!accessTokenSyntax.test(token)) {
				throw new TokenError('The access token has characters outside printable ASCII (RFC 6749 §A.12)');
			}

			lastToken = token;
			header = bearerPrefix + token;
		}

		return header;
	};
}
