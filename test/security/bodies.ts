/*
Issue 12, item 7: a body that cannot be sent twice is not sent twice. On a 401 the caller gets the 401 and the API got the whole body once, rather than a "successful" retry that silently sent nothing.
*/
import {Readable} from 'node:stream';
import test, {type ExecutionContext} from 'ava';
import got, {HTTPError} from 'got';
import {oauthHooks} from '../../source/index.js';
import {startApiServer, startTokenEndpoint, type LocalServer} from '../helpers/local-servers.js';

const chunks = ['chunk-1 ', 'chunk-2'];
const whole = chunks.join('');

/** An async iterable that yields its chunks once, as a socket or a file reader would; it has no `next` or `pipe` of its own. */
function oneShotIterable(): AsyncIterable<Uint8Array> {
	let isUsed = false;
	return {
		async * [Symbol.asyncIterator]() {
			if (isUsed) {
				return;
			}

			isUsed = true;
			for (const chunk of chunks) {
				yield new TextEncoder().encode(chunk);
			}
		},
	};
}

async function * generator(): AsyncGenerator<Uint8Array> {
	for (const chunk of chunks) {
		yield new TextEncoder().encode(chunk);
	}
}

const oneShotBodies: Array<[string, () => unknown]> = [
	['a one-shot async iterable', oneShotIterable],
	['an async generator', generator],
	['a Node Readable', () => Readable.from(chunks)],
	['a Web ReadableStream', () => new ReadableStream({
		start(controller) {
			for (const chunk of chunks) {
				controller.enqueue(new TextEncoder().encode(chunk));
			}

			controller.close();
		},
	})],
];

/** The API rejects the first request only: a retry would succeed, so only the rule can keep it from happening. */
async function servers(t: ExecutionContext): Promise<{token: LocalServer; api: LocalServer}> {
	const rejectFirst = (_request: unknown, index: number) => index === 0 ? {status: 401, headers: {'www-authenticate': 'Bearer error="invalid_token"'}} : undefined;
	const [token, api] = await Promise.all([startTokenEndpoint(), startApiServer(rejectFirst)]);
	t.teardown(async () => Promise.all([token.close(), api.close()]));
	return {token, api};
}

for (const [name, body] of oneShotBodies) {
	test(`${name} body is not replayed after a 401: the caller gets the 401, the API got the whole body once`, async t => {
		const {token, api} = await servers(t);
		const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'bodies-client', clientSecret: 'bodies-secret'}));

		const error = await t.throwsAsync(client.post('upload', {body: body() as never}), {instanceOf: HTTPError});

		t.is(error.response.statusCode, 401);
		t.deepEqual(api.requests.map(request => [request.body, request.headers.authorization]), [[whole, 'Bearer access-token-1']]);
		t.is(token.count, 1);
	});
}

// The control: a body that can be sent again is, with a fresh token, so the rule above is what stops the others.
for (const [name, options] of [['a string', {body: whole}], ['a Buffer', {body: Buffer.from(whole)}], ['JSON', {json: {whole}}]] as const) {
	test(`${name} body is sent again with a fresh token after a 401`, async t => {
		const {token, api} = await servers(t);
		const client = got.extend({prefixUrl: api.origin}, oauthHooks({tokenEndpoint: token.url('/token'), clientId: 'bodies-client', clientSecret: 'bodies-secret'}));

		const response = await client.post('upload', options);

		t.is(response.statusCode, 200);
		const sent = 'json' in options ? JSON.stringify(options.json) : whole;
		t.deepEqual(api.requests.map(request => [request.body, request.headers.authorization]), [[sent, 'Bearer access-token-1'], [sent, 'Bearer access-token-2']]);
		t.is(token.count, 2);
	});
}
