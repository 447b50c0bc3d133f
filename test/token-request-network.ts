import {createServer, type Server} from 'node:http';
import type {AddressInfo} from 'node:net';
import test from 'ava';
import {createTokenSource, TokenError} from '../source/index.js';

// nock cannot fake a reset connection under got, so these use a real socket on loopback.
async function listen(server: Server): Promise<string> {
	await new Promise<void>(resolve => {
		server.listen(0, '127.0.0.1', resolve);
	});
	return `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
}

test('network errors are retried, then reported with the cause and no status', async t => {
	let connections = 0;
	const server = createServer(request => {
		connections++;
		request.socket.destroy();
	});
	const tokenEndpoint = await listen(server);
	t.teardown(() => server.close());

	const source = createTokenSource({tokenEndpoint, clientId: 'client', clientSecret: 'secret', tokenRequest: {retry: {backoffLimit: 1}}});
	const error = await t.throwsAsync(source.getToken(), {instanceOf: TokenError});
	t.is(connections, 3);
	t.is(error.statusCode, undefined);
	t.is((error.cause as {code?: string}).code, 'ECONNRESET');
	// Not the cause's code: got would retry an API request failing with ECONNRESET.
	t.is(error.code, 'ERR_OAUTH_TOKEN');
});

test('a network error followed by an answer succeeds', async t => {
	let connections = 0;
	const server = createServer((request, response) => {
		connections++;
		if (connections === 1) {
			request.socket.destroy();
			return;
		}

		response.setHeader('content-type', 'application/json');
		response.end(JSON.stringify({access_token: 'at-1', token_type: 'Bearer', expires_in: 60}));
	});
	const tokenEndpoint = await listen(server);
	t.teardown(() => server.close());

	const source = createTokenSource({tokenEndpoint, clientId: 'client', clientSecret: 'secret', tokenRequest: {retry: {backoffLimit: 1}}});
	t.is(await source.getToken(), 'at-1');
	t.is(connections, 2);
});
