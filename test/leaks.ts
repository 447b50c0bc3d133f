import {inspect} from 'node:util';
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError, RequestError} from 'got';
import {oauthHooks, createTokenSource, TokenError, type OAuthConfig, type ClientAuthentication} from '../source/index.js';
import {basicForm, closedPort, startApiServer, startTokenEndpoint, tokenReply, type LocalServer, type Reply} from './helpers/local-servers.js';

// Distinctive, and free of characters that form-encoding would change, so each has one searchable form.
const clientId = 'leak-client-id';
const clientSecret = 'SeCrEt-5f0c2e9a-never-print-me';
const accessToken = 'AcCeSs-7d41b8e3-never-print-me';

const secretForms = [clientSecret, basicForm(clientId, clientSecret)];

/** Every rendering of an error a caller is likely to log. */
function renderings(error: unknown): Record<string, string> {
	return {
		string: String(error),
		inspect: inspect(error, {depth: Infinity}),
		json: JSON.stringify(error),
	};
}

function assertNoLeak(t: ExecutionContext, error: unknown, forbidden: string[]): void {
	for (const [how, text] of Object.entries(renderings(error))) {
		for (const value of forbidden) {
			t.false(text.includes(value), `${how} shows ${value}`);
		}
	}
}

/** got puts these on its errors; they must stay readable for the caller but out of every rendering. */
function assertHiddenRequestDetails(t: ExecutionContext, error: Error): void {
	t.false(Object.keys(error).some(key => ['options', 'request', 'response', 'timings'].includes(key)), `enumerable: ${Object.keys(error).join(', ')}`);
	t.false(Object.getOwnPropertyDescriptor(error, 'options')?.enumerable ?? false);
}

type Scenario = {
	title: string;
	/** How the token endpoint answers; 'closed' means nothing listens on its port. */
	reply: Reply | 'closed';
	tokenRequest?: OAuthConfig['tokenRequest'];
	/** Token endpoint requests expected (retries included). */
	requests: number;
	statusCode?: number;
	error?: string;
	causeCode?: string;
};

const fastRetry = {limit: 2, backoffLimit: 1, noise: 0};

const scenarios: Scenario[] = [
	{
		title: '400 invalid_client',
		reply: {status: 400, body: {error: 'invalid_client', error_description: 'Client authentication failed'}},
		requests: 1,
		statusCode: 400,
		error: 'invalid_client',
	},
	{
		title: '500 after retries',
		reply: {status: 500, body: {error: 'server_error'}},
		tokenRequest: {retry: fastRetry},
		requests: 3,
		statusCode: 500,
		error: 'server_error',
	},
	{
		title: 'network failure (ECONNREFUSED)',
		reply: 'closed',
		tokenRequest: {retry: {limit: 0}},
		requests: 0,
		causeCode: 'ECONNREFUSED',
	},
	{
		title: 'timeout (endpoint hangs)',
		reply: 'hang',
		tokenRequest: {timeout: {request: 1000}, retry: {limit: 0}},
		requests: 1,
		causeCode: 'ETIMEDOUT',
	},
	{
		title: 'non-JSON 200 body that holds the secret and the token',
		reply: {status: 200, body: `<html>${clientSecret} ${accessToken}</html>`},
		requests: 1,
		statusCode: 200,
	},
	{
		title: 'non-JSON 502 body that holds the secret and the token',
		reply: {status: 502, body: `<html>${clientSecret} ${accessToken}</html>`},
		tokenRequest: {retry: {limit: 0}},
		requests: 1,
		statusCode: 502,
	},
	{
		title: '200 with an unsupported token_type and the access token in its body',
		reply: {status: 200, body: {access_token: accessToken, token_type: 'N_A', expires_in: 3600}},
		requests: 1,
		statusCode: 200,
	},
];

async function tokenEndpointFor(scenario: Scenario): Promise<{endpoint: string; server?: LocalServer}> {
	if (scenario.reply === 'closed') {
		return {endpoint: `http://127.0.0.1:${await closedPort()}/token`};
	}

	const server = await startTokenEndpoint();
	const {reply} = scenario;
	server.handle(() => reply);
	return {endpoint: server.url('/token'), server};
}

function assertTokenError(t: ExecutionContext, error: unknown, scenario: Scenario): asserts error is TokenError {
	t.true(error instanceof TokenError);
	t.true(error instanceof RequestError);
	const tokenError = error as TokenError;
	t.is(tokenError.name, 'TokenError');
	t.is(tokenError.code, 'ERR_OAUTH_TOKEN');
	t.is(tokenError.statusCode, scenario.statusCode);
	t.is(tokenError.error, scenario.error);
	t.is((tokenError.cause as {code?: string} | undefined)?.code, scenario.causeCode);
	// A got error as cause would carry the token request's options, client secret included.
	t.false(tokenError.cause instanceof RequestError);
}

for (const scenario of scenarios) {
	for (const clientAuthentication of ['client_secret_basic', 'client_secret_post'] as ClientAuthentication[]) {
		test(`got call, ${clientAuthentication}, ${scenario.title}: TokenError shows no secret or token`, async t => {
			const {endpoint, server} = await tokenEndpointFor(scenario);
			const api = await startApiServer();
			t.teardown(async () => Promise.all([server?.close(), api.close()]));
			const client = got.extend(oauthHooks({tokenEndpoint: endpoint, clientId, clientSecret, clientAuthentication, tokenRequest: scenario.tokenRequest}));

			const error = await t.throwsAsync(client(api.url('/resource')));

			assertTokenError(t, error, scenario);
			assertNoLeak(t, error, [...secretForms, accessToken]);
			assertHiddenRequestDetails(t, error);
			// Readable: the API request it was bound to, not the token request.
			t.is(String(error.options.url), api.url('/resource'));
			t.is(api.count, 0);
			t.is(server?.count ?? 0, scenario.requests);
		});
	}

	test(`TokenSource.getToken, ${scenario.title}: TokenError shows no secret or token`, async t => {
		const {endpoint, server} = await tokenEndpointFor(scenario);
		t.teardown(async () => server?.close());
		const source = createTokenSource({tokenEndpoint: endpoint, clientId, clientSecret, clientAuthentication: 'client_secret_post', tokenRequest: scenario.tokenRequest});

		const error = await t.throwsAsync(source.getToken());

		assertTokenError(t, error, scenario);
		assertNoLeak(t, error, [...secretForms, accessToken]);
		assertHiddenRequestDetails(t, error);
		t.is(server?.count ?? 0, scenario.requests);
	});
}

test('TokenError after a 401 whose refresh fails: the stale token in its options is hidden', async t => {
	const staleToken = 'StAlE-0a9e1f-never-print-me';
	const token = await startTokenEndpoint();
	const api = await startApiServer(() => ({status: 401}));
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	token.handle((_request, index) => index === 0 ? tokenReply(staleToken) : {status: 400, body: {error: 'invalid_client'}});
	const client = got.extend(oauthHooks({tokenEndpoint: token.url('/token'), clientId, clientSecret}));

	const error = await t.throwsAsync(client(api.url('/resource')));

	t.true(error instanceof TokenError);
	t.is((error as TokenError).error, 'invalid_client');
	assertNoLeak(t, error, [...secretForms, staleToken]);
	assertHiddenRequestDetails(t, error);
	t.deepEqual(api.requests.map(request => request.headers.authorization), [`Bearer ${staleToken}`]);
	t.is(token.count, 2);
});

test('HTTPError for an API 401 after the one retry holds no token or secret anywhere, and says a fresh token was tried', async t => {
	const token = await startTokenEndpoint({prefix: accessToken});
	// Only two 401s: a third request would mean the retry loops, and a 200 for it fails the test at once instead of hanging it.
	const api = await startApiServer((_request, index) => index < 2 ? {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}} : undefined);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	const client = got.extend(oauthHooks({tokenEndpoint: token.url('/token'), clientId, clientSecret, clientAuthentication: 'client_secret_post'}));

	const error = await t.throwsAsync(client(api.url('/resource')), {instanceOf: HTTPError});

	t.is(error.response.statusCode, 401);
	// The prefix covers both tokens, `<accessToken>-1` and `<accessToken>-2`.
	assertNoLeak(t, error, [...secretForms, accessToken]);
	// The token never entered got's options: they are got's own, and readable.
	t.is(error.options.headers.authorization, undefined);
	t.true((error as HTTPError & {freshTokenRejected?: boolean}).freshTokenRejected);
	t.regex(error.message, /already tried a fresh access token/v);
	t.deepEqual(api.requests.map(request => request.headers.authorization), [`Bearer ${accessToken}-1`, `Bearer ${accessToken}-2`]);
	t.is(token.count, 2);
});
