import got, {type AfterResponseHook, type BeforeRequestHook, type ExtendOptions, type Got} from 'got';
import {oauthHooks} from '../source/index.js';
import {printResult, printTable, type Servers} from './harness.js';

const concurrency = 1000;

/**
The hooks a user writes from got's documentation: fetch a token when none is held, and on a 401 get a new one and retry. No single flight, no check of which token failed.
*/
function naiveHooks(tokenEndpoint: string) {
	let token: string | undefined;
	const getNewToken = async () => {
		const {access_token: accessToken} = await got.post(tokenEndpoint, {form: {grant_type: 'client_credentials'}}).json<{access_token: string}>();
		return accessToken;
	};

	const beforeRequest: BeforeRequestHook = async options => {
		token ??= await getNewToken();
		options.headers.authorization = `Bearer ${token}`;
	};

	const afterResponse: AfterResponseHook = async (response, retryWithMergedOptions) => {
		if (response.statusCode === 401) {
			token = await getNewToken();
			return retryWithMergedOptions({headers: {authorization: `Bearer ${token}`}});
		}

		return response;
	};

	return {hooks: {beforeRequest: [beforeRequest], afterResponse: [afterResponse]}};
}

async function burst(client: Got): Promise<{succeeded: number; failed: number}> {
	const results = await Promise.allSettled(Array.from({length: concurrency}, async (_, index) => client(`burst/${index}`)));
	const succeeded = results.filter(result => result.status === 'fulfilled' && result.value.statusCode === 200).length;
	return {succeeded, failed: concurrency - succeeded};
}

async function tokenRequestsDuring(servers: Servers, run: () => Promise<unknown>): Promise<{tokenRequests: number; apiRequests: number}> {
	const before = await servers.stats();
	await run();
	const after = await servers.stats();
	return {tokenRequests: after.tokenRequests - before.tokenRequests, apiRequests: after.apiRequests - before.apiRequests};
}

/** A burst through an instance with `hooks`, and what it cost the identity provider; with `shouldRevoke`, the token is revoked between a first call and the burst. */
async function measureBurst(servers: Servers, hooks: ExtendOptions, shouldRevoke = false) {
	const client = got.extend(options(servers), hooks);
	if (shouldRevoke) {
		await client('warm');
		await servers.revokeAll();
	}

	let outcome = {succeeded: 0, failed: 0};
	const counts = await tokenRequestsDuring(servers, async () => {
		outcome = await burst(client);
	});
	return {...outcome, ...counts};
}

const options = (servers: Servers) => ({prefixUrl: servers.apiUrl, retry: {limit: 0}});
const config = (servers: Servers) => ({tokenEndpoint: servers.tokenEndpoint, clientId: 'bench', clientSecret: 'bench-secret'});

/**
1,000 concurrent requests on an empty cache: how many token requests reach the identity provider.
*/
export async function coldStart(servers: Servers) {
	await servers.configure({tokenDelay: 50, expiresIn: 3600, acceptAnyToken: false});
	const plugin = await measureBurst(servers, oauthHooks(config(servers)));
	const naive = await measureBurst(servers, naiveHooks(servers.tokenEndpoint));

	printTable(`Cold-start storm: ${concurrency} concurrent requests, empty cache, 50 ms token endpoint`, ['hooks', 'token requests', 'succeeded', 'failed'], [
		['got-oauth', plugin.tokenRequests, plugin.succeeded, plugin.failed],
		['naive hooks (got docs pattern)', naive.tokenRequests, naive.succeeded, naive.failed],
	]);
	const result = {tokenRequests: plugin.tokenRequests, succeeded: plugin.succeeded, naiveTokenRequests: naive.tokenRequests, pass: plugin.tokenRequests === 1 && plugin.succeeded === concurrency};
	printResult('cold-start-storm', result);
	return result;
}

/**
1,000 requests in flight when their token is revoked: each gets a 401, and all of them together should cost one token request.
*/
export async function unauthorizedStorm(servers: Servers) {
	await servers.configure({tokenDelay: 50, expiresIn: 3600, acceptAnyToken: false});
	const plugin = await measureBurst(servers, oauthHooks(config(servers)), true);
	const naive = await measureBurst(servers, naiveHooks(servers.tokenEndpoint), true);

	printTable(`401 storm: ${concurrency} in-flight requests, token revoked, 50 ms token endpoint`, ['hooks', 'token requests', 'API requests', 'succeeded', 'failed'], [
		['got-oauth', plugin.tokenRequests, plugin.apiRequests, plugin.succeeded, plugin.failed],
		['naive hooks (got docs pattern)', naive.tokenRequests, naive.apiRequests, naive.succeeded, naive.failed],
	]);
	const result = {
		tokenRequests: plugin.tokenRequests,
		apiRequests: plugin.apiRequests,
		succeeded: plugin.succeeded,
		naiveTokenRequests: naive.tokenRequests,
		pass: plugin.tokenRequests === 1 && plugin.succeeded === concurrency && plugin.apiRequests === 2 * concurrency,
	};
	printResult('401-storm', result);
	return result;
}
