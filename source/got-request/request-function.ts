import http from 'node:http';
import https from 'node:https';
import type {NormalizedOptions, Options, RequestFunction} from 'got';
import {forgetSentHead} from './forget-sent-head.js';

/*
The token never enters got's options, where every error got makes would carry it. It goes into a private copy of the native request options, in the function got calls to create the request: after every hook and every redirect, so the request's final URL decides whether it goes at all.
*/

type AnyRequestFunction = (...arguments_: unknown[]) => unknown;

/**
What our request function wraps (the caller's own, or `undefined` for got's default): got copies `request` into each retry's and redirect hop's options, so a hook must unwrap before wrapping again.
*/
const wrappedFunction = Symbol('got-oauth: wrapped request function');

/**
Reads the token the attempt sent, once it has sent one. A function, so that no rendering of the options shows the token.
*/
const sentToken = Symbol('got-oauth: sent token');

/**
got calls it with three arguments; the fourth is ours, the DPoP proof once signed.
*/
type OAuthRequestFunction = ((url: URL, options: Parameters<RequestFunction>[1], callback?: Parameters<RequestFunction>[2], proof?: string) => ReturnType<RequestFunction>) & {
	[wrappedFunction]?: AnyRequestFunction | undefined;
	[sentToken]?: () => string;
};

export function unwrapRequest(request: RequestFunction | undefined): RequestFunction | undefined {
	const ours: OAuthRequestFunction | undefined = request;
	return ours !== undefined && Object.hasOwn(ours, wrappedFunction) ? ours[wrappedFunction] as RequestFunction | undefined : request;
}

/**
The token this attempt's request carried, if it carried one of ours.
*/
export function tokenSentWith(options: Options | NormalizedOptions): string | undefined {
	const {request}: {request?: OAuthRequestFunction} = options;
	return request?.[sentToken]?.();
}

/**
got's own rule for HTTP/1 (`http.request` or `https.request`), without two trips through the validating `request` setter on every request; `undefined` where got would choose its HTTP/2 client.
*/
function nodeRequestFor(options: NormalizedOptions): typeof http.request | undefined {
	const {url} = options;
	if (url instanceof URL && !options.http2 && options.h2session === undefined) {
		return url.protocol === 'https:' ? https.request : http.request;
	}

	return undefined;
}

/**
got's own choice for the options' current URL: `http.request`, `https.request`, or its HTTP/2 client.
*/
function gotDefaultRequest(options: NormalizedOptions): AnyRequestFunction {
	const nodeRequest = nodeRequestFor(options);
	if (nodeRequest !== undefined) {
		return nodeRequest as AnyRequestFunction;
	}

	const own = options.request;
	options.request = undefined;
	try {
		return options.getRequestFunction() as AnyRequestFunction;
	} finally {
		options.request = own;
	}
}

type NativeOptions = {headers?: Record<string, unknown>; href?: string; protocol?: string; hostname?: string; port?: string | number; method?: string};

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as {then?: unknown} | undefined)?.then === 'function';

/**
Through got's `cache` option the function is called as `(nativeOptions, handler)`, with the URL in the options.
*/
function originOf(native: NativeOptions): string {
	return native.href === undefined
		? new URL(`${native.protocol ?? 'http:'}//${native.hostname ?? ''}${native.port === undefined ? '' : `:${native.port}`}`).origin
		: new URL(native.href).origin;
}

/**
Call the wrapped function, or got's default where there is none or it declines (returns `undefined`), as got itself would.
*/
function callThrough(own: AnyRequestFunction | undefined, options: NormalizedOptions, first: unknown, second: unknown, third: unknown): unknown {
	const result = own?.(first, second, third);
	if (result === undefined) {
		return gotDefaultRequest(options)(first, second, third);
	}

	return isPromise(result) ? result.then(resolved => resolved ?? gotDefaultRequest(options)(first, second, third)) : result;
}

/**
What a request is authorized with.
*/
export type Authorization = {
	/**
	The `authorization` header's value: `Bearer <token>`, `DPoP <token>`, or a client's `Basic` credentials.
	*/
	readonly header: string;
	/**
	Reads the token, for the 401 handling.
	*/
	readonly read: () => string;
	/**
	Signs a DPoP proof (RFC 9449 §4.2) for the request as it leaves: its method, and its URL without query and fragment.
	*/
	readonly prove?: (htm: string, htu: string) => Promise<string>;
};

/**
Node has copied the headers once the request exists; the agent's and the TLS socket's options could otherwise keep ours.
*/
function forgetOurHeaders(headers: Record<string, unknown>, proof: string | undefined): void {
	// Assigned, not deleted: `delete` turns the object into a slow dictionary on every request.
	if (proof !== undefined) {
		headers.dpop = undefined;
	}

	headers.authorization = undefined;
}

/**
The request exists, and Node has copied the headers: ours go, and the copies Node keeps are wiped once sent.
*/
function created(request: unknown, headers: Record<string, unknown>, header: string, signal: AbortSignal | undefined, proof: string | undefined): unknown {
	forgetOurHeaders(headers, proof);
	forgetSentHead(request, header, signal, proof);
	return request;
}

/**
Send the request with `headers` in place of got's, which stay as they were.
*/
// eslint-disable-next-line max-params -- got's three arguments as they came, without an array on every request.
function sendWithHeaders(own: AnyRequestFunction | undefined, options: NormalizedOptions, native: NativeOptions, headers: Record<string, unknown>, first: unknown, second: unknown, third: unknown): unknown {
	if (!(first instanceof URL)) {
		const copy = {...native, headers};
		// Through got's cache, which applies shared-cache rules from its own view of the headers: tell it the request is authorized, not with what.
		native.headers = {...native.headers, authorization: 'Bearer'};
		return callThrough(own, options, copy, second, third);
	}

	const nodeRequest = own === undefined ? nodeRequestFor(options) : undefined;
	if (nodeRequest === undefined) {
		return callThrough(own, options, first, {...native, headers}, third);
	}

	// Node copies the options into a request of its own before it returns, so got's may carry our headers for the length of the call.
	const gotHeaders = native.headers;
	native.headers = headers;
	try {
		return (nodeRequest as AnyRequestFunction)(first, native, third);
	} finally {
		native.headers = gotHeaders;
	}
}

/**
Make this attempt's request carry `authorization` when, and only when, it leaves for `origin`, and with `prove`, a `DPoP` proof of its own method and URL.
*/
export function installRequestFunction(options: NormalizedOptions, origin: string, token: Authorization): void {
	const own = unwrapRequest(options.request) as AnyRequestFunction | undefined;
	// `proof`: the DPoP proof, once signed; got itself passes no fourth argument.
	const gotOAuthRequest: OAuthRequestFunction = (first, second, third, proof?: string): ReturnType<RequestFunction> => {
		const native = (first instanceof URL ? second : first) as NativeOptions;
		// The last word on where the token goes. A header set after our hook ran is someone's own: it wins.
		const target = first instanceof URL ? first.origin : originOf(native);
		if (target !== origin || native.headers?.authorization !== undefined) {
			return callThrough(own, options, first, second, third) as ReturnType<RequestFunction>;
		}

		if (proof === undefined && token.prove !== undefined) {
			// The method and URL the request leaves with, after every hook: the proof is for them alone.
			const url = first instanceof URL ? first : new URL(native.href ?? target);
			return token.prove((native.method ?? 'GET').toUpperCase(), `${url.origin}${url.pathname}`)
				.then(async signed => gotOAuthRequest(first, second, third, signed));
		}

		const headers: Record<string, unknown> = proof === undefined ? {...native.headers, authorization: token.header} : {...native.headers, authorization: token.header, dpop: proof};
		gotOAuthRequest[sentToken] = token.read;
		const result = sendWithHeaders(own, options, native, headers, first, second, third);
		if (isPromise(result)) {
			return result.then(request => created(request, headers, token.header, options.signal, proof)).catch((error: unknown) => {
				forgetOurHeaders(headers, proof);
				throw error;
			}) as ReturnType<RequestFunction>;
		}

		return created(result, headers, token.header, options.signal, proof) as ReturnType<RequestFunction>;
	};

	gotOAuthRequest[wrappedFunction] = own;
	options.request = gotOAuthRequest;
}
