import type {NormalizedOptions} from 'got';

/*
Per-request state, in `options.context`, whose top-level keys got carries across retries, redirects and pages. Never holds a secret.
*/

/**
The `context` key: a caller that sets it to `false` opts the request out of the token layer.
*/
export const contextKey = 'gotOAuth';

type RequestState = {
	/**
	Where the request started; the token goes to no other origin. Absent: not ours to authorize.
	*/
	readonly origin?: string;
	/**
	The one 401 retry has been made.
	*/
	readonly retried?: boolean;
	/**
	The API rejected a fresh token too: the 401 the caller gets says so.
	*/
	readonly freshTokenRejected?: boolean;
};

export const notOurs: RequestState = Object.freeze({});

export function readRequestState(options: Pick<NormalizedOptions, 'context'>): RequestState | false | undefined {
	return options.context[contextKey] as RequestState | false | undefined;
}

export function writeRequestState(options: Pick<NormalizedOptions, 'context'>, state: RequestState): void {
	options.context[contextKey] = state;
}

/**
The context for `retryWithMergedOptions`, whose top-level keys replace the request's.
*/
export const retryContext = (state: RequestState): Record<string, unknown> => ({[contextKey]: {...state, retried: true}});
