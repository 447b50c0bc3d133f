import type {OriginPolicy} from '../origin-policy.js';
import type {TokenSource} from '../token-source/token-source.js';
import {bearerHeader} from './bearer.js';

/**
The fetch that actually sends: the caller's own, or the global one.
*/
export type InnerFetch = (request: Request, init?: RequestInit) => Promise<Response>;

/**
One call as the adapter sees it. ky makes one call several attempts (its own retries); every attempt gets the same `state`.
*/
export type Call = {
	readonly fetch: InnerFetch;
	/**
	What the inner fetch gets beside the request: fetch-only extensions, never headers or a body, which would replace the request's.
	*/
	readonly init: RequestInit | undefined;
	/**
	The body was given as a value that can be sent again (`isReplayableBody`).
	*/
	readonly isBodyReplayable: boolean;
	/**
	The request was made by the adapter for this call and is held by no one else, so the token may be set on it.
	*/
	readonly isOwnRequest: boolean;
	/**
	The origin the client names as its API (ky's `prefix`), for the origin rule.
	*/
	readonly preferred?: () => string | undefined;
	readonly state: {
		/**
		The call has met its one 401 with our token: no second invalidation, no second retry.
		*/
		answered401: boolean;
	};
};

export type Send = (request: Request, call: Call) => Promise<Response>;

/**
The request with the token. A request the adapter made for this call gets it in place. Anyone else's (ky keeps its Request for its errors and hooks) is left as it is: the token goes on a copy, with every other header kept, since `new Request(request, {headers})` replaces them all. The copy takes over the body without reading it.
*/
function withAuthorization(request: Request, header: string, isOwnRequest: boolean): Request {
	if (isOwnRequest) {
		request.headers.set('authorization', header);
		return request;
	}

	const headers = new Headers(request.headers);
	headers.set('authorization', header);
	return new Request(request, {headers});
}

/**
fetch drops `Authorization` on the first hop to another origin and never puts it back (Fetch standard, HTTP-redirect fetch; whatwg/fetch#1544), so a response that ended at another origin did not see our token. A → B → A cannot be told from A → A: it costs one needless invalidation and retry, bounded like any other.
*/
const isAnswerFromOrigin = (response: Response, origin: string): boolean => !response.redirected || URL.parse(response.url)?.origin === origin;

function discard(message: Request | Response | undefined): void {
	// A body already read or locked by the caller cannot be cancelled; nothing is lost.
	message?.body?.cancel().catch(() => undefined);
}

/**
The token layer over any fetch: the token on a request to an allowed origin that has no `Authorization` of its own; on a 401 that saw it, the token invalidated if still current and the request sent once more with a fresh one, when its body can be sent again.
*/
export function createSendWithToken(source: TokenSource, policy: OriginPolicy): Send {
	const bearer = bearerHeader();

	return async (request, call) => {
		// A caller's own credentials are theirs: no token, no 401 handling, as with got.
		if (request.headers.has('authorization')) {
			return call.fetch(request, call.init);
		}

		const {origin} = new URL(request.url);
		if (!policy.allows(origin, call.preferred)) {
			return call.fetch(request, call.init);
		}

		const {signal} = request;
		const token = source.getTokenSync() ?? await source.getToken({signal});
		const header = bearer(token);
		const {state} = call;
		const canRetry = !state.answered401 && (request.body === null || call.isBodyReplayable);
		// The one copy of the body a retry needs, taken before the first send consumes it; dropped as soon as the answer is not a 401.
		const spare = canRetry && request.body !== null ? request.clone() : undefined;
		let response: Response;
		try {
			response = await call.fetch(withAuthorization(request, header, call.isOwnRequest), call.init);
		} catch (error) {
			discard(spare);
			throw error;
		}

		if (response.status !== 401 || state.answered401 || !isAnswerFromOrigin(response, origin)) {
			if (response.status !== 401 && source.isAwaitingAcceptance) {
				source.accepted(token);
			}

			discard(spare);
			return response;
		}

		state.answered401 = true;
		// Rejected: the next call gets another token, even when this one cannot be sent again. A fresh token the API rejected too is kept for a while, and not retried.
		const canGetAnother = source.rejected(token);
		if (!canRetry || !canGetAnother) {
			discard(spare);
			return response;
		}

		let fresh: string;
		try {
			fresh = bearer(await source.getToken({signal}));
		} catch (error) {
			discard(spare);
			discard(response);
			throw error;
		}

		discard(response);
		return call.fetch(withAuthorization(spare ?? request, fresh, call.isOwnRequest), call.init);
	};
}
