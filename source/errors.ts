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
	RFC 6749 §5.2 `error_description`, cleaned: no control characters, at most 300 characters, no credential of the client's.
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
	/**
	Set when this is an earlier failure repeated during the cool-down: milliseconds until the token endpoint is asked again (0: another caller is asking it now).
	*/
	nextAttemptIn?: number;
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
	readonly nextAttemptIn?: number;

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
		this.nextAttemptIn = details.nextAttemptIn;
	}

	#copy(message: string, changes: TokenErrorDetails, options?: Options | NormalizedOptions): TokenError {
		const {error: code, errorDescription, errorUri, statusCode, cause, nextAttemptIn} = this;
		const error = new TokenError(message, {error: code, errorDescription, errorUri, statusCode, cause, nextAttemptIn, ...changes}, options);
		// The frames of the original failure, under this message.
		const frames = this.stack?.split('\n').slice(1) ?? [];
		error.stack = [`${error.name}: ${message}`, ...frames].join('\n');
		return error;
	}

	/**
	The same failure, bound to one API request so got can route it; shared waiters each get their own.
	*/
	forRequest(options: Options | NormalizedOptions): TokenError {
		return this.#copy(this.message, {}, options);
	}

	/**
	The same failure, told again during the cool-down.
	*/
	repeated(message: string, nextAttemptIn: number): TokenError {
		return this.#copy(message, {nextAttemptIn});
	}
}

/**
The configuration is wrong: thrown by `oauthHooks()` and `createTokenSource()` before any request. The message names the option and never shows its value.
*/
export class ConfigurationError extends TypeError {
	override name = 'ConfigurationError';
	/**
	The option that is wrong, as a path: `tokenRequest.followRedirect`, `privateKey.alg`.
	*/
	readonly option: string;

	constructor(option: string, problem: string) {
		super(`got-oauth: \`${option}\` ${problem}`);
		this.option = option;
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
The longest piece of a server's text (an `error_description`) an error repeats.
*/
const maxServerText = 300;

// ANSI escape sequences, then every other control character: a server's text must not rewrite a terminal or forge log lines.
// eslint-disable-next-line no-control-regex, regexp/no-control-character -- matching them is the point.
const ansiEscapes = /\u{1B}\[[\u{30}-\u{3F}]*[\u{20}-\u{2F}]*[\u{40}-\u{7E}]|\u{1B}[\u{40}-\u{5F}]/gv;
// eslint-disable-next-line no-control-regex, regexp/no-control-character -- matching them is the point.
const controlCharacters = /[\u{0}-\u{1F}\u{7F}-\u{9F}]+/gv;

/**
A server's text as an error may repeat it: without control characters, at most 300 characters, and with every one of `secrets` (the client's own credentials, should the server echo them) replaced by `[redacted]`.
*/
export function safeServerText(text: string | undefined, secrets: Iterable<string> = []): string | undefined {
	if (text === undefined) {
		return undefined;
	}

	let clean = text;
	for (const secret of secrets) {
		clean = clean.replaceAll(secret, '[redacted]');
	}

	clean = clean.replaceAll(ansiEscapes, '').replaceAll(controlCharacters, ' ');
	return clean.length > maxServerText ? `${clean.slice(0, maxServerText - 1)}…` : clean;
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
