import got, {type Got} from 'got';
import {tokenRetryDelay} from './backoff.js';
import {TokenError, cleanCause} from './errors.js';
import type {NormalizedConfig} from './options.js';
import {parseTokenResponse, type TokenSet} from './token-response.js';

/** A token response is a few KiB; anything near this is not one. */
export const maxResponseBytes = 1024 * 1024;

const defaults = got.extend({
	method: 'POST',
	headers: {accept: 'application/json'},
	responseType: 'text',
	throwHttpErrors: false,
	// A redirect would carry the client credentials somewhere the configuration never named.
	followRedirect: false,
	timeout: {request: 10_000},
	retry: {
		limit: 2,
		// POST is not idempotent in general, but a token request is.
		methods: ['POST'],
		statusCodes: [408, 429, 500, 502, 503, 504],
		calculateDelay: tokenRetryDelay,
		backoffLimit: 5000,
	},
});

/** The `application/x-www-form-urlencoded` encoding that RFC 6749 §2.3.1 applies before Basic's base64. */
export const formUrlEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

export function basicCredentials(clientId: string, clientSecret: string): string {
	return 'Basic ' + Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`).toString('base64');
}

export function tokenRequestBody(config: NormalizedConfig): URLSearchParams {
	const form = new URLSearchParams({grant_type: 'client_credentials'});
	if (config.scope !== undefined) {
		form.set('scope', config.scope);
	}

	if (config.audience !== undefined) {
		form.set('audience', config.audience);
	}

	for (const resource of config.resource) {
		form.append('resource', resource);
	}

	if (config.clientAuthentication === 'client_secret_post') {
		form.set('client_id', config.clientId);
		form.set('client_secret', config.clientSecret!);
	}

	return form;
}

/**
The token endpoint as one function: ask for a token with the configured grant and client authentication, and validate the answer.
*/
export function createTokenRequest(config: NormalizedConfig): () => Promise<TokenSet> {
	const client: Got = defaults.extend(config.tokenRequest);
	const headers = config.clientAuthentication === 'client_secret_basic'
		? {authorization: basicCredentials(config.clientId, config.clientSecret!)}
		: {};

	return async () => {
		const sizeCap = new AbortController();
		let response;
		try {
			response = await client(config.tokenEndpoint, {
				body: tokenRequestBody(config).toString(),
				headers: {...headers, 'content-type': 'application/x-www-form-urlencoded'},
				signal: sizeCap.signal,
			}).on('downloadProgress', ({transferred}) => {
				if (transferred > maxResponseBytes) {
					sizeCap.abort();
				}
			});
		} catch (error) {
			if (sizeCap.signal.aborted) {
				throw new TokenError(`Token response is larger than ${maxResponseBytes} bytes`);
			}

			const cause = cleanCause(error);
			throw new TokenError(`Token request to ${config.tokenEndpoint.origin} failed: ${cause.message}`, {cause});
		}

		return parseTokenResponse(response.statusCode, response.body);
	};
}
