import {setUpAdapter} from '../adapter-setup.js';
import {checkFunction} from '../checks.js';
import type {OAuthConfig} from '../configuration/normalize.js';
import type {OriginOptions} from '../origin-policy.js';
import {isReplayableBody} from '../replayable-body.js';
import type {TokenSource} from '../token-source/token-source.js';
import {fetchOnlyInit} from './fetch-only-init.js';
import {createSendWithToken, type InnerFetch} from './send-with-token.js';

/**
`fetch`'s own signature.
*/
export type FetchFunction = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export type OAuthFetchOptions = OriginOptions & {
	/**
	The fetch that sends the requests. It must follow redirects as the Fetch standard does, dropping `Authorization` on a hop to another origin, as Node.js's global `fetch` (undici) does.

	@default globalThis.fetch
	*/
	fetch?: FetchFunction;
};

// Looked up on each call, so a fetch installed later (a test's, an instrumentation's) is the one used.
const globalFetch: InnerFetch = async (request, init) => fetch(request, init);

/**
A function with `fetch`'s signature that authorizes every request with an OAuth 2.0 access token: sent only to the allowed origins, renewed and retried once on a 401. Every wrapper made from the same token source shares one token.
*/
export function oauthFetch(configOrSource: OAuthConfig | TokenSource, options: OAuthFetchOptions = {}): FetchFunction {
	const {source, policy} = setUpAdapter(configOrSource, options);
	const inner = checkFunction<FetchFunction>('fetch', options.fetch) ?? globalFetch;
	const send = createSendWithToken(source, policy);

	return async (input, init) => send(new Request(input, init), {
		fetch: inner,
		init: fetchOnlyInit(init),
		isBodyReplayable: isReplayableBody(init?.body),
		isOwnRequest: true,
		state: {answered401: false},
	});
}
