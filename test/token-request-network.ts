import {Agent, createServer, type Server} from 'node:http';
import {Socket, type AddressInfo} from 'node:net';
import process from 'node:process';
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

const refreshGrant = {clientId: 'client', clientSecret: 'secret', grant: 'refresh_token', refreshToken: 'rt-1', tokenRequest: {retry: {backoffLimit: 1}}} as const;

test('refresh_token: a reset connection after the request went out is not retried, so a spent refresh token is never replayed', async t => {
	let connections = 0;
	const server = createServer(request => {
		connections++;
		request.socket.destroy();
	});
	const tokenEndpoint = await listen(server);
	t.teardown(() => server.close());

	const error = await t.throwsAsync(createTokenSource({...refreshGrant, tokenEndpoint}).getToken(), {instanceOf: TokenError});
	t.is((error.cause as {code?: string}).code, 'ECONNRESET');
	t.is(connections, 1);
});

/** Refuses its first connection as a closed port would: the request never leaves the machine. */
class RefusingOnceAgent extends Agent {
	refused = 0;

	override createConnection(...arguments_: Parameters<Agent['createConnection']>): ReturnType<Agent['createConnection']> {
		if (this.refused > 0) {
			return super.createConnection(...arguments_);
		}

		this.refused++;
		const socket = new Socket();
		process.nextTick(() => {
			socket.destroy(Object.assign(new Error('connect ECONNREFUSED'), {code: 'ECONNREFUSED'}));
		});
		return socket;
	}
}

test('refresh_token: a refused connection is retried: the request never reached the server', async t => {
	const forms: string[] = [];
	const server = createServer((request, response) => {
		let body = '';
		request.on('data', (chunk: Uint8Array) => {
			body += Buffer.from(chunk).toString();
		});
		request.on('end', () => {
			forms.push(body);
			response.setHeader('content-type', 'application/json');
			response.end(JSON.stringify({access_token: 'at-1', token_type: 'Bearer', expires_in: 60}));
		});
	});
	const tokenEndpoint = await listen(server);
	t.teardown(() => server.close());
	const agent = new RefusingOnceAgent();

	t.is(await createTokenSource({...refreshGrant, tokenEndpoint, tokenRequest: {...refreshGrant.tokenRequest, agent: {http: agent}}}).getToken(), 'at-1');
	t.is(agent.refused, 1);
	t.deepEqual(forms, ['grant_type=refresh_token&refresh_token=rt-1']);
});
