import type {ClientRequest} from 'node:http';
import got, {type Got, type OptionsInit, type Response, type RetryObject} from 'got';
import {fullJitter} from '../backoff.js';
import {TokenError, cleanCause} from '../errors.js';
import {forgetSentHead} from '../got-request/forget-sent-head.js';
import type {TokenRequestOptions} from './options.js';

/*
got as the authorization server's client: for the token endpoint and for metadata. Never for API requests, so neither side's options reach the other.
*/

/**
A token response or a metadata document is a few KiB; anything near this is not one.
*/
const maxResponseBytes = 1024 * 1024;

/**
First wait between token request retries, in milliseconds.
*/
export const tokenRetryBase = 250;

/**
got's `retry.calculateDelay` for the token request. got has already applied its rules (limit, methods, status codes, error codes) and any `Retry-After` (seconds or HTTP-date) in `computedValue`: 0 means no retry.
*/
export function tokenRetryDelay({attemptCount, retryAfter, computedValue, retryOptions}: RetryObject): number {
	// got treats 0 as "do not retry", so the smallest jittered wait is 1 ms.
	return computedValue === 0 || retryAfter !== undefined
		? computedValue
		: Math.max(1, fullJitter(attemptCount - 1, tokenRetryBase, retryOptions.backoffLimit));
}

/**
Failures that prove the request never reached the server: the connection was never made.
*/
const unsentErrorCodes = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EADDRINUSE']);

/**
A request that may have reached the server is not sent again when the server spends what it carries (a rotating refresh token): a retry would replay it, and a server that detects reuse revokes the whole grant. Retried only when the connection was never made, or the server said to come back with `429` or `503` and `Retry-After` (RFC 9110 §10.2.3), which it does for requests it did not process.
*/
function isProvablyUnprocessed({error, retryAfter}: RetryObject): boolean {
	const status = error.response?.statusCode;
	return status === undefined
		? unsentErrorCodes.has(error.code)
		: (status === 429 || status === 503) && retryAfter !== undefined;
}

const defaults: Got = got.extend({
	headers: {accept: 'application/json'},
	responseType: 'text',
	throwHttpErrors: false,
	// A redirect would carry the client credentials, or a forged metadata document, from somewhere the configuration never named.
	followRedirect: false,
	timeout: {request: 10_000},
	retry: {
		limit: 2,
		// POST is not idempotent in general; a token request is, except where `isReplaySafe` says otherwise.
		methods: ['GET', 'POST'],
		statusCodes: [408, 429, 500, 502, 503, 504],
		calculateDelay: tokenRetryDelay,
		backoffLimit: 5000,
	},
});

/**
A client for the authorization server with the configured `tokenRequest` options. With `isReplaySafe: false`, a request is retried only where it provably never reached the server, whatever the retry options say.
*/
export function authorizationServerClient(options: TokenRequestOptions, {isReplaySafe}: {isReplaySafe: boolean}, own: OptionsInit = {}): Got {
	const calculateDelay = options.retry?.calculateDelay ?? tokenRetryDelay;
	const replaySafety: OptionsInit = {retry: {calculateDelay: async retryObject => isProvablyUnprocessed(retryObject) ? calculateDelay(retryObject) : 0}};
	return defaults.extend(options, own, isReplaySafe ? {} : replaySafety);
}

/**
What a low-level failure means for someone configuring the client.
*/
function hintFor(cause: Error & {code?: unknown}, url: URL): string {
	// OpenSSL's words for a TLS handshake that got an HTTP answer.
	return url.protocol === 'https:' && (cause.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || cause.code === 'EPROTO' || cause.message.includes('wrong version number'))
		? `; the server at ${url.origin} answered in plain HTTP, not TLS: should the URL be http:?`
		: '';
}

/**
Node keeps a request's head for the request's life, where any got error in the process can reach it through the shared agent (`util.inspect` with `showHidden`): the client's Basic credentials go from there once sent.
*/
function forgetCredentials(request: unknown): void {
	const header = (request as Partial<ClientRequest> | undefined)?.getHeader?.('authorization');
	if (typeof header === 'string') {
		forgetSentHead(request, header, undefined);
	}
}

/**
When getting a token must be over: one for the metadata request, every attempt and the waits between them.
*/
export type Deadline = {
	readonly signal: AbortSignal;
	readonly seconds: number;
};

export const startDeadline = (seconds: number): Deadline => ({signal: AbortSignal.timeout(seconds * 1000), seconds});

/**
One request whose body may not exceed `maxResponseBytes`. Failures are `TokenError`s that hold neither got's options (the client credentials) nor the response body (a token).
*/
export async function cappedRequest(client: Got, url: URL, options: Pick<OptionsInit, 'method' | 'context'>, what: string, deadline: Deadline): Promise<Response<string>> {
	const sizeCap = new AbortController();
	try {
		return await client(url, {...options, responseType: 'text', signal: AbortSignal.any([sizeCap.signal, deadline.signal])}).on('request', forgetCredentials).on('downloadProgress', ({transferred}) => {
			if (transferred > maxResponseBytes) {
				sizeCap.abort();
			}
		});
	} catch (error) {
		if (sizeCap.signal.aborted) {
			throw new TokenError(`${what} failed: the response is larger than ${maxResponseBytes} bytes`);
		}

		const cause = cleanCause(error);
		if (deadline.signal.aborted) {
			throw new TokenError(`${what} did not finish within \`tokenTimeout\` (${deadline.seconds} s), its retries included`, {cause});
		}

		throw new TokenError(`${what} failed: ${cause.message}${hintFor(cause, url)}`, {cause});
	}
}
