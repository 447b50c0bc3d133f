import {createHash} from 'node:crypto';
import type {BeforeRequestHook, NormalizedOptions} from 'got';
import {ourOrigin, waitForToken, type OriginRule} from '../got/attach-token.js';
import {installRequestFunction, type Authorization} from '../got-request/request-function.js';
import type {TokenSet, TokenSource} from '../token-source/token-source.js';
import type {NonceCache} from './nonces.js';

/**
A token as the API requests carry it, prepared once per token.
*/
type Prepared = {
	readonly accessToken: string;
	/**
	`DPoP <token>` (RFC 9449 §7.1), or `Bearer <token>` for a token the server would not bind (`dpop.acceptBearer`).
	*/
	readonly header: string;
	/**
	RFC 9449 §4.2: base64url SHA-256 of the token.
	*/
	readonly ath: string;
};

function prepare({accessToken, dpopKey}: Readonly<TokenSet>): Prepared {
	return {
		accessToken,
		header: `${dpopKey === undefined ? 'Bearer' : 'DPoP'} ${accessToken}`,
		ath: dpopKey === undefined ? '' : createHash('sha256').update(accessToken).digest('base64url'),
	};
}

/**
The `beforeRequest` hook with DPoP: like the bearer one, the token goes only to the origin the request started at, and the request function attaches it; with it goes a new proof for the method and URL the attempt leaves with, signed by the token's own key and carrying the origin's latest nonce. got runs it again on each retry and redirect hop, so each gets its own proof.
*/
export function attachDpopToken(source: TokenSource, isOurs: OriginRule, nonces: NonceCache): BeforeRequestHook {
	let last: Prepared | undefined;
	const prepared = (tokenSet: Readonly<TokenSet>): Prepared => {
		if (last?.accessToken !== tokenSet.accessToken) {
			last = prepare(tokenSet);
		}

		return last;
	};

	const install = (options: NormalizedOptions, origin: string, tokenSet: Readonly<TokenSet>): void => {
		const {accessToken, header, ath} = prepared(tokenSet);
		const key = tokenSet.dpopKey;
		const read = () => accessToken;
		const authorization: Authorization = key === undefined
			? {header, read}
			: {header, read, prove: async (htm, htu) => key.proof({htm, htu, ath, nonce: nonces.get(origin)})};
		installRequestFunction(options, origin, authorization);
	};

	async function installAfterFetch(options: NormalizedOptions, origin: string): Promise<void> {
		install(options, origin, await waitForToken(options, async signal => source.getTokenDetails({signal})));
	}

	// Synchronous while a token is cached; the proof is signed in the request function, after every hook.
	// eslint-disable-next-line @typescript-eslint/promise-function-async
	return options => {
		const origin = ourOrigin(options, isOurs);
		if (origin === undefined) {
			return;
		}

		const tokenSet = source.getTokenSetSync();
		if (tokenSet === undefined) {
			return installAfterFetch(options, origin);
		}

		install(options, origin, tokenSet);
	};
}
