/*
Issue 12, item 6, and issue 13, item 5: a caller that says "no token for this request" gets none, and no token request is made for it. got's own way to say it is `headers: {authorization: undefined}`; the plugin's is `context: {gotOAuth: false}`.
*/
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError, type ExtendOptions, type OptionsInit} from 'got';
import {oauthHooks, type OAuthConfig} from '../../source/index.js';
import {startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';
import {startRouteServer, type Echo, type RouteServer} from '../helpers/security.js';

async function servers(t: ExecutionContext): Promise<{token: LocalServer; api: RouteServer; config: OAuthConfig}> {
	const [token, api] = await Promise.all([startTokenEndpoint(), startRouteServer()]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	return {token, api, config: {tokenEndpoint: token.url('/token'), clientId: 'opt-out-client', clientSecret: 'opt-out-secret'}};
}

type Case = {
	title: string;
	instance?: ExtendOptions;
	call: OptionsInit;
	/** What the API gets. */
	sent: string | undefined;
};

const basic = `Basic ${Buffer.from('user:pass').toString('base64')}`;

const cases: Case[] = [
	{title: '`authorization: undefined` on the call', call: {headers: {authorization: undefined}}, sent: undefined},
	{title: '`authorization: undefined` on the instance', instance: {headers: {authorization: undefined}}, call: {}, sent: undefined},
	{title: '`authorization: undefined` on the call, over an instance\'s own Basic', instance: {headers: {authorization: basic}}, call: {headers: {authorization: undefined}}, sent: undefined},
	{title: 'the caller\'s Basic on the call, over an instance\'s `authorization: undefined`', instance: {headers: {authorization: undefined}}, call: {headers: {authorization: basic}}, sent: basic},
	{title: '`context: {gotOAuth: false}` on the call', call: {context: {gotOAuth: false}}, sent: undefined},
	{title: '`context: {gotOAuth: false}` on the instance', instance: {context: {gotOAuth: false}}, call: {}, sent: undefined},
];

for (const {title, instance = {}, call, sent} of cases) {
	test(`${title}: the request goes without a token, and no token is requested for it`, async t => {
		const {token, api, config} = await servers(t);
		const client = got.extend({prefixUrl: api.origin}, oauthHooks(config), instance);

		const response = await client('echo', call).json<Echo>();

		t.is(response.authorization, sent);
		t.deepEqual(api.seen.map(request => request.authorization), [sent]);
		t.is(token.count, 0);
	});
}

test('an authorization header another hook sets after ours is that hook\'s own: it goes as set, the token does not replace it', async t => {
	const {api, config} = await servers(t);
	const client = got.extend({prefixUrl: api.origin}, oauthHooks(config), {hooks: {beforeRequest: [options => {
		options.headers.authorization = 'Bearer set-by-a-later-hook';
	}]}});

	await client('echo');

	t.deepEqual(api.seen.map(request => request.authorization), ['Bearer set-by-a-later-hook']);
});

test('an opted-out request\'s 401 is the caller\'s: no token request, no retry', async t => {
	const {token, api, config} = await servers(t);
	const client = got.extend({prefixUrl: api.origin}, oauthHooks(config));

	const error = await t.throwsAsync(client('401', {context: {gotOAuth: false}}), {instanceOf: HTTPError});

	t.is(error.response.statusCode, 401);
	t.is(api.seen.length, 1);
	t.is(token.count, 0);
});

test('opting one request out leaves the next one authorized', async t => {
	const {token, api, config} = await servers(t);
	const client = got.extend({prefixUrl: api.origin}, oauthHooks(config));

	await client('echo', {headers: {authorization: undefined}});
	await client('echo', {context: {gotOAuth: false}});
	await client('echo');

	t.deepEqual(api.seen.map(request => request.authorization), [undefined, undefined, 'Bearer access-token-1']);
	t.is(token.count, 1);
});
