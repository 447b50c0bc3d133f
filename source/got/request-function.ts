import type {NormalizedOptions, RequestFunction} from 'got';
import {forgetSentHead} from './forget-sent-head.js';

/*
The token never enters got's options, where every error got makes would carry it. It goes into a private copy of the native request options, in the function got calls to create the request: after every hook and every redirect, so the request's final URL decides whether it goes at all.
*/

type AnyRequestFunction = (...arguments_: unknown[]) => unknown;

/**
Our request functions, each mapped to the one it wraps (the caller's own, or `undefined` for got's default). got copies `request` into each retry's and redirect hop's options, so a hook must unwrap before wrapping again.
*/
const wrapped = new WeakMap<AnyRequestFunction, AnyRequestFunction | undefined>();

export const unwrapRequest = (request: RequestFunction | undefined): RequestFunction | undefined =>
	wrapped.has(request as AnyRequestFunction) ? wrapped.get(request as AnyRequestFunction) as RequestFunction | undefined : request;

/**
got's own choice for the options' current URL: `http.request`, `https.request`, or its HTTP/2 client.
*/
function gotDefaultRequest(options: NormalizedOptions): AnyRequestFunction {
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
Node has copied the headers once the request exists; the agent's and the TLS socket's options could otherwise keep ours. The last one added goes first, which keeps the deletes cheap.
*/
function forgetOurHeaders(headers: Record<string, unknown>, proof: string | undefined): void {
	if (proof !== undefined) {
		delete headers.dpop;
	}

	delete headers.authorization;
}

/**
What a request is authorized with.
*/
export type Authorization = {
	/**
	The `authorization` header's value: `Bearer <token>`, `DPoP <token>`.
	*/
	readonly header: string;
	/**
	Signs a DPoP proof (RFC 9449 §4.2) for the request as it leaves: its method, and its URL without query and fragment.
	*/
	readonly prove?: (htm: string, htu: string) => Promise<string>;
};

/**
Make this attempt's request carry `authorization` when, and only when, it leaves for `origin`, and with `prove`, a `DPoP` proof of its own method and URL. `onSent` learns that it did.
*/
export function installRequestFunction(options: NormalizedOptions, origin: string, {header, prove}: Authorization, onSent: () => void): void {
	const own = unwrapRequest(options.request) as AnyRequestFunction | undefined;
	const call = (...arguments_: unknown[]): unknown => {
		const result = own?.(...arguments_);
		if (result === undefined) {
			return gotDefaultRequest(options)(...arguments_);
		}

		return isPromise(result) ? result.then(resolved => resolved ?? gotDefaultRequest(options)(...arguments_)) : result;
	};

	// `proof`: the DPoP proof, once signed; got itself passes no fourth argument.
	const gotOAuthRequest = (first: unknown, second: unknown, third: unknown, proof?: string): unknown => {
		const isViaCache = !(first instanceof URL);
		const native = (isViaCache ? first : second) as NativeOptions;
		// The last word on where the token goes. A header set after our hook ran is someone's own: it wins.
		const target = first instanceof URL ? first.origin : originOf(native);
		if (target !== origin || native.headers?.authorization !== undefined) {
			return call(first, second, third);
		}

		if (prove !== undefined && proof === undefined) {
			// The method and URL the request leaves with, after every hook: the proof is for them alone.
			const url = first instanceof URL ? first : new URL(native.href ?? target);
			return prove((native.method ?? 'GET').toUpperCase(), `${url.origin}${url.pathname}`)
				.then(signed => gotOAuthRequest(first, second, third, signed));
		}

		const headers: Record<string, unknown> = proof === undefined ? {...native.headers, authorization: header} : {...native.headers, authorization: header, dpop: proof};
		const copy = {...native, headers};
		if (isViaCache) {
			// The cache applies shared-cache rules from its own view of the headers: tell it the request is authorized, not with what.
			native.headers = {...native.headers, authorization: 'Bearer'};
		}

		onSent();
		const created = (request: unknown): unknown => {
			forgetOurHeaders(headers, proof);
			forgetSentHead(request, header, options.signal, proof);
			return request;
		};

		const result = isViaCache ? call(copy, second, third) : call(first, copy, third);
		return isPromise(result)
			? result.then(created).catch((error: unknown) => {
				forgetOurHeaders(headers, proof);
				throw error;
			})
			: created(result);
	};

	wrapped.set(gotOAuthRequest as AnyRequestFunction, own);
	options.request = gotOAuthRequest as RequestFunction;
}
