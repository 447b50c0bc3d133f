import type {NormalizedOptions} from 'got';

/**
Per-request state, in `options.context`, whose top-level keys got carries across retries and redirects. Never holds a secret.
*/
type RequestState = {
	/**
	Where the request started; the token goes to no other origin. Absent: not ours to authorize.
	*/
	readonly origin?: string;
	/**
	The one 401 retry has been made.
	*/
	readonly retried?: boolean;
};

const contextKey = 'gotOAuth';

export const notOurs: RequestState = Object.freeze({});

export const readRequestState = (options: Pick<NormalizedOptions, 'context'>): RequestState | undefined => options.context[contextKey] as RequestState | undefined;

export function writeRequestState(options: Pick<NormalizedOptions, 'context'>, state: RequestState): void {
	options.context[contextKey] = state;
}

/**
The context for `retryWithMergedOptions`: its top-level keys replace the request's.
*/
export const retryContext = (state: RequestState): Record<string, unknown> => ({[contextKey]: {...state, retried: true}});
