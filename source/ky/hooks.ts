import type {InitHook, Options} from 'ky';
import {setUpAdapter} from '../adapter-setup.js';
import type {OAuthConfig} from '../configuration/normalize.js';
import {createSendWithToken, type InnerFetch} from '../fetch/send-with-token.js';
import type {OriginOptions} from '../origin-policy.js';
import {isReplayableBody} from '../replayable-body.js';
import type {TokenSource} from '../token-source/token-source.js';

export type KyHooksOptions = OriginOptions;

export type KyOAuthHooks = {
	readonly hooks: {
		readonly init: InitHook[];
	};
};

// Looked up on each call, as ky itself does.
const globalFetch: InnerFetch = async (request, init) => fetch(request, init);

/**
The origin of the API a ky instance names: `prefix`, resolved against `baseUrl` as ky does, or `baseUrl` alone.
*/
function namedOrigin({prefix, baseUrl}: Options): string | undefined {
	const base = baseUrl === undefined ? undefined : URL.parse(baseUrl) ?? undefined;
	const named = prefix === undefined || prefix === '' ? base : URL.parse(prefix, base);
	return named?.origin;
}

/**
ky options that authorize every request with an OAuth 2.0 access token. Pass the result to `ky.extend()` or `ky.create()`; every instance extended with the same result shares one token cache and one origin rule.

Its one `init` hook wraps the call's `fetch`, so the token is added to the request fetch sends and never to the one ky keeps: ky's errors and the caller's own hooks never hold it, ky's `timeout` covers the wait for a token, and the one 401 retry works whatever `retry` says.
*/
export function kyOAuthHooks(configOrSource: OAuthConfig | TokenSource, options: KyHooksOptions = {}): KyOAuthHooks {
	const {source, policy} = setUpAdapter(configOrSource, options);
	const send = createSendWithToken(source, policy);

	const wrapFetch: InitHook = kyOptions => {
		const inner: InnerFetch = kyOptions.fetch ?? globalFetch;
		// At this point `json` and `body` are still what the caller gave; ky turns `json` into a string, which can be sent again.
		const isBodyReplayable = kyOptions.json !== undefined || isReplayableBody(kyOptions.body);
		const preferred = () => namedOrigin(kyOptions);
		// One per call: ky's own retries of the call share its one 401 retry.
		const state = {answered401: false};
		// ky passes a Request and, as `init`, only what `new Request()` does not take.
		kyOptions.fetch = async (request, init) => send(request as Request, {fetch: inner, init, isBodyReplayable, isOwnRequest: false, preferred, state});
	};

	return {hooks: {init: [wrapFetch]}};
}
