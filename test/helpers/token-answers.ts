import fc from 'fast-check';
import {unsignedJwt} from './fakes.js';

/*
Random token endpoint answers for property tests: a model that fast-check generates and shrinks, rendered to the status, headers and body nock sends, and an oracle, written from RFC 6749 §5.1 and the readme rather than from source/, that says which answers issue a usable access token.
*/

const mebibyte = 1024 * 1024;

/** RFC 6750 §2.1 b64token: what a Bearer credential is made of, so a token survives the trip through a header unchanged. */
const b64tokenCharacters = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/'];

/** Distinctive, so a leak check cannot match a token by chance. */
const tokenMarker = 'AcCeSs';

export type AccessTokenShape =
	| {kind: 'opaque'; tail: string}
	| {kind: 'jwt'; exp: {offset: number} | {value: unknown}}
	| {kind: 'wrong'; value: unknown};

type ExpiresIn = {json: unknown} | {raw: string};

type TokenBody = {
	kind: 'token';
	access_token?: AccessTokenShape;
	token_type?: unknown;
	expires_in?: ExpiresIn;
	scope?: unknown;
	error?: unknown;
	extra: Record<string, unknown>;
};

export type BodyModel =
	| TokenBody
	| {kind: 'error'; error: unknown; error_description?: unknown; error_uri?: unknown; access_token?: AccessTokenShape}
	| {kind: 'array'; items: unknown[]; withToken: boolean}
	| {kind: 'scalar'; value: unknown}
	| {kind: 'text'; text: string}
	| {kind: 'form' | 'truncated'; cut: number}
	| {kind: 'empty'}
	| {kind: 'large'; bytes: number; pad: string};

export type AnswerModel = {
	status: number;
	contentType?: string;
	retryAfter?: string;
	contentEncoding?: string;
	body: BodyModel;
	/** Whether the API accepts the token this answer issues, if it issues one. */
	apiAccepts: boolean;
};

export type RenderedAnswer = {
	status: number;
	headers: Record<string, string>;
	body: string;
	/** Every access token string this answer mentions, usable or not: none may appear in an error. */
	mentionedTokens: string[];
	apiAccepts: boolean;
};

export const opaqueTail = fc.string({unit: fc.constantFrom(...b64tokenCharacters), minLength: 0, maxLength: 40});

/** Seconds from now, on the real clock at render time: jose reads `exp` against Date.now(). */
const expOffset = fc.oneof(fc.constantFrom(-86_400, -1, 0, 1, 30, 60, 61, 3600), fc.integer({min: -1e6, max: 1e6}));
const expValue = fc.constantFrom(undefined, null, '4102444800', true, 1e308, -1e308, 1.5, 0, [], {});
const jwtExp = fc.oneof(fc.record({offset: expOffset}), fc.record({value: expValue}));

const wrongAccessToken = fc.oneof(fc.constantFrom(42, 0, -1, '', null, true, false, [], {}, ['at'], {value: 'at'}), fc.double());

const opaque = fc.record({kind: fc.constant('opaque' as const), tail: opaqueTail});
const jwt = fc.record({kind: fc.constant('jwt' as const), exp: jwtExp});
const wrong = fc.record({kind: fc.constant('wrong' as const), value: wrongAccessToken});

export const accessTokenShape: fc.Arbitrary<AccessTokenShape> = fc.oneof(
	{weight: 8, arbitrary: opaque},
	{weight: 3, arbitrary: jwt},
	{weight: 1, arbitrary: wrong},
);

const bearer = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR');
const notBearer = fc.constantFrom(undefined, null, 'mac', 'DPoP', 'N_A', 'Basic', ' Bearer', 'Bearer ', '', 'bearer\u{0}', 'BEARER TOKEN');
const anyTokenType = fc.oneof(fc.string({maxLength: 40}), fc.string({unit: 'binary', maxLength: 40}), fc.integer(), fc.boolean(), fc.constant({}));
const tokenType = fc.oneof({weight: 12, arbitrary: bearer}, {weight: 2, arbitrary: notBearer}, {weight: 1, arbitrary: anyTokenType});

const goodSeconds = fc.constantFrom(undefined, 0, 1, 59, 60, 61, 120, 3599, 3600, 86_400, 1e9, Number.MAX_SAFE_INTEGER, 1e308, 0.5, 3599.9);
const oddNumbers = [null, -1, -3600, -0.5, true, false, {}, [3600]];
const numericStrings = ['3600', ' 3600 ', '3600.5', '0', '', ' ', 'NaN', 'Infinity', '-Infinity', '-5', '+5', '1e3', '0x10', 'soon', '3600s', '３６００'];
const oddSeconds = fc.constantFrom(...oddNumbers, ...numericStrings);
// Numbers that JSON.stringify cannot write: 1e400 parses to Infinity.
const rawSeconds = fc.constantFrom('1e400', '-1e400', '-0', '1E3', '3600.000', '0.0000001');
const anySeconds = fc.oneof(fc.double(), fc.integer());
const expiresIn: fc.Arbitrary<ExpiresIn> = fc.oneof(
	{weight: 10, arbitrary: fc.record({json: goodSeconds})},
	{weight: 2, arbitrary: fc.record({json: oddSeconds})},
	{weight: 1, arbitrary: fc.record({raw: rawSeconds})},
	{weight: 1, arbitrary: fc.record({json: anySeconds})},
);

/** Keys the oracle reads: random extra members must not decide the outcome behind the model's back. */
const protocolKeys = new Set(['access_token', 'token_type', 'expires_in', 'scope', 'refresh_token', 'error', 'error_description', 'error_uri']);
const extraKey = fc.string({maxLength: 12}).filter(key => !protocolKeys.has(key));
const extraMembers = fc.dictionary(extraKey, fc.jsonValue({maxDepth: 2}), {maxKeys: 3});

const usuallyAbsent = <T>(arbitrary: fc.Arbitrary<T>, odds: number) => fc.oneof({weight: odds, arbitrary: fc.constant(undefined)}, {weight: 1, arbitrary});

const tokenBody: fc.Arbitrary<TokenBody> = fc.record({
	kind: fc.constant('token' as const),
	access_token: fc.oneof({weight: 9, arbitrary: accessTokenShape}, {weight: 1, arbitrary: fc.constant(undefined)}),
	token_type: tokenType,
	expires_in: fc.oneof({weight: 1, arbitrary: fc.constant(undefined)}, {weight: 3, arbitrary: expiresIn}),
	scope: fc.constantFrom(undefined, 'read write', '', 42, null),
	// Some servers answer 200 with an error member beside a token.
	error: usuallyAbsent(fc.constantFrom('invalid_scope', null, '', 0), 19),
	extra: fc.oneof(fc.constant({}), extraMembers),
}, {requiredKeys: ['kind', 'extra']});

const errorCode = fc.oneof(
	fc.constantFrom('invalid_request', 'invalid_client', 'invalid_grant', 'unauthorized_client', 'unsupported_grant_type', 'invalid_scope', 'server_error', 'temporarily_unavailable', 'slow_down'),
	fc.constantFrom(null, '', 42, {}, []),
	fc.string({maxLength: 30}),
);

const errorBody = fc.record({
	kind: fc.constant('error' as const),
	error: errorCode,
	error_description: fc.oneof(fc.string({maxLength: 60}), fc.constantFrom(null, 42)),
	error_uri: fc.constantFrom('https://auth.example/help', '', 7),
	// Never to be copied into the error.
	access_token: accessTokenShape,
}, {requiredKeys: ['kind', 'error']});

const arrayBody = fc.record({kind: fc.constant('array' as const), items: fc.array(fc.jsonValue({maxDepth: 2}), {maxLength: 3}), withToken: fc.boolean()});

const scalar = fc.oneof(fc.integer(), fc.double(), fc.string({maxLength: 20}), fc.boolean(), fc.constant(null));
const scalarBody = fc.record({kind: fc.constant('scalar' as const), value: scalar});

const text = fc.oneof(
	fc.string({maxLength: 60}),
	fc.string({unit: 'binary', maxLength: 60}),
	fc.constantFrom('<html><body>502 Bad Gateway</body></html>', 'null', 'undefined', 'NaN', '{}garbage', '\u{FEFF}{}', 'OK'),
);
const textBody = fc.record({kind: fc.constant('text' as const), text});

const cutBody = fc.record({kind: fc.constantFrom('form' as const, 'truncated' as const), cut: fc.nat()});

const largeBody = fc.record({
	kind: fc.constant('large' as const),
	bytes: fc.constantFrom(mebibyte - 1, mebibyte, mebibyte + 1, mebibyte + 65_536),
	pad: fc.constantFrom('x', 'é'),
});

const bodyModel: fc.Arbitrary<BodyModel> = fc.oneof(
	{weight: 40, arbitrary: tokenBody},
	{weight: 3, arbitrary: errorBody},
	{weight: 1, arbitrary: arrayBody},
	{weight: 1, arbitrary: scalarBody},
	{weight: 1, arbitrary: textBody},
	{weight: 1, arbitrary: cutBody},
	{weight: 1, arbitrary: fc.constant({kind: 'empty' as const})},
	// Few of these: each costs a MiB through nock.
	{weight: 1, arbitrary: largeBody},
);

const status = fc.oneof(
	{weight: 24, arbitrary: fc.constant(200)},
	{weight: 1, arbitrary: fc.constantFrom(201, 202, 203, 204, 206)},
	{weight: 1, arbitrary: fc.constantFrom(300, 301, 302, 303, 304, 307, 308)},
	{weight: 2, arbitrary: fc.constantFrom(400, 401, 403, 404, 408, 413, 422, 429)},
	{weight: 2, arbitrary: fc.constantFrom(500, 501, 502, 503, 504)},
	{weight: 1, arbitrary: fc.integer({min: 200, max: 599})},
);

/*
Retry-After, as got reads it: whole seconds, an HTTP-date, or ignored. Only values that mean "now" or "beyond the request timeout" (no retry) are generated, so a run never sleeps.
*/
const retryAfter = fc.constantFrom(undefined, '0', '3600', '86400', 'Thu, 01 Jan 1970 00:00:00 GMT', 'Fri, 01 Jan 2100 00:00:00 GMT', 'Sun Nov  6 08:49:37 1994', 'soon', '-1', '1.5', '', '0x10');

export const answerModel: fc.Arbitrary<AnswerModel> = fc.record({
	status,
	contentType: fc.constantFrom(undefined, 'application/json', 'application/json;charset=UTF-8', 'text/plain', 'text/html', 'application/x-www-form-urlencoded'),
	retryAfter,
	// A gzip label on a plain body: the client cannot decode it.
	contentEncoding: usuallyAbsent(fc.constantFrom('identity', 'gzip'), 9),
	body: bodyModel,
	apiAccepts: fc.constantFrom(true, true, true, true, false),
}, {requiredKeys: ['status', 'body', 'apiAccepts']});

function renderAccessToken(shape: AccessTokenShape | undefined, id: string): unknown {
	switch (shape?.kind) {
		case undefined: {
			return undefined;
		}

		case 'opaque': {
			return `${tokenMarker}${id}${shape.tail}`;
		}

		case 'jwt': {
			const exp = 'offset' in shape.exp ? Math.floor(Date.now() / 1000) + shape.exp.offset : shape.exp.value;
			return unsignedJwt({sub: 'client', jti: `${tokenMarker}${id}`, exp});
		}

		case 'wrong': {
			return shape.value;
		}
	}
}

const expiresInMarker = '@@expires_in@@';

function renderTokenBody(body: TokenBody, id: string): string {
	const json = JSON.stringify({
		...body.extra,
		access_token: renderAccessToken(body.access_token, id),
		token_type: body.token_type,
		expires_in: body.expires_in === undefined ? undefined : ('raw' in body.expires_in ? expiresInMarker : body.expires_in.json),
		scope: body.scope,
		error: body.error,
	});
	return body.expires_in !== undefined && 'raw' in body.expires_in ? json.replace(`"${expiresInMarker}"`, () => (body.expires_in as {raw: string}).raw) : json;
}

function renderBody(body: BodyModel, id: string): string {
	const validToken = () => ({access_token: `${tokenMarker}${id}`, token_type: 'Bearer', expires_in: 3600});
	switch (body.kind) {
		case 'token': {
			return renderTokenBody(body, id);
		}

		case 'error': {
			return JSON.stringify({
				error: body.error,
				error_description: body.error_description,
				error_uri: body.error_uri,
				access_token: renderAccessToken(body.access_token, id),
			});
		}

		case 'array': {
			return JSON.stringify(body.withToken ? [validToken(), ...body.items] : body.items);
		}

		case 'scalar': {
			return JSON.stringify(body.value);
		}

		case 'text': {
			return body.text;
		}

		case 'form': {
			return new URLSearchParams({...validToken(), expires_in: '3600'}).toString();
		}

		case 'truncated': {
			const json = JSON.stringify(validToken());
			return json.slice(0, body.cut % json.length);
		}

		case 'empty': {
			return '';
		}

		case 'large': {
			const head = JSON.stringify({...validToken(), padding: ''});
			const room = body.bytes - Buffer.byteLength(head);
			// Whole pad characters, then ASCII to land on the exact byte count; 'é' makes bytes and characters differ.
			const count = Math.floor(room / Buffer.byteLength(body.pad));
			const padding = body.pad.repeat(count) + 'x'.repeat(room - (count * Buffer.byteLength(body.pad)));
			return JSON.stringify({...validToken(), padding});
		}
	}
}

/** HTTP forbids a body on these; nock's fetch Response refuses one. */
const nullBodyStatuses = new Set([204, 205, 304]);

/**
What nock sends for an answer. `id` makes every token unique, so the API can tell which answer issued the token it receives.
*/
export function renderAnswer(model: AnswerModel, id: string, redirectTarget: string): RenderedAnswer {
	const headers: Record<string, string> = {};
	for (const [name, value] of [['content-type', model.contentType], ['retry-after', model.retryAfter], ['content-encoding', model.contentEncoding]] as const) {
		if (value !== undefined) {
			headers[name] = value;
		}
	}

	if (model.status >= 300 && model.status <= 399) {
		// Followed, it would carry the client credentials to the API, where the test sees it.
		headers.location = redirectTarget;
	}

	const body = nullBodyStatuses.has(model.status) ? '' : renderBody(model.body, id);
	const mentionedTokens = body.includes(tokenMarker) ? tokensIn(body) : [];
	return {status: model.status, headers, body, mentionedTokens, apiAccepts: model.apiAccepts};
}

/** The distinctive token strings in a body, opaque and JWT alike. */
const tokensIn = (body: string): string[] => Array.from(body.matchAll(/AcCeSs[\w+\-.\/~]*|eyJ[\w\-]+\.[\w\-]+\./gv), match => match[0]);

/** The body as the client reads it: UTF-8 on the wire, so a lone surrogate arrives as U+FFFD. */
const asReceived = (body: string) => Buffer.from(body).toString('utf8');

/** Azure AD v1 sends `expires_in` as a string of decimal digits; the readme accepts that. */
const decimalSeconds = /^\s*\d+(?:\.\d+)?\s*$/v;

function isValidExpiresIn(value: unknown): boolean {
	if (value === undefined || value === null) {
		return true;
	}

	const seconds = typeof value === 'string' && decimalSeconds.test(value) ? Number(value) : value;
	return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0;
}

/**
The oracle: the access token this answer issues, or `undefined` when the readme says the answer is a TokenError (not 2xx, not a JSON object, an `error` member, no `access_token` string, a `token_type` other than Bearer, a bad `expires_in`, over 1 MiB, or a body the client cannot decode).
*/
export function issuedToken(answer: Pick<RenderedAnswer, 'status' | 'headers' | 'body'>): string | undefined {
	if (answer.status < 200 || answer.status > 299 || answer.headers['content-encoding'] === 'gzip' || Buffer.byteLength(answer.body) > mebibyte) {
		return undefined;
	}

	let json: unknown;
	try {
		json = JSON.parse(asReceived(answer.body));
	} catch {
		return undefined;
	}

	if (typeof json !== 'object' || json === null || Array.isArray(json)) {
		return undefined;
	}

	const {access_token: accessToken, token_type: type = 'Bearer', expires_in: expires, error} = json as Record<string, unknown>;
	const isBearer = type === null || (typeof type === 'string' && type.toLowerCase() === 'bearer');
	return error === undefined && typeof accessToken === 'string' && accessToken !== '' && isBearer && isValidExpiresIn(expires) ? accessToken : undefined;
}
