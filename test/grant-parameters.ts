/*
What each grant and client authentication puts on the wire, and how their callbacks fail, against nock. The same grants against a real server are in grants.ts and client-authentication.ts.
*/
import {createHash, X509Certificate} from 'node:crypto';
import test from 'ava';
import {decodeJwt, decodeProtectedHeader, jwtVerify} from 'jose';
import nock from 'nock';
import {createTokenSource, TokenError, type OAuthConfig} from '../source/index.js';
import {testPki, thumbprint} from './helpers/certificates.js';

const origin = 'https://auth.example';
const tokenEndpoint = `${origin}/oauth/token`;
const tokenExchange = 'urn:ietf:params:oauth:grant-type:token-exchange';
const base: OAuthConfig = {tokenEndpoint, clientId: 'client', clientSecret: 'secret', tokenRequest: {retry: {limit: 0}}};

type Seen = {body: URLSearchParams; headers: Headers};

function tokenEndpointReplies(...replies: Array<[number, unknown]>) {
	const seen: Seen[] = [];
	nock(origin).post('/oauth/token').times(replies.length).reply(async (request: Request) => {
		seen.push({body: new URLSearchParams(await request.text()), headers: request.headers});
		const [status, body] = replies[seen.length - 1]!;
		return [status, typeof body === 'string' ? body : JSON.stringify(body)];
	});
	return seen;
}

const ok = (accessToken = 'at-1', extra: Record<string, unknown> = {}) => ({access_token: accessToken, token_type: 'Bearer', expires_in: 3600, ...extra});

test.before(() => {
	nock.disableNetConnect();
});

test.afterEach.always(() => {
	nock.cleanAll();
});

test.serial('token exchange sends subject, actor and requested token types, with audience, resource and scope (RFC 8693 §2.1)', async t => {
	const seen = tokenEndpointReplies([200, ok('at-1', {issued_token_type: 'urn:ietf:params:oauth:token-type:access_token'})]);
	await createTokenSource({
		...base,
		grant: tokenExchange,
		subjectToken: 'subject',
		actorToken: async () => 'actor',
		requestedTokenType: 'urn:ietf:params:oauth:token-type:jwt',
		audience: 'urn:downstream',
		resource: 'https://downstream.example/',
		scope: 'read',
	}).getToken();

	t.deepEqual([...seen[0]!.body], [
		['grant_type', tokenExchange],
		['subject_token', 'subject'],
		['subject_token_type', 'urn:ietf:params:oauth:token-type:access_token'],
		['actor_token', 'actor'],
		['actor_token_type', 'urn:ietf:params:oauth:token-type:access_token'],
		['requested_token_type', 'urn:ietf:params:oauth:token-type:jwt'],
		['scope', 'read'],
		['audience', 'urn:downstream'],
		['resource', 'https://downstream.example/'],
	]);
});

for (const [returned, shown] of [['', 'an empty string'], [undefined, 'undefined'], [42, 'number']] as const) {
	test.serial(`a subjectToken callback that returns ${shown} is a TokenError, and nothing is sent`, async t => {
		const scope = nock(origin).post('/oauth/token').reply(200, ok());
		const error = await t.throwsAsync(createTokenSource({...base, grant: tokenExchange, subjectToken: () => returned as never}).getToken(), {instanceOf: TokenError});
		t.regex(error.message, new RegExp(`\`subjectToken\` returned ${shown}, not a token`, 'v'));
		t.false(scope.isDone());
	});
}

test.serial('a subjectToken callback that throws is a TokenError with the cause', async t => {
	const error = await t.throwsAsync(createTokenSource({...base, grant: tokenExchange, subjectToken() {
		throw new Error('session expired');
	}}).getToken(), {instanceOf: TokenError});
	t.regex(error.message, /session expired/v);
});

test.serial('refresh_token: a server that does not rotate keeps the refresh token as it was; scope and resource go along', async t => {
	const seen = tokenEndpointReplies([200, ok('at-1')], [200, ok('at-2')]);
	const source = createTokenSource({...base, grant: 'refresh_token', refreshToken: 'rt-1', scope: 'read', resource: 'https://api.example/'});

	await source.getToken();
	source.invalidate('at-1');
	await source.getToken();

	t.deepEqual(seen.map(({body}) => body.toString()), [
		'grant_type=refresh_token&refresh_token=rt-1&scope=read&resource=https%3A%2F%2Fapi.example%2F',
		'grant_type=refresh_token&refresh_token=rt-1&scope=read&resource=https%3A%2F%2Fapi.example%2F',
	]);
});

test.serial('refresh_token: when onRefreshToken fails, the token request fails, but the rotated refresh token is kept', async t => {
	const seen = tokenEndpointReplies([200, ok('at-1', {refresh_token: 'rt-2'})], [200, ok('at-2', {refresh_token: 'rt-3'})]);
	const stored: string[] = [];
	const source = createTokenSource({
		...base,
		grant: 'refresh_token',
		refreshToken: 'rt-1',
		coolDown: 0,
		async onRefreshToken(refreshToken) {
			if (refreshToken === 'rt-2') {
				throw new Error('database down');
			}

			stored.push(refreshToken);
		},
	});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /`onRefreshToken` failed/v});
	t.is((error.cause as Error).message, 'database down');
	t.is(await source.getToken(), 'at-2');
	t.deepEqual(seen.map(({body}) => body.get('refresh_token')), ['rt-1', 'rt-2']);
	t.deepEqual(stored, ['rt-3']);
});

test.serial('a refresh_token in a response that is not a string is a TokenError', async t => {
	tokenEndpointReplies([200, ok('at-1', {refresh_token: 42})]);
	await t.throwsAsync(createTokenSource({...base, grant: 'refresh_token', refreshToken: 'rt-1'}).getToken(), {instanceOf: TokenError, message: /^Token response from https:\/\/auth\.example\/oauth\/token has a `refresh_token` that is not a non-empty string/v});
});

// RFC 6749 §5.1: an absent refresh_token leaves the old one in use; an empty one is no token at all, so the response is malformed.
test.serial('refresh_token: an empty refresh_token in a response is a TokenError; onRefreshToken is not called and the old refresh token is used next time', async t => {
	const seen = tokenEndpointReplies([200, ok('at-1', {refresh_token: ''})], [200, ok('at-2')]);
	const stored: string[] = [];
	const source = createTokenSource({
		...base,
		grant: 'refresh_token',
		refreshToken: 'rt-1',
		coolDown: 0,
		onRefreshToken(refreshToken) {
			stored.push(refreshToken);
		},
	});

	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError, message: /has a `refresh_token` that is not a non-empty string \(RFC 6749 §5\.1\)/v});
	t.is(error.statusCode, 200);
	t.deepEqual(stored, []);
	t.is(await source.getToken(), 'at-2');
	t.deepEqual(seen.map(({body}) => body.get('refresh_token')), ['rt-1', 'rt-1']);
});

test.serial('client_secret_jwt: an HS256 assertion over the secret, for the token endpoint', async t => {
	const seen = tokenEndpointReplies([200, ok()]);
	await createTokenSource({...base, clientAuthentication: 'client_secret_jwt'}).getToken();

	const {body, headers} = seen[0]!;
	t.is(headers.get('authorization'), null);
	t.false(body.has('client_secret'));
	const assertion = body.get('client_assertion')!;
	t.deepEqual(decodeProtectedHeader(assertion), {alg: 'HS256'});
	const {payload} = await jwtVerify(assertion, new TextEncoder().encode('secret'), {issuer: 'client', subject: 'client', audience: tokenEndpoint});
	t.is(payload.exp! - payload.iat!, 60);
});

test.serial('a custom grant\'s parameters are sent as given, arrays repeated, the configured scope only where they name none', async t => {
	const seen = tokenEndpointReplies([200, ok()], [200, ok('at-2')]);
	const config: OAuthConfig = {
		...base,
		scope: 'configured',
		audience: 'urn:api',
		extraParams: {tenant: 'acme'},
		grant: async ({requestToken}) => requestToken({grant_type: 'urn:example:grant', scope: 'own', item: ['a', 'b']}),
	};

	await createTokenSource(config).getToken();
	await createTokenSource({...config, grant: async ({requestToken}) => requestToken({grant_type: 'urn:example:grant'})}).getToken();

	t.is(seen[0]!.body.toString(), 'grant_type=urn%3Aexample%3Agrant&scope=own&item=a&item=b&audience=urn%3Aapi&tenant=acme');
	t.is(seen[1]!.body.toString(), 'grant_type=urn%3Aexample%3Agrant&scope=configured&audience=urn%3Aapi&tenant=acme');
	t.true(seen[0]!.headers.get('authorization')!.startsWith('Basic '));
});

test.serial('a custom grant may get its token elsewhere; what it returns is validated like a token response', async t => {
	t.is(await createTokenSource({...base, grant: () => ({access_token: 'from-elsewhere', expires_in: 60})}).getToken(), 'from-elsewhere');
	await t.throwsAsync(createTokenSource({...base, grant: () => ({token: 'x'})}).getToken(), {instanceOf: TokenError, message: 'Token response has no `access_token` string (RFC 6749 §5.1)'});
	await t.throwsAsync(createTokenSource({...base, grant: () => 'at' as never}).getToken(), {instanceOf: TokenError, message: 'Token response is not a JSON object (RFC 6749 §5.1)'});
	const error = await t.throwsAsync(createTokenSource({...base, grant: () => ({error: 'access_denied'})}).getToken(), {instanceOf: TokenError});
	t.is(error.message, 'Token request failed: access_denied');
	t.is(error.statusCode, undefined);
});

test.serial('a custom grant\'s requestToken rejects error responses, 200s with an error, and bodies that are not JSON objects', async t => {
	tokenEndpointReplies([400, {error: 'invalid_grant'}], [200, {error: 'slow_down'}], [200, '<html>'], [200, ok()]);
	const config: OAuthConfig = {...base, grant: async ({requestToken}) => requestToken({grant_type: 'urn:example:grant'})};

	const errors = [];
	for (let index = 0; index < 3; index++) {
		errors.push(await t.throwsAsync(createTokenSource(config).getToken(), {instanceOf: TokenError}));
	}

	t.like(errors, [
		{error: 'invalid_grant', statusCode: 400},
		{error: 'slow_down', statusCode: 200},
		{message: 'Token response from https://auth.example/oauth/token is not a JSON object (RFC 6749 §5.1)', statusCode: 200},
	]);
	const notAnObject = createTokenSource({...base, grant: async ({requestToken}) => requestToken('grant_type=x' as never)});
	await t.throwsAsync(notAnObject.getToken(), {instanceOf: TokenError, message: '`requestToken` takes an object of form parameters'});
	nock.cleanAll();
});

test.serial('private_key_jwt with a key given as PEM signs with the algorithm the key implies', async t => {
	const {generateKeyPairSync} = await import('node:crypto');
	const seen = tokenEndpointReplies([200, ok()]);
	const privateKey = generateKeyPairSync('ec', {namedCurve: 'P-384'}).privateKey.export({format: 'pem', type: 'sec1'}) as string;

	await createTokenSource({...base, clientSecret: undefined, privateKey}).getToken();

	const assertion = seen[0]!.body.get('client_assertion')!;
	t.deepEqual(decodeProtectedHeader(assertion), {alg: 'ES384'});
	t.like(decodeJwt(assertion), {iss: 'client', sub: 'client', aud: tokenEndpoint});
});

test.serial('a signing key with its certificate puts the certificate\'s thumbprints in the header, as Entra ID requires', async t => {
	const seen = tokenEndpointReplies([200, ok()]);
	const {client} = testPki();

	await createTokenSource({...base, clientSecret: undefined, privateKey: {key: client.key, certificate: client.certificate, kid: 'k1'}}).getToken();

	const {raw} = new X509Certificate(client.certificate);
	t.deepEqual(decodeProtectedHeader(seen[0]!.body.get('client_assertion')!), {
		alg: 'ES256',
		kid: 'k1',
		x5t: createHash('sha1').update(raw).digest('base64url'),
		'x5t#S256': thumbprint(client.certificate),
	});
});
