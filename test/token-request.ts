import test from 'ava';
import nock from 'nock';
import {createTokenSource, TokenError, ConfigurationError, type OAuthConfig} from '../source/index.js';
import {fakeClock} from './helpers/fakes.js';

const origin = 'https://auth.example';
const tokenEndpoint = `${origin}/oauth/token`;
const base: OAuthConfig = {tokenEndpoint, clientId: 'client', clientSecret: 'secret', tokenRequest: {retry: {backoffLimit: 1}}};

type Seen = {body: URLSearchParams; headers: Headers};

/** Answers token requests and records what each one carried. */
function tokenEndpointReplies(...replies: Array<[number, unknown, Record<string, string>?]>) {
	const seen: Seen[] = [];
	const scope = nock(origin).post('/oauth/token').times(replies.length).reply(async (request: Request) => {
		seen.push({body: new URLSearchParams(await request.text()), headers: request.headers});
		const [status, body, headers] = replies[seen.length - 1]!;
		return [status, typeof body === 'string' ? body : JSON.stringify(body), headers ?? {}];
	});
	return {seen, scope};
}

const ok = {access_token: 'at-1', token_type: 'Bearer', expires_in: 3600};

test.before(() => {
	nock.disableNetConnect();
});

test.afterEach.always(() => {
	nock.cleanAll();
});

test.serial('a client credentials request is a form POST with every configured parameter', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	const source = createTokenSource({
		...base,
		scope: ['read', 'write'],
		audience: 'https://api.example',
		resource: ['https://api.example/', 'https://other.example/'],
	});

	t.is(await source.getToken(), 'at-1');
	const [{body, headers}] = seen as [Seen];
	t.is(body.get('grant_type'), 'client_credentials');
	t.is(body.get('scope'), 'read write');
	t.is(body.get('audience'), 'https://api.example');
	t.deepEqual(body.getAll('resource'), ['https://api.example/', 'https://other.example/']);
	t.false(body.has('client_secret'));
	t.is(headers.get('content-type'), 'application/x-www-form-urlencoded');
	t.is(headers.get('accept'), 'application/json');
});

test.serial('parameters that are not configured are not sent', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	await createTokenSource({...base, scope: 'read'}).getToken();
	t.is(seen[0]!.body.toString(), 'grant_type=client_credentials&scope=read');
});

test.serial('client_secret_basic form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	await createTokenSource({...base, clientId: 'app:1 +%', clientSecret: 's3:cr%t +é€'}).getToken();

	const authorization = seen[0]!.headers.get('authorization')!;
	t.true(authorization.startsWith('Basic '));
	const decoded = Buffer.from(authorization.slice(6), 'base64').toString();
	t.is(decoded, 'app%3A1+%2B%25:s3%3Acr%25t+%2B%C3%A9%E2%82%AC');
	// The colon that separates them is the only raw one.
	const [id, secret] = decoded.split(':').map(part => decodeURIComponent(part.replaceAll('+', ' ')));
	t.is(id, 'app:1 +%');
	t.is(secret, 's3:cr%t +é€');
});

test.serial('client_secret_post sends the credentials as form fields, with no Authorization header', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	await createTokenSource({...base, clientAuthentication: 'client_secret_post', clientSecret: 's3:cr%t +é'}).getToken();

	const [{body, headers}] = seen as [Seen];
	t.is(body.get('client_id'), 'client');
	t.is(body.get('client_secret'), 's3:cr%t +é');
	t.is(headers.get('authorization'), null);
});

for (const tokenType of ['Bearer', 'bearer', 'BEARER', undefined]) {
	test.serial(`token_type ${String(tokenType)} is accepted`, async t => {
		tokenEndpointReplies([200, {access_token: 'at-1', token_type: tokenType}]);
		t.is(await createTokenSource(base).getToken(), 'at-1');
	});
}

const rejected: Array<[string, number, unknown, RegExp]> = [
	['a token_type other than Bearer', 200, {access_token: 'at-1', token_type: 'mac'}, /token_type/v],
	['a DPoP token_type', 200, {access_token: 'at-1', token_type: 'DPoP'}, /token_type/v],
	['a missing access_token', 200, {token_type: 'Bearer'}, /access_token/v],
	['an empty access_token', 200, {access_token: ''}, /access_token/v],
	['a non-string access_token', 200, {access_token: 42}, /access_token/v],
	['a non-JSON body', 200, '<html>ok</html>', /not a JSON object/v],
	['a JSON array', 200, '["at-1"]', /not a JSON object/v],
	['a non-numeric expires_in', 200, {access_token: 'at-1', expires_in: 'soon'}, /expires_in/v],
	['a negative expires_in', 200, {access_token: 'at-1', expires_in: -5}, /expires_in/v],
];

for (const [name, status, body, message] of rejected) {
	test.serial(`${name} is a TokenError`, async t => {
		tokenEndpointReplies([status, body]);
		const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError, message});
		t.is(error.statusCode, status);
	});
}

test.serial('a 200 whose body is an error response is a TokenError with its RFC 6749 §5.2 fields', async t => {
	tokenEndpointReplies([200, {error: 'invalid_scope', error_description: 'no such scope', error_uri: 'https://auth.example/help'}]);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_scope');
	t.is(error.errorDescription, 'no such scope');
	t.is(error.errorUri, 'https://auth.example/help');
	t.is(error.statusCode, 200);
	t.regex(error.message, /invalid_scope \(no such scope\)/v);
});

test.serial('an error response carries error, description, uri and status', async t => {
	tokenEndpointReplies([401, {error: 'invalid_client', error_description: 'bad credentials'}]);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(error.error, 'invalid_client');
	t.is(error.errorDescription, 'bad credentials');
	t.is(error.errorUri, undefined);
	t.is(error.statusCode, 401);
	t.is(error.code, 'ERR_OAUTH_TOKEN');
});

test.serial('a non-2xx without an error body is still a TokenError with the status', async t => {
	tokenEndpointReplies([403, 'Forbidden']);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError, message: /HTTP 403/v});
	t.is(error.error, undefined);
	t.is(error.statusCode, 403);
});

test.serial('a numeric string expires_in is accepted (Azure AD v1)', async t => {
	tokenEndpointReplies([200, {access_token: 'at-1', expires_in: '3599'}]);
	t.is(await createTokenSource(base).getToken(), 'at-1');
});

// A string is read as seconds only when it is decimal digits, perhaps with a fraction and surrounding whitespace: no prefix of it, no exponent, no hex, no words.
for (const expiresIn of ['3600abc', '1e3', '0x10', '', ' ', 'Infinity']) {
	test.serial(`expires_in ${JSON.stringify(expiresIn)} is a TokenError`, async t => {
		tokenEndpointReplies([200, {access_token: 'at-1', expires_in: expiresIn}]);
		const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError, message: /^Token response from https:\/\/auth\.example\/oauth\/token has an `expires_in` that is not a non-negative number of seconds \(RFC 6749 §5\.1\)$/v});
		t.is(error.statusCode, 200);
	});
}

for (const [expiresIn, seconds] of [[' 3600', 3600], ['3600 ', 3600], ['90.5', 90.5]] as const) {
	test.serial(`expires_in ${JSON.stringify(expiresIn)} is read as ${seconds} seconds`, async t => {
		tokenEndpointReplies([200, {access_token: 'at-1', expires_in: expiresIn}]);
		const clock = fakeClock();
		const source = createTokenSource({...base, clock, expiryMargin: 0, refreshAhead: 0});

		t.is(await source.getToken(), 'at-1');
		clock.advance((seconds * 1000) - 1);
		t.is(source.peek(), 'at-1');
		clock.advance(1);
		t.is(source.peek(), undefined);
	});
}

test.serial('a body over 1 MiB is a TokenError', async t => {
	tokenEndpointReplies([200, JSON.stringify({access_token: 'at-1', padding: 'x'.repeat(1024 * 1024)})]);
	await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError, message: /larger than 1048576 bytes/v});
});

test.serial('5xx and 429 are retried twice by default', async t => {
	const {seen} = tokenEndpointReplies([503, ''], [429, '', {'retry-after': '0'}], [200, ok]);
	t.is(await createTokenSource(base).getToken(), 'at-1');
	t.is(seen.length, 3);
});

test.serial('after the retries, the last failure is the TokenError', async t => {
	const {seen} = tokenEndpointReplies([500, ''], [502, ''], [500, {error: 'server_error'}]);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(seen.length, 3);
	t.is(error.statusCode, 500);
	t.is(error.error, 'server_error');
});

test.serial('the retry count is configurable', async t => {
	const {seen, scope} = tokenEndpointReplies([503, ''], [200, ok]);
	await t.throwsAsync(createTokenSource({...base, tokenRequest: {retry: {limit: 0}}}).getToken(), {instanceOf: TokenError});
	t.is(seen.length, 1);
	t.false(scope.isDone());
});

test.serial('a Retry-After beyond the request timeout is honoured by not retrying', async t => {
	const {seen} = tokenEndpointReplies([429, {error: 'slow_down'}, {'retry-after': '3600'}], [200, ok]);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(error.statusCode, 429);
	t.is(seen.length, 1);
});

test.serial('client errors are not retried', async t => {
	const {seen} = tokenEndpointReplies([400, {error: 'invalid_request'}], [200, ok]);
	await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(seen.length, 1);
});

test.serial('a redirect from the token endpoint is not followed', async t => {
	nock(origin).post('/oauth/token').reply(302, '', {location: 'https://elsewhere.example/token'});
	const elsewhere = nock('https://elsewhere.example').post('/token').reply(200, ok);
	const error = await t.throwsAsync(createTokenSource(base).getToken(), {instanceOf: TokenError});
	t.is(error.statusCode, 302);
	t.false(elsewhere.isDone());
});

test.serial('tokenRequest headers reach the token endpoint', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	await createTokenSource({...base, tokenRequest: {headers: {'x-tenant': 'acme'}}}).getToken();
	t.is(seen[0]!.headers.get('x-tenant'), 'acme');
});

const badConfigs: Array<[string, Partial<OAuthConfig>, RegExp]> = [
	['a missing tokenEndpoint', {tokenEndpoint: undefined}, /`tokenEndpoint` must be a URL/v],
	['a relative tokenEndpoint', {tokenEndpoint: '/token'}, /`tokenEndpoint` is not an absolute URL/v],
	['a non-HTTP tokenEndpoint', {tokenEndpoint: 'ftp://auth.example/token'}, /`tokenEndpoint` must be an http: or https: URL/v],
	['an empty clientId', {clientId: ''}, /`clientId` must be a non-empty string/v],
	['a missing clientSecret', {clientSecret: undefined}, /`clientSecret` is required for client_secret_basic/v],
	['an unknown clientAuthentication', {clientAuthentication: 'magic' as never}, /`clientAuthentication` must be one of/v],
	['a scope of the wrong type', {scope: 42 as never}, /`scope` must be a non-empty string or an array/v],
	['an empty audience', {audience: ''}, /`audience` must be a non-empty string/v],
	['a resource with a fragment', {resource: 'https://api.example/#x'}, /`resource` must not contain a fragment/v],
	['a relative resource', {resource: 'api'}, /`resource` is not an absolute URL/v],
	['a negative expiryMargin', {expiryMargin: -1}, /`expiryMargin` must be a finite number/v],
];

for (const [name, change, message] of badConfigs) {
	test(`${name} fails at configuration time, naming the option`, t => {
		const error = t.throws(() => createTokenSource({...base, ...change}), {instanceOf: ConfigurationError, message});
		t.false(error.message.includes('secret'.repeat(2)));
	});
}

test.serial('a URL object is accepted as the token endpoint', async t => {
	nock(origin).post('/oauth/token').reply(200, ok);
	t.is(await createTokenSource({...base, tokenEndpoint: new URL(tokenEndpoint)}).getToken(), 'at-1');
});

test('a null clientId is named as null', t => {
	t.throws(() => createTokenSource({...base, clientId: null as never}), {instanceOf: ConfigurationError, message: /`clientId` must be a non-empty string, got null/v});
});

test('a configuration error never shows the secret', t => {
	const error = t.throws(() => createTokenSource({...base, clientSecret: 'TOP-SECRET', tokenEndpoint: 'not a url'}));
	t.false(error.message.includes('TOP-SECRET'));
});

// A rotating refresh token is spent the moment the server answers: sending it again after a lost answer replays it.
const refreshGrant: OAuthConfig = {...base, grant: 'refresh_token', refreshToken: 'rt-1'};

for (const [what, status, headers] of [['a 500', 500, {}], ['a 502', 502, {}], ['a 504', 504, {}], ['a 503 without Retry-After', 503, {}], ['a 429 without Retry-After', 429, {}]] as const) {
	test.serial(`refresh_token: ${what} is not retried: the server may have spent the refresh token`, async t => {
		const {seen} = tokenEndpointReplies([status, {error: 'temporarily_unavailable'}, headers], [200, ok]);
		const error = await t.throwsAsync(createTokenSource(refreshGrant).getToken(), {instanceOf: TokenError});
		t.is(error.statusCode, status);
		t.is(seen.length, 1);
	});
}

for (const status of [429, 503]) {
	test.serial(`refresh_token: a ${status} with Retry-After is retried: the server says it did not process the request`, async t => {
		const {seen} = tokenEndpointReplies([status, {error: 'temporarily_unavailable'}, {'retry-after': '0'}], [200, ok]);
		t.is(await createTokenSource(refreshGrant).getToken(), 'at-1');
		t.deepEqual(seen.map(({body}) => body.get('refresh_token')), ['rt-1', 'rt-1']);
	});
}

test.serial('refresh_token: a caller\'s own retry.calculateDelay cannot make a lost answer retried', async t => {
	const {seen} = tokenEndpointReplies([500, {error: 'server_error'}], [200, ok]);
	const source = createTokenSource({...refreshGrant, tokenRequest: {retry: {calculateDelay: () => 1}}});
	await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.is(seen.length, 1);
});

test.serial('a custom grant\'s own parameter is sent once, even when extraParams names it too', async t => {
	const {seen} = tokenEndpointReplies([200, ok]);
	await createTokenSource({
		...base,
		extraParams: {tenant: 'acme', region: 'eu'},
		grant: async ({requestToken}) => requestToken({grant_type: 'password', username: 'alice', tenant: 'mine'}),
	}).getToken();
	const [{body}] = seen as [Seen];
	t.deepEqual(body.getAll('tenant'), ['mine']);
	t.deepEqual(body.getAll('region'), ['eu']);
	t.is(body.toString(), 'grant_type=password&username=alice&tenant=mine&region=eu');
});

test.serial('clientSecretBasicEncoding: \'plain\' sends id and secret as they are, for servers that do not decode them', async t => {
	const {seen} = tokenEndpointReplies([200, ok], [200, ok]);
	const credentials = {clientId: 'app+1', clientSecret: 'a+b/c=='};
	await createTokenSource({...base, ...credentials, clientSecretBasicEncoding: 'plain'}).getToken();
	await createTokenSource({...base, ...credentials}).getToken();
	const [plain, encoded] = seen.map(({headers}) => Buffer.from(headers.get('authorization')!.slice('Basic '.length), 'base64').toString());
	t.is(plain, 'app+1:a+b/c==');
	t.is(encoded, 'app%2B1:a%2Bb%2Fc%3D%3D');
});

test.serial('a key import that failed once is tried again on the next token request, not kept', async t => {
	const {generateKeyPairSync} = await import('node:crypto');
	const {subtle} = crypto;
	const importKey = subtle.importKey.bind(subtle);
	let failures = 1;
	const patched = async (...arguments_: Parameters<SubtleCrypto['importKey']>) => {
		if (failures-- > 0) {
			throw new Error('simulated import failure');
		}

		return importKey(...arguments_);
	};

	subtle.importKey = patched as SubtleCrypto['importKey'];
	t.teardown(() => {
		subtle.importKey = importKey;
	});
	const {seen} = tokenEndpointReplies([200, ok]);
	const source = createTokenSource({...base, clientSecret: undefined, privateKey: generateKeyPairSync('ec', {namedCurve: 'P-256'}).privateKey, coolDown: 0});

	await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /simulated import failure/v});
	t.is(await source.getToken(), 'at-1');
	t.is(seen.length, 1);
	t.truthy(seen[0]!.body.get('client_assertion'));
});
