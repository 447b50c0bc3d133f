import got, {type Got, type OptionsInit, type Response} from 'got';
import {tokenRetryDelay} from './backoff.js';
import {TokenError, cleanCause} from './errors.js';

/** A token response or a metadata document is a few KiB; anything near this is not one. */
export const maxResponseBytes = 1024 * 1024;

/**
got as the authorization server's client: for the token endpoint and for metadata. Never for API requests, so neither side's options reach the other.
*/
export const authorizationServerClient: Got = got.extend({
	headers: {accept: 'application/json'},
	responseType: 'text',
	throwHttpErrors: false,
	// A redirect would carry the client credentials, or a forged metadata document, from somewhere the configuration never named.
	followRedirect: false,
	timeout: {request: 10_000},
	retry: {
		limit: 2,
		// POST is not idempotent in general, but a token request is.
		methods: ['GET', 'POST'],
		statusCodes: [408, 429, 500, 502, 503, 504],
		calculateDelay: tokenRetryDelay,
		backoffLimit: 5000,
	},
});

/**
One request whose body may not exceed `maxResponseBytes`. Failures are `TokenError`s that hold neither got's options (the client credentials) nor the response body (a token).
*/
export async function cappedRequest(client: Got, url: URL, options: Pick<OptionsInit, 'method' | 'context'>, what: string): Promise<Response<string>> {
	const sizeCap = new AbortController();
	try {
		return await client(url, {...options, responseType: 'text', signal: sizeCap.signal}).on('downloadProgress', ({transferred}) => {
			if (transferred > maxResponseBytes) {
				sizeCap.abort();
			}
		});
	} catch (error) {
		if (sizeCap.signal.aborted) {
			throw new TokenError(`${what} response is larger than ${maxResponseBytes} bytes`);
		}

		const cause = cleanCause(error);
		throw new TokenError(`${what} request to ${url.origin} failed: ${cause.message}`, {cause});
	}
}
