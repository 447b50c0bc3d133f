import {RequestError, type NormalizedOptions, type Options} from 'got';

/*
Every error got-oauth throws, and the rules for what an error may show: never a secret, a token or a value from the configuration, only its type.
*/

export type TokenErrorDetails = {
	/**
	RFC 6749 §5.2 `error` code, when the authorization server sent one.
	*/
	error?: string;
	/**
	RFC 6749 §5.2 `error_description`.
	*/
	errorDescription?: string;
	/**
	RFC 6749 §5.2 `error_uri`.
	*/
	errorUri?: string;
	/**
	The token endpoint's HTTP status. Absent when no response arrived.
	*/
	statusCode?: number;
	/**
	The underlying failure (network error, timeout). Never a got error, whose options would carry the client credentials.
	*/
	cause?: unknown;
};

/**
No access token could be had, so the API request was not sent.

It extends got's `RequestError` so that got hands it to the caller as it is, and its `code` is not one got retries. The token source throws it too, whatever client asked for the token.
*/
export class TokenError extends RequestError {
	override name = 'TokenError';
	override code = 'ERR_OAUTH_TOKEN' as const;
	readonly error?: string;
	readonly errorDescription?: string;
	readonly errorUri?: string;
	readonly statusCode?: number;

	constructor(message: string, details: TokenErrorDetails = {}, options?: Options | NormalizedOptions) {
		// `RequestError` copies the cause's `code`; a retryable one (ECONNREFUSED) would make got retry the API request.
		super(message, {}, options as unknown as Options);
		hideRequestDetails(this);
		if (details.cause === undefined) {
			delete this.cause;
		} else {
			Object.defineProperty(this, 'cause', {value: details.cause, writable: true, configurable: true});
		}

		this.error = details.error;
		this.errorDescription = details.errorDescription;
		this.errorUri = details.errorUri;
		this.statusCode = details.statusCode;
	}

	/**
	The same failure, bound to one API request so got can route it; shared waiters each get their own.
	*/
	forRequest(options: Options | NormalizedOptions): TokenError {
		const {error: code, errorDescription, errorUri, statusCode, cause} = this;
		const error = new TokenError(this.message, {error: code, errorDescription, errorUri, statusCode, cause}, options);
		error.stack = this.stack;
		return error;
	}
}

/**
The configuration is wrong: thrown by `oauthHooks()` and `createTokenSource()` before any request. The message names the option and never shows its value.
*/
export class ConfigurationError extends TypeError {
	override name = 'ConfigurationError';

	constructor(option: string, problem: string) {
		super(`got-oauth: \`${option}\` ${problem}`);
	}
}

/**
A value as an error message may show it: by its type, never its content, which may be a secret.
*/
export function describeValue(value: unknown): string {
	if (value === null) {
		return 'null';
	}

	return Array.isArray(value) ? 'an array' : typeof value;
}

/**
A thrown non-error as text; some values (an object without a prototype, a throwing `toString`) have none.
*/
function describeThrown(value: unknown): string {
	try {
		return String(value);
	} catch {
		return `a thrown ${typeof value}`;
	}
}

/**
A failure from got carries got's options (the client secret); keep only what explains it.
*/
export function cleanCause(error: unknown): Error {
	if (error instanceof RequestError) {
		const clean = new Error(error.message);
		Object.defineProperty(clean, 'code', {value: error.code, enumerable: true});
		return clean;
	}

	return error instanceof Error ? error : new Error(describeThrown(error));
}

/**
got makes a request's live options (headers, context) and its request and response enumerable on errors, so `util.inspect` and `JSON.stringify` would print them. Keep them readable, but out of those.
*/
export function hideRequestDetails<ErrorType extends Error>(error: ErrorType): ErrorType {
	for (const key of ['options', 'request', 'response', 'timings']) {
		const descriptor = Object.getOwnPropertyDescriptor(error, key);
		if (descriptor?.enumerable) {
			Object.defineProperty(error, key, {...descriptor, enumerable: false});
		}
	}

	return error;
}
