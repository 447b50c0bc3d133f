import {TokenError} from '../errors.js';
import type {TokenSet} from '../token-source/token-source.js';
import type {DpopSettings} from './options.js';

/**
Where a token came from, for messages.
*/
export type TokenOrigin = {
	/**
	The token endpoint, without query or fragment.
	*/
	readonly endpoint: string;
	/**
	The status of its last answer; absent when the token came from elsewhere (a custom grant).
	*/
	readonly statusCode: number | undefined;
};

/**
A token as its request asked for it: with DPoP, a `DPoP` token (RFC 9449 §5), bound to the source's key, which it then carries; without, a `Bearer` one. The case of `token_type` does not matter (RFC 6749 §5.1).
*/
export async function checkTokenType(tokenSet: TokenSet, dpop: DpopSettings | undefined, {endpoint, statusCode}: TokenOrigin): Promise<TokenSet> {
	const isDpopBound = tokenSet.tokenType.toLowerCase() === 'dpop';
	if (dpop === undefined) {
		if (isDpopBound) {
			throw new TokenError(`Token response from ${endpoint} has the \`token_type\` "DPoP", but the request carried no DPoP proof; set \`dpop\` to use DPoP (RFC 9449)`, {statusCode});
		}

		return tokenSet;
	}

	if (isDpopBound) {
		return {...tokenSet, dpopKey: await dpop.key()};
	}

	if (!dpop.acceptBearer) {
		const what = `Token response from ${endpoint} has the \`token_type\` "Bearer" in answer to a request with a DPoP proof`;
		const why = 'the server did not bind the token to the key, so a stolen copy would work';
		throw new TokenError(`${what}: ${why}. Enable DPoP for this client at the server, or set \`dpop.acceptBearer\` to use bearer tokens (RFC 9449 §5)`, {statusCode});
	}

	return tokenSet;
}
